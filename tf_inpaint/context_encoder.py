"""Context Encoder (Pathak et al., CVPR 2016): the baseline both papers compare.

An encoder-decoder maps an image whose holes hold the dataset mean to a whole
image; the prediction is pasted into the holes. It is trained on one family of
masks (`center`, or `random`: random80 or pattern per batch) with Pathak's
joint loss: 0.999 x masked L2, the known band around a hole weighted 10x, plus
0.001 x an adversarial loss against its own discriminator. It trains in the
same Trainer as the DCGAN; `ContextEncoderObjective` is what differs.
"""
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from tf_inpaint import blend
from tf_inpaint import layers as blocks
from tf_inpaint import masks as masks_lib
from tf_inpaint.config import ModelConfig
from tf_inpaint.errors import InputError

# A context encoder is trained on one family of masks; these are the
# evaluation masks each family covers (`random` samples one per batch).
MASK_FAMILIES = {"center": ("center",), "random": ("random80", "pattern")}
RECONSTRUCTION_WEIGHT = 0.999
ADVERSARIAL_WEIGHT = 0.001
OVERLAP_WEIGHT = 10.0
_PATTERN_BANK_SIZE = 512
_MEAN_BATCHES = 16
_SAMPLE_IMAGES = 16


class ChannelwiseDense(layers.Layer):
  """A dense layer per channel over that channel's H x W positions.

  Pathak's bottleneck: it connects every position to every other, like a full
  dense layer, with C (HW)^2 weights instead of (C HW)^2; channels do not mix.
  """

  def build(self, input_shape):
    _, height, width, channels = input_shape
    positions = height * width
    self.kernel = self.add_weight(
        shape=(channels, positions, positions), name="kernel",
        initializer=blocks.kernel_init())
    self.bias = self.add_weight(shape=(positions, channels), name="bias",
                                initializer="zeros")

  def call(self, inputs):
    _, height, width, channels = inputs.shape
    flat = tf.reshape(inputs, [-1, height * width, channels])
    mixed = tf.einsum("npc,cpq->nqc", flat, self.kernel) + self.bias
    return tf.reshape(mixed, [-1, height, width, channels])


@keras.saving.register_keras_serializable(package="tf_inpaint")
class ContextEncoder(blocks.BuiltFromConfig, keras.Model):
  """Maps (images, masks) to whole predicted images (N, S, S, C) in [-1, 1].

  The missing pixels of `images` are ignored: they are replaced by `fill`, the
  training set's mean colour, which is stored with the weights.
  """
  example_inputs = staticmethod(blocks.image_and_mask_input)

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    steps = blocks.num_resolution_steps(config)
    bottleneck_channels = config.base_filters * 2**(steps - 1)
    self.fill = self.add_weight(shape=(config.channels,), name="fill",
                                initializer="zeros", trainable=False)
    blocks.add_downsampling(self, config)
    self.channelwise = ChannelwiseDense(name="channelwise")
    # Pathak: a stride-1 convolution after the channel-wise layer lets the
    # channels exchange information.
    self.mix_channels = layers.Conv2D(bottleneck_channels, 1,
                                      kernel_initializer=blocks.kernel_init(),
                                      name="mix_channels")
    blocks.add_upsampling(self, config, bottleneck_channels)

  def call(self, images, masks, training=False):
    x = masks * images + (1.0 - masks) * self.fill
    x = blocks.downsample_image(self, x, training)
    x = tf.nn.relu(self.mix_channels(self.channelwise(x)))
    return blocks.upsample_to_image(self, x, training)


def overlap_band(masks, overlap: int):
  """Known pixels within `overlap` pixels of a missing one (Pathak's overlap)."""
  near_hole = tf.nn.max_pool2d(1.0 - masks, 2 * overlap + 1, strides=1,
                               padding="SAME")
  return masks * near_hole


def default_overlap(image_size: int) -> int:
  """Pathak's 4-pixel overlap at 128x128, scaled to the image (at least 1)."""
  return max(1, image_size // 32)


def reconstruction_loss(predictions, images, masks, overlap: int):
  """Per-image squared error over the holes, the overlap band weighted 10x.

  Normalised by the number of missing values, so it is the hole's mean
  squared error plus the band's weighted share; shape (N,).
  """
  weights = (1.0 - masks) + OVERLAP_WEIGHT * overlap_band(masks, overlap)
  squared = tf.reduce_sum(weights * tf.square(predictions - images),
                          axis=[1, 2, 3])
  missing = tf.reduce_sum(1.0 - masks, axis=[1, 2, 3]) * images.shape[-1]
  return squared / tf.maximum(missing, 1.0)


def random_pixel_masks(count, size, seed):
  """random80 in the graph: exactly round(0.8 S^2) missing pixels per image."""
  missing = round(masks_lib.DEFAULT_MISSING_FRACTION * size * size)
  noise = tf.random.stateless_uniform([count, size * size], seed)
  threshold = tf.math.top_k(noise, missing).values[:, -1:]
  known = tf.cast(noise < threshold, tf.float32)
  return tf.reshape(known, [count, size, size, 1])


class MaskSampler:
  """Training masks of one family, drawn from a stateless seed per step."""

  def __init__(self, family: str, size: int, seed: int):
    self.family = family
    self.size = size
    self.center = tf.constant(masks_lib.make_masks("center", 1, size))
    if family == "random":
      # Smooth blobs are costly to draw in the graph; a seeded bank of them is
      # sampled instead.
      self.patterns = tf.constant(masks_lib.make_masks(
          "pattern", _PATTERN_BANK_SIZE, size, seed))

  def __call__(self, count, seed):
    if self.family == "center":
      return tf.tile(self.center, [count, 1, 1, 1])
    seeds = tf.random.experimental.stateless_split(seed, 3)
    indices = tf.random.stateless_uniform([count], seeds[0], 0,
                                          _PATTERN_BANK_SIZE, tf.int32)
    use_pattern = tf.random.stateless_uniform([], seeds[1]) < 0.5
    return tf.cond(use_pattern,
                   lambda: tf.gather(self.patterns, indices),
                   lambda: random_pixel_masks(count, self.size, seeds[2]))


class ContextEncoderObjective:
  """What the Trainer needs to train a context encoder with its discriminator.

  The discriminator sees real images and completions (known pixels kept,
  prediction in the holes), so only the filled part can give a fake away.
  """

  extra_metrics = ("reconstruction",)

  def __init__(self, config: ModelConfig, seed: int):
    self.overlap = default_overlap(config.image_size)
    self.sample_masks = MaskSampler(config.mask_family, config.image_size, seed)
    self._sample_seed = tf.constant([seed, 3], tf.int64)
    self._sample_images = None

  def prepare(self, generator, batches, fresh: bool) -> None:
    """Keeps images for the progress panel; on a fresh run sets the fill.

    Args:
      generator: the ContextEncoder being trained.
      batches: the run's batches from step 0 (the same on every resume).
      fresh: True if no checkpoint was restored.
    """
    # A resumed run restores the fill, so it needs only the panel's images.
    first_batches = list(batches.take(_MEAN_BATCHES if fresh else 1))
    self._sample_images = first_batches[0][:_SAMPLE_IMAGES]
    if fresh:
      images = tf.concat(first_batches, axis=0)
      generator.fill.assign(tf.reduce_mean(images, axis=[0, 1, 2]))

  def fake(self, generator, real, seed):
    """Completions of `real` under fresh masks, and the per-image L2 terms."""
    masks = self.sample_masks(tf.shape(real)[0], seed)
    predictions = generator(real, masks, training=True)
    completed = blend.overlay(real, predictions, masks)
    return completed, {"reconstruction": reconstruction_loss(
        predictions, real, masks, self.overlap)}

  def generator_loss(self, adversarial_loss, extras):
    return (RECONSTRUCTION_WEIGHT * extras["reconstruction"] +
            ADVERSARIAL_WEIGHT * adversarial_loss)

  def samples(self, generator):
    """Each corrupted input (holes at the fill) beside its completion."""
    images = self._sample_images
    masks = self.sample_masks(tf.shape(images)[0], self._sample_seed)
    filled = blend.overlay(images, tf.ones_like(images) * generator.fill,
                           masks)
    completed = blend.overlay(images, generator(images, masks), masks)
    pairs = tf.stack([filled, completed], axis=1)
    return tf.reshape(pairs, [-1, *images.shape[1:]])


def for_mask(models, mask: str, image_size: int):
  """The context encoder among `models` whose mask family covers `mask`.

  Raises:
    InputError: if none does, or its image size is not the images'.
  """
  for model in models:
    if mask in MASK_FAMILIES[model.config.mask_family]:
      if model.config.image_size != image_size:
        raise InputError(
            f"context_encoder: trained on {model.config.image_size}x"
            f"{model.config.image_size} images, the images are {image_size}x"
            f"{image_size}")
      return model
  trained = ", ".join(f"{m.config.mask_family!r} "
                      f"({', '.join(MASK_FAMILIES[m.config.mask_family])})"
                      for m in models) or "none given"
  raise InputError(
      f"mask={mask}: no context encoder was trained on a mask family that "
      f"covers it (trained on: {trained}); drop the mask or train one with "
      "bin/train --architecture=context_encoder --mask_family=FAMILY")


def complete(model: ContextEncoder, corrupted: np.ndarray, masks: np.ndarray,
             batch_size: int = 64) -> np.ndarray:
  """Fills the holes of `corrupted` with the model's prediction (eq. 5 form)."""
  predictions = np.concatenate([
      model(corrupted[i:i + batch_size], masks[i:i + batch_size]).numpy()
      for i in range(0, len(corrupted), batch_size)])
  return blend.overlay(corrupted, predictions, masks)
