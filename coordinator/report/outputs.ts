import { formatParams, formatValue, type ParamValue } from '../../core/params.js';
import { summarize } from '../../core/stats.js';
import { type Study, type SweepState, type Trial } from '../study/sweep-state.js';

/**
 * What a sweep leaves behind besides its journal: trials.csv (every trial,
 * one row each), best.json (per study, the best configuration with its runs)
 * and the summary table. All are pure functions of the replayed state, so
 * they can be rebuilt from the journal at any time (`cellsweep report`).
 */

export function trialsCsv(state: SweepState): string {
  const studies = [...state.studies.values()];
  const paramNames = unique(studies.flatMap((s) => s.config.space.params.map(([name]) => name)));
  const seeds = unique(studies.flatMap((s) => s.config.seeds));
  const header = [
    'study',
    'trial',
    'state',
    ...paramNames,
    'auc_mean',
    'auc_std',
    'aupr_mean',
    'aupr_std',
    'runs_ok',
    'runs_failed',
    ...seeds.flatMap((s) => [`auc_seed${s}`, `aupr_seed${s}`]),
    'reason',
  ];
  const rows = studies.flatMap((study) =>
    study.trials.map((t) => {
      const outcomes = [...t.runs.values()];
      return [
        study.config.name,
        t.number,
        t.state,
        ...paramNames.map((p) => (p in t.params ? formatValue(t.params[p] as ParamValue) : '')),
        num(t.auc?.mean),
        num(t.auc?.std),
        num(t.aupr?.mean),
        num(t.aupr?.std),
        outcomes.filter((r) => r.result !== undefined).length,
        outcomes.filter((r) => r.failure !== undefined).length,
        ...seeds.flatMap((s) => {
          const r = t.runs.get(s)?.result;
          return [num(r?.auc), num(r?.aupr)];
        }),
        t.reason ?? '',
      ];
    }),
  );
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

export interface BestEntry {
  study: string;
  dataset: string;
  model: string;
  trials: { total: number; complete: number; failed: number };
  best: null | {
    trial: number;
    /** The tuned values. */
    params: Record<string, ParamValue>;
    /** Everything the model was trained with: fixed settings plus tuned values. */
    settings: Record<string, ParamValue>;
    auc: { mean: number; std: number; n: number };
    aupr: { mean: number; std: number; n: number };
    runs: Array<{ seed: number; auc: number; aupr: number; backend: string }>;
  };
}

export function bestJson(state: SweepState): { sweep: string; name: string; status: string; studies: BestEntry[] } {
  return {
    sweep: state.sweepId,
    name: state.config.name,
    status: state.status,
    studies: [...state.studies.values()].map(bestEntry),
  };
}

function bestEntry(study: Study): BestEntry {
  const best = study.progress.best;
  const entry: BestEntry = {
    study: study.config.name,
    dataset: study.config.dataset,
    model: study.config.model,
    trials: {
      total: study.config.trials,
      complete: study.trials.filter((t) => t.state === 'COMPLETE').length,
      failed: study.trials.filter((t) => t.state === 'FAIL').length,
    },
    best: null,
  };
  if (best === undefined || best.auc === undefined || best.aupr === undefined) return entry;
  entry.best = {
    trial: best.number,
    params: best.params,
    settings: { ...study.config.fixed, ...best.params },
    auc: best.auc,
    aupr: best.aupr,
    runs: [...best.runs.values()]
      .sort((a, b) => a.seed - b.seed)
      .flatMap((r) => (r.result === undefined ? [] : [{ seed: r.seed, auc: r.result.auc, aupr: r.result.aupr, backend: r.result.backend }])),
  };
  return entry;
}

/** The per-dataset table printed at the end of a sweep. */
export function summaryTable(state: SweepState): string {
  const rows: string[][] = [['study', 'model', 'trials', 'runs', 'best AUC', 'best AUPR', 'trial', 'configuration']];
  for (const study of state.studies.values()) {
    const best = study.progress.best;
    const failed = study.trials.filter((t) => t.state === 'FAIL').length;
    rows.push([
      study.config.name,
      study.config.model,
      `${study.progress.trialsDone}/${study.config.trials}${failed > 0 ? ` (${failed} failed)` : ''}`,
      `${study.progress.runsDone}/${study.config.trials * study.config.seeds.length}`,
      best?.auc === undefined ? '-' : pm(best.auc.mean, best.auc.std),
      best?.aupr === undefined ? '-' : pm(best.aupr.mean, best.aupr.std),
      best === undefined ? '-' : `#${best.number}`,
      best === undefined ? '-' : formatParams(best.params),
    ]);
  }
  return alignColumns(rows);
}

/**
 * Every complete trial of every study with its mean ± std over seeds, then
 * per study the mean ± std of the trial means: for a follow-up sweep
 * (followup.ts) the seed, subsample and ablation figures of SCTL's checks.
 */
export function allTrialsTable(state: SweepState): string {
  const parts: string[] = [];
  for (const study of state.studies.values()) {
    const done = study.trials.filter((t) => t.state === 'COMPLETE' && t.auc !== undefined && t.aupr !== undefined);
    const rows = [['trial', 'runs', 'AUC', 'AUPR', 'configuration']];
    for (const t of done) rows.push([`#${t.number}`, String(t.auc!.n), pm(t.auc!.mean, t.auc!.std), pm(t.aupr!.mean, t.aupr!.std), formatParams(t.params)]);
    const over = (pick: (t: Trial) => number): string => {
      const s = summarize(done.map(pick));
      return pm(s.mean, s.std);
    };
    parts.push(
      `${study.config.name} (${study.config.model}, ${done.length} of ${study.config.trials} trials complete)\n` +
        (done.length === 0 ? '  no complete trial\n' : alignColumns(rows).replace(/^/gm, '  ') + '\n') +
        (done.length > 1 ? `  over the ${done.length} trials: AUC ${over((t) => t.auc!.mean)}, AUPR ${over((t) => t.aupr!.mean)}\n` : ''),
    );
  }
  return parts.join('\n');
}

export function pm(mean: number, std: number): string {
  return `${mean.toFixed(3)} ± ${std.toFixed(3)}`;
}

export function alignColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

export function failedTrials(state: SweepState): Trial[] {
  return [...state.studies.values()].flatMap((s) => s.trials.filter((t) => t.state === 'FAIL'));
}

function num(v: number | undefined): string {
  return v === undefined || Number.isNaN(v) ? '' : String(Number(v.toPrecision(10)));
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
