import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Rng } from '../../../core/rng.js';
import { countFields, NumberScanner, parseNumberText, splitLine, TAB } from '../../../trainer/data/fields.js';
import { readExpression } from '../../../trainer/data/expression-reader.js';
import { countLines, forEachLine } from '../../../trainer/data/line-reader.js';
import { loadDataset } from '../../../trainer/data/dataset.js';
import { tempDir, writeFiles } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('cellsweep-fields-'));
});
after(async () => cleanup());

/** What the byte scanner makes of `text` as one field; NaN means "take the slow path". */
function scan(text: string): number {
  return new NumberScanner().scan(Buffer.from(text), 0, Buffer.byteLength(text), TAB);
}

test('the number scanner agrees bit for bit with Number() on plain decimals', () => {
  const rng = new Rng(99);
  const samples = ['0', '-0', '1', '-1.5', '.5', '5.', '+3', '1e5', '1E-5', '-2.5e+3', '123456789012345', '0.000123', '3.14159265358979', '1e22', '1e-22'];
  for (let i = 0; i < 20_000; i++) {
    const x = rng.normal() * 10 ** rng.int(-12, 12);
    samples.push(String(x), x.toPrecision(rng.int(1, 15)), x.toFixed(rng.int(0, 8)), x.toExponential(rng.int(0, 12)));
  }
  let fast = 0;
  for (const text of samples) {
    const value = scan(text);
    if (Number.isNaN(value)) {
      assert.equal(parseNumberText(text), Number(text), text); // the slow path covers it
    } else {
      fast++;
      assert.ok(Object.is(value, Number(text)), `${text}: ${value} vs ${Number(text)}`);
    }
  }
  // 17-digit spellings (String of a random double) go the slow way; matrix files have short ones.
  assert.ok(fast > samples.length * 0.6, `most numbers take the fast path (${fast} of ${samples.length})`);
  for (const text of ['-0.06600', '3.142', '0', '12', '-1.23e-4', '0.578913']) assert.ok(!Number.isNaN(scan(text)), `${text} takes the fast path`);
});

test('the scanner hands anything unusual to the slow path, which accepts finite decimals only', () => {
  for (const text of ['', '-', '.', 'e5', '1e', '1e+', 'NaN', 'inf', '-Infinity', '1,5', '0x10', ' 1', '1 ', '"1"', '1.2.3', '12345678901234567']) {
    assert.ok(Number.isNaN(scan(text)), text);
  }
  for (const [text, value] of [[' 1.5 ', 1.5], ['12345678901234567', 12345678901234567], ['1e-30', 1e-30], ['-0.0', -0]] as const) {
    assert.ok(Object.is(parseNumberText(text), value), text);
  }
  for (const text of ['', ' ', 'NaN', 'Infinity', '-inf', '0x10', '1e999', '1_000', 'abc']) assert.ok(Number.isNaN(parseNumberText(text)), text);
});

test('quoted fields: delimiters and doubled quotes inside quotes', () => {
  const line = Buffer.from('"a,b","say ""hi""",plain,,"",3');
  assert.deepEqual(splitLine(line, 0, line.length, 0x2c), ['a,b', 'say "hi"', 'plain', '', '', '3']);
  assert.equal(countFields(line, 0, line.length, 0x2c), 6);
});

test('line reader: LF and CRLF, no final line break, a byte-order mark, lines longer than the read buffer', async () => {
  const long = 'x'.repeat(9 << 20); // longer than the 4 MiB buffer, twice over
  await writeFiles(root, {
    'crlf.txt': '\uFEFFa\r\nb\r\n\r\nc',
    'long.txt': `first\n${long}\nlast\n`,
    'empty.txt': '',
  });
  const lines = async (name: string): Promise<string[]> => {
    const out: string[] = [];
    await forEachLine(join(root, name), (buf, start, end, no) => out.push(`${no}:${buf.toString('utf8', start, end)}`));
    return out;
  };
  assert.deepEqual(await lines('crlf.txt'), ['1:a', '2:b', '3:', '4:c']);
  assert.equal(await countLines(join(root, 'crlf.txt')), 4);
  const longLines = await lines('long.txt');
  assert.deepEqual([longLines[0], longLines[1]?.length, longLines[2]], ['1:first', long.length + 2, '3:last']);
  assert.equal(await countLines(join(root, 'long.txt')), 3);
  assert.deepEqual(await lines('empty.txt'), []);
  assert.equal(await countLines(join(root, 'empty.txt')), 0);
});

test('table format from R: quoted names, an empty or named first header cell, CSV and TSV', async () => {
  await writeFiles(root, {
    'r.csv': '"","TP53","EGFR","MYC"\n"cell 1",1,2.5,0\n"cell,2",3,-1e-3,7\n',
    'named.tsv': 'sample\tTP53\tEGFR\ns1\t1\t2\n',
  });
  const r = await readExpression(join(root, 'r.csv'), { format: 'table', scale: 'normalized' });
  assert.deepEqual(r.ids, ['cell 1', 'cell,2']);
  assert.deepEqual(r.genes, ['TP53', 'EGFR', 'MYC']);
  assert.deepEqual(Array.from(r.values), Array.from(Float32Array.from([1, 2.5, 0, 3, -1e-3, 7])));
  assert.equal(r.labels, undefined);
  const named = await readExpression(join(root, 'named.tsv'), { format: 'table', scale: 'normalized' });
  assert.deepEqual(named.genes, ['TP53', 'EGFR']);
});

test('a manifest may give absolute paths, .txt files, a "label" column, and infer the format from the labels key', async () => {
  const dir = join(root, 'manifest');
  const bulk = join(root, 'elsewhere', 'bulk.txt');
  await writeFiles(root, { 'elsewhere/bulk.txt': '\tresponse\tA\tB\nl1\t0\t1\t2\nl2\t1\t3\t4\n' });
  await writeFiles(dir, {
    'dataset.yaml': `drug: Cisplatin\nbulk:\n  expression: ${bulk}\ncells:\n  expression: cells.txt\n  labels: labels.tsv\n  scale: counts\n`,
    'cells.txt': '\tA\tB\nc1\t0\t5\nc2\t3\t1\n',
    'labels.tsv': 'id\tbatch\tlabel\nc1\tx\t1\nc2\ty\t0\n',
  });
  const dataset = await loadDataset(dir);
  assert.equal(dataset.name, 'manifest');
  assert.equal(dataset.drug, 'Cisplatin');
  assert.equal(dataset.bulk.file, bulk);
  assert.deepEqual(Array.from(dataset.bulk.labels), [0, 1]);
  assert.deepEqual(Array.from(dataset.cells.labels), [1, 0]);
  assert.equal(dataset.cells.scale, 'counts');
});
