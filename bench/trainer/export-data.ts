/**
 * Writes a dataset's prepared matrices (the very values the trainer sees,
 * after preprocessing) as raw little-endian arrays, for the PyTorch side of
 * the benchmark:
 *
 *   node --import tsx bench/trainer/export-data.ts --data DIR --out OUT
 *
 * OUT/meta.json (rows, genes), OUT/bulk_x.f32, OUT/bulk_y.u8, OUT/cells_x.f32.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPrepared } from '../../trainer/data/index.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' } } });
if (values.data === undefined || values.out === undefined) throw new Error('--data DIR and --out OUT are required');
const data = await loadPrepared(resolve(values.data));
const out = resolve(values.out);
await mkdir(out, { recursive: true });
const bytes = (a: Float32Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
await writeFile(join(out, 'bulk_x.f32'), bytes(data.bulk.x));
await writeFile(join(out, 'bulk_y.u8'), bytes(data.bulk.y));
await writeFile(join(out, 'cells_x.f32'), bytes(data.cells.x));
await writeFile(join(out, 'meta.json'), JSON.stringify({ genes: data.genes.length, bulk: data.bulk.rows, cells: data.cells.rows }) + '\n');
