// Classify, Regress and MultiInference, answered as TF Serving answers them
// for a model whose signatures are all predict ones, as an object detector's
// are (PARITY.md §6): these methods need a classify or regress signature
// taking serialized tf.Examples, which a detector does not have. The model
// and servable are looked up first, so an unknown model is NOT_FOUND here as
// in Predict; then the signature: unknown, INVALID_ARGUMENT "No signature was
// found with the name"; a predict one, INVALID_ARGUMENT naming the method it
// has. MultiInference first checks its tasks as TF Serving does.
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument, ServerError } from '../tfserving/errors.js';
import { DEFAULT_SIGNATURE, SIGNATURES } from './signatures.js';

export type ExampleMethod = 'classify' | 'regress';

const METHOD_NAMES: Record<ExampleMethod, string> = {
  classify: 'tensorflow/serving/classify',
  regress: 'tensorflow/serving/regress',
};

/** Always throws: the error TF Serving gives for `method` on the named signature of a detector. */
export function refuseExampleMethod(method: ExampleMethod, signatureName: string): never {
  const name = signatureName || DEFAULT_SIGNATURE;
  if (!SIGNATURES[name]) throw invalidArgument(`No signature was found with the name: ${name}`);
  const what = method === 'classify' ? 'classification' : 'regression';
  throw invalidArgument(`Expected ${what} signature method_name to be ${METHOD_NAMES[method]}. Was: tensorflow/serving/predict`);
}

export interface InferenceTaskSpec {
  modelName: string;
  signatureName: string;
  methodName: string;
}

/**
 * A MultiInference request's tasks, checked in TF Serving's order: at least
 * one, all of one model, each a classify or regress; returns the model's name
 * for the servable lookup, and then the first task's method to refuse.
 */
export function checkInferenceTasks(tasks: readonly InferenceTaskSpec[]): { modelName: string; first: { method: ExampleMethod; signatureName: string } } {
  if (tasks.length === 0) throw invalidArgument('Found no tasks in MultiInferenceRequest.');
  const modelName = tasks[0].modelName;
  if (tasks.some((t) => t.modelName !== modelName)) throw invalidArgument('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
  const methods = tasks.map((t) => {
    const method = (Object.keys(METHOD_NAMES) as ExampleMethod[]).find((m) => METHOD_NAMES[m] === t.methodName);
    if (!method) throw new ServerError(Status.UNIMPLEMENTED, `Unsupported signature method_name: ${t.methodName}`);
    return method;
  });
  return { modelName, first: { method: methods[0], signatureName: tasks[0].signatureName } };
}
