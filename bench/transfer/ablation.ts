/**
 * SCTL against the bulk-only baseline and the paper's ablations (l1 = 0: no
 * OT; l2 = 0: no MMD) on one dataset, over the paper's six seeds, with the
 * product's own model families (what tests/integration/transfer.test.ts
 * asserts, at any size):
 *
 *   node --import tsx bench/transfer/ablation.ts --synthetic data6 --genes 300 --data-seed 1 \
 *     --sctl encoder_hidden=64,iterations=300 --bulk depth=3
 *   node --import tsx bench/transfer/ablation.ts --dataset DIR [--seeds 42,50] [--variants full,no-ot,no-mmd,bulk]
 *
 * --synthetic SHAPE writes a synthetic dataset (trainer/data/synthetic.ts) to
 * a temporary directory first; --cell-scale, --bulk-scale and --scenario as its options.
 * --sctl and --bulk take settings (key=value,key=value; numbers parsed) applied to
 * every SCTL variant and to bulk-mlp. Prints one line per run and a summary:
 * mean +- population std of AUC per variant, and each variant's mean minus
 * the bulk baseline's and minus the full SCTL's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveSettings } from '../../core/model-specs.js';
import type { ParamValue } from '../../core/params.js';
import { PAPER_SEEDS } from '../../core/runs.js';
import { summarize } from '../../core/stats.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { loadPrepared, SHAPE_NAMES, writeSyntheticDataset, type ShapeName, type SyntheticScenario } from '../../trainer/data/index.js';
import { averagePrecision, rocAuc } from '../../trainer/metrics/index.js';
import { modelFamily } from '../../trainer/models/registry.js';

const VARIANTS: Record<string, { model: 'sctl' | 'bulk-mlp'; settings: Record<string, ParamValue> }> = {
  full: { model: 'sctl', settings: {} },
  'no-ot': { model: 'sctl', settings: { l1: 0 } },
  'no-mmd': { model: 'sctl', settings: { l2: 0 } },
  bulk: { model: 'bulk-mlp', settings: {} },
};

const { values } = parseArgs({
  options: {
    dataset: { type: 'string' },
    synthetic: { type: 'string' },
    genes: { type: 'string', default: '300' },
    'data-seed': { type: 'string', default: '1' },
    'cell-scale': { type: 'string' },
    'bulk-scale': { type: 'string' },
    scenario: { type: 'string' },
    seeds: { type: 'string', default: PAPER_SEEDS.join(',') },
    variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
    sctl: { type: 'string', default: '' },
    bulk: { type: 'string', default: '' },
  },
});

function settingsOf(list: string): Record<string, ParamValue> {
  return Object.fromEntries(
    list.split(',').filter((item) => item !== '').map((item) => {
      const [key, raw = ''] = item.split('=');
      const n = Number(raw);
      return [key as string, raw !== '' && Number.isFinite(n) ? n : raw];
    }),
  );
}

let dir = values.dataset;
let cleanup = (): void => undefined;
if (dir === undefined) {
  const shape = values.synthetic as ShapeName;
  if (!SHAPE_NAMES.includes(shape)) throw new Error(`give --dataset DIR or --synthetic SHAPE (${SHAPE_NAMES.join(', ')})`);
  const tmp = mkdtempSync(join(tmpdir(), 'cellsweep-ablation-'));
  cleanup = () => rmSync(tmp, { recursive: true, force: true });
  dir = join(tmp, shape);
  await writeSyntheticDataset(dir, {
    shape,
    genes: Number(values.genes),
    seed: Number(values['data-seed']),
    ...(values['cell-scale'] !== undefined ? { cellScale: Number(values['cell-scale']) } : {}),
    ...(values['bulk-scale'] !== undefined ? { bulkScale: Number(values['bulk-scale']) } : {}),
    ...(values.scenario !== undefined ? { scenario: values.scenario as SyntheticScenario } : {}),
  });
}

try {
  await selectBackend(process.env['CELLSWEEP_BACKEND'] === undefined ? 'wasm' : (process.env['CELLSWEEP_BACKEND'] as 'wasm'), { log: () => undefined });
  const data = await loadPrepared(dir);
  console.log(`dataset ${dir}: ${data.bulk.rows} bulk, ${data.cells.rows} cells, ${data.genes.length} genes`);
  const seeds = values.seeds.split(',').map(Number);
  const sctlBase = settingsOf(values.sctl);
  const bulkBase = settingsOf(values.bulk);
  const means: Record<string, number> = {};
  for (const name of values.variants.split(',')) {
    const variant = VARIANTS[name];
    if (variant === undefined) throw new Error(`unknown variant ${name} (known: ${Object.keys(VARIANTS).join(', ')})`);
    const family = modelFamily(variant.model);
    const settings = resolveSettings(family.spec, { ...(variant.model === 'sctl' ? sctlBase : bulkBase), ...variant.settings });
    const aucs: number[] = [];
    const auprs: number[] = [];
    const start = performance.now();
    for (const seed of seeds) {
      const t0 = performance.now();
      const out = await family.train({ data, settings, seed, signal: new AbortController().signal, onEpoch: () => undefined, evaluateEachEpoch: false });
      aucs.push(rocAuc(data.cells.y, out.cellScores));
      auprs.push(averagePrecision(data.cells.y, out.cellScores));
      console.log(`  ${name} seed ${seed}: AUC ${aucs.at(-1)!.toFixed(3)} AUPR ${auprs.at(-1)!.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    const auc = summarize(aucs);
    const aupr = summarize(auprs);
    means[name] = auc.mean;
    console.log(
      `${name}: AUC ${auc.mean.toFixed(3)} +- ${auc.std.toFixed(3)} [${aucs.map((a) => a.toFixed(3)).join(' ')}], ` +
        `AUPR ${aupr.mean.toFixed(3)} +- ${aupr.std.toFixed(3)} (${((performance.now() - start) / 1000).toFixed(0)} s)`,
    );
  }
  const diff = (a: string, b: string): string => (means[a] !== undefined && means[b] !== undefined ? (means[a] - means[b]).toFixed(3) : 'n/a');
  console.log(`full - bulk ${diff('full', 'bulk')}; full - no-ot ${diff('full', 'no-ot')}; full - no-mmd ${diff('full', 'no-mmd')}`);
} finally {
  cleanup();
}
