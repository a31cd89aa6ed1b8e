import { registerWasmAdam } from './wasm-adam.js';
import { patchWasmGather } from './wasm-gather.js';
import { patchWasmIdentity } from './wasm-identity.js';
import { patchWasmMatMul } from './wasm-matmul.js';
import { patchWasmReduce } from './wasm-reduce.js';

/**
 * Every replacement this directory makes to the wasm backend's kernels, each
 * giving the original kernel's result bit for bit (transpose-first: to 1e-6,
 * see wasm-matmul.ts), faster for the shapes a training step uses (the
 * measurements are in bench/results/trainer-speed.md):
 * - BatchMatMul: a SIMD GEMM (simd/gemm.ts) for single products, transpose-first otherwise;
 *   _FusedMatMul: transpose-first (wasm-matmul.ts)
 * - GatherV2: rows copied with memmove (wasm-gather.ts)
 * - Sum, Mean over leading axes: without the transpose, by a SIMD kernel (wasm-reduce.ts)
 * - Identity: shares the data instead of copying it (wasm-identity.ts)
 * and one kernel of its own:
 * - CellsweepAdamUpdate: Adam over all parameters in one call (wasm-adam.ts)
 * Needs @tensorflow/tfjs-backend-wasm imported. Idempotent.
 */
export function patchWasmKernels(): void {
  patchWasmMatMul();
  patchWasmGather();
  patchWasmReduce();
  patchWasmIdentity();
  registerWasmAdam();
}

export const WASM_PATCHES = 'SIMD GEMM and transpose-first matmul, row gather, leading-axis sum/mean, shared identity, fused Adam';
