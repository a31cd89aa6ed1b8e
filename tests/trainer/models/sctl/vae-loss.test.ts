import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { klDivergence, reconstructionLoss } from '../../../../trainer/models/sctl/vae-loss.js';
import { assertRelClose, ErrorLog, loadFixture, type TensorEntry } from './fixtures.js';

interface VaeCase {
  name: string;
  x: TensorEntry;
  x_hat: TensorEntry;
  mu: TensorEntry;
  logvar: TensorEntry;
  recon: number;
  kl: number;
  kl_mean: number;
}

const fixture = loadFixture<{ cases: VaeCase[] }>('vae');
const log = new ErrorLog();

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});
after(() => log.print('sctl VAE losses: worst errors against the reference (float64 torch vs float32 tfjs)'));

for (const c of fixture.cases) {
  test(`MSE (mean over genes and rows) and KL (sum or mean over latent, mean over rows): ${c.name}`, () => {
    const t = (e: TensorEntry) => tf.tensor2d(e.values, e.shape as [number, number]);
    const [recon, kl, klMean] = tf.tidy(() => [
      reconstructionLoss(t(c.x), t(c.x_hat)).dataSync()[0],
      klDivergence(t(c.mu), t(c.logvar), 'sum').dataSync()[0],
      klDivergence(t(c.mu), t(c.logvar), 'mean').dataSync()[0],
    ]);
    log.note('recon rel diff', assertRelClose([recon as number], [c.recon], 1e-5, 'recon'));
    log.note('kl rel diff', assertRelClose([kl as number], [c.kl], 1e-5, 'kl'));
    log.note('kl (mean) rel diff', assertRelClose([klMean as number], [c.kl_mean], 1e-5, 'kl mean'));
    // The two reductions differ by the latent size exactly: a swapped pair would not pass.
    assert.ok(Math.abs(c.kl / c.kl_mean - c.mu.shape[1]!) < 1e-9 * c.mu.shape[1]!, 'fixture: sum = latent x mean');
  });
}
