import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DataError } from '../../../core/errors.js';
import { loadDataset } from '../../../trainer/data/dataset.js';
import { rejectsWithDataError, tempDir, writeFiles } from './helpers.js';

// Every malformed input ends in one DataError naming the file, the line and,
// where there is one, the column (gene) or manifest key. Each case starts from
// a valid dataset and breaks one thing.

const SOURCE = ['\tresponse\tlogIC50\tA\tB\tC', 'l1\t0\t1.5\t0.1\t0.2\t0.3', 'l2\t1\tNA\t0.4\t0.5\t0.6', 'l3\t0\t-2\t0.7\t0.8\t0.9', ''].join('\n');
const TARGET = ['\tresponse\tB\tC\tD', 'c1\t1\t1\t2\t3', 'c2\t0\t4\t5\t6', ''].join('\n');
const CELLS = [',B,C,D', 'c1,1,2,3', 'c2,4,5,6', ''].join('\n');
const CELL_LABELS = ['cell,response', 'c2,0', 'c1,1', ''].join('\n');
const MANIFEST = [
  'name: toy',
  'bulk:',
  '  expression: source.tsv',
  '  format: scad',
  'cells:',
  '  expression: cells.csv',
  '  format: table',
  '  labels: labels.csv',
  '  scale: counts',
  '',
].join('\n');

let root: string;
let cleanup: () => Promise<void>;
let counter = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(async () => cleanup());

/** A new dataset directory: the valid SCAD pair, with `files` replacing or adding files. */
async function pair(files: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `case${++counter}`);
  await writeFiles(dir, { 'source.tsv': SOURCE, 'target.tsv': TARGET, ...files });
  return dir;
}

/** A new dataset directory with a manifest (bulk SCAD, cells table format with counts). */
async function withManifest(files: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `case${++counter}`);
  await writeFiles(dir, { 'dataset.yaml': MANIFEST, 'source.tsv': SOURCE, 'cells.csv': CELLS, 'labels.csv': CELL_LABELS, ...files });
  return dir;
}

/** SOURCE with line `line` (1-based) replaced. */
function sourceWith(line: number, text: string): string {
  const lines = SOURCE.split('\n');
  lines[line - 1] = text;
  return lines.join('\n');
}

test('the valid fixtures load (so every failure below is caused by the one change)', async () => {
  const a = await loadDataset(await pair());
  assert.deepEqual(a.bulk.ids, ['l1', 'l2', 'l3']);
  assert.deepEqual(Array.from(a.bulk.labels), [0, 1, 0]);
  assert.ok(Number.isNaN(a.bulk.logIC50?.[1]));
  const b = await loadDataset(await withManifest());
  assert.equal(b.name, 'toy');
  assert.deepEqual(b.cells.genes, ['B', 'C', 'D']);
  assert.deepEqual(Array.from(b.cells.labels), [1, 0], 'labels follow the expression rows, not the label file order');
  assert.equal(b.cells.scale, 'counts');
});

test('missing dataset directory, and a directory with neither a manifest nor a SCAD pair', async () => {
  await rejectsWithDataError(loadDataset(join(root, 'nowhere')), { file: 'nowhere', detail: 'expected a dataset directory, but got no such file' });
  const dir = join(root, `case${++counter}`);
  await writeFiles(dir, { 'source.tsv': SOURCE });
  await rejectsWithDataError(loadDataset(dir), {
    file: `case${counter}`,
    detail: 'expected dataset.yaml, or source.tsv and target.tsv, in the dataset directory, but got only source.tsv',
  });
});

test('a file named by the manifest is missing, or is a directory', async () => {
  const dir = await withManifest({ 'dataset.yaml': MANIFEST.replace('cells.csv', 'missing.csv') });
  await rejectsWithDataError(loadDataset(dir), {
    file: 'dataset.yaml',
    line: 6,
    field: 'cells.expression',
    detail: `expected a readable file, but got no such file: "missing.csv" (${join(dir, 'missing.csv')})`,
  });
  const dir2 = await withManifest({ 'dataset.yaml': MANIFEST.replace('labels.csv', 'nolabels.csv') });
  await rejectsWithDataError(loadDataset(dir2), {
    file: 'dataset.yaml',
    line: 8,
    field: 'cells.labels',
    detail: /expected a readable file, but got no such file: "nolabels.csv"/,
  });
  const dir3 = await withManifest();
  await mkdir(join(dir3, 'folder.tsv'));
  await writeFiles(dir3, { 'dataset.yaml': MANIFEST.replace('expression: source.tsv', 'expression: folder.tsv') });
  await rejectsWithDataError(loadDataset(dir3), {
    file: 'dataset.yaml',
    line: 3,
    field: 'bulk.expression',
    detail: /expected a readable file, but got a directory/,
  });
});

test('manifest: invalid YAML, unknown keys, missing keys, wrong types', async () => {
  const cases: Array<{ manifest: string; line: number; field?: string; detail: string | RegExp }> = [
    { manifest: MANIFEST.replace('  format: scad', '  format: [scad'), line: 5, detail: /dataset\.yaml:5: expected valid YAML, but got Flow sequence/ },
    { manifest: MANIFEST.replace('name: toy', 'nmae: toy'), line: 1, field: 'nmae', detail: 'expected one of the keys name, drug, bulk, cells, preprocess, but got "nmae"' },
    {
      manifest: MANIFEST.replace('  scale: counts', '  scale: counts\n  sep: tab'),
      line: 10,
      field: 'cells.sep',
      detail: 'expected one of the keys expression, format, labels, scale, labels_column, sensitive_value, gene_column, but got "sep"',
    },
    { manifest: 'name: toy\ncells:\n  expression: cells.csv\n  labels: labels.csv\n', line: 1, field: 'bulk', detail: 'expected a mapping with at least an expression file, but got nothing' },
    { manifest: MANIFEST.replace('  expression: source.tsv\n', ''), line: 2, field: 'bulk.expression', detail: 'expected an expression file name, but got nothing' },
    { manifest: MANIFEST.replace('  labels: labels.csv\n', ''), line: 5, field: 'cells.labels', detail: 'expected a labels file for format: table, but got nothing' },
    { manifest: MANIFEST.replace('format: table', 'format: csv'), line: 7, field: 'cells.format', detail: 'expected "scad" or "table" or "h5ad", but got "csv"' },
    { manifest: MANIFEST.replace('scale: counts', 'scale: raw'), line: 9, field: 'cells.scale', detail: 'expected "normalized" or "counts", but got "raw"' },
    { manifest: MANIFEST.replace('name: toy', 'name: 3'), line: 1, field: 'name', detail: 'expected a non-empty string, but got 3' },
    { manifest: MANIFEST.replace('expression: cells.csv', 'expression: [a, b]'), line: 6, field: 'cells.expression', detail: 'expected a non-empty string, but got a list (["a","b"])' },
    { manifest: 'bulk: 3\ncells:\n  expression: cells.csv\n  labels: labels.csv\n', line: 1, field: 'bulk', detail: 'expected a mapping with at least an expression file, but got 3' },
    {
      manifest: MANIFEST.replace('  format: scad', '  format: scad\n  labels: extra.tsv'),
      line: 5,
      field: 'bulk.labels',
      detail: 'expected no labels file for format: scad (its labels are the response column), but got "extra.tsv"',
    },
    { manifest: '- bulk\n- cells\n', line: 1, detail: 'expected a mapping with keys bulk and cells, but got a list (["bulk","cells"])' },
    { manifest: MANIFEST.replace('name: toy', 'name: toy\nname: again'), line: 2, detail: /expected valid YAML, but got Map keys must be unique/ },
  ];
  for (const c of cases) {
    const dir = await withManifest({ 'dataset.yaml': c.manifest });
    await rejectsWithDataError(loadDataset(dir), {
      file: 'dataset.yaml',
      line: c.line,
      ...(c.field === undefined ? {} : { field: c.field }),
      detail: c.detail,
    });
  }
});

test('non-numeric and non-finite values name the file, line and gene', async () => {
  for (const bad of ['abc', 'NaN', 'inf', 'Infinity', '-inf', '', '1.2.3', '0x10', '1e999', 'NA']) {
    const dir = await pair({ 'source.tsv': sourceWith(3, `l2\t1\t0.5\t0.4\t${bad}\t0.6`) });
    await rejectsWithDataError(loadDataset(dir), {
      file: 'source.tsv',
      line: 3,
      field: 'B',
      detail: `expected a finite number, but got ${JSON.stringify(bad)}`,
    });
  }
  // Finite as a double but not as the float32 the values are kept in.
  for (const big of ['1e39', '-3.5e38']) {
    const dir = await pair({ 'source.tsv': sourceWith(3, `l2\t1\t0.5\t0.4\t${big}\t0.6`) });
    await rejectsWithDataError(loadDataset(dir), {
      file: 'source.tsv',
      line: 3,
      field: 'B',
      detail: `expected a number within float32 range (magnitude at most 3.40e+38), but got ${Number(big)}`,
    });
  }
  // The last column, where no delimiter follows.
  const dir = await pair({ 'target.tsv': TARGET.replace('c2\t0\t4\t5\t6', 'c2\t0\t4\t5\tNaN') });
  await rejectsWithDataError(loadDataset(dir), { file: 'target.tsv', line: 3, field: 'D', detail: 'expected a finite number, but got "NaN"' });
});

test('NA is allowed in logIC50 only; other logIC50 text is an error', async () => {
  const dir = await pair({ 'source.tsv': sourceWith(4, 'l3\t0\tlow\t0.7\t0.8\t0.9') });
  await rejectsWithDataError(loadDataset(dir), { file: 'source.tsv', line: 4, field: 'logIC50', detail: 'expected a finite number or NA, but got "low"' });
});

test('ragged rows: too few fields, too many fields, a blank line inside the data', async () => {
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(2, 'l1\t0\t1.5\t0.1\t0.2') })), {
    file: 'source.tsv',
    line: 2,
    detail: 'expected 6 fields per line as in the header, but got 5',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(2, 'l1\t0\t1.5\t0.1\t0.2\t0.3\t0.4') })), {
    file: 'source.tsv',
    line: 2,
    detail: 'expected 6 fields per line as in the header, but got 7',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(2, 'l1\t0\t1.5\t0.1\t0.2\t0.3\t') })), {
    file: 'source.tsv',
    line: 2,
    detail: 'expected 6 fields per line as in the header, but got 7',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(2, 'l1') })), {
    file: 'source.tsv',
    line: 2,
    detail: 'expected 6 fields per line as in the header, but got 1',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(3, '') })), {
    file: 'source.tsv',
    line: 3,
    detail: 'expected 6 fields per line as in the header, but got an empty line',
  });
  await rejectsWithDataError(loadDataset(await withManifest({ 'cells.csv': CELLS.replace('c2,4,5,6', 'c2,4,5') })), {
    file: 'cells.csv',
    line: 3,
    detail: 'expected 4 fields per line as in the header, but got 3',
  });
  // Trailing blank lines are not rows.
  const ok = await loadDataset(await pair({ 'source.tsv': `${SOURCE}\n\n` }));
  assert.equal(ok.bulk.ids.length, 3);
});

test('labels outside {0, 1}, in the response column and in a label file', async () => {
  for (const bad of ['2', '-1', '0.5', 'yes', '']) {
    await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(2, `l1\t${bad}\t1.5\t0.1\t0.2\t0.3`) })), {
      file: 'source.tsv',
      line: 2,
      field: 'response',
      detail: `expected a label 0 or 1, but got ${JSON.stringify(bad)}`,
    });
  }
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': CELL_LABELS.replace('c1,1', 'c1,2') })), {
    file: 'labels.csv',
    line: 3,
    field: 'response',
    detail: 'expected a label 0 or 1, but got "2"',
  });
});

test('a label file whose ids do not match the expression rows, or has no label column', async () => {
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': `${CELL_LABELS}c9,1\n` })), {
    file: 'labels.csv',
    line: 4,
    detail: /^.*labels\.csv:4: expected a sample id of .*cells\.csv, but got "c9"$/,
  });
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': 'cell,response\nc2,0\n' })), {
    file: 'labels.csv',
    detail: /expected a label for every sample of .*cells\.csv, but got none for "c1"$/,
  });
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': 'cell,response\nc3,0\nc4,1\n' })), {
    file: 'labels.csv',
    line: 2,
    detail: /expected a sample id of .*cells\.csv, but got "c3"$/,
  });
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': 'cell,class\nc2,0\nc1,1\n' })), {
    file: 'labels.csv',
    line: 1,
    detail: 'expected a header with a "response" or "label" column after the sample id, but got "cell", "class"',
  });
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': `${CELL_LABELS}c1,1\n` })), {
    file: 'labels.csv',
    line: 4,
    detail: 'expected unique sample ids, but got "c1" again (first on line 3)',
  });
  // Missing ids are listed by count when there are several.
  const dir = join(root, `case${++counter}`);
  await writeFiles(dir, {
    'dataset.yaml': MANIFEST,
    'source.tsv': SOURCE,
    'cells.csv': [',B', 'c1,1', 'c2,2', 'c3,3', 'c4,4', ''].join('\n'),
    'labels.csv': 'cell,label\nc1,1\n',
  });
  await rejectsWithDataError(loadDataset(dir), { file: 'labels.csv', detail: /but got none for "c2" \(and 2 more\)$/ });
});

test('duplicated sample ids and gene names', async () => {
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(4, 'l1\t0\t-2\t0.7\t0.8\t0.9') })), {
    file: 'source.tsv',
    line: 4,
    detail: 'expected unique sample ids, but got "l1" again (first on line 2)',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'target.tsv': TARGET.replace('\tD', '\tB') })), {
    file: 'target.tsv',
    line: 1,
    field: 'B',
    detail: 'expected unique gene names, but got "B" in columns 3 and 5',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'target.tsv': TARGET.replace('\tD', '\t') })), {
    file: 'target.tsv',
    line: 1,
    detail: 'expected a gene name in column 5, but got ""',
  });
});

test('negative values are rejected when the scale is counts (and accepted when normalized)', async () => {
  await rejectsWithDataError(loadDataset(await withManifest({ 'cells.csv': CELLS.replace('c2,4,5,6', 'c2,4,-5,6') })), {
    file: 'cells.csv',
    line: 3,
    field: 'C',
    detail: 'expected a non-negative count (scale: counts), but got -5',
  });
  const normalized = await loadDataset(
    await withManifest({ 'cells.csv': CELLS.replace('c2,4,5,6', 'c2,4,-5,6'), 'dataset.yaml': MANIFEST.replace('scale: counts', 'scale: normalized') }),
  );
  assert.equal(normalized.cells.values[4], -5);
});

test('a single class among the bulk labels, or among the cell labels', async () => {
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': sourceWith(3, 'l2\t0\tNA\t0.4\t0.5\t0.6') })), {
    file: 'source.tsv',
    field: 'response',
    detail: 'expected both classes, 0 and 1, among the bulk labels, but got only 0 (resistant) for all 3 samples',
  });
  await rejectsWithDataError(loadDataset(await withManifest({ 'labels.csv': 'cell,response\nc1,1\nc2,1\n' })), {
    file: 'labels.csv',
    detail: 'expected both classes, 0 and 1, among the cell labels, but got only 1 (sensitive) for all 2 samples',
  });
});

test('no gene shared between the two domains is caught by loadDataset, before any training', async () => {
  const dir = await pair({ 'target.tsv': TARGET.replace('\tB\tC\tD', '\tX\tY\tZ') });
  await assert.rejects(loadDataset(dir), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /^expected at least one gene shared by the bulk \(.*source\.tsv\) and the cells \(.*target\.tsv\), but got none: /);
    assert.match(err.message, /bulk genes look like "A", "B", "C"; cell genes like "X", "Y", "Z"$/);
    return true;
  });
});

test('empty files, header-only files, a SCAD file without its response column, an unknown extension', async () => {
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': '' })), { file: 'source.tsv', line: 1, detail: 'expected a header row, but got an empty file' });
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': '\tresponse\tA\n' })), {
    file: 'source.tsv',
    line: 2,
    detail: 'expected at least one sample row after the header, but got none',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'target.tsv': TARGET.replace('response', 'label') })), {
    file: 'target.tsv',
    line: 1,
    field: 'response',
    detail: 'expected column 2 to be "response" (SCAD layout: id, response, [logIC50,] genes), but got "label"',
  });
  await rejectsWithDataError(loadDataset(await pair({ 'source.tsv': '\tresponse\n' })), {
    file: 'source.tsv',
    line: 1,
    detail: 'expected at least one gene column after the sample id, but got none',
  });
  await rejectsWithDataError(
    loadDataset(await withManifest({ 'cells.dat': CELLS, 'dataset.yaml': MANIFEST.replace('cells.csv', 'cells.dat') })),
    { file: 'cells.dat', detail: 'expected a .csv, .tsv or .txt file, but got ".dat"' },
  );
});
