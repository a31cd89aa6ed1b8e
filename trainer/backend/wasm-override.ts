import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

/**
 * Replacing a wasm kernel by one that handles the cases a training step hits
 * faster and hands every other case to the original. The original config is
 * kept (its setup function too: it binds the wasm exports when the backend
 * starts), so a replacement can be undone, and works whether the backend has
 * started or not.
 */
export const WASM = 'wasm';

const originals = new Map<string, KernelConfig>();

/** Replaces the wasm kernel `name`; `make` gets the original kernel function. Idempotent. */
export function overrideWasmKernel(name: string, make: (original: KernelFunc) => KernelFunc): void {
  if (originals.has(name)) return;
  const original = tf.getKernel(name, WASM);
  if (original === undefined) throw new Error(`the wasm backend has no ${name} kernel (import @tensorflow/tfjs-backend-wasm first)`);
  originals.set(name, original);
  tf.unregisterKernel(name, WASM);
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) });
}

/** Puts the original kernel back. */
export function restoreWasmKernel(name: string): void {
  const original = originals.get(name);
  if (original === undefined) return;
  tf.unregisterKernel(name, WASM);
  tf.registerKernel(original);
  originals.delete(name);
}

export function isWasmKernelOverridden(name: string): boolean {
  return originals.has(name);
}

/** The wasm kernel as @tensorflow/tfjs-backend-wasm registered it, overridden or not. */
export function originalWasmKernel(name: string): KernelFunc {
  const config = originals.get(name) ?? tf.getKernel(name, WASM);
  if (config === undefined) throw new Error(`the wasm backend has no ${name} kernel (import @tensorflow/tfjs-backend-wasm first)`);
  return config.kernelFunc;
}
