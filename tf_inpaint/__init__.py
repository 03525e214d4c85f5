"""Semantic image inpainting with a DCGAN prior (Yeh et al., CVPR 2017).

  import tf_inpaint
  model = tf_inpaint.load_model("celeba64")   # bundled name or run directory
  result = model.inpaint(photo, hole)         # hole: HxW, True = missing
  result.image                                # same size and dtype as photo

The names below are imported on first use, so `import tf_inpaint` (and the
command-line tools' --help) does not start TensorFlow.
"""
import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_model": "tf_inpaint.api",
    "InpaintingModel": "tf_inpaint.api",
    "PhotoResult": "tf_inpaint.api",
    "Frame": "tf_inpaint.photos",
    "Inpainter": "tf_inpaint.inpaint",
    "InpaintResult": "tf_inpaint.inpaint",
    "InpaintConfig": "tf_inpaint.config",
    "InputError": "tf_inpaint.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
  if name in _EXPORTS:
    return getattr(importlib.import_module(_EXPORTS[name]), name)
  raise AttributeError(f"module 'tf_inpaint' has no attribute {name!r}")


def __dir__():
  return sorted(__all__)
