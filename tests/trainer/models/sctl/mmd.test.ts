import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { mmdLoss, type MmdKernel } from '../../../../trainer/models/sctl/mmd.js';
import { assertCloseToScale, ErrorLog, loadFixture, type TensorEntry } from './fixtures.js';

interface MmdCase {
  name: string;
  zb: TensorEntry;
  zs: TensorEntry;
  kernels: { kernel: MmdKernel; value: number; terms_scale: number; grad_zb: number[]; grad_zs: number[] }[];
}

const fixture = loadFixture<{ cases: MmdCase[] }>('mmd');
const log = new ErrorLog();

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});
after(() => log.print('sctl MMD: worst errors against the reference (float64 torch vs float32 tfjs)'));

/** The value and both gradients, in float32 on the device. */
function evaluate(zbEntry: TensorEntry, zsEntry: TensorEntry, kernel: MmdKernel): { value: number; gradZb: Float32Array; gradZs: Float32Array } {
  const zb = tf.tensor2d(zbEntry.values, zbEntry.shape as [number, number]);
  const zs = tf.tensor2d(zsEntry.values, zsEntry.shape as [number, number]);
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => mmdLoss(a as tf.Tensor2D, b as tf.Tensor2D, kernel))([zb, zs]);
  const out = { value: value.dataSync()[0] as number, gradZb: grads[0]!.dataSync() as Float32Array, gradZs: grads[1]!.dataSync() as Float32Array };
  tf.dispose([zb, zs, value, ...grads]);
  return out;
}

describe('mmdLoss matches the reference, value and gradient', () => {
  for (const c of fixture.cases) {
    for (const k of c.kernels) {
      test(`${c.name}, ${JSON.stringify(k.kernel)}`, () => {
        const got = evaluate(c.zb, c.zs, k.kernel);
        // The estimate is A + B - 2C with A, B, C the mean kernel values (minus
        // 1); float32 rounds each, so the error scales with |A| + |B| + 2|C|,
        // not with the difference (0.03 from terms near 1 for the 40 x 25 case).
        // Thanks to expm1 that scale is itself ~1e-6 for sigma = 1000.
        const diff = Math.abs(got.value - k.value) / k.terms_scale;
        assert.ok(diff <= 1e-5, `value: expected ${k.value}, got ${got.value}: ${diff} of the terms' scale ${k.terms_scale}`);
        log.note(`value diff / terms' scale, ${k.kernel.kind}`, diff);
        log.note(`value rel diff, ${k.kernel.kind}`, Math.abs(got.value - k.value) / Math.abs(k.value));
        // The gradient of the multi kernel is the test that h is held constant.
        log.note(`grad diff / max|grad|, ${k.kernel.kind}`, assertCloseToScale(got.gradZb, k.grad_zb, 1e-4, 'grad zb'));
        log.note(`grad diff / max|grad|, ${k.kernel.kind}`, assertCloseToScale(got.gradZs, k.grad_zs, 1e-4, 'grad zs'));
      });
    }
  }

  test('the fixtures cover the public sigma = 1000 and the multi-bandwidth default', () => {
    const kernels = fixture.cases.flatMap((c) => c.kernels.map((k) => k.kernel));
    assert.ok(kernels.some((k) => k.kind === 'single' && k.sigma === 1000));
    assert.ok(kernels.some((k) => k.kind === 'multi' && k.bandwidths === 5 && k.mul === 2));
  });
});

test('a batch against itself has MMD 0, and identical codes do not divide 0 by 0', () => {
  const z = tf.tensor2d([
    [0, 1],
    [2, 3],
    [1, 1],
  ]);
  const same = tf.ones([4, 2]) as tf.Tensor2D;
  for (const kernel of [{ kind: 'single', sigma: 1 }, { kind: 'multi', bandwidths: 5, mul: 2 }] as MmdKernel[]) {
    const v = mmdLoss(z, z, kernel);
    assert.ok(Math.abs(v.dataSync()[0] as number) < 1e-7, `${kernel.kind}: ${v.dataSync()[0]}`);
    const w = mmdLoss(same, same, kernel);
    assert.equal(w.dataSync()[0], 0);
    tf.dispose([v, w]);
  }
  tf.dispose([z, same]);
});
