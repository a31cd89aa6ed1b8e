import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectionReadiness, connectNats } from '../../core/nats/connect.js';
import { createRegistry, serveMetrics, type MetricsServer } from '../../core/telemetry/metrics-server.js';
import { parseSweep } from '../../coordinator/config/load-sweep.js';
import { readQueueStats } from '../../coordinator/dispatch/nats-topology.js';
import { ClusterCoordinator, STOPPED_BY_REQUEST, type SweepHandle } from '../../coordinator/service/cluster-coordinator.js';
import { CoordinatorMetrics } from '../../coordinator/telemetry/coordinator-metrics.js';
import { serveStudyService } from '../../coordinator/service/server.js';
import type { SweepConfig } from '../../coordinator/config/sweep-config.js';
import { intOption, parseCommand } from '../args.js';
import { NATS_OPTIONS, NATS_USAGE, natsSettingsOf } from '../nats-options.js';

const USAGE = `Usage: cellsweep coordinator --nats URL [--listen HOST:PORT] (--token-file F | --no-auth)
         [--tls-cert F --tls-key F [--tls-client-ca F]] [--data-root DIR]
         [--ack-wait SECONDS] [--max-deliveries N] [--parallel N]
         [--metrics-listen HOST:PORT] [--batch SWEEP_FILE]
         ${NATS_USAGE}
  The bearer token for CreateSweep/StopSweep comes from --token-file or CELLSWEEP_TOKEN.
  --metrics-listen serves GET /metrics (Prometheus), /healthz and /readyz over HTTP.
  --batch runs one sweep (dataset paths relative to --data-root) and exits when it ends:
    0 complete (or stopped by request), 1 failed. Restarted, it continues the same sweep.`;

/**
 * The cluster-mode coordinator: serves StudyService over gRPC, keeps every
 * sweep's journal in JetStream and dispatches runs over NATS. Prints one JSON
 * line `{"event":"listening","address":...}` on stdout when it serves.
 * SIGTERM/SIGINT: stop serving and leave the runs in flight to the trainers;
 * the next coordinator continues every sweep.
 */
export async function coordinatorCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    argv,
    {
      ...NATS_OPTIONS,
      listen: { type: 'string', default: '127.0.0.1:50051' },
      'token-file': { type: 'string' },
      'no-auth': { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-client-ca': { type: 'string' },
      'data-root': { type: 'string' },
      'ack-wait': { type: 'string' },
      'max-deliveries': { type: 'string' },
      parallel: { type: 'string' },
      'metrics-listen': { type: 'string' },
      batch: { type: 'string' },
    },
    USAGE,
  );
  const log = (line: string): void => void process.stderr.write(`[coordinator] ${new Date().toISOString()} ${line}\n`);
  const token = readToken(values['token-file'], values['no-auth']);
  const ackWaitSeconds = values['ack-wait'] === undefined ? 60 : Number(values['ack-wait']);
  if (!(ackWaitSeconds >= 0.5 && ackWaitSeconds <= 3600)) throw new ConfigError(`expected seconds between 0.5 and 3600, but got '${values['ack-wait']}'`, { field: '--ack-wait' });

  const dataRoot = resolve(values['data-root'] ?? '.');
  const batchConfig = values.batch === undefined ? undefined : parseSweep(readBatchFile(values.batch), values.batch, dataRoot);

  const nc = await connectNats(natsSettingsOf(values, `cellsweep-coordinator ${hostname()}-${process.pid}`));
  log(`connected to NATS ${nc.getServer()}`);
  const natsReady = connectionReadiness(nc);
  let serving = false;
  let metrics: CoordinatorMetrics | undefined;
  let metricsServer: MetricsServer | undefined;
  // The coordinator is made below; the metrics read its sweeps only when scraped.
  let coordinatorRef: ClusterCoordinator | undefined;
  if (values['metrics-listen'] !== undefined) {
    const registry = createRegistry('coordinator');
    const jsm = await jetstreamManager(nc);
    metrics = new CoordinatorMetrics(registry, { sweeps: () => coordinatorRef?.list() ?? [] }, { stats: () => readQueueStats(jsm), connected: () => natsReady().ok });
    metricsServer = await serveMetrics({
      registry,
      listen: values['metrics-listen'],
      ready: () => (serving ? natsReady() : { ok: false, reason: 'starting: replaying journals' }),
    });
    log(`serving /metrics, /healthz and /readyz on http://${metricsServer.address}`);
  }
  const coordinator = await ClusterCoordinator.start({
    nc,
    ...(metrics === undefined ? {} : { metrics }),
    ackWaitMs: ackWaitSeconds * 1000,
    maxDeliveries: intOption(values['max-deliveries'], 'max-deliveries', 1) ?? 3,
    defaultParallel: intOption(values.parallel, 'parallel', 1) ?? 8,
    log,
  });
  coordinatorRef = coordinator;
  const { server, address } = await serveStudyService({
    coordinator,
    token,
    dataRoot,
    listen: values.listen,
    ...(values['tls-cert'] === undefined ? {} : { tlsCert: values['tls-cert'] }),
    ...(values['tls-key'] === undefined ? {} : { tlsKey: values['tls-key'] }),
    ...(values['tls-client-ca'] === undefined ? {} : { tlsClientCa: values['tls-client-ca'] }),
  });
  log(`serving StudyService on ${address}${values['tls-cert'] === undefined ? '' : ' (TLS)'}${token === undefined ? ' without authentication (--no-auth)' : ''}`);
  serving = true;
  process.stdout.write(JSON.stringify({ event: 'listening', address, ...(metricsServer === undefined ? {} : { metrics: metricsServer.address }) }) + '\n');

  let exitCode = 0;
  await new Promise<void>((done) => {
    let ended = false;
    const end = (code: number): void => {
      if (ended) return;
      ended = true;
      exitCode = code;
      done();
    };
    // A batch Job's pod stopped before its sweep ended must not count as complete: exit 143 and the Job runs it again.
    const stop = (why: string): void => {
      log(`stopping: ${why}; runs in flight stay with the trainers`);
      end(batchConfig === undefined ? 0 : 143);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    if (batchConfig !== undefined) {
      runBatch(coordinator, batchConfig, log).then(end, (err: Error) => {
        log(`batch sweep: ${err.message}`);
        end(1);
      });
    }
  });
  server.forceShutdown();
  await coordinator.close();
  await metricsServer?.close();
  await nc.drain().catch(() => nc.close());
  return exitCode;
}

/**
 * One sweep for a batch Job: the sweep of this configuration if the journal
 * has one (a restarted Job pod continues it; start() already resumed it),
 * else a new one. Prints one JSON line `{"event":"batch_ended",...}` with the
 * best trial of each study.
 */
async function runBatch(coordinator: ClusterCoordinator, config: SweepConfig, log: (line: string) => void): Promise<number> {
  const same = JSON.stringify(config);
  const existing = coordinator
    .list()
    .filter((s) => JSON.stringify(s.state.config) === same)
    .at(-1);
  const sweep: SweepHandle = existing ?? (await coordinator.create(config));
  log(`batch sweep ${config.name} (${sweep.id}): ${existing === undefined ? 'created' : `found in the journal (${existing.state.status})`}`);
  await sweep.done;
  const status = sweep.error !== undefined ? 'failed' : sweep.state.status;
  const best = [...sweep.state.studies.values()].map((study) => {
    const trial = study.progress.best;
    return { study: study.config.name, trial: trial?.number ?? null, auc: trial?.auc?.mean ?? null, aupr: trial?.aupr?.mean ?? null, params: trial?.params ?? null };
  });
  process.stdout.write(JSON.stringify({ event: 'batch_ended', sweepId: sweep.id, name: config.name, status, ...(sweep.error === undefined ? {} : { error: sweep.error.message }), best }) + '\n');
  log(`batch sweep ${config.name} (${sweep.id}): ${status}${sweep.error === undefined ? '' : `: ${sweep.error.message}`}`);
  if (status === 'complete') return 0;
  if (status === 'stopped' && sweep.state.stopReason === STOPPED_BY_REQUEST) return 0;
  return 1;
}

function readBatchFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the sweep file: ${(err as Error).message}`, { file, field: '--batch' });
  }
}

function readToken(file: string | undefined, noAuth: boolean | undefined): string | undefined {
  if (noAuth === true) {
    if (file !== undefined) throw new ConfigError('--no-auth and --token-file contradict each other', { field: '--no-auth' });
    return undefined;
  }
  let token = process.env.CELLSWEEP_TOKEN;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the token file: ${(err as Error).message}`, { field: '--token-file' });
    }
  }
  token = token?.trim();
  if (token === undefined || token === '') {
    throw new ConfigError('mutating calls need a bearer token: pass --token-file F (or set CELLSWEEP_TOKEN), or --no-auth on a trusted network', { field: '--token-file' });
  }
  if (token.length < 16) throw new ConfigError(`the token must be at least 16 characters, but has ${token.length}`, { field: '--token-file' });
  return token;
}
