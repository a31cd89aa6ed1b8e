import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `forward` over a row-major rows x cols matrix in chunks of `chunkRows`
 * and returns sigmoid of its [rows] or [rows, 1] logits. Chunking bounds the
 * memory of a forward pass over many cells; with evaluation-mode layers each
 * row's output does not depend on the others, so chunking changes nothing.
 */
export function predictProbabilities(
  x: Float32Array,
  rows: number,
  cols: number,
  forward: (batch: tf.Tensor2D) => tf.Tensor,
  chunkRows = 2048,
): Float32Array {
  if (x.length !== rows * cols) throw new RangeError(`predictProbabilities: expected ${rows} x ${cols} values, but got ${x.length}`);
  const out = new Float32Array(rows);
  for (let start = 0; start < rows; start += chunkRows) {
    const end = Math.min(start + chunkRows, rows);
    const probs = tf.tidy(() => {
      const batch = tf.tensor2d(x.subarray(start * cols, end * cols), [end - start, cols]);
      return tf.sigmoid(tf.reshape(forward(batch), [end - start]));
    });
    out.set(probs.dataSync(), start);
    probs.dispose();
  }
  return out;
}
