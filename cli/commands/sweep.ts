import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { loadSweepFile } from '../../coordinator/config/load-sweep.js';
import { LocalTrainerPool, type PoolEvent } from '../../coordinator/dispatch/local-pool.js';
import { FileJournal } from '../../coordinator/journal/file-journal.js';
import { JOURNAL_FORMAT_VERSION } from '../../coordinator/journal/records.js';
import { journalPath } from '../../coordinator/journal/sweep-dir.js';
import { replay } from '../../coordinator/journal/replay.js';
import { bestJson, summaryTable, trialsCsv } from '../../coordinator/report/outputs.js';
import { samplersByStudy } from '../../coordinator/samplers/index.js';
import { SweepRunner } from '../../coordinator/study/sweep-runner.js';
import { CoordinatorMetrics, type ObservedSweep } from '../../coordinator/telemetry/coordinator-metrics.js';
import { createRegistry, serveMetrics, type MetricsServer } from '../../core/telemetry/metrics-server.js';
import type { SweepState } from '../../coordinator/study/sweep-state.js';
import { checkBackendOption, intOption, parseCommand } from '../args.js';
import { checkDatasets } from '../check-datasets.js';
import { DEMO_SWEEP_YAML, demoSweep } from '../demo.js';
import { ProgressDisplay, duration } from '../progress.js';
import { remoteSweep } from './sweep-remote.js';

const USAGE = `Usage: cellsweep sweep [FILE] [--out DIR] [--trainers N] [--backend auto|tensorflow|wasm|cpu] [--hang-timeout SECONDS] [--metrics-listen HOST:PORT]
       cellsweep sweep --resume DIR [--trainers N] [--backend B] [--hang-timeout SECONDS] [--metrics-listen HOST:PORT]
       cellsweep sweep FILE --coordinator ADDR [--token-file F] [--tls-ca F]
       cellsweep sweep --coordinator ADDR --watch SWEEP_ID
       cellsweep sweep --print-demo
  --metrics-listen serves the sweep's Prometheus metrics (docs/metrics.md) over HTTP while it runs.
  --hang-timeout: a trainer that answers nothing this long during a run is killed and restarted, and the run delivered again (default 60).`;

const BIN = fileURLToPath(new URL('../../bin/cellsweep.mjs', import.meta.url));

/**
 * Runs a sweep in local mode: the coordinator in this process, N trainer
 * processes on loopback. Ctrl-C stops cleanly (running runs are cancelled and
 * will be redone); a second Ctrl-C quits at once. Either way the journal
 * holds every finished run and `--resume DIR` continues from there.
 */
export async function sweepCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      out: { type: 'string' },
      resume: { type: 'string' },
      trainers: { type: 'string' },
      backend: { type: 'string' },
      'print-demo': { type: 'boolean', default: false },
      coordinator: { type: 'string' },
      watch: { type: 'string' },
      'token-file': { type: 'string' },
      'tls-ca': { type: 'string' },
      'metrics-listen': { type: 'string' },
      'hang-timeout': { type: 'string' },
    },
    USAGE,
  );
  if (values.coordinator !== undefined) {
    if (values.resume !== undefined || values.out !== undefined || values.trainers !== undefined || values.backend !== undefined || values['metrics-listen'] !== undefined || values['hang-timeout'] !== undefined) {
      throw new ConfigError(`--coordinator sends the sweep to a cluster: --resume, --out, --trainers, --backend, --hang-timeout and --metrics-listen are the coordinator's business there\n\n${USAGE}`);
    }
    if (positionals.length > 1) throw new ConfigError(`expected at most one sweep file, but got ${positionals.length}\n\n${USAGE}`);
    return remoteSweep({
      address: values.coordinator,
      ...(positionals[0] === undefined ? {} : { file: positionals[0] }),
      ...(values.watch === undefined ? {} : { watch: values.watch }),
      ...(values['token-file'] === undefined ? {} : { tokenFile: values['token-file'] }),
      ...(values['tls-ca'] === undefined ? {} : { tlsCa: values['tls-ca'] }),
    });
  }
  if (values.watch !== undefined || values['token-file'] !== undefined || values['tls-ca'] !== undefined) {
    throw new ConfigError(`--watch, --token-file and --tls-ca go with --coordinator\n\n${USAGE}`);
  }
  if (values['print-demo']) {
    process.stdout.write(DEMO_SWEEP_YAML);
    return 0;
  }
  if (positionals.length > 1) throw new ConfigError(`expected at most one sweep file, but got ${positionals.length}\n\n${USAGE}`);
  const backend = checkBackendOption(values.backend);
  const trainersFlag = intOption(values.trainers, 'trainers', 1);
  const hangTimeout = values['hang-timeout'] === undefined ? undefined : Number(values['hang-timeout']);
  if (hangTimeout !== undefined && !(hangTimeout >= 1 && hangTimeout <= 86_400)) {
    throw new ConfigError(`expected seconds between 1 and 86400, but got '${values['hang-timeout']}'`, { field: '--hang-timeout' });
  }
  const log = (line: string): void => void process.stderr.write(line + '\n');

  let journal: FileJournal;
  let state: SweepState;
  let outDir: string;
  // Bound before the sweep directory is made: a busy port is bad input, and leaves nothing behind.
  let metrics: CoordinatorMetrics | undefined;
  let metricsServer: MetricsServer | undefined;
  const observed: ObservedSweep[] = [];
  if (values['metrics-listen'] !== undefined) {
    const registry = createRegistry('coordinator');
    metrics = new CoordinatorMetrics(registry, { sweeps: () => observed });
    metricsServer = await serveMetrics({ registry, listen: values['metrics-listen'], ready: () => ({ ok: true }) });
  }
  try {
    if (values.resume !== undefined) {
      if (positionals.length > 0 || values.out !== undefined) throw new ConfigError(`--resume takes the sweep directory only\n\n${USAGE}`);
      outDir = resolve(values.resume);
      const path = journalPath(outDir);
      if (!existsSync(path)) throw new ConfigError(`no sweep to resume: ${path} does not exist`, { field: '--resume' });
      journal = await FileJournal.open(path, { create: false });
      if (journal.repaired !== undefined) log(`journal: ${journal.repaired}`);
      state = replay(await journal.read(), path);
      log(`resuming sweep ${state.config.name} (${state.sweepId}) in ${outDir}`);
      await checkDatasets(state.config, log);
    } else {
      const file = positionals[0];
      const fromFile = file === undefined ? undefined : loadSweepFile(file);
      outDir = resolve(values.out ?? join('runs', `${fromFile?.name ?? 'demo'}-${timestamp()}`));
      if (existsSync(journalPath(outDir))) {
        throw new ConfigError(`${outDir} already holds a sweep: continue it with --resume ${outDir}, or choose another --out`, { field: '--out' });
      }
      if (fromFile === undefined) log('cellsweep: no sweep file given, running the embedded demo (see it with: cellsweep sweep --print-demo)');
      const config = fromFile ?? (await demoSweep(outDir));
      await checkDatasets(config, log);
      await mkdir(outDir, { recursive: true });
      journal = await FileJournal.open(journalPath(outDir), { create: true });
      const created = { op: 'sweep_created' as const, v: JOURNAL_FORMAT_VERSION, t: Date.now(), sweepId: randomUUID(), config };
      await journal.append([created]);
      state = replay([created]);
      log(`sweep ${config.name} (${created.sweepId}) in ${outDir}`);
    }

    observed.push({ id: state.sweepId, state });
    if (metricsServer !== undefined) log(`metrics on http://${metricsServer.address}/metrics`);
    if (state.status === 'complete') {
      log('this sweep is already complete');
      await writeOutputs(outDir, state);
      process.stdout.write(summaryTable(state) + '\n');
      await journal.close();
      return 0;
    }

    const trainers = trainersFlag ?? state.config.trainers ?? availableParallelism();
    const display = new ProgressDisplay(state);
    const outputs = new OutputWriter(outDir, state, (err) => display.line(`cannot write the result files (the journal has everything): ${err.message}`));
    const stop = new AbortController();
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts === 1) {
        display.line(`stopping: cancelling running runs (Ctrl-C again to quit at once); resume with: cellsweep sweep --resume ${outDir}`);
        stop.abort();
      } else {
        // Every finished run is already synced to the journal; nothing is lost by leaving now.
        process.exit(130);
      }
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);

    let pool: LocalTrainerPool | undefined;
    let status: 'complete' | 'stopped' = 'stopped';
    let failure: unknown;
    const started = Date.now();
    try {
      log(`starting ${trainers} trainer process${trainers === 1 ? '' : 'es'} (logs in ${join(outDir, 'trainers')})`);
      await mkdir(join(outDir, 'trainers'), { recursive: true });
      pool = await LocalTrainerPool.start({
        trainers,
        command: [process.execPath, BIN, 'trainer', '--exit-with-parent', '--backend', backend],
        logDir: join(outDir, 'trainers'),
        ...(hangTimeout === undefined ? {} : { hangTimeoutMs: hangTimeout * 1000 }),
        onEvent: (event) => display.line(describePoolEvent(event)),
      });
      log(`trainers ready (backend: ${pool.backends().join(', ')})`);
      const runner = new SweepRunner({
        state,
        journal,
        dispatcher: pool,
        samplerFor: metrics?.timed(samplersByStudy(), state.sweepId, state.config.name) ?? samplersByStudy(),
        onRecord: async (record) => {
          metrics?.record(state.sweepId, record, state);
          display.onRecord(record);
          if (record.op === 'trial_finished') outputs.request();
        },
        onProgress: (run, progress) => display.onProgress(run, progress),
      });
      display.start();
      if (!stop.signal.aborted) status = await runner.run(stop.signal);
    } catch (err) {
      failure = err;
    } finally {
      display.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await pool?.close();
      await journal.close();
    }
    // Also after a fatal error: the result files show every trial the journal holds.
    await outputs.flush();
    if (failure !== undefined) {
      log(`results so far: ${join(outDir, 'trials.csv')}; resume with: cellsweep sweep --resume ${outDir}`);
      throw failure;
    }
    process.stdout.write('\n' + summaryTable(state) + '\n\n');
    log(`${status === 'complete' ? 'sweep complete' : 'sweep stopped'} after ${duration((Date.now() - started) / 1000)}`);
    log(`results: ${join(outDir, 'best.json')}, ${join(outDir, 'trials.csv')}; journal: ${journalPath(outDir)}`);
    if (status === 'stopped') log(`resume with: cellsweep sweep --resume ${outDir}`);
    return status === 'complete' ? 0 : 130;
  } finally {
    await metricsServer?.close();
  }
}

async function writeOutputs(outDir: string, state: SweepState): Promise<void> {
  await writeFileAtomic(join(outDir, 'trials.csv'), trialsCsv(state));
  await writeFileAtomic(join(outDir, 'best.json'), JSON.stringify(bestJson(state), null, 2) + '\n');
  await writeFileAtomic(join(outDir, 'summary.txt'), summaryTable(state) + '\n');
}

/**
 * Rewrites the result files after trials finish, one write at a time: a
 * burst of finished trials coalesces into one more write of the latest state,
 * so files never race and the last write always holds the last state.
 */
class OutputWriter {
  private writing: Promise<void> = Promise.resolve();
  private pending = false;

  constructor(
    private readonly outDir: string,
    private readonly state: SweepState,
    private readonly onError: (err: Error) => void,
  ) {}

  request(): void {
    if (this.pending) return;
    this.pending = true;
    this.writing = this.writing.then(async () => {
      this.pending = false;
      await writeOutputs(this.outDir, this.state).catch((err: Error) => this.onError(err));
    });
  }

  /** Waits for queued writes, then writes the final state once more. */
  async flush(): Promise<void> {
    this.request();
    await this.writing;
  }
}

function describePoolEvent(event: PoolEvent): string {
  switch (event.type) {
    case 'trainer_exit':
      return `trainer ${event.trainer} (pid ${event.pid}) exited with ${event.how}${event.during ? ` while running ${event.during}` : ''}; restarting it`;
    case 'trainer_hung':
      return `trainer ${event.trainer} (pid ${event.pid}) answered nothing for ${event.timeoutMs / 1000} s while running ${event.during}; killing it (--hang-timeout sets the limit)`;
    case 'trainer_restarted':
      return `trainer ${event.trainer} restarted (pid ${event.pid})`;
    case 'trainer_given_up':
      return `trainer ${event.trainer} could not be restarted: ${event.error}`;
    case 'run_retry':
      return `run ${event.runId}: delivering again (attempt ${event.attempt}) after: ${event.error}`;
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
