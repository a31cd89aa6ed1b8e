import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../../../core/errors.js';
import { SCTL } from '../../../core/model-specs.js';
import { Rng } from '../../../core/rng.js';
import { ensureBackend } from '../../backend/index.js';
import type { PreparedData } from '../../data/types.js';
import { rocAuc } from '../../metrics/index.js';
import { createBulkSampler, type BulkSampler } from '../../sampling/index.js';
import { Adam } from '../adam.js';
import type { ModelFamily, TrainInput, TrainOutput } from '../family.js';
import { trainingContext } from '../layers.js';
import { geneCount, hasBothClasses } from '../data-checks.js';
import { runEpochs } from '../loop.js';
import { predictProbabilities } from '../predict.js';
import { trainStep } from '../step.js';
import { CellBatches } from './cells.js';
import { sctlConfig } from './config.js';
import { SctlModel } from './model.js';
import { fullTransportPlan } from './plan.js';

/**
 * SCTL (SCIENCE.md; docs/sctl.md): a VAE shared by bulk and cells, the two
 * latent distributions pulled together by unbalanced OT and MMD, and a
 * drug-response predictor trained on the bulk latent codes (z_b, or mu_b); a
 * cell's score is sigmoid(predictor(mu_s)).
 *
 * Training runs `iterations` steps, each on one bulk batch (the sampling
 * strategy's) and one cell batch. Progress is reported per pass over the
 * bulk data (an epoch), the last one cut short at the iteration budget.
 */
export const sctl: ModelFamily = {
  spec: SCTL,
  train: trainSctl,
};

async function trainSctl(input: TrainInput): Promise<TrainOutput> {
  const config = sctlConfig(input.settings);
  const { training: t } = config;
  const { bulk, cells } = input.data;
  const genes = checkData(input.data);
  await ensureBackend();

  // One named stream per use, so a change in one leaves the others as they were.
  const rng = new Rng(input.seed);
  const sampler = createBulkSampler(
    t.sampling,
    { x: bulk.x, y: bulk.y, rows: bulk.rows, cols: genes },
    { batchSize: t.batchSize, smoteK: t.smoteK },
    rng.derive('sampler'),
  );
  const schedule = iterationSchedule(sampler, rng.derive('batches'), t.iterations);
  const cellBatches = new CellBatches(cells.rows, t.cellBatchSize, rng.derive('cells'));
  const noiseRng = rng.derive('noise');
  const training = trainingContext(rng.derive('dropout'));
  const model = new SctlModel({ genes, ...config.architecture }, config.objective, rng.derive('init'));
  const params = model.params();
  const optimizer = new Adam(params, { lr: t.lr, weightDecay: t.weightDecay });
  // Uploaded once; batches are gathered on the device.
  const xBulk = tf.tensor2d(sampler.x, [sampler.rows, genes]);
  const yBulk = tf.tensor1d(Float32Array.from(sampler.y));
  const xCells = tf.tensor2d(cells.x, [cells.rows, genes]);

  try {
    const scoreCells = (): Float32Array => predictProbabilities(cells.x, cells.rows, genes, (x) => model.predictLogits(x));
    const finalLosses = await runEpochs({
      epochs: schedule.epochs,
      signal: input.signal,
      onEpoch: input.onEpoch,
      batches: schedule.batches,
      step: (bulkRows, place) => {
        const cellRows = cellBatches.next();
        const noise = normals(noiseRng, (bulkRows.length + cellRows.length) * config.architecture.latent);
        return trainStep(
          params,
          optimizer,
          () => {
            const b = tf.tensor1d(bulkRows, 'int32');
            const c = tf.tensor1d(cellRows, 'int32');
            return model.losses(
              {
                xBulk: tf.gather(xBulk, b),
                xCells: tf.gather(xCells, c),
                yBulk: tf.gather(yBulk, b),
                noise: tf.tensor2d(noise, [bulkRows.length + cellRows.length, config.architecture.latent]),
              },
              training,
            );
          },
          place,
        );
      },
      evaluate: input.evaluateEachEpoch && hasBothClasses(cells.y) ? () => rocAuc(cells.y, scoreCells()) : undefined,
    });
    // Non-finite scores are failed by executeRun (trainer/run.ts), for every family alike.
    const out: TrainOutput = { cellScores: scoreCells(), epochs: schedule.epochs, finalLosses };
    if (input.interpret === true) out.plan = fullTransportPlan(model, input.data, config.objective.ot);
    return out;
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([xBulk, yBulk, xCells]);
  }
}

/**
 * Epochs of bulk batches that add up to `iterations` steps: as many full
 * passes as fit, then a last pass cut at the budget. The first pass is drawn
 * up front to learn how many batches a pass has (it depends only on the
 * sampler's rows and the batch size).
 */
function iterationSchedule(sampler: BulkSampler, rng: Rng, iterations: number): { epochs: number; batches: () => Int32Array[] } {
  let pending: Int32Array[] | undefined = sampler.epoch(rng);
  const perEpoch = pending.length;
  if (perEpoch === 0) throw new DataError(`bulk: a pass over the ${sampler.rows} samples gives no batch of 2 or more rows`);
  let planned = 0;
  return {
    epochs: Math.ceil(iterations / perEpoch),
    batches: () => {
      const all = pending ?? sampler.epoch(rng);
      pending = undefined;
      const take = all.slice(0, Math.max(0, iterations - planned));
      planned += take.length;
      return take;
    },
  };
}

/** Standard normal values from a seeded stream (backend-independent, unlike tf.randomNormal). */
function normals(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/**
 * The number of genes, after checking both domains have the 2 rows a
 * BatchNorm batch needs. A domain with fewer rows than its batch size is not
 * an error: its batches are then the whole domain (cells) or one
 * `rows`-sized draw (bulk), as a PyTorch DataLoader gives; the paper's
 * data6-8 have 66 cells against batches of 128.
 */
function checkData(data: PreparedData): number {
  const cols = geneCount(data, 'sctl');
  for (const [name, domain] of [['bulk', data.bulk], ['cells', data.cells]] as const) {
    if (domain.rows < 2) {
      const what = name === 'bulk' ? 'bulk samples' : 'cells';
      throw new DataError(`${name}: sctl needs at least 2 ${what} (a BatchNorm batch has 2 rows or more), but got ${domain.rows}`);
    }
  }
  return cols;
}
