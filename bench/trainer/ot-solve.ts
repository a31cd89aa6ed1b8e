/**
 * Time of one SCTL OT solve (trainer/models/sctl/ot.ts: a rows x cols plan,
 * SCTL's eps 0.1, tau 1, 10 x 10 iterations) from one or more checkouts of
 * the repository, alternating between them, CPU and wall time per solve.
 *
 *   node --import tsx bench/trainer/ot-solve.ts [--size 128] [--rounds 5] [--root LABEL=DIR ...]
 *
 * With no --root, this checkout only. The cost matrix is fixed (a smooth
 * function of the index), so every checkout solves the same problem.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkoutRoots } from './checkouts.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '5' },
    solves: { type: 'string', default: '20' },
    root: { type: 'string', multiple: true },
  },
});
const n = Number(values.size);
const solves = Number(values.solves);
const roots = checkoutRoots(values.root);
type Solve = (cost: ArrayLike<number>, rows: number, cols: number, opts: { eps: number; tau: number; outer: number; inner: number }) => Float64Array;
const solvers = await Promise.all(
  roots.map(async ([label, root]) => [label, ((await import(join(root, 'trainer/models/sctl/ot.ts'))) as { unbalancedOtPlan: Solve }).unbalancedOtPlan] as const),
);
const cost = Float64Array.from({ length: n * n }, (_, i) => Math.abs(Math.sin(i * 0.37)) * 5);
const opts = { eps: 0.1, tau: 1, outer: 10, inner: 10 };
const times = new Map<string, { wall: number[]; cpu: number[] }>(roots.map(([label]) => [label, { wall: [], cpu: [] }]));
for (const [, solve] of solvers) solve(cost, n, n, opts); // compile
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [label, solve] of solvers) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < solves; i++) solve(cost, n, n, opts);
    const c = process.cpuUsage(c0);
    times.get(label)!.wall.push((performance.now() - t0) / solves);
    times.get(label)!.cpu.push((c.user + c.system) / 1000 / solves);
  }
}
console.log(`| ${n} x ${n} OT solve | wall ms per solve (median of ${values.rounds} rounds of ${solves}) | CPU ms |`);
console.log('|---|---|---|');
for (const [label, t] of times) console.log(`| ${label} | ${median(t.wall).toFixed(2)} | ${median(t.cpu).toFixed(2)} |`);
