import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Params } from '../../core/params.js';
import { TpeSampler } from '../../coordinator/samplers/tpe/index.js';
import { gridPoints } from '../../coordinator/samplers/grid.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';
import { runSequential } from '../../bench/tpe/simulate.js';
import { loadTable, lookup, trialsToTarget } from '../../bench/tpe/tabular-table.js';

const space = BUILTIN_SPACES['sctl-paper']!;
const NAMES = ['l1', 'l2', 'l3', 'depth', 'sampling'];

/** A made-up table in the layout of a grid sweep's trials.csv: the AUC peaks at l1 2, l2 0.5, l3 15, depth 2, smote. */
function fakeAuc(p: Params): number {
  const at = (name: string, good: unknown): number => (p[name] === good ? 1 : 0);
  return 0.5 + 0.05 * at('l1', 2) + 0.03 * at('l2', 0.5) + 0.04 * at('l3', 15) + 0.01 * (6 - (p['depth'] as number)) + 0.02 * at('sampling', 'smote');
}

function writeTable(dir: string, rows: Params[], state = (_: number) => 'COMPLETE'): string {
  const file = join(dir, 'trials.csv');
  const lines = ['study,trial,state,l1,l2,l3,depth,sampling,auc_mean,auc_std'];
  rows.forEach((p, i) => lines.push(['s', i, state(i), ...NAMES.map((n) => String(p[n])), fakeAuc(p).toPrecision(10), '0'].join(',')));
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('a complete grid table: every configuration looked up, the best found, trials to target counted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsweep-tabular-'));
  try {
    const grid = gridPoints(space);
    assert.equal(grid.length, 720);
    const table = loadTable(writeTable(dir, grid), space, 720);
    assert.equal(table.auc.size, 720);
    assert.ok(Math.abs(table.best - (0.5 + 0.05 + 0.03 + 0.04 + 0.04 + 0.02)) < 1e-9);
    for (const p of grid) assert.ok(Math.abs(lookup(table, p) - fakeAuc(p)) < 1e-9);
    assert.throws(() => lookup(table, { ...grid[0]!, depth: 7 }), /outside the table/);

    assert.equal(trialsToTarget([0.18, 0.08, 0.005, 0], 0.005), 3);
    assert.equal(trialsToTarget([0.18, 0.08], 0.005), Number.POSITIVE_INFINITY);

    // TPE on this separable table gets to the best well before exhausting the grid.
    const run = runSequential(new TpeSampler(0), space, (p) => table.best - lookup(table, p), 150);
    const reached = trialsToTarget(run.values, 0.005);
    assert.ok(reached <= 150, `TPE did not reach the best of a separable table in 150 trials`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unfinished or partial table is refused with the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsweep-tabular-'));
  try {
    const grid = gridPoints(space);
    assert.throws(() => loadTable(writeTable(dir, grid, (i) => (i === 5 ? 'RUNNING' : 'COMPLETE')), space, 720), /trials\.csv:7: trial is RUNNING, not COMPLETE/);
    assert.throws(() => loadTable(writeTable(dir, grid.slice(0, 100)), space, 720), /100 configurations, expected the whole grid \(720\)/);
    assert.throws(() => loadTable(writeTable(dir, [...grid.slice(0, 3), grid[0]!]), space, 4), /trials\.csv:5: configuration listed twice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
