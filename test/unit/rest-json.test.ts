// The REST front-end's predict-body reader, routes and number format, checked
// against TF Serving's json_tensor.cc and http_rest_api_util.cc behaviour.
import { describe, expect, it } from 'vitest';
import { status as Status } from '@grpc/grpc-js';
import { formatFloat32, predictJson } from '../../src/modelserver/rest-answers.js';
import { parsePredictBody } from '../../src/modelserver/rest-body.js';
import { route } from '../../src/modelserver/rest-routes.js';
import { InvalidRequestError, ModelNotFoundError, TfServingError } from '../../src/tfserving/errors.js';
import { emptyOutput } from '../../src/modelserver/centernet.js';

const uint8 = () => 'DT_UINT8' as const;
const string = () => 'DT_STRING' as const;
const parse = (body: string, dtype: () => 'DT_UINT8' | 'DT_STRING' = uint8) => parsePredictBody(Buffer.from(body), dtype);
const shapeOf = (body: string, dtype = uint8) => parse(body, dtype).tensor.tensor_shape?.dim.map((d) => d.size);

function refusal(body: string, dtype: () => 'DT_UINT8' | 'DT_STRING' = uint8): TfServingError {
  try {
    parse(body, dtype);
  } catch (err) {
    if (err instanceof TfServingError) return err;
    throw err;
  }
  throw new Error(`expected ${body} to be refused`);
}

describe('predict bodies', () => {
  const image = '[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]]]';

  it('reads row format into one [batch, …] uint8 tensor, values in order', () => {
    const parsed = parse(`{"signature_name": "serving_default", "instances": [${image}, ${image}]}`);
    expect(parsed.format).toBe('row');
    expect(parsed.signatureName).toBe('serving_default');
    expect(parsed.tensor.dtype).toBe('DT_UINT8');
    expect(parsed.tensor.tensor_shape?.dim.map((d) => d.size)).toEqual([2, 2, 2, 3]);
    expect([...parsed.tensor.tensor_content]).toEqual([...Array.from({ length: 12 }, (_, i) => i + 1), ...Array.from({ length: 12 }, (_, i) => i + 1)]);
  });

  it('reads columnar format, bare or naming the input, and named row items', () => {
    expect(parse(`{"inputs": [${image}]}`).format).toBe('columnar');
    expect(shapeOf(`{"inputs": [${image}]}`)).toEqual([1, 2, 2, 3]);
    expect(shapeOf(`{"inputs": {"inputs": [${image}, ${image}]}}`)).toEqual([2, 2, 2, 3]);
    expect(shapeOf(`{"instances": [{"inputs": ${image}}, {"inputs": ${image}}]}`)).toEqual([2, 2, 2, 3]);
  });

  it('keeps uint8 values modulo 256, as TensorFlow parses int_val', () => {
    expect([...parse('{"instances": [[256, -1, 7]]}').tensor.tensor_content]).toEqual([0, 255, 7]);
  });

  it('reads DT_STRING values from {"b64": …} objects and plain strings', () => {
    const parsed = parse('{"instances": [{"b64": "AQID"}, {"b64":"/w=="}, "ab"]}', string);
    expect(parsed.tensor.dtype).toBe('DT_STRING');
    expect(parsed.tensor.tensor_shape?.dim.map((d) => d.size)).toEqual([3]);
    expect(parsed.tensor.string_val.map((b) => [...b])).toEqual([[1, 2, 3], [255], [97, 98]]);
    expect(parse('{"inputs": [{"b64": "AQID"}]}', string).tensor.string_val.map((b) => [...b])).toEqual([[1, 2, 3]]);
  });

  it('asks for the signature only once the JSON is well formed, with the name the body gives', () => {
    const seen: string[] = [];
    const resolve = (name: string): 'DT_UINT8' => {
      seen.push(name);
      return 'DT_UINT8';
    };
    expect(() => parsePredictBody(Buffer.from('{"instances": [1,'), resolve)).toThrow(/JSON Parse error/);
    expect(seen).toEqual([]);
    parsePredictBody(Buffer.from('{"instances": [[1]], "signature_name": "a\\"b"}'), resolve);
    expect(seen).toEqual(['a"b']);
    // The servable lookup's refusal comes before any tensor error.
    const notFound = (): never => {
      throw new ModelNotFoundError(Status.NOT_FOUND, 'Servable not found for request: Latest(x)');
    };
    expect(() => parsePredictBody(Buffer.from('{"instances": ["x"]}'), notFound)).toThrow(ModelNotFoundError);
  });

  it.each([
    ['', 'JSON Parse error: The document is empty'],
    ['   ', 'JSON Parse error: The document is empty'],
    ['{"instances": [1,]}', 'JSON Parse error: Invalid value. at offset: 17'],
    ['{"instances": [1] ', "JSON Parse error: Missing a comma or '}' after an object member. at offset: 18"],
    ['{"instances" [1]}', 'JSON Parse error: Missing a colon after a name of object member. at offset: 13'],
    ['{"instances": [1]} 2', 'JSON Parse error: The document root must not be followed by other values. at offset: 19'],
    ['{"instances": [1.]}', 'JSON Parse error: Miss fraction part in number. at offset: 17'],
    ['{"instances": ["\\x"]}', 'JSON Parse error: Invalid escape character in string. at offset: 17'],
    [`${'['.repeat(100)}${']'.repeat(100)}`, 'JSON Parse error: Nesting deeper than 64 levels. at offset: 64'],
    ['[1]', 'JSON Value: [1] Is not object'],
    ['{"signature_name": 1, "instances": [1]}', `JSON Value: {"signature_name": 1, "instances": [1]} not formatted correctly. 'signature_name' key must be a string value.`],
    ['{"instances": [1], "inputs": [1]}', `JSON Value: {"instances": [1], "inputs": [1]} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `],
    ['{"signature_name": "x"}', "Missing 'inputs' or 'instances' key"],
    ['{"instances": 1}', `JSON Value: {"instances": 1} Excepting 'instances' to be an list/array`],
    ['{"instances": []}', `JSON Value: {"instances": []} No values in 'instances' array`],
    ['{"instances": [[1], ["x"]]}', `Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "x" Type: String is not of expected type: uint8 (input inputs)`],
    ['{"instances": [1.5]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1.5 Type: Number is not of expected type: uint8 (input inputs)`],
    ['{"instances": [{"b64": "AQID"}]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: {"b64": "AQID"} Type: Object is not of expected type: uint8 (input inputs)`],
    ['{"instances": [[1], {"inputs": [1]}]}', 'Expecting value/list but got object at item 1 of input list'],
    ['{"instances": [[1], [1, 2]]}', `Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2`],
    ['{"instances": [[1, 2], [[1], [2]]]}', `Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but got: [2,1]`],
    ['{"instances": [[[1, 2, 3]], [[1, 2]]]}', `Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 3 but got: 2`],
    ['{"instances": [[[1, 2, 3], [1, 2]]]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Encountered list at unexpected size: 2 at level: 1 expected size: 3`],
    ['{"instances": [[[], [1]]]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Encountered list at unexpected size: 1 at level: 1 expected size: 0`],
    ['{"instances": [[[1], 2]]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 2 found at incorrect level: 2 in the JSON DOM. Expected at level: 2`],
    ['{"instances": [[1, [2]]]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Encountered list at unexpected level: 1 expected < 1`],
    ['{"instances": [{"images": [1]}]}', `Failed to process element: 0 key: images of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: images`],
    ['{"instances": [{"inputs": [1]}, [1]]}', 'Expecting object but got list at item 1 of input list'],
    ['{"inputs": {"images": [1]}}', "Missing named input: inputs in 'inputs' object."],
    ['{"inputs": [[1], [true]]}', 'JSON Value: true Type: True is not of expected type: uint8 (input inputs)'],
  ])('refuses %j with TF Serving\'s message', (body, message) => {
    const err = refusal(body);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.details).toBe(message);
  });

  it.each([
    ['{"instances": [1]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1 Type: Number is not of expected type: string (input inputs)`],
    ['{"instances": [{"b64": "A"}]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode (input inputs)`],
    ['{"instances": [{"b64": "AQ!D"}]}', `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode (input inputs)`],
    ['{"inputs": [{"b64": "AQID", "x": 1}]}', 'JSON Value: {"b64": "AQID", "x": 1} not formatted correctly for base64 data (input inputs)'],
  ])('refuses %j for a DT_STRING input', (body, message) => {
    expect(refusal(body, string).details).toBe(message);
  });
});

describe('REST routes', () => {
  it.each([
    ['POST', '/v1/models/detector:predict', { kind: 'predict', model: 'detector', version: undefined, label: undefined }],
    ['POST', '/v1/models/detector/versions/3:predict', { kind: 'predict', model: 'detector', version: 3 }],
    ['POST', '/V1/Models/my%20model/labels/canary:predict', { kind: 'predict', model: 'my model', label: 'canary' }],
    ['POST', '/v1/models/detector:classify', { kind: 'unimplemented', verb: 'classify' }],
    ['GET', '/v1/models/detector', { kind: 'status', model: 'detector' }],
    ['GET', '/v1/models/detector/versions/1', { kind: 'status', version: 1 }],
    ['GET', '/v1/models/detector/labels/stable/metadata', { kind: 'metadata', label: 'stable' }],
  ])('%s %s', (method, path, expected) => {
    expect(route(method, path)).toMatchObject(expected);
  });

  it.each([
    ['GET', '/v1/models/detector:predict', 'Malformed request: GET /v1/models/detector:predict'],
    ['POST', '/v1/models/detector/metadata', 'Malformed request: POST /v1/models/detector/metadata'],
    ['POST', '/v1/models/detector:PREDICT', 'Malformed request: POST /v1/models/detector:PREDICT'],
    ['POST', '/v1/models/foo/versions/HELLO:predict', 'Malformed request: POST /v1/models/foo/versions/HELLO:predict'],
    ['PUT', '/v1/models/detector', 'Malformed request: PUT /v1/models/detector'],
    ['GET', '/v1/models', 'Missing model name in request.'],
    ['POST', '/v1/models/foo/versions/99999999999999999999:predict', 'Failed to convert version: 99999999999999999999 to numeric.'],
  ])('refuses %s %s', (method, path, message) => {
    expect(() => route(method, path)).toThrow(message);
  });
});

describe('answers', () => {
  it('writes float32 values as TF Serving does: shortest round trip, ".0" on whole numbers', () => {
    expect(formatFloat32(Math.fround(0.9))).toBe('0.9');
    expect(formatFloat32(3)).toBe('3.0');
    expect(formatFloat32(0)).toBe('0.0');
    expect(formatFloat32(Math.fround(1e-7))).toBe('1e-7');
    expect(formatFloat32(NaN)).toBe('NaN');
    expect(formatFloat32(-Infinity)).toBe('-Infinity');
    const precise = Math.fround(0.123456789);
    expect(Math.fround(Number(formatFloat32(precise)))).toBe(precise);
    expect(formatFloat32(precise)).toBe('0.123456791');
  });

  it('answers row format with one object per image, columnar with batched outputs', () => {
    const a = emptyOutput();
    a.scores[0] = 0.5;
    a.classes[0] = 44;
    a.boxes.set([0.25, 0.5, 0.75, 1]);
    a.num = 1;
    const rows = JSON.parse(predictJson([a, emptyOutput()], 'row')) as { predictions: Array<Record<string, unknown>> };
    expect(rows.predictions).toHaveLength(2);
    expect(Object.keys(rows.predictions[0])).toEqual(['detection_boxes', 'detection_classes', 'detection_scores', 'num_detections']);
    expect(rows.predictions[0].num_detections).toBe(1);
    expect((rows.predictions[0].detection_boxes as number[][])[0]).toEqual([0.25, 0.5, 0.75, 1]);
    expect((rows.predictions[0].detection_scores as number[])).toHaveLength(100);
    expect(predictJson([a], 'row')).toContain('"num_detections":1.0');
    const columns = JSON.parse(predictJson([a, emptyOutput()], 'columnar')) as { outputs: Record<string, unknown[]> };
    expect(columns.outputs.num_detections).toEqual([1, 0]);
    expect((columns.outputs.detection_classes[0] as number[])[0]).toBe(44);
    expect(columns.outputs.detection_boxes).toHaveLength(2);
  });
});
