import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, expected } from '../../core/errors.js';
import { registerGradients } from './gradients.js';
import { patchWasmKernels, WASM_PATCHES } from './wasm-kernels.js';

/**
 * Which TensorFlow.js backend trains. GPU pods have @tensorflow/tfjs-node-gpu
 * (or tfjs-node) installed; everywhere else the wasm backend does the work.
 * Those native packages are optional: they are loaded with a dynamic import
 * that is allowed to fail, and never named in package.json.
 */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** tf.getBackend() after selection: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  requested: BackendChoice;
  /** Why this one: what was tried before it and how it was set up. */
  reason: string;
}

export interface SelectOptions {
  /** Where the one-line announcement goes; stderr by default. */
  log?: (line: string) => void;
}

const ENV_VAR = 'CELLSWEEP_BACKEND';
// tfjs-node-gpu first: on a GPU pod both may be installed and the GPU one is the point.
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let current: BackendInfo | undefined;
// Selections run one after another, so two concurrent calls cannot interleave setBackend.
let queue: Promise<unknown> = Promise.resolve();

/** The backend chosen by the last successful selectBackend, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Loads and activates a backend, and makes sure gradients are registered.
 * 'auto' (the default, or $CELLSWEEP_BACKEND) tries tfjs-node-gpu, tfjs-node,
 * wasm, then the pure-JS cpu backend; a named one that cannot load is a
 * ConfigError saying what failed. Calling it again with the same choice
 * returns the same answer without reloading or logging.
 */
export function selectBackend(preferred?: BackendChoice, options: SelectOptions = {}): Promise<BackendInfo> {
  const run = queue.then(() => select(preferred === undefined ? backendFromEnv() : checkChoice(preferred, 'backend'), options));
  queue = run.catch(() => undefined);
  return run;
}

/** The current backend, selecting the default one first if none was chosen yet. */
export async function ensureBackend(): Promise<BackendInfo> {
  return current ?? selectBackend();
}

export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const value = env[ENV_VAR];
  if (value === undefined || value === '') return 'auto';
  return checkChoice(value, ENV_VAR);
}

function checkChoice(value: string, field: string): BackendChoice {
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) {
    throw new ConfigError(expected(`a training backend (${BACKEND_CHOICES.join(', ')})`, value), { field });
  }
  return value as BackendChoice;
}

async function select(requested: BackendChoice, options: SelectOptions): Promise<BackendInfo> {
  if (current !== undefined && current.requested === requested && tf.getBackend() === current.name) return current;
  const loaders: Loader[] =
    requested === 'auto' ? [loadNative, loadWasm, loadCpu] : [{ tensorflow: loadNative, wasm: loadWasm, cpu: loadCpu }[requested]];
  const failures: string[] = [];
  for (const load of loaders) {
    const outcome = await load();
    if (outcome.ok) {
      // Training needs gradients on every backend; a no-op when @tensorflow/tfjs registered them.
      await registerGradients();
      const tried = failures.length > 0 ? `${failures.join('; ')}; ` : '';
      current = { name: tf.getBackend(), requested, reason: `${tried}${outcome.detail}` };
      (options.log ?? logToStderr)(`cellsweep: training backend ${current.name} (requested ${requested}): ${current.reason}`);
      return current;
    }
    failures.push(outcome.detail);
  }
  throw new ConfigError(`cannot use the '${requested}' training backend: ${failures.join('; ')}`, { field: 'backend' });
}

type Outcome = { ok: boolean; detail: string };
type Loader = () => Promise<Outcome>;

async function loadNative(): Promise<Outcome> {
  const failures: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // A variable specifier keeps TypeScript from resolving a package that is not installed.
      const specifier: string = pkg;
      await import(specifier);
    } catch (err) {
      failures.push(`${pkg} ${isNotInstalled(err, pkg) ? 'not installed' : `failed to load (${errorText(err)})`}`);
      continue;
    }
    // tfjs-core keeps its registry on the global object, so a package that
    // brought its own tfjs-core copy still registers where we look.
    if (tf.findBackendFactory('tensorflow') === null) {
      failures.push(`${pkg} loaded but registered no 'tensorflow' backend`);
      continue;
    }
    if (!(await activate('tensorflow'))) {
      failures.push(`${pkg} loaded but its 'tensorflow' backend failed to initialise (libtensorflow / CUDA?)`);
      continue;
    }
    return { ok: true, detail: `${pkg} (libtensorflow)` };
  }
  return { ok: false, detail: failures.join('; ') };
}

async function loadWasm(): Promise<Outcome> {
  try {
    // Under Node the .wasm files are found next to the package's node build
    // (Emscripten's locateFile uses __dirname), so setWasmPaths is not needed.
    await import('@tensorflow/tfjs-backend-wasm');
    patchWasmKernels();
  } catch (err) {
    return { ok: false, detail: `@tensorflow/tfjs-backend-wasm failed to load (${errorText(err)})` };
  }
  const started = await withoutNewProcessHandlers(() => activate('wasm'));
  if (!started) return { ok: false, detail: 'the wasm backend failed to initialise (see the warning above)' };
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return { ok: true, detail: `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'single thread'}; ${WASM_PATCHES})` };
}

async function loadCpu(): Promise<Outcome> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch (err) {
    return { ok: false, detail: `@tensorflow/tfjs-backend-cpu failed to load (${errorText(err)})` };
  }
  if (!(await activate('cpu'))) return { ok: false, detail: 'the cpu backend failed to initialise' };
  return { ok: true, detail: 'pure-JS cpu (slow: about 27x slower than wasm)' };
}

/**
 * Emscripten's start-up code adds process 'uncaughtException' and
 * 'unhandledRejection' listeners that only rethrow. They change nothing but
 * the report of a crash, which then prints the whole minified line of the
 * wasm glue code; removing them restores Node's own report.
 */
async function withoutNewProcessHandlers<T>(run: () => Promise<T>): Promise<T> {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((event) => new Set(emitter.listeners(event)));
  try {
    return await run();
  } finally {
    events.forEach((event, i) => {
      for (const listener of emitter.listeners(event)) {
        if (!before[i]?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    });
  }
}

/** tf.setBackend resolves false (and warns) rather than throwing when init fails. */
async function activate(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

function isNotInstalled(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && errorText(err).includes(pkg);
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
