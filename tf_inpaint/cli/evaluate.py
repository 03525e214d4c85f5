r"""`bin/evaluate`: every method on the same images and masks, as a table.

  bin/evaluate --model=runs/celeba64 \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=256 --masks=center,random80,pattern,left \
      --methods=ours,ours_no_perceptual,tv,lowrank,nn,biharmonic --outdir=eval/celeba

Writes results.json, results.md (masks x methods: PSNR dB, hole PSNR, seconds
per image), figure_<mask>.png (original, corrupted, each method; one row per
image) and time_quality.png (hole PSNR against seconds per image).
"""
import dataclasses
import os
import sys

from absl import flags

from tf_inpaint import config, errors, masks
from tf_inpaint.cli import config_flags, run_main

FLAGS = flags.FLAGS
_FIGURE_ROWS = 8
_BUNDLED_CONTEXT_ENCODERS = ("celeba64_ce_center", "celeba64_ce_random")


def define_flags() -> None:
  """Defines the flags; in a function so importing this module defines none."""
  from tf_inpaint import evaluate  # pylint: disable=g-import-not-at-top
  flags.DEFINE_string("model", None, "Bundled model or run directory written "
                      "by bin/train.")
  flags.DEFINE_string("images", None, "Image folder, file or dataset spec.")
  config_flags.define_selection_flags()
  config_flags.define_aliases({"first": "first_image"}, deprecated=True)
  flags.DEFINE_list("masks", ["center", "random80"], "Masks to evaluate.")
  flags.DEFINE_list("methods", list(evaluate.DEFAULT_METHODS),
                    f"Methods: {', '.join(evaluate.METHODS)}.")
  flags.DEFINE_list("context_encoders", list(_BUNDLED_CONTEXT_ENCODERS),
                    "For `context_encoder`: bundled names or run directories "
                    "of context encoders; each mask uses the one trained on "
                    "its family.")
  flags.DEFINE_string("encoder", None, "For `ours_encoder`: an encoder "
                      "trained for --model (bundled name or run directory); "
                      "default: the bundled model's own.")
  flags.DEFINE_float("missing_fraction", masks.DEFAULT_MISSING_FRACTION,
                     "Missing fraction for random80.")
  flags.DEFINE_string("nn_images", None, "Training images for `nn`; default "
                      "the model's own training set (from config.json).")
  flags.DEFINE_string("outdir", "evaluation", "Output directory.")
  flags.DEFINE_bool("overwrite", False, "Replace an --outdir holding results.")
  # `ours_*` methods set lam and weighting themselves; panels are not drawn.
  config_flags.define_inpaint_flags(exclude=("image_every",))
  flags.mark_flags_as_required(["model", "images"])


def _nn_images(train_config, spec, image_size, crop):
  """(images, description) of the nearest-neighbour search set: --nn_images,
  else the model's own training images."""
  from tf_inpaint import data  # pylint: disable=g-import-not-at-top
  if spec:
    return data.read_images(spec, image_size, crop, progress=True)[0], spec
  if train_config is None:
    raise errors.InputError("methods=nn: the model's config.json names no "
                            "training images; pass --nn_images=SPEC")
  try:
    images = data.read_images(train_config.dataset, image_size, crop,
                              train_config.first_image,
                              train_config.num_images, progress=True,
                              per_subfolder=train_config.per_subfolder)[0]
  except errors.InputError as e:
    raise errors.InputError(
        f"methods=nn: the model's training images ({train_config.dataset}) "
        f"cannot be read here ({e}); pass --nn_images=SPEC") from e
  return images, (f"{train_config.dataset} (first_image "
                  f"{train_config.first_image}, num_images "
                  f"{train_config.num_images}"
                  f"{', per subfolder' if train_config.per_subfolder else ''})")


def _nn_search_set(methods: list, train_config, image_size, crop, images):
  """The search set of `nn` and its description, or (None, None).

  `nn` is left out of the default methods, with a warning, when the model's
  training images are not here (a bundled model outside the repository).
  Raises:
    InputError: if `nn` was asked for and has no search set, or if the
      search set holds an evaluated image (it would be copied: 100 dB).
  """
  from tf_inpaint import evaluate  # pylint: disable=g-import-not-at-top
  if "nn" not in methods:
    return None, None
  try:
    nn_images, description = _nn_images(train_config, FLAGS.nn_images,
                                        image_size, crop)
  except errors.InputError as e:
    if FLAGS["methods"].present:
      raise
    print(f"warning: leaving nn out of the default methods: {e}",
          file=sys.stderr, flush=True)
    methods.remove("nn")
    return None, None
  evaluate.check_not_in_search_set(images, nn_images, description)
  return nn_images, description


def main() -> None:
  from tf_inpaint import data, evaluate, models, outputs, summaries  # pylint: disable=g-import-not-at-top
  inpaint_config = config_flags.config_from_flags(
      config.InpaintConfig, exclude=("image_every",))
  evaluate.check_names(FLAGS.masks, FLAGS.methods)
  inputs = [("model", models.resolve(FLAGS.model))]
  if FLAGS.encoder:
    inputs.append(("encoder", models.resolve(FLAGS.encoder)))
  inputs += [(flag, path) for flag, path in
             (("images", data.local_path(FLAGS.images)),
              ("nn_images", FLAGS.nn_images and
               data.local_path(FLAGS.nn_images))) if path]
  outputs.check_writable(FLAGS.outdir, FLAGS.overwrite, inputs)
  model_config, train_config, generator, discriminator = (
      models.load(FLAGS.model, "dcgan"))
  context_encoders = []
  if "context_encoder" in FLAGS.methods:
    context_encoders = [
        models.load(name, "context_encoder", "context_encoders")[2]
        for name in FLAGS.context_encoders]
  encoder_name, encoder = None, None
  if set(FLAGS.methods) & set(evaluate.ENCODER_METHODS):
    encoder_name, encoder = models.start_encoder(
        "encoder", FLAGS.encoder, FLAGS.model, generator,
        flag="methods=ours_encoder")
  crop = data.training_crop(train_config)
  images, _ = data.read_images(FLAGS.images, model_config.image_size, crop,
                               FLAGS.first_image, FLAGS.num_images,
                               min_side=model_config.image_size // 4,
                               per_subfolder=FLAGS.per_subfolder)
  methods = list(FLAGS.methods)
  nn_images, nn_description = _nn_search_set(
      methods, train_config, model_config.image_size, crop, images)
  rows, evaluations = evaluate.evaluate(
      images, FLAGS.masks, methods, generator, discriminator,
      inpaint_config, FLAGS.seed, nn_images, FLAGS.missing_fraction,
      progress=lambda message: print(message, flush=True),
      context_encoders=context_encoders, encoder=encoder)
  with outputs.staged_directory(FLAGS.outdir, FLAGS.overwrite, "evaluate",
                                inputs) as staging:
    outputs.save_json(os.path.join(staging, "results.json"), {
        "results": rows, "model": FLAGS.model, "images": FLAGS.images,
        "first_image": FLAGS.first_image, "num_images": len(images),
        "per_subfolder": FLAGS.per_subfolder, "seed": FLAGS.seed,
        "inpaint_config": dataclasses.asdict(inpaint_config),
        **({"context_encoders": FLAGS.context_encoders}
           if context_encoders else {}),
        **({"encoder": encoder_name} if encoder else {}),
        **({"nn_images": nn_description} if nn_description else {})})
    with open(os.path.join(staging, "results.md"), "w") as f:
      f.write(f"PSNR (dB), whole image; {len(images)} images from "
              f"{FLAGS.images} (first {FLAGS.first_image}"
              f"{' in each subfolder' if FLAGS.per_subfolder else ''}), "
              f"model {FLAGS.model}, "
              f"seed {FLAGS.seed}\n\n")
      f.write(evaluate.markdown_table(rows, "psnr"))
      f.write("\nPSNR (dB), missing pixels only\n\n")
      f.write(evaluate.markdown_table(rows, "psnr_hole"))
      f.write("\nSeconds per image (wall clock, this run)\n\n")
      f.write(evaluate.markdown_table(rows, "seconds_per_image", best=min,
                                      digits=3))
    summaries.time_quality_figure(rows,
                                  os.path.join(staging, "time_quality.png"))
    for evaluation in evaluations:
      summaries.figure_grid(
          evaluate.figure_rows(images, evaluation, methods, _FIGURE_ROWS),
          ["original", "corrupted", *methods],
          os.path.join(staging, f"figure_{evaluation.mask}.png"))
  print(evaluate.markdown_table(rows, "psnr"))
  print(f"Wrote {FLAGS.outdir}/results.json, results.md and figures.")


def run() -> None:
  run_main(define_flags, main)
