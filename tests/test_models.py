"""The model registry and store: architectures by name, weights by path."""
import os
import typing

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO
from tf_inpaint import config, masks, models
from tf_inpaint.errors import InputError

TINY = config.ModelConfig(image_size=32, base_filters=4, z_dim=8)


def _bundle(tmp_path, model_config=TINY):
  """An exported directory with random weights; returns (G, D, weights path)."""
  generator, discriminator = models.build(model_config)
  for weight in generator.weights + discriminator.weights:
    weight.assign(tf.random.normal(weight.shape, seed=1))
  config.save_run_config(str(tmp_path), model_config, None)
  path = str(tmp_path / models.WEIGHTS_FILENAME)
  models.export_weights(generator, discriminator, path)
  return generator, discriminator, path


def _rewrite(path, change):
  with np.load(path) as saved:
    arrays = {name: saved[name] for name in saved.files}
  np.savez(path, **change(arrays))


def test_every_architecture_builds_and_has_an_objective(tmp_path):
  tiny = dict(image_size=32, base_filters=4, z_dim=8)
  generator_dir = str(tmp_path / "generator")
  os.makedirs(generator_dir)
  dcgan = config.ModelConfig(**tiny)
  models.export_weights(*models.build(dcgan),
                        os.path.join(generator_dir, models.WEIGHTS_FILENAME))
  config.save_run_config(generator_dir, dcgan, None)
  for name, row in models.ARCHITECTURES.items():
    family = next(iter(row.mask_families)) if row.mask_families else None
    model_config = config.ModelConfig(
        **tiny, architecture=name, mask_family=family,
        generator=generator_dir if row.inverts_generator else None)
    if row.inverts_generator:
      model_config = models.bind_generator(model_config)
    generator, discriminator = models.build(model_config)
    outputs = generator(*row.generator.example_inputs(model_config))
    assert (discriminator is not None) == row.adversarial, name
    if row.adversarial:
      assert outputs.shape == (1, 32, 32, 3)
      assert discriminator(outputs).shape == (1, 1)
    objective = models.make_objective(model_config, seed=0)
    for member in typing.get_type_hints(models.Objective):
      assert hasattr(objective, member), (name, member)
    for method in ("prepare", "fake", "generator_loss", "samples"):
      assert callable(getattr(objective, method)), (name, method)


@pytest.mark.parametrize("architecture, family, message", [
    ("vae", None, "architecture='vae': expected one of dcgan, context_encoder, encoder"),
    ("context_encoder", None, "needs a mask family, one of center, random"),
    ("context_encoder", "left", "mask_family=left"),
    ("dcgan", "center", "is not trained on one mask family"),
])
def test_the_registry_refuses_what_it_does_not_know(architecture, family,
                                                    message):
  with pytest.raises(InputError, match=message):
    models.build(config.ModelConfig(image_size=32, architecture=architecture,
                                    mask_family=family))


def test_exported_weights_are_keyed_by_path_and_restore_as_float32(tmp_path):
  generator, discriminator, path = _bundle(tmp_path)
  with np.load(path) as saved:
    assert "generator/upsample_0/kernel" in saved.files
    assert "discriminator/downsample_norm_0/gamma" in saved.files
    assert all(saved[name].dtype == np.float16 for name in saved.files)
  _, _, restored_g, restored_d = models.load(str(tmp_path))
  for a, b in zip(generator.weights + discriminator.weights,
                  restored_g.weights + restored_d.weights):
    assert a.path == b.path and b.dtype == "float32"
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-6)


def test_loading_does_not_depend_on_the_order_in_the_file(tmp_path):
  _, _, path = _bundle(tmp_path)
  before = [w.numpy() for w in models.load(str(tmp_path))[2].weights]
  _rewrite(path, lambda arrays: dict(reversed(list(arrays.items()))))
  after = [w.numpy() for w in models.load(str(tmp_path))[2].weights]
  for a, b in zip(before, after):
    np.testing.assert_array_equal(a, b)


def _rename(old, new):
  return lambda arrays: {new if k == old else k: v for k, v in arrays.items()}


def _positional(arrays):
  return {f"g_{i}": v for i, v in enumerate(arrays.values())}


def _truncate(path):
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)


def _flip_a_byte(path):
  with open(path, "r+b") as f:
    f.seek(os.path.getsize(path) // 3)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 0xFF]))


def _nan(arrays):
  arrays["generator/to_image/bias"] = np.full_like(
      arrays["generator/to_image/bias"], np.nan)
  return arrays


@pytest.mark.parametrize("damage, message", [
    (lambda p: _rewrite(p, _rename("generator/project_norm/gamma",
                                   "generator/project_norm/scale")),
     "no weight generator/project_norm/gamma"),
    (lambda p: _rewrite(p, _rename("discriminator/to_logit/bias",
                                   "discriminator/to_logit/offset")),
     "no weight discriminator/to_logit/bias"),
    (lambda p: _rewrite(p, lambda a: {**a, "generator/extra/kernel": a[
        "generator/project/kernel"]}), "unexpected weight generator/extra"),
    (lambda p: _rewrite(p, _positional), "written by an older tf_inpaint"),
    (lambda p: _rewrite(p, _nan), "generator/to_image/bias holds NaN"),
    (_truncate, "weights.npz cannot be read"),
    (lambda p: open(p, "wb").close(), "weights.npz cannot be read"),
    (lambda p: open(p, "wb").write(b"not a zip file"),
     "weights.npz cannot be read"),
    (_flip_a_byte, "weights.npz cannot be read"),
])
def test_a_damaged_or_mismatched_weights_file_is_one_input_error(
    tmp_path, damage, message):
  _, _, path = _bundle(tmp_path)
  damage(path)
  with pytest.raises(InputError, match=message) as error:
    models.load(str(tmp_path))
  assert "\n" not in str(error.value)


def test_weights_of_another_shape_are_refused(tmp_path):
  _bundle(tmp_path)
  config.save_run_config(str(tmp_path), config.ModelConfig(
      image_size=32, base_filters=8, z_dim=8), None)
  with pytest.raises(InputError, match="does not match config.json .*shape"):
    models.load(str(tmp_path))


def test_the_bundled_models_give_the_outputs_they_were_shipped_with():
  """Reference outputs were computed before the bundles were re-exported."""
  with np.load(os.path.join(REPO, "tests", "data",
                            "bundled_outputs.npz")) as expected:
    for name in models.BUNDLED_MODELS:
      model_config, _, generator, discriminator = models.load(name)
      if model_config.architecture == "dcgan":
        z = tf.random.stateless_uniform([2, model_config.z_dim], [0, 1], -1, 1)
        images = generator(z)
        np.testing.assert_allclose(discriminator(images),
                                   expected[f"{name}/logits"], atol=1e-4)
      else:  # a context encoder or a z encoder: (image, mask) inputs
        size = model_config.image_size
        images = generator(
            tf.random.stateless_uniform([2, size, size, 3], [0, 2], -1, 1),
            masks.make_masks("center", 2, size))
      np.testing.assert_allclose(images, expected[f"{name}/generated"],
                                 atol=1e-4)


def test_bundled_weights_stay_inside_the_package_budget():
  total = sum(os.path.getsize(os.path.join(models.resolve(name),
                                           models.WEIGHTS_FILENAME))
              for name in models.BUNDLED_MODELS)
  assert total < 40e6


def test_every_bundled_encoder_fits_its_bundled_generator():
  assert set(models.BUNDLED_ENCODERS.values()) <= set(models.BUNDLED_MODELS)
  encoders = [name for name in models.BUNDLED_MODELS
              if models.load_config(name)[0].architecture == "encoder"]
  assert set(models.BUNDLED_ENCODERS.values()) <= set(encoders)
  for encoder_name in encoders:
    generator_name = models.load_config(encoder_name)[0].generator
    generator = models.load(generator_name, "dcgan")[2]
    encoder = models.load_encoder(encoder_name, generator)
    assert encoder.config.generator == generator_name


def test_every_bundled_generators_context_encoders_cover_its_images():
  """Each bundled context encoder of a model is one at its size, and the
  model's encoders cover both mask families."""
  for model, names in models.BUNDLED_CONTEXT_ENCODERS.items():
    size = models.load_config(model)[0].image_size
    configs = [models.load_config(name)[0] for name in names]
    assert all(c.architecture == "context_encoder" and c.image_size == size
               for c in configs)
    assert {c.mask_family for c in configs} == {"center", "random"}
    assert models.context_encoder_names(None, model) == list(names)


def test_context_encoders_are_the_flags_else_the_bundled_models_own(
    tmp_path):
  assert models.context_encoder_names(["runs/a", "b"], "celeba64") == [
      "runs/a", "b"]
  with pytest.raises(InputError, match=f"model {tmp_path} has no bundled "
                     "context encoders; pass --context_encoders="):
    models.context_encoder_names(None, str(tmp_path))


def test_copies_match_weights_by_path_not_position():
  source, _ = models.build(TINY)
  target = models.build_generator(TINY, name="copy")
  for weight in source.weights:
    weight.assign(tf.random.normal(weight.shape, seed=3))
  models.copy_weights(source, target)
  z = tf.random.uniform((2, 8), -1, 1, seed=5)
  np.testing.assert_array_equal(source(z).numpy(), target(z).numpy())
  other = models.build_generator(config.ModelConfig(image_size=64,
                                                    base_filters=4, z_dim=8))
  with pytest.raises(ValueError, match="different weights"):
    models.copy_weights(source, other)


def test_a_bundled_model_is_identified_by_name_and_weights_not_by_path(
    tmp_path, monkeypatch):
  """A stopped run continues, and shards merge, from another checkout of the
  same bundle; not with another bundle of the same name."""
  checkouts = [tmp_path / "a" / "celeba64", tmp_path / "b" / "celeba64"]
  for folder in checkouts:
    folder.mkdir(parents=True)
    (folder / models.WEIGHTS_FILENAME).write_bytes(b"same weights")
  seen = []
  for folder in checkouts:
    monkeypatch.setattr(models, "resolve", lambda _, folder=folder: str(folder))
    seen.append(models.identity("celeba64"))
  assert seen[0] == seen[1] and seen[0].startswith("celeba64 (bundled")
  (checkouts[1] / models.WEIGHTS_FILENAME).write_bytes(b"retrained weights")
  assert models.identity("celeba64") != seen[0]
  assert models.identity("runs/mine") == os.path.realpath("runs/mine")
