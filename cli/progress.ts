import type { RunProgress } from '../proto/gen/cellsweep/v1/run.js';
import type { JournalRecord } from '../coordinator/journal/records.js';
import type { SweepState } from '../coordinator/study/sweep-state.js';
import { alignColumns, pm } from '../coordinator/report/outputs.js';
import type { PendingRun } from '../coordinator/study/sweep-runner.js';
import { formatParams } from '../core/params.js';
import { runId, type RunKey } from '../core/runs.js';

/**
 * The live view of a sweep. On a terminal, a block redrawn in place: per
 * study trials done / total, best so far; elapsed and ETA; what each trainer
 * is doing. Elsewhere (CI logs, pipes), one line per finished trial.
 */
export class ProgressDisplay {
  private readonly started = Date.now();
  private readonly runsAtStart: number;
  /** What each trainer is training, by trainer id. */
  private readonly running = new Map<string, RunKey & { epoch: number; epochs: number }>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly state: SweepState,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = out.isTTY === true && process.env.TERM !== 'dumb';
    this.runsAtStart = totalDone(state);
  }

  start(): void {
    if (this.tty) this.timer = setInterval(() => this.draw(), 500);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  onRecord(record: JournalRecord): void {
    switch (record.op) {
      case 'run_started':
        this.running.set(record.trainer, { study: record.study, trial: record.trial, seed: record.seed, epoch: 0, epochs: 0 });
        return;
      case 'run_finished':
      case 'run_failed':
        for (const [trainer, r] of this.running) if (runId(r) === runId(record)) this.running.delete(trainer);
        if (record.op === 'run_failed') this.line(`run ${record.study}#${record.trial} seed ${record.seed} failed: ${record.failure.reason}`);
        return;
      case 'trial_finished': {
        // A pruned trial's runs in training are cancelled: no outcome will clear their trainers' lines.
        for (const [trainer, r] of this.running) if (r.study === record.study && r.trial === record.trial) this.running.delete(trainer);
        const trial = this.state.studies.get(record.study)?.trials[record.trial];
        if (trial === undefined) return;
        const value = trial.auc === undefined ? '' : ` AUC ${pm(trial.auc.mean, trial.auc.std)} AUPR ${pm(trial.aupr!.mean, trial.aupr!.std)}`;
        this.line(`${record.study} trial ${record.trial} ${record.state}${value} ${formatParams(trial.params)}${record.reason ? ` (${record.reason})` : ''} [${this.status()}]`);
        return;
      }
      default:
        return;
    }
  }

  onProgress(run: PendingRun, progress: RunProgress): void {
    const key = runId({ study: run.study.config.name, trial: run.trial.number, seed: run.seed });
    for (const r of this.running.values()) {
      if (runId(r) === key) {
        r.epoch = progress.epoch;
        r.epochs = progress.epochs;
      }
    }
  }

  /** A message that must be seen (trainer exits, retries): printed above the live block. */
  line(text: string): void {
    if (this.tty) {
      this.clear();
      this.out.write(text + '\n');
      this.draw();
    } else {
      this.out.write(text + '\n');
    }
  }

  private status(): string {
    const done = totalDone(this.state);
    return `runs ${done}/${totalRuns(this.state)}, elapsed ${duration((Date.now() - this.started) / 1000)}, ETA ${this.eta()}`;
  }

  /** Remaining runs at this session's pace so far. */
  private eta(): string {
    const doneNow = totalDone(this.state) - this.runsAtStart;
    const remaining = totalRuns(this.state) - totalDone(this.state);
    if (remaining <= 0) return '0s';
    if (doneNow === 0) return '?';
    return duration(((Date.now() - this.started) / 1000 / doneNow) * remaining);
  }

  private draw(): void {
    this.clear();
    const rows: string[][] = [['study', 'trials', 'best AUC', 'best AUPR', 'best configuration']];
    for (const study of this.state.studies.values()) {
      const best = study.progress.best;
      rows.push([
        study.config.name,
        `${study.progress.trialsDone}/${study.config.trials}`,
        best?.auc ? pm(best.auc.mean, best.auc.std) : '-',
        best?.aupr ? pm(best.aupr.mean, best.aupr.std) : '-',
        best ? formatParams(best.params) : '-',
      ]);
    }
    const trainers = [...this.running.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([t, r]) => `${t}: ${runId(r)}${r.epochs > 0 ? ` epoch ${r.epoch}/${r.epochs}` : ''}`);
    const text = [alignColumns(rows), this.status(), ...trainers].join('\n') + '\n';
    this.out.write(text);
    this.drawn = text.split('\n').length - 1;
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }
}

/** Runs the sweep will have trained at the end: a finished trial's seeds that never ran (pruned, failed) do not count. */
function totalRuns(state: SweepState): number {
  let n = 0;
  for (const s of state.studies.values()) {
    n += s.config.trials * s.config.seeds.length;
    for (const t of s.trials) if (t.state !== 'RUNNING') n -= s.config.seeds.length - t.runs.size;
  }
  return n;
}

function totalDone(state: SweepState): number {
  let n = 0;
  for (const s of state.studies.values()) n += s.progress.runsDone;
  return n;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
