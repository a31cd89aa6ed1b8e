import * as tf from '@tensorflow/tfjs-core';
import type { GatherV2Attrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { byteOffset, bytesPerElement, heapBytes, makeOutput, type WasmBackend } from './wasm-heap.js';
import { isWasmKernelOverridden, overrideWasmKernel, restoreWasmKernel } from './wasm-override.js';

/**
 * Row gathers on the wasm backend. The wasm GatherV2 kernel computes a
 * strided source address for every element; taking 128 rows of a 1,280 x
 * 12,966 matrix (a training step's batch) costs it as much as a large
 * matmul. Gathering whole rows (axis 0, no batch dimensions) is one memmove
 * per row inside the heap, which no tfjs op expresses. Other gathers go to
 * the original kernel. The values are copied, so the result is the same.
 */
export function patchWasmGather(): void {
  overrideWasmKernel(tf.GatherV2, rowGather);
}

export function unpatchWasmGather(): void {
  restoreWasmKernel(tf.GatherV2);
}

export function isWasmGatherPatched(): boolean {
  return isWasmKernelOverridden(tf.GatherV2);
}

/** Rows of at least this many bytes are copied by memmove, shorter ones word by word. */
const MEMMOVE_BYTES = 256;

function rowGather(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as WasmBackend;
    const x = inputs.x as TensorInfo;
    const indices = inputs.indices as TensorInfo;
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const parsedAxis = axis < 0 ? axis + x.shape.length : axis;
    const supported = parsedAxis === 0 && (batchDims ?? 0) === 0 && x.shape.length >= 1 && indices.dtype === 'int32' && ['float32', 'int32', 'bool'].includes(x.dtype);
    if (!supported) return original(args);
    const rows = x.shape[0] as number;
    const idx = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i] as number;
      if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    }
    const rowBytes = (x.shape.slice(1).reduce((p, d) => p * d, 1) as number) * bytesPerElement(x.dtype);
    const order = Array.from(idx);
    const out = makeOutput(backend, [...indices.shape, ...x.shape.slice(1)], x.dtype as 'float32' | 'int32' | 'bool');
    // Views after the allocation: it may have grown (and so moved) the heap.
    const heap = heapBytes(backend);
    const src = byteOffset(backend, x);
    const dst = byteOffset(backend, out);
    if (rowBytes >= MEMMOVE_BYTES) {
      order.forEach((r, i) => heap.copyWithin(dst + i * rowBytes, src + r * rowBytes, src + (r + 1) * rowBytes));
    } else {
      // Short rows: a call per row costs more than the copy; copy the words (as integers, so every bit pattern survives).
      const width = bytesPerElement(x.dtype);
      const words = width === 4 ? new Uint32Array(heap.buffer) : heap;
      const per = rowBytes / width;
      const from = src / width;
      const to = dst / width;
      order.forEach((r, i) => {
        for (let k = 0; k < per; k++) words[to + i * per + k] = words[from + r * per + k] as number;
      });
    }
    return out;
  };
}
