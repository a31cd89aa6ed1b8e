import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../e2e/helpers.js';

export interface TestCerts {
  ca: string;
  cert: string;
  key: string;
}

/** A throwaway CA and a certificate for 127.0.0.1/localhost signed by it (openssl, as an operator would). */
export function makeCerts(): TestCerts {
  const dir = tempDir('certs');
  const p = (name: string): string => join(dir, name);
  const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=cellsweep test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', p('server.key'), '-out', p('server.csr')]);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('ext.cnf'), '-out', p('server.pem')]);
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') };
}
