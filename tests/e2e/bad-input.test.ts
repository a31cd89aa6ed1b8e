import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, tinyDataset } from './helpers.js';

/**
 * Bad input through the real CLI: one clear message naming the file, line or
 * field, exit code 2, and nothing started (no journal, no trainer).
 */
async function expectRejected(args: string[], message: RegExp, out?: string): Promise<void> {
  const res = await cli(args);
  assert.equal(res.code, 2, `exit code for ${args.join(' ')}: ${res.stderr}`);
  assert.match(res.stderr, message);
  assert.doesNotMatch(res.stderr, /starting \d+ trainer/);
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace for bad input');
  if (out !== undefined) assert.ok(!existsSync(join(out, 'journal.jsonl')), 'no journal for a sweep that never started');
}

test('bad sweep files and bad datasets stop the sweep before any training', { timeout: 180_000 }, async () => {
  const dir = tempDir('bad');
  const good = await tinyDataset(join(dir, 'good'), 'data6');
  const sweep = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const out = join(dir, 'out');

  await expectRejected(['sweep', sweep('malformed.yaml', 'studies:\n  - dataset: good\n   trials: [1\n'), '--out', out], /malformed\.yaml:\d+: malformed YAML/, out);
  await expectRejected(['sweep', sweep('unknown.yaml', 'studies:\n  - dataset: good\nfixed: {depht: 3}\n'), '--out', out], /unknown\.yaml:3, field 'fixed\.depht': model 'bulk-mlp' has no setting 'depht'/, out);
  await expectRejected(['sweep', sweep('empty.yaml', 'space:\n  lr: {type: float, low: 0.01, high: 0.001}\nstudies:\n  - dataset: good\n'), '--out', out], /empty\.yaml:2, field 'space\.lr\.high': empty range/, out);
  await expectRejected(['sweep', join(dir, 'nope.yaml'), '--out', out], /nope\.yaml: cannot read the sweep file/, out);
  await expectRejected(['sweep', sweep('missing.yaml', 'studies:\n  - dataset: missing-dir\n'), '--out', out], /study 'missing-dir': .*missing-dir/, out);

  // A dataset whose cell labels file has a 2 on some line.
  const manifest = readFileSync(join(good, 'dataset.yaml'), 'utf8');
  const cellsLabels = /cells:[\s\S]*?labels:\s*(\S+)/.exec(manifest)?.[1];
  assert.ok(cellsLabels !== undefined, `a cells labels file in ${manifest}`);
  const labelsPath = join(good, cellsLabels);
  const lines = readFileSync(labelsPath, 'utf8').split('\n');
  lines[3] = lines[3]!.replace(/[01]\s*$/, '2');
  writeFileSync(labelsPath, lines.join('\n'));
  await expectRejected(['sweep', sweep('labels.yaml', 'studies:\n  - dataset: good\n'), '--out', out], new RegExp(`study 'good': .*${cellsLabels.replace('.', '\\.')}:4.*expected .*0 or 1.*but got.*2`), out);
});

test('bad command lines are rejected with the option named', { timeout: 60_000 }, async () => {
  await expectRejected(['sweep', '--trainers', '0'], /field '--trainers': expected an integer >= 1, but got "0"/);
  await expectRejected(['sweep', '--hang-timeout', '0.5'], /field '--hang-timeout': expected seconds between 1 and 86400, but got '0\.5'/);
  await expectRejected(['sweep', '--backend', 'gpu9'], /field '--backend': expected a backend \(auto, tensorflow, wasm, cpu\), but got "gpu9"/);
  await expectRejected(['sweep', '--frobnicate'], /Unknown option '--frobnicate'/);
  await expectRejected(['sweep', '--resume', '/nonexistent/sweep'], /no sweep to resume: \/nonexistent\/sweep\/journal\.jsonl does not exist/);
});

test('--help on every command prints its usage on stdout and exits 0 (before any check of the other options)', async () => {
  for (const command of [['coordinator'], ['trainer'], ['sweep'], ['report'], ['train'], ['datasets', 'synth'], ['ask-tell']]) {
    const result = await cli([...command, '--help', '--no-such-option']);
    assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: cellsweep ${command.join(' ')}`), command.join(' '));
  }
  const metrics = await cli(['coordinator', '--help']);
  assert.match(metrics.stdout, /--metrics-listen HOST:PORT/);
  assert.match(metrics.stdout, /--batch SWEEP_FILE/);
});
