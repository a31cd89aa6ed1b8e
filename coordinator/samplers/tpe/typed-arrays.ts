/**
 * Zeroed typed arrays carved out of shared buffers, for the sampler's many
 * short-lived arrays.
 *
 * Why: Node gives every `new Float64Array(n)` of more than 64 bytes its own
 * ArrayBuffer outside the JS heap, which costs about 2 us here whatever n
 * (allocation, zeroing fresh pages, the garbage collector's bookkeeping of
 * external memory), and a suggestion on a thousand-trial history needs over a
 * hundred arrays. A view into a region of a shared buffer costs about 0.1 us.
 *
 * Between `scratchMark()` and `release(mark)` (one suggestion), arrays come
 * from a pool of buffers that `release` takes back whole: the next
 * suggestion reuses the memory, still in cache, instead of asking for new
 * pages, and zeroes each region as it hands it out again. No array from
 * between the two may be used after `release`. Outside such a span, regions
 * come from a buffer that is never reused: it is freed by the garbage
 * collector once no array into it is left. Either way an array starts zeroed
 * and belongs to its caller alone, as with `new`.
 */

const CHUNK_BYTES = 1 << 18;
/** Larger arrays get a buffer of their own: a chunk is not worth filling with one. */
const LARGEST_CARVED = CHUNK_BYTES >> 3;

/** The pool: chunks, how far each has ever been handed out, the chunk in use and its first free byte. */
const pool: ArrayBuffer[] = [];
const handedOut: number[] = [];
let current = -1;
let used = CHUNK_BYTES;
/** Marks not yet released. */
let open = 0;

/** Outside a mark: one chunk at a time, dropped when full. */
let loose = new ArrayBuffer(0);
let looseUsed = 0;

/** The region `carve` found last: its buffer, byte offset, and whether it was handed out before (to be zeroed). */
let carvedBuffer = loose;
let carvedOffset = 0;
let carvedDirty = false;

/** Finds a region of `bytes` (8-byte aligned) for the next array. */
function carve(bytes: number): void {
  const size = (bytes + 7) & ~7;
  if (open === 0) {
    if (looseUsed + size > loose.byteLength) {
      loose = new ArrayBuffer(CHUNK_BYTES);
      looseUsed = 0;
    }
    carvedBuffer = loose;
    carvedOffset = looseUsed;
    carvedDirty = false;
    looseUsed += size;
    return;
  }
  if (used + size > CHUNK_BYTES) {
    current++;
    if (current === pool.length) {
      pool.push(new ArrayBuffer(CHUNK_BYTES));
      handedOut.push(0);
    }
    used = 0;
  }
  carvedBuffer = pool[current]!;
  carvedOffset = used;
  carvedDirty = used < handedOut[current]!;
  used += size;
  handedOut[current] = Math.max(handedOut[current]!, used);
}

export function float64Array(length: number): Float64Array {
  if (length * 8 > LARGEST_CARVED) return new Float64Array(length);
  carve(length * 8);
  const array = new Float64Array(carvedBuffer, carvedOffset, length);
  return carvedDirty ? array.fill(0) : array;
}

export function int32Array(length: number): Int32Array {
  if (length * 4 > LARGEST_CARVED) return new Int32Array(length);
  carve(length * 4);
  const array = new Int32Array(carvedBuffer, carvedOffset, length);
  return carvedDirty ? array.fill(0) : array;
}

export function uint8Array(length: number): Uint8Array {
  if (length > LARGEST_CARVED) return new Uint8Array(length);
  carve(length);
  const array = new Uint8Array(carvedBuffer, carvedOffset, length);
  return carvedDirty ? array.fill(0) : array;
}

export interface ScratchMark {
  readonly chunk: number;
  readonly offset: number;
}

/** From now until `release(mark)`, arrays come from the pool. */
export function scratchMark(): ScratchMark {
  open++;
  return { chunk: current, offset: used };
}

/** Takes back every array handed out since `mark`: none of them may be used again. */
export function release(mark: ScratchMark): void {
  open--;
  current = mark.chunk;
  used = mark.offset;
}
