import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean binary cross-entropy of sigmoid(logits) against 0/1 labels, as
 * torch.nn.BCEWithLogitsLoss: max(z, 0) - z * y + log(1 + exp(-|z|)), which
 * never overflows. The gradient is written out, (sigmoid(z) - y) / n, because
 * autodiff through relu and abs gives -y instead of 0.5 - y at z = 0 exactly.
 */
export function bceWithLogits(logits: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  const n = logits.shape[0];
  if (labels.shape[0] !== n) throw new RangeError(`bceWithLogits: ${n} logits but ${labels.shape[0]} labels`);
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([z, y]);
    const perRow = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return {
      value: tf.mean(perRow),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ys] = saved as [tf.Tensor, tf.Tensor];
        return [tf.mul(dy, tf.div(tf.sub(tf.sigmoid(zs), ys), n)), tf.zerosLike(ys)];
      },
    };
  });
  return loss(logits, labels) as tf.Scalar;
}
