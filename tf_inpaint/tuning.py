"""Per-image generator tuning: detail that no z reaches (DGP, PTI).

After the z search, every image gets its own copy of the kernels of G's last
two layers (the last upsampling convolution and the image layer), trained with z fixed at its
best value on the search's own loss, contextual + lam * perceptual, plus a
penalty that keeps each copy near the prior's weights: `tune_penalty` times
the squared change relative to the weights' own squared norm. Later layers
set texture and colour, not identity (Deep Generative Prior tunes them first);
the known pixels decide how far a copy moves, the hole is where it is judged.

All images of a batch are tuned at once: their weights are stacked along a
leading image axis, and each image's loss depends on its own copy only, so
results do not depend on batching.
"""
import copy

import keras
import tensorflow as tf

from tf_inpaint import strided_conv
from tf_inpaint.config import InpaintConfig


class GeneratorTuner:
  """Tunes per-image copies of a (frozen) DCGAN generator's last layers."""

  def __init__(self, generator: keras.Model, discriminator: keras.Model,
               config: InpaintConfig, image_losses):
    """
    Args:
      generator, discriminator: the frozen DCGAN.
      config: the tuning options (tune_iters, tune_learning_rate,
        tune_penalty) and lam.
      image_losses: (images, known, weights, lam, perceptual) -> per-image
        (contextual, perceptual, total) loss of the z search, whose total
        tuning minimises beside the penalty.
    """
    self.generator = generator
    self.discriminator = discriminator
    self.config = config
    self._image_losses = image_losses
    self._prior = {
        "last_kernel": generator.upsample[-1].kernel,
        "image_kernel": generator.to_image.kernel,
    }
    self._tunings = {}  # see `_tuning_for`; shared with `reconfigured` copies

  def reconfigured(self, config: InpaintConfig) -> "GeneratorTuner":
    """This tuner with other options, sharing its variables and traces."""
    other = copy.copy(self)
    other.config = config
    return other

  def features(self, z):
    """G's activations up to its last upsampling layer, which tuning keeps."""
    g = self.generator
    x = tf.nn.relu(g.project_norm(g.reshape(g.project(z)), training=False))
    for conv, norm in zip(g.upsample[:-1], g.upsample_norms[:-1]):
      x = tf.nn.relu(norm(conv(x), training=False))
    return x

  def images(self, features, weights):
    """G's last layers with each image's own `weights` (stacked per image)."""
    g = self.generator
    x = strided_conv.conv2d_transpose_per_example(features,
                                                  weights["last_kernel"])
    x = tf.nn.relu(g.upsample_norms[-1](x, training=False))
    x = strided_conv.conv2d_transpose_per_example(x, weights["image_kernel"])
    return tf.tanh(tf.nn.bias_add(x, g.to_image.bias))

  def penalty(self, weights):
    """Per image: sum over layers of |w - w_prior|^2 / |w_prior|^2."""
    return tf.add_n([
        tf.reduce_sum(tf.square(weights[name] - prior),
                      axis=list(range(1, len(weights[name].shape))))
        / tf.reduce_sum(tf.square(prior))
        for name, prior in self._prior.items()])

  def tune(self, z, known, known_weights):
    """Tunes one copy of the last layers per row of z; returns its images.

    Args:
      z: (N, z_dim) the search's best z, fixed during tuning.
      known, known_weights: the images' known pixels and context weights,
        as the search used them.
    """
    cfg = self.config
    weights, optimizer_state, step = self._tuning_for(z.shape[0])
    for name, prior in self._prior.items():  # every call starts at the prior
      weights[name].assign(tf.repeat(prior[None], z.shape[0], axis=0))
    for variable in optimizer_state:
      variable.assign(tf.zeros_like(variable))
    features = self.features(z)
    options = [tf.constant(value, tf.float32) for value in (
        cfg.lam, cfg.tune_penalty, cfg.tune_learning_rate)]
    for _ in range(cfg.tune_iters):
      step(features, known, known_weights, *options)
    return self.images(features, weights)

  def _tuning_for(self, count: int):
    """(weights, optimizer state, step) for `count` images, built once per
    count and use of D, so repeated calls trace nothing new; the options are
    inputs of the step."""
    perceptual = self.config.lam > 0
    key = (count, perceptual)
    if key not in self._tunings:
      weights = {name: tf.Variable(tf.repeat(prior[None], count, axis=0),
                                   name=name)
                 for name, prior in self._prior.items()}
      variables = list(weights.values())
      optimizer = keras.optimizers.Adam()
      optimizer.build(variables)
      optimizer_state = [v for v in optimizer.variables
                         if not v.path.endswith("learning_rate")]

      @tf.function(jit_compile=False)
      def step(features, known, known_weights, lam, penalty, learning_rate):
        optimizer.learning_rate = learning_rate
        with tf.GradientTape() as tape:
          total = (self._image_losses(self.images(features, weights), known,
                                      known_weights, lam, perceptual)[2]
                   + penalty * self.penalty(weights))
          summed = tf.reduce_sum(total)  # each image's gradient is its own
        optimizer.apply_gradients(zip(tape.gradient(summed, variables),
                                      variables))

      self._tunings[key] = (weights, optimizer_state, step)
    return self._tunings[key]
