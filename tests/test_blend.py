import numpy as np

from tf_inpaint import blend, masks


def _ramp(size=32, channels=3):
  return np.tile(np.linspace(-1, 1, size, dtype=np.float32)[None, :, None],
                 (size, 1, channels))


def test_poisson_reproduces_known_pixels_exactly():
  rng = np.random.default_rng(0)
  corrupted = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  generated = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  mask = masks.make_masks("random80", 2, 32, seed=0)
  out = blend.poisson_blend(corrupted, generated, mask)
  known = np.broadcast_to(mask > 0, out.shape)
  np.testing.assert_array_equal(out[known], corrupted[known])


def test_poisson_fills_a_hole_in_a_ramp_harmonically():
  """With a flat guide, the fill is harmonic: a linear ramp stays a ramp."""
  image = _ramp()
  mask = masks.make_masks("center", 1, 32)
  out = blend.poisson_blend(image[None] * mask, np.zeros((1, 32, 32, 3)),
                            mask)[0]
  np.testing.assert_allclose(out, image, atol=1e-5)


def test_poisson_carries_the_guides_gradients():
  """If the guide equals the image up to an offset, the blend restores it."""
  image = _ramp() * 0.5
  mask = masks.make_masks("center", 1, 32)
  out = blend.poisson_blend(image[None] * mask, image[None] + 0.3, mask)[0]
  np.testing.assert_allclose(out, image, atol=1e-5)


def test_overlay_is_eq5():
  corrupted, generated = np.full((1, 4, 4, 3), 0.5), np.full((1, 4, 4, 3), -0.5)
  mask = np.zeros((1, 4, 4, 1))
  mask[:, :2] = 1
  out = blend.blend(corrupted, generated, mask, "overlay")
  assert np.all(out[:, :2] == 0.5) and np.all(out[:, 2:] == -0.5)


def test_biharmonic_blend_keeps_known_pixels_and_restores_a_smooth_offset():
  """Guide = image + a quadratic: the residual is biharmonic (not harmonic),
  so this blend restores the image in the hole and Poisson cannot."""
  rng = np.random.default_rng(0)
  image = rng.uniform(-0.4, 0.4, (1, 32, 32, 3)).astype(np.float32)
  mask = masks.make_masks("center", 1, 32)
  guide = image + 0.3 * _ramp()[None]**2
  out = blend.blend(image * mask, guide, mask, "biharmonic")
  known = np.broadcast_to(mask > 0, out.shape)
  np.testing.assert_array_equal(out[known], image[known])
  np.testing.assert_allclose(out, image, atol=1e-5)
  assert out.dtype == np.float32
  poisson = blend.blend(image * mask, guide, mask, "poisson")
  assert np.abs(poisson - image).max() > 1e-2


def test_detail_weight_shrinks_g_towards_the_biharmonic_baseline():
  """a = 0 is the biharmonic baseline, a = 1 the blend, and between, in the
  hole, the linear mix of the two."""
  from tf_inpaint import baselines  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(1)
  image = rng.uniform(-0.5, 0.5, (2, 32, 32, 3))
  guide = rng.uniform(-0.5, 0.5, (2, 32, 32, 3))
  mask = masks.make_masks("random80", 2, 32)
  corrupted = image * mask
  baseline = baselines.biharmonic(corrupted, mask)
  full = blend.blend(corrupted, guide, mask, "biharmonic")
  np.testing.assert_array_equal(
      blend.blend(corrupted, guide, mask, "biharmonic", detail=1.0), full)
  np.testing.assert_allclose(
      blend.blend(corrupted, guide, mask, "biharmonic", detail=0.0), baseline,
      atol=1e-6)
  quarter = blend.blend(corrupted, guide, mask, "biharmonic", detail=0.25)
  np.testing.assert_allclose(quarter, baseline + 0.25 * (full - baseline),
                             atol=1e-6)
  known = np.broadcast_to(mask > 0, quarter.shape)
  np.testing.assert_array_equal(quarter[known], corrupted[known])
