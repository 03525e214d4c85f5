"""The z encoder: a learned start for the z search (In-Domain GAN Inversion).

E maps a corrupted image and its mask to a z in [-1, 1]^z_dim whose G(z) fits
the known pixels, so the search of `Inpainter` starts near its answer instead
of at a random z. It is trained by the same Trainer as the GANs, against a
*frozen* DCGAN generator (`ModelConfig.generator`), on two halves per step:
(a) G's own samples, whose z is known: the z error plus the image error over
all pixels; (b) real training images: the image error over the known pixels
only, which keeps E's answers on the real data. Masks of every family are
mixed in every batch, so one encoder serves every mask.
"""
import hashlib

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from tf_inpaint import blend
from tf_inpaint import context_encoder
from tf_inpaint import layers as blocks
from tf_inpaint import masks as masks_lib
from tf_inpaint.config import ModelConfig

_BANK_SIZE_PER_MASK = 64
_PANEL_IMAGES = 16
# Every mask of the registry but `file` (the user's) and `random80`, which is
# drawn in the graph; each family is equally likely per example.
BANKED_MASKS = tuple(name for name in masks_lib.MASK_NAMES
                     if name not in ("file", "random80"))


@keras.saving.register_keras_serializable(package="tf_inpaint")
class Encoder(blocks.BuiltFromConfig, keras.Model):
  """Maps (images, masks) -> z (N, z_dim) in [-1, 1]; missing pixels unread.

  D's strided convolutions over the image with its holes zeroed and the mask
  as a fourth channel, then a dense layer and tanh.
  """
  example_inputs = staticmethod(blocks.image_and_mask_input)

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    blocks.add_downsampling(self, config)
    self.flatten = layers.Flatten(name="flatten")
    self.to_z = layers.Dense(config.z_dim,
                             kernel_initializer=blocks.kernel_init(),
                             name="to_z", dtype="float32")  # z is float32

  def call(self, images, masks, training=False):
    x = tf.concat([masks * images, masks], axis=-1)
    x = blocks.downsample_image(self, x, training)
    return tf.tanh(self.to_z(self.flatten(x)))


def generator_digest(generator: keras.Model) -> str:
  """A fingerprint of G's weights (rounded to float16, as bundles store them).

  Stored in an encoder's config, so an encoder is never used with a G it was
  not trained for, whether G was read from a run or from its export.
  """
  digest = hashlib.sha256()
  for weight in sorted(generator.weights, key=lambda w: w.path):
    digest.update(weight.path.split("/", 1)[1].encode())
    digest.update(np.asarray(weight.numpy(), np.float16).tobytes())
  return digest.hexdigest()[:16]


class MixedMaskSampler:
  """Per-example training masks, each from a family drawn uniformly.

  A seeded bank holds the masks that are costly to draw in the graph;
  random80 is drawn fresh.
  """

  def __init__(self, size: int, seed: int):
    self.size = size
    self.bank = tf.constant(np.concatenate([
        masks_lib.make_masks(name, _BANK_SIZE_PER_MASK, size, seed)
        for name in BANKED_MASKS]))

  def __call__(self, count, seed):
    seeds = tf.random.experimental.stateless_split(seed, 3)
    banked = tf.gather(self.bank, tf.random.stateless_uniform(
        [count], seeds[0], 0, self.bank.shape[0], tf.int32))
    random_pixels = context_encoder.random_pixel_masks(count, self.size,
                                                       seeds[1])
    use_random = tf.random.stateless_uniform(
        [count, 1, 1, 1], seeds[2]) < 1.0 / (len(BANKED_MASKS) + 1)
    return tf.where(use_random, random_pixels, banked)


def image_error(generated, images, masks):
  """Per-image mean |G(E) - x| over the pixels `masks` keeps; shape (N,)."""
  total = tf.reduce_sum(masks * tf.abs(generated - images), axis=[1, 2, 3])
  count = tf.reduce_sum(masks, axis=[1, 2, 3]) * images.shape[-1]
  return total / tf.maximum(count, 1.0)


class EncoderObjective:
  """What the Trainer needs to train an encoder: no discriminator.

  Implements `models.Objective`; `fake` returns G(E(.)) of the real half and
  the per-example errors, `generator_loss` their sum.
  """

  extra_metrics = ("z_error", "sample_error", "real_error")

  def __init__(self, config: ModelConfig, seed: int, generator: keras.Model):
    self.generator = generator
    self.z_dim = config.z_dim
    self.sample_masks = MixedMaskSampler(config.image_size, seed)
    self._panel_seed = tf.constant([seed, 4], tf.int64)
    self._panel_images = None

  def prepare(self, encoder, batches, fresh: bool) -> None:
    """Keeps the first real images for the progress panel."""
    del encoder, fresh
    self._panel_images = next(iter(batches.take(1)))[:_PANEL_IMAGES]

  def fake(self, encoder, real, seed):
    count = tf.shape(real)[0]
    seeds = tf.random.experimental.stateless_split(seed, 3)
    z = tf.random.stateless_uniform([count, self.z_dim], seeds[0], -1.0, 1.0)
    samples = self.generator(z, training=False)
    sample_masks = self.sample_masks(count, seeds[1])
    z_sample = encoder(samples, sample_masks, training=True)
    real_masks = self.sample_masks(count, seeds[2])
    reconstruction = self.generator(encoder(real, real_masks, training=True),
                                    training=False)
    return reconstruction, {
        "z_error": tf.reduce_mean(tf.square(z_sample - z), axis=1),
        "sample_error": image_error(
            self.generator(z_sample, training=False), samples,
            tf.ones_like(sample_masks)),
        "real_error": image_error(reconstruction, real, real_masks)}

  def generator_loss(self, adversarial_loss, extras):
    del adversarial_loss  # None: no discriminator
    return extras["z_error"] + extras["sample_error"] + extras["real_error"]

  def samples(self, encoder):
    """Each corrupted panel image (holes black) beside G(E(image))."""
    images = self._panel_images
    masks = self.sample_masks(tf.shape(images)[0], self._panel_seed)
    corrupted = blend.overlay(images, -tf.ones_like(images), masks)
    starts = self.generator(encoder(images, masks), training=False)
    pairs = tf.stack([corrupted, starts], axis=1)
    return tf.reshape(pairs, [-1, *images.shape[1:]])
