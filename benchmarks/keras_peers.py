"""The plain-Keras references the throughput benchmarks measure beside ours.

A `Sequential` DCGAN of the paper's architecture (stock `Conv2D` /
`Conv2DTranspose`, no custom kernels), trained by a `tf.function` step with two
tapes as in TensorFlow's DCGAN tutorial, and the same networks' naive z
search; built under a given Keras dtype policy. What a user would get by
writing the model the usual way: our code must not be slower.
"""
import time

import keras
import tensorflow as tf
from keras import layers

from tf_inpaint import precision


def _generator(z_dim: int = 100, base: int = 64) -> keras.Model:
  model = keras.Sequential([keras.Input((z_dim,)),
                            layers.Dense(4 * 4 * base * 8, use_bias=False),
                            layers.Reshape((4, 4, base * 8)),
                            layers.BatchNormalization(), layers.ReLU()])
  for channels in (base * 4, base * 2, base):
    model.add(layers.Conv2DTranspose(channels, 5, 2, "same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.ReLU())
  model.add(layers.Conv2DTranspose(3, 5, 2, "same", activation="tanh",
                                   dtype="float32"))
  return model


def _discriminator(base: int = 64) -> keras.Model:
  model = keras.Sequential([keras.Input((64, 64, 3)),
                            layers.Conv2D(base, 5, 2, "same"),
                            layers.LeakyReLU(0.2)])
  for channels in (base * 2, base * 4, base * 8):
    model.add(layers.Conv2D(channels, 5, 2, "same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(0.2))
  model.add(layers.Flatten())
  model.add(layers.Dense(1, dtype="float32"))
  return model


def build(policy: str):
  """(G, D) of the plain Keras DCGAN computing in `policy`."""
  with precision.policy(policy):
    return _generator(), _discriminator()


def train_images_per_second(policy: str, batch_size: int = 64,
                            steps: int = 6) -> float:
  """Images/s of the plain DCGAN's training step on a fixed random batch."""
  generator, discriminator = build(policy)
  g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
  d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
  real = tf.random.uniform((batch_size, 64, 64, 3), -1, 1)

  @tf.function(jit_compile=False)
  def step(real):
    z = tf.random.uniform((batch_size, 100), -1, 1)
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
      fake = generator(z, training=True)
      real_logits = discriminator(real, training=True)
      fake_logits = discriminator(fake, training=True)
      d_loss = tf.reduce_mean(tf.nn.softplus(-real_logits)
                              + tf.nn.softplus(fake_logits))
      g_loss = tf.reduce_mean(tf.nn.softplus(-fake_logits))
    g_optimizer.apply_gradients(zip(
        g_tape.gradient(g_loss, generator.trainable_variables),
        generator.trainable_variables))
    d_optimizer.apply_gradients(zip(
        d_tape.gradient(d_loss, discriminator.trainable_variables),
        discriminator.trainable_variables))
    return d_loss

  for _ in range(2):
    step(real).numpy()  # tracing and warm-up
  start = time.perf_counter()
  for _ in range(steps):
    loss = step(real)
  loss.numpy()
  return steps * batch_size / (time.perf_counter() - start)


def search_image_iterations_per_second(policy: str, count: int,
                                       iterations: int = 20) -> float:
  """Image-iterations/s of the naive z search (contextual + lam perceptual
  loss, Adam on z) through the plain DCGAN."""
  generator, discriminator = build(policy)
  z = tf.Variable(tf.random.uniform((count, 100), -1, 1))
  optimizer = keras.optimizers.Adam(0.01, beta_1=0.9)
  known = tf.random.uniform((count, 64, 64, 3), -1, 1)
  weights = tf.ones((count, 64, 64, 1))

  @tf.function(jit_compile=False)
  def step():
    with tf.GradientTape() as tape:
      generated = generator(z, training=False)
      loss = tf.reduce_sum(tf.abs(weights * (generated - known))) - 0.003 * (
          tf.reduce_sum(tf.nn.softplus(discriminator(generated,
                                                     training=False))))
    optimizer.apply_gradients([(tape.gradient(loss, z), z)])
    z.assign(tf.clip_by_value(z, -1.0, 1.0))
    return loss

  for _ in range(2):
    step().numpy()
  start = time.perf_counter()
  for _ in range(iterations):
    loss = step()
  loss.numpy()
  return count * iterations / (time.perf_counter() - start)
