"""A photo at its own size: checking it, framing it for the model, pasting back.

The model sees a square crop at its resolution (64x64 for celeba64), framed as
its training images were. A photo of any size is inpainted by (1) choosing
that frame in the photo (the training crop, or a square of the same size
around the hole when the hole lies outside it), (2) resizing the frame to the
model's resolution, with every model pixel that touches the hole counted as
missing, and, after the search, (3) resizing G(z) back to the frame and
blending it into the photo inside the hole only: every known pixel of the
photo is returned bit for bit.

Conventions are those of scikit-image and OpenCV: photos are HxWx3 uint8
(0-255) or float (0-1); holes are HxW, True (or non-zero) = missing.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from tf_inpaint import blend, data
from tf_inpaint.errors import InputError

FRAME_SOURCES = ("whole photo", "training crop", "around the hole")


@dataclasses.dataclass(frozen=True)
class Frame:
  """The part of a photo the model sees, in the photo's pixels."""
  top: int
  left: int
  height: int
  width: int
  source: str  # one of FRAME_SOURCES

  def slices(self) -> tuple[slice, slice]:
    return (slice(self.top, self.top + self.height),
            slice(self.left, self.left + self.width))


def check_photo(photo, name: str = "photo") -> np.ndarray:
  """The photo as an HxWx3 array, as given (never copied: a phone photo is
  large), after refusing anything else by name.

  Raises:
    InputError (a ValueError): for another shape, dtype or value range.
  """
  array = np.asarray(photo)
  if array.ndim != 3 or array.shape[-1] != 3:
    raise InputError(f"{name}: shape {array.shape}, expected HxWx3 (RGB)")
  if array.dtype == np.uint8:
    return array
  if not np.issubdtype(array.dtype, np.floating):
    raise InputError(f"{name}: dtype {array.dtype}, expected uint8 (0-255) "
                     "or float (0-1)")
  low, high = float(array.min()), float(array.max())
  if not (np.isfinite(low) and np.isfinite(high)):
    raise InputError(f"{name}: has NaN or infinite values")
  if low < 0.0 or high > 1.0:
    raise InputError(f"{name}: float values in [{low:g}, {high:g}], expected "
                     "[0, 1] (or uint8 0-255)")
  return array


def _in_model_range(pixels: np.ndarray) -> np.ndarray:
  """uint8 or [0, 1] float pixels as float32 in [-1, 1]."""
  if pixels.dtype == np.uint8:
    return pixels.astype(np.float32) / 127.5 - 1.0
  return pixels.astype(np.float32) * 2.0 - 1.0


def check_hole(hole, shape: tuple, name: str = "hole") -> np.ndarray:
  """The hole as bool HxW, True = missing (scikit-image's and OpenCV's way).

  Accepts bool, or numbers that are all 0/1 or all 0/255, shaped HxW or
  HxWx1 like the photo.

  Raises:
    InputError: for another shape or other values, or a hole with no
      missing pixel.
  """
  array = np.asarray(hole)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  if array.shape != tuple(shape[:2]):
    raise InputError(f"{name}: shape {np.asarray(hole).shape}, expected "
                     f"{shape[0]}x{shape[1]} like the photo")
  if array.dtype != bool:
    if not (np.issubdtype(array.dtype, np.integer)
            or np.issubdtype(array.dtype, np.floating)):
      raise InputError(f"{name}: dtype {array.dtype}, expected bool or numbers")
    values = np.unique(array)
    if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}):
      shown = ", ".join(f"{v:g}" for v in values[:5])
      raise InputError(f"{name}: values {shown}{', ...' if len(values) > 5 else ''};"
                       " expected True/1/255 = missing, False/0 = known")
    array = array != 0
  if not array.any():
    raise InputError(f"{name}: no missing pixel; nothing to inpaint")
  return array


def _training_box(height: int, width: int, crop: str) -> tuple[int, int]:
  """(height, width) of the central crop `crop`, as data.py frames images."""
  if crop == "celeba":
    return (int(round(height * data.CELEBA_CROP[0])),
            int(round(width * data.CELEBA_CROP[1])))
  if crop == "square":
    return (min(height, width),) * 2
  return height, width


def training_frame(height: int, width: int, crop: str) -> Frame:
  """The frame training images had: the central `crop` (data.py's framing);
  a square photo, or crop `none`, is taken as framed already."""
  if height == width or crop == "none":
    return Frame(0, 0, height, width, "whole photo")
  crop_h, crop_w = _training_box(height, width, crop)
  return Frame((height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w,
               "training crop")


def hole_bounds(hole: np.ndarray) -> tuple[int, int, int, int] | None:
  """(top, bottom, left, right) of a bool hole's bounding box, bottom and
  right exclusive; None for a hole with no missing pixel."""
  rows = np.flatnonzero(hole.any(axis=1))
  if not rows.size:
    return None
  cols = np.flatnonzero(hole.any(axis=0))
  return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def choose_frame(hole: np.ndarray, crop: str) -> Frame:
  """The model's frame in a photo, for a bool hole of the photo's size.

  The training frame when the hole lies inside it; otherwise a square of
  the training crop's size centred on the hole, moved to lie inside the
  photo.

  Raises:
    InputError: when the hole does not fit in any frame of that size.
  """
  height, width = hole.shape
  training = training_frame(height, width, crop)
  top, bottom, left, right = hole_bounds(hole)
  if (top >= training.top and left >= training.left
      and bottom <= training.top + training.height
      and right <= training.left + training.width):
    return training
  side = min(max(training.height, training.width), height, width)
  if bottom - top > side or right - left > side:
    raise InputError(
        f"hole: spans {right - left}x{bottom - top} px, more than the model's "
        f"frame of {side}x{side} px in this {width}x{height} photo; draw a "
        "smaller hole or crop the photo closer around it")
  frame_top = int(np.clip((top + bottom - side) // 2, 0, height - side))
  frame_left = int(np.clip((left + right - side) // 2, 0, width - side))
  return Frame(frame_top, frame_left, side, side, "around the hole")


# Rows of a frame made float at a time when it is resized for the model.
_STRIP_ROWS = 256


def _antialiased_resize(pixels: np.ndarray, size: int) -> np.ndarray:
  """`pixels` (H, W, 3; uint8 or 0-255 floats) resized to (size, size) as
  data.to_model_range resizes (tf.image.resize, antialiased): the same
  separable triangle filter, widths first, _STRIP_ROWS rows at a time, so a
  large frame is never held in float. Equal to one resize up to float
  rounding."""
  height, width = pixels.shape[:2]
  narrow = np.concatenate([
      tf.raw_ops.ScaleAndTranslate(
          images=tf.cast(pixels[None, top:top + _STRIP_ROWS], tf.float32),
          size=[min(_STRIP_ROWS, height - top), size], scale=[1.0, size / width],
          translation=[0.0, 0.0], kernel_type="triangle", antialias=True
      ).numpy()[0] for top in range(0, height, _STRIP_ROWS)])
  return tf.raw_ops.ScaleAndTranslate(
      images=narrow[None], size=[size, size], scale=[size / height, 1.0],
      translation=[0.0, 0.0], kernel_type="triangle",
      antialias=True).numpy()[0]


def _touched_cells(length: int, size: int) -> tuple[np.ndarray, np.ndarray]:
  """For each of `size` model cells along an axis of `length` photo pixels,
  [start, end) of the pixels that overlap it (in exact integers)."""
  cells = np.arange(size)
  return cells * length // size, -(-(cells + 1) * length // size)


def _missing_cells(hole: np.ndarray, size: int) -> np.ndarray:
  """(size, size) bool: the model pixels that any hole pixel overlaps, even
  in part, from an integral image of the hole's bounding box only."""
  height, width = hole.shape
  bounds = hole_bounds(hole)
  if bounds is None:
    return np.zeros((size, size), bool)
  top, bottom, left, right = bounds
  box = hole[top:bottom, left:right]
  integral = np.zeros((box.shape[0] + 1, box.shape[1] + 1), np.int32)
  integral[1:, 1:] = box.cumsum(0, dtype=np.int32).cumsum(1, dtype=np.int32)
  row_start, row_end = (np.clip(x - top, 0, box.shape[0])
                        for x in _touched_cells(height, size))
  col_start, col_end = (np.clip(x - left, 0, box.shape[1])
                        for x in _touched_cells(width, size))
  counts = (integral[np.ix_(row_end, col_end)]
            - integral[np.ix_(row_start, col_end)]
            - integral[np.ix_(row_end, col_start)]
            + integral[np.ix_(row_start, col_start)])
  return counts > 0


def model_view(photo, hole: np.ndarray, frame: Frame,
               size: int) -> tuple[np.ndarray, np.ndarray]:
  """(image (S, S, 3) in [-1, 1], mask (S, S, 1), 1 = known) of the frame.

  `photo` is uint8, or float in [0, 1]. The image is resized as training
  images were (data.to_model_range, to float rounding); a model pixel is
  known only if no hole pixel of the photo falls inside it, even in part.
  Memory stays small for any frame: neither the frame nor the hole is
  copied whole in float.
  """
  rows, cols = frame.slices()
  pixels = photo[rows, cols]
  if pixels.dtype != np.uint8:
    pixels = pixels * np.float32(255.0)  # float photos are float already
  image = np.clip(_antialiased_resize(pixels, size) / 127.5 - 1.0, -1.0, 1.0)
  known = ~_missing_cells(hole[rows, cols], size)
  return image, known[..., None].astype(np.float32)


def hole_from_model_mask(mask: np.ndarray, frame: Frame,
                         shape: tuple) -> np.ndarray:
  """A model-resolution mask (S, S, 1), 1 = known, as a bool hole of the
  photo's `shape` (nearest neighbour inside the frame, known elsewhere)."""
  missing = tf.image.resize(1.0 - mask, (frame.height, frame.width),
                            method="nearest").numpy()[..., 0] > 0.5
  hole = np.zeros(shape[:2], bool)
  hole[frame.slices()] = missing
  return hole


# Known pixels kept around the hole's bounding box for the blend: the Poisson
# stencil reaches 1 pixel, the biharmonic one 2, so the fill inside the hole
# is the same as over the whole frame.
BLEND_MARGIN = 4
# The most pixels a blend solves for at once. Sparse LU fill-in grows faster
# than the pixel count (a 0.58-megapixel hole took 1.3 GB for Poisson and
# 3.2 GB for the biharmonic blend), so larger holes are blended at a
# reduced resolution and resized back: the fill comes from a model of 64x64
# or so anyway; known pixels are never touched.
MAX_BLEND_PIXELS = 256 * 256


def _hole_box(bounds: tuple, frame: Frame, margin: int) -> Frame:
  """The hole's bounding box (`hole_bounds` inside the frame) plus `margin`
  pixels, clipped to `frame`, in the photo's pixels."""
  top, bottom, left, right = bounds
  top, left = max(top - margin, 0), max(left - margin, 0)
  bottom = min(bottom + margin, frame.height)
  right = min(right + margin, frame.width)
  return Frame(frame.top + top, frame.left + left, bottom - top, right - left,
               frame.source)


def _generated_window(generated: np.ndarray, frame: Frame, box: Frame,
                      size: tuple[int, int]) -> np.ndarray:
  """G(z) as resized (bicubic) to the whole frame, but only the part under
  `box`, at `size`: one scale-and-translate, so no frame-sized image is
  ever made."""
  model_size = generated.shape[0]
  scale = (size[0] / box.height, size[1] / box.width)
  window = tf.raw_ops.ScaleAndTranslate(
      images=tf.constant(generated[None], tf.float32), size=size,
      scale=[frame.height / model_size * scale[0],
             frame.width / model_size * scale[1]],
      translation=[-(box.top - frame.top) * scale[0],
                   -(box.left - frame.left) * scale[1]],
      kernel_type="keyscubic", antialias=False)
  return window.numpy()[0].clip(-1.0, 1.0)


def paste_back(photo, hole: np.ndarray, frame: Frame, generated: np.ndarray,
               method: str = "poisson", detail: float = 1.0) -> np.ndarray:
  """The photo with G(z) blended into its hole, same size and dtype.

  Only the hole's bounding box (and BLEND_MARGIN around it) is read and
  blended, in float32, at most MAX_BLEND_PIXELS at a time, so memory is
  bounded by the hole, not the photo: the photo itself is copied once, into
  the result.

  Args:
    photo: the photo as given (uint8, or float in [0, 1]); never modified.
    hole: bool HxW, True = missing, inside `frame`.
    frame: where the model looked.
    generated: G(z) at the model's resolution, (S, S, 3) in [-1, 1].
    method: a blend of blend.py.
    detail: the biharmonic blend's weight of G's detail.
  """
  frame_rows, frame_cols = frame.slices()
  bounds = hole_bounds(hole[frame_rows, frame_cols])
  top, bottom, left, right = bounds
  reduction = min(1.0, (MAX_BLEND_PIXELS / (
      (bottom - top + 2 * BLEND_MARGIN) * (right - left + 2 * BLEND_MARGIN))
                        ) ** 0.5)
  # The margin is BLEND_MARGIN pixels of the blend's resolution (+1 for the
  # reduced pixels that straddle the hole's edge).
  box = _hole_box(bounds, frame, BLEND_MARGIN if reduction == 1.0 else
                  int(np.ceil((BLEND_MARGIN + 1) / reduction)))
  rows, cols = box.slices()
  inside = hole[rows, cols]
  pixels = _in_model_range(np.asarray(photo)[rows, cols])
  known = (~inside).astype(np.float32)[..., None]
  size = (max(int(round(box.height * reduction)), 1),
          max(int(round(box.width * reduction)), 1))
  if size != (box.height, box.width):
    pixels = tf.image.resize(pixels, size, method="area").numpy()
    # A reduced pixel is known only if every photo pixel under it is.
    known = (tf.image.resize(known, size, method="area").numpy()
             >= 1.0).astype(np.float32)
  guide = _generated_window(generated, frame, box, size)
  filled = blend.blend((pixels * known)[None], guide[None], known[None],
                       method, detail)[0]
  if size != (box.height, box.width):
    filled = tf.image.resize(filled, (box.height, box.width),
                             method="bicubic").numpy()
  result = np.array(photo, copy=True)
  window = result[rows, cols]  # a view: writes land in `result`
  values = (filled[inside] + 1.0) / 2.0
  if result.dtype == np.uint8:
    window[inside] = np.clip(np.round(values * 255.0), 0, 255).astype(np.uint8)
  else:
    window[inside] = np.clip(values, 0.0, 1.0).astype(result.dtype)
  return result
