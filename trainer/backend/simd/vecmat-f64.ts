import { assemble, forLoop as loop, op, type FunctionDef } from './assembler.js';
import { wasmApi, type WasmMemory } from './kernels.js';

/**
 * out = x^T M in float64, for the host-side solves that run outside
 * TensorFlow.js (the OT plan of trainer/models/sctl/ot.ts): plain JavaScript
 * loops there cost ~4 ns a multiply-add, these ~0.5.
 *
 * out[j] = sum over i of M[i, j] x[i], each column summed from i = 0 up,
 * starting from 0: the order of a plain loop over M's rows, so the result is
 * that loop's, bit for bit. The SIMD lanes run across columns (2 float64 a
 * lane group, 8 columns a pass kept in registers), never across the sum.
 *
 * Unlike kernels.ts these do not touch the wasm backend's heap: they have a
 * memory of their own, so they work with every TensorFlow.js backend.
 */
function vecmat(): FunctionDef {
  const [m, x, out, rows, cols] = [0, 1, 2, 3, 4];
  const [j, rowBytes, end8, end2, endAll, pm, px, pxEnd] = [5, 6, 7, 8, 9, 10, 11, 12];
  const [xi, a0, a1, a2, a3] = [13, 14, 15, 16, 17];
  const [sx, sa] = [18, 19];
  // One pass over the rows for the columns at byte offset j, with `accs` accumulators of 2 lanes (or one scalar).
  const pass = (accs: number[], scalar: boolean): number[] => [
    ...accs.flatMap((a) => (scalar ? [...op.f64.const(0), ...op.set(a)] : [...op.f64.const(0), ...op.f64x2.splat(), ...op.set(a)])),
    ...op.get(m), ...op.get(j), ...op.i32.add(), ...op.set(pm),
    ...op.get(x), ...op.set(px),
    ...loop(px, pxEnd, op.i32.const(8), [
      ...op.get(px), ...(scalar ? op.f64.load() : op.v128.load64Splat()), ...op.set(scalar ? sx : xi),
      ...accs.flatMap((a, k) => [
        ...op.get(a),
        ...op.get(pm), ...(scalar ? op.f64.load(8 * k) : op.v128.load(16 * k)),
        ...op.get(scalar ? sx : xi), ...(scalar ? op.f64.mul() : op.f64x2.mul()),
        ...(scalar ? op.f64.add() : op.f64x2.add()), ...op.set(a),
      ]),
      ...op.get(pm), ...op.get(rowBytes), ...op.i32.add(), ...op.set(pm),
    ]),
    ...accs.flatMap((a, k) => [...op.get(out), ...op.get(j), ...op.i32.add(), ...op.get(a), ...(scalar ? op.f64.store(8 * k) : op.v128.store(16 * k))]),
  ];
  return {
    name: 'vecmat',
    params: ['i32', 'i32', 'i32', 'i32', 'i32'],
    locals: [...Array<'i32'>(8).fill('i32'), ...Array<'v128'>(5).fill('v128'), 'f64', 'f64'],
    body: [
      ...op.get(cols), ...op.i32.const(3), ...op.i32.shl(), ...op.tee(rowBytes), ...op.set(endAll),
      ...op.get(cols), ...op.i32.const(-8), ...op.i32.and(), ...op.i32.const(3), ...op.i32.shl(), ...op.set(end8),
      ...op.get(cols), ...op.i32.const(-2), ...op.i32.and(), ...op.i32.const(3), ...op.i32.shl(), ...op.set(end2),
      ...op.get(x), ...op.get(rows), ...op.i32.const(3), ...op.i32.shl(), ...op.i32.add(), ...op.set(pxEnd),
      ...op.i32.const(0), ...op.set(j),
      ...loop(j, end8, op.i32.const(64), pass([a0, a1, a2, a3], false)),
      ...loop(j, end2, op.i32.const(16), pass([a0], false)),
      ...loop(j, endAll, op.i32.const(8), pass([sa], true)),
    ],
  };
}

export interface F64Kernels {
  /**
   * Zeroed float64 arrays of the given lengths, one after another in the
   * kernels' memory; valid until the next call (which may move them).
   */
  arrays(lengths: readonly number[]): Float64Array[];
  /** out = x^T m for m [rows, cols] row-major, x [rows], out [cols]: arrays from `arrays`. */
  vecmat(m: Float64Array, x: Float64Array, out: Float64Array, rows: number, cols: number): void;
}

const PAGE = 65536;
let shared: F64Kernels | undefined;

/** The kernels, one instance for the process (they are synchronous, so calls never interleave). */
export function f64Kernels(): F64Kernels {
  shared ??= instantiate();
  return shared;
}

function instantiate(): F64Kernels {
  const memory = new wasmApi.Memory({ initial: 1 });
  const exports = new wasmApi.Instance(new wasmApi.Module(assemble([vecmat()])), { env: { memory } }).exports as {
    vecmat(m: number, x: number, out: number, rows: number, cols: number): void;
  };
  const inMemory = (a: Float64Array, n: number, what: string): number => {
    if (a.buffer !== (memory as WasmMemory).buffer || a.length < n) throw new RangeError(`vecmat: ${what} is not an array from arrays() of at least ${n} values`);
    return a.byteOffset;
  };
  return {
    arrays(lengths) {
      const bytes = 8 * lengths.reduce((s, n) => s + n, 0);
      const missing = bytes - memory.buffer.byteLength;
      if (missing > 0) memory.grow(Math.ceil(missing / PAGE));
      new Uint8Array(memory.buffer, 0, bytes).fill(0);
      let offset = 0;
      return lengths.map((n) => {
        const a = new Float64Array(memory.buffer, offset, n);
        offset += 8 * n;
        return a;
      });
    },
    vecmat(m, x, out, rows, cols) {
      exports.vecmat(inMemory(m, rows * cols, 'm'), inMemory(x, rows, 'x'), inMemory(out, cols, 'out'), rows, cols);
    },
  };
}
