import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError } from '../../core/errors.js';
import { SLEEP } from '../../core/model-specs.js';
import { Rng } from '../../core/rng.js';
import type { EpochProgress, ModelFamily, TrainInput, TrainOutput } from './family.js';
import { intSetting, numberSetting } from './settings.js';

/**
 * The `sleep` test family (core/model-specs SLEEP): a run that costs only
 * time, so dispatch throughput and fault handling can be measured apart from
 * training. Cell scores are signal * label + (1 - signal) * noise, the
 * noise standard normal and drawn from the run's seed: the AUC rises
 * smoothly with signal (about Phi(signal / ((1 - signal) sqrt 2))), and the
 * same settings and seed give the same AUC.
 */
export const sleepModel: ModelFamily = {
  spec: SLEEP,
  train: trainSleep,
};

async function trainSleep(input: TrainInput): Promise<TrainOutput> {
  const seconds = numberSetting(input.settings, 'seconds');
  const epochs = intSetting(input.settings, 'epochs');
  const signal = numberSetting(input.settings, 'signal');
  const crashAt = intSetting(input.settings, 'crash_at_epoch');
  const { y, rows } = input.data.cells;
  const noise = new Rng(input.seed).derive('sleep');
  const cellScores = new Float32Array(rows);
  for (let i = 0; i < rows; i++) cellScores[i] = signal * (y[i] as number) + (1 - signal) * noise.normal();

  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (input.signal.aborted) throw new InterruptedError(`sleep interrupted before epoch ${epoch} of ${epochs}`);
    if (epoch === crashAt) process.kill(process.pid, 'SIGKILL');
    await sleep((seconds * 1000) / epochs);
    const progress: EpochProgress = {
      epoch,
      epochs,
      losses: { total: 1 / epoch },
    };
    if (input.evaluateEachEpoch) progress.auc = 0.5 + (signal * epoch) / (2 * epochs);
    input.onEpoch(progress);
  }
  if (input.signal.aborted) throw new InterruptedError(`sleep interrupted after epoch ${epochs} of ${epochs}`);
  return { cellScores, epochs, finalLosses: { total: 1 / epochs } };
}
