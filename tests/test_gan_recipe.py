"""The modern GAN recipe options: DiffAugment, hinge loss, R1, SN, TTUR."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_inpaint import config, diff_augment, layers, losses, models, train
from tf_inpaint.errors import InputError

TINY = config.ModelConfig(image_size=32, base_filters=4, z_dim=8)
SEED = tf.constant([3, 4], tf.int64)


def _images(count=6, size=16, seed=0):
  rng = np.random.default_rng(seed)
  return tf.constant(rng.uniform(-1, 1, (count, size, size, 3)), tf.float32)


def test_the_registries_hold_exactly_the_names_the_config_accepts():
  """config.py names them without importing TensorFlow."""
  assert tuple(diff_augment.POLICIES) == config.DIFF_AUGMENTATIONS
  assert tuple(losses.GAN_LOSSES) == config.GAN_LOSSES
  assert tuple(models.ARCHITECTURES) == config.ARCHITECTURES
  assert tuple(sorted({family for row in models.ARCHITECTURES.values()
                       for family in row.mask_families or ()})) == (
                           config.MASK_FAMILIES)


@pytest.mark.parametrize("name", config.DIFF_AUGMENTATIONS)
def test_each_change_is_seeded_per_image_and_passes_gradients(name):
  images = _images()
  with tf.GradientTape() as tape:
    tape.watch(images)
    changed = diff_augment.POLICIES[name](images, SEED)
    total = tf.reduce_sum(changed * images)
  assert changed.shape == images.shape
  np.testing.assert_array_equal(changed,
                                diff_augment.POLICIES[name](images, SEED))
  assert not np.allclose(changed, images)
  other_seed = diff_augment.POLICIES[name](images, SEED + 1)
  assert not np.allclose(changed, other_seed)
  gradient = tape.gradient(total, images)
  assert np.count_nonzero(gradient) > images.shape.num_elements() // 4
  # Two copies of one image get different parameters.
  twins = diff_augment.POLICIES[name](tf.concat([images[:1]] * 2, 0), SEED)
  assert not np.allclose(twins[0], twins[1])


def test_translation_moves_each_image_by_whole_pixels_within_an_eighth():
  images = _images(count=8, size=16)
  moved = diff_augment.translation(images, SEED).numpy()
  for original, shifted in zip(images.numpy(), moved):
    matches = [
        (dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
        if np.array_equal(
            shifted, np.roll(np.pad(original, [[2, 2], [2, 2], [0, 0]]),
                             (dy, dx), axis=(0, 1))[2:-2, 2:-2])]
    assert len(matches) == 1  # a shift of at most 16 / 8 = 2 pixels


def test_cutout_blanks_a_square_of_half_the_side_clipped_at_the_border():
  images = tf.ones([32, 16, 16, 3])
  cut = diff_augment.cutout(images, SEED).numpy()[..., 0]
  blanked = (cut == 0)
  assert set(np.unique(cut)) <= {0.0, 1.0}
  rows, cols = blanked.any(axis=2), blanked.any(axis=1)
  assert (blanked.sum(axis=(1, 2)) == rows.sum(1) * cols.sum(1)).all()
  assert rows.sum(1).max() == 8 and cols.sum(1).max() == 8
  assert (blanked.sum(axis=(1, 2)) > 0).all()


def test_a_policy_applies_its_changes_and_none_is_the_identity():
  images = _images()
  assert diff_augment.augment(images, (), SEED) is images
  both = diff_augment.augment(images, ("color", "cutout"), SEED)
  assert not np.allclose(both, diff_augment.augment(images, ("color",), SEED))
  assert config.parse_diff_augment("color, cutout") == ("color", "cutout")


@pytest.mark.parametrize("values, words", [
    (dict(diff_augment="colour"), "diff_augment='colour'"),
    (dict(diff_augment="color,color"), "listed twice"),
    (dict(gan_loss="wasserstein"), "gan_loss='wasserstein'"),
    (dict(r1_gamma=-1.0), "r1_gamma=-1.0"),
    (dict(r1_every=0), "r1_every=0"),
    (dict(d_learning_rate=-1e-4), "d_learning_rate=-0.0001"),
])
def test_bad_recipe_settings_are_refused_in_one_line(values, words):
  with pytest.raises(InputError, match=words) as error:
    config.TrainConfig(dataset="folder:x", **values)
  assert "\n" not in str(error.value)


def test_hinge_losses_stop_at_the_margin():
  hinge = losses.GAN_LOSSES["hinge"]
  real = tf.constant([[2.0], [0.5], [-1.0]])
  fake = tf.constant([[-2.0], [-0.5], [1.0]])
  np.testing.assert_allclose(hinge.discriminator(real, fake), [0, 1, 4])
  np.testing.assert_allclose(hinge.generator(fake), [2, 0.5, -1])


def test_r1_is_the_squared_input_gradient_and_differentiable_in_d():
  weight = tf.Variable(tf.random.stateless_normal([4, 4, 3], [1, 2]))

  def linear_discriminator(images, training):
    del training
    return tf.reduce_sum(images * weight, axis=[1, 2, 3])[:, None]

  with tf.GradientTape() as tape:
    penalty = losses.r1_penalty(linear_discriminator, _images(2, 4))
    total = tf.reduce_sum(penalty)
  expected = float(tf.reduce_sum(tf.square(weight)))
  np.testing.assert_allclose(penalty, [expected] * 2, rtol=1e-5)
  np.testing.assert_allclose(tape.gradient(total, weight),
                             4 * weight.numpy(), rtol=1e-5)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_r1_weight_gradients_agree_for_both_convolution_forms(spectral_norm):
  """The phase form's custom gradient must itself be differentiable."""
  model_config = config.ModelConfig(image_size=32, base_filters=4, z_dim=8,
                                    spectral_norm=spectral_norm)
  _, discriminator = models.build(model_config)
  images = _images(2, 32)
  state = [w.numpy() for w in discriminator.non_trainable_weights]
  gradients = {}
  for form in ("phase", "native"):
    for layer in discriminator.downsample:
      layer.conv_impl = form
    for weight, value in zip(discriminator.non_trainable_weights, state):
      weight.assign(value)  # the same singular vectors and BN statistics
    with tf.GradientTape() as tape:
      penalty = tf.reduce_sum(losses.r1_penalty(discriminator, images))
    gradients[form] = tape.gradient(penalty,
                                    discriminator.trainable_variables)
  # The logit's bias does not change any slope; every kernel does.
  kernels = [g for v, g in zip(discriminator.trainable_variables,
                               gradients["phase"]) if "kernel" in v.path]
  assert all(g is not None and np.any(g) for g in kernels)
  for phase, native in zip(gradients["phase"], gradients["native"]):
    assert (phase is None) == (native is None)
    if phase is not None:
      np.testing.assert_allclose(phase, native, rtol=2e-3, atol=1e-6)


def test_a_spectrally_normalised_d_has_no_bn_and_unit_spectral_norms():
  model_config = config.ModelConfig(image_size=32, base_filters=4, z_dim=8,
                                    spectral_norm=True)
  keras.utils.set_random_seed(0)  # the same weights in any test order
  _, discriminator = models.build(model_config)
  assert not discriminator.downsample_norms
  assert not any("norm" in w.path for w in discriminator.weights)
  normalised = [*discriminator.downsample, discriminator.to_logit]
  images = _images(4, 32)
  for _ in range(200):  # power iterations run in training calls only
    discriminator(images, training=True)
  for layer in normalised:
    kernel = layer.effective_kernel().numpy()
    largest = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]),
                            compute_uv=False)[0]
    assert largest == pytest.approx(1.0, rel=1e-3)
  vector = discriminator.to_logit.singular_vector.numpy()
  discriminator(images, training=False)
  np.testing.assert_array_equal(vector,
                                discriminator.to_logit.singular_vector)


def test_spectral_norm_gradients_flow_through_sigma():
  layer = layers.SpectralDense(3, spectral_norm=True)
  inputs = _images(2, 2).numpy().reshape(2, -1)
  layer(inputs, training=True)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(layer(inputs) ** 2)
  gradient = tape.gradient(loss, layer.kernel)
  # Scaling the kernel leaves kernel / sigma unchanged: no gradient along it.
  assert float(tf.reduce_sum(gradient * layer.kernel)) == pytest.approx(
      0.0, abs=1e-4)


def _train_config(folder, **overrides):
  values = dict(dataset=f"folder:{folder}", batch_size=4, steps=4,
                summary_every=1, image_every=4, checkpoint_every=2, seed=1,
                precision="float32")
  values.update(overrides)
  return config.TrainConfig(**values)


def _final_weights(run_dir, model_config):
  generator, discriminator = models.build(model_config)
  tf.train.Checkpoint(generator=generator, discriminator=discriminator
                      ).restore(tf.train.latest_checkpoint(
                          config.checkpoint_dir(run_dir))).expect_partial()
  return [w.numpy() for w in generator.weights + discriminator.weights]


RECIPE = dict(gan_loss="hinge", learning_rate=1e-4, d_learning_rate=4e-4,
              r1_gamma=1.0, r1_every=2, diff_augment="color,translation,cutout")


@pytest.mark.slow
def test_training_with_the_whole_recipe_resumes_exactly(image_folder,
                                                        tmp_path):
  model_config = config.ModelConfig(image_size=32, base_filters=4, z_dim=8,
                                    spectral_norm=True)
  straight = train.Trainer(model_config, _train_config(image_folder, **RECIPE),
                           str(tmp_path / "straight"), str(tmp_path / "l1"))
  metrics = straight.train()
  assert np.isfinite(metrics["d_loss"]) and np.isfinite(metrics["g_loss"])
  assert float(straight.d_optimizer.learning_rate) == pytest.approx(4e-4)
  assert float(straight.g_optimizer.learning_rate) == pytest.approx(1e-4)
  assert config.load_run_config(str(tmp_path / "straight"))[1].r1_every == 2
  resumed = str(tmp_path / "resumed")
  train.Trainer(model_config, _train_config(image_folder, steps=2, **RECIPE),
                resumed, str(tmp_path / "l2")).train()
  train.Trainer(model_config, _train_config(image_folder, **RECIPE), resumed,
                str(tmp_path / "l2")).train()
  for a, b in zip(_final_weights(str(tmp_path / "straight"), model_config),
                  _final_weights(resumed, model_config)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_each_option_changes_the_first_step_of_d(image_folder, tmp_path):
  options = {"paper": {}, "hinge": dict(gan_loss="hinge"),
             "ttur": dict(d_learning_rate=1e-3),
             "r1": dict(r1_gamma=10.0, r1_every=1),
             "diff_augment": dict(diff_augment="translation")}
  generator_size = len(models.build_generator(TINY).weights)
  discriminators = {}
  for name, values in options.items():
    run_dir = str(tmp_path / name)
    train.Trainer(TINY, _train_config(image_folder, steps=1, **values),
                  run_dir, str(tmp_path / f"logs_{name}")).train()
    discriminators[name] = _final_weights(run_dir, TINY)[generator_size:]
  for name in options:
    if name != "paper":
      assert not all(np.allclose(a, b) for a, b in zip(
          discriminators["paper"], discriminators[name])), name


@pytest.mark.slow
def test_the_recipe_runs_under_the_mirrored_strategy(image_folder, tmp_path):
  model_config = config.ModelConfig(image_size=32, base_filters=4, z_dim=8,
                                    spectral_norm=True)
  metrics = train.Trainer(
      model_config, _train_config(image_folder, steps=2, strategy="mirrored",
                                  **RECIPE),
      str(tmp_path / "run"), str(tmp_path / "logs")).train()
  assert metrics["step"] == 2 and np.isfinite(metrics["d_loss"])


@pytest.mark.slow
def test_a_run_with_another_recipe_is_refused_on_resume(image_folder,
                                                        tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=1), run_dir,
                str(tmp_path / "logs")).train()
  with pytest.raises(InputError, match="gan_loss: 'non_saturating' -> 'hinge'"):
    train.Trainer(TINY, _train_config(image_folder, steps=2, gan_loss="hinge"),
                  run_dir, str(tmp_path / "logs")).train()
