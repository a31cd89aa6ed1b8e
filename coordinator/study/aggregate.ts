import { summarize } from '../../core/stats.js';
import type { RunOutcome, Trial } from './sweep-state.js';

/**
 * A trial's verdict once every seed has an outcome: COMPLETE with mean +- std
 * of AUC and AUPR over its seeds, or FAIL when any seed failed: a mean over
 * fewer seeds would not be comparable with the other trials' means.
 */
export function judgeTrial(runs: Iterable<RunOutcome>): { state: 'COMPLETE' | 'FAIL'; reason?: string } {
  const failed = [...runs].filter((r) => r.failure !== undefined).sort((a, b) => a.seed - b.seed);
  if (failed.length === 0) return { state: 'COMPLETE' };
  const first = failed[0] as RunOutcome;
  return { state: 'FAIL', reason: `seed ${first.seed} failed: ${first.failure?.reason ?? 'unknown'}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}` };
}

/** Fills `auc` and `aupr` from the successful runs (all runs of a COMPLETE trial). */
export function summarizeTrial(trial: Trial): void {
  // In seed order, not arrival order: floating-point sums must not depend on which trainer finished first.
  const results = [...trial.runs.values()]
    .sort((a, b) => a.seed - b.seed)
    .flatMap((r) => (r.result === undefined ? [] : [r.result]));
  if (results.length === 0) {
    delete trial.auc;
    delete trial.aupr;
    return;
  }
  trial.auc = summarize(results.map((r) => r.auc));
  trial.aupr = summarize(results.map((r) => r.aupr));
}

/** Higher mean AUC wins; ties go to higher mean AUPR, then to the earlier trial. */
export function compareTrials(a: Trial, b: Trial): number {
  const auc = (b.auc?.mean ?? -Infinity) - (a.auc?.mean ?? -Infinity);
  if (auc !== 0) return auc;
  const aupr = (b.aupr?.mean ?? -Infinity) - (a.aupr?.mean ?? -Infinity);
  if (aupr !== 0) return aupr;
  return a.number - b.number;
}
