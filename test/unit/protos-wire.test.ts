// Checks every message, field, enum and method in protos/ against the official
// TF Serving wire facts: a wrong number, type, label or packing fails here.
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { packageRoot, protosDir } from '../../src/util/paths.js';
import { serviceProtoFiles } from '../../src/tfserving/protos.js';
import { tempDir } from '../helpers/cleanup.js';

interface FieldFact {
  number: number;
  type: string;
  label: 'optional' | 'repeated';
  packed?: boolean;
  packed_option_in_proto?: boolean;
  proto3_optional?: boolean;
  oneof?: string;
  json_name?: string;
  map?: boolean;
}
interface MessageFact { fields: Record<string, FieldFact>; reserved?: number[]; oneofs?: Record<string, string[]> }
interface MethodFact { request: string; response: string; client_streaming: boolean; server_streaming: boolean; grpc_path: string }
interface WireFacts {
  messages: Record<string, MessageFact>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, Record<string, MethodFact>>;
}

const facts = JSON.parse(readFileSync(path.join(packageRoot, 'test/fixtures/tf-serving/wire-facts.json'), 'utf8')) as WireFacts;

/** Fields deliberately left out of protos/, with the reason; parsers skip them unharmed. */
const OMITTED: Record<string, Record<string, string>> = {
  'tensorflow.TensorInfo': { composite_tensor: 'its TypeSpecProto pulls in most of TensorFlow\'s structure protos' },
};

/** The messages the issue requires protos/ to hold. */
const REQUIRED = [
  'tensorflow.serving.PredictRequest', 'tensorflow.serving.PredictResponse', 'tensorflow.serving.ModelSpec',
  'tensorflow.TensorProto', 'tensorflow.TensorShapeProto', 'tensorflow.serving.GetModelMetadataRequest',
  'tensorflow.serving.GetModelMetadataResponse', 'tensorflow.serving.SignatureDefMap', 'tensorflow.SignatureDef',
  'tensorflow.TensorInfo', 'tensorflow.serving.GetModelStatusRequest', 'tensorflow.serving.GetModelStatusResponse',
  'tensorflow.serving.ModelVersionStatus', 'tensorflow.serving.StatusProto',
  // The model config file and ModelService.HandleReloadConfigRequest (issue 17).
  'tensorflow.serving.ReloadConfigRequest', 'tensorflow.serving.ReloadConfigResponse', 'tensorflow.serving.Metric',
  'tensorflow.serving.ModelServerConfig', 'tensorflow.serving.ModelConfigList', 'tensorflow.serving.ModelConfig',
  'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy', 'tensorflow.serving.LoggingConfig',
];

/**
 * Messages declared only to nest official ones, with none of their own
 * fields (so nothing of theirs travels on the wire), and why.
 */
const CONTAINERS: Record<string, string> = {
  'tensorflow.serving.FileSystemStoragePathSourceConfig': 'holds ServableVersionPolicy; the storage path source\'s own settings come from ModelConfig and the flags',
};

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    path.isAbsolute(target) || target.startsWith('google/protobuf/') ? target : path.join(protosDir, target);
  root.loadSync(serviceProtoFiles.map((f) => path.join(protosDir, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

function collect(ns: protobuf.NamespaceBase, out: { types: protobuf.Type[]; enums: protobuf.Enum[]; services: protobuf.Service[] }) {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.types.push(nested);
    else if (nested instanceof protobuf.Enum) out.enums.push(nested);
    else if (nested instanceof protobuf.Service) out.services.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type || nested instanceof protobuf.Service) {
      collect(nested as protobuf.NamespaceBase, out);
    }
  }
  return out;
}

const name = (t: protobuf.ReflectionObject) => t.fullName.replace(/^\./, '');
const root = loadRoot();
const { types, enums, services } = collect(root, { types: [], enums: [], services: [] });
// google.protobuf.* come from protobufjs's own copies; they are checked too, since they travel on the wire.
const ours = types.filter((t) => name(t).startsWith('tensorflow.') || name(t).startsWith('google.protobuf.'));
const usedGoogle = new Set(['google.protobuf.Any', 'google.protobuf.Int64Value']);

function fieldType(field: protobuf.Field): string {
  const valueType = field.resolvedType ? name(field.resolvedType) : field.type;
  return field instanceof protobuf.MapField ? `map<${field.keyType},${valueType}>` : valueType;
}

describe('protos/ against the official TF Serving wire facts', () => {
  it('holds every message the API subset needs', () => {
    const have = new Set(ours.map(name));
    for (const required of REQUIRED) expect(have, required).toContain(required);
  });

  for (const [full, why] of Object.entries(CONTAINERS)) {
    it(`container ${full} (${why})`, () => {
      const type = ours.find((t) => name(t) === full);
      expect(type, `${full} is not in protos/`).toBeDefined();
      expect(type?.fieldsArray ?? [], `${full} may only nest messages`).toEqual([]);
    });
  }

  for (const type of ours.filter((t) => (name(t).startsWith('tensorflow.') || usedGoogle.has(name(t))) && !CONTAINERS[name(t)])) {
    const full = name(type);
    it(`message ${full}`, () => {
      const fact = facts.messages[full];
      expect(fact, `${full} is not an official message`).toBeDefined();
      for (const field of type.fieldsArray) {
        const where = `${full}.${field.name}`;
        const f = fact.fields[field.name];
        expect(f, `${where} is not an official field`).toBeDefined();
        expect(field.id, `${where} number`).toBe(f.number);
        expect(fieldType(field), `${where} type`).toBe(f.type);
        expect(field.repeated || field.map ? 'repeated' : 'optional', `${where} label`).toBe(f.label);
        const numericRepeated = field.repeated && !field.map && !field.resolvedType && !['string', 'bytes'].includes(field.type);
        expect(numericRepeated ? field.packed : false, `${where} packed`).toBe(f.packed === true);
        expect(field.options?.packed === true, `${where} [packed = true] spelled`).toBe(f.packed_option_in_proto === true);
        const proto3Optional = field.options?.proto3_optional === true;
        expect(proto3Optional, `${where} proto3 optional`).toBe(f.proto3_optional === true);
        expect(proto3Optional ? undefined : field.partOf?.name, `${where} oneof`).toBe(f.oneof);
        if (f.json_name) expect(field.options?.json_name, `${where} json_name`).toBe(f.json_name);
      }
      for (const fieldName of Object.keys(fact.fields)) {
        if (OMITTED[full]?.[fieldName]) continue;
        expect(type.fields[fieldName], `${full}.${fieldName} is missing from protos/`).toBeDefined();
      }
      const reserved = (type.reserved ?? []).flatMap((r) => (Array.isArray(r) ? Array.from({ length: r[1] - r[0] + 1 }, (_, i) => r[0] + i) : []));
      expect(reserved.sort(), `${full} reserved numbers`).toEqual([...(fact.reserved ?? [])].sort());
    });
  }

  for (const e of enums.filter((x) => name(x).startsWith('tensorflow.'))) {
    it(`enum ${name(e)}`, () => {
      expect(facts.enums[name(e)], `${name(e)} is not an official enum`).toBeDefined();
      expect(e.values).toEqual(facts.enums[name(e)]);
    });
  }

  for (const service of services) {
    it(`service ${name(service)}`, () => {
      const fact = facts.services[name(service)];
      expect(fact, `${name(service)} is not an official service`).toBeDefined();
      for (const method of service.methodsArray) {
        const m = fact[method.name];
        expect(m, `${name(service)}.${method.name} is not an official method`).toBeDefined();
        expect(name(method.resolvedRequestType as protobuf.Type)).toBe(m.request);
        expect(name(method.resolvedResponseType as protobuf.Type)).toBe(m.response);
        expect(Boolean(method.requestStream)).toBe(m.client_streaming);
        expect(Boolean(method.responseStream)).toBe(m.server_streaming);
        expect(`/${name(service)}/${method.name}`).toBe(m.grpc_path);
      }
    });
  }

  it('keeps the generated TypeScript types in step with protos/', () => {
    const out = tempDir('lookout-gen-');
    const result = spawnSync(process.execPath, [path.join(packageRoot, 'scripts/gen-proto-types.mjs'), out], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const generated = path.join(packageRoot, 'src/tfserving/generated');
    const list = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
    expect(list(out)).toEqual(list(generated));
    for (const file of list(out)) {
      expect(readFileSync(path.join(out, file), 'utf8'), `${file} is stale: run npm run gen:protos`).toBe(readFileSync(path.join(generated, file), 'utf8'));
    }
  });
});
