import numpy as np
import pytest
import tensorflow as tf

from tf_inpaint import config, models


@pytest.mark.parametrize("image_size", [32, 64, 128])
def test_shapes_and_output_range_for_each_size(image_size):
  cfg = config.ModelConfig(image_size=image_size, base_filters=4)
  generator, discriminator = models.build(cfg)
  z = tf.random.uniform((3, cfg.z_dim), -1, 1, seed=1)
  images = generator(z, training=False)
  assert images.shape == (3, image_size, image_size, 3)
  assert float(tf.reduce_min(images)) >= -1 and float(tf.reduce_max(images)) <= 1
  assert discriminator(images, training=False).shape == (3, 1)


def test_default_generator_is_the_papers():
  """z in R^100 -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3."""
  generator, discriminator = models.build(config.ModelConfig())
  assert generator.project.kernel.shape == (100, 4 * 4 * 512)
  assert [conv.filters for conv in generator.upsample] == [256, 128, 64]
  assert generator.to_image.filters == 3
  assert all(conv.kernel_size == (5, 5) and conv.strides == (2, 2)
             for conv in generator.upsample)
  assert [conv.filters for conv in discriminator.downsample] == [
      64, 128, 256, 512]
  # BN everywhere in D but on its first layer.
  assert len(discriminator.downsample_norms) == 3
  assert discriminator.downsample[0].use_bias
  assert not any(conv.use_bias for conv in discriminator.downsample[1:])


def test_same_seed_builds_identical_weights():
  import keras  # pylint: disable=g-import-not-at-top
  cfg = config.ModelConfig(image_size=32, base_filters=4)
  keras.utils.set_random_seed(7)
  first, _ = models.build(cfg)
  keras.utils.set_random_seed(7)
  second, _ = models.build(cfg)
  for a, b in zip(first.weights, second.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_every_weight_round_trips_through_a_network_only_checkpoint(tmp_path):
  cfg = config.ModelConfig(image_size=32, base_filters=4)
  generator, discriminator = models.build(cfg)
  for weight in generator.weights + discriminator.weights:
    weight.assign(tf.random.normal(weight.shape))
  path = tf.train.Checkpoint(generator=generator,
                             discriminator=discriminator).save(
                                 str(tmp_path / "ckpt"))
  restored_g, restored_d = models.build(cfg)
  tf.train.Checkpoint(generator=restored_g, discriminator=restored_d).restore(
      path).assert_consumed()
  originals = generator.weights + discriminator.weights
  restored = restored_g.weights + restored_d.weights
  # G: dense, 3 BNs (4 each), 2 transposed convs, output kernel + bias;
  # D: 3 convs + first bias, 2 BNs, logit kernel + bias.
  assert len(originals) == len(restored) == (1 + 12 + 2 + 2) + (4 + 8 + 2)
  for a, b in zip(originals, restored):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_frozen_copy_matches_values_and_input_gradients():
  cfg = config.ModelConfig(image_size=32, base_filters=4, z_dim=8)
  generator, discriminator = models.build(cfg)
  frozen_g, frozen_d = models.frozen_copy(generator, discriminator)
  z = tf.random.uniform((3, 8), -1, 1, seed=4)

  def value_and_z_gradient(g, d):
    with tf.GradientTape() as tape:
      tape.watch(z)
      logits = d(g(z, training=False), training=False)
      total = tf.reduce_sum(logits)
    return logits, tape.gradient(total, z)

  for a, b in zip(value_and_z_gradient(generator, discriminator),
                  value_and_z_gradient(frozen_g, frozen_d)):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
  # The copy is independent: changing the original leaves it as it was.
  before = frozen_g(z).numpy()
  generator.to_image.kernel.assign(tf.zeros_like(generator.to_image.kernel))
  np.testing.assert_array_equal(frozen_g(z).numpy(), before)
