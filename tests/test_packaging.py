"""The bundled models and samples work from an installed wheel, not only here."""
import os
import subprocess
import sys

import pytest

from conftest import REPO

_CHECK = r"""
import os, sys
import numpy as np
import tensorflow as tf
import tf_inpaint
from tf_inpaint import models
assert os.path.realpath(tf_inpaint.__file__).startswith(
    os.path.realpath(sys.argv[1])), tf_inpaint.__file__
for name, size, samples in (("celeba64", 64, 16), ("svhn32", 32, 16),
                            ("dtd64", 64, 20), ("pets64", 64, 16)):
  model_config, _, generator, _ = models.load(name)
  images = generator(tf.random.uniform((3, model_config.z_dim), -1, 1)).numpy()
  assert images.shape == (3, size, size, 3), images.shape
  assert images.min() >= -1 and images.max() <= 1 and images.std() > 0.01
  assert len(os.listdir(models.bundled_samples(name))) == samples
for family in ("center", "random"):
  model_config, _, encoder, _ = models.load(f"celeba64_ce_{family}")
  assert model_config.mask_family == family
  images = tf.random.uniform((2, 64, 64, 3), -1, 1)
  completed = encoder(images, tf.ones_like(images[..., :1])).numpy()
  assert completed.shape == (2, 64, 64, 3), completed.shape
  assert completed.min() >= -1 and completed.max() <= 1
print("ok")
"""


@pytest.fixture(scope="module")
def installed_package(tmp_path_factory):
  """The package's wheel installed into a folder of its own.

  Installed with `--target` rather than into a nested venv: a venv made with
  `--system-site-packages` from inside a venv (or a conda env) sees the base
  interpreter's packages, not this environment's TensorFlow. The folder goes
  first on PYTHONPATH, ahead of any editable install of the repository.
  """
  root = tmp_path_factory.mktemp("install")
  subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                  "--no-build-isolation", "-q", "-w", str(root / "dist"),
                  REPO], check=True, capture_output=True)
  wheel = next((root / "dist").glob("tf_inpaint-*.whl"))
  target = root / "site"
  subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                  "--target", str(target), str(wheel)], check=True,
                 capture_output=True)
  return str(target), root


@pytest.mark.slow
def test_bundled_models_load_from_the_installed_package(installed_package):
  target, root = installed_package
  result = subprocess.run([sys.executable, "-c", _CHECK, target], cwd=root,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": target},
                          check=False)
  assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (
      result.stderr[-2000:])


def test_ci_runs_the_readme_test_command_in_a_fresh_virtualenv():
  with open(os.path.join(REPO, "README.md")) as f:
    readme = f.read()
  command = readme.split("Run the whole test suite", 1)[1].split("```\n")[1]
  with open(os.path.join(REPO, ".ci", "run")) as f:
    ci_lines = f.read().strip().splitlines()
  assert ci_lines[-1] == command.strip()
  assert any("-m venv" in line for line in ci_lines)


@pytest.mark.slow
def test_installed_commands_call_themselves_by_their_installed_names(
    installed_package):
  target, root = installed_package
  for script, bin_name in (("tf-inpaint", "inpaint"),
                           ("tf-inpaint-export", "export")):
    result = subprocess.run([os.path.join(target, "bin", script), "--help"],
                            cwd=root, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": target},
                            check=False)
    assert result.stdout.startswith(f"`{script}`"), result.stderr[-500:]
    assert f"  {script} --" in result.stdout
    assert f"bin/{bin_name} --" not in result.stdout
