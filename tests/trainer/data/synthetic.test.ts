import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError, DataError } from '../../../core/errors.js';
import { loadDataset } from '../../../trainer/data/dataset.js';
import { readExpression } from '../../../trainer/data/expression-reader.js';
import { prepare } from '../../../trainer/data/preprocess.js';
import { PAPER_SHAPES, SHAPE_NAMES, writeSyntheticDataset } from '../../../trainer/data/synthetic.js';
import type { PreparedData, PreparedDomain } from '../../../trainer/data/types.js';
import { rocAuc } from '../../../trainer/metrics/index.js';
import { tempDir, writeFiles } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('cellsweep-synthetic-'));
});
after(async () => cleanup());

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

test('same seed, same bytes; another seed, other values', async () => {
  const opts = { shape: 'data6', genes: 200, seed: 7, cellScale: 0.5 } as const;
  await writeSyntheticDataset(join(root, 'a'), opts);
  await writeSyntheticDataset(join(root, 'b'), opts);
  await writeSyntheticDataset(join(root, 'c'), { ...opts, seed: 8 });
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((d) => filesOf(join(root, d))));
  assert.deepEqual([...(a as Map<string, Buffer>).keys()], ['bulk.tsv', 'cell_labels.tsv', 'cells.tsv', 'dataset.yaml', 'truth.tsv', 'truth_genes.tsv']);
  for (const [name, bytes] of a as Map<string, Buffer>) assert.ok(bytes.equals(b?.get(name) as Buffer), `${name} differs between two runs with one seed`);
  for (const name of ['bulk.tsv', 'cells.tsv', 'truth.tsv', 'truth_genes.tsv']) {
    assert.ok(!(a?.get(name) as Buffer).equals(c?.get(name) as Buffer), `${name} is the same for seeds 7 and 8`);
  }
});

test('every paper shape: class counts, gene counts and drug as in SCIENCE.md, and the files load', async () => {
  for (const shape of SHAPE_NAMES) {
    const dir = join(root, `shape-${shape}`);
    const summary = await writeSyntheticDataset(dir, { shape, genes: 20, seed: 1 });
    const paper = PAPER_SHAPES[shape];
    const dataset = await loadDataset(dir);
    const count = (labels: Uint8Array): { resistant: number; sensitive: number } => {
      const sensitive = labels.reduce((s, v) => s + v, 0);
      return { resistant: labels.length - sensitive, sensitive };
    };
    assert.deepEqual(count(dataset.bulk.labels), paper.bulk, `${shape} bulk`);
    assert.deepEqual(count(dataset.cells.labels), paper.cells, `${shape} cells`);
    assert.equal(dataset.drug, paper.drug);
    assert.equal(dataset.name, `shape-${shape}`);
    assert.equal(dataset.bulk.scale, 'normalized');
    assert.equal(dataset.cells.scale, 'counts');
    assert.equal(dataset.bulk.genes.length, 21, 'the 20 shared genes plus one bulk-only gene');
    assert.equal(dataset.cells.genes.length, 21);
    assert.equal(summary.sharedGenes, 20);
    assert.equal(dataset.bulk.logIC50?.length, paper.bulk.resistant + paper.bulk.sensitive);
  }
});

test('scaled shapes keep the class balance (and at least two samples per class)', async () => {
  const dir = join(root, 'scaled');
  const summary = await writeSyntheticDataset(dir, { shape: 'data5', genes: 20, seed: 3, cellScale: 0.1, bulkScale: 0.25 });
  assert.deepEqual({ resistant: summary.cells.resistant, sensitive: summary.cells.sensitive }, { resistant: 457, sensitive: 288 });
  assert.deepEqual({ resistant: summary.bulk.resistant, sensitive: summary.bulk.sensitive }, { resistant: 193, sensitive: 128 });
  const tiny = await writeSyntheticDataset(join(root, 'tiny'), { shape: 'data2', genes: 20, seed: 3, cellScale: 0.01 });
  assert.deepEqual({ resistant: tiny.cells.resistant, sensitive: tiny.cells.sensitive }, { resistant: 5, sensitive: 2 });
});

test('cells are sparse non-negative integer counts; bulk values are compact decimals', async () => {
  const dir = join(root, 'counts');
  await writeSyntheticDataset(dir, { shape: 'data3', genes: 2000, seed: 5, bulkScale: 0.1 });
  const dataset = await loadDataset(dir);
  const counts = dataset.cells.values;
  let zeros = 0;
  for (const v of counts) {
    assert.ok(Number.isInteger(v) && v >= 0, `count ${v}`);
    if (v === 0) zeros++;
  }
  const zeroFraction = zeros / counts.length;
  assert.ok(zeroFraction > 0.3 && zeroFraction < 0.9, `zero fraction ${zeroFraction}`);
  // The paper's cell filter (200 detected genes) keeps the cells of a 2,000-gene dataset.
  const prepared = prepare(dataset);
  assert.equal(prepared.cells.rows, dataset.cells.ids.length);
  assert.ok(prepared.report.some((s) => /^cells: removed 0 of 324 cells with fewer than 200 detected genes/.test(s.detail)));
  // At most 4 significant digits per bulk value.
  const text = await readFile(join(dir, 'bulk.tsv'), 'utf8');
  const values = (text.split('\n')[1] as string).split('\t').slice(3);
  for (const v of values) assert.match(v, /^-?(?:0\.0*)?\d{1,4}(?:\.\d+)?$/, v);
  for (const v of values) assert.ok(v.replace(/^-?0\.0*|[-.]/g, '').replace(/^0+/, '').length <= 4, v);
});

/** Scores of a classifier fit on the bulk only: the direction between the class means (a linear discriminant without covariance). */
function bulkMeanDifference(data: PreparedData): (domain: PreparedDomain) => Float64Array {
  const width = data.genes.length;
  const direction = new Float64Array(width);
  let ones = 0;
  for (let r = 0; r < data.bulk.rows; r++) ones += data.bulk.y[r] as number;
  for (let r = 0; r < data.bulk.rows; r++) {
    const weight = data.bulk.y[r] === 1 ? 1 / ones : -1 / (data.bulk.rows - ones);
    for (let g = 0; g < width; g++) direction[g] = (direction[g] as number) + weight * (data.bulk.x[r * width + g] as number);
  }
  return (domain) =>
    Float64Array.from({ length: domain.rows }, (_, r) => {
      let s = 0;
      for (let g = 0; g < width; g++) s += (domain.x[r * width + g] as number) * (direction[g] as number);
      return s;
    });
}

test('the domain shift is real: a bulk-only classifier ranks the cells clearly worse than the true program', async () => {
  for (const [shape, seed] of [
    ['data1', 11],
    ['data6', 12],
  ] as const) {
    const dir = join(root, `shift-${shape}`);
    await writeSyntheticDataset(dir, { shape, genes: 200, seed });
    const prepared = prepare(await loadDataset(dir));
    const truth = new Map(
      (await readFile(join(dir, 'truth.tsv'), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split('\t') as [string, string])
        .map(([id, activity]) => [id, Number(activity)]),
    );
    const cellIds = prepared.cells.ids as string[];
    assert.equal(truth.size, cellIds.length);
    const perfect = rocAuc(prepared.cells.y, cellIds.map((id) => truth.get(id) as number));
    const score = bulkMeanDifference(prepared);
    const inBulk = rocAuc(prepared.bulk.y, score(prepared.bulk));
    const onCells = rocAuc(prepared.cells.y, score(prepared.cells));
    const line = `${shape}: bulk classifier AUC ${inBulk.toFixed(3)} on bulk, ${onCells.toFixed(3)} on cells; true program ${perfect.toFixed(3)} on cells`;
    assert.ok(inBulk > 0.85, `the bulk classifier fits the bulk: ${line}`);
    assert.ok(perfect > 0.85, `the true program ranks the cells well: ${line}`);
    assert.ok(onCells < perfect - 0.1, `the bulk classifier is clearly worse on the cells: ${line}`);
    assert.ok(onCells > 0.55, `but the program still transfers in part: ${line}`);
  }
});

test('the subclonal scenario: the same bulk program, cells that barely measure it, a response set by the subclone', async () => {
  const opts = { shape: 'data6', genes: 200, seed: 5 } as const;
  await writeSyntheticDataset(join(root, 'scenario-default'), opts);
  await writeSyntheticDataset(join(root, 'scenario-named'), { ...opts, scenario: 'tissue-confound' });
  await writeSyntheticDataset(join(root, 'scenario-subclonal'), { ...opts, scenario: 'subclonal' });
  const [plain, named, sub] = await Promise.all(['scenario-default', 'scenario-named', 'scenario-subclonal'].map((d) => filesOf(join(root, d))));
  for (const [name, bytes] of plain as Map<string, Buffer>) assert.ok(bytes.equals(named?.get(name) as Buffer), `${name}: naming the default scenario changes nothing`);
  assert.match((sub?.get('dataset.yaml') as Buffer).toString(), /^# shape data6, genes 200, seed 5, bulkScale 1, cellScale 1, scenario subclonal$/m);

  // The response genes are mostly zeros in the subclonal cells (0.62 of the values here, 0.45 by default).
  const zeroShare = async (dir: string): Promise<number> => {
    const roles = (await readFile(join(root, dir, 'truth_genes.tsv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split('\t'));
    const program = new Set(roles.filter((r) => r[1] === 'program').map((r) => r[0]));
    const [header, ...rows] = (await readFile(join(root, dir, 'cells.tsv'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
    const cols = (header as string[]).flatMap((g, i) => (program.has(g) ? [i] : []));
    let zeros = 0;
    for (const row of rows) for (const c of cols) zeros += row[c] === '0' ? 1 : 0;
    return zeros / (rows.length * cols.length);
  };
  const [zDefault, zSub] = [await zeroShare('scenario-default'), await zeroShare('scenario-subclonal')];
  assert.ok(zSub > 0.55 && zSub > zDefault + 0.1, `program genes are zero in ${zSub.toFixed(2)} of cells (default ${zDefault.toFixed(2)})`);
});

test('refuses to replace a directory it did not write; replaces its own earlier output', async () => {
  const foreign = join(root, 'foreign');
  await writeFiles(foreign, { 'notes.txt': 'keep me' });
  await assert.rejects(writeSyntheticDataset(foreign, { shape: 'data6', genes: 20, seed: 1 }), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /foreign: expected a missing or empty directory, or an earlier synthetic dataset, but got a directory with 1 entries$/);
    return true;
  });
  assert.equal(await readFile(join(foreign, 'notes.txt'), 'utf8'), 'keep me');
  const own = join(root, 'own');
  await writeSyntheticDataset(own, { shape: 'data6', genes: 20, seed: 1 });
  await writeSyntheticDataset(own, { shape: 'data7', genes: 20, seed: 1 });
  assert.equal((await loadDataset(own)).drug, 'Vorinostat');
  assert.deepEqual((await readdir(root)).filter((n) => n.includes('.partial')), [], 'no temporary directory left behind');
});

test('invalid options are ConfigErrors naming the option', async () => {
  const cases = [
    [{ shape: 'data9', seed: 1 }, "field 'shape': expected one of data1, data2, data3, data4, data5, data6, data7, data8, but got \"data9\""],
    [{ shape: 'data1', seed: 1.5 }, "field 'seed': expected an integer in [-2147483648, 2147483647], but got 1.5"],
    [{ shape: 'data1', seed: 1, genes: 10 }, "field 'genes': expected an integer in [20, 100000], but got 10"],
    [{ shape: 'data1', seed: 1, cellScale: 0 }, "field 'cellScale': expected a positive number, but got 0"],
    [{ shape: 'data1', seed: 1, scenario: 'clonal' }, "field 'scenario': expected one of tissue-confound, subclonal, but got \"clonal\""],
  ] as const;
  for (const [opts, message] of cases) {
    await assert.rejects(writeSyntheticDataset(join(root, 'bad'), opts as never), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, message);
      return true;
    });
  }
});

test('speed sanity: load a 1,280 x 12,966 synthetic bulk (printed, not asserted)', async (t) => {
  const dir = join(root, 'big');
  let start = performance.now();
  await writeSyntheticDataset(dir, { shape: 'data1', genes: 12966, seed: 2, cellScale: 0.05 });
  const generated = performance.now() - start;
  start = performance.now();
  const bulk = await readExpression(join(dir, 'bulk.tsv'), { format: 'scad', scale: 'normalized' });
  const read = performance.now() - start;
  assert.equal(bulk.ids.length, 1280);
  assert.equal(bulk.genes.length, 12966 + 648);
  // A spot check that the fast parser read what was written.
  const firstLine = (await readFile(join(dir, 'bulk.tsv'), 'utf8')).split('\n', 2)[1] as string;
  const written = firstLine.split('\t').slice(3, 13).map(Number);
  assert.deepEqual(Array.from(bulk.values.subarray(0, 10)), Array.from(Float32Array.from(written)));
  t.diagnostic(`generated data1 with 12,966 genes in ${(generated / 1000).toFixed(1)} s; read its bulk (1,280 x 13,614) in ${(read / 1000).toFixed(2)} s`);
});
