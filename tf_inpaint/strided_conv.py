"""5x5 stride-2 SAME convolutions with faster, exact gradients on CPU.

On CPU, TensorFlow's forward convolution runs about twice as fast as its
input-gradient kernel (Conv2DBackpropInput), which is also what a transposed
convolution's forward pass uses (measured here: 171 vs 85 GFLOP/s). A 5x5
stride-2 transposed convolution equals a 3x3 stride-1 convolution producing
the 4 output phases, followed by depth_to_space; that form runs on the fast
forward kernel. So:

  strided conv:     forward as usual; input gradient in the phase form.
  transposed conv:  forward in the phase form; input gradient as a forward
                    strided conv.

Filter gradients keep TensorFlow's kernel. Results equal TensorFlow's ops up
to float rounding; `tests/test_strided_conv.py` checks values and gradients.
Spatial sizes must be even (the phase form assumes SAME padding of 1 before).
"""
import numpy as np
import tensorflow as tf

KERNEL_SIZE = 5
_STRIDES = [1, 2, 2, 1]


def _phase_taps() -> np.ndarray:
  """For 3x3 offset o (row) and output phase a (column): the 5x5 tap, or 5.

  Output pixel 2m + a of a stride-2 transposed convolution with SAME padding
  receives input m - o through tap a + 1 - 2o; tap 5 is an appended zero row.
  """
  taps = np.full((3, 2), KERNEL_SIZE)
  for offset in (-1, 0, 1):
    for phase in (0, 1):
      tap = phase + 1 - 2 * offset
      if 0 <= tap < KERNEL_SIZE:
        taps[offset + 1, phase] = tap
  return taps


_TAPS = _phase_taps()


def phase_kernel(kernel):
  """Transposed-conv kernel (5, 5, out, in) -> conv kernel (3, 3, in, 4 * out).

  Output channels are ordered (row phase, column phase, channel), as
  depth_to_space expects. Each of the 25 taps lands in exactly one of the 36
  places; the other 11 are zeros.
  """
  out_channels, in_channels = kernel.shape[2], kernel.shape[3]
  padded = tf.pad(kernel, [[0, 1], [0, 1], [0, 0], [0, 0]])
  taps = tf.gather(tf.gather(padded, _TAPS, axis=0), _TAPS, axis=2)
  # taps: (row offset, row phase, column offset, column phase, out, in)
  taps = tf.transpose(taps, [0, 2, 5, 1, 3, 4])
  return tf.reshape(taps, [3, 3, in_channels, 4 * out_channels])


def _upsample_with(inputs, phases):
  """conv2d_transpose(inputs, kernel, stride 2, SAME), given phase_kernel(kernel)."""
  return tf.nn.depth_to_space(tf.nn.conv2d(inputs, phases, 1, "SAME"), 2)


def _check_even(inputs):
  height, width = inputs.shape[1], inputs.shape[2]
  if (height is not None and height % 2) or (width is not None and width % 2):
    raise ValueError(f"strided_conv needs even spatial sizes, got "
                     f"{height}x{width}")


def conv2d(inputs, kernel, phases):
  """tf.nn.conv2d(inputs, kernel, 2, "SAME") for a (5, 5, in, out) kernel.

  `phases` is `phase_kernel(kernel)`, passed in so that frozen weights
  compute it once (layers.FreezablePhases); its gradient flows to `kernel`.
  """
  _check_even(inputs)
  # As tensors: a variable read inside tf.custom_gradient needs its own path.
  return _conv2d(inputs, tf.convert_to_tensor(kernel), phases)


def conv2d_transpose(inputs, kernel, phases):
  """Stride-2 SAME transposed convolution for a (5, 5, out, in) kernel.

  `phases`: `phase_kernel(kernel)`, as for `conv2d`.
  """
  _check_even(inputs)
  return _conv2d_transpose(inputs, tf.convert_to_tensor(kernel), phases)


def conv2d_transpose_per_example(inputs, phases):
  """`conv2d_transpose` with its own kernel for every example, in phase form.

  `phases` (N, 3, 3, in, 4 * out) holds each example's `phase_kernel`: a
  kernel trained per example (per-image tuning) is kept in this form, a
  permutation of its 5x5 taps plus zeros, so no step gathers it anew. The
  zeros are masked out, so their gradient is zero and they stay zero.
  TensorFlow has no convolution with a filter per example, so each is the
  phase convolution written as a batched matmul over 3x3 patches:
  (N, H, W, in) -> (N, 2H, 2W, out).
  """
  _check_even(inputs)
  in_channels, out_channels = phases.shape[3], phases.shape[4] // 4
  taps = phase_kernel(tf.ones((KERNEL_SIZE, KERNEL_SIZE, out_channels,
                               in_channels)))  # 1 at a tap, 0 at a zero
  phases = tf.reshape(phases * taps,
                      [tf.shape(phases)[0], 9 * in_channels, -1])
  patches = tf.image.extract_patches(inputs, [1, 3, 3, 1], [1, 1, 1, 1],
                                     [1, 1, 1, 1], "SAME")
  return tf.nn.depth_to_space(tf.einsum("nhwk,nko->nhwo", patches, phases), 2)


@tf.custom_gradient
def _conv2d(inputs, kernel, phases):
  outputs = tf.nn.conv2d(inputs, kernel, _STRIDES, "SAME")

  def gradient(upstream):
    # The phase kernel is a function of `kernel`: its gradient flows there.
    return (_upsample_with(upstream, phases),
            tf.raw_ops.Conv2DBackpropFilter(
                input=inputs, filter_sizes=tf.shape(kernel),
                out_backprop=upstream, strides=_STRIDES, padding="SAME"),
            None)

  return outputs, gradient


@tf.custom_gradient
def _conv2d_transpose(inputs, kernel, phases):
  outputs = _upsample_with(inputs, phases)

  def gradient(upstream):
    return (tf.nn.conv2d(upstream, kernel, _STRIDES, "SAME"),
            tf.raw_ops.Conv2DBackpropFilter(
                input=upstream, filter_sizes=tf.shape(kernel),
                out_backprop=inputs, strides=_STRIDES, padding="SAME"),
            None)

  return outputs, gradient
