import json
import os

import pytest

from tf_inpaint import config
from tf_inpaint.errors import InputError


def test_run_config_round_trips_through_json(tmp_path):
  model = config.ModelConfig(image_size=32, base_filters=16)
  train = config.TrainConfig(dataset="mat:x.mat", batch_size=8, seed=3)
  path = config.save_run_config(str(tmp_path), model, train)
  assert json.load(open(path))["model"]["image_size"] == 32
  assert config.load_run_config(str(tmp_path)) == (model, train)
  assert not os.path.exists(path + ".tmp")


@pytest.mark.parametrize("kwargs, message", [
    ({"image_size": 48}, "image_size=48: expected one of 32, 64, 128"),
    ({"base_filters": 0}, "base_filters=0"),
])
def test_model_config_rejects_bad_values(kwargs, message):
  with pytest.raises(InputError, match=message):
    config.ModelConfig(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size=0"),
    ({"strategy": "tpu"}, "strategy='tpu'"),
    ({"augment": "rotate"}, "augment='rotate'"),
    ({"first_image": 0}, "first_image=0"),
])
def test_train_config_rejects_bad_values(kwargs, message):
  with pytest.raises(InputError, match=message):
    config.TrainConfig(dataset="svhn_cropped", **kwargs)


def test_load_run_config_rejects_a_directory_without_config(tmp_path):
  with pytest.raises(InputError, match="not a run directory"):
    config.load_run_config(str(tmp_path))


def test_config_differences_names_each_changed_field():
  saved = config.TrainConfig(dataset="a", seed=1, steps=10)
  requested = config.TrainConfig(dataset="a", seed=2, steps=20)
  assert config.config_differences(saved, requested, ignore=("steps",)) == [
      "seed: 1 -> 2"]


@pytest.mark.parametrize("kwargs, message", [
    ({"lam": -1.0}, "lam=-1.0: expected >= 0"),
    ({"iterations": 0}, "iterations=0: expected a positive integer"),
    ({"weighting": "gaussian"}, "weighting='gaussian': expected one of"),
    ({"window_size": 4}, "window_size=4: expected an odd"),
    ({"blend": "alpha"}, "blend='alpha'"),
    ({"blend_detail": 1.5}, "blend_detail=1.5: expected 0 to 1"),
    ({"blend_detail": float("nan")}, "blend_detail=nan"),
    ({"learning_rate": 0.0}, "learning_rate=0.0"),
    ({"lr_schedule": "step"}, "lr_schedule='step': expected one of"),
    ({"combine_restarts": "median"},
     "combine_restarts='median': expected one of"),
    ({"tune_iters": -1}, "tune_iters=-1: expected >= 0"),
    ({"tune_layers": 0}, "tune_layers=0: expected >= 1"),
    ({"tune_learning_rate": 0.0}, "tune_learning_rate=0.0: expected > 0"),
    ({"tune_penalty": -1.0}, "tune_penalty=-1.0: expected >= 0"),
    ({"stop_tolerance": 1.5}, "stop_tolerance=1.5: expected in"),
    ({"stop_tolerance": -0.1}, "stop_tolerance=-0.1: expected in"),
    ({"stop_window": 0}, "stop_window=0: expected a positive integer"),
])
def test_inpaint_config_rejects_bad_values(kwargs, message):
  with pytest.raises(InputError, match=message):
    config.InpaintConfig(**kwargs)


def test_inpaint_defaults_are_the_papers():
  defaults = config.InpaintConfig()
  assert (defaults.lam, defaults.iterations, defaults.window_size,
          defaults.weighting) == (0.003, 1500, 7, "importance")


@pytest.mark.parametrize("cls, kwargs, message", [
    (config.TrainConfig, {"dataset": "x", "learning_rate": float("inf")},
     "learning_rate=inf: expected a finite number"),
    (config.TrainConfig, {"dataset": "x", "ema_decay": float("nan")},
     "ema_decay=nan: expected a finite number"),
    (config.TrainConfig, {"dataset": "x", "seed": -1}, "seed=-1: expected >= 0"),
    (config.InpaintConfig, {"lam": float("inf")},
     "lam=inf: expected a finite number"),
    (config.InpaintConfig, {"learning_rate": float("-inf")},
     "learning_rate=-inf: expected a finite number"),
    (config.InpaintConfig, {"seed": -1}, "seed=-1: expected >= 0"),
])
def test_non_finite_numbers_and_negative_seeds_are_refused(cls, kwargs,
                                                          message):
  with pytest.raises(InputError, match=message):
    cls(**kwargs)
