import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels } from './simd/index.js';
import { byteOffset, makeOutput, type WasmBackend } from './wasm-heap.js';
import { WASM } from './wasm-override.js';

/**
 * One Adam update of every parameter tensor in one kernel call, for the
 * wasm backend. Written as ops (trainer/models/adam.ts), torch's Adam is ~14
 * element-wise kernels per parameter tensor, each a pass over memory and a
 * dispatch through the engine: for SCTL at 12,966 genes that is ~450 kernel
 * calls and ~14 passes over 27M parameters per step. TensorFlow.js has no
 * fused optimiser kernel for wasm (its own tf.train.adam is ops too), and a
 * JavaScript loop over the heap is slower than the ops it replaces (~25 ns
 * per element against ~9: V8 does float32 rounding and the divisions and
 * square root one scalar at a time). So the update is a SIMD kernel
 * (simd/kernels.ts, adam) that reads each parameter, gradient and moment
 * once: ~1.3 ns per element (4M parameters: 5 ms against 32 ms as ops).
 *
 * Arithmetic: exactly the op sequence of adam.ts in float32 (f32x4 lanes
 * round like the float32 ops of the wasm kernels), with the scalars rounded
 * to float32 as tfjs does when it makes them tensors. So the update is the
 * op path's, bit for bit (tests/trainer/models/adam.test.ts).
 *
 * Inputs: p<i>, g<i>, m<i>, v<i> for i = 0..n-1 (parameter, gradient, first
 * and second moment). Outputs: the n new parameters, fresh tensors: a
 * parameter's old data must not be overwritten: tensors are immutable in
 * TensorFlow.js, and XNNPACK (behind the wasm _FusedMatMul kernel) caches a
 * packed copy of a weight by tensor id, which would go stale. The moments are updated in place: they are
 * the optimiser's own variables, read by nothing else (checked: their data
 * must have no other reference).
 */
export const ADAM_KERNEL = 'CellsweepAdamUpdate';

export interface AdamKernelAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Per tensor: -lr / (1 - beta1^t). */
  negStepSizes: number[];
  /** Per tensor: sqrt(1 - beta2^t). */
  biasCorrection2Sqrts: number[];
}

export function registerWasmAdam(): void {
  if (tf.getKernel(ADAM_KERNEL, WASM) !== undefined) return;
  tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: WASM, kernelFunc: adamUpdate as unknown as KernelFunc });
}

export function unregisterWasmAdam(): void {
  if (tf.getKernel(ADAM_KERNEL, WASM) !== undefined) tf.unregisterKernel(ADAM_KERNEL, WASM);
}

function adamUpdate({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: NamedAttrMap }): TensorInfo[] {
  const a = attrs as unknown as AdamKernelAttrs;
  const n = a.negStepSizes.length;
  const input = (kind: string, i: number): TensorInfo => {
    const t = inputs[`${kind}${i}`];
    if (t === undefined) throw new Error(`${ADAM_KERNEL}: missing input ${kind}${i}`);
    if (t.dtype !== 'float32') throw new Error(`${ADAM_KERNEL}: ${kind}${i} is ${t.dtype}, not float32`);
    return t;
  };
  const kernels = simdKernels(backend);
  const fr = Math.fround;
  return Array.from({ length: n }, (_, i) => {
    const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((kind) => input(kind, i)) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
    const size = p.shape.reduce((s, d) => s * d, 1);
    for (const t of [g, m, v]) {
      if (t.shape.reduce((s, d) => s * d, 1) !== size) throw new Error(`${ADAM_KERNEL}: tensor ${i} has mismatched sizes`);
    }
    // In place only where nothing else can see it.
    for (const t of [m, v]) {
      if (backend.refCount(t.dataId) !== 1) throw new Error(`${ADAM_KERNEL}: moment ${i} is shared with another tensor; it must be the optimiser's own`);
    }
    const out = makeOutput(backend, [...p.shape]);
    const at = (t: TensorInfo): number => byteOffset(backend, t);
    kernels.adam(
      at(p), at(g), at(m), at(v), at(out), size,
      fr(a.beta1), fr(a.beta2), fr(1 - a.beta1), fr(1 - a.beta2), fr(a.eps), fr(a.weightDecay),
      fr(a.negStepSizes[i] as number), fr(a.biasCorrection2Sqrts[i] as number), a.weightDecay !== 0 ? 1 : 0,
    );
    return out;
  });
}
