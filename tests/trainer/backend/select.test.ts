import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../../core/errors.js';
import { backendFromEnv, currentBackend, selectBackend } from '../../../trainer/backend/index.js';
import { isWasmMatMulPatched } from '../../../trainer/backend/wasm-matmul.js';

// The tests share one process, hence one tfjs engine: they run in order and
// each states the backend it expects.

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');
const crashHandlers = (): number[] => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];

test('forcing cpu selects the pure-JS backend and currentBackend reports it', async () => {
  const lines: string[] = [];
  const info = await selectBackend('cpu', { log: (l) => lines.push(l) });
  assert.deepEqual({ name: info.name, requested: info.requested }, { name: 'cpu', requested: 'cpu' });
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(currentBackend(), info);
  assert.equal(lines.length, 1);
  assert.match(lines[0] as string, /^cellsweep: training backend cpu \(requested cpu\): /);
});

test('forcing wasm selects it with the kernel replacements, and gradients are registered', async () => {
  // Taken here, not at load: the test runner adds its own handlers once tests start.
  const handlersBefore = crashHandlers();
  const info = await selectBackend('wasm', { log: () => {} });
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(currentBackend()?.name, 'wasm');
  assert.match(info.reason, /SIMD GEMM and transpose-first matmul/);
  assert.ok(isWasmMatMulPatched());
  // Emscripten's rethrowing crash handlers are taken off again.
  assert.deepEqual(crashHandlers(), handlersBefore);
  // tfjs-core's Node build registers none; training cannot work without them.
  assert.ok(tf.getGradient(tf.BatchMatMul) !== undefined && tf.getGradient(tf.Reshape) !== undefined);
  const x = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(x, x))), [x]);
  // d/dX sum((XX)^2) = G X^T + X^T G with G = 2 XX.
  assert.deepEqual(Array.from(grads[x.name]?.dataSync() ?? []), [158, 274, 266, 482]);
  tf.dispose([x, ...Object.values(grads)]);
});

test('selecting the same backend again is a no-op: same answer, no second log line', async () => {
  const lines: string[] = [];
  const first = await selectBackend('wasm', { log: (l) => lines.push(l) });
  const [second, third] = await Promise.all([selectBackend('wasm', { log: (l) => lines.push(l) }), selectBackend('wasm', { log: (l) => lines.push(l) })]);
  assert.equal(second, first);
  assert.equal(third, first);
  assert.deepEqual(lines, []);
});

test('an unknown backend name is a ConfigError listing the known ones', async () => {
  await assert.rejects(
    selectBackend('gpu' as never),
    (err: unknown) =>
      err instanceof ConfigError && err.message === `field 'backend': expected a training backend (auto, tensorflow, wasm, cpu), but got "gpu"`,
  );
  assert.equal(currentBackend()?.name, 'wasm', 'a failed selection leaves the current backend alone');
});

test('CELLSWEEP_BACKEND picks the default choice, and a bad value names the variable', () => {
  assert.equal(backendFromEnv({}), 'auto');
  assert.equal(backendFromEnv({ CELLSWEEP_BACKEND: '' }), 'auto');
  assert.equal(backendFromEnv({ CELLSWEEP_BACKEND: 'cpu' }), 'cpu');
  assert.throws(() => backendFromEnv({ CELLSWEEP_BACKEND: 'cuda' }), /field 'CELLSWEEP_BACKEND': expected a training backend .* but got "cuda"/);
});

test('forcing tensorflow without tfjs-node is an error naming each package and why', { skip: nativeInstalled && 'tfjs-node is installed here' }, async () => {
  await assert.rejects(selectBackend('tensorflow', { log: () => {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /cannot use the 'tensorflow' training backend: @tensorflow\/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed/);
    return true;
  });
  assert.equal(tf.getBackend(), 'wasm');
});

test('auto falls back to wasm when no native package is installed, and says what it tried', { skip: nativeInstalled && 'tfjs-node is installed here' }, async () => {
  const lines: string[] = [];
  const info = await selectBackend('auto', { log: (l) => lines.push(l) });
  assert.deepEqual({ name: info.name, requested: info.requested }, { name: 'wasm', requested: 'auto' });
  assert.match(info.reason, /^@tensorflow\/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed; wasm \(SIMD/);
  assert.equal(lines.length, 1);
});
