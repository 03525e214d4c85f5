"""GAN losses, computed per example from logits so they stay finite.

log(sigmoid(l)) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l), so no
loss here ever takes the log of a probability that rounds to 0 or 1.
"""
import tensorflow as tf


def discriminator_loss(real_logits, fake_logits):
  """Per-example -log D(x) - log(1 - D(G(z))); shape (N,)."""
  return tf.reshape(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits),
                    [-1])


def generator_loss(fake_logits):
  """Per-example non-saturating -log D(G(z)) (DCGAN's G loss); shape (N,)."""
  return tf.reshape(tf.nn.softplus(-fake_logits), [-1])


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
