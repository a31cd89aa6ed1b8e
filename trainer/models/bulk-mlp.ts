import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../../core/errors.js';
import { BULK_MLP } from '../../core/model-specs.js';
import { Rng } from '../../core/rng.js';
import { ensureBackend } from '../backend/index.js';
import type { PreparedData } from '../data/types.js';
import { rocAuc } from '../metrics/index.js';
import { createBulkSampler } from '../sampling/index.js';
import { Adam } from './adam.js';
import type { ModelFamily, TrainInput, TrainOutput } from './family.js';
import { EVAL, trainingContext } from './layers.js';
import { geneCount, hasBothClasses } from './data-checks.js';
import { runEpochs } from './loop.js';
import { bceWithLogits } from './loss.js';
import { predictProbabilities } from './predict.js';
import { buildPredictor } from './predictor.js';
import { intSetting, trainingConfig, type Settings, type TrainingConfig } from './settings.js';
import { trainStep } from './step.js';

/**
 * The no-transfer baseline: the SCTL predictor trained directly on bulk
 * expression and bulk labels, then applied to the cells. Whatever it scores
 * on the cells is what the bulk signal alone carries over, the bar a transfer
 * model has to clear.
 */
export const bulkMlp: ModelFamily = {
  spec: BULK_MLP,
  train: trainBulkMlp,
};

export interface BulkMlpConfig extends TrainingConfig {
  /** Predictor depth of SCTL Table 5. */
  depth: number;
}

export function bulkMlpConfig(settings: Settings): BulkMlpConfig {
  return { ...trainingConfig(settings), depth: intSetting(settings, 'depth') };
}

async function trainBulkMlp(input: TrainInput): Promise<TrainOutput> {
  const config = bulkMlpConfig(input.settings);
  const { bulk, cells } = input.data;
  const cols = checkShapes(input.data);
  await ensureBackend();

  // One named stream per use, so a change in one (say SMOTE) leaves the others as they were.
  const rng = new Rng(input.seed);
  const sampler = createBulkSampler(
    config.sampling,
    { x: bulk.x, y: bulk.y, rows: bulk.rows, cols },
    { batchSize: config.batchSize, smoteK: config.smoteK },
    rng.derive('sampler'),
  );
  const batchRng = rng.derive('batches');
  const training = trainingContext(rng.derive('dropout'));
  const model = buildPredictor(cols, config.depth, config.dropout, rng.derive('init'));
  const params = model.params();
  const optimizer = new Adam(params, { lr: config.lr, weightDecay: config.weightDecay });
  // Uploaded once; batches are gathered on the device.
  const xAll = tf.tensor2d(sampler.x, [sampler.rows, cols]);
  const yAll = tf.tensor1d(Float32Array.from(sampler.y));

  try {
    const scoreCells = (): Float32Array => predictProbabilities(cells.x, cells.rows, cols, (x) => model.apply(x, EVAL));
    const finalLosses = await runEpochs({
      epochs: config.epochs,
      signal: input.signal,
      onEpoch: input.onEpoch,
      batches: () => sampler.epoch(batchRng),
      step: (batch, place) =>
        trainStep(
          params,
          optimizer,
          () => {
            const rows = tf.tensor1d(batch, 'int32');
            const logits = tf.reshape(model.apply(tf.gather(xAll, rows), training), [batch.length]) as tf.Tensor1D;
            const bce = bceWithLogits(logits, tf.gather(yAll, rows));
            return { bce, total: bce };
          },
          place,
        ),
      evaluate: input.evaluateEachEpoch && hasBothClasses(cells.y) ? () => rocAuc(cells.y, scoreCells()) : undefined,
    });
    // Non-finite scores are failed by executeRun (trainer/run.ts), for every family alike.
    return { cellScores: scoreCells(), epochs: config.epochs, finalLosses };
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([xAll, yAll]);
  }
}

/** The number of genes, after checking there are 2 bulk rows for a BatchNorm batch. */
function checkShapes(data: PreparedData): number {
  const cols = geneCount(data, 'bulk-mlp');
  if (data.bulk.rows < 2) throw new DataError(`bulk: expected at least 2 samples to train on, but got ${data.bulk.rows}`);
  return cols;
}
