import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-heap.js';
import { isWasmKernelOverridden, overrideWasmKernel, restoreWasmKernel } from './wasm-override.js';

/**
 * Identity without a copy on the wasm backend. The engine clones (with the
 * Identity kernel) every tensor it saves for the backward pass, and the wasm
 * Identity copies the data: ~550 copies per SCTL step, ~50 ms at 12,966
 * genes. Tensor data is immutable in TensorFlow.js (Variable.assign swaps
 * the data id, it does not write), so the clone can share the data and take
 * a reference, which is what the cpu backend's Identity does. The one
 * in-place writer here, the fused Adam kernel, refuses data with more than
 * one reference.
 */
export function patchWasmIdentity(): void {
  overrideWasmKernel(tf.Identity, sharedIdentity);
}

export function unpatchWasmIdentity(): void {
  restoreWasmKernel(tf.Identity);
}

export function isWasmIdentityPatched(): boolean {
  return isWasmKernelOverridden(tf.Identity);
}

function sharedIdentity(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
