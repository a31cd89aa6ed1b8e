import type { RunFailure, RunProgress, RunResult, RunSpec } from '../proto/gen/cellsweep/v1/run.js';
import { CellsweepError, ConfigError, DataError, InterruptedError, TrainingError } from '../core/errors.js';
import { resolveSettings } from '../core/model-specs.js';
import { fromWireParams } from '../core/params.js';
import { interpret } from './interpret/interpretation.js';
import { subsampleCells, targetSubsample } from './data/subsample.js';
import { averagePrecision, rocAuc } from './metrics/index.js';
import { modelFamily } from './models/registry.js';
import type { DatasetCache } from './worker/dataset-cache.js';

export interface RunContext {
  trainerId: string;
  backend: string;
  datasets: DatasetCache;
  signal: AbortSignal;
  onProgress(progress: RunProgress): void;
  /** The dataset is loaded and training begins (epoch timing starts here). */
  onLoaded?(): void;
  /** Where unexpected errors' stacks go (the trainer's log); the failure carries only the message. */
  log?: (line: string) => void;
}

export type RunOutcome = { result: RunResult } | { failure: RunFailure };

/**
 * One run, start to end: resolve the settings, load the (cached) dataset,
 * train, score the cells. Every way a run can go wrong ends as a failure
 * with a reason, so the trainer process itself stays up; only cancellation
 * (InterruptedError) is thrown, because a cancelled run has no outcome.
 */
export async function executeRun(spec: RunSpec, ctx: RunContext): Promise<RunOutcome> {
  const fail = (code: string, reason: string, epoch = 0): RunOutcome => ({
    failure: { reason, code, epoch, backend: ctx.backend, trainerId: ctx.trainerId },
  });
  const started = performance.now();
  try {
    const family = modelFamily(spec.model);
    const settings = resolveSettings(family.spec, fromWireParams(spec.params));
    // Before and after loading: a load can take minutes, and a run stopped meanwhile should not train.
    if (ctx.signal.aborted) throw new InterruptedError();
    const data = subsampleCells(await ctx.datasets.get(spec.dataset), targetSubsample(settings));
    const loaded = performance.now();
    if (ctx.signal.aborted) throw new InterruptedError();
    ctx.onLoaded?.();
    const out = await family.train({
      data,
      settings,
      seed: spec.seed,
      signal: ctx.signal,
      evaluateEachEpoch: spec.reportEpochMetrics,
      interpret: spec.interpret,
      onEpoch: (p) => {
        const progress: RunProgress = {
          epoch: p.epoch,
          epochs: p.epochs,
          losses: p.losses,
          elapsedSeconds: (performance.now() - started) / 1000,
        };
        if (p.auc !== undefined) progress.auc = p.auc;
        ctx.onProgress(progress);
      },
    });
    if (!out.cellScores.every(Number.isFinite)) {
      return fail('non_finite_output', 'the model predicted a non-finite score for at least one cell', out.epochs);
    }
    const result: RunResult = {
      auc: rocAuc(data.cells.y, out.cellScores),
      aupr: averagePrecision(data.cells.y, out.cellScores),
      backend: ctx.backend,
      trainSeconds: (performance.now() - loaded) / 1000,
      loadSeconds: (loaded - started) / 1000,
      epochs: out.epochs,
      finalLosses: out.finalLosses,
      bulkSamples: data.bulk.rows,
      cells: data.cells.rows,
      genes: data.genes.length,
      trainerId: ctx.trainerId,
    };
    if (spec.interpret) result.interpretation = interpret(data, out.cellScores, out.plan);
    return { result };
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    if (err instanceof TrainingError) return fail(err.failureCode, err.message, err.epoch);
    if (err instanceof ConfigError) return fail('bad_config', err.message);
    if (err instanceof DataError) return fail('dataset', err.message);
    if (err instanceof CellsweepError) return fail(err.code, err.message);
    ctx.log?.(`run ${spec.runId}: ${(err as Error).stack ?? String(err)}`);
    return fail('internal', `unexpected error: ${(err as Error).message ?? String(err)}`);
  }
}
