/**
 * Gradients of the elementary kernels that tfjs autodiff walks through in the reference loop
 * (reference.ts: the benchmark's naive loop and the tests' second opinion on backward.ts).
 * tfjs-core registers no gradients of its own: the umbrella @tensorflow/tfjs does, and we no
 * longer install it (issue 9: ~220 MB of webgl, layers, converter and data never loaded). These
 * are the textbook derivatives, one per kernel; training never uses them (backward.ts is
 * hand-written). A kernel that already has a gradient (e.g. when tfjs-node-gpu brings the
 * umbrella along) keeps it, so registering twice changes nothing.
 */
import * as tf from '@tensorflow/tfjs-core';

type Saved = tf.Tensor[];
type Attrs = tf.NamedAttrMap;

/** Sums `dy` over the axes along which `x` was broadcast, back to `x`'s shape. */
function unbroadcast(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(x.shape, dy.shape);
  return axes.length > 0 ? tf.reshape(tf.sum(dy, axes), x.shape) : dy;
}

/** `dy` of a reduction over `axis`, spread back over `x`'s shape. */
function unreduce(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.mul(tf.reshape(dy, shape), tf.ones(x.shape));
}

const binary = (kernelName: string, grad: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => [tf.Tensor, tf.Tensor]): tf.GradConfig => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as Saved;
    const [da, db] = grad(dy as tf.Tensor, a, b);
    return { a: () => unbroadcast(da, a), b: () => unbroadcast(db, b) };
  },
});

const unary = (kernelName: string, grad: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): tf.GradConfig => ({
  kernelName,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => grad(dy as tf.Tensor, (saved as Saved)[0]) }),
});

const GRADIENTS: tf.GradConfig[] = [
  binary(tf.Add, (dy) => [dy, dy]),
  binary(tf.Sub, (dy) => [dy, tf.neg(dy)]),
  binary(tf.Multiply, (dy, a, b) => [tf.mul(dy, b), tf.mul(dy, a)]),
  binary(tf.RealDiv, (dy, a, b) => [tf.div(dy, b), tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))]),
  unary(tf.Neg, (dy) => tf.neg(dy)),
  unary(tf.Square, (dy, x) => tf.mul(dy, tf.mul(x, 2))),
  // d/dx x^(-1/2) = -1/2 x^(-3/2)
  unary(tf.Rsqrt, (dy, x) => tf.neg(tf.div(dy, tf.mul(tf.pow(x, 1.5), 2)))),
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved as Saved;
      return { x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(1, y))) };
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: Attrs) => ({ x: () => unreduce(dy as tf.Tensor, (saved as Saved)[0], attrs.axis as number[]) }),
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const [x] = saved as Saved;
      const axes = tf.util.parseAxisParam(attrs.axis as number[], x.shape);
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(unreduce(dy as tf.Tensor, x, axes), count) };
    },
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs: Attrs) => {
      const perm = attrs.perm as number[];
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(dy as tf.Tensor, inverse) };
    },
  },
  {
    // C = op(A) op(B), op = optional transpose; each case is dC pulled back through op.
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const [a, b] = saved as Saved;
      const d = dy as tf.Tensor;
      const [tA, tB] = [attrs.transposeA === true, attrs.transposeB === true];
      if (!tA && !tB) return { a: () => tf.matMul(d, b, false, true), b: () => tf.matMul(a, d, true, false) };
      if (!tA && tB) return { a: () => tf.matMul(d, b, false, false), b: () => tf.matMul(d, a, true, false) };
      if (tA && !tB) return { a: () => tf.matMul(b, d, false, true), b: () => tf.matMul(a, d, false, false) };
      return { a: () => tf.matMul(b, d, true, true), b: () => tf.matMul(d, a, true, true) };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as tf.Tensor, (saved as Saved)[0].shape) }),
  },
  unary(tf.Relu, (dy, x) => tf.mul(dy, tf.cast(tf.greater(x, 0), 'float32'))),
  {
    // The CNN's pooling (conv-ops.ts): every entry equal to its window's maximum gets the gradient.
    kernelName: tf.Max,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const [x, y] = saved as Saved;
      const axes = tf.util.parseAxisParam(attrs.reductionIndices as number[], x.shape);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const mask = tf.cast(tf.equal(x, tf.reshape(y, kept)), 'float32');
      return { x: () => tf.mul(mask, tf.reshape(dy as tf.Tensor, kept)) };
    },
  },
  {
    // The CNN's im2col (a gather from a flat vector): dx = dy onehot(indices), a product, not a scatter.
    kernelName: tf.GatherV2,
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const [x, indices] = saved as Saved;
      if (x.rank !== 1 || indices.rank !== 1 || attrs.axis !== 0) throw new Error('reference GatherV2 gradient: only a vector gathered by a vector');
      const onehot = tf.cast(tf.oneHot(tf.cast(indices, 'int32') as tf.Tensor1D, x.shape[0]), 'float32') as tf.Tensor2D;
      return { x: () => tf.reshape(tf.matMul(tf.reshape(dy as tf.Tensor, [1, -1]), onehot), x.shape), indices: () => tf.zerosLike(indices) };
    },
  },
];

/** Registers the gradients above for every kernel that has none yet. */
export function registerReferenceGradients(): void {
  for (const config of GRADIENTS) if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
}
