import { hostname } from 'node:os';
import { ConfigError } from '../../core/errors.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { startTrainerServer } from '../../trainer/worker/trainer-server.js';
import { checkBackendOption, intOption, parseCommand } from '../args.js';
import { VERSION } from '../version.js';
import { connectionReadiness, connectNats } from '../../core/nats/connect.js';
import { createRegistry, serveMetrics, type MetricsServer } from '../../core/telemetry/metrics-server.js';
import { TrainerMetrics } from '../../trainer/telemetry/trainer-metrics.js';
import { NATS_OPTIONS, NATS_USAGE, natsSettingsOf } from '../nats-options.js';
import { runNatsWorker } from '../../trainer/worker/nats-worker.js';

const USAGE = `Usage: cellsweep trainer [--port P] [--host H] [--id ID] [--backend auto|tensorflow|wasm|cpu] [--exit-with-parent]
       cellsweep trainer --nats URL [--id ID] [--backend B] [--metrics-listen HOST:PORT] ${NATS_USAGE}
  --metrics-listen serves GET /metrics (Prometheus), /healthz and /readyz (connected to NATS) over HTTP.`;

/**
 * A trainer process. Prints one JSON line `{"event":"listening",...}` on
 * stdout when it serves (the local pool reads it); logs go to stderr.
 * With --exit-with-parent it exits when its stdin closes, so trainers of a
 * CLI that was killed -9 do not linger.
 */
export async function trainerCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    argv,
    {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      id: { type: 'string' },
      backend: { type: 'string' },
      'exit-with-parent': { type: 'boolean', default: false },
      'metrics-listen': { type: 'string' },
      ...NATS_OPTIONS,
    },
    USAGE,
  );
  const trainerId = values.id ?? `${hostname()}-${process.pid}`;
  const log = (line: string): void => void process.stderr.write(`[trainer ${trainerId}] ${new Date().toISOString()} ${line}\n`);
  const backend = await selectBackend(checkBackendOption(values.backend));
  const datasets = new DatasetCache(async (dir) => {
    const t0 = performance.now();
    const prepared = await loadPrepared(dir);
    log(`dataset ${dir}: ${prepared.bulk.rows} bulk x ${prepared.cells.rows} cells x ${prepared.genes.length} genes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const step of prepared.report) log(`  ${step.step}: ${step.detail}`);
    return prepared;
  });
  if (values.nats !== undefined || process.env.NATS_URL !== undefined) {
    return natsTrainer(values, trainerId, backend.name, datasets, log);
  }
  if (values['metrics-listen'] !== undefined) throw new ConfigError('--metrics-listen is for cluster mode (--nats); a local pool trainer is watched through its sweep', { field: '--metrics-listen' });
  const { server, address } = await startTrainerServer({
    host: values.host,
    port: intOption(values.port, 'port', 0) ?? 0,
    trainerId,
    backend: backend.name,
    datasets,
    version: VERSION,
    log,
  });
  log(`serving on ${address} with backend ${backend.name}`);
  process.stdout.write(JSON.stringify({ event: 'listening', address, trainerId, backend: backend.name }) + '\n');

  await new Promise<void>((resolve) => {
    const stop = (why: string): void => {
      log(`stopping: ${why}`);
      server.forceShutdown();
      // An open stdin would keep the event loop, and so the process, alive.
      process.stdin.destroy();
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    if (values['exit-with-parent']) {
      process.stdin.once('end', () => stop('parent closed stdin'));
      process.stdin.once('close', () => stop('parent closed stdin'));
      process.stdin.resume();
    }
  });
  return 0;
}

/**
 * Cluster mode: take runs from NATS until SIGTERM/SIGINT. On a signal the run
 * in training is handed back (another trainer takes it at once) and the
 * process exits 0; a NATS outage is waited out.
 */
async function natsTrainer(
  values: Parameters<typeof natsSettingsOf>[0] & { 'metrics-listen'?: string | undefined },
  trainerId: string,
  backend: string,
  datasets: DatasetCache,
  log: (line: string) => void,
): Promise<number> {
  const settings = natsSettingsOf(values, `cellsweep-trainer ${trainerId}`);
  const nc = await connectNats(settings);
  log(`connected to NATS ${nc.getServer()} with backend ${backend}`);
  let metrics: TrainerMetrics | undefined;
  let metricsServer: MetricsServer | undefined;
  if (values['metrics-listen'] !== undefined) {
    const registry = createRegistry('trainer');
    metrics = new TrainerMetrics(registry, { trainerId, backend });
    metricsServer = await serveMetrics({ registry, listen: values['metrics-listen'], ready: connectionReadiness(nc) });
    log(`serving /metrics, /healthz and /readyz on http://${metricsServer.address}`);
  }
  process.stdout.write(JSON.stringify({ event: 'ready', trainerId, backend, nats: nc.getServer(), ...(metricsServer === undefined ? {} : { metrics: metricsServer.address }) }) + '\n');
  const stop = new AbortController();
  const onSignal = (name: string): void => {
    log(`stopping: ${name}`);
    stop.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    await runNatsWorker({ nc, trainerId, backend, datasets, signal: stop.signal, log, ...(metrics === undefined ? {} : { metrics }) });
  } finally {
    await metricsServer?.close();
    await nc.drain().catch(() => nc.close());
  }
  return 0;
}
