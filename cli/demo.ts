import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseSweep } from '../coordinator/config/load-sweep.js';
import type { SweepConfig } from '../coordinator/config/sweep-config.js';
import { writeSyntheticDataset, type ShapeName } from '../trainer/data/index.js';

/**
 * The sweep `cellsweep sweep` runs with no file: two synthetic datasets in
 * the shapes of the paper's data1 (balanced-ish bulk, 548 cells) and data6
 * (bulk 714 resistant / 115 sensitive, 66 cells: sampling matters), tuned
 * with the no-transfer baseline over the paper's six seeds. Small enough for
 * a laptop in about a minute; real enough to show per-dataset differences.
 */
export const DEMO_SWEEP_YAML = `# cellsweep's embedded demo sweep (print it with: cellsweep sweep --print-demo)
name: demo
model: bulk-mlp
sampler: random
seed: 7
trials: 5
seeds: [42, 50, 60, 70, 80, 124]
space:
  depth: {type: int, low: 2, high: 6}
  sampling: {type: categorical, choices: [none, weighted, smote]}
  lr: {type: float, low: 0.0003, high: 0.01, log: true}
fixed:
  epochs: 10
studies:
  - name: data1-synth
    dataset: data/data1
  - name: data6-synth
    dataset: data/data6
`;

const DEMO_DATA: ReadonlyArray<{ dir: string; shape: ShapeName }> = [
  { dir: 'data/data1', shape: 'data1' },
  { dir: 'data/data6', shape: 'data6' },
];
const DEMO_GENES = 400;
const DEMO_DATA_SEED = 2026;

/** Writes the demo datasets under `outDir` (deterministic; kept if already there) and returns the sweep. */
export async function demoSweep(outDir: string): Promise<SweepConfig> {
  for (const { dir, shape } of DEMO_DATA) {
    const target = join(outDir, dir);
    if (!existsSync(join(target, 'dataset.yaml'))) {
      await writeSyntheticDataset(target, { shape, genes: DEMO_GENES, seed: DEMO_DATA_SEED });
    }
  }
  return parseSweep(DEMO_SWEEP_YAML, '(embedded demo sweep)', outDir);
}
