import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Direct access to tensors on the wasm backend's heap, for the kernels this
 * directory registers in JavaScript. Every view is made after the last
 * allocation of a kernel call: an allocation can grow the wasm memory, which
 * detaches the views made before it.
 */
export type WasmBackend = BackendWasm;

/** A fresh float32 output tensor on the heap (uninitialised). */
export function makeOutput(backend: WasmBackend, shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): TensorInfo {
  return backend.makeOutput(shape, dtype);
}

export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new TypeError(`expected a float32 tensor, but got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** The byte offset of a tensor's data in the heap. */
export function byteOffset(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset as number;
}

/** The whole heap as bytes (for copyWithin between tensors). */
export function heapBytes(backend: WasmBackend): Uint8Array {
  return backend.wasm.HEAPU8;
}

export function bytesPerElement(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  throw new TypeError(`no fixed element size for dtype ${dtype}`);
}
