import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cli, freePort, tempDir, tinyDataset, waitForAsync } from '../e2e/helpers.js';
import { PrometheusServer, type PromSample } from './prometheus-server.js';

const SCRIPT = fileURLToPath(new URL('../../deploy/local/cluster.sh', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/cellsweep.json', import.meta.url));

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string; refId: string }>;
}

/** Every (panel, query) of the dashboard, as Grafana would send it with the sweep selected and all studies. */
function dashboardQueries(sweep: string): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dashboard.panels
    .filter((p) => p.type !== 'row')
    .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: `${p.title} (${t.refId})`, expr: t.expr })))
    .map((q) => ({
      ...q,
      expr: q.expr
        .replaceAll('$sweep', sweep)
        .replaceAll('$study', '.*')
        // Grafana's $__rate_interval; a minute covers this whole short sweep at a 2 s scrape interval.
        .replaceAll('$__rate_interval', '1m'),
    }));
}

const finite = (samples: PromSample[]): boolean => samples.some((s) => Number.isFinite(Number(s.value[1])));

test(
  'a real Prometheus scrapes a local cluster sweep: every dashboard query returns data, the numbers match the sweep, the alert rules load',
  { timeout: 240_000 },
  async (t) => {
    const dir = tempDir('observability');
    const state = join(dir, 'cluster');
    const listen = `127.0.0.1:${await freePort()}`;
    const env = { ...process.env, CLUSTER_DIR: state, NATS_PORT: String(await freePort()), LISTEN: listen, TRAINERS: '2', METRICS_PORT: '0', SCRAPE_INTERVAL: '2s' };
    await promisify(execFile)(SCRIPT, ['up'], { env });
    let prometheus: PrometheusServer | undefined;
    const logs = (): string =>
      ['coordinator.log', 'trainer-1.log', 'trainer-2.log'].map((f) => `--- ${f}\n${readFileSync(join(state, 'logs', f), 'utf8')}`).join('\n') + `\n--- prometheus\n${prometheus?.output ?? ''}`;
    try {
      prometheus = await PrometheusServer.start(join(state, 'prometheus.yml'));
      // Rates need a scrape before the runs: a sweep over before the first scrape would show flat counters.
      await waitForAsync('Prometheus to scrape all three processes', async () => ((await prometheus!.query('sum(up)'))[0]?.value[1] === '3' ? true : undefined), 30_000, logs);
      const dataset = await tinyDataset(join(dir, 'data'), 'data6');
      const sweepFile = join(dir, 'sweep.yaml');
      writeFileSync(
        sweepFile,
        `name: observability-test
model: sleep
sampler: tpe
seed: 5
trials: 4
seeds: [1, 2]
trainers: 2
space: {signal: {type: float, low: 0.2, high: 0.9}}
fixed: {seconds: 1.5, epochs: 5}
studies:
  - {name: d6, dataset: ${dataset}}
`,
      );
      // The test model's runs last 1.5 s whatever the machine, so suggestions and run ends fall in
      // different scrapes (2 s apart) and every rate on the dashboard has something to show.
      const result = await cli(['sweep', sweepFile, '--coordinator', listen, '--token-file', join(state, 'token')]);
      assert.equal(result.code, 0, result.stderr + logs());
      const bestAuc = Number(/d6\s+sleep\s+4\/4\s+8\/8\s+(\d\.\d+)/.exec(result.stdout)?.[1]);
      assert.ok(bestAuc > 0, `the CLI printed the best AUC:\n${result.stdout}`);

      // Query at a moment when the sweep's end has been scraped, every trainer has closed its last run
      // (it counts the run after acknowledging it, a moment after the coordinator records the outcome),
      // every target's last scrape succeeded (on a loaded machine a scrape can time out, and a
      // failed scrape hides the target's series), and the rates have two samples.
      const at = await waitForAsync(
        'Prometheus to scrape the finished sweep from every target',
        async () => {
          // rate() needs two samples of a series in its window: a sweep that ends between two scrapes has one until the next.
          const twoSamples = (metric: string): string => `min(count_over_time(${metric}{sweep="observability-test"}[1m])) >= 2`;
          const samples = await prometheus!.query(
            'sum(up) == 3 and on() sum(cellsweep_trainer_busy) == 0 and on() cellsweep_sweep_status{sweep="observability-test", status="complete"} == 1' +
              ` and on() ${twoSamples('cellsweep_run_outcomes_total')} and on() ${twoSamples('cellsweep_run_duration_seconds_count')}` +
              ` and on() ${twoSamples('cellsweep_suggestion_duration_seconds_count')}`,
          );
          return samples.length === 1 ? samples[0]!.value[0] : undefined;
        },
        30_000,
        logs,
      );
      await t.test('every target is up', async () => {
        const up = await prometheus!.query('up', at);
        assert.deepEqual(up.map((s) => `${s.metric.job}=${s.value[1]}`).sort(), ['cellsweep-coordinator=1', 'cellsweep-trainer=1', 'cellsweep-trainer=1']);
      });

      await t.test('every panel query of the dashboard returns data', async () => {
        const queries = dashboardQueries('observability-test');
        assert.ok(queries.length >= 25, `the dashboard has ${queries.length} queries`);
        const empty: string[] = [];
        for (const q of queries) {
          const samples = await prometheus!.query(q.expr, at);
          if (!finite(samples)) empty.push(`${q.panel}: ${q.expr} -> ${JSON.stringify(samples)}`);
        }
        assert.deepEqual(empty, [], 'panels without a finite value');
      });

      await t.test('the scraped numbers are the sweep: trials, runs, best AUC, trainers and their backend', async () => {
        const value = async (expr: string): Promise<number> => {
          const samples = await prometheus!.query(expr, at);
          assert.equal(samples.length, 1, `${expr} -> ${JSON.stringify(samples)}`);
          return Number(samples[0]!.value[1]);
        };
        assert.equal(await value('sum(cellsweep_trials{sweep="observability-test", state="complete"})'), 4);
        assert.equal(await value('sum(cellsweep_runs{sweep="observability-test", state="finished"})'), 8);
        assert.equal(await value('sum(cellsweep_runs{sweep="observability-test", state=~"queued|running|failed"})'), 0);
        assert.equal(await value('sum(cellsweep_run_duration_seconds_count{sweep="observability-test"})'), 8);
        assert.equal(await value('sum(cellsweep_run_outcomes_total{sweep="observability-test", outcome="finished"})'), 8);
        assert.equal(await value('sum(cellsweep_suggestion_duration_seconds_count{sweep="observability-test", sampler="tpe"})'), 4);
        assert.equal(await value('sum(cellsweep_trainer_runs_total{outcome="finished"})'), 8);
        // 8 runs of 5 epochs; the first epoch of each run is timed from the end of its data load.
        assert.equal(await value('sum(cellsweep_epoch_duration_seconds_count{model="sleep"})'), 40);
        assert.equal(await value('count(cellsweep_trainer_backend_info{backend="wasm"})'), 2);
        assert.ok(Math.abs((await value('cellsweep_best_auc{sweep="observability-test"}')) - bestAuc) < 0.0006, 'best AUC as the CLI printed it (3 decimals)');
        const busy = await value('sum(cellsweep_trainer_busy_seconds_total)');
        const durations = await value('sum(cellsweep_run_duration_seconds_sum{sweep="observability-test"})');
        assert.ok(busy > 0.5 * durations && busy < 1.5 * durations + 2, `trainer busy time ${busy} s against run durations ${durations} s`);
        assert.equal(await value('cellsweep_nats_connected'), 1);
        assert.equal(await value('cellsweep_queue_depth'), 0);
      });

      await t.test('the alert rules are loaded and evaluate without error, and none fires on a healthy sweep', async () => {
        const rules = await prometheus!.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('rules');
        const all = rules.groups.flatMap((g) => g.rules);
        assert.equal(all.length, 6);
        assert.deepEqual(all.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`), []);
        // "pending" is allowed: a sweep that has not finished a run yet is a stall candidate for its first minutes.
        const alerts = await prometheus!.api<{ alerts: Array<{ labels: { alertname: string }; state: string }> }>('alerts');
        assert.deepEqual(alerts.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname), []);
      });

      await t.test('/readyz and /healthz answer on every process', async () => {
        const targets = await prometheus!.api<{ activeTargets: Array<{ scrapeUrl: string }> }>('targets');
        for (const target of targets.activeTargets) {
          const base = target.scrapeUrl.replace(/\/metrics$/, '');
          assert.equal((await fetch(`${base}/readyz`)).status, 200, base);
          assert.equal((await fetch(`${base}/healthz`)).status, 200, base);
        }
      });
    } finally {
      await prometheus?.stop();
      await promisify(execFile)(SCRIPT, ['down'], { env });
    }
  },
);
