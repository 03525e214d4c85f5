"""GAN losses, computed per example from logits so they stay finite.

log(sigmoid(l)) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l), so no
loss here ever takes the log of a probability that rounds to 0 or 1.
"""
import dataclasses
from typing import Callable

import tensorflow as tf


def discriminator_loss(real_logits, fake_logits):
  """Per-example -log D(x) - log(1 - D(G(z))); shape (N,)."""
  return tf.reshape(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits),
                    [-1])


def generator_loss(fake_logits):
  """Per-example non-saturating -log D(G(z)) (DCGAN's G loss); shape (N,)."""
  return tf.reshape(tf.nn.softplus(-fake_logits), [-1])


def hinge_discriminator_loss(real_logits, fake_logits):
  """Per-example max(0, 1 - D(x)) + max(0, 1 + D(G(z))) on logits (Lim & Ye;
  SNGAN, BigGAN): D stops pushing images it already judges by a margin."""
  return tf.reshape(
      tf.nn.relu(1.0 - real_logits) + tf.nn.relu(1.0 + fake_logits), [-1])


def hinge_generator_loss(fake_logits):
  """Per-example -D(G(z)), the hinge GAN's G loss; shape (N,)."""
  return -tf.reshape(fake_logits, [-1])


@dataclasses.dataclass(frozen=True)
class GanLoss:
  """The adversarial losses of one GAN formulation, per example, on logits.

  Attributes:
    discriminator: (real_logits, fake_logits) -> D's loss.
    generator: fake_logits -> G's adversarial loss.
  """
  discriminator: Callable
  generator: Callable


GAN_LOSSES = {
    "non_saturating": GanLoss(discriminator_loss, generator_loss),
    "hinge": GanLoss(hinge_discriminator_loss, hinge_generator_loss),
}


def r1_penalty(discriminator, real):
  """Per-example ||grad_x D(x)||^2 on real images (Mescheder et al. 2018):
  D's slope at the data, whose penalty keeps D from growing sharp there.
  The input gradient is taken on an inner tape, so an outer tape can
  differentiate the penalty with respect to D's weights."""
  real = tf.cast(real, tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(real)
    total = tf.reduce_sum(tf.cast(discriminator(real, training=True),
                                  tf.float32))
  slopes = tape.gradient(total, real)
  return tf.reduce_sum(tf.square(slopes), axis=[1, 2, 3])


def importance_weights(masks, window_size: int = 7):
  """The CVPR version's weights: for each known pixel, the fraction of missing
  pixels in the window around it; 0 on missing pixels.

  Known pixels far from any hole get weight 0: only the context near the hole
  decides the fill. The window is clipped at the image border.

  Args:
    masks: (N, H, W, 1), 1 = known.
    window_size: odd side of the square window.
  """
  missing_fraction = tf.nn.avg_pool2d(1.0 - masks, window_size, strides=1,
                                      padding="SAME")
  return masks * missing_fraction


def context_weights(masks, weighting: str, window_size: int = 7):
  """W of the contextual loss: the mask itself (`binary`) or `importance`."""
  if weighting == "binary":
    return masks
  if weighting == "importance":
    return importance_weights(masks, window_size)
  raise ValueError(f"weighting={weighting!r}: expected binary or importance")


def contextual_loss(generated, corrupted, weights):
  """Per-image sum |W * (G(z) - y)| over pixels and channels; shape (N,)."""
  return tf.reduce_sum(tf.abs(weights * (generated - corrupted)),
                       axis=[1, 2, 3])


def perceptual_loss(fake_logits):
  """Per-image log(1 - D(G(z))) = -softplus(logit); finite for every logit."""
  return -tf.reshape(tf.nn.softplus(fake_logits), [-1])
