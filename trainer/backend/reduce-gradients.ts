import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/**
 * Gradients of Sum and Mean that broadcast dy by copying rows. tfjs-core's
 * own (gradients/Sum_grad.js, Mean_grad.js) compute dy * ones(x.shape), and
 * ones() fills a JavaScript array of x's full size and uploads it: for the
 * reconstruction loss and the BatchNorm statistics of a 12,966-gene batch
 * that is ~10 million floats made and multiplied per step. When the reduced
 * axes are the leading ones (a batch reduced to per-feature values, or
 * everything), the broadcast is the reduced row repeated, which is a gather
 * of row 0 (on wasm, one memmove per row: trainer/backend/wasm-gather.ts).
 * tf.broadcastTo would say it directly, but the wasm Tile kernel behind it is
 * ~20x slower than the multiply it would replace.
 *
 * Same values: the original multiplies dy by exactly 1 (and for the mean
 * then divides by the count, which is here done before the copy, on the same
 * values). Other axes, and reductions to fewer than 16 values per row, keep
 * the original formula, with the ones made by the backend (onesLike) rather
 * than in JavaScript.
 */
const originals = new Map<string, GradConfig>();

export function registerReduceGradients(): void {
  for (const [name, mean] of [[tf.Sum, false], [tf.Mean, true]] as const) {
    const current = tf.getGradient(name);
    if (current !== undefined && !replaced.has(current)) originals.set(name, current);
    const config = gradient(name, mean);
    replaced.add(config);
    tf.registerGradient(config);
  }
}

/** Puts tfjs-core's gradients back (for comparisons). */
export function unregisterReduceGradients(): void {
  for (const config of originals.values()) tf.registerGradient(config);
}

const replaced = new WeakSet<GradConfig>();

function gradient(kernelName: string, mean: boolean): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const d = dy as Tensor;
      const [x] = saved as [Tensor];
      const rank = x.shape.length;
      const axisAttr = (attrs as unknown as { axis: number | number[] | null }).axis;
      const axes = axisAttr === null || axisAttr === undefined ? [...Array(rank).keys()] : (Array.isArray(axisAttr) ? axisAttr : [axisAttr]).map((a) => (a < 0 ? a + rank : a));
      const reduced = axes.reduce((n, a) => n * (x.shape[a] as number), 1);
      const leading = new Set(axes).size === axes.length && axes.every((a) => a < axes.length);
      const expanded = x.shape.map((size, i) => (axes.includes(i) ? 1 : size));
      return {
        x: () => {
          const scaled = mean ? tf.div(d, reduced) : d;
          const rest = x.size / reduced;
          // Short rows (a full reduction: rows of one value) are not worth copying one by one.
          if (!leading || rest < 16) return tf.mul(tf.reshape(scaled, expanded), tf.onesLike(x));
          const row = tf.reshape(scaled, [1, rest]);
          return tf.reshape(tf.gather(row, tf.zeros([reduced], 'int32')), x.shape);
        },
      };
    },
  };
}
