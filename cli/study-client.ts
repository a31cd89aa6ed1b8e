import { readFileSync } from 'node:fs';
import { credentials, Metadata, type CallOptions, type ChannelCredentials } from '@grpc/grpc-js';
import { StudyServiceClient } from '../proto/gen/cellsweep/v1/study.js';
import { ConfigError } from '../core/errors.js';

export interface StudyClientOptions {
  address: string;
  /** Bearer token for mutating calls (CreateSweep, StopSweep). */
  token?: string;
  /** PEM CA to trust: TLS when given. */
  tlsCa?: string;
}

/** A StudyService client, and the metadata that carries its token. */
export function studyClient(opts: StudyClientOptions): { client: StudyServiceClient; metadata: Metadata } {
  let creds: ChannelCredentials = credentials.createInsecure();
  if (opts.tlsCa !== undefined) {
    try {
      creds = credentials.createSsl(readFileSync(opts.tlsCa));
    } catch (err) {
      throw new ConfigError(`cannot read ${opts.tlsCa}: ${(err as Error).message}`, { field: '--tls-ca' });
    }
  }
  const metadata = new Metadata();
  if (opts.token !== undefined) metadata.set('authorization', `Bearer ${opts.token}`);
  return { client: new StudyServiceClient(opts.address, creds), metadata };
}

/** A unary call as a promise. */
export function call<Req, Res>(
  method: (req: Req, metadata: Metadata, options: Partial<CallOptions>, cb: (err: Error | null, res: Res) => void) => unknown,
  client: StudyServiceClient,
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions> = {},
): Promise<Res> {
  return new Promise((resolve, reject) => method.call(client, req, metadata, options, (err, res) => (err ? reject(err) : resolve(res))));
}

/** The token from a file or CELLSWEEP_TOKEN, if either is given. */
export function tokenFrom(file: string | undefined): string | undefined {
  if (file === undefined) return process.env.CELLSWEEP_TOKEN?.trim() || undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read the token file: ${(err as Error).message}`, { field: '--token-file' });
  }
}
