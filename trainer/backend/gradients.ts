import * as tf from '@tensorflow/tfjs-core';
import { registerReduceGradients } from './reduce-gradients.js';

/**
 * Registers the gradient functions, without which tf.variableGrads fails
 * ("gradient function not found for Reshape").
 *
 * tfjs-core's Node build (what `import '@tensorflow/tfjs-core'` loads) ships
 * no gradients; the @tensorflow/tfjs union package bundles and registers
 * them on the shared engine. It is also what tfjs-node depends on, so GPU pods
 * get the same module. Loading it takes about half a second, once per process.
 */
let loading: Promise<void> | undefined;

export function registerGradients(): Promise<void> {
  loading ??= load();
  return loading;
}

/** True when matMul's gradient is registered. */
export function gradientsRegistered(): boolean {
  return tf.getGradient(tf.BatchMatMul) != null && tf.getGradient(tf.Reshape) != null;
}

async function load(): Promise<void> {
  if (!gradientsRegistered()) {
    await import('@tensorflow/tfjs');
    if (!gradientsRegistered()) throw new Error('@tensorflow/tfjs loaded but registered no gradients (two copies of tfjs-core installed?)');
  }
  // After tfjs's own, which they replace.
  registerReduceGradients();
}
