// The deployment files are code too: every Kubernetes object in deploy/k8s is
// validated against the Kubernetes API's schemas (kubernetes-models: ajv
// validators generated from Kubernetes' OpenAPI spec) and, since those schemas
// allow unknown fields (the API server drops them with a warning), type-checked
// by TypeScript against the same models' types, whose excess-property check
// rejects a misspelled field at any depth. lookout's configs in them are parsed
// by lookout's own parseConfig, so a wrong key fails here and not at start-up.
// The compose files and the Dockerfile get the structural checks that need no
// Docker engine.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
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
import type { IIoK8sApiCoreV1Container as IContainer, IIoK8sApiCoreV1PodSpec as IPodSpec } from 'kubernetes-models/v1';
import { parseConfig } from '../../src/config/parse.js';
import type { LookoutConfig } from '../../src/config/schema.js';
import { shardFromEnv } from '../../src/config/shard.js';
import { isBalancedTarget, parseTargets } from '../../src/tfserving/channels.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8sDir = path.join(root, 'deploy/k8s');
const NAMESPACE = 'lookout';

interface K8sObject {
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
function validateSchema(doc: unknown): void {
  kindOf(doc).validate(doc);
}

/**
 * The strict check: each object becomes `const x: IKind = {…}` in a virtual
 * TypeScript file, and the compiler's excess-property check reports any field
 * the Kubernetes types do not have. Returns the diagnostics, one line each.
 */
function typeCheck(docs: unknown[]): string[] {
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

function loadDocs(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.map((doc, i) => {
    expect(doc.errors, `${file} document ${i}`).toEqual([]);
    return doc.toJS() as unknown;
  }).filter((d) => d !== null);
}

const manifestFiles = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
const objects = manifestFiles.flatMap((f) => loadDocs(path.join(k8sDir, f)).map((doc) => ({ file: f, doc: doc as K8sObject })));

function find<T>(kind: string, name: string): T {
  const found = objects.find((o) => o.doc.kind === kind && o.doc.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in deploy/k8s`);
  return found.doc as T;
}

function container(spec: IPodSpec | undefined, name: string): IContainer {
  const c = spec?.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

function env(c: IContainer, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('are there, with the objects the deployment needs', () => {
    expect(manifestFiles).toEqual(['lookout.yaml', 'namespace.yaml', 'tfserving.yaml']);
    const names = objects.map((o) => `${o.doc.kind}/${o.doc.metadata?.name ?? ''}`).sort();
    expect(names).toEqual([
      'ConfigMap/lookout-config',
      'Deployment/tfserving',
      'Namespace/lookout',
      'PersistentVolumeClaim/tfserving-models',
      'Service/lookout',
      'Service/lookout-headless',
      'Service/tfserving-headless',
      'StatefulSet/lookout',
    ]);
  });

  it('every object passes the Kubernetes schema of its kind', () => {
    for (const { file, doc } of objects) {
      expect(() => validateSchema(doc), `${file}: ${doc.kind} ${doc.metadata?.name ?? ''}`).not.toThrow();
    }
  });

  it('every object type-checks against the Kubernetes types, with no unknown field', () => {
    expect(typeCheck(objects.map((o) => o.doc))).toEqual([]);
  }, 60_000);

  it('the checks reject broken manifests', () => {
    const deployment = structuredClone(find<IDeployment>('Deployment', 'tfserving'));
    // A wrong type: the schema check.
    const wrongType = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } };
    expect(() => validateSchema(wrongType)).toThrow(/spec\/replicas must be integer/);
    const noName = structuredClone(deployment);
    delete (noName.spec?.template.spec?.containers[0] as Partial<IContainer>).name;
    expect(() => validateSchema(noName)).toThrow(/containers\/0 must have required property name/);
    const badQuantity = structuredClone(deployment);
    container(badQuantity.spec?.template.spec, 'tfserving').resources = { limits: { memory: 'lots' } };
    expect(() => validateSchema(badQuantity)).toThrow(/quantity/);
    // Misspelled fields, at the top of spec and deep in a container: the strict check.
    const statefulSet = structuredClone(find<IStatefulSet>('StatefulSet', 'lookout'));
    const typo = { ...statefulSet, spec: { ...statefulSet.spec, replica: 3 } };
    const c = container(statefulSet.spec?.template.spec, 'lookout');
    const deepTypo = structuredClone(statefulSet);
    const probe = c.readinessProbe;
    const deepContainer: Record<string, unknown> = { ...c, readinesProbe: probe };
    delete deepContainer.readinessProbe;
    (deepTypo.spec?.template.spec as { containers: unknown[] }).containers = [deepContainer];
    const errors = typeCheck([typo, deepTypo, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { clusterIp: 'None' } }]);
    expect(errors.join('\n')).toMatch(/"replica"' does not exist in type 'IStatefulSetSpec'/);
    expect(errors.join('\n')).toMatch(/"readinesProbe"' does not exist in type 'IContainer'/);
    expect(errors.join('\n')).toMatch(/"clusterIp"' does not exist in type 'IServiceSpec'/);
    expect(errors).toHaveLength(3);
    // An unknown kind is not waved through.
    expect(() => validateSchema({ apiVersion: 'apps/v1', kind: 'Deploymnet' })).toThrow(/no schema/);
  }, 60_000);

  it('kustomization.yaml lists every manifest, and every object is in the lookout namespace', () => {
    const kustomization = parseYaml(readFileSync(path.join(k8sDir, 'kustomization.yaml'), 'utf8')) as { kind: string; resources: string[] };
    expect(kustomization.kind).toBe('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(manifestFiles);
    for (const { doc } of objects) {
      if (doc.kind === 'Namespace') expect(doc.metadata?.name).toBe(NAMESPACE);
      else expect(doc.metadata?.namespace, `${doc.kind} ${doc.metadata?.name ?? ''}`).toBe(NAMESPACE);
    }
  });

  it('Services select pods that exist and target ports those pods name', () => {
    const workloads = objects.filter((o) => o.doc.kind === 'Deployment' || o.doc.kind === 'StatefulSet').map((o) => o.doc as IDeployment | IStatefulSet);
    for (const svc of objects.filter((o) => o.doc.kind === 'Service').map((o) => o.doc as IService)) {
      const selector = svc.spec?.selector ?? {};
      const target = workloads.find((w) => Object.entries(selector).every(([k, v]) => w.spec?.template.metadata?.labels?.[k] === v));
      expect(target, `Service ${svc.metadata?.name ?? ''} selects no pods`).toBeDefined();
      const portNames = (target?.spec?.template.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const port of svc.spec?.ports ?? []) {
        if (typeof port.targetPort === 'string') expect(portNames, `Service ${svc.metadata?.name ?? ''} port ${port.name ?? ''}`).toContain(port.targetPort);
      }
    }
  });

  describe('TF Serving', () => {
    const deployment = find<IDeployment>('Deployment', 'tfserving');
    const c = container(deployment.spec?.template.spec, 'tfserving');
    const modelName = env(c, 'MODEL_NAME');

    it('runs on a GPU, probes the model over REST and mounts the models volume', () => {
      expect(c.image).toBe('tensorflow/serving:latest-gpu');
      expect(c.resources?.limits?.['nvidia.com/gpu']).toBe(1);
      expect(modelName).toBe('detector');
      expect(c.ports?.map((p) => p.containerPort).sort()).toEqual([8500, 8501]);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        expect(probe?.httpGet?.path).toMatch(new RegExp(`^/v1/models/${modelName ?? ''}(/metadata)?$`));
        expect(probe?.httpGet?.port).toBe('rest');
      }
      // The image serves /models/$MODEL_NAME; the claim is mounted at /models.
      const mount = c.volumeMounts?.find((m) => m.mountPath === '/models');
      expect(mount?.readOnly).toBe(true);
      const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.persistentVolumeClaim?.claimName).toBe('tfserving-models');
    });

    it('has a headless Service with the gRPC port', () => {
      const svc = find<IService>('Service', 'tfserving-headless');
      expect(svc.spec?.clusterIP).toBe('None');
      expect(svc.spec?.ports?.find((p) => p.name === 'grpc')?.port).toBe(8500);
    });
  });

  describe('lookout StatefulSet', () => {
    const sts = find<IStatefulSet>('StatefulSet', 'lookout');
    const pod = sts.spec?.template.spec;
    const c = container(pod, 'lookout');
    const configMap = find<IConfigMap>('ConfigMap', 'lookout-config');
    const config: LookoutConfig = parseConfig(parseYaml(configMap.data?.['lookout.yaml'] ?? '') as unknown, 'ConfigMap lookout-config');

    it("embeds a config lookout's parseConfig accepts, pointing at every TF Serving replica", () => {
      const address = config.modelServer.address ?? [];
      expect(parseTargets(address)).toEqual(['dns:///tfserving-headless.lookout.svc.cluster.local:8500']);
      expect(isBalancedTarget(address[0])).toBe(true);
      expect(config.modelServer.modelName).toBe(env(container(find<IDeployment>('Deployment', 'tfserving').spec?.template.spec, 'tfserving'), 'MODEL_NAME'));
      expect(config.modelServer.signatureName).toBe('serving_default');
      expect(config.cameras.length).toBeGreaterThan(1);
      expect(config.cameras.every((cam) => cam.url.startsWith('rtsp://'))).toBe(true);
      expect(config.http.port).toBe(8080);
    });

    it('mounts the config where its args read it, and the log on a volume claim', () => {
      expect(sts.spec?.serviceName).toBe('lookout-headless');
      expect(find<IService>('Service', 'lookout-headless').spec?.clusterIP).toBe('None');
      expect(c.args).toEqual(['serve', '--config', '/config/lookout.yaml']);
      const configMount = c.volumeMounts?.find((m) => m.mountPath === '/config');
      expect(pod?.volumes?.find((v) => v.name === configMount?.name)?.configMap?.name).toBe('lookout-config');
      expect(config.store.path).toBe('/data/lookout.db');
      const dataMount = c.volumeMounts?.find((m) => m.mountPath === '/data');
      expect(sts.spec?.volumeClaimTemplates?.map((t) => t.metadata?.name)).toContain(dataMount?.name);
      // The root filesystem is read-only: /tmp (ffmpeg's wrapper, live-frame sockets) is a volume.
      expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c.volumeMounts?.map((m) => m.mountPath)).toContain('/tmp');
    });

    it('probes /healthz and /readyz on the HTTP port', () => {
      expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(config.http.port);
      expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    });

    it('gives every replica a distinct shard, and every camera to exactly one', () => {
      const replicas = sts.spec?.replicas ?? 1;
      expect(env(c, 'LOOKOUT_SHARD_COUNT')).toBe(String(replicas));
      expect(c.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      const shards = Array.from({ length: replicas }, (_, ordinal) =>
        shardFromEnv({ LOOKOUT_SHARD_COUNT: env(c, 'LOOKOUT_SHARD_COUNT'), POD_NAME: `${sts.metadata?.name ?? ''}-${ordinal}` }),
      );
      expect(shards.map((s) => s?.index)).toEqual(Array.from({ length: replicas }, (_, i) => i));
    });
  });
});

describe('docker compose', () => {
  interface ComposeService {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    ports?: string[];
    depends_on?: string[];
    deploy?: { resources?: { reservations?: { devices?: { driver?: string; count?: number | string; capabilities?: string[] }[] } } };
  }
  const load = (f: string) => parseYaml(readFileSync(path.join(root, f), 'utf8')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const compose = load('docker-compose.yml');
  const { lookout, tfserving } = compose.services;

  it('runs lookout and TF Serving (CPU), the model mounted in its versioned layout', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['lookout', 'tfserving']);
    expect(tfserving.image).toBe('tensorflow/serving:latest');
    expect(tfserving.environment?.MODEL_NAME).toBe('detector');
    expect(tfserving.volumes).toContain('./models/detector:/models/detector:ro');
    expect(tfserving.ports).toEqual(['8500:8500', '8501:8501']);
    expect(lookout.build).toBe('.');
    expect(lookout.ports).toEqual(['8080:8080']);
    expect(lookout.depends_on).toEqual(['tfserving']);
  });

  it("gives lookout a config its parseConfig accepts, pointing at the tfserving service, with the log in a volume", () => {
    expect(lookout.command).toEqual(['serve', '--config', '/config/lookout.yaml']);
    const configMount = lookout.volumes?.find((v) => v.split(':')[1] === '/config');
    expect(configMount).toBe('./deploy/compose:/config:ro');
    const file = path.join(root, 'deploy/compose/lookout.yaml');
    const config = parseConfig(parseYaml(readFileSync(file, 'utf8')) as unknown, file);
    expect(config.modelServer.address).toEqual(['tfserving:8500']);
    expect(parseTargets(config.modelServer.address ?? [])).toEqual(['tfserving:8500']);
    expect(config.modelServer.modelName).toBe(tfserving.environment?.MODEL_NAME);
    expect(config.cameras.map((cam) => cam.url)).toContain('rtsp://user:password@192.0.2.10:554/stream1');
    expect(config.store.path).toBe('/data/lookout.db');
    const dataVolume = lookout.volumes?.find((v) => v.split(':')[1] === '/data')?.split(':')[0];
    expect(Object.keys(compose.volumes ?? {})).toContain(dataVolume);
  });

  it('has a GPU variant: the GPU image on an NVIDIA device', () => {
    const gpu = load('docker-compose.gpu.yml');
    expect(Object.keys(gpu.services)).toEqual(['tfserving']);
    expect(gpu.services.tfserving.image).toBe('tensorflow/serving:latest-gpu');
    const device = gpu.services.tfserving.deploy?.resources?.reservations?.devices?.[0];
    expect(device?.driver).toBe('nvidia');
    expect(device?.capabilities).toContain('gpu');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name: string | undefined; lines: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const [build, runtime] = stages;
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[]; bin: Record<string, string>; scripts: Record<string, string> };
  const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string }; include: string[] };

  interface Copy {
    from: string | undefined;
    sources: string[];
    dest: string;
  }
  const copies = (lines: string[]): Copy[] =>
    lines
      .filter((l) => /^COPY\s/i.test(l))
      .map((l) => {
        const words = l.split(/\s+/).slice(1);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const args = words.filter((w) => !w.startsWith('--'));
        return { from, sources: args.slice(0, -1), dest: args[args.length - 1] };
      });

  /** Whether .dockerignore keeps a path out of the build context (its last matching rule wins). */
  function ignored(rel: string): boolean {
    const rules = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    let out = false;
    for (const rule of rules) {
      const negate = rule.startsWith('!');
      const pattern = negate ? rule.slice(1) : rule;
      if (pattern.startsWith('**/')) continue; // file-name patterns such as **/*.log
      const matches = pattern === '*' || rel === pattern || rel.startsWith(`${pattern}/`);
      if (matches) out = !negate;
    }
    return out;
  }

  it('has a build stage and a runtime stage on node:20-bookworm-slim', () => {
    expect(instructions.filter((l) => /^FROM\s/i.test(l))).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim']);
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.json');
    const runs = build.lines.filter((l) => /^RUN\s/i.test(l)).join('\n');
    for (const step of ['python3 make g++', 'npm ci', 'npm rebuild', 'npm run build', 'npm prune --omit=dev']) expect(runs).toContain(step);
    const runtimeRuns = runtime.lines.filter((l) => /^RUN\s/i.test(l)).join('\n');
    expect(runtimeRuns).toMatch(/apt-get install .*\bffmpeg\b/);
  });

  it('copies only what exists in the repository, is not excluded by .dockerignore, or the build stage makes', () => {
    for (const copy of copies(build.lines).concat(copies(runtime.lines))) {
      for (const source of copy.sources) {
        if (copy.from === undefined) {
          expect(existsSync(path.join(root, source)), `COPY ${source}: not in the repository`).toBe(true);
          expect(ignored(source), `COPY ${source}: excluded by .dockerignore`).toBe(false);
        } else {
          expect(copy.from).toBe(build.name);
          // The build stage's WORKDIR is /app: package.json is copied in, node_modules comes from npm ci, dist/src from tsc.
          expect(['/app/package.json', '/app/node_modules', '/app/dist/src']).toContain(source);
        }
      }
    }
    // tsc writes src/** to dist/src/**.
    expect(tsconfig.compilerOptions.outDir).toBe('dist');
    expect(tsconfig.compilerOptions.rootDir).toBe('.');
    expect(tsconfig.include).toContain('src/**/*.ts');
    const buildSources = copies(build.lines).filter((c) => !c.from).flatMap((c) => c.sources);
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', ...tsconfig.include.map((g) => g.split('/')[0])]) expect(buildSources).toContain(needed);
  });

  it("puts the package's files in the runtime image and runs its bin", () => {
    const runtimeCopies = copies(runtime.lines);
    const copied = runtimeCopies.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '')));
    for (const f of pkg.files) expect(copied, `package.json files: ${f}`).toContain(f);
    expect(pkg.bin.lookout).toBe('dist/src/cli.js');
    expect(existsSync(path.join(root, 'src/cli.ts'))).toBe(true);
    const entrypoint = JSON.parse(runtime.lines.find((l) => l.startsWith('ENTRYPOINT'))?.slice('ENTRYPOINT'.length) ?? '[]') as string[];
    expect(entrypoint.slice(-2)).toEqual(['node', 'dist/src/cli.js']);
    const cmd = JSON.parse(runtime.lines.find((l) => l.startsWith('CMD'))?.slice('CMD'.length) ?? '[]') as string[];
    expect(cmd).toEqual(['serve', '--config', '/config/lookout.yaml']);
    // The default config the CMD names is in the image and parses.
    const defaultConfig = runtimeCopies.find((c) => c.dest === '/config/lookout.yaml');
    expect(defaultConfig?.sources).toEqual(['deploy/docker/lookout.yaml']);
    const file = path.join(root, 'deploy/docker/lookout.yaml');
    expect(parseConfig(parseYaml(readFileSync(file, 'utf8')) as unknown, file).store.path).toBe('/data/lookout.db');
  });

  it('runs as a non-root user with /data as a volume, port 8080 and a /healthz health check', () => {
    const user = runtime.lines.find((l) => l.startsWith('USER'));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/\b(root|0)\b/);
    expect(runtime.lines).toContain('VOLUME ["/data"]');
    expect(runtime.lines.find((l) => l.startsWith('EXPOSE'))).toMatch(/\b8080\b/);
    expect(runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/);
    expect(statSync(path.join(root, '.dockerignore')).isFile()).toBe(true);
    for (const kept of ['node_modules', 'dist', 'data', 'test-output', '.git', 'models']) expect(ignored(kept), kept).toBe(true);
  });
});
