"""Test setup: two logical CPUs for strategy tests, quiet TF, shared helpers."""
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The kernel choices measured by tests (conv_choice.py) go to a cache of the
# test session's own, shared by its commands, never the user's.
os.environ["TF_INPAINT_CACHE_DIR"] = tempfile.mkdtemp(
    prefix="tf_inpaint_test_cache_")

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

# Must run before TensorFlow initialises its devices.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(REPO, os.pardir, "shared", "data")
CELEBA_DIR = os.path.join(SHARED_DATA, "celeba", "img_align_celeba_half")


def write_images(folder, count, size=(40, 52), seed=0, ext="png"):
  """Writes `count` random RGB images; returns their sorted paths."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  os.makedirs(folder, exist_ok=True)
  paths = []
  for i in range(count):
    path = os.path.join(folder, f"{i:03d}.{ext}")
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    paths.append(path)
  return paths


def snapshot(folder):
  """Every file below `folder` and its bytes, to show nothing was touched."""
  return {os.path.relpath(os.path.join(root, name), folder):
          open(os.path.join(root, name), "rb").read()
          for root, _, names in os.walk(folder) for name in names}


@pytest.fixture
def image_folder(tmp_path):
  folder = tmp_path / "images"
  write_images(str(folder), 12)
  return str(folder)


def fixed_networks(image_size=32, z_dim=8, seed=0):
  """A tiny G and D with He-scaled random kernels, so G(z) varies with z.

  DCGAN's N(0, 0.02) initialisation makes an untrained G nearly constant,
  which would make any inversion test vacuous.
  """
  import keras  # pylint: disable=g-import-not-at-top
  from tf_inpaint import config, models  # pylint: disable=g-import-not-at-top
  keras.utils.set_random_seed(seed)
  model_config = config.ModelConfig(image_size=image_size, base_filters=8,
                                    z_dim=z_dim)
  generator, discriminator = models.build(model_config)
  for weight in generator.trainable_weights + discriminator.trainable_weights:
    if len(weight.shape) >= 2:
      fan_in = np.prod(weight.shape[:-1]) if len(weight.shape) == 2 else (
          np.prod(weight.shape[:2]) * weight.shape[-1])
      weight.assign(tf.random.normal(weight.shape,
                                     stddev=np.sqrt(2.0 / fan_in)))
  return model_config, generator, discriminator


@pytest.fixture(scope="session")
def varied_model(tmp_path_factory):
  """An exported tiny DCGAN whose G(z) varies with z (`fixed_networks`), so
  a run taken in parts that gave an image another start would show it."""
  from tf_inpaint import config, models  # pylint: disable=g-import-not-at-top
  folder = tmp_path_factory.mktemp("varied_model")
  model_config, generator, discriminator = fixed_networks()
  config.save_run_config(str(folder), model_config, None)
  models.export_weights(generator, discriminator,
                        str(folder / models.WEIGHTS_FILENAME))
  return str(folder)


TINY_MODEL = dict(image_size=32, base_filters=4, z_dim=8)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
  """One tiny DCGAN run (1 step on 8 images), trained once per test session.

  Returns (root, run_dir): `root/train` holds its 8 training images and
  `root/test` 4 other images to inpaint or evaluate. Tests must not write
  into it; copy it first.
  """
  from tf_inpaint import config, train  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp("tiny_run")
  write_images(str(root / "train"), 8, seed=3)
  write_images(str(root / "test"), 4, seed=4)
  run_dir = str(root / "run")
  train.Trainer(config.ModelConfig(**TINY_MODEL),
                config.TrainConfig(dataset=f"folder:{root / 'train'}",
                                   batch_size=4, steps=1),
                run_dir, str(root / "logs")).train()
  return root, run_dir
