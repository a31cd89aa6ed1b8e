/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. the coordinator's in
 * `BENCH_PROFILE_DIR=DIR node --import tsx bench/cluster/run.ts`): time per
 * function, self and inclusive, and self time per package or source file.
 * With --per N, every time is also divided by N (runs, say) in microseconds.
 *
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 30] [--per 19200]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, per: { type: 'string' } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N] [--per RUNS]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(values.top);
const per = values.per === undefined ? undefined : Number(values.per);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const fnName = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').at(-1) ?? ''}:${n.callFrame.lineNumber + 1}`;
// node_modules/<package> (or @scope/name), else the path below the repository, else the V8 pseudo-frame name.
const origin = (n: ProfileNode): string => {
  const url = n.callFrame.url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m !== null) return m[1]!;
  if (url === '') return n.callFrame.functionName;
  return url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
};

const self = new Map<string, number>();
const selfByOrigin = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  self.set(fnName(node), (self.get(fnName(node)) ?? 0) + us);
  selfByOrigin.set(origin(node), (selfByOrigin.get(origin(node)) ?? 0) + us);
  // Each function once per stack, however deep its recursion.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = fnName(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}

const line = (name: string, us: number): string =>
  `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms${per === undefined ? '' : `  ${(us / per).toFixed(1).padStart(7)} us/run`}  ${name}`;
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n## ${title}`);
  for (const [name, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(name, us));
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled, ${(((total - (self.get('(idle) :0') ?? 0)) / total) * 100).toFixed(1)}% not idle`);
show('self time by package or file', selfByOrigin);
show('self time by function', self);
show('inclusive time by function', inclusive);
