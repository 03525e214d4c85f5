"""DCGAN generator and discriminator (Radford et al.; Yeh et al. Sec. 4).

G: z in U[-1,1]^z_dim -> dense 4x4xC -> BN -> ReLU -> 5x5 stride-2 transposed
convolutions halving the channels (BN + ReLU) -> tanh image. D mirrors it:
5x5 stride-2 convolutions doubling the channels, LeakyReLU(0.2), BN on all but
the first, and one logit. Only `ModelConfig` decides the shapes.
"""
import math
import os

import keras
import tensorflow as tf
from keras import layers

from tf_inpaint.config import ModelConfig

# DCGAN's initialisation and batch-norm constants.
_KERNEL_INIT_STDDEV = 0.02
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5


def _num_resolution_steps(config: ModelConfig) -> int:
  """How many factor-2 steps lie between 4x4 and the image size."""
  return int(math.log2(config.image_size // 4))


def _kernel_init():
  return keras.initializers.RandomNormal(stddev=_KERNEL_INIT_STDDEV)


def _batch_norm():
  return layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON)


def _track_for_checkpoints(model: keras.Model, name: str, layer_list) -> list:
  """Gives each layer of a list its own attribute; returns the list.

  Keras 3 on TensorFlow keeps list attributes out of tf.train.Checkpoint's
  object graph, so without this a checkpoint silently lacks their weights.
  """
  for i, layer in enumerate(layer_list):
    setattr(model, f"{name}_{i}", layer)
  return layer_list


class Generator(keras.Model):
  """Maps latent vectors (N, z_dim) to images (N, S, S, channels) in [-1, 1]."""

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    steps = _num_resolution_steps(config)
    first_channels = config.base_filters * 2 ** (steps - 1)
    self.project = layers.Dense(4 * 4 * first_channels, use_bias=False,
                                kernel_initializer=_kernel_init())
    self.reshape = layers.Reshape((4, 4, first_channels))
    self.project_norm = _batch_norm()
    self.upsample = _track_for_checkpoints(self, "upsample", [
        layers.Conv2DTranspose(first_channels // 2**i, 5, strides=2,
                               padding="same", use_bias=False,
                               kernel_initializer=_kernel_init())
        for i in range(1, steps)])
    self.upsample_norms = _track_for_checkpoints(
        self, "upsample_norm", [_batch_norm() for _ in self.upsample])
    self.to_image = layers.Conv2DTranspose(
        config.channels, 5, strides=2, padding="same",
        kernel_initializer=_kernel_init())

  def call(self, z, training=False):
    x = self.reshape(self.project(z))
    x = tf.nn.relu(self.project_norm(x, training=training))
    for conv, norm in zip(self.upsample, self.upsample_norms):
      x = tf.nn.relu(norm(conv(x), training=training))
    return tf.tanh(self.to_image(x))


class Discriminator(keras.Model):
  """Maps images (N, S, S, channels) in [-1, 1] to real-vs-fake logits (N, 1)."""

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.downsample = _track_for_checkpoints(self, "downsample", [
        layers.Conv2D(config.base_filters * 2**i, 5, strides=2, padding="same",
                      use_bias=(i == 0), kernel_initializer=_kernel_init())
        for i in range(_num_resolution_steps(config))])
    # No batch norm after the first convolution (DCGAN).
    self.downsample_norms = _track_for_checkpoints(
        self, "downsample_norm", [_batch_norm() for _ in self.downsample[1:]])
    self.flatten = layers.Flatten()
    self.to_logit = layers.Dense(1, kernel_initializer=_kernel_init())

  def call(self, images, training=False):
    x = tf.nn.leaky_relu(self.downsample[0](images), alpha=0.2)
    for conv, norm in zip(self.downsample[1:], self.downsample_norms):
      x = tf.nn.leaky_relu(norm(conv(x), training=training), alpha=0.2)
    return self.to_logit(self.flatten(x))


def build_networks(config: ModelConfig) -> tuple[Generator, Discriminator]:
  """Creates G and D with their weights, ready to restore or train."""
  generator = Generator(config, name="generator")
  discriminator = Discriminator(config, name="discriminator")
  z = tf.zeros((1, config.z_dim))
  discriminator(generator(z))
  return generator, discriminator


def load_networks(run_dir: str):
  """Rebuilds G and D from a run directory's config.json and latest checkpoint.

  Returns:
    (ModelConfig, TrainConfig or None, Generator, Discriminator).
  Raises:
    InputError: if `run_dir` is not a run, has no checkpoint, or its
      checkpoint does not fit its config.
  """
  from tf_inpaint import config as config_lib  # pylint: disable=g-import-not-at-top
  from tf_inpaint.errors import InputError  # pylint: disable=g-import-not-at-top
  model_config, train_config = config_lib.load_run_config(run_dir)
  path = tf.train.latest_checkpoint(config_lib.checkpoint_dir(run_dir))
  if path is None:
    raise InputError(f"model={run_dir}: no checkpoint in "
                     f"{config_lib.checkpoint_dir(run_dir)}")
  generator, discriminator = build_networks(model_config)
  checkpoint = tf.train.Checkpoint(generator=generator,
                                   discriminator=discriminator)
  try:
    checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    first_line = str(e).strip().splitlines()[0].split(". ")[0]
    raise InputError(f"model={run_dir}: checkpoint {os.path.basename(path)} "
                     f"does not match config.json ({first_line})") from e
  return model_config, train_config, generator, discriminator
