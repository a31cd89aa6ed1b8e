/**
 * Where an SCTL training step's time goes on a TensorFlow.js backend: every
 * kernel registered for the backend is wrapped with a timer, then the `sctl`
 * family trains as in sctl-wasm.ts. Prints, per kernel, calls and
 * milliseconds per step (warm-up epochs excluded), and the time spent
 * outside kernels (JavaScript: autodiff bookkeeping, the OT solve, tidy).
 *
 *   node --import tsx bench/trainer/profile-step.ts --data DIR [--warmup 1] [--epochs 2]
 *
 * A diagnostic, not a benchmark: the timers add a little to every call.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { SCTL, resolveSettings } from '../../core/model-specs.js';
import { selectBackend, type BackendChoice } from '../../trainer/backend/index.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { sctl } from '../../trainer/models/sctl/family.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    warmup: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
    top: { type: 'string', default: '40' },
    'by-shape': { type: 'boolean', default: false },
  },
});
if (values.data === undefined) throw new Error('--data DIR is required');
const warmup = Number(values.warmup);
const epochs = Number(values.epochs);
const backend = await selectBackend(values.backend as BackendChoice, { log: () => {} });

const stats = new Map<string, { calls: number; ms: number }>();
let counting = false;
let depth = 0;
for (const config of tf.getKernelsForBackend(backend.name)) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, backend.name);
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      // Kernels that call other kernels through the engine are counted once, at the outside.
      if (!counting || depth > 0) return inner(args);
      depth++;
      const t0 = performance.now();
      try {
        return inner(args);
      } finally {
        depth--;
        const key = values['by-shape'] ? `${config.kernelName} ${describe(args.inputs, args.attrs)}` : config.kernelName;
        const s = stats.get(key) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += performance.now() - t0;
        stats.set(key, s);
      }
    },
  });
}

/** Input shapes and the attributes that change a kernel's work, e.g. "[256,2000]x[2000,1024] tB". */
function describe(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): string {
  const shapes = Object.values(inputs).map((t) => `[${t?.shape.join(',')}]`).join('x');
  const a = (attrs ?? {}) as Record<string, unknown>;
  const flags = [a.transposeA === true ? 'tA' : '', a.transposeB === true ? 'tB' : '', a.axis !== undefined ? `axis=${JSON.stringify(a.axis)}` : '', a.perm !== undefined ? `perm=${JSON.stringify(a.perm)}` : '']
    .filter((f) => f !== '')
    .join(' ');
  return flags === '' ? shapes : `${shapes} ${flags}`;
}

const data = await loadPrepared(resolve(values.data));
const settings = resolveSettings(SCTL, {});
const stepsPerEpoch = Math.ceil(data.bulk.rows / (settings.batch_size as number));
settings.iterations = (warmup + epochs) * stepsPerEpoch;
let seen = 0;
let startedAt = 0;
let wall = 0;
await sctl.train({
  data,
  settings,
  seed: 42,
  signal: new AbortController().signal,
  evaluateEachEpoch: false,
  onEpoch: () => {
    seen++;
    if (seen === warmup) {
      counting = true;
      startedAt = performance.now();
    } else if (seen === warmup + epochs) {
      counting = false;
      wall = performance.now() - startedAt;
    }
  },
});
const steps = epochs * stepsPerEpoch;
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
const kernelMs = rows.reduce((s, [, v]) => s + v.ms, 0);
const calls = rows.reduce((s, [, v]) => s + v.calls, 0);
console.log(`${backend.name}, ${data.genes.length} genes: ${(wall / steps).toFixed(1)} ms per step, ${(calls / steps).toFixed(0)} kernel calls per step`);
console.log(`  in kernels ${(kernelMs / steps).toFixed(1)} ms, outside ${((wall - kernelMs) / steps).toFixed(1)} ms`);
for (const [name, s] of rows.slice(0, Number(values.top))) {
  console.log(`  ${name.padEnd(values['by-shape'] ? 60 : 24)} ${(s.calls / steps).toFixed(1).padStart(7)} calls ${(s.ms / steps).toFixed(2).padStart(9)} ms`);
}
