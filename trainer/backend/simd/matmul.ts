import { GEMM_MR, gemmName, packAName, type GemmFn, type PackAFn, type PackBFn } from './gemm.js';
import type { SimdKernels } from './kernels.js';

/** Operands of C[M, N] = A[M, K] B[K, N], as byte offsets and strides in the heap. */
export interface GemmOperands {
  a: number;
  /** Bytes between A[m, k] and A[m + 1, k]: 4 K for A stored [M, K], 4 for A stored transposed ([K, M]). */
  sAm: number;
  /** Bytes between A[m, k] and A[m, k + 1]: 4, or 4 M for A stored transposed. */
  sAk: number;
  /** B stored [K, N], row-major. */
  b: number;
  /** C stored [M, N], row-major (written). */
  c: number;
  m: number;
  n: number;
  k: number;
}

/** Scratch memory on the heap: a byte offset, and how to give it back. */
export type Allocate = (floats: number) => { offset: number; free(): void };

/**
 * Blocking (GotoBLAS's): k in blocks of KC; for each, B's KC rows are packed
 * into panels once (KC x 8 floats a panel: stays in L1 while a row block's
 * tiles use it), then A in blocks of MC rows (MC x KC floats: stays in L2).
 * Each k block after the first adds onto C, which keeps every output's sums
 * in order (see gemm.ts).
 */
export interface Blocking {
  kc: number;
  /** A multiple of GEMM_MR: only the last rows of a block are an edge. */
  mc: number;
}
export const BLOCKING: Blocking = { kc: 512, mc: 120 };

export function gemm(kernels: SimdKernels, allocate: Allocate, o: GemmOperands, blocking: Blocking = BLOCKING): void {
  const { kc: KC, mc: MC } = blocking;
  const { m, n, k } = o;
  if (m === 0 || n === 0 || k === 0) throw new RangeError('gemm: empty product');
  const ldc = 4 * n;
  const sBk = 4 * n;
  const n8 = n - (n % 8);
  const n4 = n - (n % 4);
  const fn = <T>(name: string): T => {
    const f = (kernels as unknown as Record<string, T | undefined>)[name];
    if (f === undefined) throw new Error(`no ${name} kernel`);
    return f;
  };
  const packB = fn<PackBFn>('pack_b');
  const kMax = Math.min(KC, k);
  // Panels of 8 a cache line more than a power of two apart (see pack_b).
  const stride8 = 32 * kMax + 64;
  const bBuf = allocate((stride8 / 4) * (n8 / 8) + kMax * (n - n8));
  const aBuf = allocate(Math.min(MC, m) * kMax);
  try {
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kLen = Math.min(KC, k - k0);
      const accumulate = k0 > 0 ? 1 : 0;
      packB(o.b + k0 * sBk, sBk, bBuf.offset, n, kLen, stride8);
      const panel4 = bBuf.offset + stride8 * (n8 / 8);
      const panel1 = panel4 + 4 * (n4 - n8) * kLen;
      for (let m0 = 0; m0 < m; m0 += MC) {
        const mLen = Math.min(MC, m - m0);
        const edge = mLen % GEMM_MR;
        const groups: [number, number, number][] = []; // [mr, first row in the block, tiles]
        if (mLen >= GEMM_MR) groups.push([GEMM_MR, 0, (mLen - edge) / GEMM_MR]);
        if (edge > 0) groups.push([edge, mLen - edge, 1]);
        for (const [mr, r0, tiles] of groups) {
          const ap = aBuf.offset + 4 * r0 * kLen;
          fn<PackAFn>(packAName(mr))(o.a + (m0 + r0) * o.sAm + k0 * o.sAk, o.sAm, o.sAk, ap, tiles, kLen);
          const c = o.c + (m0 + r0) * ldc;
          if (n8 > 0) fn<GemmFn>(gemmName(mr, 8))(ap, bBuf.offset, c, tiles, n8 / 8, ldc, kLen, accumulate, stride8);
          if (n4 > n8) fn<GemmFn>(gemmName(mr, 4))(ap, panel4, c + 4 * n8, tiles, 1, ldc, kLen, accumulate, 16 * kLen);
          if (n > n4) fn<GemmFn>(gemmName(mr, 1))(ap, panel1, c + 4 * n4, tiles, n - n4, ldc, kLen, accumulate, 4 * kLen);
        }
      }
    }
  } finally {
    aBuf.free();
    bBuf.free();
  }
}
