import { readFileSync } from 'node:fs';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ConfigError } from '../../core/errors.js';
import { STUDY_SERVICE_DEFINITION, studyService, type StudyServiceOptions } from './study-service.js';

export interface ServeOptions extends StudyServiceOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** PEM files: TLS when a certificate and key are given; with a CA, clients must present certificates it signed. */
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  /** Largest accepted request message (bytes). */
  maxMessageBytes?: number;
}

/** The gRPC server: StudyService plus grpc.health.v1 (service '' and 'cellsweep.v1.StudyService'). */
export async function serveStudyService(opts: ServeOptions): Promise<{ server: Server; address: string; health: HealthImplementation }> {
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? 4 * 1024 * 1024,
    // Watchers hold streams open for hours: keep idle connections alive through proxies.
    'grpc.keepalive_time_ms': 60_000,
  });
  server.addService(STUDY_SERVICE_DEFINITION, studyService(opts));
  const health = new HealthImplementation({ '': 'SERVING', 'cellsweep.v1.StudyService': 'SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.listen, credentialsOf(opts), (err, bound) => (err ? reject(new ConfigError(`cannot listen on ${opts.listen}: ${err.message}`, { field: '--listen' })) : resolve(bound))),
  );
  const host = opts.listen.slice(0, opts.listen.lastIndexOf(':'));
  return { server, address: `${host}:${port}`, health };
}

function credentialsOf(opts: ServeOptions): ServerCredentials {
  if (opts.tlsCert === undefined && opts.tlsKey === undefined) {
    if (opts.tlsClientCa !== undefined) throw new ConfigError('--tls-client-ca needs --tls-cert and --tls-key', { field: '--tls-client-ca' });
    return ServerCredentials.createInsecure();
  }
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) throw new ConfigError('TLS needs both --tls-cert and --tls-key', { field: '--tls-cert' });
  const read = (path: string, field: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { field });
    }
  };
  const ca = opts.tlsClientCa === undefined ? null : read(opts.tlsClientCa, '--tls-client-ca');
  return ServerCredentials.createSsl(ca, [{ cert_chain: read(opts.tlsCert, '--tls-cert'), private_key: read(opts.tlsKey, '--tls-key') }], ca !== null);
}
