import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cli, startCli, tempDir, tinyDataset, waitFor } from './helpers.js';

test('a local sweep with --metrics-listen serves its trials and runs to Prometheus while it runs', { timeout: 120_000 }, async () => {
  const dir = tempDir('local-metrics');
  await tinyDataset(join(dir, 'd6'), 'data6');
  writeFileSync(join(dir, 'sweep.yaml'), ['name: local-metrics', 'trials: 3', 'seeds: [1, 2]', 'fixed: {epochs: 40}', 'studies:', '  - dataset: d6'].join('\n'));
  const run = startCli(['sweep', join(dir, 'sweep.yaml'), '--out', join(dir, 'out'), '--trainers', '2', '--metrics-listen', '127.0.0.1:0']);
  let stderr = '';
  run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await waitFor('the metrics address', () => /metrics on http:\/\/(\S+)\/metrics/.exec(stderr)?.[1], 60_000);
  // Scrape until a run has finished: the series then show the sweep in progress.
  let text = '';
  for (let i = 0; i < 600 && !/cellsweep_runs\{[^}]*state="finished"[^}]*\} [1-9]/.test(text); i++) {
    text = await fetch(`http://${address}/metrics`).then((r) => r.text(), () => text);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(text, /cellsweep_runs\{sweep="local-metrics",sweep_id="[0-9a-f-]+",study="d6",state="finished",component="coordinator"\} [1-9]/);
  assert.match(text, /cellsweep_trials\{sweep="local-metrics",[^}]*state="running"[^}]*\} \d/);
  assert.match(text, /cellsweep_suggestion_duration_seconds_count\{[^}]*sampler="random"\} [1-9]/);
  assert.match(text, /cellsweep_sweep_status\{[^}]*status="running"[^}]*\} 1/);
  const result = await run.done;
  assert.equal(result.code, 0, result.stderr);
  await assert.rejects(fetch(`http://${address}/metrics`), 'the endpoint closes with the sweep');
});

test('a busy --metrics-listen port stops the sweep before its directory is made', { timeout: 60_000 }, async () => {
  const dir = tempDir('local-metrics-busy');
  await tinyDataset(join(dir, 'd6'), 'data6');
  writeFileSync(join(dir, 'sweep.yaml'), ['name: busy', 'trials: 1', 'seeds: [1]', 'studies:', '  - dataset: d6'].join('\n'));
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const port = (busy.address() as { port: number }).port;
    const result = await cli(['sweep', join(dir, 'sweep.yaml'), '--out', join(dir, 'out'), '--metrics-listen', `127.0.0.1:${port}`]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /cannot serve metrics on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
    assert.ok(!existsSync(join(dir, 'out')), 'no sweep directory');
  } finally {
    busy.close();
  }
});
