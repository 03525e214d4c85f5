"""Mixed precision: what `auto` resolves to, where the policy reaches, and
that runs record, keep and resume their precision."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_inpaint import config, inpaint, masks, models, precision, train
from tf_inpaint.errors import InputError

TINY = config.ModelConfig(image_size=32, base_filters=4, z_dim=8)
# The layers that stay float32 under a mixed policy (their outputs feed
# losses and images).
FLOAT32_LAYERS = {"to_image", "to_logit", "to_z"}


def _train_config(folder, **overrides):
  values = dict(dataset=f"folder:{folder}", batch_size=4, steps=1,
                summary_every=1, image_every=10, checkpoint_every=10, seed=1)
  return config.TrainConfig(**{**values, **overrides})


@pytest.mark.parametrize("flags, gpus, expected", [
    ({"avx2", "avx512f", "avx512_bf16"}, [], "mixed_bfloat16"),
    ({"avx2", "amx_bf16", "amx_tile"}, [], "mixed_bfloat16"),
    ({"avx2", "avx512f"}, [], "float32"),
    (set(), [(8, 0)], "mixed_bfloat16"),
    ({"avx512_bf16"}, [(7, 5)], "float32"),
])
def test_auto_resolves_from_the_cpu_flags_and_gpus(flags, gpus, expected):
  assert precision.resolve("auto", flags=frozenset(flags), gpus=gpus) == (
      expected)


def test_explicit_values_are_kept_and_bad_ones_refused():
  assert precision.resolve("float32", flags=frozenset(), gpus=[]) == "float32"
  assert precision.resolve("mixed_bfloat16", flags=frozenset(), gpus=[]) == (
      "mixed_bfloat16")
  assert precision.resolve("mixed_float16", gpus=[(8, 6)]) == "mixed_float16"
  with pytest.raises(InputError, match="mixed_float16: no GPU here"):
    precision.resolve("mixed_float16", gpus=[])
  with pytest.raises(InputError, match="precision='half': expected one of"):
    precision.resolve("half")
  with pytest.raises(InputError, match="precision='half'"):
    config.TrainConfig(dataset="svhn_cropped", precision="half")
  with pytest.raises(InputError, match="precision='half'"):
    config.InpaintConfig(precision="half")


@pytest.mark.parametrize("architecture", ["dcgan", "context_encoder"])
def test_the_policy_reaches_every_layer_and_variables_stay_float32(
    architecture):
  model_config = config.ModelConfig(
      image_size=32, base_filters=4, z_dim=8, architecture=architecture,
      mask_family="center" if architecture == "context_encoder" else None)
  networks = [net for net in models.build(model_config, "mixed_bfloat16")
              if net is not None]
  for net in networks:
    for layer in net._flatten_layers():  # pylint: disable=protected-access
      expected = ("float32" if layer.name in FLOAT32_LAYERS
                  else "mixed_bfloat16")
      assert layer.dtype_policy.name == expected, layer.name
    assert {w.dtype for w in net.weights} == {"float32"}
  generator = networks[0]
  inputs = generator.example_inputs(model_config)
  assert generator(*inputs).dtype == tf.float32
  if architecture == "dcgan":
    assert networks[1](generator(*inputs)).dtype == tf.float32
  # Built outside, networks keep the global float32 policy.
  assert keras.config.dtype_policy().name == "float32"
  assert models.build(model_config)[0].dtype_policy.name == "float32"


@pytest.mark.slow
def test_a_bf16_run_records_its_precision_and_resumes_in_it(image_folder,
                                                            tmp_path):
  run_dir = str(tmp_path / "run")
  trainer = train.Trainer(TINY, _train_config(image_folder,
                                              precision="mixed_bfloat16"),
                          run_dir, str(tmp_path / "logs"))
  metrics = trainer.train()
  assert np.isfinite(metrics["d_loss"]) and np.isfinite(metrics["g_loss"])
  assert trainer.generator.project.dtype_policy.name == "mixed_bfloat16"
  assert all(v.dtype == "float32" for v in trainer.g_optimizer.variables
             if "iteration" not in v.path)
  assert config.load_run_config(run_dir)[1].precision == "mixed_bfloat16"
  # `auto` resumes in the run's own precision, whatever this CPU has ...
  resumed = train.Trainer(TINY, _train_config(image_folder, steps=2,
                                              precision="auto"), run_dir)
  assert resumed.train_config.precision == "mixed_bfloat16"
  assert resumed.train()["step"] == 2
  # ... and another explicit one is refused, naming the field.
  with pytest.raises(InputError, match="precision: 'mixed_bfloat16' -> "
                     "'float32'"):
    train.Trainer(TINY, _train_config(image_folder, steps=3,
                                      precision="float32"), run_dir).train()


@pytest.mark.slow
def test_a_run_from_before_precision_resumes_in_float32(image_folder,
                                                        tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, precision="float32"),
                run_dir, str(tmp_path / "logs")).train()
  path = os.path.join(run_dir, "config.json")
  with open(path) as f:
    payload = json.load(f)
  del payload["train"]["precision"]  # as written before the field existed
  with open(path, "w") as f:
    json.dump(payload, f)
  trainer = train.Trainer(TINY, _train_config(image_folder, steps=2), run_dir)
  assert trainer.train_config.precision == "float32"
  assert trainer.train()["step"] == 2


@pytest.mark.slow
def test_float16_trains_with_loss_scaling(image_folder, tmp_path,
                                          monkeypatch):
  # On a CPU float16 is refused as slow; a GPU is faked to reach the path.
  monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: [(8, 0)])
  trainer = train.Trainer(TINY, _train_config(image_folder,
                                              precision="mixed_float16"),
                          str(tmp_path / "run"), str(tmp_path / "logs"))
  metrics = trainer.train()
  assert isinstance(trainer.g_optimizer, keras.optimizers.LossScaleOptimizer)
  assert np.isfinite(metrics["g_loss"])
  assert all(np.all(np.isfinite(w.numpy())) for w in trainer.generator.weights)


def test_bf16_inpainting_stays_close_to_float32(varied_model):
  _, _, generator, discriminator = models.load(varied_model)
  images = generator(tf.random.stateless_uniform([4, 8], [5, 5], -1, 1)).numpy()
  hole_masks = masks.make_masks("center", 4, 32, seed=0)
  results = {}
  for name in ("float32", "mixed_bfloat16"):
    inpainter = inpaint.Inpainter(generator, discriminator,
                                  config.InpaintConfig(iterations=20,
                                                       tune_iters=3,
                                                       tune_layers=3,
                                                       precision=name))
    assert precision.of_model(inpainter.generator) == name
    results[name] = inpainter.inpaint(images, hole_masks)
  for field in ("generated", "blended", "z"):
    a, b = (getattr(results[name], field) for name in results)
    assert a.dtype == b.dtype == np.float32
    assert np.abs(a - b).max() < 0.1, field
  assert not np.array_equal(results["float32"].generated,
                            results["mixed_bfloat16"].generated)
