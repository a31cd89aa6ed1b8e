import { open, stat } from 'node:fs/promises';
import type { Dataset as H5Dataset, Entity, File as H5FileHandle, Group as H5Group, OutputData } from 'h5wasm/node';
import { DataError } from '../../core/errors.js';
import { describeIoError } from './line-reader.js';

/**
 * A read-only HDF5 file, through h5wasm (HDF5 compiled to WebAssembly; its
 * Node build reads the host filesystem directly). This layer turns h5wasm's
 * conventions into the data layer's: every failure is a DataError naming the
 * file and the dataset path inside it, 64-bit integers come back as numbers,
 * and large datasets are read in ranges so that the WebAssembly heap (which
 * never shrinks) stays a few MB rather than a copy of the whole matrix.
 */

/** HDF5 datatype classes (H5T_class_t) as h5wasm reports them in `metadata.type`. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_COMPOUND = 6;
const H5T_REFERENCE = 7;
const H5T_ENUM = 8;

/** Every HDF5 file starts with these 8 bytes, at offset 0 or after a user block of 512, 1024, 2048... bytes. */
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

type H5Module = typeof import('h5wasm/node').default;
let loading: Promise<H5Module> | undefined;
/** Bumped when an instance crashed; a new URL gives a fresh module instance with its own WebAssembly memory. */
let generation = 0;

/**
 * h5wasm, loaded on first use: a trainer that reads only text files never
 * instantiates the WebAssembly module. Also used by tests that write files,
 * so that there is one instance per process.
 *
 * Why the query on the URL: under tsx (bin/cellsweep.mjs and the tests run
 * through its loader) every imported .js file goes through tsx's load hook,
 * which rewrites h5wasm's 4.2 MB hdf5_util.js (the WebAssembly binary is
 * embedded in it as a string) and keeps about 550 MB of resident memory for
 * it. tsx leaves alone a module whose URL names a tsx-namespace other than
 * its own (that is how its namespaced register() works), and plain Node
 * ignores the query. Measured on the development VM: importing h5wasm raised
 * the RSS by about 600 MB through tsx, by about 30 MB this way.
 */
export function loadH5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    const url = `${import.meta.resolve('h5wasm/node')}?tsx-namespace=cellsweep-h5wasm${generation > 0 ? `&instance=${generation}` : ''}`;
    const h5 = ((await import(url)) as typeof import('h5wasm/node')).default;
    const module = await h5.ready;
    // Without this HDF5 prints its error stack to stderr and h5wasm throws a
    // message-less error; with it the stack becomes the exception's message.
    module.activate_throwing_error_handler();
    return h5;
  })();
  return loading;
}

/**
 * Some corrupt files make HDF5 abort or read out of bounds inside the
 * WebAssembly module (a WebAssembly.RuntimeError), after which its state
 * cannot be trusted. The next file then gets a fresh instance; the old one's
 * memory (tens of MB) stays with the module cache, a fair price for a trainer
 * that keeps serving other datasets.
 */
function discardInstanceAfter(err: unknown): void {
  if (!isWasmCrash(err)) return;
  generation++;
  loading = undefined;
}

/** A WebAssembly.RuntimeError (abort, out-of-bounds access); tested by name, the lib settings here do not declare the class. */
function isWasmCrash(err: unknown): err is Error {
  return err instanceof Error && err.name === 'RuntimeError';
}

/** Numbers read from a dataset: 64-bit integers are converted, so callers index plain numbers. */
export type NumberArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export type DtypeKind = 'integer' | 'float' | 'string' | 'enum' | 'compound' | 'reference' | 'other';

export class H5File {
  private constructor(
    /** The path as given, for messages. */
    readonly path: string,
    private readonly handle: H5FileHandle,
  ) {}

  /** Opens `path` read-only; a file that is not HDF5, or is truncated or corrupt, is a DataError. */
  static async open(path: string): Promise<H5File> {
    await requireHdf5Signature(path);
    const h5 = await loadH5wasm();
    try {
      return new H5File(path, new h5.File(path, 'r'));
    } catch (err) {
      discardInstanceAfter(err);
      throw new DataError(
        `expected a readable HDF5 file, but got one HDF5 cannot open (${hdf5Reason(err)}): the file is probably truncated or corrupt; copy or write it again`,
        { file: path },
        { cause: err },
      );
    }
  }

  close(): void {
    try {
      this.handle.close();
    } catch {
      // Closing a read-only file has nothing to flush; a failure here changes nothing for the caller.
    }
  }

  /** A DataError at `h5path` inside this file. */
  error(h5path: string, detail: string, cause?: unknown): DataError {
    return new DataError(detail, { file: this.path, field: h5path }, cause === undefined ? undefined : { cause });
  }

  /** Runs an h5wasm call, turning an HDF5 failure into a DataError at `h5path`. */
  private guard<T>(h5path: string, action: () => T): T {
    try {
      return action();
    } catch (err) {
      if (err instanceof DataError) throw err;
      discardInstanceAfter(err);
      throw this.error(h5path, `expected a readable HDF5 object, but got an error from HDF5 (${hdf5Reason(err)}): the file is probably corrupt`, err);
    }
  }

  /** What is at `h5path`: 'group', 'dataset', or undefined when nothing (or a broken link) is there. */
  kind(h5path: string): 'group' | 'dataset' | undefined {
    const entity = this.entity(h5path);
    if (entity instanceof Object && 'type' in entity) {
      if (entity.type === 'Group') return 'group';
      if (entity.type === 'Dataset') return 'dataset';
    }
    return undefined;
  }

  private entity(h5path: string): Entity | undefined {
    return this.guard(h5path, () => this.handle.get(h5path) ?? undefined);
  }

  private dataset(h5path: string): H5Dataset {
    const kind = this.kind(h5path);
    if (kind !== 'dataset') throw this.error(h5path, `expected a dataset, but got ${kind === undefined ? 'nothing' : `a ${kind}`}`);
    return this.entity(h5path) as H5Dataset;
  }

  private group(h5path: string): H5Group {
    const kind = this.kind(h5path);
    if (kind !== 'group') throw this.error(h5path, `expected a group, but got ${kind === undefined ? 'nothing' : `a ${kind}`}`);
    return this.entity(h5path) as H5Group;
  }

  /** The names of the members of the group at `h5path`. */
  keys(h5path: string): string[] {
    const group = this.group(h5path);
    return this.guard(h5path, () => group.keys());
  }

  /** The attribute `name` of the object at `h5path`, or undefined. */
  attr(h5path: string, name: string): OutputData | undefined {
    if (this.kind(h5path) === undefined) return undefined;
    const holder = this.entity(h5path) as H5Dataset | H5Group;
    return this.guard(h5path, () => {
      const attrs = holder.attrs;
      if (!Object.hasOwn(attrs, name)) return undefined;
      return attrs[name]?.value ?? undefined;
    });
  }

  /** A string attribute (AnnData's `encoding-type`, `_index`), or undefined when absent or not a string. */
  attrString(h5path: string, name: string): string | undefined {
    const value = this.attr(h5path, name);
    return typeof value === 'string' ? value : undefined;
  }

  /** The path of the object an object-reference attribute points to (AnnData 0.7's categorical columns). */
  attrReferencePath(h5path: string, name: string): string | undefined {
    const value = this.attr(h5path, name);
    const ref = Array.isArray(value) ? value[0] : value;
    if (ref === undefined || ref === null || typeof ref !== 'object' || !('ref_data' in ref)) return undefined;
    const target = this.guard(h5path, () => this.dataset(h5path).dereference(ref as never));
    return target !== null && typeof target === 'object' && 'path' in target ? String(target.path) : undefined;
  }

  shape(h5path: string): number[] {
    const dataset = this.dataset(h5path);
    return this.guard(h5path, () => dataset.shape ?? []);
  }

  dtype(h5path: string): { kind: DtypeKind; size: number } {
    const dataset = this.dataset(h5path);
    const meta = this.guard(h5path, () => dataset.metadata);
    const kinds: Record<number, DtypeKind> = {
      [H5T_INTEGER]: 'integer',
      [H5T_FLOAT]: 'float',
      [H5T_STRING]: 'string',
      [H5T_ENUM]: 'enum',
      [H5T_COMPOUND]: 'compound',
      [H5T_REFERENCE]: 'reference',
    };
    return { kind: kinds[meta.type] ?? 'other', size: meta.size };
  }

  /** A 1-D string dataset (AnnData's string-array), whole. */
  readStrings(h5path: string): string[] {
    const dataset = this.dataset(h5path);
    const value = this.guard(h5path, () => dataset.value);
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw this.error(h5path, `expected an array of strings, but got ${describeDtype(this.dtype(h5path))}`);
    }
    return value as string[];
  }

  /**
   * Numbers of a dataset, whole or the range [start, end) of its first
   * dimension (rows of a 2-D dataset, flattened row-major). Integer, float and
   * enum (h5py's bool) datasets; 64-bit integers become a Float64Array.
   */
  readNumbers(h5path: string, start?: number, end?: number): NumberArray {
    const dataset = this.dataset(h5path);
    const { kind, size } = this.dtype(h5path);
    if (kind === 'float' && size === 2) {
      throw this.error(h5path, 'expected float32, float64 or integer values, but got float16, which h5wasm cannot read: store the matrix as float32');
    }
    if (kind !== 'integer' && kind !== 'float' && kind !== 'enum') {
      throw this.error(h5path, `expected numbers, but got ${describeDtype({ kind, size })}`);
    }
    const value = this.guard(h5path, () => (start === undefined ? dataset.value : dataset.slice([[start, end ?? null]])));
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) return Float64Array.from(value, Number);
    if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof Uint8ClampedArray)) return value as NumberArray;
    if (typeof value === 'number') return Float64Array.of(value);
    if (typeof value === 'bigint') return Float64Array.of(Number(value));
    throw this.error(h5path, `expected numbers, but got ${describeDtype({ kind, size })}`);
  }
}

function describeDtype(dtype: { kind: DtypeKind; size: number }): string {
  if (dtype.kind === 'integer' || dtype.kind === 'float') return `${dtype.kind}${dtype.size * 8} values`;
  if (dtype.kind === 'string') return 'strings';
  return `${dtype.kind} values`;
}

/**
 * The useful line of h5wasm's exception: its message is HDF5's error stack
 * ("#006: .../H5Fsuper.c line 577 in H5F__super_read(): truncated file: eof
 * = 10000, ..."), whose deepest entry says what went wrong.
 */
export function hdf5Reason(err: unknown): string {
  if (isWasmCrash(err)) return `the HDF5 library stopped: ${err.message}`;
  const text = err instanceof Error ? err.message : String(err);
  const entries = [...text.matchAll(/#\d+: .*? in [\w.]+\(\): (.*)$/gm)].map((m) => (m[1] as string).trim());
  const deepest = entries.at(-1);
  if (deepest !== undefined && deepest !== '') return deepest;
  const first = text.split('\n').find((line) => line.trim() !== '');
  return first?.trim() ?? 'unknown error';
}

/** A file without the HDF5 signature is rejected before h5wasm sees it, with what it looks like instead. */
async function requireHdf5Signature(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new DataError(`expected a readable file, but got ${describeIoError(err)}`, { file: path }, { cause: err });
  }
  try {
    const { size } = await stat(path);
    const probe = Buffer.alloc(SIGNATURE.length);
    for (let offset = 0; offset + SIGNATURE.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      const { bytesRead } = await handle.read(probe, 0, SIGNATURE.length, offset);
      if (bytesRead === SIGNATURE.length && probe.equals(SIGNATURE)) return;
    }
    const head = Buffer.alloc(Math.min(16, size));
    await handle.read(head, 0, head.length, 0);
    const looks = size === 0 ? 'an empty file' : `a file starting with ${JSON.stringify(head.toString('latin1').replace(/[^\x20-\x7e]/g, '.'))}`;
    throw new DataError(`expected an HDF5 file (AnnData .h5ad), but got ${looks} without the HDF5 signature`, { file: path });
  } finally {
    await handle.close();
  }
}
