"""Keras's own formats: .keras files, .weights.h5 and a SavedModel of G."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_inpaint
from tf_inpaint import config, models

from conftest import TINY_MODEL


def _networks(architecture="dcgan", **extra):
  model_config = config.ModelConfig(**TINY_MODEL, architecture=architecture,
                                    **extra)
  return model_config, *models.build(model_config)


@pytest.mark.parametrize("architecture, extra", [
    ("dcgan", {}),
    ("context_encoder", {"mask_family": "center"}),
    ("encoder", {"generator": "celeba64", "generator_digest": "0" * 16}),
])
def test_every_network_round_trips_through_a_keras_file(tmp_path,
                                                         architecture, extra):
  model_config, generator, discriminator = _networks(architecture, **extra)
  inputs = models.architecture(model_config).generator.example_inputs(
      model_config)
  inputs = [tf.random.uniform(x.shape, -1, 1, seed=1) for x in inputs]
  for net, args in ((generator, inputs),
                    (discriminator, [generator(*inputs)])):
    if net is None:
      continue
    path = str(tmp_path / f"{net.name}.keras")
    net.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(net)  # pylint: disable=unidiomatic-typecheck
    assert loaded.config == model_config
    np.testing.assert_array_equal(loaded(*args), net(*args))


@pytest.mark.slow
def test_a_trained_model_round_trips_through_one_keras_file(tiny_run,
                                                            tmp_path):
  _, run_dir = tiny_run
  models.export(run_dir, str(tmp_path / "out"), "keras")
  path = str(tmp_path / "out" / models.KERAS_FILENAME)
  model_config, train_config, generator, discriminator = models.load(path)
  source = models.load(run_dir)
  assert (model_config, train_config) == source[:2]
  z = tf.random.uniform((3, model_config.z_dim), -1, 1, seed=2)
  np.testing.assert_array_equal(generator(z), source[2](z))
  np.testing.assert_array_equal(discriminator(generator(z)),
                                source[3](source[2](z)))
  # The public API reads it like any other model.
  photo = np.random.default_rng(0).integers(0, 256, (40, 52, 3), np.uint8)
  hole = np.zeros((40, 52), bool)
  hole[10:20, 10:20] = True
  from_file = tf_inpaint.load_model(path).inpaint(photo, hole, iterations=3)
  from_run = tf_inpaint.load_model(run_dir).inpaint(photo, hole, iterations=3)
  np.testing.assert_array_equal(from_file.image, from_run.image)


def test_weights_h5_and_saved_model_exports(tiny_run, tmp_path):
  _, run_dir = tiny_run
  model_config, _, generator, discriminator = models.load(run_dir)
  z = tf.random.uniform((2, model_config.z_dim), -1, 1, seed=3)
  out = tmp_path / "h5"
  models.export(run_dir, str(out), "weights_h5")
  rebuilt_g, rebuilt_d = models.build(config.load_run_config(str(out))[0])
  rebuilt_g.load_weights(str(out / "generator.weights.h5"))
  rebuilt_d.load_weights(str(out / "discriminator.weights.h5"))
  np.testing.assert_array_equal(rebuilt_g(z), generator(z))
  np.testing.assert_array_equal(rebuilt_d(generator(z)), discriminator(generator(z)))
  out = tmp_path / "sm"
  models.export(run_dir, str(out), "saved_model")
  served = tf.saved_model.load(str(out / "saved_model"))
  np.testing.assert_allclose(served.serve(z), generator(z), atol=1e-6)
  assert os.path.isfile(out / "config.json")


def test_a_keras_file_that_is_not_ours_is_refused(tmp_path):
  path = str(tmp_path / "other.keras")
  keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
  with pytest.raises(ValueError, match="model=.*other.keras: a Sequential, "
                     "expected a model exported by bin/export"):
    models.load(path)
  (tmp_path / "broken.keras").write_bytes(b"not a zip")
  with pytest.raises(ValueError, match="broken.keras: cannot be read"):
    models.load(str(tmp_path / "broken.keras"))
