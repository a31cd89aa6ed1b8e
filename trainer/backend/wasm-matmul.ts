import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Transpose-first matmul for the wasm backend.
 *
 * The wasm BatchMatMul and _FusedMatMul kernels are 8-20x slower when a
 * transpose flag is set (the inner loop then strides through memory), and the
 * matMul gradient sets those flags on every backward pass. Materialising the
 * transposed operand with the wasm Transpose kernel and running the original
 * kernel with the flag off gives the same sums in the same order, so the
 * result is unchanged while a training step gets several times faster
 * (measurements in docs and in the trainer/backend report).
 */

const BACKEND = 'wasm';
const KERNELS = [tf.BatchMatMul, tf._FusedMatMul] as const;

/** The wasm kernels as registered by @tensorflow/tfjs-backend-wasm, while patched. */
const originals = new Map<string, KernelConfig>();

export function isWasmMatMulPatched(): boolean {
  return originals.size > 0;
}

/**
 * Replaces the wasm BatchMatMul and _FusedMatMul kernels by transpose-first
 * versions. Idempotent. Needs @tensorflow/tfjs-backend-wasm imported (its
 * import registers the kernels); works before or after the backend starts,
 * because the original setup functions are kept.
 */
export function patchWasmMatMul(): void {
  if (isWasmMatMulPatched()) return;
  const transpose = tf.getKernel(tf.Transpose, BACKEND);
  if (transpose === undefined) throw new Error('the wasm backend is not loaded: import @tensorflow/tfjs-backend-wasm first');
  for (const name of KERNELS) {
    const original = tf.getKernel(name, BACKEND);
    if (original === undefined) throw new Error(`the wasm backend has no ${name} kernel to patch`);
    originals.set(name, original);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ ...original, kernelFunc: transposeFirst(original.kernelFunc, transpose.kernelFunc) });
  }
}

/** Puts the original kernels back (for comparisons and benchmarks). */
export function unpatchWasmMatMul(): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  originals.clear();
}

function transposeFirst(original: KernelFunc, transposeKernel: KernelFunc): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const flags = (attrs ?? {}) as NamedAttrMap & { transposeA?: boolean; transposeB?: boolean };
    if (flags.transposeA !== true && flags.transposeB !== true) return original({ inputs, backend, attrs });
    // Intermediates made by calling a kernel directly are invisible to the
    // engine, so they are freed here rather than by tf.tidy.
    const made: TensorInfo[] = [];
    const swapLastTwo = (x: TensorInfo): TensorInfo => {
      const rank = x.shape.length;
      const perm = [...Array(rank).keys()];
      perm[rank - 2] = rank - 1;
      perm[rank - 1] = rank - 2;
      const t = transposeKernel({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
      made.push(t);
      return t;
    };
    try {
      const a = required(inputs.a, 'a');
      const b = required(inputs.b, 'b');
      return original({
        inputs: { ...inputs, a: flags.transposeA === true ? swapLastTwo(a) : a, b: flags.transposeB === true ? swapLastTwo(b) : b },
        backend,
        attrs: { ...flags, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of made) (backend as KernelBackend).disposeData(t.dataId);
    }
  };
}

function required(x: TensorInfo | undefined, name: string): TensorInfo {
  if (x === undefined) throw new Error(`matMul kernel called without input '${name}'`);
  return x;
}
