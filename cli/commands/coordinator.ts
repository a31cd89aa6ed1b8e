import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { connectNats } from '../../core/nats/connect.js';
import { ClusterCoordinator } from '../../coordinator/service/cluster-coordinator.js';
import { serveStudyService } from '../../coordinator/service/server.js';
import { intOption, parseCommand } from '../args.js';
import { NATS_OPTIONS, NATS_USAGE, natsSettingsOf } from '../nats-options.js';

const USAGE = `Usage: cellsweep coordinator --nats URL [--listen HOST:PORT] (--token-file F | --no-auth)
         [--tls-cert F --tls-key F [--tls-client-ca F]] [--data-root DIR]
         [--ack-wait SECONDS] [--max-deliveries N] [--parallel N]
         ${NATS_USAGE}
  The bearer token for CreateSweep/StopSweep comes from --token-file or CELLSWEEP_TOKEN.`;

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
    },
    USAGE,
  );
  const log = (line: string): void => void process.stderr.write(`[coordinator] ${new Date().toISOString()} ${line}\n`);
  const token = readToken(values['token-file'], values['no-auth']);
  const ackWaitSeconds = values['ack-wait'] === undefined ? 60 : Number(values['ack-wait']);
  if (!(ackWaitSeconds >= 0.5 && ackWaitSeconds <= 3600)) throw new ConfigError(`expected seconds between 0.5 and 3600, but got '${values['ack-wait']}'`, { field: '--ack-wait' });

  const nc = await connectNats(natsSettingsOf(values, `cellsweep-coordinator ${hostname()}-${process.pid}`));
  log(`connected to NATS ${nc.getServer()}`);
  const coordinator = await ClusterCoordinator.start({
    nc,
    ackWaitMs: ackWaitSeconds * 1000,
    maxDeliveries: intOption(values['max-deliveries'], 'max-deliveries', 1) ?? 3,
    defaultParallel: intOption(values.parallel, 'parallel', 1) ?? 8,
    log,
  });
  const { server, address } = await serveStudyService({
    coordinator,
    token,
    dataRoot: resolve(values['data-root'] ?? '.'),
    listen: values.listen,
    ...(values['tls-cert'] === undefined ? {} : { tlsCert: values['tls-cert'] }),
    ...(values['tls-key'] === undefined ? {} : { tlsKey: values['tls-key'] }),
    ...(values['tls-client-ca'] === undefined ? {} : { tlsClientCa: values['tls-client-ca'] }),
  });
  log(`serving StudyService on ${address}${values['tls-cert'] === undefined ? '' : ' (TLS)'}${token === undefined ? ' without authentication (--no-auth)' : ''}`);
  process.stdout.write(JSON.stringify({ event: 'listening', address }) + '\n');

  await new Promise<void>((done) => {
    const stop = (why: string): void => {
      log(`stopping: ${why}; runs in flight stay with the trainers`);
      done();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  server.forceShutdown();
  await coordinator.close();
  await nc.drain().catch(() => nc.close());
  return 0;
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
