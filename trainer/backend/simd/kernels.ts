import { assemble, forLoop as loop, op, type FunctionDef } from './assembler.js';
import { gemmKernels } from './gemm.js';

/**
 * Hand-written SIMD kernels for the wasm backend, for work that no
 * TensorFlow.js op does in one pass (see the callers for why each exists).
 * Every pointer is a byte offset in the backend's heap; every float
 * operation is IEEE float32 (f32x4 lanes round exactly like f32 scalars), so
 * a kernel that does the same operations in the same order as a chain of
 * tfjs ops gives the same bits.
 */

const addr = (base: number, i: number): number[] => [...op.get(base), ...op.get(i), ...op.i32.add()];

/**
 * colsum(src, dst, rows, cols): dst[c] = sum over r of src[r * cols + c],
 * each column summed from row 0 down in float32, starting from 0, as the wasm
 * Sum kernel sums a row of its transposed input. Four columns per SIMD lane
 * group, then the leftover columns one by one.
 */
function colsum(): FunctionDef {
  const [src, dst, rows, cols] = [0, 1, 2, 3];
  const [c, end4, endAll, rowBytes, ptr, pend, total, acc, sacc] = [4, 5, 6, 7, 8, 9, 10, 11, 12];
  const column = (width: 'v' | 's'): number[] => [
    ...(width === 'v' ? [...op.f32.const(0), ...op.f32x4.splat(), ...op.set(acc)] : [...op.f32.const(0), ...op.set(sacc)]),
    ...addr(src, c), ...op.set(ptr),
    ...op.get(ptr), ...op.get(total), ...op.i32.add(), ...op.set(pend),
    ...loop(ptr, pend, op.get(rowBytes), width === 'v'
      ? [...op.get(acc), ...op.get(ptr), ...op.v128.load(), ...op.f32x4.add(), ...op.set(acc)]
      : [...op.get(sacc), ...op.get(ptr), ...op.f32.load(), ...op.f32.add(), ...op.set(sacc)]),
    ...addr(dst, c), ...op.get(width === 'v' ? acc : sacc), ...(width === 'v' ? op.v128.store() : op.f32.store()),
  ];
  return {
    name: 'colsum',
    params: ['i32', 'i32', 'i32', 'i32'],
    locals: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'v128', 'f32'],
    body: [
      ...op.get(cols), ...op.i32.const(2), ...op.i32.shl(), ...op.tee(rowBytes), ...op.set(endAll),
      ...op.get(cols), ...op.i32.const(-4), ...op.i32.and(), ...op.i32.const(2), ...op.i32.shl(), ...op.set(end4),
      ...op.get(rows), ...op.get(rowBytes), ...op.i32.mul(), ...op.set(total),
      ...op.i32.const(0), ...op.set(c),
      ...loop(c, end4, op.i32.const(16), column('v')),
      ...loop(c, endAll, op.i32.const(4), column('s')),
    ],
  };
}

/**
 * adam(p, g, m, v, out, n, beta1, beta2, 1 - beta1, 1 - beta2, eps, wd,
 *      -step_size, sqrt(bias_correction2), decay): torch's Adam update of n
 * floats, in the op order of trainer/models/adam.ts:
 *   g' = g + p * wd (when decay != 0)
 *   m = m * beta1 + g' * (1 - beta1)
 *   v = v * beta2 + (g' * g') * (1 - beta2)
 *   out = p + (m * -step_size) / (sqrt(v) / sqrt(bias_correction2) + eps)
 * m and v are updated in place; out receives the new parameter.
 */
function adam(): FunctionDef {
  const [p, g, m, v, out, n] = [0, 1, 2, 3, 4, 5];
  const [b1, b2, omb1, omb2, eps, wd, neg, bc2, decay] = [6, 7, 8, 9, 10, 11, 12, 13, 14];
  const [i, end4, endAll] = [15, 16, 17];
  // v128 locals: splatted constants, then the lane values of one step.
  const splat = 18;
  const [vp, vg, vm, vv] = [26, 27, 28, 29];
  // f32 locals for the leftover elements.
  const [sp, sg, sm, sv] = [30, 31, 32, 33];
  const constants = [b1, b2, omb1, omb2, eps, wd, neg, bc2];
  const k = (scalarLocal: number): number => splat + constants.indexOf(scalarLocal);

  const step = (w: 'v' | 's'): number[] => {
    const V = w === 'v';
    const [P, G, M, Vv] = V ? [vp, vg, vm, vv] : [sp, sg, sm, sv];
    const c = (x: number): number[] => op.get(V ? k(x) : x);
    const f = V ? op.f32x4 : op.f32;
    const load = V ? op.v128.load() : op.f32.load();
    const store = V ? op.v128.store() : op.f32.store();
    return [
      ...addr(p, i), ...load, ...op.set(P),
      ...addr(g, i), ...load, ...op.set(G),
      ...op.get(decay), ...op.if(),
      ...op.get(G), ...op.get(P), ...c(wd), ...f.mul(), ...f.add(), ...op.set(G),
      ...op.end(),
      // m
      ...addr(m, i),
      ...addr(m, i), ...load, ...c(b1), ...f.mul(), ...op.get(G), ...c(omb1), ...f.mul(), ...f.add(), ...op.tee(M),
      ...store,
      // v
      ...addr(v, i),
      ...addr(v, i), ...load, ...c(b2), ...f.mul(), ...op.get(G), ...op.get(G), ...f.mul(), ...c(omb2), ...f.mul(), ...f.add(), ...op.tee(Vv),
      ...store,
      // out
      ...addr(out, i),
      ...op.get(P),
      ...op.get(M), ...c(neg), ...f.mul(),
      ...op.get(Vv), ...f.sqrt(), ...c(bc2), ...f.div(), ...c(eps), ...f.add(),
      ...f.div(), ...f.add(),
      ...store,
    ];
  };
  return {
    name: 'adam',
    params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'i32'],
    locals: ['i32', 'i32', 'i32', ...Array<'v128'>(8).fill('v128'), 'v128', 'v128', 'v128', 'v128', 'f32', 'f32', 'f32', 'f32'],
    body: [
      ...constants.flatMap((x) => [...op.get(x), ...op.f32x4.splat(), ...op.set(k(x))]),
      ...op.get(n), ...op.i32.const(2), ...op.i32.shl(), ...op.set(endAll),
      ...op.get(n), ...op.i32.const(-4), ...op.i32.and(), ...op.i32.const(2), ...op.i32.shl(), ...op.set(end4),
      ...op.i32.const(0), ...op.set(i),
      ...loop(i, end4, op.i32.const(16), step('v')),
      ...loop(i, endAll, op.i32.const(4), step('s')),
    ],
  };
}

export interface SimdKernels {
  colsum(src: number, dst: number, rows: number, cols: number): void;
  adam(
    p: number, g: number, m: number, v: number, out: number, n: number,
    beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, eps: number, wd: number,
    negStep: number, biasCorrection2Sqrt: number, decay: number,
  ): void;
}

/** A WebAssembly.Memory (this project's TypeScript libs declare no WebAssembly types). */
export type WasmMemory = { readonly buffer: ArrayBuffer };

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory & { grow(pages: number): number };
}
export const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let compiled: object | undefined;

/** The module's bytes, for inspection and tests. */
export function kernelModuleBytes(): Uint8Array {
  return assemble([colsum(), adam(), ...gemmKernels()]);
}

/** The kernels, working on `memory` (the wasm backend's heap). */
export function instantiateKernels(memory: WasmMemory): SimdKernels {
  compiled ??= new wasmApi.Module(kernelModuleBytes());
  return new wasmApi.Instance(compiled, { env: { memory } }).exports as SimdKernels;
}
