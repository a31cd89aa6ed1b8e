import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { status, type ServiceError } from '@grpc/grpc-js';
import { SweepState } from '../../proto/gen/cellsweep/v1/study.js';
import { connectNats } from '../../core/nats/connect.js';
import { DEAD_LETTER_STREAM, subjects } from '../../core/nats/topology.js';
import { ensureTopology } from '../../coordinator/dispatch/nats-topology.js';
import { call, studyClient } from '../../cli/study-client.js';
import { cli, waitFor } from '../e2e/helpers.js';
import { NatsServer } from './nats-server.js';
import { makeCerts } from './certs.js';
import { TEST_TOKEN, TrainerPool, journalRecords, outcomesOnce, sleepSweepYaml, startCoordinator, startNatsTrainer, testClient } from './cluster-helpers.js';

const PERMISSIONS = readFileSync(fileURLToPath(new URL('../../deploy/nats/permissions.conf', import.meta.url)), 'utf8');
const PASSWORDS = { CELLSWEEP_NATS_COORDINATOR_PASSWORD: 'coordinator-secret-1', CELLSWEEP_NATS_TRAINER_PASSWORD: 'trainer-secret-1' };
const COORDINATOR = { NATS_USER: 'cellsweep-coordinator', NATS_PASSWORD: PASSWORDS.CELLSWEEP_NATS_COORDINATOR_PASSWORD };
const TRAINER = { NATS_USER: 'cellsweep-trainer', NATS_PASSWORD: PASSWORDS.CELLSWEEP_NATS_TRAINER_PASSWORD };

test('deploy/nats/permissions.conf: its two users run a sweep; the trainer user can do nothing else; malformed messages are dead-lettered or ignored', { timeout: 90_000 }, async () => {
  const server = await NatsServer.start({ config: PERMISSIONS, env: PASSWORDS });
  const admin = await connectNats({ servers: [server.url], name: 'test-as-coordinator', user: COORDINATOR.NATS_USER, password: COORDINATOR.NATS_PASSWORD });
  await ensureTopology(await jetstreamManager(admin), { ackWaitMs: 2000 });
  const coordinator = await startCoordinator(server.url, { env: COORDINATOR });
  const pool = new TrainerPool(server.url, 'p', 2, true, { env: TRAINER });
  const asTrainer = await connectNats({ servers: [server.url], name: 'test-as-trainer', user: TRAINER.NATS_USER, password: TRAINER.NATS_PASSWORD });
  try {
    // A run message no trainer can read: dead-lettered, and the trainer goes on.
    await jetstream(admin).publish('cellsweep.runs.garbage.eA', new Uint8Array([0xff, 0x01, 0x02]));
    const { yaml } = await sleepSweepYaml({ trials: 3, seeds: [1, 2], seconds: 0.5, parallel: 2 });
    const api = testClient(coordinator.address);
    const { sweepId } = await api.create(yaml);
    // An outcome that is not a RunEvent, on this sweep's subject (a broken trainer): ignored.
    await jetstream(asTrainer).publish(subjects.events(sweepId, 's1/0/1'), new Uint8Array([0x0a, 0xff, 0xff]));
    const sweep = await api.waitDone(sweepId, 60_000);
    assert.equal(sweep.state, SweepState.SWEEP_STATE_COMPLETE, coordinator.log());
    assert.equal(outcomesOnce(await journalRecords(admin, sweepId)).size, 6);
    const jsm = await jetstreamManager(admin);
    assert.ok((await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: subjects.deadLetter('unknown') })) !== null);
    assert.match(pool.logs(), /dead-lettering a malformed run message/);
    assert.equal(pool.all.length, 2, 'no trainer died');

    // The trainer user: no journal writes, no runs, no stream management.
    const js = jetstream(asTrainer, { timeout: 1500 });
    await assert.rejects(js.publish(subjects.journal(sweepId), new TextEncoder().encode('{}')));
    await assert.rejects(js.publish('cellsweep.runs.x.y', new Uint8Array(1)));
    await assert.rejects(async () => (await jetstreamManager(asTrainer, { timeout: 1500 })).streams.add({ name: 'EVIL', subjects: ['evil.>'] }));
    assert.equal((await journalRecords(admin, sweepId)).at(-1)?.op, 'sweep_finished', 'the journal is untouched');
  } finally {
    await pool.stop();
    coordinator.child.kill('SIGKILL');
    await coordinator.exited;
    await asTrainer.close();
    await admin.close();
    await server.stop();
  }
});

test('a trainer with the wrong NATS password exits at once with a message that says so', { timeout: 30_000 }, async () => {
  const server = await NatsServer.start({ config: PERMISSIONS, env: PASSWORDS });
  try {
    const trainer = startNatsTrainer(server.url, 'bad', { env: { NATS_USER: 'cellsweep-trainer', NATS_PASSWORD: 'wrong' } });
    const exit = await trainer.exited;
    assert.equal(exit.code, 2);
    assert.match(trainer.log(), /--nats.*cannot connect to NATS at .*: .*(authorization|authentication)/i);
  } finally {
    await server.stop();
  }
});

test('TLS end to end: NATS over TLS, StudyService over TLS, the CLI trusting the CA; a plaintext client is refused', { timeout: 90_000 }, async () => {
  const certs = makeCerts();
  const server = await NatsServer.start({ tls: true, config: `tls { cert_file: "${certs.cert}", key_file: "${certs.key}" }\n` });
  const natsTls = ['--nats-tls-ca', certs.ca];
  const coordinator = await startCoordinator(server.url, { extra: [...natsTls, '--tls-cert', certs.cert, '--tls-key', certs.key] });
  const pool = new TrainerPool(server.url, 'tls', 1, true, { args: natsTls });
  try {
    const { dir } = await sleepSweepYaml({ trials: 2, seeds: [1], seconds: 0.2, parallel: 1 });
    const tokenFile = join(dir, 'token');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(tokenFile, TEST_TOKEN);
    const result = await cli(['sweep', join(dir, 'sweep.yaml'), '--coordinator', coordinator.address, '--tls-ca', certs.ca, '--token-file', tokenFile]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /s1\s+sleep\s+2\/2\s+2\/2/);

    const plain = studyClient({ address: coordinator.address });
    const err = await call(plain.client.listSweeps, plain.client, { pageSize: 0, pageToken: '' }, plain.metadata, { deadline: Date.now() + 3000 }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    assert.ok(err !== undefined && (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED), `plaintext refused (${err?.code})`);
    await waitFor('the trainer to be idle', () => (pool.live().length === 1 ? true : undefined), 5000);
  } finally {
    await pool.stop();
    coordinator.child.kill('SIGKILL');
    await coordinator.exited;
    await server.stop();
  }
});

test('nkey authentication: coordinator and trainer connect with --nats-nkey seed files and run a sweep', { timeout: 60_000 }, async () => {
  const { nkeys } = await import('@nats-io/nats-core');
  const { writeFileSync } = await import('node:fs');
  const user = nkeys.createUser();
  const dir = (await import('../e2e/helpers.js')).tempDir('nkey');
  const seedFile = join(dir, 'user.nk');
  writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()), { mode: 0o600 });
  const server = await NatsServer.start({ config: `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n` });
  const coordinator = await startCoordinator(server.url, { extra: ['--nats-nkey', seedFile] });
  const pool = new TrainerPool(server.url, 'nk', 1, true, { args: ['--nats-nkey', seedFile] });
  const nc = await connectNats({ servers: [server.url], name: 'test-nkey', nkeyFile: seedFile });
  try {
    const { yaml } = await sleepSweepYaml({ trials: 2, seeds: [1, 2], seconds: 0.1, parallel: 2 });
    const api = testClient(coordinator.address);
    const { sweepId } = await api.create(yaml);
    assert.equal((await api.waitDone(sweepId, 30_000)).state, SweepState.SWEEP_STATE_COMPLETE);
    assert.equal(outcomesOnce(await journalRecords(nc, sweepId)).size, 4);
    const anonymous = startNatsTrainer(server.url, 'anon');
    assert.equal((await anonymous.exited).code, 2, 'no nkey, no connection');
  } finally {
    await pool.stop();
    coordinator.child.kill('SIGKILL');
    await coordinator.exited;
    await nc.close();
    await server.stop();
  }
});
