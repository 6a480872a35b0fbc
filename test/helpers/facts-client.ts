// A TF Serving gRPC client built from nothing but the official wire facts
// (test/fixtures/tf-serving/wire-facts.json): field numbers, types, labels,
// packing, oneofs, enums and gRPC paths as the official .proto files define
// them. It deliberately never reads protos/ or src/tfserving/, so when it gets
// correct answers from `lookout model-server`, that proves the server speaks
// the official wire format and not merely a format that agrees with itself.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// ---- The shape of wire-facts.json (see its `_conventions` key) ----

export interface FieldFact {
  number: number;
  /** Scalar type name, or fully-qualified message/enum name without leading dot; for maps "map<K,V>". */
  type: string;
  /** 'optional' is a proto3 singular field; maps are 'repeated' with map: true. */
  label: 'optional' | 'repeated';
  map?: boolean;
  key_type?: string;
  value_type?: string;
  /** True for repeated numeric scalars, which proto3 packs. */
  packed?: boolean;
  /** Name of the real oneof the field belongs to. */
  oneof?: string;
  /** proto3 `optional` keyword: explicit presence through a synthetic oneof `_<name>`. */
  proto3_optional?: boolean;
  kind: 'scalar' | 'message' | 'enum';
}

export interface MessageFact {
  package?: string;
  fields: Record<string, FieldFact>;
  /** Fully-qualified name of the message this one is declared inside. */
  nested_in?: string;
  oneofs?: Record<string, string[]>;
}

export interface MethodFact {
  request: string;
  response: string;
  grpc_path: string;
}

export interface WireFacts {
  messages: Record<string, MessageFact>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, Record<string, MethodFact>>;
  _unexpanded_types?: string[];
}

const FACTS_FILE = new URL('../fixtures/tf-serving/wire-facts.json', import.meta.url);

export function loadWireFacts(): WireFacts {
  return JSON.parse(readFileSync(FACTS_FILE, 'utf8')) as WireFacts;
}

// ---- Building the protobufjs Root from the facts ----

/** The messages the four RPCs exchange, plus SignatureDefMap, which GetModelMetadata wraps in an Any. */
export const ROOT_MESSAGES = [
  'tensorflow.serving.PredictRequest',
  'tensorflow.serving.PredictResponse',
  'tensorflow.serving.GetModelMetadataRequest',
  'tensorflow.serving.GetModelMetadataResponse',
  'tensorflow.serving.SignatureDefMap',
  'tensorflow.serving.GetModelStatusRequest',
  'tensorflow.serving.GetModelStatusResponse',
  'tensorflow.serving.ReloadConfigRequest',
  'tensorflow.serving.ReloadConfigResponse',
] as const;

/** protobuf scalar type names; protobufjs spells them the same way. */
const SCALARS = new Set([
  'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes',
]);

export interface FactsRoot {
  root: protobuf.Root;
  /** Fields left out because their type is not in the facts (e.g. TensorInfo.CompositeTensor.type_spec). */
  skipped: string[];
}

/** The type a field points at: the value type for maps, else its own type. */
function referencedType(field: FieldFact): string {
  return field.map ? (field.value_type ?? '') : field.type;
}

/** Name of the enclosing message for a nested message or enum, if there is one. */
function parentMessage(name: string, facts: WireFacts): string | undefined {
  const message = facts.messages[name];
  if (message) return message.nested_in;
  // Enums carry no nested_in; an enum is nested when the name before its last dot is a message.
  const prefix = name.slice(0, name.lastIndexOf('.'));
  return facts.messages[prefix] ? prefix : undefined;
}

/** The package of a top-level enum: the name before its last dot. */
function packageOf(name: string, facts: WireFacts): string {
  return facts.messages[name]?.package ?? name.slice(0, name.lastIndexOf('.'));
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * Builds a Root holding ROOT_MESSAGES and everything they reference, with
 * field names exactly as in the facts (snake_case, as protoc would keep them).
 */
export function buildFactsRoot(facts: WireFacts = loadWireFacts()): FactsRoot {
  const skipped: string[] = [];
  const known = (name: string): boolean => name in facts.messages || name in facts.enums;

  // 1. The transitive closure of needed message and enum names. Parents of
  //    nested types are pulled in too, since the nested type lives inside them.
  const needed = new Set<string>();
  // Messages that only hold nested ones (FileSystemStoragePathSourceConfig holds ServableVersionPolicy):
  // the facts name them as parents without listing them; they are made empty, to nest in.
  const containers = new Set<string>();
  const queue: string[] = [...ROOT_MESSAGES];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (needed.has(name)) continue;
    if (!known(name)) throw new Error(`wire facts lack ${name}, which a needed type requires`);
    needed.add(name);
    const parent = parentMessage(name, facts);
    if (parent && known(parent)) queue.push(parent);
    else if (parent) containers.add(parent);
    const message = facts.messages[name];
    if (!message) continue;
    for (const field of Object.values(message.fields)) {
      const target = referencedType(field);
      if (!SCALARS.has(target) && known(target)) queue.push(target);
    }
  }

  // 2. One reflection object per needed name, not yet attached anywhere.
  const objects = new Map<string, protobuf.Type | protobuf.Enum>();
  for (const name of containers) objects.set(name, new protobuf.Type(lastSegment(name)));
  for (const name of needed) {
    const enumValues = facts.enums[name];
    if (enumValues) {
      objects.set(name, new protobuf.Enum(lastSegment(name), { ...enumValues }));
      continue;
    }
    const message = facts.messages[name];
    const type = new protobuf.Type(lastSegment(name));
    const oneofMembers = new Map<string, string[]>();
    for (const [fieldName, fact] of Object.entries(message.fields)) {
      const target = referencedType(fact);
      if (!SCALARS.has(target) && !known(target)) {
        // Not expanded in the facts (tensorflow.TypeSpecProto): leave the field out.
        // Decoders skip unknown field numbers, so answers still parse.
        skipped.push(`${name}.${fieldName} (${target})`);
        continue;
      }
      // Leading dot: resolve the name absolutely, not relative to this message.
      const typeRef = SCALARS.has(target) ? target : `.${target}`;
      let field: protobuf.FieldBase;
      if (fact.map) {
        if (!fact.key_type) throw new Error(`map field ${name}.${fieldName} has no key_type`);
        field = new protobuf.MapField(fieldName, fact.number, fact.key_type, typeRef);
      } else {
        // Packing is set explicitly from the facts rather than left to
        // protobufjs's edition defaults, so the encoding is the official one.
        const options: Record<string, unknown> = {};
        const packable = fact.kind === 'enum' || (fact.kind === 'scalar' && fact.type !== 'string' && fact.type !== 'bytes');
        if (fact.label === 'repeated' && packable) {
          options.packed = fact.packed === true;
        }
        if (fact.proto3_optional) options.proto3_optional = true;
        field = new protobuf.Field(fieldName, fact.number, typeRef, fact.label === 'repeated' ? 'repeated' : undefined, undefined, options);
      }
      type.add(field);
      // proto3 `optional` is a synthetic oneof named _<field>, as protoc makes it.
      const oneof = fact.oneof ?? (fact.proto3_optional ? `_${fieldName}` : undefined);
      if (oneof) oneofMembers.set(oneof, [...(oneofMembers.get(oneof) ?? []), fieldName]);
    }
    for (const [oneofName, members] of oneofMembers) {
      const oneof = new protobuf.OneOf(oneofName);
      type.add(oneof);
      for (const member of members) oneof.add(type.fields[member]);
    }
    objects.set(name, type);
  }

  // 3. Attach: nested types inside their parent message, the rest in their package.
  const root = new protobuf.Root();
  for (const [name, object] of objects) {
    const parent = parentMessage(name, facts);
    if (parent) {
      const parentType = objects.get(parent);
      if (!(parentType instanceof protobuf.Type)) throw new Error(`parent ${parent} of ${name} was not built`);
      parentType.add(object);
    } else {
      root.define(packageOf(name, facts)).add(object);
    }
  }
  root.resolveAll();
  return { root, skipped };
}

// ---- The client ----

/** Options for toObject: numbers for int64, enum names, Buffers for bytes, defaults filled in. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: Buffer, defaults: true };

export type Message = Record<string, unknown>;

export const SIGNATURE_DEF_MAP_TYPE_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

export interface FactsClient {
  predict(request: Message, deadlineMs?: number): Promise<Message>;
  getModelMetadata(request: Message, deadlineMs?: number): Promise<Message>;
  getModelStatus(request: Message, deadlineMs?: number): Promise<Message>;
  handleReloadConfigRequest(request: Message, deadlineMs?: number): Promise<Message>;
  /** Decodes a google.protobuf.Any (as toObject gives it) that holds a tensorflow.serving.SignatureDefMap. */
  decodeSignatureDefMap(any: unknown): Message;
  /** The Root the client encodes and decodes with. */
  readonly root: protobuf.Root;
  /** Fields left out because the facts do not expand their type. */
  readonly skipped: readonly string[];
  close(): void;
}

function methodFact(facts: WireFacts, service: string, method: string): MethodFact {
  const fact = facts.services[service]?.[method];
  if (!fact) throw new Error(`wire facts lack ${service}/${method}`);
  return fact;
}

/**
 * fromObject silently drops keys it does not know, so a misspelt field in a
 * test request would go out as an empty field and the test would prove
 * nothing. Refuse unknown keys instead, recursing into messages and maps.
 */
function checkFieldNames(type: protobuf.Type, obj: unknown, path: string): void {
  if (typeof obj !== 'object' || obj === null || obj instanceof Uint8Array) return;
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) throw new Error(`${path}: ${type.fullName.slice(1)} has no field "${key}"`);
    const fieldType = field.resolve().resolvedType;
    if (!(fieldType instanceof protobuf.Type) || value === null || value === undefined) continue;
    let children: unknown[];
    if (field.map) children = typeof value === 'object' ? Object.values(value) : [];
    else children = Array.isArray(value) ? value : [value];
    children.forEach((child, i) => checkFieldNames(fieldType, child, `${path}.${key}[${i}]`));
  }
}

/** Decodes a google.protobuf.Any holding a SignatureDefMap with the given Root. */
export function decodeSignatureDefMap(root: protobuf.Root, any: unknown): Message {
  if (typeof any !== 'object' || any === null) throw new Error('expected a google.protobuf.Any object');
  const typeUrl: unknown = Reflect.get(any, 'type_url');
  const value: unknown = Reflect.get(any, 'value');
  if (typeUrl !== SIGNATURE_DEF_MAP_TYPE_URL) throw new Error(`Any holds ${String(typeUrl)}, not ${SIGNATURE_DEF_MAP_TYPE_URL}`);
  if (!(value instanceof Uint8Array)) throw new Error('Any.value is not bytes');
  const type = root.lookupType('tensorflow.serving.SignatureDefMap');
  return type.toObject(type.decode(value), TO_OBJECT);
}

/** A client for `address` ("host:port") that knows TF Serving only through the wire facts. */
export function factsClient(address: string, facts: WireFacts = loadWireFacts()): FactsClient {
  const { root, skipped } = buildFactsRoot(facts);
  // Plaintext, like TF Serving's default port 8500. Images are large: lift the receive cap.
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });

  function unary(service: string, method: string) {
    const fact = methodFact(facts, service, method);
    const requestType = root.lookupType(fact.request);
    const responseType = root.lookupType(fact.response);
    const serialize = (obj: Message): Buffer => {
      checkFieldNames(requestType, obj, fact.request);
      return Buffer.from(requestType.encode(requestType.fromObject(obj)).finish());
    };
    const deserialize = (buf: Buffer): Message => responseType.toObject(responseType.decode(buf), TO_OBJECT);
    return (request: Message, deadlineMs = 30_000): Promise<Message> =>
      new Promise<Message>((resolve, reject) => {
        client.makeUnaryRequest(
          fact.grpc_path,
          serialize,
          deserialize,
          request,
          new grpc.Metadata(),
          { deadline: Date.now() + deadlineMs },
          (err: grpc.ServiceError | null, response?: Message) => {
            if (err) reject(err);
            else if (!response) reject(new Error(`${fact.grpc_path}: no response`));
            else resolve(response);
          },
        );
      });
  }

  return {
    predict: unary('tensorflow.serving.PredictionService', 'Predict'),
    getModelMetadata: unary('tensorflow.serving.PredictionService', 'GetModelMetadata'),
    getModelStatus: unary('tensorflow.serving.ModelService', 'GetModelStatus'),
    handleReloadConfigRequest: unary('tensorflow.serving.ModelService', 'HandleReloadConfigRequest'),
    decodeSignatureDefMap: (any: unknown) => decodeSignatureDefMap(root, any),
    root,
    skipped,
    close: () => client.close(),
  };
}
