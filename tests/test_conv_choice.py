"""Kernel choice: both forms measured, the faster kept and cached per machine,
a forced form used everywhere, and results equal to float rounding."""
import json

import numpy as np
import pytest
import tensorflow as tf

from tf_inpaint import config, conv_choice, inpaint, masks, models
from tf_inpaint.errors import InputError

TINY = config.ModelConfig(image_size=32, base_filters=4, z_dim=8)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
  monkeypatch.setenv("TF_INPAINT_CACHE_DIR", str(tmp_path / "cache"))
  return tmp_path / "cache"


def test_auto_measures_once_caches_and_reuses(cache_dir, monkeypatch):
  generator, discriminator = models.build(TINY)
  chosen = conv_choice.choose([generator, discriminator], 4,
                              train_kernels=True)
  layers = conv_choice.strided_layers(generator, discriminator)
  assert len(layers) == len(chosen) == 3 + 3  # G up to 32x32, D down
  assert set(chosen.values()) <= {"phase", "native"}
  cache = json.loads((cache_dir / "conv_choice.json").read_text())
  assert len(cache) == len(layers)
  key = next(iter(cache))
  assert "StridedConv" in key and "batch4" in key and "train" in key
  assert tf.__version__ in key
  # A second choice reads the cache: nothing is measured again ...
  monkeypatch.setattr(conv_choice, "measure", lambda *a: pytest.fail(
      "measured a layer that the cache holds"))
  assert conv_choice.choose([generator, discriminator], 4,
                            train_kernels=True) == chosen
  # ... and the cached choice is what the layers use, even a faked one.
  forced = {k: "phase" for k in cache}
  (cache_dir / "conv_choice.json").write_text(json.dumps(forced))
  chosen = conv_choice.choose([generator, discriminator], 4,
                              train_kernels=True)
  assert set(chosen.values()) == {"phase"}


def test_measure_times_both_forms_and_keeps_the_layer_as_it_was():
  generator, _ = models.build(TINY)
  layer = generator.upsample[0]
  layer.conv_impl = "native"
  seconds = conv_choice.measure(layer, 2, train_kernels=False)
  assert set(seconds) == {"phase", "native"}
  assert all(value > 0 for value in seconds.values())
  assert layer.conv_impl == "native"


def test_a_damaged_cache_is_measured_again(cache_dir):
  cache_dir.mkdir()
  (cache_dir / "conv_choice.json").write_text("{not json")
  generator, _ = models.build(TINY)
  conv_choice.choose([generator], 2, train_kernels=False)
  assert len(json.loads((cache_dir / "conv_choice.json").read_text())) == 3


def test_forced_forms_give_equal_results_and_bad_ones_are_refused(
    varied_model, cache_dir):
  _, _, generator, discriminator = models.load(varied_model)
  images = generator(tf.random.stateless_uniform([3, 8], [1, 2], -1, 1)).numpy()
  hole_masks = masks.make_masks("center", 3, 32, seed=0)
  results = {}
  for form in ("phase", "native"):
    inpainter = inpaint.Inpainter(generator, discriminator,
                                  config.InpaintConfig(iterations=10,
                                                       conv_impl=form))
    results[form] = inpainter.inpaint(images, hole_masks)
    assert {layer.conv_impl for layer in conv_choice.strided_layers(
        inpainter.generator, inpainter.discriminator)} == {form}
  np.testing.assert_allclose(results["phase"].generated,
                             results["native"].generated, atol=1e-4)
  assert not cache_dir.exists()  # nothing measured when forced
  with pytest.raises(InputError, match="conv_impl='fast': expected one of"):
    conv_choice.choose([generator], 2, False, conv_impl="fast")
  with pytest.raises(InputError, match="conv_impl='fast'"):
    config.InpaintConfig(conv_impl="fast")

