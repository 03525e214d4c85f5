import numpy as np
import pytest

from tf_inpaint import baselines, masks, metrics


def _smooth_images(count=2, size=32):
  """Smooth colour gradients of rank 2 per channel: what any sensible fill
  should do well on. At 32x32, 80 % missing still leaves more known entries
  (205) than a rank-2 matrix has degrees of freedom (124)."""
  rows, columns = np.mgrid[0:size, 0:size] / (size - 1)
  images = [np.stack([np.sin(a * rows + b * columns) for a, b in
                      ((1.0, 0.5), (0.3, 1.2), (0.8, 0.8))], axis=-1) * 0.8
            for _ in range(count)]
  images[1] = -images[1]
  return np.stack(images).astype(np.float32)


METHODS = {
    "tv": lambda y, m: baselines.total_variation(y, m, iterations=300),
    "lowrank": baselines.low_rank,
    "biharmonic": baselines.biharmonic,
}


@pytest.mark.parametrize("name", sorted(METHODS))
@pytest.mark.parametrize("mask_name", ["center", "random80"])
def test_keeps_known_pixels_fills_hole_and_beats_a_constant_fill(name,
                                                                 mask_name):
  images = _smooth_images()
  mask = masks.make_masks(mask_name, 2, 32, seed=0)
  filled = METHODS[name](images * mask, mask)
  assert filled.shape == images.shape
  known = np.broadcast_to(mask > 0, images.shape)
  np.testing.assert_allclose(filled[known], images[known], atol=1e-6)
  constant = baselines._keep_known(images * mask, np.broadcast_to(
      baselines._known_mean(images * mask, mask), images.shape), mask)
  ours = metrics.image_metrics(images, filled, mask)["psnr_hole"]
  reference = metrics.image_metrics(images, constant, mask)["psnr_hole"]
  assert np.all(ours > reference + 3), (ours, reference)


def test_nearest_neighbour_finds_a_planted_near_duplicate():
  rng = np.random.default_rng(0)
  training = rng.uniform(-1, 1, (50, 16, 16, 3)).astype(np.float32)
  query = training[[17, 3]] + rng.normal(0, 0.01, (2, 16, 16, 3)).astype(
      np.float32)
  mask = masks.make_masks("center", 2, 16)
  filled = baselines.nearest_neighbour(query * mask, mask, training, chunk=7)
  hole = np.broadcast_to(mask == 0, filled.shape)
  np.testing.assert_array_equal(filled[0][hole[0]], training[17][hole[0]])
  np.testing.assert_array_equal(filled[1][hole[1]], training[3][hole[1]])
  known = ~hole
  np.testing.assert_array_equal(filled[known], (query * mask)[known])


def test_total_variation_reuses_one_trace_per_shape_and_repeats_exactly():
  """A new trace per call was kept for good: bin/evaluate's memory grew with
  every batch. Calls of one shape share one trace, and the reused Adam state
  is reset, so a call's result does not depend on the calls before it."""
  images = _smooth_images()
  center = masks.make_masks("center", 2, 32, seed=0)
  scattered = masks.make_masks("random80", 2, 32, seed=0)
  first = baselines.total_variation(images * center, center, iterations=20)
  baselines.total_variation(images * scattered, scattered, iterations=35,
                            learning_rate=0.1)
  again = baselines.total_variation(images * center, center, iterations=20)
  np.testing.assert_array_equal(again, first)
  *_, step = baselines._total_variation_solver(images.shape)
  assert step.experimental_get_tracing_count() == 1
  other_shape = baselines.total_variation(images[:1] * center[:1], center[:1],
                                          iterations=20)
  np.testing.assert_allclose(other_shape, first[:1], atol=1e-6)
