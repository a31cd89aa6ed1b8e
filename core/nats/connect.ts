import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { ConfigError } from '../errors.js';
import { connectTurnBatched } from './turn-batched-transport.js';

/**
 * How a coordinator or a trainer reaches NATS. Credentials come from files or
 * the environment, never from the command line (where `ps` would show them).
 */
export interface NatsSettings {
  servers: string[];
  /** User and password (NATS_USER / NATS_PASSWORD). */
  user?: string;
  password?: string;
  /** A decentralised-auth creds file (JWT + nkey seed). */
  credsFile?: string;
  /** A file holding an nkey seed (SU...). */
  nkeyFile?: string;
  /** TLS: CA bundle to trust, and a client certificate and key for mutual TLS. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Shown on the server's monitoring pages. */
  name: string;
}

/** Settings from flags (already parsed) and the NATS_* environment variables. */
export function natsSettings(
  flags: { url?: string | undefined; creds?: string | undefined; nkey?: string | undefined; tlsCa?: string | undefined; tlsCert?: string | undefined; tlsKey?: string | undefined },
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): NatsSettings {
  const url = flags.url ?? env.NATS_URL;
  if (url === undefined || url === '') throw new ConfigError('no NATS server given: pass --nats URL or set NATS_URL', { field: '--nats' });
  const settings: NatsSettings = { servers: url.split(',').map((s) => s.trim()), name };
  const pick = <K extends keyof NatsSettings>(key: K, value: NatsSettings[K] | undefined): void => {
    if (value !== undefined && value !== '') settings[key] = value;
  };
  pick('user', env.NATS_USER);
  pick('password', env.NATS_PASSWORD);
  pick('credsFile', flags.creds ?? env.NATS_CREDS);
  pick('nkeyFile', flags.nkey ?? env.NATS_NKEY);
  pick('tlsCa', flags.tlsCa ?? env.NATS_TLS_CA);
  pick('tlsCert', flags.tlsCert ?? env.NATS_TLS_CERT);
  pick('tlsKey', flags.tlsKey ?? env.NATS_TLS_KEY);
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined)) {
    throw new ConfigError('a TLS client certificate needs its key and the key its certificate (--nats-tls-cert with --nats-tls-key)', { field: '--nats-tls-cert' });
  }
  return settings;
}

/**
 * Connects and keeps reconnecting for as long as the process lives: a NATS
 * restart is an outage to wait out, not a reason to exit (tests/fault).
 */
export async function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  const opts: NodeConnectionOptions = {
    servers: settings.servers,
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    // nats.js otherwise builds two Error objects (with stack traces) for every
    // request, a JetStream publish included, in case it fails: a quarter of a
    // millisecond of coordinator CPU per run in bench/cluster's profile. Our
    // errors name the subject and run themselves.
    noAsyncTraces: true,
  };
  if (settings.user !== undefined) opts.user = settings.user;
  if (settings.password !== undefined) opts.pass = settings.password;
  if (settings.credsFile !== undefined) opts.authenticator = credsAuthenticator(readSecret(settings.credsFile, '--nats-creds'));
  else if (settings.nkeyFile !== undefined) {
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(readSecret(settings.nkeyFile, '--nats-nkey').toString('utf8').trim()));
  }
  if (settings.tlsCa !== undefined || settings.tlsCert !== undefined) {
    opts.tls = {
      ...(settings.tlsCa === undefined ? {} : { caFile: settings.tlsCa }),
      ...(settings.tlsCert === undefined ? {} : { certFile: settings.tlsCert }),
      ...(settings.tlsKey === undefined ? {} : { keyFile: settings.tlsKey }),
    };
  }
  try {
    return await connectTurnBatched(opts);
  } catch (err) {
    throw new ConfigError(`cannot connect to NATS at ${settings.servers.join(', ')}: ${(err as Error).message}`, { field: '--nats' });
  }
}

function readSecret(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { field });
  }
}

/**
 * Whether `nc` is connected now, for readiness probes: false from a
 * disconnect until the reconnect, and for good once the connection closes.
 */
export function connectionReadiness(nc: NatsConnection): () => { ok: true } | { ok: false; reason: string } {
  let down: string | undefined;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') down = `disconnected from NATS ${status.server}`;
      else if (status.type === 'reconnect') down = undefined;
    }
  })().catch(() => undefined);
  return () => {
    if (nc.isClosed()) return { ok: false, reason: 'the NATS connection is closed' };
    return down === undefined ? { ok: true } : { ok: false, reason: down };
  };
}
