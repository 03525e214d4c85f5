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
