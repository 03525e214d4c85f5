"""DCGAN generator and discriminator (Radford et al.; Yeh et al. Sec. 4).

Also the layers and helpers `context_encoder.py` builds on, and loading,
exporting and bundling of either kind of model.

G: z in U[-1,1]^z_dim -> dense 4x4xC -> BN -> ReLU -> 5x5 stride-2 transposed
convolutions halving the channels (BN + ReLU) -> tanh image. D mirrors it:
5x5 stride-2 convolutions doubling the channels, LeakyReLU(0.2), BN on all but
the first, and one logit. Only `ModelConfig` decides the shapes.
"""
import math
import os

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from tf_inpaint import checkpoints
from tf_inpaint import config as config_lib
from tf_inpaint import strided_conv
from tf_inpaint.config import ModelConfig
from tf_inpaint.errors import InputError

# DCGAN's initialisation and batch-norm constants.
_KERNEL_INIT_STDDEV = 0.02
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5


def num_resolution_steps(config: ModelConfig) -> int:
  """How many factor-2 steps lie between 4x4 and the image size."""
  return int(math.log2(config.image_size // 4))


def kernel_init():
  return keras.initializers.RandomNormal(stddev=_KERNEL_INIT_STDDEV)


def batch_norm():
  return layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON)


def track_for_checkpoints(model: keras.Model, name: str, layer_list) -> list:
  """Gives each layer of a list its own attribute; returns the list.

  Keras 3 on TensorFlow keeps list attributes out of tf.train.Checkpoint's
  object graph, so without this a checkpoint silently lacks their weights.
  """
  for i, layer in enumerate(layer_list):
    setattr(model, f"{name}_{i}", layer)
  return layer_list


class _FreezablePhases:
  """Lets a layer whose weights will not change compute its phase kernel once."""
  frozen_phases = None

  def freeze_phases(self) -> None:
    """Only for private copies that are never trained (see frozen_copy)."""
    self.frozen_phases = tf.constant(strided_conv.phase_kernel(self.kernel))


class StridedConv2D(_FreezablePhases, layers.Conv2D):
  """5x5 stride-2 SAME Conv2D whose input gradient runs on the fast kernel."""

  def __init__(self, filters, **kwargs):
    super().__init__(filters, strided_conv.KERNEL_SIZE, strides=2,
                     padding="same", **kwargs)

  def convolution_op(self, inputs, kernel):
    return strided_conv.conv2d(inputs, kernel, self.frozen_phases)


class StridedConv2DTranspose(_FreezablePhases, layers.Conv2DTranspose):
  """5x5 stride-2 SAME Conv2DTranspose computed on the fast forward kernel."""

  def __init__(self, filters, **kwargs):
    super().__init__(filters, strided_conv.KERNEL_SIZE, strides=2,
                     padding="same", **kwargs)

  def call(self, inputs):
    outputs = strided_conv.conv2d_transpose(inputs, self.kernel,
                                            self.frozen_phases)
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
  model.upsample = track_for_checkpoints(model, "upsample", [
      StridedConv2DTranspose(first_channels // 2**i, use_bias=False,
                             kernel_initializer=kernel_init())
      for i in range(1, num_resolution_steps(config))])
  model.upsample_norms = track_for_checkpoints(
      model, "upsample_norm", [batch_norm() for _ in model.upsample])
  model.to_image = StridedConv2DTranspose(config.channels,
                                          kernel_initializer=kernel_init())


def upsample_to_image(model: keras.Model, x, training: bool):
  """Runs the layers of `add_upsampling`; a tanh image in [-1, 1]."""
  for conv, norm in zip(model.upsample, model.upsample_norms):
    x = tf.nn.relu(norm(conv(x), training=training))
  return tf.tanh(model.to_image(x))


def add_downsampling(model: keras.Model, config: ModelConfig) -> None:
  """Gives `model` D's way down from the image to 4x4.

  5x5 stride-2 convolutions double the channels from `base_filters`, with
  LeakyReLU(0.2) and BN on all but the first (DCGAN); as attributes
  `downsample` and `downsample_norms`. `downsample_image` runs it.
  """
  model.downsample = track_for_checkpoints(model, "downsample", [
      StridedConv2D(config.base_filters * 2**i, use_bias=(i == 0),
                    kernel_initializer=kernel_init())
      for i in range(num_resolution_steps(config))])
  model.downsample_norms = track_for_checkpoints(
      model, "downsample_norm", [batch_norm() for _ in model.downsample[1:]])


def downsample_image(model: keras.Model, images, training: bool):
  """Runs the layers of `add_downsampling`; features at 4x4."""
  x = tf.nn.leaky_relu(model.downsample[0](images), alpha=0.2)
  for conv, norm in zip(model.downsample[1:], model.downsample_norms):
    x = tf.nn.leaky_relu(norm(conv(x), training=training), alpha=0.2)
  return x


class Generator(keras.Model):
  """Maps latent vectors (N, z_dim) to images (N, S, S, channels) in [-1, 1]."""

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    steps = num_resolution_steps(config)
    first_channels = config.base_filters * 2 ** (steps - 1)
    self.project = layers.Dense(4 * 4 * first_channels, use_bias=False,
                                kernel_initializer=kernel_init())
    self.reshape = layers.Reshape((4, 4, first_channels))
    self.project_norm = batch_norm()
    add_upsampling(self, config, first_channels)

  def call(self, z, training=False):
    x = self.reshape(self.project(z))
    x = tf.nn.relu(self.project_norm(x, training=training))
    return upsample_to_image(self, x, training)


class Discriminator(keras.Model):
  """Maps images (N, S, S, channels) in [-1, 1] to real-vs-fake logits (N, 1)."""

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    add_downsampling(self, config)
    self.flatten = layers.Flatten()
    self.to_logit = layers.Dense(1, kernel_initializer=kernel_init())

  def call(self, images, training=False):
    return self.to_logit(self.flatten(downsample_image(self, images,
                                                       training)))


def _generator_inputs(config: ModelConfig):
  if config.architecture == "context_encoder":
    images = tf.zeros((1, config.image_size, config.image_size,
                       config.channels))
    return images, tf.ones_like(images[..., :1])
  return (tf.zeros((1, config.z_dim)),)


def build_generator(config: ModelConfig, name: str = "generator"):
  """Creates G with its weights: a `Generator`, or a `ContextEncoder`."""
  if config.architecture == "context_encoder":
    # Imported here: context_encoder builds its layers from this module.
    from tf_inpaint import context_encoder  # pylint: disable=g-import-not-at-top
    generator = context_encoder.ContextEncoder(config, name=name)
  else:
    generator = Generator(config, name=name)
  generator(*_generator_inputs(config))
  return generator


def build_networks(config: ModelConfig):
  """Creates G and D with their weights, ready to restore or train.

  G is a `Generator` for a DCGAN and a `ContextEncoder` for a context encoder;
  D is the same `Discriminator` for both.
  """
  discriminator = Discriminator(config, name="discriminator")
  generator = build_generator(config)
  discriminator(generator(*_generator_inputs(config)))
  return generator, discriminator


def copy_weights(source: keras.Model, target: keras.Model) -> None:
  """Assigns every weight of `source` to the same weight of `target`."""
  for weight, copied in zip(source.weights, target.weights):
    copied.assign(weight)


def frozen_copy(generator: Generator, discriminator: Discriminator):
  """Copies of G and D for inference only, with phase kernels computed once.

  Inpainting calls G and D thousands of times with fixed weights; rebuilding
  the phase kernels each time dominates small batches. Copies, so the
  originals stay trainable and no cache can go stale.
  """
  copy_g, copy_d = build_networks(generator.config)
  for source, target in ((generator, copy_g), (discriminator, copy_d)):
    copy_weights(source, target)
    for layer in target._flatten_layers():  # pylint: disable=protected-access
      if isinstance(layer, _FreezablePhases):
        layer.freeze_phases()
  return copy_g, copy_d


BUNDLED_MODELS = ("celeba64", "svhn32", "celeba64_ce_center",
                  "celeba64_ce_random")
WEIGHTS_FILENAME = "weights.npz"


def resolve_model(model: str) -> str:
  """A bundled model name (`celeba64`, `svhn32`) or a path -> a directory."""
  if model in BUNDLED_MODELS:
    from importlib import resources  # pylint: disable=g-import-not-at-top
    return str(resources.files("tf_inpaint") / "pretrained" / model)
  return model


def bundled_samples(model: str) -> str | None:
  """The sample images shipped with a bundled model (validation images).

  Context encoders (`<dataset>_ce_<family>`) share their dataset's samples.
  """
  if model not in BUNDLED_MODELS:
    return None
  from importlib import resources  # pylint: disable=g-import-not-at-top
  return str(resources.files("tf_inpaint") / "samples" /
             model.split("_ce_")[0])


def _needs_discriminator(model_config: ModelConfig) -> bool:
  """Inpainting with a DCGAN uses D (perceptual loss); a context encoder not."""
  return model_config.architecture == "dcgan"


def export_weights(generator, discriminator, path: str) -> None:
  """Saves G's and D's weights (D may be None), in order, as float16."""
  weights = {f"{prefix}_{i}": w.numpy().astype(np.float16)
             for prefix, net in (("g", generator), ("d", discriminator))
             if net is not None for i, w in enumerate(net.weights)}
  np.savez_compressed(path, **weights)


def _load_weights(generator, discriminator, path: str) -> None:
  """Restores `export_weights` output as float32; ValueError on a mismatch."""
  with np.load(path) as saved:
    for prefix, net in (("g", generator), ("d", discriminator)):
      if net is None:
        continue
      names = sorted((k for k in saved.files if k.startswith(prefix + "_")),
                     key=lambda k: int(k.split("_")[1]))
      if len(names) != len(net.weights):
        raise ValueError(f"{len(names)} saved {prefix.upper()} weights for "
                         f"{len(net.weights)} in the network")
      for name, weight in zip(names, net.weights):
        if saved[name].shape != tuple(weight.shape):
          raise ValueError(f"{name} has shape {saved[name].shape}, the "
                           f"network expects {tuple(weight.shape)}")
        weight.assign(saved[name].astype(np.float32))


def load_networks(model: str, architecture: str | None = None,
                  flag: str = "model", ema: bool = True):
  """Rebuilds G and D from a run directory or a bundled model.

  A run directory holds config.json and checkpoints/; a bundled model holds
  config.json and weights.npz (see `export_weights`).

  Args:
    model: a bundled model's name or a run directory.
    architecture: if given, the architecture the caller can use.
    flag: the flag `model` came from, for error messages.
    ema: from a run trained with an EMA generator, load the average as G
      (what inpainting and export use); False loads the last step's G.
  Returns:
    (ModelConfig, TrainConfig or None, G, D); D is None for a context
    encoder, which inpaints without it.
  Raises:
    InputError: if `model` is neither, is not of `architecture`, or its
      weights do not fit its config.
  """
  run_dir = resolve_model(model)
  model_config, train_config = config_lib.load_run_config(run_dir)
  if architecture and model_config.architecture != architecture:
    raise InputError(f"{flag}={model}: a {model_config.architecture} model, "
                     f"expected a {architecture}")
  generator, discriminator = build_networks(model_config)
  if not _needs_discriminator(model_config):
    discriminator = None
  weights_path = os.path.join(run_dir, WEIGHTS_FILENAME)
  if os.path.isfile(weights_path):
    try:
      _load_weights(generator, discriminator, weights_path)
    except ValueError as e:
      raise InputError(f"{flag}={model}: {WEIGHTS_FILENAME} does not match "
                       f"config.json ({e})") from e
  else:
    use_ema = ema and train_config is not None and train_config.ema_decay
    networks = {"ema_generator" if use_ema else "generator": generator,
                "discriminator": discriminator}
    checkpoint = tf.train.Checkpoint(
        **{name: net for name, net in networks.items() if net is not None})
    directory = config_lib.checkpoint_dir(run_dir)
    try:
      restored = checkpoints.restore_newest(checkpoint, directory,
                                            strict=False)
    except InputError as e:
      raise InputError(f"{flag}={model}: {e}") from e
    if restored is None:
      raise InputError(f"{flag}={model}: no checkpoint in {directory}")
  return model_config, train_config, generator, discriminator


def export_model(run_dir: str, out_dir: str) -> None:
  """Writes a run's latest weights as a bundled model: config.json + weights.npz.

  Only the networks inference needs are written (a context encoder's D is not).
  """
  model_config, train_config, generator, discriminator = load_networks(run_dir)
  os.makedirs(out_dir, exist_ok=True)
  export_weights(generator, discriminator,
                 os.path.join(out_dir, WEIGHTS_FILENAME))
  config_lib.save_run_config(out_dir, model_config, train_config)
