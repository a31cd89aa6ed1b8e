import type { WasmBackend } from '../wasm-heap.js';
import { instantiateKernels, type SimdKernels, type WasmMemory } from './kernels.js';

export type { SimdKernels } from './kernels.js';

const instances = new WeakMap<WasmBackend, SimdKernels>();

/**
 * The SIMD kernels bound to this backend's heap: the Emscripten module of
 * @tensorflow/tfjs-backend-wasm keeps its WebAssembly instance's exports on
 * `asm`, the memory among them, so a second module can import that memory
 * and read and write tensors where they are.
 */
export function simdKernels(backend: WasmBackend): SimdKernels {
  let kernels = instances.get(backend);
  if (kernels === undefined) {
    const memory = (backend.wasm as unknown as { asm?: { memory?: WasmMemory } }).asm?.memory;
    if (memory === undefined || memory.buffer !== backend.wasm.HEAPU8.buffer) {
      throw new Error('the wasm backend does not expose its memory as wasm.asm.memory (another @tensorflow/tfjs-backend-wasm version?)');
    }
    kernels = instantiateKernels(memory);
    instances.set(backend, kernels);
  }
  return kernels;
}
