"""The paper's comparisons as numbers: every method on the same images and masks."""
import dataclasses
import time

import numpy as np

from tf_inpaint import baselines
from tf_inpaint import blend as blend_lib
from tf_inpaint import context_encoder
from tf_inpaint import masks as masks_lib
from tf_inpaint import metrics
from tf_inpaint import models
from tf_inpaint import precision as precision_lib
from tf_inpaint.config import InpaintConfig
from tf_inpaint.errors import InputError
from tf_inpaint.inpaint import DEFAULT_TUNE_ITERS, Inpainter, default_options
from tf_inpaint.methods import ENCODER_METHODS, METHODS, OURS, check_names

def check_not_in_search_set(images, search_images, description: str) -> None:
  """Refuses a nearest-neighbour search set holding an evaluated image.

  `nn` would copy the image itself and score 100 dB. Images are compared
  by their decoded 8-bit pixels, not by name.
  """
  def key(image):
    return np.round((np.asarray(image) + 1.0) * 127.5).astype(np.uint8).tobytes()
  search = {key(image) for image in search_images}
  leaked = [i for i, image in enumerate(images) if key(image) in search]
  if leaked:
    raise InputError(
        f"nn_images={description}: holds {len(leaked)} of the evaluated "
        f"images (the first is evaluated image {leaked[0] + 1}); nearest "
        "neighbour would copy them; search images that are not evaluated")


@dataclasses.dataclass
class MaskEvaluation:
  """One mask's masks, corrupted images and every method's output."""
  mask: str
  masks: np.ndarray
  corrupted: np.ndarray
  outputs: dict[str, np.ndarray]


@dataclasses.dataclass
class PairResult:
  """One method on one mask: per-image scores, wall clock, first outputs."""
  mask: str
  method: str
  masks: np.ndarray  # of the first `keep` images (see evaluate_pairs)
  corrupted: np.ndarray
  filled: np.ndarray
  scores: dict  # metric -> (N,) array, as metrics.image_metrics gives
  seconds: float  # for all N images


_ROW_METRICS = ("psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole")


def result_row(method: str, mask: str, scores: dict, seconds: float) -> dict:
  """A results table row: means over the images, seconds per image."""
  count = len(scores["psnr"])
  return {"method": method, "mask": mask, "n": count,
          **{k: float(np.mean(scores[k])) for k in _ROW_METRICS},
          "seconds_per_image": seconds / count}


def ours_config(method: str, inpaint_config: InpaintConfig,
                model_name: str = "", mask_name: str = "") -> InpaintConfig:
  """The InpaintConfig one of our methods runs with.

  `model_name` and `mask_name` (the --model and mask names) choose the
  options of `ours_default`.
  """
  config = dataclasses.replace(inpaint_config, **OURS[method])
  if method == "ours_tuned" and not config.tune_iters:
    config = dataclasses.replace(config, tune_iters=DEFAULT_TUNE_ITERS)
  if method == "ours_default":
    config = dataclasses.replace(config,
                                 **default_options(model_name, mask_name))
  return config


def run_method(method, corrupted, masks, generator, discriminator,
               inpaint_config, nn_images, progress=False,
               context_encoder_model=None, encoder=None, frozen=False,
               first_index=0, inpainter=None):
  """One method's filled images for corrupted images (holes are zero).

  For our methods, `inpaint_config` and `encoder` (None: random starts) are
  the ones the method searches with (`ours_config`); `frozen`: G and D are
  frozen copies already (see `Inpainter`); `first_index`: the index of the
  first image in the whole evaluation (our random starts depend on it);
  `inpainter`: one made with those, reused over the parts of a run (a new
  one traces its search again, and every trace is kept).
  """
  if method in OURS:
    inpainter = inpainter or Inpainter(
        generator, discriminator, inpaint_config, progress=progress,
        encoder=encoder, frozen=frozen)
    return inpainter.inpaint(corrupted, masks,
                             first_index=first_index).blended
  if method == "tv":
    return baselines.total_variation(corrupted, masks)
  if method == "lowrank":
    return baselines.low_rank(corrupted, masks)
  if method == "nn":
    if nn_images is None:
      raise InputError("methods=nn: needs training images (the model's "
                       "config.json names none; pass --nn_images)")
    return baselines.nearest_neighbour(corrupted, masks, nn_images)
  if method == "biharmonic":
    return baselines.biharmonic(corrupted, masks)
  if method == "context_encoder":
    return context_encoder.complete(context_encoder_model, corrupted, masks)
  raise InputError(f"method={method!r}: expected one of {', '.join(METHODS)}")


def evaluate_pairs(images, mask_names, methods, generator, discriminator,
                   inpaint_config: InpaintConfig = InpaintConfig(),
                   seed: int = 0, nn_images=None,
                   missing_fraction=masks_lib.DEFAULT_MISSING_FRACTION,
                   progress=print, context_encoders=(), encoder=None,
                   first_index: int = 0, skip=(), keep: int | None = None,
                   model_name: str = "", default_encoder=None):
  """Yields a PairResult for every (mask, method) not in `skip`, in order.

  `images` is an array, or anything with len() and slices that give arrays
  (`data.ModelImages`, read a part at a time): each pair runs over parts of
  `inpaint_config.batch_size` images, keeping the first `keep` outputs (None:
  all), so memory does not grow with the number of images. Every method
  fills each image independently of the others in its part.
  Masks come from `seed`, so the same seed gives the same masks and numbers;
  `first_index` is the index of `images[0]` in the whole selection (a shard
  draws the masks of one run). `context_encoders` are the loaded
  ContextEncoders; each mask uses the one trained on its family. `encoder`
  is the z encoder of `ours_encoder`; `model_name` (the --model name) and
  `default_encoder` (its own encoder, or None) make `ours_default`.
  """
  check_names(mask_names, methods)
  needing = [m for m in methods if m in ENCODER_METHODS]
  if needing and encoder is None:
    raise InputError(f"methods={needing[0]}: needs an encoder trained for the "
                     "model (--encoder=RUN_DIR, or a bundled model's own)")
  starts = {"ours_encoder": encoder, "ours_default": default_encoder}
  count = len(images)
  keep = count if keep is None else min(keep, count)
  size = images[:1].shape[1]
  part = max(1, inpaint_config.batch_size)
  if set(methods) & set(OURS):  # one frozen copy for every run of ours
    generator, discriminator = models.frozen_copy(
        generator, discriminator,
        precision_lib.resolve(inpaint_config.precision))
  encoders = {mask: context_encoder.for_mask(context_encoders, mask, size)
              for mask in mask_names if "context_encoder" in methods}
  for mask_name in mask_names:
    for method in methods:
      if (mask_name, method) in skip:
        continue
      progress(f"{mask_name}: {method} on {count} images")
      method_config = (ours_config(method, inpaint_config, model_name,
                                   mask_name)
                       if method in OURS else inpaint_config)
      seconds, scores, kept = 0.0, [], []
      inpainter = (Inpainter(generator, discriminator, method_config,
                             progress=True, encoder=starts.get(method),
                             frozen=True) if method in OURS else None)
      for start in range(0, count, part):
        original = np.asarray(images[start:start + part], np.float32)
        mask = masks_lib.make_masks(mask_name, len(original), size, seed,
                                    missing_fraction,
                                    first_index=first_index + start)
        corrupted = (original * mask).astype(np.float32)
        began = time.perf_counter()
        filled = run_method(method, corrupted, mask, generator, discriminator,
                            method_config, nn_images, progress=True,
                            context_encoder_model=encoders.get(mask_name),
                            encoder=starts.get(method), frozen=True,
                            first_index=first_index + start,
                            inpainter=inpainter)
        seconds += time.perf_counter() - began
        scores.append(metrics.image_metrics(original, filled, mask))
        if start < keep:
          shown = slice(0, keep - start)
          kept.append((mask[shown], corrupted[shown], filled[shown]))
      yield PairResult(
          mask_name, method, *(np.concatenate(arrays) for arrays in zip(*kept)),
          {k: np.concatenate([s[k] for s in scores]) for k in scores[0]},
          seconds)


def evaluate(images, mask_names, methods, generator, discriminator,
             inpaint_config: InpaintConfig = InpaintConfig(), seed: int = 0,
             nn_images=None, missing_fraction=masks_lib.DEFAULT_MISSING_FRACTION,
             progress=print, context_encoders=(), encoder=None,
             model_name: str = "", default_encoder=None):
  """Runs every method on every mask; returns (result rows, evaluations).

  Each row is {"method", "mask", "psnr", "ssim", "psnr_hole", "ssim_hole",
  "l1_hole", "seconds_per_image", "n"} (`result_row`). Arguments as for
  `evaluate_pairs`.
  """
  rows, evaluations = [], {}
  for pair in evaluate_pairs(images, mask_names, methods, generator,
                             discriminator, inpaint_config, seed, nn_images,
                             missing_fraction, progress, context_encoders,
                             encoder, model_name=model_name,
                             default_encoder=default_encoder):
    evaluation = evaluations.setdefault(
        pair.mask, MaskEvaluation(pair.mask, pair.masks, pair.corrupted, {}))
    evaluation.outputs[pair.method] = pair.filled
    rows.append(result_row(pair.method, pair.mask, pair.scores, pair.seconds))
  return rows, list(evaluations.values())


def markdown_table(rows, value: str = "psnr", best=max,
                   digits: int = 2, reference: dict | None = None) -> str:
  """Masks as rows, methods as columns (CVPR Table 1's layout).

  The `best` (max, or min for times) of each row is in bold; a method not
  run on a mask has an empty cell. `reference` ({column: {mask: value}},
  e.g. a paper's published figures) adds columns that are shown, never
  bolded: they were not measured here.
  """
  reference = reference or {}
  masks = list(dict.fromkeys(r["mask"] for r in rows))
  methods = list(dict.fromkeys(r["method"] for r in rows))
  lookup = {(r["mask"], r["method"]): r[value] for r in rows}
  lines = ["| mask | " + " | ".join([*methods, *reference]) + " |",
           "|---|" + "---:|" * (len(methods) + len(reference))]
  for mask in masks:
    top = best(v for (m, _), v in lookup.items() if m == mask)
    cells = []
    for method in methods:
      if (mask, method) not in lookup:
        cells.append("")
        continue
      cell = f"{lookup[(mask, method)]:.{digits}f}"
      cells.append(f"**{cell}**" if lookup[(mask, method)] == top else cell)
    cells += [f"{column[mask]:.1f}" if mask in column else ""
              for column in reference.values()]
    lines.append(f"| {mask} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def results_markdown(rows, description: str) -> str:
  """The tables of `results.md`: whole-image PSNR, hole PSNR and SSIM, and
  seconds per image; `description` says which images, model and seed."""
  return "".join((
      f"PSNR (dB), whole image; {description}\n\n",
      markdown_table(rows, "psnr"),
      "\nPSNR (dB), missing pixels only\n\n",
      markdown_table(rows, "psnr_hole"),
      "\nSSIM, missing pixels only\n\n",
      markdown_table(rows, "ssim_hole", digits=3),
      "\nSeconds per image (wall clock, as run)\n\n",
      markdown_table(rows, "seconds_per_image", best=min, digits=3)))


def describe_selection(header: dict) -> str:
  """Which images, model and seed a `results.json` header is about."""
  subfolder = " in each subfolder" if header["per_subfolder"] else ""
  first = header["first_image"]
  start = f"first {first}" if first > 0 else f"the last {-first}"
  return (f"{header['num_images']} images from {header['images']} ({start}"
          f"{subfolder}), model {header['model']}, seed {header['seed']}")


# What two `bin/evaluate` runs must share for their rows to join in a table.
_SELECTION = ("model", "images", "first_image", "num_images", "per_subfolder",
              "seed", "missing_fraction")


def join_results(results: list[dict], names: list[str]) -> list[dict]:
  """The rows of several `results.json` (named `names`) of the same images.

  Runs made a mask or a group of methods at a time join into one table.
  Raises:
    InputError: for runs of other images, model or seed than the first, or
      two runs of the same (mask, method).
  """
  rows, seen = [], {}
  for result, name in zip(results, names):
    for key in _SELECTION:
      if result.get(key) != results[0].get(key):
        raise InputError(f"{name}: {key} {result.get(key)!r}, but "
                         f"{names[0]} has {results[0].get(key)!r}; join "
                         "runs of the same images, model and seed")
    for row in result["results"]:
      pair = (row["mask"], row["method"])
      if pair in seen:
        raise InputError(f"{name}: {pair[1]} on {pair[0]} is in {seen[pair]}"
                         " too; give one run of each (mask, method)")
      seen[pair] = name
      rows.append(row)
  return rows


def figure_rows(images, evaluation: MaskEvaluation, methods, count: int):
  """Rows of original, corrupted (holes black), each method's output."""
  shown = slice(0, count)
  holes = blend_lib.overlay(evaluation.corrupted[shown],
                            -np.ones_like(evaluation.corrupted[shown]),
                            evaluation.masks[shown])
  columns = [images[shown], holes] + [evaluation.outputs[m][shown]
                                      for m in methods]
  return [list(row) for row in zip(*columns)]
