"""The paper's DCGAN: generator, discriminator and training objective.

G: z in U[-1,1]^z_dim -> dense 4x4xC -> BN -> ReLU -> 5x5 stride-2 transposed
convolutions halving the channels (BN + ReLU) -> tanh image. D mirrors it:
5x5 stride-2 convolutions doubling the channels, LeakyReLU(0.2), BN on all but
the first, and one logit (Radford et al.; Yeh et al. Sec. 4). Only
`ModelConfig` decides the shapes; `models.py` builds, loads and exports them.
"""
import keras
import tensorflow as tf
from keras import layers

from tf_inpaint import layers as blocks
from tf_inpaint.config import ModelConfig

_FIXED_Z_BATCH = 64


@keras.saving.register_keras_serializable(package="tf_inpaint")
class Generator(blocks.BuiltFromConfig, keras.Model):
  """Maps latent vectors (N, z_dim) to images (N, S, S, channels) in [-1, 1]."""
  example_inputs = staticmethod(blocks.latent_input)

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    steps = blocks.num_resolution_steps(config)
    first_channels = config.base_filters * 2 ** (steps - 1)
    self.project = layers.Dense(4 * 4 * first_channels, use_bias=False,
                                kernel_initializer=blocks.kernel_init(),
                                name="project")
    self.reshape = layers.Reshape((4, 4, first_channels), name="reshape")
    self.project_norm = blocks.batch_norm("project_norm")
    blocks.add_upsampling(self, config, first_channels)

  def call(self, z, training=False):
    x = self.reshape(self.project(z))
    x = tf.nn.relu(self.project_norm(x, training=training))
    return blocks.upsample_to_image(self, x, training)


@keras.saving.register_keras_serializable(package="tf_inpaint")
class Discriminator(blocks.BuiltFromConfig, keras.Model):
  """Maps images (N, S, S, channels) in [-1, 1] to real-vs-fake logits (N, 1)."""
  example_inputs = staticmethod(blocks.image_input)

  def __init__(self, config: ModelConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    blocks.add_downsampling(self, config, config.spectral_norm)
    self.flatten = layers.Flatten(name="flatten")
    # float32 under a mixed policy: the losses take sigmoids and logs of it.
    self.to_logit = blocks.SpectralDense(
        1, kernel_initializer=blocks.kernel_init(), name="to_logit",
        dtype="float32", spectral_norm=config.spectral_norm)

  def call(self, images, training=False):
    features = blocks.downsample_image(self, images, training)
    return self.to_logit(self.flatten(features), training=training)


class DcganObjective:
  """The DCGAN's part of a training step: G(z) from uniform noise, scored by D.

  Implements `models.Objective`: how G makes fakes from a real batch, G's
  loss, and what the progress panel shows. The Trainer owns everything else.
  """

  extra_metrics = ()

  def __init__(self, config: ModelConfig, seed: int):
    self.z_dim = config.z_dim
    self.fixed_z = tf.random.stateless_uniform(
        [_FIXED_Z_BATCH, config.z_dim], [seed, 2], -1.0, 1.0)

  def prepare(self, generator, batches, fresh: bool) -> None:
    """Nothing to take from the data: the panel uses a fixed z batch."""
    del generator, batches, fresh

  def fake(self, generator, real, seed):
    z = tf.random.stateless_uniform([tf.shape(real)[0], self.z_dim], seed,
                                    -1.0, 1.0)
    return generator(z, training=True), {}

  def generator_loss(self, adversarial_loss, extras):
    del extras
    return adversarial_loss

  def samples(self, generator):
    return generator(self.fixed_z, training=False)
