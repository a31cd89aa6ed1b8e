import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels } from './simd/index.js';
import { gemm } from './simd/matmul.js';
import { byteOffset, makeOutput, type WasmBackend } from './wasm-heap.js';
import { isWasmKernelOverridden, originalWasmKernel, overrideWasmKernel, restoreWasmKernel } from './wasm-override.js';

/**
 * Matrix products on the wasm backend.
 *
 * BatchMatMul of one pair of float32 matrices (every product of a training
 * step) runs the SIMD GEMM of simd/ (gemm.ts says why, and why its result
 * is the wasm kernel's, bit for bit). It reads A transposed as it is stored;
 * B must be [K, N] row-major, so a product with transposeB runs in whichever
 * of two orientations copies less:
 *
 *   direct:   C = op(A) B'               with B' = B^T materialised (K x N floats)
 *   swapped:  C = (B op(A)^T)^T          op(A)^T materialised unless transposeA (M x K),
 *                                        and the M x N result transposed back
 *
 * For the input gradient of a wide layer, dX = dY W^T with W [1,024, 12,966],
 * the swapped form copies dY (256 x 13k) instead of W (1k x 13k).
 *
 * Everything else (a batch of several products, _FusedMatMul) keeps the
 * wasm kernels, transpose-first: they are 8-20x slower with a transpose flag
 * set (a blocked scalar loop instead of XNNPACK), so the flagged operand is
 * materialised with the wasm Transpose kernel first, which changes no sum.
 */
const KERNELS = [tf.BatchMatMul, tf._FusedMatMul] as const;

export function isWasmMatMulPatched(): boolean {
  return KERNELS.every(isWasmKernelOverridden);
}

/**
 * Installs both replacements. Idempotent; needs @tensorflow/tfjs-backend-wasm
 * imported. `simdGemm: false` leaves BatchMatMul transpose-first only (what
 * the speed benchmark's ablation rows compare against).
 */
export function patchWasmMatMul(options: { simdGemm?: boolean } = {}): void {
  const transpose = originalWasmKernel(tf.Transpose);
  const simd = options.simdGemm ?? true;
  overrideWasmKernel(tf.BatchMatMul, (original) => (simd ? simdFirst(transposeFirst(original, transpose), transpose) : transposeFirst(original, transpose)));
  overrideWasmKernel(tf._FusedMatMul, (original) => transposeFirst(original, transpose));
}

/** Puts the original kernels back (for comparisons and benchmarks). */
export function unpatchWasmMatMul(): void {
  for (const name of KERNELS) restoreWasmKernel(name);
}

type Flags = NamedAttrMap & { transposeA?: boolean; transposeB?: boolean };

/**
 * Whether the swapped orientation copies fewer floats (see the top of this
 * file) for C[M, N] = op(A)[M, K] op(B)[K, N]. Only a transposed B needs a copy.
 */
export function swappedIsCheaper(m: number, n: number, k: number, tA: boolean, tB: boolean): boolean {
  if (!tB) return false;
  return (tA ? 0 : m * k) + m * n < k * n;
}

function simdFirst(fallback: KernelFunc, transposeKernel: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackend;
    const a = required(args.inputs.a, 'a');
    const b = required(args.inputs.b, 'b');
    const flags = (args.attrs ?? {}) as Flags;
    const tA = flags.transposeA === true;
    const tB = flags.transposeB === true;
    const single = (s: readonly number[]) => s.length >= 2 && s.slice(0, -2).every((d) => d === 1);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !single(a.shape) || !single(b.shape) || a.shape.length !== b.shape.length) return fallback(args);
    const [ar, ac] = a.shape.slice(-2) as [number, number];
    const [br, bc] = b.shape.slice(-2) as [number, number];
    const [m, k] = tA ? [ac, ar] : [ar, ac];
    const [kb, n] = tB ? [bc, br] : [br, bc];
    if (k !== kb || m === 0 || n === 0 || k === 0) return fallback(args);
    const lead = a.shape.slice(0, -2);
    const made: TensorInfo[] = [];
    const transposed = (x: TensorInfo): TensorInfo => {
      const t = transposeKernel({ inputs: { x }, backend, attrs: { perm: lastTwoSwapped(x.shape.length) } }) as TensorInfo;
      made.push(t);
      return t;
    };
    const allocate = (floats: number) => {
      const t = makeOutput(backend, [floats]);
      return { offset: byteOffset(backend, t), free: () => backend.disposeData(t.dataId) };
    };
    try {
      if (!swappedIsCheaper(m, n, k, tA, tB)) {
        const bk = tB ? transposed(b) : b; // [K, N]
        const out = makeOutput(backend, [...lead, m, n]);
        gemm(simdKernels(backend), allocate, {
          a: byteOffset(backend, a), sAm: tA ? 4 : 4 * k, sAk: tA ? 4 * m : 4,
          b: byteOffset(backend, bk), c: byteOffset(backend, out), m, n, k,
        });
        return out;
      }
      // C^T [N, M] = B [N, K] op(A)^T [K, M]
      const at = tA ? a : transposed(a); // [K, M]
      const ct = makeOutput(backend, [...lead, n, m]);
      made.push(ct);
      gemm(simdKernels(backend), allocate, {
        a: byteOffset(backend, b), sAm: 4 * k, sAk: 4,
        b: byteOffset(backend, at), c: byteOffset(backend, ct), m: n, n: m, k,
      });
      return transposeKernel({ inputs: { x: ct }, backend, attrs: { perm: lastTwoSwapped(ct.shape.length) } }) as TensorInfo;
    } finally {
      for (const t of made) backend.disposeData(t.dataId);
    }
  };
}

function transposeFirst(original: KernelFunc, transposeKernel: KernelFunc): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const flags = (attrs ?? {}) as Flags;
    const tA = flags.transposeA === true;
    const tB = flags.transposeB === true;
    if (!tA && !tB) return original({ inputs, backend, attrs });
    // Intermediates made by calling a kernel directly are invisible to the
    // engine, so they are freed here rather than by tf.tidy.
    const made: TensorInfo[] = [];
    const swapLastTwo = (x: TensorInfo): TensorInfo => {
      const t = transposeKernel({ inputs: { x }, backend, attrs: { perm: lastTwoSwapped(x.shape.length) } }) as TensorInfo;
      made.push(t);
      return t;
    };
    try {
      const a = required(inputs.a, 'a');
      const b = required(inputs.b, 'b');
      return original({
        inputs: { ...inputs, a: tA ? swapLastTwo(a) : a, b: tB ? swapLastTwo(b) : b },
        backend,
        attrs: { ...flags, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of made) (backend as KernelBackend).disposeData(t.dataId);
    }
  };
}

function lastTwoSwapped(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function required(x: TensorInfo | undefined, name: string): TensorInfo {
  if (x === undefined) throw new Error(`matMul kernel called without input '${name}'`);
  return x;
}
