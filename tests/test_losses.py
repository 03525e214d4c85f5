import numpy as np
import tensorflow as tf

from tf_inpaint import losses


def test_importance_weights_against_a_hand_computed_case():
  # 5x5 image, one missing pixel in the centre, 3x3 window.
  mask = np.ones((1, 5, 5, 1), np.float32)
  mask[0, 2, 2, 0] = 0
  weights = losses.importance_weights(tf.constant(mask), 3).numpy()[0, ..., 0]
  expected = np.zeros((5, 5), np.float32)
  expected[1:4, 1:4] = 1 / 9  # each neighbour sees 1 missing pixel of 9
  expected[2, 2] = 0  # missing pixels get no weight
  np.testing.assert_allclose(weights, expected, atol=1e-7)


def test_importance_window_is_clipped_at_the_border():
  mask = np.ones((1, 4, 4, 1), np.float32)
  mask[0, 0, 1, 0] = 0
  weights = losses.importance_weights(tf.constant(mask), 3).numpy()[0, ..., 0]
  # The corner's window holds 4 in-image pixels, one of them missing.
  assert weights[0, 0] == np.float32(1 / 4)
  assert weights[1, 1] == np.float32(1 / 9)
  assert weights[3, 3] == 0  # far from the hole


def test_binary_weighting_is_the_mask():
  mask = tf.constant(np.random.default_rng(0).integers(0, 2, (2, 6, 6, 1)),
                     tf.float32)
  np.testing.assert_array_equal(losses.context_weights(mask, "binary"), mask)


def test_contextual_loss_is_a_weighted_l1_per_image():
  generated = tf.ones((2, 2, 2, 3))
  corrupted = tf.zeros((2, 2, 2, 3))
  weights = tf.constant([[[[1.0], [0.0]], [[0.5], [0.0]]]] * 2)
  np.testing.assert_allclose(
      losses.contextual_loss(generated, corrupted, weights), [4.5, 4.5])


def test_perceptual_loss_matches_naive_formula_and_stays_finite():
  logits = tf.constant([[-5.0], [0.0], [3.0]])
  naive = np.log(1 - 1 / (1 + np.exp(-logits.numpy()[:, 0])))
  np.testing.assert_allclose(losses.perceptual_loss(logits), naive, rtol=1e-5)
  extreme = tf.constant([[100.0], [-100.0]])
  with np.errstate(divide="ignore"):
    naive_extreme = np.log(1 - tf.sigmoid(extreme).numpy()[:, 0])
  assert not np.all(np.isfinite(naive_extreme))  # log(0) = -inf
  stable = losses.perceptual_loss(extreme).numpy()
  assert np.all(np.isfinite(stable))
  np.testing.assert_allclose(stable, [-100.0, 0.0], atol=1e-6)


def test_gan_losses_are_stable_for_extreme_logits():
  logits = tf.constant([[1e4], [-1e4]])
  assert np.all(np.isfinite(losses.discriminator_loss(logits, logits)))
  assert np.all(np.isfinite(losses.generator_loss(logits)))
  np.testing.assert_allclose(losses.generator_loss(tf.constant([[0.0]])),
                             [np.log(2)], rtol=1e-6)
