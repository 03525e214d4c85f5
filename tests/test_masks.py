import numpy as np
import pytest

from tf_inpaint import masks
from tf_inpaint.errors import InputError

# name -> expected missing fraction at 64x64 (None: depends on placement).
EXPECTED_MISSING = {
    "random80": 0.8, "center": 0.25, "square_small": 100 / 4096,
    "square": 400 / 4096, "square_large": 900 / 4096,
    "circle": None, "rects": None, "left": 0.5, "right": 0.5, "top": 0.5,
    "bottom": 0.5, "pattern": 0.25,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_MISSING))
def test_shape_dtype_values_fraction_and_determinism(name):
  made = masks.make_masks(name, 5, 64, seed=3)
  assert made.shape == (5, 64, 64, 1) and made.dtype == np.float32
  assert set(np.unique(made)) <= {0.0, 1.0}
  missing = 1 - made.mean(axis=(1, 2, 3))
  expected = EXPECTED_MISSING[name]
  if expected is None:
    assert np.all((missing > 0) & (missing < 0.2))
  else:
    np.testing.assert_allclose(missing, expected, atol=1e-3)
  np.testing.assert_array_equal(made, masks.make_masks(name, 5, 64, seed=3))


def test_center_is_the_central_half_side_block():
  mask = masks.make_masks("center", 1, 64)[0, ..., 0]
  assert mask[16:48, 16:48].max() == 0 and mask.sum() == 4096 - 32 * 32


def test_sizes_scale_with_the_image():
  for name, side in (("square", 20), ("center", 32)):
    for size in (32, 64, 128):
      missing = 1 - masks.make_masks(name, 1, size, seed=0)
      assert missing.sum() == round(side * size / 64)**2


def test_random_masks_differ_between_images_and_seeds():
  made = masks.make_masks("random80", 2, 32, seed=0)
  assert not np.array_equal(made[0], made[1])
  assert not np.array_equal(made, masks.make_masks("random80", 2, 32, seed=1))


def test_missing_fraction_option():
  made = masks.make_masks("random80", 1, 64, missing_fraction=0.5)
  assert 1 - made.mean() == pytest.approx(0.5, abs=1e-3)


def test_rects_are_ten_two_pixel_blocks():
  missing = 1 - masks.make_masks("rects", 20, 64, seed=0)
  assert np.all(missing.sum(axis=(1, 2, 3)) <= 40)
  assert np.all(missing.sum(axis=(1, 2, 3)) >= 4)


def test_file_mask_white_is_missing_and_resized_nearest(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  pixels = np.zeros((128, 128), np.uint8)
  pixels[:64, :] = 255  # top half white = missing
  Image.fromarray(pixels).save(tmp_path / "hole.png")
  made = masks.make_masks("file", 3, 64, mask_file=str(tmp_path / "hole.png"))
  assert made.shape == (3, 64, 64, 1)
  assert made[:, :32].max() == 0 and made[:, 32:].min() == 1


@pytest.mark.parametrize("setup, kwargs, message", [
    (None, {"name": "stripes"}, "mask='stripes': expected one of"),
    (None, {"name": "file"}, "needs --mask_file"),
    (None, {"name": "file", "mask_file": "/no/such.png"}, "no such file"),
    ("wide", {"name": "file"}, "expected a square mask"),
    ("garbage", {"name": "file"}, "not a readable image"),
    (None, {"name": "random80", "missing_fraction": 1.0},
     "missing_fraction=1.0"),
])
def test_bad_mask_input_is_named(tmp_path, setup, kwargs, message):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  if setup == "wide":
    Image.fromarray(np.zeros((32, 64), np.uint8)).save(tmp_path / "m.png")
    kwargs["mask_file"] = str(tmp_path / "m.png")
  if setup == "garbage":
    (tmp_path / "m.png").write_bytes(b"not an image")
    kwargs["mask_file"] = str(tmp_path / "m.png")
  with pytest.raises(InputError, match=message):
    masks.make_masks(count=1, size=64, **kwargs)


def test_a_mask_without_known_pixels_is_refused():
  made = np.ones((2, 8, 8, 1), np.float32)
  made[1] = 0
  with pytest.raises(InputError, match="image 1 has no known pixel"):
    masks.check_masks(made)
