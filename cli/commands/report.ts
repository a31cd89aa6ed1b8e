import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { ConfigError } from '../../core/errors.js';
import { formatParams, toWireParams } from '../../core/params.js';
import { runId } from '../../core/runs.js';
import { readSweepDir } from '../../coordinator/journal/sweep-dir.js';
import { cellsTsv, markersTsv, planTsv } from '../../coordinator/report/interpretation-files.js';
import { allTrialsTable, failedTrials, summaryTable } from '../../coordinator/report/outputs.js';
import type { SweepState } from '../../coordinator/study/sweep-state.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { executeRun } from '../../trainer/run.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { checkBackendOption, intOption, parseCommand } from '../args.js';

const USAGE = `Usage: cellsweep report DIR [--all-trials]
       cellsweep report DIR --interpret [--study NAME] [--seed S] [--backend B]`;

/**
 * The summary of a sweep directory, rebuilt from its journal (read-only:
 * safe while the sweep runs). With --interpret, each study's best
 * configuration is trained once more with the interpretability outputs on
 * (predicted groups, marker genes, the OT plan) into DIR/interpret/<study>/.
 * With --all-trials, every complete trial's mean ± std, and per study the
 * spread of the trial means (a follow-up sweep's figures: cellsweep followup).
 */
export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { 'all-trials': { type: 'boolean', default: false }, interpret: { type: 'boolean', default: false }, study: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' } },
    USAGE,
  );
  if (positionals.length !== 1) throw new ConfigError(`expected one sweep directory\n\n${USAGE}`);
  const dir = resolve(positionals[0]!);
  const state = await readSweepDir(dir);
  process.stdout.write(`sweep ${state.config.name} (${state.sweepId}): ${state.status}\n\n${summaryTable(state)}\n`);
  if (values['all-trials']) process.stdout.write(`\n${allTrialsTable(state)}`);
  const failed = failedTrials(state);
  if (failed.length > 0) {
    process.stdout.write(`\nfailed trials:\n${failed.map((t) => `  ${t.study} #${t.number}: ${t.reason ?? ''}`).join('\n')}\n`);
  }
  if (values.interpret) await interpretBest(dir, state, values);
  return 0;
}

async function interpretBest(dir: string, state: SweepState, opts: { study?: string; seed?: string; backend?: string }): Promise<void> {
  const studies = [...state.studies.values()].filter((s) => opts.study === undefined || s.config.name === opts.study);
  if (studies.length === 0) throw new ConfigError(`no study named '${opts.study}' (studies: ${[...state.studies.keys()].join(', ')})`, { field: '--study' });
  const backend = await selectBackend(checkBackendOption(opts.backend));
  const datasets = new DatasetCache(loadPrepared);
  for (const study of studies) {
    const best = study.progress.best;
    if (best === undefined) {
      process.stderr.write(`${study.config.name}: no complete trial to interpret\n`);
      continue;
    }
    const seed = intOption(opts.seed, 'seed', 0) ?? (study.config.seeds[0] as number);
    process.stderr.write(`${study.config.name}: training trial #${best.number} (${formatParams(best.params)}) with seed ${seed} for its interpretation\n`);
    const outcome = await executeRun(
      {
        runId: runId({ study: study.config.name, trial: best.number, seed }),
        study: study.config.name,
        trial: best.number,
        seed,
        model: study.config.model,
        params: toWireParams({ ...study.config.fixed, ...best.params }),
        dataset: study.config.dataset,
        reportEpochMetrics: false,
        interpret: true,
      },
      { trainerId: 'report', backend: backend.name, datasets, signal: new AbortController().signal, onProgress: () => undefined },
    );
    if ('failure' in outcome) throw new ConfigError(`${study.config.name}: the interpretation run failed: ${outcome.failure.reason}`);
    const interp = outcome.result.interpretation!;
    const data = await datasets.get(study.config.dataset);
    const out = join(dir, 'interpret', study.config.name);
    await mkdir(out, { recursive: true });
    const effect = data.cells.scale === 'counts' ? 'log2_fold_change' : 'mean_difference';
    await writeFileAtomic(join(out, 'cells.tsv'), cellsTsv(interp, data.cells.y));
    await writeFileAtomic(join(out, 'markers.tsv'), markersTsv(interp, effect));
    if (interp.planRows > 0) await writeFileAtomic(join(out, 'plan.tsv'), planTsv(interp));
    const summary = {
      study: study.config.name,
      trial: best.number,
      params: best.params,
      seed,
      backend: outcome.result.backend,
      auc: outcome.result.auc,
      aupr: outcome.result.aupr,
      threshold: interp.threshold,
      cells: { sensitive: interp.cellSensitive.filter(Boolean).length, resistant: interp.cellSensitive.filter((s) => !s).length },
      markers: { effect, sensitive: interp.sensitiveMarkers.map((m) => m.gene), resistant: interp.resistantMarkers.map((m) => m.gene) },
      plan: interp.planRows > 0 ? { rows: interp.planRows, cols: interp.planCols } : null,
    };
    await writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    process.stderr.write(
      `${study.config.name}: AUC ${outcome.result.auc.toFixed(3)}; ${summary.cells.sensitive} cells predicted sensitive; markers up in sensitive: ${summary.markers.sensitive.join(', ') || '-'}; in resistant: ${summary.markers.resistant.join(', ') || '-'} -> ${out}\n`,
    );
  }
}
