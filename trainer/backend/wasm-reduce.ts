import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels } from './simd/index.js';
import { byteOffset, f32, makeOutput, type WasmBackend } from './wasm-heap.js';
import { isWasmKernelOverridden, overrideWasmKernel, restoreWasmKernel } from './wasm-override.js';

/**
 * Sums and means over leading axes (a [batch, features] tensor reduced over
 * the batch: every bias gradient, BatchNorm's statistics and their
 * gradients) on the wasm backend. The wasm Sum and Mean kernels only reduce
 * innermost axes, so for these they first transpose the whole tensor, a
 * strided copy that costs more than the sums. Here a SIMD kernel
 * (simd/kernels.ts, colsum) sums each column from the first row down, in
 * float32, four columns at a time, reading the input in place; the mean
 * divides by the count in float32 as the wasm kernel does. Same sums in the
 * same order, so the same bits. Other reductions go to the original kernels.
 */
const KERNELS = [tf.Sum, tf.Mean] as const;

export function patchWasmReduce(): void {
  for (const name of KERNELS) overrideWasmKernel(name, (original) => leadingAxes(name, original));
}

export function unpatchWasmReduce(): void {
  for (const name of KERNELS) restoreWasmKernel(name);
}

export function isWasmReducePatched(): boolean {
  return KERNELS.every(isWasmKernelOverridden);
}

function leadingAxes(name: string, original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackend;
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a));
    // Only axes 0..j-1, in that order (the original sums in the order the axes
    // are given), with something left over: reducing innermost axes needs no
    // transpose anyway.
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32' || x.shape.some((d) => d === 0)) return original(args);
    const rows = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
    const rest = x.shape.slice(axes.length);
    const cols = rest.reduce((p, d) => p * d, 1);
    const out = makeOutput(backend, keepDims === true ? [...Array<number>(axes.length).fill(1), ...rest] : rest);
    simdKernels(backend).colsum(byteOffset(backend, x), byteOffset(backend, out), rows, cols);
    if (name === tf.Mean) {
      const acc = f32(backend, out);
      // float32 / count, rounded once: the float32 division the wasm kernel does.
      for (let c = 0; c < cols; c++) acc[c] = (acc[c] as number) / rows;
    }
    return out;
  };
}
