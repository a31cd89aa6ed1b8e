import { readFileSync } from 'node:fs';
import { status, type ServiceError } from '@grpc/grpc-js';
import { SweepState, TrialState, type Sweep, type SweepEvent, type Trial } from '../../proto/gen/cellsweep/v1/study.js';
import { ConfigError, CellsweepError, ErrorCode } from '../../core/errors.js';
import { formatParams, fromWireParams } from '../../core/params.js';
import { alignColumns, pm } from '../../coordinator/report/outputs.js';
import { call, studyClient, tokenFrom } from '../study-client.js';

export interface RemoteSweepOptions {
  address: string;
  file?: string;
  /** Re-attach to a running sweep instead of creating one. */
  watch?: string;
  tokenFile?: string;
  tlsCa?: string;
}

/**
 * `cellsweep sweep FILE --coordinator ADDR`: submits the sweep file to a
 * coordinator, then follows it (WatchSweep) and prints every finished trial
 * and, at the end, the best configuration per study. Ctrl-C leaves the sweep
 * running on the coordinator; `--watch ID` follows it again.
 */
export async function remoteSweep(opts: RemoteSweepOptions): Promise<number> {
  const token = tokenFrom(opts.tokenFile);
  const { client, metadata } = studyClient({ address: opts.address, ...(token === undefined ? {} : { token }), ...(opts.tlsCa === undefined ? {} : { tlsCa: opts.tlsCa }) });
  const log = (line: string): void => void process.stderr.write(line + '\n');
  try {
    let sweepId = opts.watch;
    if (sweepId === undefined) {
      if (opts.file === undefined) throw new ConfigError('give a sweep file to submit, or --watch SWEEP_ID');
      let yaml: string;
      try {
        yaml = readFileSync(opts.file, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read the sweep file: ${(err as Error).message}`, { file: opts.file });
      }
      const created = await call(client.createSweep, client, { configYaml: yaml }, metadata, { deadline: Date.now() + 30_000 }).catch(rpcError(opts.address));
      sweepId = created.sweepId;
      log(`sweep ${created.name} (${sweepId}) created on ${opts.address}; Ctrl-C stops watching, not the sweep (watch again: cellsweep sweep --coordinator ${opts.address} --watch ${sweepId})`);
    }
    const final = await follow(client.watchSweep({ sweepId, includeRunProgress: false }), log).catch(rpcError(opts.address));
    const best = await call(client.getBest, client, { sweepId }, metadata).catch(rpcError(opts.address));
    process.stdout.write('\n' + bestTable(final, best.best) + '\n\n');
    log(`sweep ${final.name} ${SweepState[final.state].replace('SWEEP_STATE_', '').toLowerCase()} after ${final.elapsedSeconds.toFixed(1)} s`);
    return final.state === SweepState.SWEEP_STATE_COMPLETE ? 0 : 1;
  } finally {
    client.close();
  }
}

function follow(stream: NodeJS.EventEmitter & { cancel(): void }, log: (line: string) => void): Promise<Sweep> {
  return new Promise((resolve, reject) => {
    let last: Sweep | undefined;
    const onSigint = (): void => {
      stream.cancel();
      reject(new CellsweepError(ErrorCode.Interrupted, 'stopped watching; the sweep goes on'));
    };
    process.once('SIGINT', onSigint);
    stream.on('data', (event: SweepEvent) => {
      switch (event.event?.$case) {
        case 'snapshot':
          last = event.event.value;
          return;
        case 'trials':
          for (const t of event.event.value.trials) if (t.state !== TrialState.TRIAL_STATE_RUNNING && t.state !== TrialState.TRIAL_STATE_WAITING) log(trialLine(t));
          return;
        case 'finished':
          return;
      }
    });
    stream.on('error', (err) => {
      process.off('SIGINT', onSigint);
      reject(err);
    });
    stream.on('end', () => {
      process.off('SIGINT', onSigint);
      if (last === undefined) reject(new Error('the coordinator ended the watch without a snapshot'));
      else resolve(last);
    });
  });
}

function trialLine(t: Trial): string {
  const state = TrialState[t.state].replace('TRIAL_STATE_', '');
  const score = t.auc === undefined ? '' : ` AUC ${pm(t.auc.mean, t.auc.std)}${t.aupr === undefined ? '' : ` AUPR ${pm(t.aupr.mean, t.aupr.std)}`}`;
  return `${t.study} trial ${t.number} ${state}${score} ${formatParams(fromWireParams(t.params))}${t.reason === '' ? '' : ` (${t.reason})`}`;
}

function bestTable(sweep: Sweep, best: Trial[]): string {
  const rows = [['study', 'model', 'trials', 'runs', 'best AUC', 'best AUPR', 'trial', 'configuration']];
  for (const s of sweep.studies) {
    const b = best.find((t) => t.study === s.name);
    rows.push([
      s.name,
      s.model,
      `${s.trialsDone}/${s.trialsTotal}`,
      `${s.runsDone}/${s.runsTotal}`,
      b?.auc === undefined ? '-' : pm(b.auc.mean, b.auc.std),
      b?.aupr === undefined ? '-' : pm(b.aupr.mean, b.aupr.std),
      b === undefined ? '-' : `#${b.number}`,
      b === undefined ? '-' : formatParams(fromWireParams(b.params)),
    ]);
  }
  return alignColumns(rows);
}

/** gRPC errors as the CLI's errors: bad input exits 2 with the coordinator's message. */
function rpcError(address: string): (err: ServiceError) => never {
  return (err) => {
    if (err instanceof CellsweepError) throw err;
    if (err.code === status.INVALID_ARGUMENT || err.code === status.NOT_FOUND) throw new ConfigError(`the coordinator refused: ${err.details}`);
    if (err.code === status.UNAUTHENTICATED) throw new ConfigError(`the coordinator refused: ${err.details} (give --token-file or CELLSWEEP_TOKEN)`);
    if (err.code === status.UNAVAILABLE) throw new CellsweepError(ErrorCode.Dispatch, `cannot reach the coordinator at ${address}: ${err.details}`);
    throw new CellsweepError(ErrorCode.Dispatch, `the coordinator at ${address} answered ${status[err.code]}: ${err.details}`);
  };
}
