import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { SctlDecoder } from '../../../../core/model-specs.js';
import { Rng } from '../../../../core/rng.js';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { Adam } from '../../../../trainer/models/adam.js';
import { BatchNorm1d, Linear, trainingContext, type Sequential } from '../../../../trainer/models/layers.js';
import type { SctlObjective } from '../../../../trainer/models/sctl/config.js';
import { SCTL_LOSS_TERMS, SctlModel, type SctlBatch } from '../../../../trainer/models/sctl/model.js';
import { trainStep } from '../../../../trainer/models/step.js';
import { assertCloseToScale, assertRelClose, ErrorLog, loadFixture, maxAbs, type TensorEntry } from './fixtures.js';

/**
 * One full SCTL training step from fixed weights, against the same step in
 * PyTorch (bench/reference/sctl_reference.py, float32 like tfjs): every loss
 * term, every gradient, every parameter and BatchNorm statistic after one
 * Adam step. Dropout is 0 in both (masks cannot be shared) and the
 * reparameterisation noise is an input of the step, as in training.
 */
interface StepCase {
  name: string;
  architecture: { encoder_hidden: number[]; latent: number; decoder: SctlDecoder; depth: number; genes: number; dropout: number };
  objective: {
    l1: number;
    l2: number;
    l3: number;
    recon_weight: number;
    kl_weight: number;
    kl_reduction: 'mean' | 'sum';
    predictor_input: 'z' | 'mu';
    mmd: [string, number, number?];
    ot: [number, number, number, number];
  };
  adam: { lr: number; weight_decay: number };
  inputs: { x_bulk: TensorEntry; x_cells: TensorEntry; y_bulk: TensorEntry; noise: TensorEntry };
  weights: Record<string, TensorEntry>;
  terms: Record<string, number>;
  grads: Record<string, TensorEntry>;
  after: Record<string, TensorEntry>;
  zero_gradient_parameters: string[];
  float32_vs_float64: Record<string, number>;
}

const fixture = loadFixture<{ dtype: string; cases: StepCase[] }>('step');
const log = new ErrorLog();
const place = { epoch: 1, batch: 1, batches: 1 };
/** The brief: loss terms and updated weights within 1e-4 relative. */
const REL_TOL = 1e-4;

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});
after(() => log.print('sctl training step: worst errors against torch (both float32)'));

function objectiveOf(c: StepCase): SctlObjective {
  const o = c.objective;
  const [kind, a, b] = o.mmd;
  return {
    l1: o.l1,
    l2: o.l2,
    l3: o.l3,
    reconWeight: o.recon_weight,
    klWeight: o.kl_weight,
    klReduction: o.kl_reduction,
    predictorInput: o.predictor_input,
    mmd: kind === 'single' ? { kind: 'single', sigma: a } : { kind: 'multi', bandwidths: a, mul: b as number },
    ot: { eps: o.ot[0], tau: o.ot[1], outer: o.ot[2], inner: o.ot[3] },
  };
}

/** The case's model with the reference's weights loaded by name. */
function modelOf(c: StepCase): SctlModel {
  const a = c.architecture;
  const model = new SctlModel(
    { genes: a.genes, encoderHidden: a.encoder_hidden, latent: a.latent, decoder: a.decoder, depth: a.depth, dropout: a.dropout },
    objectiveOf(c),
    new Rng(0),
  );
  model.loadStateDict(c.weights);
  return model;
}

function batchOf(c: StepCase): SctlBatch {
  const t2 = (e: TensorEntry) => tf.tensor2d(e.values, e.shape as [number, number]);
  return { xBulk: t2(c.inputs.x_bulk), xCells: t2(c.inputs.x_cells), yBulk: tf.tensor1d(c.inputs.y_bulk.values), noise: t2(c.inputs.noise) };
}

function disposeBatch(b: SctlBatch): void {
  tf.dispose([b.xBulk, b.xCells, b.yBulk, b.noise]);
}

/**
 * The biases of Linear layers that a BatchNorm follows, from the model's own
 * structure: BatchNorm subtracts the batch mean, so their true gradient is 0.
 */
function preBatchNormBiases(model: SctlModel): string[] {
  const fromSequential = (prefix: string, seq: Sequential) =>
    seq.layers.flatMap((l, i) => (l instanceof Linear && seq.layers[i + 1] instanceof BatchNorm1d ? [`${prefix}.${i}.bias`] : []));
  return [...fromSequential('encoder', model.vae.encoder), ...fromSequential('decoder', model.vae.decoder), ...fromSequential('predictor', model.predictor), 'decoder_out.bias'];
}

for (const c of fixture.cases) {
  describe(`one training step: ${c.name}`, () => {
    test('loads the reference weights by name and reads them back unchanged', () => {
      const model = modelOf(c);
      const state = model.stateDict();
      assert.deepEqual(Object.keys(state).sort(), Object.keys(c.weights).sort());
      for (const [name, entry] of Object.entries(c.weights)) {
        assert.deepEqual(state[name]!.shape, entry.shape, name);
        assert.deepEqual(Array.from(state[name]!.values), Array.from(Float32Array.from(entry.values)), name);
      }
      model.dispose();
    });

    test('every loss term before the step within 1e-4 relative', () => {
      const model = modelOf(c);
      const batch = batchOf(c);
      const terms = tf.tidy(() => {
        const t = model.losses(batch, trainingContext(new Rng(1)));
        return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dataSync()[0] as number]));
      });
      assert.deepEqual(Object.keys(terms), [...SCTL_LOSS_TERMS]);
      assert.deepEqual(Object.keys(terms).sort(), Object.keys(c.terms).sort());
      for (const name of SCTL_LOSS_TERMS) log.note(`term ${name} rel diff`, assertRelClose([terms[name] as number], [c.terms[name] as number], REL_TOL, name));
      disposeBatch(batch);
      model.dispose();
    });

    test('every gradient within 1e-4 of its tensor’s largest; biases before a BatchNorm ~0 on both sides', () => {
      const model = modelOf(c);
      const batch = batchOf(c);
      const named = model.tensors().filter((t) => t.variable.trainable);
      const { value, grads } = tf.variableGrads(() => model.losses(batch, trainingContext(new Rng(1))).total, named.map((t) => t.variable));
      const zero = new Set(preBatchNormBiases(model));
      assert.deepEqual([...zero].sort(), [...c.zero_gradient_parameters].sort(), 'the exempt tensors are exactly these');
      assert.deepEqual(named.map((t) => t.name).sort(), Object.keys(c.grads).sort());
      for (const t of named) {
        const g = tf.tidy(() => (t.transposed ? tf.transpose(grads[t.variable.name]!) : grads[t.variable.name]!.clone()));
        const got = g.dataSync();
        g.dispose();
        const expected = c.grads[t.name]!.values;
        if (zero.has(t.name)) {
          // float32 noise only: ~1e-7 here, up to 8e-7 in torch.
          assert.ok(maxAbs(got) < 1e-5 && maxAbs(expected) < 1e-5, `${t.name}: ${maxAbs(got)} and ${maxAbs(expected)} should be ~0`);
          log.note('zero-gradient biases: max |grad| here', maxAbs(got));
        } else {
          log.note('grad diff / max|grad| of its tensor', assertCloseToScale(got, expected, REL_TOL, `grad ${t.name}`));
        }
      }
      tf.dispose([value, ...Object.values(grads)]);
      disposeBatch(batch);
      model.dispose();
    });

    test('after one Adam step (lr 2e-4, weight decay 5e-4): every parameter within 1e-4 relative, BatchNorm statistics too', () => {
      const model = modelOf(c);
      const batch = batchOf(c);
      const optimizer = new Adam(model.params(), { lr: c.adam.lr, weightDecay: c.adam.weight_decay });
      const start = tf.memory().numTensors;
      const terms = trainStep(model.params(), optimizer, () => model.losses(batch, trainingContext(new Rng(1))), place);
      assert.equal(tf.memory().numTensors, start, 'the step frees what it creates');
      for (const name of SCTL_LOSS_TERMS) assertRelClose([terms[name] as number], [c.terms[name] as number], REL_TOL, name);

      const state = model.stateDict();
      const zero = new Set(c.zero_gradient_parameters);
      const trainable = new Set(Object.keys(c.grads));
      const lr = c.adam.lr;
      for (const [name, entry] of Object.entries(c.after)) {
        const got = state[name]!.values;
        if (!trainable.has(name)) {
          // Running statistics: a running mean can land near 0, so relative to the tensor's scale.
          log.note('running stats diff / max|value|', assertCloseToScale(got, entry.values, REL_TOL, name));
        } else if (zero.has(name)) {
          // The one floor, and only for these tensors: their gradient is rounding
          // noise, so Adam's first update (about lr * sign(g + weight_decay * p))
          // can go either way wherever |weight_decay * p| is below that noise.
          // Each side still moves by at most lr, so they are at most 2 lr apart.
          const before = c.weights[name]!.values;
          for (let i = 0; i < got.length; i++) {
            assert.ok(Math.abs((got[i] as number) - (before[i] as number)) <= lr * (1 + 1e-3), `${name}[${i}] moved more than lr`);
            assert.ok(Math.abs((got[i] as number) - (entry.values[i] as number)) <= 2 * lr * (1 + 1e-3), `${name}[${i}] differs by more than 2 lr`);
          }
          log.note('zero-gradient biases after the step: max abs diff (bound 2 lr = 4e-4)', maxAbsDiff(got, entry.values));
        } else {
          log.note('parameters after the step: rel diff', assertRelClose(got, entry.values, REL_TOL, name));
          // Every parameter moved (by about lr): the comparison is not of unchanged weights.
          assert.ok(maxAbsDiff(got, c.weights[name]!.values) > lr / 2, `${name} did not move`);
        }
      }
      disposeBatch(batch);
      model.dispose();
      optimizer.dispose();
    });
  });
}

test('the fixture is float32 torch, and records how far float64 would be', () => {
  assert.equal(fixture.dtype, 'float32');
  assert.match(fixture.torch_version, /^1\.13/);
  for (const c of fixture.cases) {
    // The float32 rounding level the tolerance has to cover (see the reference script).
    assert.ok((c.float32_vs_float64['terms_max_rel_diff'] as number) < 1e-5);
    assert.ok((c.float32_vs_float64['after_max_rel_diff'] as number) < 1e-4);
  }
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
