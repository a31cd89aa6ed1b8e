import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { alive, cli, freePort, tempDir } from '../e2e/helpers.js';
import { sleepSweepYaml } from './cluster-helpers.js';

const SCRIPT = fileURLToPath(new URL('../../deploy/local/cluster.sh', import.meta.url));

test('make cluster-up / cluster-down (deploy/local/cluster.sh): separate processes that run a submitted sweep, all gone afterwards', { timeout: 90_000 }, async () => {
  const dir = tempDir('cluster-up');
  const env = { ...process.env, CLUSTER_DIR: join(dir, 'state'), NATS_PORT: String(await freePort()), LISTEN: `127.0.0.1:${await freePort()}`, TRAINERS: '2' };
  const up = await promisify(execFile)(SCRIPT, ['up'], { env });
  assert.match(up.stdout, /cluster up: .* 2 trainers/);
  const pids = readFileSync(join(dir, 'state', 'pids'), 'utf8').trim().split('\n').map(Number);
  assert.equal(pids.length, 4, 'nats-server, a coordinator and 2 trainers');
  try {
    const { dir: sweepDir } = await sleepSweepYaml({ trials: 3, seeds: [1, 2], seconds: 0.2, parallel: 2 });
    const result = await cli(['sweep', join(sweepDir, 'sweep.yaml'), '--coordinator', env.LISTEN, '--token-file', join(dir, 'state', 'token')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /s1\s+sleep\s+3\/3\s+6\/6/);
    const refused = await cli(['sweep', join(sweepDir, 'sweep.yaml'), '--coordinator', env.LISTEN], { CELLSWEEP_TOKEN: '' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /needs an authorization: Bearer <token> header/);
  } finally {
    const down = await promisify(execFile)(SCRIPT, ['down'], { env });
    assert.match(down.stdout, /cluster down/);
  }
  assert.deepEqual(pids.filter(alive), [], 'every process of the cluster has exited');
});
