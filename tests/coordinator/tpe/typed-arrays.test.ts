import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { float64Array, int32Array, release, scratchMark, uint8Array } from '../../../coordinator/samplers/tpe/typed-arrays.js';

describe('typed arrays from shared buffers', () => {
  test('every array starts zeroed, also when its memory was handed out and released before', () => {
    for (let round = 0; round < 3; round++) {
      const mark = scratchMark();
      const arrays = [float64Array(1000), int32Array(333), uint8Array(17), float64Array(5000), float64Array(0)];
      for (const a of arrays) {
        assert.ok(a.every((v) => v === 0), `round ${round}: a fresh array of ${a.length} is zeroed`);
        a.fill(7);
      }
      release(mark);
    }
  });

  test('arrays handed out together never share memory', () => {
    const mark = scratchMark();
    const a = float64Array(100);
    const b = int32Array(100);
    const c = uint8Array(100);
    a.fill(1.5);
    b.fill(-1);
    c.fill(255);
    assert.ok(a.every((v) => v === 1.5) && b.every((v) => v === -1) && c.every((v) => v === 255));
    release(mark);
  });

  test('outside a mark, arrays are not taken back: a later mark and release leave them alone', () => {
    const kept = float64Array(100).fill(3);
    const mark = scratchMark();
    float64Array(40000).fill(9);
    int32Array(100).fill(9);
    release(mark);
    assert.ok(kept.every((v) => v === 3));
  });

  test('nested marks: the inner release takes back only what came after it', () => {
    const outer = scratchMark();
    const a = float64Array(50).fill(2);
    const inner = scratchMark();
    float64Array(50).fill(8);
    release(inner);
    const b = float64Array(50);
    assert.ok(b.every((v) => v === 0), 'reused memory is zeroed');
    assert.ok(a.every((v) => v === 2), 'the outer array is untouched');
    release(outer);
  });
});
