r"""`bin/evaluate`: every method on the same images and masks, as a table.

  bin/evaluate --model=runs/celeba64 \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=256 --masks=center,random80,pattern,left \
      --methods=ours,ours_no_perceptual,tv,lowrank,nn,biharmonic --outdir=eval/celeba

Writes results.json, results.md (masks x methods: PSNR dB, hole PSNR, seconds
per image), figure_<mask>.png (original, corrupted, each method; one row per
image), time_quality.png (hole PSNR against seconds per image) and pairs/
(per (mask, method): per-image scores, wall clock, figure rows).

Each (mask, method) is saved as it finishes into <outdir>.partial, renamed to
--outdir when all are done; the same command continues a stopped run.
--num_shards/--shard_index (or TF_CONFIG) split the images over processes and
--merge joins their outputs into one results.json, results.md and figures.
"""
import dataclasses
import json
import os
import shlex
import sys

import numpy as np
from absl import flags

from tf_inpaint import config, errors, masks
from tf_inpaint import methods as method_names
from tf_inpaint.cli import config_flags, run_main

FLAGS = flags.FLAGS
_FIGURE_ROWS = 8
# Per (mask, method): per-image scores, wall clock and the figure's rows, as
# saved when the pair finishes (a stopped run continues after it; --merge
# joins shards from them); and the figure's original images.
_PAIRS = "pairs"
_ORIGINALS = "originals.npz"


def define_flags() -> None:
  """Defines the flags; in a function so importing this module defines none.
  Defining and checking them imports no TensorFlow."""
  flags.DEFINE_string("model", None, "Bundled model or run directory written "
                      "by bin/train.")
  flags.DEFINE_string("images", None, "Image folder, file or dataset spec.")
  config_flags.define_selection_flags()
  config_flags.define_aliases({"first": "first_image"}, deprecated=True)
  flags.DEFINE_list("masks", ["center", "random80"], "Masks to evaluate.")
  flags.DEFINE_list("methods", list(method_names.DEFAULT_METHODS),
                    f"Methods: {', '.join(method_names.METHODS)}.")
  flags.DEFINE_list("context_encoders", None,
                    "For `context_encoder`: bundled names or run directories "
                    "of context encoders; each mask uses the one trained on "
                    "its family. Default: the bundled model's own.")
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
  config_flags.define_shard_flags()


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


def _pair_path(directory: str, mask: str, method: str) -> str:
  return os.path.join(directory, _PAIRS, f"{mask}.{method}.npz")


def _save_pair(directory: str, pair) -> None:
  """A (mask, method)'s per-image scores, wall clock and first figure rows."""
  shown = slice(0, _FIGURE_ROWS)
  np.savez(_pair_path(directory, pair.mask, pair.method),
           seconds=pair.seconds, filled=pair.filled[shown],
           masks=pair.masks[shown], corrupted=pair.corrupted[shown],
           **{f"score_{k}": v for k, v in pair.scores.items()})


def _load_pair(directory: str, mask: str, method: str) -> dict:
  with np.load(_pair_path(directory, mask, method)) as saved:
    return {key: saved[key] for key in saved.files}


def _scores(saved: dict) -> dict:
  return {key[len("score_"):]: value for key, value in saved.items()
          if key.startswith("score_")}


def _write_results(directory: str, header: dict, pairs: dict,
                   originals) -> list:
  """results.json, results.md, time_quality.png and a figure per mask, from
  saved pairs ({(mask, method): _load_pair's dict}); returns the rows."""
  from tf_inpaint import evaluate, outputs, summaries  # pylint: disable=g-import-not-at-top
  masks_, methods = header["masks"], header["methods"]
  rows = [evaluate.result_row(method, mask, _scores(pairs[mask, method]),
                              float(pairs[mask, method]["seconds"]))
          for mask in masks_ for method in methods]
  outputs.save_json(os.path.join(directory, "results.json"),
                    {**header, "results": rows})
  with open(os.path.join(directory, "results.md"), "w") as f:
    f.write(evaluate.results_markdown(
        rows, evaluate.describe_selection(header)))
  summaries.time_quality_figure(rows,
                                os.path.join(directory, "time_quality.png"))
  for mask in masks_:
    first = pairs[mask, methods[0]]
    evaluation = evaluate.MaskEvaluation(
        mask, first["masks"], first["corrupted"],
        {method: pairs[mask, method]["filled"] for method in methods})
    summaries.figure_grid(
        evaluate.figure_rows(originals, evaluation, methods, _FIGURE_ROWS),
        ["original", "corrupted", *methods],
        os.path.join(directory, f"figure_{mask}.png"))
  return rows


def _join_parts(staging: str, ordered: list) -> None:
  """--merge: per (mask, method), every shard's per-image scores in order
  and their summed wall clock; figures from the first shard's images."""
  headers, all_pairs = [], []
  for _, part in ordered:
    with open(os.path.join(part, "results.json")) as f:
      headers.append(json.load(f))
    all_pairs.append({(mask, method): _load_pair(part, mask, method)
                      for mask in headers[0]["masks"]
                      for method in headers[0]["methods"]})
  os.makedirs(os.path.join(staging, _PAIRS))
  joined = {}
  for key, first in all_pairs[0].items():
    parts = [pairs[key] for pairs in all_pairs]
    joined[key] = {**first, "seconds": sum(float(p["seconds"]) for p in parts),
                   **{f"score_{k}": np.concatenate(
                       [p[f"score_{k}"] for p in parts])
                      for k in _scores(first)}}
    np.savez(_pair_path(staging, *key), **joined[key])
  with np.load(os.path.join(ordered[0][1], _PAIRS, _ORIGINALS)) as saved:
    originals = saved["images"]
  np.savez(os.path.join(staging, _PAIRS, _ORIGINALS), images=originals)
  header = {key: value for key, value in headers[0].items()
            if key != "results"}
  header["num_images"] = sum(h["num_images"] for h in headers)
  header["command"] = " && ".join(
      [h.get("command", "(not recorded)") for h in headers]
      + [shlex.join(["bin/evaluate", *sys.argv[1:]])])
  _write_results(staging, header, joined, originals)


def main() -> None:
  if not FLAGS.merge:
    for flag in ("model", "images"):
      if not FLAGS[flag].value:
        raise errors.InputError(f"{flag}: required (unless --merge)")
    method_names.check_names(FLAGS.masks, FLAGS.methods)
    requested = config_flags.config_from_flags(config.InpaintConfig,
                                               exclude=("image_every",))
  from tf_inpaint import data, evaluate, machine, models, outputs, precision, shards  # pylint: disable=g-import-not-at-top
  if FLAGS.merge:
    shards.merge_parts(FLAGS.merge, FLAGS.outdir, FLAGS.overwrite, "evaluate",
                       _join_parts, defaults=config_flags.settings_defaults())
    print(f"Merged {len(FLAGS.merge)} parts into {FLAGS.outdir}", flush=True)
    return
  inpaint_config = precision.resolved(requested)
  print(precision.describe(FLAGS.precision, inpaint_config.precision),
        flush=True)
  shard = shards.shard_of_process(FLAGS.num_shards, FLAGS.shard_index)
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
  context_encoder_names, context_encoders = [], []
  if "context_encoder" in FLAGS.methods:
    context_encoder_names = models.context_encoder_names(
        FLAGS.context_encoders, FLAGS.model)
    context_encoders = [
        models.load(name, "context_encoder", "context_encoders")[2]
        for name in context_encoder_names]
  encoder_name, encoder = None, None
  if set(FLAGS.methods) & set(method_names.ENCODER_METHODS):
    encoder_name, encoder = models.start_encoder(
        "encoder", FLAGS.encoder, FLAGS.model, generator,
        flag="methods=ours_encoder")
  default_encoder_name, default_encoder = None, None
  if "ours_default" in FLAGS.methods:  # bin/inpaint's start, given no flags
    default_encoder_name = models.BUNDLED_ENCODERS.get(FLAGS.model)
    default_encoder = (encoder if default_encoder_name == encoder_name
                       else models.start_encoder("auto", None, FLAGS.model,
                                                 generator)[1])
  crop = data.training_crop(train_config)
  photo_set = data.open_photos(FLAGS.images, model_config.image_size, crop,
                               FLAGS.first_image, FLAGS.num_images,
                               FLAGS.per_subfolder,
                               min_side=model_config.image_size // 4,
                               max_megapixels=FLAGS.max_megapixels)
  first, stop = shards.shard_range(len(photo_set), *shard)
  images = data.ModelImages(photo_set.part(first, stop),
                            model_config.image_size, crop)
  methods = list(FLAGS.methods)
  nn_images, nn_description = _nn_search_set(
      methods, train_config, model_config.image_size, crop, images)
  header = {
      "command": shlex.join(["bin/evaluate", *sys.argv[1:]]),
      "machine": machine.facts(),
      "model": FLAGS.model, "images": FLAGS.images,
      "first_image": FLAGS.first_image, "num_images": len(images),
      "per_subfolder": FLAGS.per_subfolder, "seed": FLAGS.seed,
      "masks": list(FLAGS.masks), "methods": methods,
      "missing_fraction": FLAGS.missing_fraction,
      "inpaint_config": dataclasses.asdict(inpaint_config),
      **({"context_encoders": context_encoder_names}
         if context_encoders else {}),
      **({"encoder": encoder_name} if encoder else {}),
      **({"default_encoder": default_encoder_name or "none (random starts)"}
         if "ours_default" in methods else {}),
      **({"nn_images": nn_description} if nn_description else {})}
  settings = {**{key: value for key, value in header.items()
                 if key not in ("num_images", "command", "machine")},
              "model": models.identity(FLAGS.model),
              "num_images": FLAGS.num_images, "shard": list(shard)}
  with outputs.resumable_directory(
      FLAGS.outdir, FLAGS.overwrite, "evaluate", settings, inputs,
      defaults=config_flags.settings_defaults()) as partial:
    done = {(r["mask"], r["method"]) for r in partial.records}
    if done:
      print(f"Continuing the stopped run in {partial.directory}: "
            f"{len(done)} of {len(FLAGS.masks) * len(methods)} (mask, "
            "method) pairs already done", flush=True)
    os.makedirs(os.path.join(partial.directory, _PAIRS), exist_ok=True)
    np.savez(os.path.join(partial.directory, _PAIRS, _ORIGINALS),
             images=images[:_FIGURE_ROWS])
    for pair in evaluate.evaluate_pairs(
        images, FLAGS.masks, methods, generator, discriminator,
        inpaint_config, FLAGS.seed, nn_images, FLAGS.missing_fraction,
        progress=lambda message: print(message, flush=True),
        context_encoders=context_encoders, encoder=encoder, first_index=first,
        skip=done, keep=_FIGURE_ROWS, model_name=FLAGS.model,
        default_encoder=default_encoder):
      _save_pair(partial.directory, pair)
      partial.add([{"mask": pair.mask, "method": pair.method}])
    pairs = {(mask, method): _load_pair(partial.directory, mask, method)
             for mask in FLAGS.masks for method in methods}
    rows = _write_results(partial.directory, header, pairs,
                          images[:_FIGURE_ROWS])
  print(evaluate.markdown_table(rows, "psnr"))
  print(f"Wrote {FLAGS.outdir}/results.json, results.md and figures.")


def run() -> None:
  run_main(define_flags, main)
