import { resolve } from 'node:path';
import { ConfigError, expected } from '../../core/errors.js';
import { loadDataset, prepare, writeSyntheticDataset, type SyntheticScenario } from '../../trainer/data/index.js';
import { SHAPE_NAMES, type ShapeName } from '../../trainer/data/paper-shapes.js';
import { intOption, parseCommand } from '../args.js';

const USAGE = `Usage: cellsweep datasets synth --shape data1..data8 --out DIR [--genes N] [--seed S] [--scenario tissue-confound|subclonal]
       cellsweep datasets check DIR`;

export async function datasetsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'synth':
      return synth(rest);
    case 'check':
      return check(rest);
    default:
      throw new ConfigError(`expected 'synth' or 'check', but got ${sub === undefined ? 'nothing' : `'${sub}'`}\n\n${USAGE}`);
  }
}

/** Writes a synthetic dataset in the shape of one of the paper's datasets (docs/synthetic-data.md). */
async function synth(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    argv,
    { shape: { type: 'string' }, out: { type: 'string' }, genes: { type: 'string' }, seed: { type: 'string', default: '0' }, scenario: { type: 'string' } },
    USAGE,
  );
  const shape = values.shape;
  if (shape === undefined || !(SHAPE_NAMES as readonly string[]).includes(shape)) {
    throw new ConfigError(expected(`a paper shape (${SHAPE_NAMES.join(', ')})`, shape), { field: '--shape' });
  }
  if (values.out === undefined) throw new ConfigError(`--out DIR is required\n\n${USAGE}`);
  const genes = intOption(values.genes, 'genes', 1);
  const seed = intOption(values.seed, 'seed', 0) ?? 0;
  const summary = await writeSyntheticDataset(resolve(values.out), {
    shape: shape as ShapeName,
    seed,
    ...(genes === undefined ? {} : { genes }),
    // writeSyntheticDataset checks the name and says which ones exist.
    ...(values.scenario === undefined ? {} : { scenario: values.scenario as SyntheticScenario }),
  });
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return 0;
}

/** Loads and preprocesses a dataset and says what every step did: the check a sweep runs first. */
async function check(argv: string[]): Promise<number> {
  const { positionals } = parseCommand(argv, {}, USAGE);
  if (positionals.length !== 1) throw new ConfigError(`expected one dataset directory\n\n${USAGE}`);
  const dataset = await loadDataset(resolve(positionals[0]!));
  const data = prepare(dataset);
  const count = (y: Uint8Array): string => `${y.reduce((n, v) => n + v, 0)} sensitive / ${y.length - y.reduce((n, v) => n + v, 0)} resistant`;
  process.stdout.write(
    [
      `dataset ${dataset.name}${dataset.drug ? ` (${dataset.drug})` : ''}: ${dataset.dir}`,
      `  bulk:  ${dataset.bulk.ids.length} samples x ${dataset.bulk.genes.length} genes, ${count(dataset.bulk.labels)} (${dataset.bulk.file})`,
      `  cells: ${dataset.cells.ids.length} cells x ${dataset.cells.genes.length} genes, ${count(dataset.cells.labels)} (${dataset.cells.file})`,
      ...data.report.map((s) => `  ${s.step}: ${s.detail}`),
      `  ready: ${data.bulk.rows} bulk x ${data.cells.rows} cells x ${data.genes.length} genes`,
    ].join('\n') + '\n',
  );
  return 0;
}
