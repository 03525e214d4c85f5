"""Mask registry: name -> masks (N, S, S, 1) float32, 1 = known, 0 = missing.

Every mask is drawn from a `numpy.random.Generator`, so one seed gives the
same masks every time. Sizes are given at 64x64 and scale with the image.
"""
import os
import zlib

import numpy as np
from scipy import ndimage

from tf_inpaint.errors import InputError

DEFAULT_MISSING_FRACTION = 0.8
_SQUARE_SIDES_AT_64 = {"square_small": 10, "square": 20, "square_large": 30}
_RECT_COUNT, _RECT_SIDE_AT_64 = 10, 2
_PATTERN_MISSING_FRACTION = 0.25


def _scaled(side_at_64: int, size: int) -> int:
  return max(1, round(side_at_64 * size / 64))


def check_missing_fraction(missing_fraction: float) -> None:
  """Refuses a random80 fraction outside (0, 1), NaN included."""
  if not 0 < missing_fraction < 1:
    raise InputError(f"missing_fraction={missing_fraction}: expected a "
                     "fraction strictly between 0 and 1")


def _random_pixels(missing_fraction):
  """Exactly round(fraction * S^2) missing pixels per image, uniformly placed."""
  check_missing_fraction(missing_fraction)

  def draw(size, rng):
    mask = np.ones(size * size, np.float32)
    mask[rng.choice(size * size, round(missing_fraction * size * size),
                    replace=False)] = 0
    return mask.reshape(size, size)
  return draw


def _center(size, rng):
  del rng
  mask = np.ones((size, size), np.float32)
  start, side = size // 4, size // 2
  mask[start:start + side, start:start + side] = 0
  return mask


def _square(side_at_64):
  def draw(size, rng):
    side = _scaled(side_at_64, size)
    mask = np.ones((size, size), np.float32)
    top, left = rng.integers(0, size - side + 1, size=2)
    mask[top:top + side, left:left + side] = 0
    return mask
  return draw


def _circle(size, rng):
  radius = _scaled(_SQUARE_SIDES_AT_64["square"], size) / 2
  rows, columns = np.mgrid[0:size, 0:size] + 0.5
  center_row, center_column = rng.uniform(radius, size - radius, size=2)
  return np.where((rows - center_row)**2 + (columns - center_column)**2
                  <= radius**2, 0, 1).astype(np.float32)


def _rects(size, rng):
  side = _scaled(_RECT_SIDE_AT_64, size)
  mask = np.ones((size, size), np.float32)
  for top, left in rng.integers(0, size - side + 1, size=(_RECT_COUNT, 2)):
    mask[top:top + side, left:left + side] = 0
  return mask


def _half(side):
  def draw(size, rng):
    del rng
    mask = np.ones((size, size), np.float32)
    half = size // 2
    region = {"left": np.s_[:, :half], "right": np.s_[:, half:],
              "top": np.s_[:half, :], "bottom": np.s_[half:, :]}[side]
    mask[region] = 0
    return mask
  return draw


def _pattern(size, rng):
  """Random smooth blobs covering 25 %, like the Context Encoder's masks."""
  mask = np.ones((size, size), np.float32)
  missing = round(_PATTERN_MISSING_FRACTION * size * size)
  field = ndimage.gaussian_filter(rng.standard_normal((size, size)),
                                  sigma=size / 12, mode="wrap")
  mask.flat[np.argsort(field, axis=None)[-missing:]] = 0
  return mask


# One mask from (size, rng); image i's mask is the i-th draw of the stream.
# `random80` and `file` take an option each and are made in `make_masks`.
_DRAWS = {
    "center": _center,
    **{name: _square(side) for name, side in _SQUARE_SIDES_AT_64.items()},
    "circle": _circle,
    "rects": _rects,
    **{side: _half(side) for side in ("left", "right", "top", "bottom")},
    "pattern": _pattern,
}
MASK_NAMES = ("random80", *_DRAWS, "file")


def read_hole_file(path: str) -> np.ndarray:
  """A mask image at its own size -> bool HxW, True (white, >= 128) = missing.

  Raises:
    InputError: if the file is missing or unreadable.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from tf_inpaint import data  # pylint: disable=g-import-not-at-top
  if not os.path.isfile(path):
    raise InputError(f"mask_file={path}: no such file")
  try:
    # Its size must be the photo's, which open_photos has checked.
    with data.pillow_size_checks_off(), Image.open(path) as image:
      grey = np.asarray(image.convert("L"))
  except Exception as e:  # PIL raises many types for a bad file.
    raise InputError(f"mask_file={path}: not a readable image ({e})") from e
  return grey >= 128


def square_hole_as_mask(hole: np.ndarray, size: int, path: str) -> np.ndarray:
  """A square bool hole -> (S, S) {0,1}, 1 = known (resized nearest).

  Raises:
    InputError: naming `path` if the hole is not square.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  if hole.shape[0] != hole.shape[1]:
    raise InputError(f"mask_file={path}: {hole.shape[1]}x{hole.shape[0]}, "
                     "expected a square mask or one of the photo's size")
  known = Image.fromarray(np.where(hole, 0, 255).astype(np.uint8))
  known = known.resize((size, size), Image.Resampling.NEAREST)
  return (np.asarray(known) >= 128).astype(np.float32)


def load_mask_file(path: str, size: int) -> np.ndarray:
  """A square mask image -> (S, S) {0,1}, 1 = known (resized nearest).

  Raises:
    InputError: if the file is missing, unreadable or not square.
  """
  return square_hole_as_mask(read_hole_file(path), size, path)


def make_masks(name: str, count: int, size: int, seed: int = 0,
               missing_fraction: float = DEFAULT_MISSING_FRACTION,
               mask_file: str | None = None,
               first_index: int = 0) -> np.ndarray:
  """Makes the masks of images `first_index` to `first_index + count - 1`.

  Same arguments, same masks. The random stream is keyed by the seed and the
  mask's name, so a mask does not depend on which other masks are drawn
  beside it (bin/evaluate's `--masks` order) and `bin/inpaint` draws the same
  masks as `bin/evaluate`; image i's mask is the stream's i-th draw, so a
  run taken in parts (`first_index`) draws the masks of one run in full.

  Returns:
    float32 (count, size, size, 1), 1 = known pixel, 0 = missing.
  """
  if name not in MASK_NAMES:
    raise InputError(f"mask={name!r}: expected one of {', '.join(MASK_NAMES)}")
  if name == "file":
    if not mask_file:
      raise InputError("mask=file: needs --mask_file=PATH")
    return np.repeat(load_mask_file(mask_file, size)[None, ..., None], count,
                     axis=0)
  draw = (_random_pixels(missing_fraction) if name == "random80"
          else _DRAWS[name])
  rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
  for _ in range(first_index):  # the earlier images' draws, skipped
    draw(size, rng)
  masks = [draw(size, rng) for _ in range(count)]
  return np.reshape(masks, (count, size, size, 1))


def check_masks(masks: np.ndarray) -> None:
  """Refuses masks with no known pixel: there is no context to match."""
  known = masks.reshape(len(masks), -1).sum(axis=1)
  if np.any(known == 0):
    raise InputError(f"mask: image {int(np.argmin(known))} has no known pixel;"
                     " there is no context to inpaint from")
