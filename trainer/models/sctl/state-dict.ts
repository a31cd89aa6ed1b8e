import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm1d, Linear, Sequential, type Layer } from '../layers.js';

/**
 * Model tensors by PyTorch state_dict name and layout, so that weights can be
 * exchanged with a torch module of the same architecture (the reference
 * implementation in bench/reference/sctl_reference.py): `prefix.i.weight` for
 * the i-th module of a Sequential, BatchNorm's gamma and beta as `weight` and
 * `bias`, its statistics as `running_mean` and `running_var`.
 */
export interface NamedTensor {
  name: string;
  variable: tf.Variable;
  /** Stored [in, out] here, [out, in] in torch (nn.Linear's weight). */
  transposed: boolean;
}

/** A tensor in torch layout: its shape and row-major values. */
export interface TensorEntry {
  shape: number[];
  values: ArrayLike<number>;
}

export type StateDict = Record<string, TensorEntry>;

export function layerTensors(prefix: string, layer: Layer): NamedTensor[] {
  if (layer instanceof Linear) {
    return [
      { name: `${prefix}.weight`, variable: layer.weight, transposed: true },
      { name: `${prefix}.bias`, variable: layer.bias, transposed: false },
    ];
  }
  if (layer instanceof BatchNorm1d) {
    return [
      { name: `${prefix}.weight`, variable: layer.gamma, transposed: false },
      { name: `${prefix}.bias`, variable: layer.beta, transposed: false },
      { name: `${prefix}.running_mean`, variable: layer.runningMean, transposed: false },
      { name: `${prefix}.running_var`, variable: layer.runningVar, transposed: false },
    ];
  }
  if (layer instanceof Sequential) return layer.layers.flatMap((l, i) => layerTensors(`${prefix}.${i}`, l));
  return [];
}

/** Assigns every tensor from `dict`; the names must match exactly, both ways, and so must the shapes. */
export function loadStateDict(tensors: readonly NamedTensor[], dict: StateDict): void {
  const names = new Set(tensors.map((t) => t.name));
  const missing = [...names].filter((n) => !(n in dict));
  const unexpected = Object.keys(dict).filter((n) => !names.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new RangeError(`loadStateDict: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`);
  }
  for (const t of tensors) {
    const entry = dict[t.name] as TensorEntry;
    const shape = torchShape(t);
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]) || entry.values.length !== t.variable.size) {
      throw new RangeError(
        `loadStateDict: ${t.name} is [${shape.join(', ')}] here, but got [${entry.shape.join(', ')}] with ${entry.values.length} values`,
      );
    }
    tf.tidy(() => {
      const value = tf.tensor(Float32Array.from(entry.values), entry.shape);
      t.variable.assign(t.transposed ? tf.transpose(value) : value);
    });
  }
}

/** Every tensor, in torch layout. */
export function readStateDict(tensors: readonly NamedTensor[]): Record<string, { shape: number[]; values: Float32Array }> {
  const out: Record<string, { shape: number[]; values: Float32Array }> = {};
  for (const t of tensors) {
    const copy = tf.tidy(() => (t.transposed ? tf.transpose(t.variable) : t.variable.clone()));
    out[t.name] = { shape: torchShape(t), values: Float32Array.from(copy.dataSync()) };
    copy.dispose();
  }
  return out;
}

function torchShape(t: NamedTensor): number[] {
  return t.transposed ? [...t.variable.shape].reverse() : [...t.variable.shape];
}
