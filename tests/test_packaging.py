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
from tf_inpaint import networks
assert os.path.realpath(tf_inpaint.__file__).startswith(
    os.path.realpath(sys.prefix)), tf_inpaint.__file__
for name, size in (("celeba64", 64), ("svhn32", 32)):
  model_config, _, generator, _ = networks.load_networks(name)
  images = generator(tf.random.uniform((3, model_config.z_dim), -1, 1)).numpy()
  assert images.shape == (3, size, size, 3), images.shape
  assert images.min() >= -1 and images.max() <= 1 and images.std() > 0.01
  assert len(os.listdir(networks.bundled_samples(name))) == 16
for family in ("center", "random"):
  model_config, _, encoder, _ = networks.load_networks(f"celeba64_ce_{family}")
  assert model_config.mask_family == family
  images = tf.random.uniform((2, 64, 64, 3), -1, 1)
  completed = encoder(images, tf.ones_like(images[..., :1])).numpy()
  assert completed.shape == (2, 64, 64, 3), completed.shape
  assert completed.min() >= -1 and completed.max() <= 1
print("ok")
"""


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory):
  root = tmp_path_factory.mktemp("install")
  subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                  "--no-build-isolation", "-q", "-w", str(root / "dist"),
                  REPO], check=True, capture_output=True)
  subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                  str(root / "venv")], check=True)
  python = str(root / "venv" / "bin" / "python")
  wheel = next((root / "dist").glob("tf_inpaint-*.whl"))
  subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q",
                  str(wheel)], check=True, capture_output=True)
  return python, root


def test_bundled_models_load_from_the_installed_package(installed_python):
  python, root = installed_python
  result = subprocess.run([python, "-c", _CHECK], cwd=root,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ""}, check=False)
  assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (
      result.stderr[-2000:])
