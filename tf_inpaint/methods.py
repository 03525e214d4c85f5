"""The names of the evaluated methods and masks, and their check.

Without TensorFlow, so `bin/evaluate` refuses a mistyped name in a second;
`evaluate.py` runs the methods.
"""
from tf_inpaint import masks as masks_lib
from tf_inpaint.errors import InputError

# Our method, its ablations and extensions: name -> changes to the
# InpaintConfig. `ours` is the paper's method whatever the flags say of
# tuning; `ours_tuned` tunes for --tune_iters (or DEFAULT_TUNE_ITERS);
# `ours_default` is what `bin/inpaint` does given only the model and mask
# (`inpaint.default_options`, its iteration count included where the model
# sets one, and the model's own encoder when it has one).
OURS = {
    "ours": {"tune_iters": 0},
    "ours_no_perceptual": {"lam": 0.0, "tune_iters": 0},  # Fig. 2
    "ours_binary": {"weighting": "binary", "tune_iters": 0},  # W = M
    "ours_encoder": {"tune_iters": 0},  # the search starts from E(y, M)
    "ours_tuned": {},  # the search, then per-image tuning of G
    "ours_default": {},  # default_options of the model and mask
}
ENCODER_METHODS = ("ours_encoder",)  # need an encoder
BASELINES = ("tv", "lowrank", "nn", "biharmonic", "context_encoder")
METHODS = (*OURS, *BASELINES)
# The default selection: the paper's comparisons that need nothing beyond
# the DCGAN itself.
DEFAULT_METHODS = ("ours", "ours_no_perceptual", "ours_binary", "tv",
                   "lowrank", "nn", "biharmonic")


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
