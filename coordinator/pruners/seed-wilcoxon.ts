import type { Study, Trial } from '../study/sweep-state.js';
import type { PruneEvent, Pruner } from './pruner.js';
import { signedRankTest } from './wilcoxon.js';

export interface SeedPrunerOptions {
  /** One-sided significance level of the signed-rank test. */
  alpha: number;
  /** Finished seeds needed before the test is run (with 6 seeds, the exact test needs 5 to reach p < 0.05). */
  minSeeds: number;
}

/**
 * Stops a trial's remaining seeds when its finished seeds are significantly
 * worse than the best trial's on the same seeds: a one-sided Wilcoxon
 * signed-rank test on the paired per-seed AUC differences. A hopeless
 * configuration then does not spend all six trainings.
 */
export class SeedPruner implements Pruner {
  readonly name = 'seeds';
  readonly needsEpochMetrics = false;

  constructor(private readonly opts: SeedPrunerOptions) {}

  judge(study: Study, trial: Trial, event: PruneEvent): string | undefined {
    if (event.kind !== 'run') return undefined;
    const best = study.progress.best;
    if (best === undefined || best === trial) return undefined;
    const seeds: number[] = [];
    const differences: number[] = [];
    for (const [seed, outcome] of [...trial.runs].sort(([a], [b]) => a - b)) {
      const mine = outcome.result?.auc;
      const theirs = best.runs.get(seed)?.result?.auc;
      if (mine === undefined || theirs === undefined) continue;
      seeds.push(seed);
      differences.push(mine - theirs);
    }
    if (seeds.length < this.opts.minSeeds) return undefined;
    const { pValue } = signedRankTest(differences, 'less');
    if (pValue >= this.opts.alpha) return undefined;
    return `seed pruner: on seeds ${seeds.join(', ')} worse than trial #${best.number} (Wilcoxon signed-rank, one-sided p = ${pValue.toPrecision(3)} < ${this.opts.alpha})`;
  }
}
