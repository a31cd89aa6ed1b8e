import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toWireParams } from '../../core/params.js';
import { LocalTrainerPool, type LocalPoolOptions, type PoolEvent } from '../../coordinator/dispatch/local-pool.js';
import { BIN, tempDir, tinyDataset } from '../e2e/helpers.js';

/** Two real wasm trainers, and the pool's events in `events`. */
function startPool(dir: string, events: PoolEvent[], extra: Partial<LocalPoolOptions> = {}): Promise<LocalTrainerPool> {
  return LocalTrainerPool.start({
    trainers: 2,
    command: [process.execPath, BIN, 'trainer', '--exit-with-parent', '--backend', 'wasm'],
    logDir: dir,
    onEvent: (e) => events.push(e),
    ...extra,
  });
}

/**
 * Real trainer processes: one is killed (-9) in the middle of a run. The
 * death is reported, the trainer restarted, the run delivered again.
 */
test('a trainer killed mid-run is reported and restarted; its run is delivered again and completes', { timeout: 180_000 }, async () => {
  const dir = tempDir('pool');
  const dataset = await tinyDataset(join(dir, 'd'), 'data6');
  const events: PoolEvent[] = [];
  const pool = await startPool(dir, events);
  try {
    assert.equal(pool.capacity, 2);
    const pids = pool.pids();
    assert.equal(pids.length, 2);
    const starts: Array<{ trainer: string; attempt: number }> = [];
    let killed = false;
    const outcome = await pool.run(
      { runId: 's/0/42', study: 's', trial: 0, seed: 42, model: 'bulk-mlp', params: toWireParams({ epochs: 40 }), dataset, reportEpochMetrics: false, interpret: false },
      {
        signal: new AbortController().signal,
        onStart: (trainer, attempt) => starts.push({ trainer, attempt }),
        onProgress: (p) => {
          if (!killed && p.epoch === 2) {
            killed = true;
            const victim = starts[0]!.trainer === 't1' ? pids[0]! : pids[1]!;
            process.kill(victim, 'SIGKILL');
          }
        },
      },
    );
    assert.ok(outcome.result !== undefined, JSON.stringify(outcome));
    assert.equal(starts.length, 2);
    assert.equal(starts[1]!.attempt, 2);
    const exit = events.find((e) => e.type === 'trainer_exit');
    assert.ok(exit !== undefined && exit.type === 'trainer_exit');
    assert.equal(exit.how, 'signal SIGKILL');
    assert.equal(exit.during, 's/0/42');
    await waitUntil(() => events.some((e) => e.type === 'trainer_restarted'));
    assert.equal(pool.capacity, 2);
    assert.equal(pool.pids().length, 2);
    // The new incarnation's stderr reaches its log file a little after its listening line reached the pool.
    const log = join(dir, `${starts[0]!.trainer}.log`);
    await waitUntil(() => (readFileSync(log, 'utf8').match(/serving on/g) ?? []).length >= 2, 10_000);
    assert.match(readFileSync(log, 'utf8'), /serving on 127\.0\.0\.1:\d+ with backend wasm[\s\S]*serving on 127\.0\.0\.1:\d+ with backend wasm/);
    const retry = events.find((e) => e.type === 'run_retry');
    assert.ok(retry !== undefined && retry.type === 'run_retry');
    assert.match(retry.error, new RegExp(`\\(pid ${exit.pid}\\) exited with signal SIGKILL during the run`), 'the message names the pid that died');
    assert.notEqual(starts[1]!.trainer, starts[0]!.trainer, 'the retry went to the other trainer');

    // A SIGTERM'd trainer (what `kill PID` sends) exits and is reported and restarted too.
    const [victim] = pool.pids();
    const before = events.length;
    process.kill(victim!, 'SIGTERM');
    await waitUntil(() => events.slice(before).some((e) => e.type === 'trainer_restarted'));
    assert.ok(events.slice(before).some((e) => e.type === 'trainer_exit' && e.pid === victim));
    assert.equal(pool.pids().length, 2);
  } finally {
    const t0 = Date.now();
    await pool.close();
    assert.ok(Date.now() - t0 < 1500, `close() took ${Date.now() - t0} ms: trainers must exit on SIGTERM, not wait for SIGKILL`);
  }
});

/**
 * A trainer that stops answering (SIGSTOP: alive, silent, as a process stuck
 * in a driver call) must not hold its run forever: the keepalive pings go
 * unanswered, the pool kills it, restarts it, and delivers the run again.
 */
test('a trainer that stops answering mid-run is killed as hung and restarted; its run completes on another trainer', { timeout: 120_000 }, async () => {
  const dir = tempDir('pool-hung');
  const dataset = await tinyDataset(join(dir, 'd'), 'data6');
  const events: PoolEvent[] = [];
  const pool = await startPool(dir, events, { hangTimeoutMs: 3000 });
  const [pid1, pid2] = pool.pids();
  let stopped: number | undefined;
  try {
    const starts: string[] = [];
    const t0 = Date.now();
    const outcome = await pool.run(
      { runId: 's/0/42', study: 's', trial: 0, seed: 42, model: 'sleep', params: toWireParams({ seconds: 6, epochs: 6 }), dataset, reportEpochMetrics: false, interpret: false },
      {
        signal: new AbortController().signal,
        onStart: (trainer) => starts.push(trainer),
        onProgress: (p) => {
          if (stopped === undefined && p.epoch === 1) {
            stopped = starts[0] === 't1' ? pid1! : pid2!;
            process.kill(stopped, 'SIGSTOP');
          }
        },
      },
    );
    assert.ok(outcome.result !== undefined, JSON.stringify(outcome));
    assert.equal(starts.length, 2, `delivered ${starts.length} times: ${JSON.stringify(events)}`);
    assert.notEqual(starts[1], starts[0], 'the retry went to the other trainer');
    const hung = events.find((e) => e.type === 'trainer_hung');
    assert.deepEqual(hung, { type: 'trainer_hung', trainer: starts[0], pid: stopped, during: 's/0/42', timeoutMs: 3000 });
    const exit = events.find((e) => e.type === 'trainer_exit');
    assert.ok(exit !== undefined && exit.type === 'trainer_exit');
    assert.deepEqual([exit.pid, exit.how, exit.during], [stopped, 'signal SIGKILL', 's/0/42']);
    const retry = events.find((e) => e.type === 'run_retry');
    assert.ok(retry !== undefined && retry.type === 'run_retry');
    assert.match(retry.error, new RegExp(`\\(pid ${stopped}\\) answered no keepalive ping for 3 s during the run and was killed`));
    // Detected within keepalive interval + timeout (3 + 3 s) of the stop, then 6 s of run on the other trainer.
    assert.ok(Date.now() - t0 < 25_000, `took ${Date.now() - t0} ms`);
    await waitUntil(() => events.some((e) => e.type === 'trainer_restarted'));
    assert.equal(pool.pids().length, 2);
    assert.ok(!pool.pids().includes(stopped!), 'the stopped process is gone');
  } finally {
    if (stopped !== undefined && pool.pids().includes(stopped)) process.kill(stopped, 'SIGKILL');
    await pool.close();
  }
});

test('a trainer command that cannot start is an error, not a hang', { timeout: 30_000 }, async () => {
  const dir = tempDir('pool-bad');
  await assert.rejects(
    LocalTrainerPool.start({ trainers: 1, command: ['/nonexistent/node-binary'], logDir: dir }),
    /trainer t1 ended \(spawn error: spawn \/nonexistent\/node-binary ENOENT\) before it was ready/,
  );
  await assert.rejects(
    LocalTrainerPool.start({ trainers: 1, command: [process.execPath, '-e', 'process.exit(3)', '--'], logDir: dir }),
    /trainer t1 ended \(exit code 3\) before it was ready/,
  );
});

test('a trainer that prints something other than its listening line is an error naming the line', { timeout: 30_000 }, async () => {
  const dir = tempDir('pool-line');
  await assert.rejects(
    LocalTrainerPool.start({ trainers: 1, command: [process.execPath, '-e', 'console.log(JSON.stringify({ event: "ready" })); setInterval(() => {}, 1000)', '--'], logDir: dir }),
    /trainer t1 printed "\{\\"event\\":\\"ready\\"\}" instead of \{"event":"listening","address":\.\.\.\}/,
  );
});

test('NATS_URL in the environment does not turn a local pool\'s trainers into cluster workers', { timeout: 90_000 }, async () => {
  const dir = tempDir('pool-env');
  // Nothing listens on port 1: a trainer that read NATS_URL would wait for NATS and never print its address.
  const pool = await LocalTrainerPool.start({
    trainers: 1,
    command: [process.execPath, BIN, 'trainer', '--exit-with-parent', '--backend', 'wasm'],
    logDir: dir,
    env: { ...process.env, NATS_URL: 'nats://127.0.0.1:1' },
  });
  await pool.close();
  assert.match(readFileSync(join(dir, 't1.log'), 'utf8'), /serving on 127\.0\.0\.1:\d+/);
});

async function waitUntil(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
