import { resolve } from 'node:path';
import { ConfigError, expected } from '../../core/errors.js';
import { toWireParams, type ParamValue } from '../../core/params.js';
import { runId } from '../../core/runs.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { loadPrepared } from '../../trainer/data/index.js';
import { executeRun } from '../../trainer/run.js';
import { DatasetCache } from '../../trainer/worker/dataset-cache.js';
import { checkBackendOption, intOption, parseCommand } from '../args.js';

const USAGE = 'Usage: cellsweep train --dataset DIR [--model bulk-mlp] [--seed 42] [--set key=value ...] [--backend B] [--epoch-auc]';

/** One run in this process, printing each epoch: for checking a configuration or a dataset by hand. */
export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    argv,
    {
      dataset: { type: 'string' },
      model: { type: 'string', default: 'bulk-mlp' },
      seed: { type: 'string', default: '42' },
      set: { type: 'string', multiple: true, default: [] },
      backend: { type: 'string' },
      'epoch-auc': { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (values.dataset === undefined) throw new ConfigError(`--dataset DIR is required\n\n${USAGE}`);
  const params: Record<string, ParamValue> = {};
  for (const pair of values.set) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(expected('key=value', pair), { field: '--set' });
    params[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
  }
  const backend = await selectBackend(checkBackendOption(values.backend));
  const seed = intOption(values.seed, 'seed', 0) ?? 42;
  const datasets = new DatasetCache(loadPrepared);
  const outcome = await executeRun(
    {
      runId: runId({ study: 'train', trial: 0, seed }),
      study: 'train',
      trial: 0,
      seed,
      model: values.model,
      params: toWireParams(params),
      dataset: resolve(values.dataset),
      reportEpochMetrics: values['epoch-auc'],
      interpret: false,
    },
    {
      trainerId: 'cli',
      backend: backend.name,
      datasets,
      signal: new AbortController().signal,
      onProgress: (p) => {
        const losses = Object.entries(p.losses).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
        process.stderr.write(`epoch ${p.epoch}/${p.epochs}: ${losses}${p.auc === undefined ? '' : `, cell AUC ${p.auc.toFixed(4)}`}\n`);
      },
    },
  );
  process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
  return 'result' in outcome ? 0 : 1;
}

/** `--set depth=3` gives a number, `--set sampling=smote` a text, true/false a flag. */
function parseValue(text: string): ParamValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}
