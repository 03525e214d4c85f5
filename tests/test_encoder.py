"""The z encoder: training against a frozen G, the learned start, its checks."""
import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from conftest import fixed_networks, write_images
from tf_inpaint import config, encoder, inpaint, masks, models, train
from tf_inpaint.errors import InputError


def _export(directory, model_config, generator, discriminator):
  os.makedirs(directory)
  models.export_weights(generator, discriminator,
                        os.path.join(directory, models.WEIGHTS_FILENAME))
  config.save_run_config(directory, model_config, None)
  return directory


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A tiny G (exported) and an encoder trained for it: (root, G, encoder)."""
  root = tmp_path_factory.mktemp("encoder")
  model_config, generator, discriminator = fixed_networks()
  generator_dir = _export(str(root / "generator"), model_config, generator,
                          discriminator)
  write_images(str(root / "images"), 16, size=(32, 32), seed=3)
  encoder_config = config.ModelConfig(architecture="encoder",
                                      generator=generator_dir, base_filters=8)
  trainer = train.Trainer(
      encoder_config,
      config.TrainConfig(dataset=f"folder:{root / 'images'}", batch_size=16,
                         steps=150, learning_rate=1e-3, summary_every=50,
                         checkpoint_every=150, image_every=150),
      str(root / "run"), str(root / "logs"))
  trainer.train()
  return root, generator, discriminator, models.load_encoder(
      str(root / "run"), generator)


def test_encoder_takes_sizes_and_digest_from_its_generator(trained):
  root, generator, _, learned = trained
  assert learned.config.image_size == 32 and learned.config.z_dim == 8
  assert learned.config.generator_digest == encoder.generator_digest(
      generator)
  saved, _ = config.load_run_config(str(root / "run"))
  assert saved == learned.config


def test_encoder_ignores_missing_pixels_and_stays_in_range(trained):
  *_, learned = trained
  images = tf.random.uniform([4, 32, 32, 3], -1, 1, seed=1)
  mask = masks.make_masks("center", 4, 32)
  other = images + (1 - mask) * 0.5
  z = learned(images, mask).numpy()
  np.testing.assert_array_equal(z, learned(other, mask).numpy())
  assert np.all(np.abs(z) <= 1)


def test_encoder_start_beats_a_random_start(trained):
  _, generator, discriminator, learned = trained
  z_star = tf.random.stateless_uniform([8, 8], [7, 7], -0.8, 0.8)
  targets = generator(z_star).numpy()
  for mask_name in ("center", "random80"):
    mask = masks.make_masks(mask_name, 8, 32, seed=1)
    search = config.InpaintConfig(iterations=10, weighting="binary")
    random_start = inpaint.Inpainter(generator, discriminator,
                                     search).inpaint(targets, mask)
    learned_start = inpaint.Inpainter(generator, discriminator, search,
                                      encoder=learned).inpaint(targets, mask)
    assert (learned_start.contextual_loss.mean() <
            0.85 * random_start.contextual_loss.mean()), mask_name


def test_encoder_start_is_the_first_restart_only(trained):
  _, generator, discriminator, learned = trained
  images = generator(tf.zeros([3, 8])).numpy()
  mask = masks.make_masks("center", 3, 32)
  search = config.InpaintConfig(restarts=3, seed=4)
  starts = inpaint.Inpainter(generator, discriminator, search,
                             encoder=learned).initial_z([0, 1, 2], images,
                                                        mask).numpy()
  random_starts = inpaint.Inpainter(generator, discriminator,
                                    search).initial_z([0, 1, 2]).numpy()
  np.testing.assert_allclose(starts[0::3], learned(images * mask, mask),
                             atol=1e-6)
  for restart in (1, 2):
    np.testing.assert_array_equal(starts[restart::3],
                                  random_starts[restart::3])


def test_an_encoder_for_another_generator_is_refused(trained):
  _, _, discriminator, learned = trained
  _, other_generator, _ = fixed_networks(seed=1)
  with pytest.raises(InputError, match="trained for another generator"):
    inpaint.Inpainter(other_generator, discriminator, encoder=learned)


def test_exported_encoder_loads_for_the_same_generator(trained, tmp_path):
  root, generator, _, learned = trained
  models.export(str(root / "run"), str(tmp_path / "export"))
  exported = models.load_encoder(str(tmp_path / "export"), generator)
  probe = tf.random.uniform([2, 32, 32, 3], -1, 1, seed=2)
  mask = masks.make_masks("pattern", 2, 32)
  np.testing.assert_allclose(exported(probe, mask), learned(probe, mask),
                             atol=2e-2)  # float16 weights


def test_mixed_masks_are_seeded_and_mix_families():
  sampler = encoder.MixedMaskSampler(32, seed=0)
  first = sampler(64, tf.constant([1, 2], tf.int64)).numpy()
  again = sampler(64, tf.constant([1, 2], tf.int64)).numpy()
  np.testing.assert_array_equal(first, again)
  assert first.shape == (64, 32, 32, 1)
  assert set(np.unique(first)) <= {0.0, 1.0}
  missing = (1 - first).mean(axis=(1, 2, 3))
  # random80 (0.8 missing) and smaller holes (centre: 0.25) in one batch.
  assert np.isclose(missing, 0.8, atol=1e-3).any()
  assert len(np.unique(np.round(missing, 3))) > 5


@pytest.mark.parametrize("changes, message", [
    ({"generator": None}, "needs the DCGAN it inverts"),
    ({"generator": "no_such_model"}, "generator=no_such_model"),
])
def test_bad_encoder_configs_are_refused(changes, message):
  encoder_config = dataclasses.replace(
      config.ModelConfig(architecture="encoder", generator="celeba64"),
      **changes)
  with pytest.raises(InputError, match=message):
    models.bind_generator(encoder_config) if encoder_config.generator else (
        models.architecture(encoder_config))


def test_a_generator_for_a_dcgan_is_refused():
  with pytest.raises(InputError, match="only an encoder"):
    models.architecture(config.ModelConfig(generator="celeba64"))


def test_generator_that_is_not_a_dcgan_is_refused():
  with pytest.raises(InputError,
                     match="generator=celeba64_ce_center: a context_encoder"):
    models.bind_generator(config.ModelConfig(
        architecture="encoder", generator="celeba64_ce_center"))


def test_sizes_that_disagree_with_the_generator_are_refused():
  with pytest.raises(InputError, match="image_size=32: the generator "
                     "celeba64 has image_size=64"):
    models.bind_generator(config.ModelConfig(
        architecture="encoder", generator="celeba64", image_size=32),
                          given=("image_size",))


def test_start_encoder_follows_init(trained):
  root, generator, _, _ = trained
  run = str(root / "run")
  assert models.start_encoder("random", None, run, generator) == (None, None)
  assert models.start_encoder("auto", None, run, generator) == (None, None)
  name, chosen = models.start_encoder("auto", run, "gen", generator)
  assert name == run and chosen.config.architecture == "encoder"
  with pytest.raises(InputError, match="init=encoder: model gen has no"):
    models.start_encoder("encoder", None, "gen", generator)
  with pytest.raises(InputError, match="not used with --init=random"):
    models.start_encoder("random", run, "gen", generator)
  _, other_generator, _ = fixed_networks(seed=1)
  with pytest.raises(InputError, match=f"encoder={run}: the encoder was "
                     "trained for another generator"):
    models.start_encoder("encoder", run, "gen", other_generator)
