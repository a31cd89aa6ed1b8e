import { forLoop as loop, op, type FunctionDef, type ValType } from './assembler.js';

/**
 * A float32 matrix product for the wasm backend, C = A B, in register tiles
 * of up to 5 rows by 8, 4 or 1 columns, on packed operands (matmul.ts packs
 * and blocks).
 *
 * Why not the wasm backend's own (XNNPACK's fully-connected operator): it
 * repacks all of B for every new B (a training step's weights are new after
 * every update) in an order that walks B's rows one tile column at a time,
 * and its 4 x 8 tile ran at ~20-24 GFLOPS here, where this 5 x 8 tile on
 * packed panels runs at ~28-35 (measured on this 2-core EPYC, 256 x 2,000 x
 * 1,024: 4 x 8 ~31, 5 x 8 ~34; 6 x 8 and 4 x 12, which need more than the
 * 15 xmm registers V8 allocates, and k unrolled by two, were all slower).
 * The only other CPU matmul TensorFlow.js has here is the pure-JS cpu
 * backend's, ~27x slower.
 *
 * Every output is acc = 0, then acc = acc + a_k * b_k for k in order, in
 * float32 (a multiply, then an add: wasm SIMD has no fused multiply-add), as
 * XNNPACK's tiles compute it; so the product is the wasm kernel's, bit for
 * bit. With `accumulate` a tile starts from C instead of 0, which lets the
 * caller split k into blocks without changing a single rounding (a float32
 * stored and loaded back is the same float32).
 *
 * Packed layouts, for a block of kLen k values:
 *   A panel of `mr` rows:   [kLen][mr]  (A[m0 + i, k] at (k mr + i) floats)
 *   B panel of `w` columns: [kLen][w]   (B[k, n0 + j] at (k w + j) floats)
 *
 * gemm_<mr>x<w>(ap, bp, c, mTiles, nTiles, ldc, kLen, accumulate, bStride):
 * for each of nTiles B panels (bStride bytes apart) and each of mTiles A
 * panels (consecutive, kLen mr floats each), the mr x w tile of C at
 * c + (tile row) mr ldc + (tile column) 4 w bytes.
 *
 * pack_a_<mr>(a, sAm, sAk, dst, mTiles, kLen): A panels from A[m, k] at a + m sAm + k sAk.
 * pack_b: see packBKernel.
 */
export const GEMM_MR = 5;
export const GEMM_WIDTHS = [8, 4, 1] as const;

export const gemmName = (mr: number, width: number): string => `gemm_${mr}x${width}`;
export const packAName = (mr: number): string => `pack_a_${mr}`;

export function gemmKernel(mr: number, width: 8 | 4 | 1): FunctionDef {
  const [ap, bp, c, mTiles, nTiles, ldc, kLen, accumulate, bStride] = [...Array(9).keys()];
  let next = 9;
  const local = (): number => next++;
  const [mt, nt, k, pa, pb, pc, aStride] = Array.from({ length: 7 }, local);
  const scalar = width === 1;
  const lanes = scalar ? 1 : width / 4;
  const acc = Array.from({ length: mr }, () => Array.from({ length: lanes }, local));
  const vb = Array.from({ length: lanes }, local);
  const va = local();
  const vt: ValType = scalar ? 'f32' : 'v128';
  const locals: ValType[] = [...Array<ValType>(7).fill('i32'), ...Array<ValType>(mr * lanes + lanes + 1).fill(vt)];

  const load = (offset: number): number[] => (scalar ? op.f32.load(offset) : op.v128.load(offset));
  const store = (offset: number): number[] => (scalar ? op.f32.store(offset) : op.v128.store(offset));
  const aLoad = (i: number): number[] => (scalar ? op.f32.load(4 * i) : op.v128.load32Splat(4 * i));
  const mul = scalar ? op.f32.mul() : op.f32x4.mul();
  const add = scalar ? op.f32.add() : op.f32x4.add();
  const zero = scalar ? op.f32.const(0) : [...op.f32.const(0), ...op.f32x4.splat()];
  // C row i of the tile: pc + i ldc
  const row = (i: number): number[] => [...op.get(pc), ...(i === 0 ? [] : [...op.get(ldc), ...op.i32.const(i), ...op.i32.mul(), ...op.i32.add()])];

  const tile: number[] = [
    // pa = ap + mt aStride; pb = bp + nt bStride; pc = c + mt mr ldc + nt 4 w
    ...op.get(ap), ...op.get(mt), ...op.get(aStride), ...op.i32.mul(), ...op.i32.add(), ...op.set(pa),
    ...op.get(bp), ...op.get(nt), ...op.get(bStride), ...op.i32.mul(), ...op.i32.add(), ...op.set(pb),
    ...op.get(c), ...op.get(mt), ...op.i32.const(mr), ...op.i32.mul(), ...op.get(ldc), ...op.i32.mul(), ...op.i32.add(),
    ...op.get(nt), ...op.i32.const(4 * width), ...op.i32.mul(), ...op.i32.add(), ...op.set(pc),
    ...op.get(accumulate), ...op.if(),
    ...acc.flatMap((r, i) => r.flatMap((x, j) => [...row(i), ...load(16 * j), ...op.set(x)])),
    ...op.else(),
    ...acc.flatMap((r) => r.flatMap((x) => [...zero, ...op.set(x)])),
    ...op.end(),
    ...op.get(kLen), ...op.set(k),
    ...op.loop(),
    ...vb.flatMap((v, j) => [...op.get(pb), ...load(16 * j), ...op.set(v)]),
    ...acc.flatMap((r, i) => [
      ...op.get(pa), ...aLoad(i), ...op.set(va),
      ...r.flatMap((x, j) => [...op.get(x), ...op.get(va), ...op.get(vb[j]!), ...mul, ...add, ...op.set(x)]),
    ]),
    ...op.get(pa), ...op.i32.const(4 * mr), ...op.i32.add(), ...op.set(pa),
    ...op.get(pb), ...op.i32.const(4 * width), ...op.i32.add(), ...op.set(pb),
    ...op.get(k), ...op.i32.const(1), ...op.i32.sub(), ...op.tee(k),
    ...op.brIf(0),
    ...op.end(),
    ...acc.flatMap((r, i) => r.flatMap((x, j) => [...row(i), ...op.get(x), ...store(16 * j)])),
  ];
  return {
    name: gemmName(mr, width),
    params: Array<ValType>(9).fill('i32'),
    locals,
    body: [
      ...op.get(kLen), ...op.i32.const(4 * mr), ...op.i32.mul(), ...op.set(aStride),
      ...op.i32.const(0), ...op.set(nt),
      ...loop(nt, nTiles, op.i32.const(1), [...op.i32.const(0), ...op.set(mt), ...loop(mt, mTiles, op.i32.const(1), tile)]),
    ],
  };
}

/** pack_a_<mr>(a, sAm, sAk, dst, mTiles, kLen). */
export function packAKernel(mr: number): FunctionDef {
  const [a, sAm, sAk, dst, mTiles, kLen] = [...Array(6).keys()];
  const [mt, k, src, out, rowBase] = [6, 7, 8, 9, 10];
  const body: number[] = [
    ...op.get(dst), ...op.set(out),
    ...op.i32.const(0), ...op.set(mt),
    ...loop(mt, mTiles, op.i32.const(1), [
      // rowBase = a + mt mr sAm
      ...op.get(a), ...op.get(mt), ...op.i32.const(mr), ...op.i32.mul(), ...op.get(sAm), ...op.i32.mul(), ...op.i32.add(), ...op.set(rowBase),
      ...op.i32.const(0), ...op.set(k),
      ...loop(k, kLen, op.i32.const(1), [
        ...op.get(rowBase), ...op.get(k), ...op.get(sAk), ...op.i32.mul(), ...op.i32.add(), ...op.set(src),
        ...Array.from({ length: mr }, (_, i) => [
          ...op.get(out),
          ...op.get(src), ...(i === 0 ? [] : [...op.get(sAm), ...op.i32.const(i), ...op.i32.mul(), ...op.i32.add()]), ...op.f32.load(0),
          ...op.f32.store(4 * i),
        ]).flat(),
        ...op.get(out), ...op.i32.const(4 * mr), ...op.i32.add(), ...op.set(out),
      ]),
    ]),
  ];
  return { name: packAName(mr), params: Array<ValType>(6).fill('i32'), locals: Array<ValType>(5).fill('i32'), body };
}

/**
 * pack_b(b, sBk, dst, n, kLen, stride8): the panels of a block of B, read one
 * B row at a time (in memory order: reading a panel at a time strides by a
 * row, 4 KiB for N = 1,024, which maps every read to the same few cache sets).
 * Panels of 8 columns are `stride8` bytes apart (the caller pads them past a
 * power of two, for the same reason), then one panel of 4 and single columns,
 * each kLen w floats, follow the last panel of 8.
 */
export function packBKernel(): FunctionDef {
  const [b, sBk, dst, n, kLen, stride8] = [...Array(6).keys()];
  const [k, src, col, n8, n4, out, tail] = [6, 7, 8, 9, 10, 11, 12];
  // dst of column block `col` (width w) at row k: panels of 8 at col / 8 stride8; after them, tail + ...
  const body: number[] = [
    ...op.get(n), ...op.i32.const(-8), ...op.i32.and(), ...op.set(n8),
    ...op.get(n), ...op.i32.const(-4), ...op.i32.and(), ...op.set(n4),
    // tail = dst + (n8 / 8) stride8: where the narrower panels start
    ...op.get(dst), ...op.get(n8), ...op.i32.const(3), ...op.i32.shrU(), ...op.get(stride8), ...op.i32.mul(), ...op.i32.add(), ...op.set(tail),
    ...op.i32.const(0), ...op.set(k),
    ...loop(k, kLen, op.i32.const(1), [
      ...op.get(b), ...op.get(k), ...op.get(sBk), ...op.i32.mul(), ...op.i32.add(), ...op.set(src),
      // 8-wide panels: dst + p stride8 + 32 k
      ...op.get(dst), ...op.get(k), ...op.i32.const(32), ...op.i32.mul(), ...op.i32.add(), ...op.set(out),
      ...op.i32.const(0), ...op.set(col),
      ...loop(col, n8, op.i32.const(8), [
        ...op.get(out), ...op.get(src), ...op.v128.load(0), ...op.v128.store(0),
        ...op.get(out), ...op.get(src), ...op.v128.load(16), ...op.v128.store(16),
        ...op.get(src), ...op.i32.const(32), ...op.i32.add(), ...op.set(src),
        ...op.get(out), ...op.get(stride8), ...op.i32.add(), ...op.set(out),
      ]),
      // the 4-wide panel: tail + 16 k
      ...op.get(tail), ...op.get(k), ...op.i32.const(16), ...op.i32.mul(), ...op.i32.add(), ...op.set(out),
      ...loop(col, n4, op.i32.const(4), [
        ...op.get(out), ...op.get(src), ...op.v128.load(0), ...op.v128.store(0),
        ...op.get(src), ...op.i32.const(16), ...op.i32.add(), ...op.set(src),
      ]),
      // single columns: tail + (n4 - n8) 4 kLen + (col - n4) 4 kLen + 4 k
      ...op.get(tail), ...op.get(n4), ...op.get(n8), ...op.i32.sub(), ...op.get(kLen), ...op.i32.mul(), ...op.i32.const(2), ...op.i32.shl(), ...op.i32.add(),
      ...op.get(k), ...op.i32.const(2), ...op.i32.shl(), ...op.i32.add(), ...op.set(out),
      ...loop(col, n, op.i32.const(1), [
        ...op.get(out), ...op.get(src), ...op.f32.load(0), ...op.f32.store(0),
        ...op.get(src), ...op.i32.const(4), ...op.i32.add(), ...op.set(src),
        ...op.get(out), ...op.get(kLen), ...op.i32.const(2), ...op.i32.shl(), ...op.i32.add(), ...op.set(out),
      ]),
    ]),
  ];
  return { name: 'pack_b', params: Array<ValType>(6).fill('i32'), locals: Array<ValType>(7).fill('i32'), body };
}

/** Every kernel the product needs. */
export function gemmKernels(): FunctionDef[] {
  const tiles = Array.from({ length: GEMM_MR }, (_, i) => GEMM_WIDTHS.map((w) => gemmKernel(i + 1, w))).flat();
  const packs = Array.from({ length: GEMM_MR }, (_, i) => packAKernel(i + 1));
  return [...tiles, ...packs, packBKernel()];
}

export type GemmFn = (ap: number, bp: number, c: number, mTiles: number, nTiles: number, ldc: number, kLen: number, accumulate: number, bStride: number) => void;
export type PackAFn = (a: number, sAm: number, sAk: number, dst: number, mTiles: number, kLen: number) => void;
export type PackBFn = (b: number, sBk: number, dst: number, n: number, kLen: number, stride8: number) => void;
