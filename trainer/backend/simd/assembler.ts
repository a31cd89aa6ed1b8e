/**
 * A minimal WebAssembly binary writer: enough to assemble the few SIMD
 * kernels of kernels.ts into a module that imports the wasm backend's memory
 * (so it works on tensors in place). Written here rather than taken from a
 * package: the kernels need a dozen instructions, the repository keeps no
 * binaries, and no toolchain (wabt, emscripten) installs offline.
 *
 * Instruction encodings follow the WebAssembly 2.0 spec (core 5.4, with the
 * fixed-width SIMD proposal's 0xFD-prefixed opcodes).
 */
export type ValType = 'i32' | 'f32' | 'f64' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

export interface FunctionDef {
  name: string;
  params: ValType[];
  /** Extra locals, numbered after the params. */
  locals: ValType[];
  /** Instructions, without the final `end`. */
  body: number[];
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const utf8 = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

/** A module importing `env.memory` and exporting every function by name. */
export function assemble(funcs: FunctionDef[]): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [VALTYPE[t]])), 0x00]);
  const imports = vec([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, 0x00]]);
  const functions = vec(funcs.map((_, i) => uleb(i)));
  const exports = vec(funcs.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]));
  const code = vec(
    funcs.map((f) => {
      const locals = vec(f.locals.map((t) => [0x01, VALTYPE[t]]));
      const body = [...locals, ...f.body, 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** memarg: alignment exponent 0 (any alignment is allowed; only a hint), offset. */
const mem = (offset = 0): number[] => [0x00, ...uleb(offset)];

/** The instructions the kernels use. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  block: () => [0x02, 0x40],
  loop: () => [0x03, 0x40],
  if: () => [0x04, 0x40],
  else: () => [0x05],
  end: () => [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  i32: {
    const: (v: number) => [0x41, ...sleb(v)],
    add: () => [0x6a],
    sub: () => [0x6b],
    mul: () => [0x6c],
    and: () => [0x71],
    shl: () => [0x74],
    shrU: () => [0x76],
    geU: () => [0x4f],
    ltU: () => [0x49],
    eqz: () => [0x45],
  },
  f32: {
    load: (offset = 0) => [0x2a, ...mem(offset)],
    store: (offset = 0) => [0x38, ...mem(offset)],
    const: (v: number) => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)],
    sqrt: () => [0x91],
    add: () => [0x92],
    sub: () => [0x93],
    mul: () => [0x94],
    div: () => [0x95],
  },
  f64: {
    load: (offset = 0) => [0x2b, ...mem(offset)],
    store: (offset = 0) => [0x39, ...mem(offset)],
    const: (v: number) => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)],
    add: () => [0xa0],
    mul: () => [0xa2],
  },
  v128: {
    load: (offset = 0) => [...simd(0x00), ...mem(offset)],
    store: (offset = 0) => [...simd(0x0b), ...mem(offset)],
    /** Loads one float32 into all four lanes. */
    load32Splat: (offset = 0) => [...simd(0x09), ...mem(offset)],
    /** Loads one float64 into both lanes. */
    load64Splat: (offset = 0) => [...simd(0x0a), ...mem(offset)],
  },
  f32x4: {
    splat: () => simd(0x13),
    sqrt: () => simd(0xe3),
    add: () => simd(0xe4),
    sub: () => simd(0xe5),
    mul: () => simd(0xe6),
    div: () => simd(0xe7),
  },
  f64x2: {
    splat: () => simd(0x14),
    add: () => simd(0xf0),
    mul: () => simd(0xf2),
  },
};

/**
 * `for (; counter < end; counter += step) body` on i32 locals (unsigned
 * compare), the one loop shape every kernel here uses.
 */
export function forLoop(counter: number, end: number, step: number[], body: number[]): number[] {
  return [
    ...op.block(), ...op.loop(),
    ...op.get(counter), ...op.get(end), ...op.i32.geU(), ...op.brIf(1),
    ...body,
    ...op.get(counter), ...step, ...op.i32.add(), ...op.set(counter),
    ...op.br(0), ...op.end(), ...op.end(),
  ];
}
