// Classify, Regress and MultiInference, answered as TF Serving answers them
// for a model whose signatures are all predict ones, as an object detector's
// are (PARITY.md §6; TF Serving's classifier.cc, regressor.cc,
// multi_inference_helper.cc): these methods need a signature with one
// serialized tf.Example input and one or two outputs, which a detector's
// (one image input, four outputs) is not. The model is looked up first, so an
// unknown model is NOT_FOUND as in Predict; then the signature: unknown,
// INVALID_ARGUMENT; found, the pre-processing refuses its outputs, as TF
// Serving does with --enable_signature_method_name_check off (its default).
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument, ServerError } from '../tfserving/errors.js';
import { DEFAULT_SIGNATURE, SIGNATURES } from './signatures.js';

export type ExampleMethod = 'classify' | 'regress';

const METHOD_NAMES: Record<ExampleMethod, string> = {
  classify: 'tensorflow/serving/classify',
  regress: 'tensorflow/serving/regress',
};

/** A signature's outputs refused as TF Serving's pre-processing refuses them for `method`. */
function refuseOutputs(method: ExampleMethod, name: string): never {
  const outputs = Object.keys(SIGNATURES[name].def.outputs ?? {}).length;
  if (method === 'classify') throw invalidArgument(`Expected one or two output Tensors, found ${outputs}`);
  throw invalidArgument('Expected one output Tensor.');
}

/** Always throws: Classify's or Regress's error on the named signature of a detector. */
export function refuseExampleMethod(method: ExampleMethod, signatureName: string): never {
  const name = signatureName || DEFAULT_SIGNATURE;
  if (!SIGNATURES[name]) throw invalidArgument(`No signature was found with the name: ${name}`);
  return refuseOutputs(method, name);
}

/**
 * Always throws: MultiInference's error for a detector, found as TF Serving
 * finds it. The caller has looked up the first task's model (NOT_FOUND, or
 * "ModelSpec has no name specified." with no task at all); the first task
 * then fails, before any other is looked at: its signature (it must exist),
 * its method (classify or regress, else UNIMPLEMENTED), its outputs.
 */
export function refuseInference(first: { signatureName: string; methodName: string }): never {
  const name = first.signatureName || DEFAULT_SIGNATURE;
  if (!SIGNATURES[name]) throw invalidArgument(`Requested signature not found in model graph: ${name}`);
  const method = (Object.keys(METHOD_NAMES) as ExampleMethod[]).find((m) => METHOD_NAMES[m] === first.methodName);
  if (!method) throw new ServerError(Status.UNIMPLEMENTED, `Unsupported signature method_name: ${first.methodName}`);
  return refuseOutputs(method, name);
}
