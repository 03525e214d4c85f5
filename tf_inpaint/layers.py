"""Building blocks shared by the DCGAN and the Context Encoder.

Every layer is named after the attribute that holds it, so a weight's Keras
path (`generator/upsample_0/kernel`) is the same in every instance of a model;
exports and copies find weights by that path, never by position.
"""
import dataclasses
import math

import keras
import tensorflow as tf
from keras import layers

from tf_inpaint import strided_conv
from tf_inpaint.config import ModelConfig

# DCGAN's initialisation and batch-norm constants.
_KERNEL_INIT_STDDEV = 0.02
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5


class BuiltFromConfig:
  """Keras's own formats for a network made from a ModelConfig alone.

  `get_config`/`from_config` let `net.save("g.keras")` and
  `keras.saving.load_model` rebuild it, and `build_from_config` makes its
  weights by one call on `example_inputs(config)`, whatever its inputs are.
  """
  config: ModelConfig

  @staticmethod
  def example_inputs(config: ModelConfig) -> tuple:
    """Positional inputs of one example, enough to create the weights."""
    raise NotImplementedError

  def get_config(self) -> dict:
    return {"name": self.name, "trainable": self.trainable,
            "model_config": dataclasses.asdict(self.config)}

  @classmethod
  def from_config(cls, config: dict):
    config = dict(config)
    return cls(ModelConfig(**config.pop("model_config")), **config)

  def get_build_config(self) -> dict:
    return {"example_inputs": True}

  def build_from_config(self, config: dict) -> None:
    del config  # the ModelConfig says everything
    self(*self.example_inputs(self.config))


def latent_input(config: ModelConfig) -> tuple:
  return (tf.zeros((1, config.z_dim)),)


def image_input(config: ModelConfig) -> tuple:
  return (tf.zeros((1, config.image_size, config.image_size, config.channels)),)


def image_and_mask_input(config: ModelConfig) -> tuple:
  images, = image_input(config)
  return images, tf.ones_like(images[..., :1])


def num_resolution_steps(config: ModelConfig) -> int:
  """How many factor-2 steps lie between 4x4 and the image size."""
  return int(math.log2(config.image_size // 4))


def kernel_init():
  return keras.initializers.RandomNormal(stddev=_KERNEL_INIT_STDDEV)


def batch_norm(name: str):
  return layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON,
                                   name=name)


def track_for_checkpoints(model: keras.Model, name: str, make_layer,
                          count: int) -> list:
  """Makes `count` layers `make_layer(i, layer_name)`, each its own attribute.

  Keras 3 on TensorFlow keeps list attributes out of tf.train.Checkpoint's
  object graph, so without this a checkpoint silently lacks their weights.
  Layer i is attribute and layer name `<name>_<i>`.
  """
  layer_list = []
  for i in range(count):
    layer = make_layer(i, f"{name}_{i}")
    setattr(model, f"{name}_{i}", layer)
    layer_list.append(layer)
  return layer_list


class SpectralNorm:
  """Mixin for a layer with a `kernel`: with `spectral_norm`, it computes with
  kernel / sigma, sigma the kernel's largest singular value, estimated by one
  power iteration per training call (Miyato et al. 2018, SN-GAN).

  The division is part of the forward pass, so gradients flow through sigma
  as in the paper; Keras's SpectralNormalization wrapper instead assigns the
  divided kernel back into the weight, which stops that gradient. The
  singular vector is a float32 non-trainable weight, updated only in
  training, so inference with a trained D is deterministic.
  """

  def __init__(self, *args, spectral_norm: bool = False, **kwargs):
    super().__init__(*args, **kwargs)
    self.spectral_norm = spectral_norm

  def build(self, input_shape):
    super().build(input_shape)
    if self.spectral_norm:
      self.singular_vector = self.add_weight(
          name="singular_vector", shape=(1, self.kernel.shape[-1]),
          initializer=keras.initializers.RandomNormal(), trainable=False,
          autocast=False)

  def effective_kernel(self, training=False):
    """The kernel the layer computes with (normalised if `spectral_norm`)."""
    kernel = tf.convert_to_tensor(self.kernel)
    if not self.spectral_norm:
      return kernel
    matrix = tf.reshape(tf.cast(kernel, tf.float32), [-1, kernel.shape[-1]])
    v = tf.math.l2_normalize(
        tf.matmul(self.singular_vector, matrix, transpose_b=True))
    u = tf.math.l2_normalize(tf.matmul(v, matrix))
    u, v = tf.stop_gradient(u), tf.stop_gradient(v)
    sigma = tf.reduce_sum(tf.matmul(v, matrix) * u)
    if training:
      self.singular_vector.assign(u)
    return kernel / tf.cast(sigma, kernel.dtype)


class FreezablePhases:
  """A 5x5 stride-2 layer computed in the phase form or by TensorFlow's own
  kernels (`conv_impl`, chosen per layer by `conv_choice`), which lets a
  layer whose weights will not change compute its phase kernel once."""
  frozen_phases = None
  conv_impl = "phase"  # or "native"; set before the layer is traced
  input_shape_seen = None  # (H, W, C) of the input it was built for

  def build(self, input_shape):
    self.input_shape_seen = tuple(input_shape[1:])
    super().build(input_shape)

  def freeze_phases(self) -> None:
    """Only for private copies that are never trained (models.frozen_copy)."""
    self.frozen_phases = tf.cast(
        strided_conv.phase_kernel(self.effective_kernel()), self.compute_dtype)

  def effective_kernel(self, training=False):
    """The kernel the layer computes with (a mixin may normalise it)."""
    del training
    return tf.convert_to_tensor(self.kernel)

  def phases(self, kernel=None):
    """The phase kernel: computed once if frozen, else from `kernel` (the
    tensor the convolution uses, read once) or the layer's own."""
    if self.frozen_phases is not None:
      return self.frozen_phases
    return strided_conv.phase_kernel(self.kernel if kernel is None else kernel)


class StridedConv2D(SpectralNorm, FreezablePhases, layers.Conv2D):
  """5x5 stride-2 SAME Conv2D whose input gradient runs on the fast kernel,
  optionally spectrally normalised (D only)."""

  def __init__(self, filters, **kwargs):
    super().__init__(filters, strided_conv.KERNEL_SIZE, strides=2,
                     padding="same", **kwargs)

  def call(self, inputs, training=False):
    if not self.spectral_norm:
      return super().call(inputs)
    outputs = self.convolution_op(inputs, self.effective_kernel(training))
    return tf.nn.bias_add(outputs, self.bias) if self.use_bias else outputs

  def convolution_op(self, inputs, kernel):
    if self.conv_impl == "native":
      return super().convolution_op(inputs, kernel)
    kernel = tf.convert_to_tensor(kernel)
    return strided_conv.conv2d(inputs, kernel, self.phases(kernel))


class SpectralDense(SpectralNorm, layers.Dense):
  """Dense, optionally spectrally normalised (D's logit)."""

  def call(self, inputs, training=False):
    if not self.spectral_norm:
      return super().call(inputs)
    return tf.nn.bias_add(
        tf.matmul(inputs, self.effective_kernel(training)), self.bias)


class StridedConv2DTranspose(FreezablePhases, layers.Conv2DTranspose):
  """5x5 stride-2 SAME Conv2DTranspose computed on the fast forward kernel."""

  def __init__(self, filters, **kwargs):
    super().__init__(filters, strided_conv.KERNEL_SIZE, strides=2,
                     padding="same", **kwargs)

  def call(self, inputs):
    if self.conv_impl == "native":
      return super().call(inputs)
    kernel = tf.convert_to_tensor(self.kernel)
    outputs = strided_conv.conv2d_transpose(inputs, kernel,
                                            self.phases(kernel))
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, self.bias)
    return outputs if self.activation is None else self.activation(outputs)


def add_upsampling(model: keras.Model, config: ModelConfig,
                   first_channels: int) -> None:
  """Gives `model` G's way up from 4x4xfirst_channels to the image.

  5x5 stride-2 transposed convolutions halve the channels (BN + ReLU), and a
  last one makes the image; as attributes `upsample`, `upsample_norms` and
  `to_image`, the names checkpoints know them by. `upsample_to_image` runs it.
  """
  steps = num_resolution_steps(config) - 1
  model.upsample = track_for_checkpoints(
      model, "upsample", lambda i, name: StridedConv2DTranspose(
          first_channels // 2**(i + 1), use_bias=False,
          kernel_initializer=kernel_init(), name=name), steps)
  model.upsample_norms = track_for_checkpoints(
      model, "upsample_norm", lambda i, name: batch_norm(name), steps)
  # float32 under a mixed policy: the image's 256 levels need more than
  # bfloat16's 8 bits of mantissa, and the layer is a small share of G's work.
  model.to_image = StridedConv2DTranspose(
      config.channels, kernel_initializer=kernel_init(), name="to_image",
      dtype="float32")


def upsample_to_image(model: keras.Model, x, training: bool):
  """Runs the layers of `add_upsampling`; a tanh image in [-1, 1]."""
  for conv, norm in zip(model.upsample, model.upsample_norms):
    x = tf.nn.relu(norm(conv(x), training=training))
  return tf.tanh(model.to_image(x))


def add_downsampling(model: keras.Model, config: ModelConfig,
                     spectral_norm: bool = False) -> None:
  """Gives `model` D's way down from the image to 4x4.

  5x5 stride-2 convolutions double the channels from `base_filters`, with
  LeakyReLU(0.2) and BN on all but the first (DCGAN); as attributes
  `downsample` and `downsample_norms`. With `spectral_norm` (a D's) the
  convolutions are spectrally normalised, biased, and have no BN (SN-GAN's
  DCGAN discriminator: BN would undo the normalisation). `downsample_image`
  runs it.
  """
  steps = num_resolution_steps(config)
  model.downsample = track_for_checkpoints(
      model, "downsample", lambda i, name: StridedConv2D(
          config.base_filters * 2**i,
          use_bias=(i == 0 or spectral_norm), spectral_norm=spectral_norm,
          kernel_initializer=kernel_init(), name=name), steps)
  model.downsample_norms = track_for_checkpoints(
      model, "downsample_norm", lambda i, name: batch_norm(name),
      0 if spectral_norm else steps - 1)


def _leaky_relu_unfused(x):
  """LeakyReLU(0.2) as max(x, 0.2 x), for the first layer's biased conv.

  Equal to tf.nn.leaky_relu, but grappler's remapper does not fuse it with
  the conv and bias: that fusion deleted the bias node its gradient still
  reads whenever a phase-form layer was in the graph ("remapper failed: ...
  LeakyReluGrad ... missing node .../BiasAdd"), and the failed pass then
  skipped every other fusion of the step.
  """
  return tf.maximum(x, 0.2 * x)


def downsample_image(model: keras.Model, images, training: bool):
  """Runs the layers of `add_downsampling`; features at 4x4."""
  x = _leaky_relu_unfused(model.downsample[0](images, training=training))
  for i, conv in enumerate(model.downsample[1:]):
    x = conv(x, training=training)
    if model.downsample_norms:
      x = model.downsample_norms[i](x, training=training)
    x = tf.nn.leaky_relu(x, alpha=0.2)
  return x
