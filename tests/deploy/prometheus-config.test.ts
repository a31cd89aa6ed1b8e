import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { prometheusTool } from '../cluster/prometheus-server.js';

const PROM_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/cellsweep.json', import.meta.url));

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(prometheusTool('promtool'), args, { cwd: PROM_DIR });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

test('promtool: the Kubernetes scrape configuration and the alert rules are valid', async () => {
  const config = await promtool('check', 'config', 'prometheus.yml');
  assert.equal(config.code, 0, config.out);
  const rules = await promtool('check', 'rules', 'rules.yml');
  assert.equal(rules.code, 0, rules.out);
  assert.match(rules.out, /SUCCESS: 6 rules found/);
});

test('promtool test rules: every alert fires on its failure and stays quiet when healthy (rules.test.yml)', async () => {
  const result = await promtool('test', 'rules', 'rules.test.yml');
  assert.equal(result.code, 0, result.out);
  const tested = new Set([...readFileSync(join(PROM_DIR, 'rules.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
  const defined = [...readFileSync(join(PROM_DIR, 'rules.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  assert.deepEqual(defined.filter((a) => !tested.has(a)), [], 'alerts without a unit test');
});

test('the rule tests can fail: a rule with a broken threshold is caught', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsweep-rules-'));
  copyFileSync(join(PROM_DIR, 'rules.test.yml'), join(dir, 'rules.test.yml'));
  writeFileSync(join(dir, 'rules.yml'), readFileSync(join(PROM_DIR, 'rules.yml'), 'utf8').replace('> 0.25', '> 0.75'));
  const { stdout, stderr } = await promisify(execFile)(prometheusTool('promtool'), ['test', 'rules', 'rules.test.yml'], { cwd: dir }).catch((e: { stdout: string; stderr: string }) => e);
  assert.match(stdout + stderr, /FAILED[\s\S]*CellsweepRunFailureRateHigh/);
});

interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

test('the Grafana dashboard: templated by sweep and study, every query panel on the chosen Prometheus, no overlapping panels', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; templating: { list: Array<{ name: string; type: string; query?: unknown }> }; panels: Panel[] };
  assert.equal(dashboard.uid, 'cellsweep');
  assert.deepEqual(dashboard.templating.list.map((v) => `${v.name}:${v.type}`), ['datasource:datasource', 'sweep:query', 'study:query']);
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  for (const p of panels) {
    assert.equal(p.datasource?.uid, '${datasource}', p.title);
    assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
    for (const t of p.targets!) assert.equal(t.datasource?.uid, '${datasource}', p.title);
  }
  // Per-sweep metrics must follow the selectors, or choosing a sweep would change nothing.
  for (const p of panels) {
    for (const t of p.targets!) {
      if (/cellsweep_(trials|runs|run_duration|run_outcomes|best_|redeliveries|suggestion)/.test(t.expr)) assert.match(t.expr, /sweep=~"\$sweep", study=~"\$study"/, `${p.title}: ${t.expr}`);
    }
  }
  const cells = new Map<string, string>();
  for (const p of dashboard.panels) {
    const h = p.type === 'row' ? 1 : p.gridPos.h;
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + h; y++) {
        const other = cells.get(`${x},${y}`);
        assert.equal(other, undefined, `${p.title} overlaps ${other}`);
        cells.set(`${x},${y}`, p.title);
      }
    }
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
  }
  // Every metric the issue names has a panel.
  const exprs = panels.flatMap((p) => p.targets!.map((t) => t.expr)).join('\n');
  for (const metric of [
    'cellsweep_trials',
    'cellsweep_runs',
    'cellsweep_run_duration_seconds',
    'cellsweep_run_outcomes_total',
    'cellsweep_best_auc',
    'cellsweep_best_aupr',
    'cellsweep_queue_depth',
    'cellsweep_redeliveries_total',
    'cellsweep_suggestion_duration_seconds',
    'cellsweep_trainer_busy_seconds_total',
    'cellsweep_epoch_duration_seconds',
    'cellsweep_trainer_backend_info',
    'cellsweep_tfjs_memory_bytes',
  ]) {
    assert.match(exprs, new RegExp(`${metric}(_bucket|_count|_sum)?(?![a-z_])`), metric);
  }
});
