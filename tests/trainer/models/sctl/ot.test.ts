import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../../trainer/backend/index.js';
import { gaussianCost, gaussianCostHost } from '../../../../trainer/models/sctl/cost.js';
import { transportCost, unbalancedOtPlan } from '../../../../trainer/models/sctl/ot.js';
import { assertAbsClose, assertRelClose, ErrorLog, loadFixture, type TensorEntry } from './fixtures.js';

interface OtCase {
  name: string;
  rows: number;
  cols: number;
  eps: number;
  tau: number;
  outer: number;
  inner: number;
  cost: number[];
  plan: number[];
  loss: number;
}
interface PotCase {
  name: string;
  rows: number;
  cols: number;
  eps: number;
  tau: number;
  inner: number;
  cost: number[];
  pot_plan_outer_1: number[];
  pot_plan_outer_10: number[];
}
interface CostCase {
  mu_b: TensorEntry;
  sigma_b: TensorEntry;
  mu_s: TensorEntry;
  sigma_s: TensorEntry;
  cost: number[];
  plan: number[];
  loss: number;
}

const fixture = loadFixture<{ cases: OtCase[]; cost_case: CostCase; pot: PotCase[] }>('ot');
const log = new ErrorLog();
// The brief is 1e-5. Both sides solve in float64 from the same costs, so the
// plans agree to rounding; a tolerance this tight also catches a changed loop
// order (say, u before the initial v) that 1e-5 could let through.
const PLAN_TOL = 1e-12;

before(async () => {
  await selectBackend('wasm', { log: () => {} });
});
after(() => log.print('sctl OT: worst errors against the reference'));

describe('unbalancedOtPlan matches the torch proximal point loop (float64)', () => {
  for (const c of fixture.cases) {
    test(c.name, () => {
      const plan = unbalancedOtPlan(c.cost, c.rows, c.cols, c);
      log.note('plan max abs diff', assertAbsClose(plan, c.plan, PLAN_TOL, 'plan'));
      log.note('loss rel diff', assertRelClose([transportCost(c.cost, plan)], [c.loss], 1e-12, 'loss'));
    });
  }

  test('the fixtures cover small and large costs, other constants, zero cost and plans spanning many decades', () => {
    assert.ok(fixture.cases.some((c) => c.eps !== 0.1 && c.tau !== 1 && c.outer !== 10 && c.inner !== 10));
    assert.ok(fixture.cases.some((c) => c.cost.every((v) => v === 0)));
    assert.ok(fixture.cases.some((c) => Math.min(...c.plan) < 1e-40), 'entries far below float32 range');
    assert.match(fixture.generated_by, /sctl_reference\.py/);
  });
});

describe('each outer step is the unbalanced Sinkhorn problem POT solves (converged inner loop)', () => {
  for (const c of fixture.pot) {
    test(`${c.name}: one outer step, and ten chained`, () => {
      const opts = { eps: c.eps, tau: c.tau, inner: c.inner };
      log.note('POT 1 outer', assertAbsClose(unbalancedOtPlan(c.cost, c.rows, c.cols, { ...opts, outer: 1 }), c.pot_plan_outer_1, 1e-12, 'outer 1'));
      log.note('POT 10 outer', assertAbsClose(unbalancedOtPlan(c.cost, c.rows, c.cols, { ...opts, outer: 10 }), c.pot_plan_outer_10, 1e-12, 'outer 10'));
    });
  }
});

describe('the cost between posteriors (SCTL eq. 5)', () => {
  const c = fixture.cost_case;
  const t = (e: TensorEntry) => tf.tensor2d(e.values, e.shape as [number, number]);

  test('on the device, in float32, within 1e-5, and the plan and loss from it too', () => {
    const cost = tf.tidy(() => gaussianCost(t(c.mu_b), t(c.sigma_b), t(c.mu_s), t(c.sigma_s)));
    const values = cost.dataSync();
    cost.dispose();
    log.note('cost rel diff (float32)', assertRelClose(values, c.cost, 1e-5, 'cost'));
    const [rows, cols] = [c.mu_b.shape[0] as number, c.mu_s.shape[0] as number];
    const plan = unbalancedOtPlan(values, rows, cols, { eps: 0.1, tau: 1, outer: 10, inner: 10 });
    log.note('plan from float32 cost, max abs diff', assertAbsClose(plan, c.plan, 1e-5, 'plan'));
    log.note('loss from float32 cost, rel diff', assertRelClose([transportCost(values, plan)], [c.loss], 1e-5, 'loss'));
  });

  test('on the host, in float64, to rounding', () => {
    const [rows, cols, dim] = [c.mu_b.shape[0] as number, c.mu_s.shape[0] as number, c.mu_b.shape[1] as number];
    const cost = gaussianCostHost(
      { mu: Float32Array.from(c.mu_b.values), sigma: Float32Array.from(c.sigma_b.values), rows, dim },
      { mu: Float32Array.from(c.mu_s.values), sigma: Float32Array.from(c.sigma_s.values), rows: cols, dim },
    );
    assertRelClose(cost, c.cost, 1e-13, 'host cost');
  });
});

describe('edge cases', () => {
  test('a cost of zeros gives the uniform starting plan', () => {
    assert.deepEqual(Array.from(unbalancedOtPlan(new Float64Array(6), 2, 3, { eps: 0.1, tau: 1, outer: 10, inner: 10 })), Array(6).fill(1 / 6));
  });

  test('a non-finite cost gives a non-finite plan, so the loss reports it rather than hiding it', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const plan = unbalancedOtPlan([0.5, bad, 1, 2], 2, 2, { eps: 0.1, tau: 1, outer: 2, inner: 2 });
      assert.ok(plan.every(Number.isNaN), String(bad));
    }
  });

  test('rows of the plan follow their cheapest columns, and the mass stays near 1 with tau = 1', () => {
    // Three points against three: a clear assignment i -> i.
    const cost = [0, 4, 9, 4, 0, 4, 9, 4, 0];
    const plan = unbalancedOtPlan(cost, 3, 3, { eps: 0.1, tau: 1, outer: 10, inner: 10 });
    for (let i = 0; i < 3; i++) {
      const row = Array.from(plan.subarray(i * 3, i * 3 + 3));
      assert.equal(row.indexOf(Math.max(...row)), i, `row ${i}: ${row}`);
    }
    const mass = plan.reduce((s, v) => s + v, 0);
    assert.ok(mass > 0.9 && mass <= 1 + 1e-9, `mass ${mass}`);
  });

  test('bad arguments are RangeErrors that say what was expected', () => {
    const opts = { eps: 0.1, tau: 1, outer: 1, inner: 1 };
    assert.throws(() => unbalancedOtPlan([1, 2, 3], 2, 2, opts), /expected 2 x 2 = 4 costs, but got 3/);
    assert.throws(() => unbalancedOtPlan([1], 1, 1, { ...opts, eps: 0 }), /expected eps > 0 and tau > 0, but got eps 0, tau 1/);
    assert.throws(() => unbalancedOtPlan([1], 1, 1, { ...opts, outer: 0 }), /expected outer and inner >= 1, but got 0 and 1/);
    assert.throws(() => unbalancedOtPlan([], 0, 1, opts), /expected rows and cols >= 1, but got 0 x 1/);
  });
});
