import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { InterruptedError, TrainingError } from '../../core/errors.js';
import type { EpochProgress } from './family.js';
import type { StepPlace } from './step.js';

/** What one family plugs into the shared epoch loop. */
export interface EpochLoop {
  epochs: number;
  signal: AbortSignal;
  onEpoch(progress: EpochProgress): void;
  /** The batches of an epoch (1-based), as row indices. */
  batches(epoch: number): Int32Array[];
  /** Trains on one batch and returns each loss term's value. */
  step(batch: Int32Array, place: StepPlace): Record<string, number>;
  /** Cell AUC for the progress report; undefined when it cannot be computed. */
  evaluate?: () => number | undefined;
}

/**
 * Runs the epochs: checks for cancellation at every epoch boundary, averages
 * each loss term over the epoch's batches, and reports progress. It yields to
 * the event loop after every step, so an abort, a heartbeat or a gRPC message
 * is handled while a long run trains (a synchronous loop would hold them all
 * until the end). Returns the last epoch's mean losses.
 */
export async function runEpochs(loop: EpochLoop): Promise<Record<string, number>> {
  let means: Record<string, number> = {};
  for (let epoch = 1; epoch <= loop.epochs; epoch++) {
    throwIfAborted(loop.signal, `before epoch ${epoch} of ${loop.epochs}`);
    const batches = loop.batches(epoch);
    if (batches.length === 0) {
      throw new TrainingError(`epoch ${epoch} has no batch of 2 or more bulk rows to train on`, { epoch, failureCode: 'no_batches' });
    }
    const sums: Record<string, number> = {};
    for (let b = 0; b < batches.length; b++) {
      const values = loop.step(batches[b] as Int32Array, { epoch, batch: b + 1, batches: batches.length });
      for (const [term, value] of Object.entries(values)) sums[term] = (sums[term] ?? 0) + value;
      await yieldToEventLoop();
    }
    means = Object.fromEntries(Object.entries(sums).map(([term, sum]) => [term, sum / batches.length]));
    const progress: EpochProgress = { epoch, epochs: loop.epochs, losses: means };
    const auc = loop.evaluate?.();
    if (auc !== undefined) progress.auc = auc;
    loop.onEpoch(progress);
  }
  throwIfAborted(loop.signal, `after epoch ${loop.epochs} of ${loop.epochs}`);
  return means;
}

function throwIfAborted(signal: AbortSignal, when: string): void {
  if (signal.aborted) throw new InterruptedError(`training interrupted ${when}`);
}
