"""The paper's comparisons as numbers: every method on the same images and masks."""
import dataclasses

import numpy as np

from tf_inpaint import baselines
from tf_inpaint import blend as blend_lib
from tf_inpaint import context_encoder
from tf_inpaint import masks as masks_lib
from tf_inpaint import metrics
from tf_inpaint.config import InpaintConfig
from tf_inpaint.errors import InputError
from tf_inpaint.inpaint import Inpainter

# Our method and its ablations: name -> changes to the InpaintConfig.
OURS = {
    "ours": {},
    "ours_no_perceptual": {"lam": 0.0},  # Fig. 2
    "ours_binary": {"weighting": "binary"},  # W = M instead of importance
}
BASELINES = ("tv", "lowrank", "nn", "biharmonic", "context_encoder")
METHODS = (*OURS, *BASELINES)
# Methods that need nothing beyond the DCGAN itself; the default selection.
SELF_CONTAINED_METHODS = tuple(m for m in METHODS if m != "context_encoder")


def check_names(masks, methods) -> None:
  """Refuses unknown mask or method names before any work starts."""
  unknown = [m for m in masks if m not in masks_lib.MASK_NAMES or m == "file"]
  if unknown or not masks:
    raise InputError(f"masks={','.join(masks)}: expected names from "
                     f"{', '.join(n for n in masks_lib.MASK_NAMES if n != 'file')}")
  unknown = [m for m in methods if m not in METHODS]
  if unknown or not methods:
    raise InputError(f"methods={','.join(methods)}: expected names from "
                     f"{', '.join(METHODS)}")
  for flag, names in (("masks", masks), ("methods", methods)):
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
      raise InputError(f"{flag}={','.join(names)}: {', '.join(repeated)} "
                       "given more than once")


@dataclasses.dataclass
class MaskEvaluation:
  """One mask's masks, corrupted images and every method's output."""
  mask: str
  masks: np.ndarray
  corrupted: np.ndarray
  outputs: dict[str, np.ndarray]


def run_method(method, corrupted, masks, generator, discriminator,
               inpaint_config, nn_images, progress=False,
               context_encoder_model=None):
  """One method's filled images for corrupted images (holes are zero)."""
  if method in OURS:
    config = dataclasses.replace(inpaint_config, **OURS[method])
    return Inpainter(generator, discriminator, config,
                     progress=progress).inpaint(corrupted, masks).blended
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


def evaluate(images, mask_names, methods, generator, discriminator,
             inpaint_config: InpaintConfig = InpaintConfig(), seed: int = 0,
             nn_images=None, missing_fraction=masks_lib.DEFAULT_MISSING_FRACTION,
             progress=print, context_encoders=()):
  """Runs every method on every mask; returns (result rows, evaluations).

  Each row is {"method", "mask", "psnr", "ssim", "psnr_hole", "ssim_hole",
  "l1_hole", "n"}, means over the images. Masks come from `seed`, so the same
  seed gives the same masks and numbers. `context_encoders` are the loaded
  ContextEncoders; each mask uses the one trained on its family.
  """
  check_names(mask_names, methods)
  size = images.shape[1]
  encoders = {mask: context_encoder.for_mask(context_encoders, mask, size)
              for mask in mask_names if "context_encoder" in methods}
  rows, evaluations = [], []
  for mask_name in mask_names:
    mask = masks_lib.make_masks(mask_name, len(images), size, seed,
                                missing_fraction)
    corrupted = (images * mask).astype(np.float32)
    evaluation = MaskEvaluation(mask_name, mask, corrupted, {})
    for method in methods:
      progress(f"{mask_name}: {method} on {len(images)} images")
      filled = run_method(method, corrupted, mask, generator, discriminator,
                          inpaint_config, nn_images, progress=True,
                          context_encoder_model=encoders.get(mask_name))
      evaluation.outputs[method] = filled
      scores = metrics.image_metrics(images, filled, mask)
      rows.append({"method": method, "mask": mask_name, "n": len(images),
                   **{k: float(np.mean(scores[k])) for k in
                      ("psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole")}})
    evaluations.append(evaluation)
  return rows, evaluations


def markdown_table(rows, value: str = "psnr") -> str:
  """Masks as rows, methods as columns (CVPR Table 1's layout), in dB."""
  masks = list(dict.fromkeys(r["mask"] for r in rows))
  methods = list(dict.fromkeys(r["method"] for r in rows))
  lookup = {(r["mask"], r["method"]): r[value] for r in rows}
  lines = ["| mask | " + " | ".join(methods) + " |",
           "|---|" + "---:|" * len(methods)]
  for mask in masks:
    cells = []
    for method in methods:
      best = max(lookup[(mask, m)] for m in methods)
      cell = f"{lookup[(mask, method)]:.2f}"
      cells.append(f"**{cell}**" if lookup[(mask, method)] == best else cell)
    lines.append(f"| {mask} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def figure_rows(images, evaluation: MaskEvaluation, methods, count: int):
  """Rows of original, corrupted (holes black), each method's output."""
  shown = slice(0, count)
  holes = blend_lib.overlay(evaluation.corrupted[shown],
                            -np.ones_like(evaluation.corrupted[shown]),
                            evaluation.masks[shown])
  columns = [images[shown], holes] + [evaluation.outputs[m][shown]
                                      for m in methods]
  return [list(row) for row in zip(*columns)]
