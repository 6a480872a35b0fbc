// The two checks deploy-manifests.test.ts puts every Kubernetes object
// through: the Kubernetes API's schema of its kind (kubernetes-models' ajv
// validators, generated from Kubernetes' OpenAPI spec), and, since those
// schemas allow unknown fields, TypeScript's excess-property check against the
// same models' types, which rejects a misspelled field at any depth.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { Deployment, StatefulSet, type IDeployment, type IStatefulSet } from 'kubernetes-models/apps/v1';
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Service,
  type IConfigMap,
  type INamespace,
  type IPersistentVolumeClaim,
  type IService,
} from 'kubernetes-models/v1';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
}

interface Kind {
  /** Throws kubernetes-models' ValidationError naming the path of each violation. */
  validate(doc: unknown): void;
  /** The module and interface TypeScript checks the object literal against. */
  module: string;
  type: string;
}

const KINDS: Record<string, Kind> = {
  'v1/Namespace': { validate: (d) => new Namespace(d as INamespace).validate(), module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/ConfigMap': { validate: (d) => new ConfigMap(d as IConfigMap).validate(), module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Service': { validate: (d) => new Service(d as IService).validate(), module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/PersistentVolumeClaim': {
    validate: (d) => new PersistentVolumeClaim(d as IPersistentVolumeClaim).validate(),
    module: 'kubernetes-models/v1/PersistentVolumeClaim',
    type: 'IPersistentVolumeClaim',
  },
  'apps/v1/Deployment': { validate: (d) => new Deployment(d as IDeployment).validate(), module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'apps/v1/StatefulSet': { validate: (d) => new StatefulSet(d as IStatefulSet).validate(), module: 'kubernetes-models/apps/v1/StatefulSet', type: 'IStatefulSet' },
};

function kindOf(doc: unknown): Kind {
  const o = doc as Partial<K8sObject>;
  const kind = KINDS[`${String(o.apiVersion)}/${String(o.kind)}`];
  if (!kind) throw new Error(`no schema for apiVersion ${String(o.apiVersion)} kind ${String(o.kind)}: add it to KINDS`);
  return kind;
}

/** The schema check: kubernetes-models' ajv validator for the object's kind. */
export function validateSchema(doc: unknown): void {
  kindOf(doc).validate(doc);
}

/**
 * The strict check: each object becomes `const x: IKind = {…}` in a virtual
 * TypeScript file, and the compiler's excess-property check reports any field
 * the Kubernetes types do not have. Returns the diagnostics, one line each.
 */
export function typeCheck(docs: unknown[]): string[] {
  const file = path.join(root, 'test/unit/__deploy_manifests_check__.ts');
  const imports = new Set<string>();
  const lines: string[] = [];
  docs.forEach((doc, i) => {
    const kind = kindOf(doc);
    imports.add(`import type { ${kind.type} } from '${kind.module}';`);
    const o = doc as K8sObject;
    lines.push(`// ${o.kind} ${o.metadata?.name ?? ''}`, `export const doc${i}: ${kind.type} = ${JSON.stringify(doc, null, 2)};`);
  });
  const source = [...imports, ...lines].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, languageVersion, true) : getSourceFile(name, languageVersion, onError, shouldCreate);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const text = where && d.file ? d.file.text.split('\n')[where.line].trim() : '';
    return `${ts.flattenDiagnosticMessageText(d.messageText, '\n')}${text ? ` (at ${text})` : ''}`;
  });
}
