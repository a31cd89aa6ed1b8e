import { epochAuc, type PruneEvent, type Pruner } from './pruner.js';
import type { Study, Trial } from '../study/sweep-state.js';

export interface SuccessiveHalvingOptions {
  /** Epochs of the first rung. */
  minEpochs: number;
  /** Only the best 1/reductionFactor of the runs at a rung go on. */
  reductionFactor: number;
  /** Skips the first rungs (Optuna's min_early_stopping_rate). */
  minEarlyStoppingRate: number;
}

/**
 * Optuna's (asynchronous) SuccessiveHalvingPruner over epochs, paired by
 * seed: rungs at minEpochs * reductionFactor^(rate + k); a run reaching a
 * rung goes on only if its cell AUC is in the top 1/reductionFactor of all
 * same-seed runs that reached that rung (including running and pruned trials
 * and itself); otherwise its trial stops.
 */
export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'successive-halving';
  readonly needsEpochMetrics = true;

  constructor(private readonly opts: SuccessiveHalvingOptions) {}

  judge(study: Study, trial: Trial, event: PruneEvent): string | undefined {
    if (event.kind !== 'epoch') return undefined;
    const { seed, epoch } = event;
    const rung = this.rungOf(epoch);
    if (rung === undefined) return undefined;
    const value = epochAuc(trial, seed, epoch);
    if (value === undefined) return undefined;
    const competing = study.trials.flatMap((t) => {
      const v = epochAuc(t, seed, epoch);
      return v === undefined ? [] : [v];
    });
    if (competing.length <= 1) return undefined;
    competing.sort((a, b) => b - a);
    // As Optuna: the top floor(n / rf) go on, at least one.
    const keep = Math.max(1, Math.floor(competing.length / this.opts.reductionFactor));
    const bar = competing[keep - 1] as number;
    if (value >= bar) return undefined;
    return `successive halving: seed ${seed} at rung ${rung} (epoch ${epoch}) has cell AUC ${value.toFixed(4)}, outside the top ${keep} of ${competing.length} (bar ${bar.toFixed(4)})`;
  }

  /** The rung index whose resource is exactly `epoch`, if any. */
  private rungOf(epoch: number): number | undefined {
    const { minEpochs, reductionFactor, minEarlyStoppingRate } = this.opts;
    for (let k = 0; ; k++) {
      const resource = minEpochs * reductionFactor ** (minEarlyStoppingRate + k);
      if (resource === epoch) return k;
      if (resource > epoch) return undefined;
    }
  }
}
