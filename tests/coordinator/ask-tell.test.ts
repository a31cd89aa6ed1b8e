import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSampler } from '../../coordinator/samplers/index.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';
import type { SearchSpace } from '../../coordinator/space/search-space.js';
import { AskTellLog } from '../../coordinator/study/ask-tell-log.js';
import { handleRequest } from '../../coordinator/study/ask-tell-protocol.js';
import { AskTellStudy } from '../../coordinator/study/ask-tell.js';
import { BIN } from '../e2e/helpers.js';

const line: SearchSpace = { params: [['x', { type: 'float', low: -5, high: 5, log: false }]] };

function temp(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'cellsweep-asktell-')), name);
}

test('ask, tell, best; minimising studies give samplers the negated value', () => {
  const study = new AskTellStudy(line, createSampler('tpe', 1, { n_startup_trials: 3 }), 'minimize');
  for (let i = 0; i < 25; i++) {
    const { trial, params } = study.ask()!;
    study.tell(trial, { state: 'COMPLETE', value: ((params.x as number) - 2) ** 2 });
  }
  const best = study.best()!;
  assert.ok(Math.abs((best.params.x as number) - 2) < 0.5, `TPE found x near 2: ${best.params.x}`);
  assert.equal(best.value, Math.min(...study.trials().map((t) => t.value!)));
});

test('bad tells are errors that change nothing', () => {
  const study = new AskTellStudy(line, createSampler('random', 1));
  const { trial } = study.ask()!;
  const before = JSON.stringify(study.trials());
  assert.throws(() => study.tell(5, { state: 'COMPLETE', value: 1 }), /field 'trial': trial 5 was never asked \(1 asked so far\)/);
  assert.throws(() => study.tell(trial, { state: 'COMPLETE', value: Number.NaN }), /field 'value': expected a finite value, but got NaN/);
  assert.throws(() => study.tell(trial, { state: 'PRUNED', intermediate: [0.1, Number.POSITIVE_INFINITY] }), /field 'intermediate': expected a list of finite intermediate values/);
  assert.throws(() => study.tell(trial, { state: 'DONE' } as never), /expected state COMPLETE, PRUNED or FAIL, but got "DONE"/);
  assert.equal(JSON.stringify(study.trials()), before);
  study.tell(trial, { state: 'FAIL' });
  assert.throws(() => study.tell(trial, { state: 'COMPLETE', value: 1 }), /trial 0 is already FAIL; a trial is told once/);
  assert.throws(() => study.askBatch(0), /field 'n': expected a batch size >= 1, but got 0/);
});

test('batch ask: k distinct configurations; an exhausted grid answers null', () => {
  const study = new AskTellStudy({ params: [['d', { type: 'int', low: 1, high: 3, log: false, step: 1 }]] }, createSampler('grid', 0));
  const batch = study.askBatch(2);
  assert.deepEqual(batch.map((t) => t.trial), [0, 1]);
  assert.notDeepEqual(batch[0]!.params, batch[1]!.params);
  assert.ok(study.ask() !== null);
  assert.equal(study.ask(), null);
});

test('the log: a reopened study continues exactly where it stopped, asking what it would have asked', async () => {
  const setup = { space: BUILTIN_SPACES['sctl-log']!, sampler: 'tpe', seed: 7, samplerOptions: { n_startup_trials: 3 }, direction: 'maximize' as const };
  const objective = (p: Record<string, unknown>): number => -Math.abs(Math.log10(p.l1 as number)) - (p.depth as number) / 10;
  // Uninterrupted.
  const straight = await AskTellLog.open(temp('a.jsonl'), setup);
  for (let i = 0; i < 8; i++) {
    const [t] = await straight.ask();
    await straight.tell(t!.trial, { state: 'COMPLETE', value: objective(t!.params) });
  }
  const expected = (await straight.ask(2)).map((t) => t.params);
  await straight.close();
  // Stopped and reopened every step.
  const path = temp('b.jsonl');
  for (let i = 0; i < 8; i++) {
    const log = await AskTellLog.open(path, setup);
    const [t] = await log.ask();
    await log.close();
    const again = await AskTellLog.open(path);
    await again.tell(t!.trial, { state: 'COMPLETE', value: objective(t!.params) });
    await again.close();
  }
  const reopened = await AskTellLog.open(path);
  assert.deepEqual((await reopened.ask(2)).map((t) => t.params), expected);
  // A rejected tell is not journaled.
  assert.equal((await handleRequest(reopened, '{"op":"tell","trial":99,"value":1}', 1) as { error: string }).error, "line 1: field 'trial': trial 99 was never asked (10 asked so far)");
  await reopened.close();
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 1 + 8 * 2 + 2);
});

test('cellsweep ask-tell over stdin/stdout, and one-shot ask / tell on the same state', () => {
  const state = temp('s.jsonl');
  const run = (args: string[], input = ''): string => execFileSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  const out = run(['ask-tell', '--state', state, '--space', 'bulk-mlp', '--sampler', 'random', '--seed', '2'], '{"op":"ask"}\n{"op":"tell","trial":0,"value":0.5}\n{"op":"nope"}\n{"op":"best"}\n')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(out[0].trial, 0);
  assert.deepEqual(Object.keys(out[0].params), ['depth', 'sampling', 'lr']);
  assert.deepEqual(out[1], { ok: true, trial: 0 });
  assert.match(out[2].error, /line 3: expected op ask, tell, best or trials, but got "nope"/);
  assert.equal(out[3].value, 0.5);
  const asked = JSON.parse(run(['ask', '--state', state]));
  assert.equal(asked.trial, 1);
  assert.deepEqual(JSON.parse(run(['tell', '--state', state, '--trial', '1', '--value', '0.75'])), { ok: true, trial: 1 });
  assert.equal(JSON.parse(run(['ask-tell', '--state', state], '{"op":"best"}\n')).trial, 1);
});
