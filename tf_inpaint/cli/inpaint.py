"""`bin/inpaint`: fill the holes of images with a trained DCGAN.

  bin/inpaint --mask=random80        # bundled CelebA model and sample faces
  bin/inpaint --model=svhn32         # bundled SVHN model and sample digits
  bin/inpaint --model=runs/celeba64 --images=photos/ --mask=center --outdir=out/
  bin/inpaint --model=runs/celeba64 --images=face.png --mask=file --mask_file=hole.png

Writes to --outdir, per image, <name>_inpainted.png (the photo at its own size,
its hole filled, known pixels untouched) and <name>_mask.png (its hole, white);
at the model's resolution <name>_corrupted.png, _generated.png (G(z)),
_overlay.png and _blended.png; grid.png (original, corrupted, inpainted, one row
per image); metrics.json when the originals are known (every mask but `file`);
and TensorBoard panels to --logdir.
"""
import dataclasses
import os

import numpy as np
from absl import flags

from tf_inpaint import config, errors, masks
from tf_inpaint.cli import config_flags, run_main

FLAGS = flags.FLAGS
_GRID_ROWS = 16


def define_flags() -> None:
  """Defines the flags; in a function so importing this module defines none."""
  flags.DEFINE_string("model", "celeba64", "Bundled model (celeba64, svhn32) "
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


def _inpaint_config() -> config.InpaintConfig:
  from tf_inpaint import inpaint  # pylint: disable=g-import-not-at-top
  inpaint_config = config_flags.config_from_flags(config.InpaintConfig)
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


def _frame_photos(images_spec: str, size: int, crop: str) -> _FramedPhotos:
  """Reads the images and frames them for the model.

  Files keep their own size: a --mask_file of a photo's size frames that
  photo around its hole (photos.choose_frame); every other mask is drawn at
  the model's resolution in the training frame, as bin/evaluate draws it.
  Dataset records are read at the model's size.
  """
  from tf_inpaint import data, photos  # pylint: disable=g-import-not-at-top
  files = data.read_photos(images_spec, FLAGS.first_image, FLAGS.num_images,
                           min_side=size // 4,
                           per_subfolder=FLAGS.per_subfolder)
  if files is None:
    images, names = data.read_images(images_spec, size, crop,
                                     FLAGS.first_image, FLAGS.num_images,
                                     per_subfolder=FLAGS.per_subfolder)
    files = (list(np.round((images + 1.0) * 127.5).astype(np.uint8)), names)
  arrays, names = files
  model_masks = None if FLAGS.mask_file else masks.make_masks(
      FLAGS.mask, len(arrays), size, FLAGS.seed, FLAGS.missing_fraction)
  hole_file = masks.read_hole_file(FLAGS.mask_file) if FLAGS.mask_file else None
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
      elif hole_file.shape[0] != hole_file.shape[1]:
        raise errors.InputError(
            f"mask_file={FLAGS.mask_file}: {hole_file.shape[1]}x"
            f"{hole_file.shape[0]}, expected a square mask or the size of "
            f"the photo {name} ({photo.shape[1]}x{photo.shape[0]})")
      else:
        mask = masks.square_hole_as_mask(hole_file, size,
                                         FLAGS.mask_file)[..., None]
      image, _ = photos.model_view(photo, np.zeros(photo.shape[:2], bool),
                                   frame, size)
      views.append((image, mask))
      hole = photos.hole_from_model_mask(mask, frame, photo.shape)
    holes.append(hole)
    frames.append(frame)
  return _FramedPhotos(names, arrays, holes, frames,
                       np.stack([v[0] for v in views]),
                       np.stack([v[1] for v in views]).astype(np.float32))


def _save_full_size(staging, name, photo, hole, frame, generated,
                    blend_method) -> None:
  """<name>_inpainted.png (the photo, its hole filled) and <name>_mask.png
  (white = missing, as --mask_file reads it), both at the photo's size."""
  from tf_inpaint import outputs, photos  # pylint: disable=g-import-not-at-top
  outputs.save_uint8_png(
      os.path.join(staging, f"{name}_inpainted.png"),
      photos.paste_back(photo, hole, frame, generated, blend_method)
      if hole.any() else photo)
  outputs.save_uint8_png(os.path.join(staging, f"{name}_mask.png"),
                         np.where(hole, 255, 0).astype(np.uint8))


def main() -> None:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_inpaint import data, inpaint, metrics, models, outputs, summaries  # pylint: disable=g-import-not-at-top
  inpaint_config = _inpaint_config()
  if FLAGS.mask_file and FLAGS.mask != "file":
    if FLAGS["mask"].present:
      raise errors.InputError(f"mask_file={FLAGS.mask_file}: read only with "
                              f"--mask=file, not --mask={FLAGS.mask}")
    FLAGS.mask = "file"  # --mask_file alone means the user's own mask
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
  framed = _frame_photos(images_spec, model_config.image_size, crop)
  images, mask_array = framed.images, framed.masks
  names = framed.names
  masks.check_masks(mask_array)
  originals_known = FLAGS.mask != "file"

  with outputs.staged_directory(FLAGS.outdir, FLAGS.overwrite, "inpaint",
                                inputs) as staging:
    if mask_array.min() == 1:
      print("The mask has no missing pixel: nothing to inpaint; copying the "
            f"inputs to {FLAGS.outdir}.")
      for name, image in zip(names, images):
        outputs.save_png(os.path.join(staging, f"{name}_blended.png"), image)
      return
    print(f"Inpainting {len(images)} images with {FLAGS.model}, mask "
          f"{FLAGS.mask}, {'encoder' if encoder else 'random'} start; "
          f"TensorBoard: tensorboard --logdir {logdir}", flush=True)
    writer = tf.summary.create_file_writer(logdir)
    result = inpaint.Inpainter(generator, discriminator, inpaint_config,
                               progress=True, encoder=encoder).inpaint(
                                   images, mask_array, writer=writer,
                                   originals=images if originals_known
                                   else None)
    writer.close()
    for i, name in enumerate(names):
      for kind in ("corrupted", "generated", "overlay", "blended"):
        outputs.save_png(os.path.join(staging, f"{name}_{kind}.png"),
                         getattr(result, kind)[i])
      _save_full_size(staging, name, framed.photos[i], framed.holes[i],
                      framed.frames[i], result.generated[i],
                      inpaint_config.blend)
    shown = slice(0, _GRID_ROWS)
    columns = [result.corrupted[shown], result.blended[shown]]
    titles = ["corrupted", "inpainted"]
    if originals_known:
      columns.insert(0, images[shown])
      titles.insert(0, "original")
    summaries.figure_grid([list(row) for row in zip(*columns)], titles,
                          os.path.join(staging, "grid.png"))
    if originals_known:
      per_image = metrics.image_metrics(images, result.blended, mask_array)
      outputs.save_json(os.path.join(staging, "metrics.json"), {
          "mask": FLAGS.mask, "model": FLAGS.model, "images": images_spec,
          "seed": FLAGS.seed,
          "init": "encoder" if encoder else "random",
          **({"encoder": encoder_name} if encoder else {}),
          "inpaint_config": dataclasses.asdict(inpaint_config),
          "mean": {k: float(np.mean(v)) for k, v in per_image.items()},
          "per_image": [dict(name=name, **{k: float(v[i]) for k, v in
                                           per_image.items()})
                        for i, name in enumerate(names)]})
  print(f"Wrote {len(names)} results to {FLAGS.outdir}", flush=True)


def run() -> None:
  run_main(define_flags, main)
