import numpy as np
import pytest

from tf_inpaint import masks, metrics


def test_identical_images_are_perfect_and_errors_only_in_the_hole_count():
  rng = np.random.default_rng(0)
  original = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  mask = masks.make_masks("center", 2, 32)
  perfect = metrics.image_metrics(original, original, mask)
  assert np.all(perfect["ssim"] > 0.999) and np.all(perfect["l1"] == 0)
  assert np.all(perfect["psnr"] == metrics.PSNR_CAP_DB)
  assert np.all(perfect["psnr_hole"] == metrics.PSNR_CAP_DB)
  damaged = original * mask  # zero in the hole
  result = metrics.image_metrics(original, damaged, mask)
  hole_mse = np.mean(original[:, 8:24, 8:24] ** 2, axis=(1, 2, 3))
  np.testing.assert_allclose(result["psnr_hole"],
                             10 * np.log10(4 / hole_mse), rtol=1e-4)
  # The whole-image MSE is the hole's diluted by the 3/4 known pixels.
  np.testing.assert_allclose(result["psnr"],
                             10 * np.log10(4 / (hole_mse / 4)), rtol=1e-4)
  assert np.all(result["ssim_hole"] < result["ssim"])


def test_psnr_of_a_known_offset():
  original = np.zeros((1, 16, 16, 3), np.float32)
  result = metrics.image_metrics(original, original + 0.2,
                                 np.zeros((1, 16, 16, 1), np.float32))
  assert result["psnr"][0] == pytest.approx(10 * np.log10(4 / 0.04), rel=1e-5)
  assert result["l1_hole"][0] == pytest.approx(0.2, rel=1e-5)
