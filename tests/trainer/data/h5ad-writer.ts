import type { File as H5FileHandle } from 'h5wasm/node';
import { loadH5wasm } from '../../../trainer/data/h5-file.js';

/**
 * A minimal AnnData writer (on-disk spec: dataframe encoding 0.2.0, dense or
 * CSR X) for tests: it makes the malformed files the reader must reject
 * (shape mismatches, duplicated names, NaN) and the larger CSR file, which
 * anndata itself would refuse to write or which are too big to commit.
 * The committed fixtures in tests/fixtures/h5ad come from anndata itself.
 */

export type Column =
  | number[]
  | string[]
  | boolean[]
  | { categories: Array<string | number>; codes: number[] }
  /** anndata's nullable-integer: values with a mask, true where missing. */
  | { values: number[]; mask: boolean[] };

export type Matrix =
  | { dense: Float32Array | Float64Array | Int32Array; shape: [number, number] }
  | {
      csr: { data: Float32Array | Float64Array | Int32Array; indices: Int32Array | BigInt64Array; indptr: Int32Array | BigInt64Array };
      shape: [number, number];
      encoding?: string;
    };

export interface H5adSpec {
  obsNames: string[];
  varNames: string[];
  /** Omitted: no X at all. */
  X?: Matrix;
  obs?: Record<string, Column>;
  var?: Record<string, Column>;
  /** Extra groups under layers/, to check the "X missing" message names them. */
  layers?: string[];
}

export async function writeH5ad(path: string, spec: H5adSpec): Promise<void> {
  // The reader's instance of h5wasm: one per process, and loaded without tsx's rewrite (see loadH5wasm).
  const h5wasm = await loadH5wasm();
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('encoding-type', 'anndata');
    file.create_attribute('encoding-version', '0.1.0');
    if (spec.X !== undefined) writeMatrix(file, spec.X);
    writeFrame(file, 'obs', spec.obsNames, spec.obs ?? {});
    writeFrame(file, 'var', spec.varNames, spec.var ?? {});
    if (spec.layers !== undefined) {
      const layers = file.create_group('layers');
      for (const name of spec.layers) layers.create_group(name);
    }
  } finally {
    file.close();
  }
}

type Group = ReturnType<H5FileHandle['create_group']>;

function writeMatrix(file: H5FileHandle, x: Matrix): void {
  if ('dense' in x) {
    const ds = file.create_dataset({ name: 'X', data: x.dense, shape: x.shape });
    ds.create_attribute('encoding-type', 'array');
    ds.create_attribute('encoding-version', '0.2.0');
    return;
  }
  const group = file.create_group('X');
  group.create_attribute('encoding-type', x.encoding ?? 'csr_matrix');
  group.create_attribute('encoding-version', '0.1.0');
  group.create_attribute('shape', BigInt64Array.from(x.shape, BigInt));
  group.create_dataset({ name: 'data', data: x.csr.data });
  group.create_dataset({ name: 'indices', data: x.csr.indices });
  group.create_dataset({ name: 'indptr', data: x.csr.indptr });
}

function writeFrame(file: H5FileHandle, name: string, index: string[], columns: Record<string, Column>): void {
  const group: Group = file.create_group(name);
  group.create_attribute('_index', '_index');
  group.create_attribute('encoding-type', 'dataframe');
  group.create_attribute('encoding-version', '0.2.0');
  const names = Object.keys(columns);
  // anndata also wants it on a frame without columns, but h5wasm cannot write an empty attribute cleanly; the reader does not need it.
  if (names.length > 0) group.create_attribute('column-order', names);
  strings(group, '_index', index);
  for (const [column, values] of Object.entries(columns)) {
    if (!Array.isArray(values) && 'mask' in values) {
      const nullable = group.create_group(column);
      nullable.create_attribute('encoding-type', 'nullable-integer');
      nullable.create_attribute('encoding-version', '0.1.0');
      nullable.create_dataset({ name: 'values', data: BigInt64Array.from(values.values, BigInt) });
      nullable.create_dataset({ name: 'mask', data: Uint8Array.from(values.mask, Number) });
    } else if (!Array.isArray(values)) {
      const cat = group.create_group(column);
      cat.create_attribute('encoding-type', 'categorical');
      cat.create_attribute('encoding-version', '0.2.0');
      if (values.categories.every((c) => typeof c === 'string')) strings(cat, 'categories', values.categories as string[]);
      else cat.create_dataset({ name: 'categories', data: Float64Array.from(values.categories as number[]) });
      cat.create_dataset({ name: 'codes', data: Int8Array.from(values.codes) });
    } else if (values.every((v) => typeof v === 'string')) {
      strings(group, column, values as string[]);
    } else {
      const ds = group.create_dataset({ name: column, data: Float64Array.from(values as Array<number | boolean>, Number) });
      ds.create_attribute('encoding-type', 'array');
      ds.create_attribute('encoding-version', '0.2.0');
    }
  }
}

function strings(group: Group, name: string, values: string[]): void {
  const ds = group.create_dataset({ name, data: values });
  ds.create_attribute('encoding-type', 'string-array');
  ds.create_attribute('encoding-version', '0.2.0');
}
