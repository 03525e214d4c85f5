import numpy as np
import pytest
import tensorflow as tf

from tf_inpaint import strided_conv


def _values_and_gradients(function, inputs, kernel):
  with tf.GradientTape() as tape:
    tape.watch([inputs, kernel])
    outputs = function(inputs, kernel)
    # A non-uniform upstream gradient, so every path is exercised.
    loss = tf.reduce_sum(tf.sin(outputs) * outputs)
  return [outputs, *tape.gradient(loss, [inputs, kernel])]


def _assert_close(ours, reference):
  for a, b in zip(ours, reference):
    scale = float(tf.reduce_max(tf.abs(b)))
    np.testing.assert_allclose(a.numpy() / scale, b.numpy() / scale,
                               atol=1e-5)  # float32 summation order


@pytest.mark.parametrize("size, in_channels, out_channels",
                         [(4, 3, 5), (8, 16, 4), (32, 3, 8)])
def test_conv2d_equals_tensorflows_strided_conv(size, in_channels,
                                                out_channels):
  inputs = tf.random.normal((2, size, size, in_channels), seed=1)
  kernel = tf.random.normal((5, 5, in_channels, out_channels), seed=2)
  reference = lambda x, k: tf.nn.conv2d(x, k, 2, "SAME")
  ours = lambda x, k: strided_conv.conv2d(x, k, strided_conv.phase_kernel(k))
  _assert_close(_values_and_gradients(ours, inputs, kernel),
                _values_and_gradients(reference, inputs, kernel))


@pytest.mark.parametrize("size, in_channels, out_channels",
                         [(4, 8, 3), (8, 4, 16), (16, 6, 3)])
def test_conv2d_transpose_equals_tensorflows(size, in_channels, out_channels):
  inputs = tf.random.normal((2, size, size, in_channels), seed=3)
  kernel = tf.random.normal((5, 5, out_channels, in_channels), seed=4)
  reference = lambda x, k: tf.nn.conv2d_transpose(
      x, k, (2, 2 * size, 2 * size, out_channels), 2, "SAME")
  ours = lambda x, k: strided_conv.conv2d_transpose(
      x, k, strided_conv.phase_kernel(k))
  _assert_close(_values_and_gradients(ours, inputs, kernel),
                _values_and_gradients(reference, inputs, kernel))


@pytest.mark.parametrize("size, in_channels, out_channels", [(4, 8, 3),
                                                            (8, 4, 6)])
def test_per_example_kernels_equal_one_transposed_conv_per_example(
    size, in_channels, out_channels):
  """Values, and gradients through the phase form back to the 5x5 taps."""
  inputs = tf.random.normal((3, size, size, in_channels), seed=5)
  kernels = tf.random.normal((3, 5, 5, out_channels, in_channels), seed=6)

  def ours(x, k):
    phases = tf.stack([strided_conv.phase_kernel(k[i]) for i in range(3)])
    return strided_conv.conv2d_transpose_per_example(x, phases)

  def reference(x, k):
    return tf.concat([tf.nn.conv2d_transpose(
        x[i:i + 1], k[i], (1, 2 * size, 2 * size, out_channels), 2, "SAME")
                      for i in range(3)], axis=0)

  _assert_close(_values_and_gradients(ours, inputs, kernels),
                _values_and_gradients(reference, inputs, kernels))


def test_the_phase_forms_zeros_are_ignored_and_get_no_gradient():
  inputs = tf.random.normal((2, 4, 4, 3), seed=7)
  phases = tf.stack([strided_conv.phase_kernel(
      tf.random.normal((5, 5, 2, 3), seed=8 + i)) for i in range(2)])
  zeros = tf.cast(phases == 0, tf.float32)
  assert float(tf.reduce_sum(zeros)) == 2 * 11 * 3 * 2  # 36 places, 25 taps
  noisy = phases + 5.0 * zeros
  with tf.GradientTape() as tape:
    tape.watch(noisy)
    outputs = strided_conv.conv2d_transpose_per_example(inputs, noisy)
    loss = tf.reduce_sum(tf.sin(outputs))
  np.testing.assert_array_equal(
      outputs.numpy(),
      strided_conv.conv2d_transpose_per_example(inputs, phases).numpy())
  assert float(tf.reduce_max(tf.abs(tape.gradient(loss, noisy) * zeros))) == 0


def test_odd_sizes_are_refused():
  with pytest.raises(ValueError, match="even spatial sizes"):
    kernel = tf.zeros((5, 5, 1, 1))
    strided_conv.conv2d(tf.zeros((1, 5, 5, 1)), kernel,
                        strided_conv.phase_kernel(kernel))
