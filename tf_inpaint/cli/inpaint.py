"""`bin/inpaint`: fill the holes of images with a trained DCGAN.

  bin/inpaint --mask=random80        # bundled CelebA model and sample faces
  bin/inpaint --model=svhn32         # bundled SVHN model and sample digits
  bin/inpaint --model=dtd64 --mask=circle   # bundled texture model and samples
  bin/inpaint --model=runs/celeba64 --images=photos/ --mask=center --outdir=out/
  bin/inpaint --model=runs/celeba64 --images=face.png --mask=file --mask_file=hole.png

Writes to --outdir, per image, <name>_inpainted.png (the photo at its own size,
its hole filled, known pixels untouched) and <name>_mask.png (its hole, white);
at the model's resolution <name>_corrupted.png, _generated.png (G(z)),
_overlay.png and _blended.png; grid.png (original, corrupted, inpainted, one row
per image); metrics.json when the originals are known (every mask but `file`);
and TensorBoard panels to --logdir.

Images are read and inpainted a --batch_size at a time into <outdir>.partial,
renamed to --outdir when all are done; the same command continues a stopped
run. --num_shards/--shard_index (or TF_CONFIG) split the images over
processes, and --merge joins their outputs:

  bin/inpaint --images=faces --num_shards=2 --shard_index=0 --outdir=part0
  bin/inpaint --images=faces --num_shards=2 --shard_index=1 --outdir=part1
  bin/inpaint --merge=part0,part1 --outdir=out
"""
import dataclasses
import json
import os
import time

import numpy as np
from absl import flags

from tf_inpaint import config, errors, masks, timing
from tf_inpaint.cli import config_flags, run_main

FLAGS = flags.FLAGS
_GRID_ROWS = 16


def define_flags() -> None:
  """Defines the flags; in a function so importing this module defines none."""
  flags.DEFINE_string("model", "celeba64", "Bundled model (celeba64, svhn32, dtd64) "
                      "or a run directory written by bin/train.")
  flags.DEFINE_string("images", None, "Image file, folder, or dataset spec "
                      "(folder:PATH, mat:PATH, TFDS name); default: the "
                      "bundled model's sample images.")
  config_flags.define_selection_flags()
  flags.DEFINE_enum("crop", "auto", config.CROPS, "Central crop of non-square "
                    "images; auto uses the model's training crop. Square "
                    "images are only resized.")
  flags.DEFINE_enum("mask", "center", masks.MASK_NAMES, "Mask to apply.")
  flags.DEFINE_string("mask_file", None, "Your own mask (implies --mask=file):"
                      " a square PNG/JPG; white (>= 128) = missing, black = "
                      "known.")
  flags.DEFINE_float("missing_fraction", masks.DEFAULT_MISSING_FRACTION,
                     "Missing fraction for --mask=random80.")
  flags.DEFINE_string("outdir", "inpainted", "Output directory.")
  flags.DEFINE_bool("overwrite", False, "Replace an --outdir holding results.")
  flags.DEFINE_string("logdir", None, "TensorBoard directory; default "
                      "tensorboard_logs/inpaint_<outdir name>.")
  flags.DEFINE_enum("init", "auto", ["auto", "encoder", "random"],
                    "Start of the z search: `encoder` (a learned start, "
                    "E(image, mask); with --restarts the others are random), "
                    "`random`, or `auto`: the encoder when the model has one.")
  flags.DEFINE_string("encoder", None, "Encoder for --init: a bundled name or "
                      "a run directory of bin/train --architecture=encoder; "
                      "default: the bundled model's own.")
  config_flags.define_inpaint_flags()
  flags.DEFINE_bool("no_perceptual", False, "Drop the perceptual loss (lam=0; "
                    "the paper's Fig. 2 ablation).")
  config_flags.define_shard_flags()


def _with_defaults(
    inpaint_config: config.InpaintConfig) -> config.InpaintConfig:
  """The flags' search options with the model's and mask's defaults for the
  options not given (`inpaint.default_options`)."""
  from tf_inpaint import inpaint  # pylint: disable=g-import-not-at-top
  inpaint_config = dataclasses.replace(inpaint_config, **{
      name: value for name, value in
      inpaint.default_options(FLAGS.model, FLAGS.mask).items()
      if not FLAGS[name].present})
  if FLAGS.no_perceptual:
    inpaint_config = dataclasses.replace(inpaint_config, lam=0.0)
  return inpaint_config


def _read_inputs(images_spec: str) -> list[tuple[str, str]]:
  """(flag, path) of everything this run reads, which --outdir must not touch."""
  from tf_inpaint import data, models  # pylint: disable=g-import-not-at-top
  inputs = [("model", models.resolve(FLAGS.model))]
  if FLAGS.encoder:
    inputs.append(("encoder", models.resolve(FLAGS.encoder)))
  images_path = data.local_path(images_spec)
  if images_path:
    inputs.append(("images", images_path))
  if FLAGS.mask_file:
    inputs.append(("mask_file", FLAGS.mask_file))
  return inputs


@dataclasses.dataclass
class _FramedPhotos:
  """The photos as read, their holes and frames, and the model's view."""
  names: list
  photos: list  # uint8 HxWx3, as read
  holes: list  # bool HxW at each photo's size, True = missing
  frames: list  # photos.Frame
  images: np.ndarray  # (N, S, S, 3) in [-1, 1]
  masks: np.ndarray  # (N, S, S, 1), 1 = known


def _check_mask_file_fits(hole_file, photo_set) -> None:
  """Refuses, before any work, a mask of neither a photo's size nor square."""
  if hole_file is None or hole_file.shape[0] == hole_file.shape[1]:
    return
  for name, shape in zip(photo_set.names, photo_set.shapes):
    if hole_file.shape != shape:
      raise errors.InputError(
          f"mask_file={FLAGS.mask_file}: {hole_file.shape[1]}x"
          f"{hole_file.shape[0]}, expected a square mask or the size of "
          f"the photo {name} ({shape[1]}x{shape[0]})")


def _frame_photos(names, arrays, model_masks, hole_file, size: int,
                  crop: str) -> _FramedPhotos:
  """Frames photos for the model.

  Files keep their own size: a --mask_file of a photo's size frames that
  photo around its hole (photos.choose_frame); every other mask
  (`model_masks`, or a square --mask_file) is drawn at the model's
  resolution in the training frame, as bin/evaluate draws it.
  """
  from tf_inpaint import photos  # pylint: disable=g-import-not-at-top
  holes, frames, views = [], [], []
  for i, (name, photo) in enumerate(zip(names, arrays)):
    if (hole_file is not None and hole_file.shape == photo.shape[:2]
        and hole_file.any()):
      hole = photos.check_hole(hole_file, photo.shape,
                               f"mask_file={FLAGS.mask_file}")
      frame = photos.choose_frame(hole, crop)
      views.append(photos.model_view(photo, hole, frame, size))
      if frame.source == "around the hole":
        print(f"{name}: the hole lies outside the model's training crop; "
              f"inpainting the {frame.width}x{frame.height} square around it",
              flush=True)
    else:
      frame = photos.training_frame(*photo.shape[:2], crop)
      if hole_file is None:
        mask = model_masks[i]
      elif hole_file.shape == photo.shape[:2]:  # the photo's size, no hole
        mask = np.ones((size, size, 1), np.float32)
      else:
        mask = masks.square_hole_as_mask(hole_file, size,
                                         FLAGS.mask_file)[..., None]
      image, _ = photos.model_view(photo, np.zeros(photo.shape[:2], bool),
                                   frame, size)
      views.append((image, mask))
      hole = photos.hole_from_model_mask(mask, frame, photo.shape)
    holes.append(hole)
    frames.append(frame)
  return _FramedPhotos(list(names), list(arrays), holes, frames,
                       np.stack([v[0] for v in views]),
                       np.stack([v[1] for v in views]).astype(np.float32))


def _save_full_size(directory, name, photo, hole, frame, generated,
                    inpaint_config) -> None:
  """<name>_inpainted.png (the photo, its hole filled) and <name>_mask.png
  (white = missing, as --mask_file reads it), both at the photo's size."""
  from tf_inpaint import outputs, photos  # pylint: disable=g-import-not-at-top
  outputs.save_uint8_png(
      os.path.join(directory, f"{name}_inpainted.png"),
      photos.paste_back(photo, hole, frame, generated, inpaint_config.blend,
                        inpaint_config.blend_detail)
      if hole.any() else photo)
  outputs.save_uint8_png(os.path.join(directory, f"{name}_mask.png"),
                         np.where(hole, 255, 0).astype(np.uint8))


def _settings(images_spec, crop, inpaint_config, encoder_name, shard) -> dict:
  """Everything the results depend on: a stopped run is continued only by a
  run with the same settings (batch size, panels and kernels do not change
  them)."""
  from tf_inpaint import models  # pylint: disable=g-import-not-at-top
  search = dataclasses.asdict(inpaint_config)
  for name in ("batch_size", "image_every", "conv_impl"):
    del search[name]
  return {"model": models.identity(FLAGS.model),
          "images": images_spec, "first_image": FLAGS.first_image,
          "num_images": FLAGS.num_images,
          "per_subfolder": FLAGS.per_subfolder, "crop": crop,
          "mask": FLAGS.mask, "missing_fraction": FLAGS.missing_fraction,
          "mask_file": FLAGS.mask_file and os.path.realpath(FLAGS.mask_file),
          "encoder": encoder_name, "inpaint_config": search,
          "shard": list(shard)}


def _inpaint_part(inpainter, framed, first_index, writer, originals_known,
                  directory, stopwatch) -> list:
  """Inpaints one part, writes its files, returns its per-image records."""
  from tf_inpaint import metrics, outputs  # pylint: disable=g-import-not-at-top
  images, mask_array = framed.images, framed.masks
  result = inpainter.inpaint(images, mask_array, writer=writer,
                             originals=images if originals_known else None,
                             first_index=first_index)
  with stopwatch.phase("writing"):
    for i, name in enumerate(framed.names):
      for kind in ("corrupted", "generated", "overlay", "blended"):
        outputs.save_png(os.path.join(directory, f"{name}_{kind}.png"),
                         getattr(result, kind)[i])
      _save_full_size(directory, name, framed.photos[i], framed.holes[i],
                      framed.frames[i], result.generated[i], inpainter.config)
  if not originals_known:
    return [{"name": name} for name in framed.names]
  per_image = metrics.image_metrics(images, result.blended, mask_array)
  return [dict(name=name, **{k: float(v[i]) for k, v in per_image.items()})
          for i, name in enumerate(framed.names)]


def _grid(directory, framed, originals_known) -> None:
  """grid.png: (original,) corrupted, inpainted, for the first images, from
  the files written (so a continued run draws the same grid)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from tf_inpaint import summaries  # pylint: disable=g-import-not-at-top

  def read(name, kind):
    with Image.open(os.path.join(directory, f"{name}_{kind}.png")) as image:
      return np.asarray(image.convert("RGB"), np.float32) / 127.5 - 1.0

  columns = [[read(name, "corrupted") for name in framed.names],
             [read(name, "blended") for name in framed.names]]
  titles = ["corrupted", "inpainted"]
  if originals_known:
    columns.insert(0, list(framed.images))
    titles.insert(0, "original")
  summaries.figure_grid([list(row) for row in zip(*columns)], titles,
                        os.path.join(directory, "grid.png"))


def _join_parts(staging: str, ordered: list) -> None:
  """--merge: every part's files, the first part's grid, and one
  metrics.json listing every image in order with the mean over all."""
  from tf_inpaint import metrics, outputs, shards  # pylint: disable=g-import-not-at-top
  shards.copy_files(staging, ordered, skip=("metrics.json",))
  reports = []
  for _, part in ordered:
    path = os.path.join(part, "metrics.json")
    if os.path.isfile(path):
      with open(path) as f:
        reports.append(json.load(f))
  if reports and len(reports) == len(ordered):
    records = [record for report in reports for record in report["per_image"]]
    outputs.save_json(os.path.join(staging, "metrics.json"), {
        **reports[0], "per_image": records,
        "mean": metrics.mean_of_records(records)})


def main() -> None:
  # Bad values are refused in a second, before TensorFlow starts.
  searched = None if FLAGS.merge else config_flags.config_from_flags(
      config.InpaintConfig)
  if FLAGS.mask == "random80" and not FLAGS.merge:
    masks.check_missing_fraction(FLAGS.missing_fraction)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_inpaint import data, inpaint, metrics, models, outputs, precision, shards  # pylint: disable=g-import-not-at-top
  if FLAGS.merge:
    shards.merge_parts(FLAGS.merge, FLAGS.outdir, FLAGS.overwrite, "inpaint",
                       _join_parts, defaults=config_flags.settings_defaults())
    print(f"Merged {len(FLAGS.merge)} parts into {FLAGS.outdir}", flush=True)
    return
  inpaint_config = precision.resolved(_with_defaults(searched))
  if FLAGS.mask_file and FLAGS.mask != "file":
    if FLAGS["mask"].present:
      raise errors.InputError(f"mask_file={FLAGS.mask_file}: read only with "
                              f"--mask=file, not --mask={FLAGS.mask}")
    FLAGS.mask = "file"  # --mask_file alone means the user's own mask
  if FLAGS.mask == "file" and not FLAGS.mask_file:
    raise errors.InputError("mask=file: needs --mask_file=PATH")
  shard = shards.shard_of_process(FLAGS.num_shards, FLAGS.shard_index)
  models.check_exists(FLAGS.model)
  images_spec = FLAGS.images or models.bundled_samples(FLAGS.model)
  if images_spec is None:
    raise errors.InputError("images: required with --model=PATH (only the "
                            "bundled models have sample images)")
  inputs = _read_inputs(images_spec)
  outputs.check_writable(FLAGS.outdir, FLAGS.overwrite, inputs)
  logdir = FLAGS.logdir or os.path.join(
      "tensorboard_logs",
      "inpaint_" + os.path.basename(os.path.normpath(FLAGS.outdir)))
  outputs.check_directory_flag("logdir", logdir)
  model_config, train_config, generator, discriminator = (
      models.load(FLAGS.model, "dcgan"))
  encoder_name, encoder = models.start_encoder(
      FLAGS.init, FLAGS.encoder, FLAGS.model, generator)
  crop = data.training_crop(train_config) if FLAGS.crop == "auto" else (
      FLAGS.crop)
  size = model_config.image_size
  photo_set = data.open_photos(images_spec, size, crop, FLAGS.first_image,
                               FLAGS.num_images, FLAGS.per_subfolder,
                               min_side=size // 4,
                               max_megapixels=FLAGS.max_megapixels)
  hole_file = masks.read_hole_file(FLAGS.mask_file) if FLAGS.mask_file else None
  _check_mask_file_fits(hole_file, photo_set)
  if hole_file is not None and hole_file.all():
    raise errors.InputError(f"mask_file={FLAGS.mask_file}: has no known pixel "
                            "(all white); there is no context to inpaint from")
  first, stop = shards.shard_range(len(photo_set), *shard)
  nothing_missing = hole_file is not None and not hole_file.any()
  originals_known = FLAGS.mask != "file"

  def frame(start, end):
    model_masks = None if hole_file is not None else masks.make_masks(
        FLAGS.mask, end - start, size, FLAGS.seed, FLAGS.missing_fraction,
        first_index=start)
    return _frame_photos(photo_set.names[start:end],
                         list(photo_set.read(start, end)), model_masks,
                         hole_file, size, crop)

  settings = _settings(images_spec, crop, inpaint_config, encoder_name, shard)
  with outputs.resumable_directory(
      FLAGS.outdir, FLAGS.overwrite, "inpaint", settings, inputs,
      defaults=config_flags.settings_defaults()) as partial:
    where = f" (shard {shard[0] + 1} of {shard[1]})" if shard[1] > 1 else ""
    if partial.done:
      print(f"Continuing the stopped run in {partial.directory}: "
            f"{partial.done} of {stop - first} images already done", flush=True)
    if nothing_missing:
      print("The mask has no missing pixel: nothing to inpaint; copying the "
            f"inputs to {FLAGS.outdir}.")
    else:
      print(f"Inpainting {stop - first} images{where} with {FLAGS.model}, "
            f"mask {FLAGS.mask}, {'encoder' if encoder else 'random'} start; "
            f"TensorBoard: tensorboard --logdir {logdir}", flush=True)
      print(precision.describe(FLAGS.precision, inpaint_config.precision),
            flush=True)
    writer = None if nothing_missing else tf.summary.create_file_writer(logdir)
    inpainter = inpaint.Inpainter(generator, discriminator, inpaint_config,
                                  progress=True, encoder=encoder)
    stopwatch = inpainter.stopwatch
    stopwatch.add("start-up", time.perf_counter() - timing.STARTED)
    part = inpaint_config.batch_size
    for start in range(first + partial.done, stop, part):
      end = min(start + part, stop)
      with stopwatch.phase("reading"):
        framed = frame(start, end)
      if nothing_missing:
        for name, image in zip(framed.names, framed.images):
          outputs.save_png(os.path.join(partial.directory,
                                        f"{name}_blended.png"), image)
        partial.add([{"name": name} for name in framed.names])
        continue
      partial.add(_inpaint_part(inpainter, framed, start, writer,
                                originals_known, partial.directory,
                                stopwatch))
      print(f"{partial.done}/{stop - first} images done", flush=True)
    with stopwatch.phase("writing"):
      if writer is not None:
        writer.close()
      if not nothing_missing and stop > first:
        _grid(partial.directory, frame(first, min(first + _GRID_ROWS, stop)),
              originals_known)
      if originals_known and not nothing_missing:
        outputs.save_json(os.path.join(partial.directory, "metrics.json"), {
            "mask": FLAGS.mask, "model": FLAGS.model, "images": images_spec,
            "seed": FLAGS.seed, "init": "encoder" if encoder else "random",
            **({"encoder": encoder_name} if encoder else {}),
            "inpaint_config": dataclasses.asdict(inpaint_config),
            # This process's time (a continued run: since it continued).
            "seconds": stopwatch.rounded(),
            "per_image": partial.records,
            "mean": metrics.mean_of_records(partial.records)})
  print(f"Wrote {stop - first} results to {FLAGS.outdir}", flush=True)
  print(f"Time: {stopwatch.summary()}", flush=True)


def run() -> None:
  run_main(define_flags, main)
