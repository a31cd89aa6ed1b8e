import { median } from '../../core/stats.js';
import { epochAuc, type PruneEvent, type Pruner } from './pruner.js';
import type { Study, Trial } from '../study/sweep-state.js';

export interface MedianPrunerOptions {
  /** Complete trials needed before anything is pruned. */
  startupTrials: number;
  /** Epochs always trained before pruning is considered. */
  warmupEpochs: number;
  /** Consider pruning every this many epochs after the warm-up. */
  intervalEpochs: number;
}

/**
 * Optuna's MedianPruner, paired by seed: a run whose cell AUC at epoch e is
 * below the median of the complete trials' runs with the same seed at the
 * same epoch stops its trial. Comparing same-seed runs keeps the seed's own
 * luck out of the comparison.
 */
export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly needsEpochMetrics = true;

  constructor(private readonly opts: MedianPrunerOptions) {}

  judge(study: Study, trial: Trial, event: PruneEvent): string | undefined {
    if (event.kind !== 'epoch') return undefined;
    const { seed, epoch } = event;
    if (epoch <= this.opts.warmupEpochs || (epoch - this.opts.warmupEpochs) % this.opts.intervalEpochs !== 0) return undefined;
    const value = epochAuc(trial, seed, epoch);
    if (value === undefined) return undefined;
    const others = study.trials.flatMap((t) => {
      const v = t.state === 'COMPLETE' ? epochAuc(t, seed, epoch) : undefined;
      return v === undefined ? [] : [v];
    });
    if (others.length < this.opts.startupTrials) return undefined;
    const m = median(others);
    if (value >= m) return undefined;
    return `median pruner: seed ${seed} at epoch ${epoch} has cell AUC ${value.toFixed(4)}, below the median ${m.toFixed(4)} of ${others.length} complete trials`;
  }
}
