"""Per-image generator tuning: detail that no z reaches (DGP, PTI).

After the z search, every image gets its own copy of the kernels of G's last
`tune_layers` convolutions (by default 2: the last upsampling convolution and
the image layer), trained with z fixed at its best value on the search's own
loss, contextual + lam * perceptual, plus a penalty that keeps each copy near
the prior's weights: `tune_penalty` times the squared change relative to the
weights' own squared norm, summed over the tuned layers. Later layers set
texture and colour, not identity; earlier ones move the whole image
coherently (Deep Generative Prior tunes every layer). The known pixels decide
how far a copy moves, the hole is where it is judged.

All images of a batch are tuned at once: their weights are stacked along a
leading image axis, and each image's loss depends on its own copy only, so
results do not depend on batching.
"""
import copy

import keras
import tensorflow as tf

from tf_inpaint import strided_conv
from tf_inpaint.config import InpaintConfig
from tf_inpaint.errors import InputError


# Memory for the per-image copies tuned at once (see `rows_per_part`): all 4
# layers of the 64x64 DCGAN are 6.2 M weights in phase form, about 200 MB
# per image with their Adam state (measured), so 2 images at a time.
TUNING_MEMORY_BYTES = 400 * 2**20
_BYTES_PER_TUNED_WEIGHT = 8 * 4


def tunable_layers(generator: keras.Model) -> list:
  """G's convolutions in order, the image layer last: what tuning may change."""
  return [*generator.upsample, generator.to_image]


class GeneratorTuner:
  """Tunes per-image copies of a (frozen) DCGAN generator's last layers."""

  def __init__(self, generator: keras.Model, discriminator: keras.Model,
               config: InpaintConfig, image_losses):
    """
    Args:
      generator, discriminator: the frozen DCGAN.
      config: the tuning options (tune_iters, tune_layers,
        tune_learning_rate, tune_penalty) and lam.
      image_losses: (images, known, weights, lam, perceptual) -> per-image
        (contextual, perceptual, total) loss of the z search, whose total
        tuning minimises beside the penalty.
    Raises:
      InputError: for more tune_layers than G has convolutions.
    """
    check_tune_layers(config, generator)
    self.generator = generator
    self.discriminator = discriminator
    self.config = config
    self._image_losses = image_losses
    self._tunings = {}  # see `_tuning_for`; shared with `reconfigured` copies
    self._priors = {}  # see `_prior`; shared too

  def reconfigured(self, config: InpaintConfig) -> "GeneratorTuner":
    """This tuner with other options, sharing its variables and traces."""
    check_tune_layers(config, self.generator)
    other = copy.copy(self)
    other.config = config
    return other

  def _first_tuned(self, tune_layers: int) -> int:
    return len(tunable_layers(self.generator)) - tune_layers

  def _prior(self, tune_layers: int) -> dict:
    """The prior kernels of the tuned layers, keyed by their place in G, in
    the phase form that `strided_conv.conv2d_transpose_per_example` takes (a
    permutation of the taps plus zeros: Adam and the penalty, elementwise,
    see the same weights). G is a frozen copy, so they are computed once per
    `tune_layers` (eagerly: a traced step captures them as constants instead
    of gathering every kernel's phases again at each step)."""
    if tune_layers in self._priors:
      return self._priors[tune_layers]
    layers = tunable_layers(self.generator)
    first = self._first_tuned(tune_layers)
    prior = {i: tf.cast(layers[i].phases(), tf.float32)  # tuning: float32
             for i in range(first, len(layers))}
    if tf.executing_eagerly():
      self._priors[tune_layers] = prior
    return prior

  def features(self, z, tune_layers: int):
    """G's activations up to its first tuned layer, which tuning keeps; as
    float32, the tuned layers' precision under any policy."""
    g = self.generator
    x = tf.nn.relu(g.project_norm(g.reshape(g.project(z)), training=False))
    first = self._first_tuned(tune_layers)
    for conv, norm in zip(g.upsample[:first], g.upsample_norms[:first]):
      x = tf.nn.relu(norm(conv(x), training=False))
    return tf.cast(x, tf.float32)

  def images(self, features, weights):
    """G's tuned layers with each image's own `weights` (stacked per image)."""
    g = self.generator
    x = features
    for index in sorted(weights):
      x = strided_conv.conv2d_transpose_per_example(x, weights[index])
      if index < len(g.upsample):
        x = tf.nn.relu(tf.cast(g.upsample_norms[index](x, training=False),
                               tf.float32))
    return tf.tanh(tf.nn.bias_add(x, g.to_image.bias))

  def penalty(self, weights):
    """Per image: sum over layers of |w - w_prior|^2 / |w_prior|^2."""
    prior = self._prior(len(weights))
    return tf.add_n([
        tf.reduce_sum(tf.square(weights[i] - prior[i]),
                      axis=list(range(1, len(weights[i].shape))))
        / tf.reduce_sum(tf.square(prior[i]))
        for i in weights])

  def tune(self, z, known, known_weights):
    """Tunes one copy of the last layers per row of z; returns its images.

    Rows are tuned a few at a time (`rows_per_part`): each row's copy and
    its Adam state cost memory in proportion to the tuned layers' size, and
    results do not depend on how rows are grouped.

    Args:
      z: (N, z_dim) the search's best z, fixed during tuning.
      known, known_weights: the images' known pixels and context weights,
        as the search used them.
    """
    rows = self.rows_per_part(self.config.tune_layers)
    return tf.concat([
        self._tune_part(z[i:i + rows], known[i:i + rows],
                        known_weights[i:i + rows])
        for i in range(0, z.shape[0], rows)], axis=0)

  def rows_per_part(self, tune_layers: int) -> int:
    """How many images are tuned at once: as many as fit in
    TUNING_MEMORY_BYTES, counting each tuned weight's copy, gradient and
    Adam moments, and the temporaries of one step (about 8 float32 each)."""
    weights = sum(int(tf.size(prior)) for prior in
                  self._prior(tune_layers).values())
    return max(1, TUNING_MEMORY_BYTES // (_BYTES_PER_TUNED_WEIGHT * weights))

  def _tune_part(self, z, known, known_weights):
    cfg = self.config
    weights, optimizer_state, step = self._tuning_for(z.shape[0])
    prior = self._prior(cfg.tune_layers)
    for index, variable in weights.items():  # every call starts at the prior
      variable.assign(tf.repeat(prior[index][None], z.shape[0], axis=0))
    for variable in optimizer_state:
      variable.assign(tf.zeros_like(variable))
    features = self.features(z, cfg.tune_layers)
    options = [tf.constant(value, tf.float32) for value in (
        cfg.lam, cfg.tune_penalty, cfg.tune_learning_rate)]
    for _ in range(cfg.tune_iters):
      step(features, known, known_weights, *options)
    return self.images(features, weights)

  def _tuning_for(self, count: int):
    """(weights, optimizer state, step) for `count` images, built once per
    count, number of tuned layers and use of D, so repeated calls trace
    nothing new; the other options are inputs of the step."""
    perceptual = self.config.lam > 0
    key = (count, self.config.tune_layers, perceptual)
    if key not in self._tunings:
      weights = {index: tf.Variable(tf.repeat(prior[None], count, axis=0),
                                    name=f"kernel_{index}")
                 for index, prior in self._prior(
                     self.config.tune_layers).items()}
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


def check_tune_layers(config: InpaintConfig, generator: keras.Model) -> None:
  """Refuses more tuned layers than G has convolutions."""
  count = len(tunable_layers(generator))
  if config.tune_layers > count:
    raise InputError(f"tune_layers={config.tune_layers}: expected 1 to "
                     f"{count} (this model's convolutions)")
