"""Dataset registry: a dataset spec to a `tf.data` stream of images in [-1, 1].

Specs: a TFDS name (`svhn_cropped`, `celeb_a`, `dtd`, `oxford_iiit_pet`),
`folder:PATH` (jpg/png, recursive, sorted) or `mat:PATH` (SVHN's MATLAB layout,
`X` of shape 32x32x3xN). This is the only module that touches TFDS.

Records (file paths, encoded bytes or uint8 arrays) are shuffled and skipped
before decoding, so the training order is a function of the seed alone and a
resumed run skips cheaply to the exact batch it stopped at.
"""
import contextlib
import dataclasses
import os
import re
import socket
import sys
import urllib.parse
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tf_inpaint.config import MAX_PHOTO_MEGAPIXELS
from tf_inpaint.errors import InputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
_SHUFFLE_BUFFER = 10_000
_PROBE_SECONDS = 5
_READ_PART = 256  # images decoded at a time when iterating ModelImages
# The DCGAN face framing: the central 108x108 of CelebA's 178x218 aligned
# faces, as fractions so the half-resolution copy (89x109) frames the same.
CELEBA_CROP = (108 / 218, 108 / 178)


@dataclasses.dataclass(frozen=True)
class _Defaults:
  """A dataset's `auto` crop and augmentation."""
  crop: str
  augment: str


TFDS_DATASETS = {
    "svhn_cropped": _Defaults(crop="none", augment="none"),
    "celeb_a": _Defaults(crop="celeba", augment="flip"),
    "dtd": _Defaults(crop="square", augment="flip_rot90"),
    "oxford_iiit_pet": _Defaults(crop="square", augment="flip"),
}
_FOLDER_DEFAULTS = _Defaults(crop="square", augment="flip")
_MAT_DEFAULTS = _Defaults(crop="none", augment="digits")


def default_crop(spec: str) -> str:
  """The crop `auto` means for a dataset spec (a plain path is a folder)."""
  if spec.startswith("mat:"):
    return _MAT_DEFAULTS.crop
  return TFDS_DATASETS.get(spec, _FOLDER_DEFAULTS).crop


def training_crop(train_config) -> str:
  """The crop a model was trained with, so new images get the same framing."""
  if train_config is None:
    return "none"
  if train_config.crop != "auto":
    return train_config.crop
  return default_crop(train_config.dataset)


@dataclasses.dataclass(frozen=True)
class ImageSource:
  """A dataset's undecoded records and how to decode them.

  Attributes:
    spec: the spec it was opened from; for several sources, each with the
      range of images it gives (`A@1-8000+B@1-35668`), as runs record it.
    records: finite dataset in a fixed order; strings (paths or encoded
      images) or uint8 HxWxC arrays.
    decode: record -> uint8 HxWx3 image.
    num_examples: number of records.
    crop: default central crop for this dataset (see TrainConfig.crop); None
      where mixed sources disagree.
    augment: default augmentation for this dataset (see TrainConfig.augment);
      None where mixed sources disagree.
  """
  spec: str
  records: tf.data.Dataset
  decode: Callable[[tf.Tensor], tf.Tensor]
  num_examples: int
  crop: str
  augment: str


def _decode_bytes(encoded):
  return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def _decode_path(path):
  return _decode_bytes(tf.io.read_file(path))


# What tf.io.decode_image reads; PIL opens more (TIFF, WebP, ...).
_DECODABLE_FORMATS = ("JPEG", "PNG", "GIF", "BMP")


def _unreadable_reason(path: str) -> str | None:
  """Why an image file cannot be decoded in full, or None if it can."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  try:
    with Image.open(path) as image:
      if image.format not in _DECODABLE_FORMATS:
        return (f"a {image.format} file; expected one of "
                f"{', '.join(_DECODABLE_FORMATS)}")
      image.load()
  except Exception as e:  # PIL raises many types for a bad file.
    return str(e) or type(e).__name__
  return None


def list_image_files(folder: str, first_image: int = 1, num_images: int = 0,
                     per_subfolder: bool = False) -> list[str]:
  """The selected image files under `folder`, sorted, each decoded once.

  Files are numbered in sorted order (1-based `first_image`, `num_images`
  from there, 0 = all) before any is checked, so a damaged file does not
  shift the selection. With `per_subfolder` the numbering restarts in each
  folder that holds images (a class folder, as in DTD's layout), so every
  class gives the same share. A file that cannot be decoded in full is
  skipped with a warning naming it, before any training or inpainting
  starts: the images later stages see never change, which keeps resumed runs
  exact.

  Raises:
    InputError: if the folder holds no image file, the selection is empty,
      or none of the selected files can be decoded.
  """
  if not os.path.isdir(folder):
    raise InputError(f"folder:{folder}: no such directory")
  paths = sorted(
      os.path.join(root, name)
      for root, _, names in os.walk(folder)
      for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
  if not paths:
    raise InputError(f"folder:{folder}: no image files "
                     f"({', '.join(IMAGE_EXTENSIONS)}) found")
  groups = {}
  for path in paths:
    groups.setdefault(os.path.dirname(path) if per_subfolder else "",
                      []).append(path)
  selected = sorted(
      path for group in groups.values()
      for path in group[selection_slice(len(group), first_image, num_images)])
  if not selected:
    where = (f"the largest of its {len(groups)} image folders"
             if per_subfolder else f"folder:{folder}")
    raise InputError(f"first_image={first_image}, num_images={num_images}: "
                     f"selects no image; {where} has "
                     f"{max(map(len, groups.values()))}")
  readable, skipped = [], []
  for path in selected:
    reason = _unreadable_reason(path)
    if reason:
      logging.warning("Skipping unreadable image %s (%s)", path, reason)
      skipped.append(f"{os.path.relpath(path, folder)} ({reason})")
    else:
      readable.append(path)
  if not readable:
    raise InputError(f"folder:{folder}: none of the {len(selected)} image "
                     f"files can be decoded: {'; '.join(skipped[:3])}")
  if skipped:
    logging.warning("Skipped %d of %d images in %s", len(skipped),
                    len(selected), folder)
  return readable


def _open_folder(spec: str, folder: str, first_image: int, num_images: int,
                 per_subfolder: bool) -> ImageSource:
  paths = list_image_files(folder, first_image, num_images, per_subfolder)
  return ImageSource(spec, tf.data.Dataset.from_tensor_slices(paths),
                     _decode_path, len(paths), _FOLDER_DEFAULTS.crop,
                     _FOLDER_DEFAULTS.augment)


def _open_mat(spec: str, path: str) -> ImageSource:
  from scipy import io as scipy_io  # pylint: disable=g-import-not-at-top
  if not os.path.isfile(path):
    raise InputError(f"mat:{path}: no such file")
  try:
    contents = scipy_io.loadmat(path, variable_names=["X"])
  except Exception as e:  # scipy raises several types for a non-.mat file.
    raise InputError(f"mat:{path}: not a readable MATLAB file ({e})") from e
  images = contents.get("X")
  if images is None:
    raise InputError(f"mat:{path}: no variable 'X' (expected SVHN's layout, "
                     "X of shape 32x32x3xN)")
  if images.ndim != 4 or images.shape[2] != 3:
    raise InputError(f"mat:{path}: X has shape {images.shape}, expected "
                     "HxWx3xN")
  images = np.ascontiguousarray(np.transpose(images, (3, 0, 1, 2)))
  return ImageSource(spec, tf.data.Dataset.from_tensor_slices(
      _mat_pixels_as_uint8(images, path)), tf.identity, len(images),
                     _MAT_DEFAULTS.crop, _MAT_DEFAULTS.augment)


def _mat_pixels_as_uint8(images: np.ndarray, path: str) -> np.ndarray:
  """SVHN's uint8 X as it is; other types by their range, never wrapped.

  Floats in [0, 1] are scaled by 255, values in [0, 255] rounded; anything
  else (negative, above 255, not finite) is refused.
  """
  if images.dtype == np.uint8:
    return images
  low, high = float(np.min(images)), float(np.max(images))
  if not (np.isfinite(low) and np.isfinite(high)) or low < 0 or high > 255:
    raise InputError(f"mat:{path}: X holds values from {low} to {high}; "
                     "expected pixels in [0, 255] (or floats in [0, 1])")
  scale = 255.0 if np.issubdtype(images.dtype, np.floating) and high <= 1 else 1
  return np.round(images.astype(np.float64) * scale).astype(np.uint8)


def unreachable_download_host(builder) -> str | None:
  """The first download host of a TFDS dataset that does not answer, if any.

  Checked in seconds, before TFDS's downloader retries every file for
  minutes on a machine without internet.
  """
  urls = [urllib.parse.urlparse(url) for url in (builder.url_infos or {})]
  for host, port in sorted({(u.hostname, 443 if u.scheme == "https" else 80)
                            for u in urls}):
    try:
      socket.create_connection((host, port), timeout=_PROBE_SECONDS).close()
    except OSError:
      return host
  return None


def _open_tfds(name: str, split: str, data_dir: str | None) -> ImageSource:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = tfds.builder(name, data_dir=data_dir)
  if not builder.is_prepared():
    host = unreachable_download_host(builder)
    if host:
      raise InputError(
          f"dataset={name}: not prepared in {builder.data_dir}, and its "
          f"download host {host} cannot be reached (no internet?); use "
          "folder:PATH or mat:PATH with files you have (README, Training), "
          "or prepare it where there is internet and pass --data_dir")
  try:
    builder.download_and_prepare()
  except Exception as e:  # Network, checksum and quota errors vary widely.
    reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    raise InputError(
        f"dataset={name}: TFDS could not download or prepare it in "
        f"{builder.data_dir} ({type(e).__name__}: {reason}); prepare it where "
        "there is internet and pass --data_dir, or use folder:PATH / mat:PATH"
    ) from e
  records = builder.as_dataset(
      split=split, shuffle_files=False,
      decoders={"image": tfds.decode.SkipDecoding()})
  records = records.map(lambda example: example["image"])
  entry = TFDS_DATASETS[name]
  return ImageSource(name, records, _decode_bytes,
                     int(records.cardinality()), entry.crop, entry.augment)


# Several sources: `SPEC+SPEC`, each optionally `SPEC@FIRST-LAST` (1-based,
# inclusive; `@FIRST-` to the end).
SOURCE_SEPARATOR = "+"
_RANGE = re.compile(r"^(?P<spec>.+)@(?P<first>\d+)-(?P<last>\d*)$")
# The fixed seed of the order in which several sources' records are mixed.
_MIX_SEED = 0


@dataclasses.dataclass(frozen=True)
class SourceSelection:
  """One source of a dataset spec and the images taken from it."""
  spec: str
  first_image: int = 1
  num_images: int = 0  # 0 = to the end

  def __str__(self) -> str:
    last = self.first_image + self.num_images - 1 if self.num_images else ""
    return f"{self.spec}@{self.first_image}-{last}"


def parse_sources(spec: str, first_image: int = 1,
                  num_images: int = 0) -> list[SourceSelection]:
  """The sources of a dataset spec, each with its selection.

  A single source takes `first_image`/`num_images` (or its own `@FIRST-LAST`);
  several sources each give their own range, or take all their images.

  Raises:
    InputError: for an empty source, a bad range, a range given twice, a
      source listed twice, or global selection flags with several sources.
  """
  parts = spec.split(SOURCE_SEPARATOR)
  global_selection = (first_image, num_images) != (1, 0)
  if len(parts) > 1 and global_selection:
    raise InputError(
        f"first_image={first_image}, num_images={num_images}: with several "
        "sources give each its own range, SPEC@FIRST-LAST (dataset="
        f"{spec})")
  selections, seen = [], {}
  for part in parts:
    if not part:
      raise InputError(f"dataset={spec}: an empty source between "
                       f"'{SOURCE_SEPARATOR}'s")
    match = _RANGE.match(part)
    if match is None:
      selection = SourceSelection(part, first_image, num_images)
    else:
      first, last = int(match["first"]), match["last"]
      if first < 1 or (last and int(last) < first):
        raise InputError(f"dataset={part}: range {first}-{last} is empty or "
                         "not 1-based (expected @FIRST-LAST, FIRST >= 1)")
      if global_selection:
        raise InputError(f"first_image, num_images: dataset={part} gives its "
                         "own range; drop one of them")
      selection = SourceSelection(match["spec"], first,
                                  int(last) - first + 1 if last else 0)
    identity = local_path(selection.spec)
    identity = os.path.realpath(identity) if identity else selection.spec
    if identity in seen:
      raise InputError(f"dataset={spec}: {selection.spec} is listed twice "
                       f"(as {seen[identity]} and {part})")
    seen[identity] = part
    selections.append(selection)
  return selections


def dataset_name(spec: str) -> str:
  """A short name for a dataset spec (run directories): its sources' folder,
  file or TFDS names joined by '+'."""
  return SOURCE_SEPARATOR.join(
      os.path.basename(os.path.normpath(local_path(s.spec) or s.spec))
      for s in parse_sources(spec))


def is_dataset_spec(spec: str) -> bool:
  """Whether `spec` names a dataset rather than image files: a TFDS name, a
  .mat file, several sources or a source with a range."""
  return (spec.startswith("mat:") or spec in TFDS_DATASETS
          or SOURCE_SEPARATOR in spec or _RANGE.match(spec) is not None)


def open_source(spec: str, data_dir: str | None = None, split: str = "train",
                first_image: int = 1, num_images: int = 0,
                per_subfolder: bool = False) -> ImageSource:
  """Opens a dataset spec, selecting `num_images` from the 1-based `first_image`
  (in each image folder, with `per_subfolder`; folders only).

  A spec of several sources (`A+B`, see `parse_sources`) gives their records
  mixed in a fixed random order, each source in proportion to its size, so
  a shuffle buffer sees all of them from the first batch on.
  """
  check_selection(first_image, num_images)
  selections = parse_sources(spec, first_image, num_images)
  opened = [_open_one(s.spec, data_dir, split, s.first_image, s.num_images,
                      per_subfolder) for s in selections]
  if len(opened) == 1:
    return dataclasses.replace(opened[0], spec=spec)
  return _mixed(selections, opened)


def _mixed(selections, sources: list[ImageSource]) -> ImageSource:
  """One ImageSource of several, records tagged by source and interleaved."""
  kinds = {(s.records.element_spec.dtype, s.records.element_spec.shape)
           for s in sources}
  if len(kinds) > 1:
    raise InputError(
        f"dataset={SOURCE_SEPARATOR.join(map(str, selections))}: sources of "
        "different kinds cannot be mixed (mat: files hold pixel arrays of one "
        "size; folders and TFDS datasets hold encoded images)")
  tagged = [source.records.map(lambda record, i=i: {
      "source": tf.constant(i, tf.int32), "record": record})
            for i, source in enumerate(sources)]
  total = sum(source.num_examples for source in sources)
  records = tf.data.Dataset.sample_from_datasets(
      tagged, weights=[source.num_examples / total for source in sources],
      seed=_MIX_SEED, stop_on_empty_dataset=False)
  decoders = [source.decode for source in sources]

  def decode(record):
    if len(set(decoders)) == 1:
      return decoders[0](record["record"])
    return tf.switch_case(record["source"], [
        lambda d=d: d(record["record"]) for d in decoders])

  crops = {source.crop for source in sources}
  augments = {source.augment for source in sources}
  spec = SOURCE_SEPARATOR.join(
      str(dataclasses.replace(selection, num_images=source.num_examples))
      for selection, source in zip(selections, sources))
  return ImageSource(spec, records.apply(
      tf.data.experimental.assert_cardinality(total)), decode, total,
                     crops.pop() if len(crops) == 1 else None,
                     augments.pop() if len(augments) == 1 else None)


def _open_one(spec: str, data_dir: str | None, split: str, first_image: int,
              num_images: int, per_subfolder: bool) -> ImageSource:
  """One source of a dataset spec, with its selection."""
  if spec.startswith("folder:") or (
      spec not in TFDS_DATASETS and os.path.isdir(os.path.expanduser(spec))):
    return _open_folder(spec, local_path(spec), first_image, num_images,
                        per_subfolder)
  if per_subfolder:
    raise InputError(f"per_subfolder: {spec} is not a folder; only folders "
                     "have subfolders to select in")
  if spec.startswith("mat:"):
    source = _open_mat(spec, os.path.expanduser(spec[len("mat:"):]))
  elif spec in TFDS_DATASETS:
    source = _open_tfds(spec, split, data_dir and os.path.expanduser(data_dir))
  else:
    raise InputError(f"dataset={spec!r}: expected one of "
                     f"{', '.join(TFDS_DATASETS)}, folder:PATH or mat:PATH")
  return select(source, first_image, num_images)


def select(source: ImageSource, first_image: int, num_images: int):
  """Keeps `num_images` records from the 1-based `first_image` (0 = to the end)."""
  if first_image < 0 or num_images < 0:
    raise InputError(f"first_image={first_image}, num_images={num_images}: "
                     f"counting from the end works in image folders; "
                     f"{source.spec} is not one")
  available = source.num_examples - (first_image - 1)
  if available <= 0:
    raise InputError(f"first_image={first_image}: {source.spec} has only "
                     f"{source.num_examples} images")
  count = available if num_images == 0 else min(num_images, available)
  if (first_image, count) == (1, source.num_examples):
    return source
  records = source.records.skip(first_image - 1).take(count)
  return dataclasses.replace(source, records=records, num_examples=count)


def _central_crop(image, crop: str):
  if crop == "none":
    return image
  shape = tf.shape(image)
  height, width = shape[0], shape[1]
  if crop == "celeba":
    crop_h = tf.cast(tf.round(tf.cast(height, tf.float32) * CELEBA_CROP[0]),
                     tf.int32)
    crop_w = tf.cast(tf.round(tf.cast(width, tf.float32) * CELEBA_CROP[1]),
                     tf.int32)
  else:  # square
    crop_h = crop_w = tf.minimum(height, width)
  return tf.image.crop_to_bounding_box(image, (height - crop_h) // 2,
                                       (width - crop_w) // 2, crop_h, crop_w)


def to_model_range(image_uint8, image_size: int, crop: str):
  """uint8 HxWx3 -> float32 image_size^2x3 in [-1, 1] (crop, antialiased resize)."""
  image = _central_crop(image_uint8, crop)
  image = tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size),
                          antialias=True)
  return tf.clip_by_value(image / 127.5 - 1.0, -1.0, 1.0)


def _augment(image, augment: str, seed):
  """Stateless augmentation, so an image's augmentation depends on its index."""
  if augment == "flip":
    return tf.image.stateless_random_flip_left_right(image, seed)
  if augment == "flip_rot90":  # any of the square's 8 symmetries
    seeds = tf.random.experimental.stateless_split(seed, 2)
    image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    turns = tf.random.stateless_uniform([], seeds[1], maxval=4, dtype=tf.int32)
    return tf.image.rot90(image, turns)
  if augment == "digits":
    seeds = tf.random.experimental.stateless_split(seed, 5)
    size = tf.shape(image)[0]
    shift = 2  # pixels, either way
    padded = tf.pad(image, [[shift, shift], [shift, shift], [0, 0]],
                    mode="SYMMETRIC")
    image = tf.image.stateless_random_crop(padded, tf.stack([size, size, 3]),
                                           seeds[0])
    image = tf.image.stateless_random_brightness(image, 0.2, seeds[1])
    image = tf.image.stateless_random_contrast(image, 0.7, 1.3, seeds[2])
    image = tf.image.stateless_random_hue(image * 0.5 + 0.5, 0.08,
                                          seeds[3]) * 2.0 - 1.0
    invert = tf.random.stateless_uniform([], seeds[4]) < 0.5
    image = tf.where(invert, -image, image)
    return tf.clip_by_value(image, -1.0, 1.0)
  return image


def resolve(source: ImageSource, crop: str, augment: str) -> tuple[str, str]:
  """Replaces `auto` crop/augment with the dataset's own default.

  Raises:
    InputError: for `auto` where mixed sources have different defaults.
  """
  for name, value, default in (("crop", crop, source.crop),
                               ("augment", augment, source.augment)):
    if value == "auto" and default is None:
      raise InputError(f"{name}=auto: the sources of {source.spec} have "
                       f"different own {name}s; pass --{name}")
  return (source.crop if crop == "auto" else crop,
          source.augment if augment == "auto" else augment)


def resolve_auto(source: ImageSource, train_config):
  """The TrainConfig with its `auto` crop and augmentation made explicit."""
  crop, augment = resolve(source, train_config.crop, train_config.augment)
  return dataclasses.replace(train_config, crop=crop, augment=augment)


def images(source: ImageSource, image_size: int, crop: str = "auto"):
  """The source's images in order, unbatched, float32 in [-1, 1]; no augmentation."""
  crop, _ = resolve(source, crop, "none")
  return source.records.map(
      lambda record: to_model_range(source.decode(record), image_size, crop),
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def check_batch_size(source: ImageSource, batch_size: int) -> None:
  """Refuses a batch larger than the dataset (drop_remainder would yield none)."""
  if batch_size > source.num_examples:
    raise InputError(f"batch_size={batch_size}: larger than the dataset "
                     f"{source.spec} ({source.num_examples} images)")


def training_batches(source: ImageSource, image_size: int, batch_size: int,
                     seed: int, crop: str = "auto", augment: str = "auto",
                     start_step: int = 0) -> tf.data.Dataset:
  """An endless, seeded stream of batches, starting at batch `start_step`.

  Raises:
    InputError: if `batch_size` exceeds the number of images.
  """
  check_batch_size(source, batch_size)
  crop, augment = resolve(source, crop, augment)
  records = source.records.shuffle(
      min(source.num_examples, _SHUFFLE_BUFFER), seed=seed,
      reshuffle_each_iteration=True).repeat()
  records = records.enumerate().skip(start_step * batch_size)

  def prepare(index, record):
    image = to_model_range(source.decode(record), image_size, crop)
    element_seed = tf.random.experimental.stateless_fold_in(
        tf.constant([seed, 0], tf.int64), index)
    return _augment(image, augment, element_seed)

  dataset = records.map(prepare, num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
  # Files that pass the header check but fail to decode are dropped, logged.
  dataset = dataset.ignore_errors(log_warning=True)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(
      tf.data.AUTOTUNE)


def _to_rgb_uint8(image) -> np.ndarray:
  """A PIL image as uint8 HxWx3; 16-bit and float pixels scaled by their range."""
  if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
    pixels = np.asarray(image, np.float64)
    top = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else (
        1.0 if image.mode == "F" and pixels.max() <= 1.0 else 255.0)
    grey = np.clip(np.round(pixels / top * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)
  return np.asarray(image.convert("RGB"))


@contextlib.contextmanager
def pillow_size_checks_off():
  """Lets Pillow open a photo (or its hole file) of any size: `open_photos`
  checks each file's size against its own `max_megapixels`, with a message
  that says how to raise it; Pillow's fixed 89-megapixel warning and
  179-megapixel refusal would contradict it."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  saved = Image.MAX_IMAGE_PIXELS
  Image.MAX_IMAGE_PIXELS = None
  try:
    yield
  finally:
    Image.MAX_IMAGE_PIXELS = saved


def _read_image_file(path: str) -> np.ndarray:
  """uint8 HxWx3 from an image file; other modes converted, with a warning."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  if not os.path.isfile(path):
    raise InputError(f"images={path}: no such file")
  try:
    with pillow_size_checks_off(), Image.open(path) as image:
      if image.mode != "RGB":
        logging.warning("%s: converting %s to RGB", path, image.mode)
      return _to_rgb_uint8(image)
  except (OSError, ValueError, Image.DecompressionBombError) as e:
    raise InputError(f"images={path}: not a readable image ({e})") from e


def check_selection(first_image: int, num_images: int) -> None:
  """One rule for every command: `first_image` 1-based, or negative to count
  from the end; any `num_images` (see `selection_slice`)."""
  if first_image == 0:
    raise InputError("first_image=0: expected >= 1 (1-based), or < 0 to "
                     "count from the end (-3: the third-last)")


def selection_slice(count: int, first_image: int, num_images: int) -> slice:
  """Which of `count` images (in order) a selection keeps.

  `first_image` is 1-based, or counts from the end when negative (-3: the
  third-last); `num_images` is how many from there, 0 all to the end, and
  negative all but that many at the end. So `first_image=-3` keeps the last
  3 and `num_images=-3` all the others: a held-out tail per class folder
  with `per_subfolder`, whatever each class's size.
  """
  start = first_image - 1 if first_image > 0 else max(count + first_image, 0)
  if num_images > 0:
    stop = start + num_images
  else:
    stop = count + num_images
  return slice(start, max(stop, start))


def local_path(spec: str) -> str | None:
  """The file or folder a spec reads (`folder:`, `mat:` or a plain path)."""
  if spec in TFDS_DATASETS:
    return None
  for prefix in ("folder:", "mat:"):
    if spec.startswith(prefix):
      spec = spec[len(prefix):]
  return os.path.expanduser(spec)


def output_names(paths: list[str], folder: str) -> list[str]:
  """One output name per file: its path below `folder`, without extension.

  Raises:
    InputError: if two files differ only in their extension (a.jpg, a.png),
      which would write their results over each other.
  """
  names, seen = [], {}
  for path in paths:
    name = os.path.splitext(os.path.relpath(path, folder))[0].replace(
        os.sep, "/")
    if name in seen:
      raise InputError(f"images={folder}: {seen[name]} and {path} would both "
                       f"be written as {name}_*.png; rename one")
    seen[name] = path
    names.append(name)
  return names


def _reading_progress(total: int, spec: str):
  """update(done) for reading many files: Keras's bar on a terminal, a log
  line every tenth of the way in a log file."""
  on_terminal = sys.stdout.isatty()
  bar = keras.utils.Progbar(total, verbose=int(on_terminal), unit_name="image")
  every = max(1, total // 10)

  def update(done: int) -> None:
    bar.update(done)
    if not on_terminal and (done % every == 0 or done == total):
      logging.info("read %d/%d images of %s", done, total, spec)

  return update


@dataclasses.dataclass(frozen=True)
class PhotoSet:
  """The images a command inpaints, named, read in order a part at a time.

  Files keep their own size; dataset records come at the model's size. Only
  the names and sizes are held, so a command's memory does not grow with
  the number of images.
  """
  spec: str
  names: list  # see `output_names`; dataset records by number
  shapes: list  # (height, width) of each image
  records: tf.data.Dataset  # one record per image, in order
  to_uint8: Callable  # record -> uint8 HxWx3 tensor

  def __len__(self) -> int:
    return len(self.names)

  def part(self, start: int, stop: int) -> "PhotoSet":
    """Images [start, stop) only (a shard's share)."""
    return dataclasses.replace(self, names=self.names[start:stop],
                               shapes=self.shapes[start:stop],
                               records=self.records.skip(start).take(
                                   stop - start))

  def read(self, start: int = 0, stop: int | None = None):
    """uint8 HxWx3 arrays of images [start, stop), decoded ahead, in parallel."""
    stop = len(self) if stop is None else stop
    return self.records.skip(start).take(stop - start).map(
        self.to_uint8, num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True).prefetch(tf.data.AUTOTUNE).as_numpy_iterator()


def frame_photo(photo, image_size: int, crop: str) -> np.ndarray:
  """A photo in the model's frame; a square one is taken as framed already."""
  return to_model_range(photo, image_size, "none" if
                        photo.shape[0] == photo.shape[1] else crop).numpy()


class ModelImages:
  """A PhotoSet's images in the model's frame, float32 (S, S, 3) in [-1, 1],
  read when sliced: len(), [start:stop] and iteration, like an array."""

  def __init__(self, photo_set: PhotoSet, image_size: int, crop: str):
    self.photo_set, self.image_size, self.crop = photo_set, image_size, crop

  def __len__(self) -> int:
    return len(self.photo_set)

  def __getitem__(self, index: slice) -> np.ndarray:
    start, stop, _ = index.indices(len(self))
    return np.stack([frame_photo(photo, self.image_size, self.crop)
                     for photo in self.photo_set.read(start, stop)]).reshape(
                         -1, self.image_size, self.image_size, 3)

  def __iter__(self):
    for start in range(0, len(self), _READ_PART):
      yield from self[start:start + _READ_PART]


def _file_to_uint8(path):
  return tf.numpy_function(lambda p: _read_image_file(p.decode()), [path],
                           tf.uint8, stateful=False)


def _photo_path(spec: str) -> str | None:
  """The image file or folder a spec names, or None for a dataset spec."""
  path = local_path(spec) if not spec.startswith("mat:") else None
  return path if path and (os.path.isfile(path) or os.path.isdir(path)) else (
      None)


def _photo_files(spec: str, first_image: int, num_images: int,
                 per_subfolder: bool):
  """(paths, the folder names are relative to) of a file or folder spec, or
  None for any other spec."""
  path = _photo_path(spec)
  if path is None:
    return None
  if os.path.isdir(path):
    return list_image_files(path, first_image, num_images,
                            per_subfolder), path
  if per_subfolder:
    raise InputError(f"per_subfolder: {spec} is one image, not a folder")
  if first_image != 1:
    raise InputError(f"first_image={first_image}: {spec} is one image")
  return [path], os.path.dirname(path)


def _image_shape(path: str) -> tuple[int, int]:
  """(height, width) from the file's header, without decoding it."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  try:
    with pillow_size_checks_off(), Image.open(path) as image:
      return image.height, image.width
  except (OSError, ValueError, Image.DecompressionBombError) as e:
    raise InputError(f"images={path}: not a readable image ({e})") from e


def open_photos(spec: str, image_size: int, crop: str, first_image: int = 1,
                num_images: int = 0, per_subfolder: bool = False,
                min_side: int = 8,
                max_megapixels: float = MAX_PHOTO_MEGAPIXELS) -> PhotoSet:
  """The selected images of an image file, a folder or a dataset spec.

  Raises:
    InputError: for a missing or unreadable file, one smaller than
      `min_side` pixels or larger than `max_megapixels` (0: no limit; read
      from the file's header, before it is decoded), two files whose names
      would collide, or a spec that is none of these.
  """
  check_selection(first_image, num_images)
  files = _photo_files(spec, first_image, num_images, per_subfolder)
  if files is not None:
    paths, folder = files
    names = output_names(paths, folder)
    shapes = [_image_shape(path) for path in paths]
    for path, (height, width) in zip(paths, shapes):
      if min(height, width) < min_side:
        raise InputError(f"images={path}: {width}x{height} is too small, "
                         f"expected at least {min_side} px on each side")
      if max_megapixels and height * width > max_megapixels * 1e6:
        raise InputError(
            f"images={path}: {width}x{height} is {height * width / 1e6:.1f} "
            f"megapixels, more than max_megapixels={max_megapixels:g}; raise "
            "it (0: no limit) to inpaint it")
    return PhotoSet(spec, names, shapes,
                    tf.data.Dataset.from_tensor_slices(paths), _file_to_uint8)
  if is_dataset_spec(spec):
    source = open_source(spec, first_image=first_image, num_images=num_images,
                         per_subfolder=per_subfolder)
    crop, _ = resolve(source, crop, "none")
    to_uint8 = lambda record: tf.cast(tf.round((to_model_range(  # pylint: disable=g-long-lambda
        source.decode(record), image_size, crop) + 1.0) * 127.5), tf.uint8)
    return PhotoSet(spec, [f"{first_image + i:06d}"
                           for i in range(source.num_examples)],
                    [(image_size, image_size)] * source.num_examples,
                    source.records, to_uint8)
  raise InputError(f"images={spec}: no such file or folder, and not a "
                   "dataset spec (folder:PATH, mat:PATH or a TFDS name)")


def read_photos(spec: str, first_image: int = 1, num_images: int = 0,
                min_side: int = 8, progress: bool = False,
                per_subfolder: bool = False,
                max_megapixels: float = MAX_PHOTO_MEGAPIXELS):
  """Image files as they are, as (uint8 HxWx3 arrays, names), or None.

  `spec` is an image file or a folder (plain or `folder:`); None for any
  other spec (a dataset has no files to return). `progress` shows the
  reading (large search sets take minutes). Raises as `open_photos`.
  """
  if _photo_path(spec) is None:
    return None
  photo_set = open_photos(spec, 0, "none", first_image, num_images,
                          per_subfolder, min_side, max_megapixels)
  update = _reading_progress(len(photo_set), spec) if progress else None
  arrays = []
  for image in photo_set.read():
    arrays.append(image)
    if update:
      update(len(arrays))
  return arrays, photo_set.names


def read_images(spec: str, image_size: int, crop: str, first_image: int = 1,
                num_images: int = 0, min_side: int = 8,
                progress: bool = False, per_subfolder: bool = False):
  """Images to inpaint or evaluate, as (float32 (N, S, S, 3), names).

  `spec` is an image file, a folder (plain or `folder:`), or any dataset spec.
  Square files are taken as already framed (resized only); others get `crop`.
  Files are named as `read_photos` names them; dataset records by number.

  Raises:
    InputError: as `read_photos`, or for a spec that is none of these.
  """
  files = read_photos(spec, first_image, num_images, min_side, progress,
                      per_subfolder)
  if files is not None:
    arrays, names = files
    return np.stack([frame_photo(image, image_size, crop)
                     for image in arrays]), names
  if is_dataset_spec(spec):
    source = open_source(spec, first_image=first_image, num_images=num_images,
                         per_subfolder=per_subfolder)
    array = np.stack(list(images(source, image_size, crop).as_numpy_iterator()))
    return array, [f"{first_image + i:06d}" for i in range(len(array))]
  raise InputError(f"images={spec}: no such file or folder, and not a "
                   "dataset spec (folder:PATH, mat:PATH or a TFDS name)")
