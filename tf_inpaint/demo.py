"""The web page: paint a hole on a photo and watch it filled (Gradio).

`inpaint_request` is the function behind the page's button and works without
a browser; `build_page` lays the page out around it. It stands on the public
API (`tf_inpaint.load_model(...).inpaint`), so the page fills photos exactly
as Python and `bin/inpaint` do. Gradio is an optional dependency:
`pip install -e ".[demo]"`.
"""
import dataclasses
import os
import tempfile
import threading

import numpy as np

from tf_inpaint import api, baselines, inpaint, masks, models, photos
from tf_inpaint.errors import InputError

MAX_SIDE = 4096  # px; larger photos are refused with a message
# The hole: painted with the brush, or one of the package's masks, drawn at
# the model's resolution inside its training frame as bin/inpaint draws it.
HOLES = ("painted", "center", "random80", "pattern", "left", "right", "circle",
         "square")
# Ours, and the local baselines that run in seconds at the photo's size.
METHODS = ("ours", "biharmonic", "tv")
DEFAULT_ITERATIONS = 300


@dataclasses.dataclass
class DemoResult:
  """What the page shows: uint8 images, and the result as a PNG file."""
  image: np.ndarray  # the photo's size, its hole filled
  generated: np.ndarray | None  # G(z) at the model's resolution (ours only)
  corrupted: np.ndarray  # the photo with its hole black
  path: str  # the result, written as PNG for download


class ModelCache:
  """Loads each model once, on first use; one request at a time per page."""

  def __init__(self):
    self._models = {}
    self._lock = threading.Lock()

  def get(self, name: str) -> api.InpaintingModel:
    with self._lock:
      if name not in self._models:
        self._models[name] = api.load_model(name)
      return self._models[name]


def photo_and_painted_hole(editor_value) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 HxWx3 photo, bool hole) from an ImageEditor value (numpy type):
  the background is the photo, and every painted pixel of any layer is
  missing."""
  background = (editor_value or {}).get("background")
  if background is None:
    raise InputError("photo: upload a photo or pick a sample first")
  background = np.asarray(background)
  if background.ndim == 2:
    background = np.repeat(background[..., None], 3, axis=-1)
  if background.dtype != np.uint8 or background.ndim != 3:
    raise InputError(f"photo: not an image ({background.dtype}, shape "
                     f"{background.shape})")
  height, width = background.shape[:2]
  if max(height, width) > MAX_SIDE:
    raise InputError(f"photo: {width}x{height} px, more than the {MAX_SIDE} "
                     "px this page takes; shrink it first")
  hole = np.zeros((height, width), bool)
  for layer in editor_value.get("layers") or []:
    layer = np.asarray(layer)
    if layer.shape[:2] == hole.shape:
      hole |= (layer[..., 3] > 0) if layer.shape[-1] == 4 else layer.any(-1)
  return background[..., :3].copy(), hole


def _named_hole(model: api.InpaintingModel, shape: tuple, hole_name: str,
                seed: int) -> np.ndarray:
  """A package mask as a hole of the photo's size (in the training frame)."""
  frame = photos.training_frame(*shape[:2], model.crop)
  mask = masks.make_masks(hole_name, 1, model.image_size, seed)[0]
  return photos.hole_from_model_mask(mask, frame, shape)


def _fill_with_baseline(photo: np.ndarray, hole: np.ndarray,
                        method: str) -> np.ndarray:
  """A local baseline at the photo's size; known pixels copied unchanged."""
  known = (~hole)[None, ..., None].astype(np.float32)
  corrupted = (photo[None].astype(np.float32) / 127.5 - 1.0) * known
  fill = {"biharmonic": baselines.biharmonic,
          "tv": baselines.total_variation}[method](corrupted, known)[0]
  result = photo.copy()
  result[hole] = np.clip(np.round((np.asarray(fill)[hole] + 1.0) * 127.5),
                         0, 255).astype(np.uint8)
  return result


def inpaint_request(editor_value, hole_name: str, model_name: str,
                    method: str, iterations, seed, cache: ModelCache,
                    on_progress=None, precision: str = "float32"
                    ) -> DemoResult:
  """The page's button: a photo and its painted layer (or a named hole) ->
  the photo at its size with the hole filled; `precision` is the server's
  (bin/demo --precision) for every request.

  Raises:
    InputError: with the message the page shows (no photo, no hole, a photo
      too large, a hole larger than the model's frame, bad numbers).
  """
  if hole_name not in HOLES:
    raise InputError(f"hole={hole_name!r}: expected one of {', '.join(HOLES)}")
  if method not in METHODS:
    raise InputError(f"method={method!r}: expected one of {', '.join(METHODS)}")
  if iterations is None or int(iterations) != iterations or iterations < 1:
    raise InputError(f"iterations={iterations}: expected a whole number >= 1")
  seed = int(seed or 0)
  photo, hole = photo_and_painted_hole(editor_value)
  model = cache.get(model_name)
  if hole_name != "painted":
    hole = _named_hole(model, photo.shape, hole_name, seed)
  if not hole.any():
    raise InputError("hole: paint the hole with the brush, or pick a mask")
  generated = None
  if method == "ours":
    defaults = inpaint.default_options(
        model_name, "file" if hole_name == "painted" else hole_name)
    result = model.inpaint(photo, hole, **{**defaults,
                                           "iterations": int(iterations),
                                           "seed": seed,
                                           "precision": precision},
                           on_progress=on_progress)
    image = result.image
    generated = np.round((result.generated + 1.0) * 127.5).astype(np.uint8)
  else:
    image = _fill_with_baseline(photo, hole, method)
  corrupted = np.where(hole[..., None], 0, photo).astype(np.uint8)
  path = os.path.join(tempfile.mkdtemp(prefix="tf_inpaint_demo_"),
                      "inpainted.png")
  from PIL import Image  # pylint: disable=g-import-not-at-top
  Image.fromarray(image).save(path)
  return DemoResult(image, generated, corrupted, path)


def sample_photos(model_names) -> list[str]:
  """The first sample images of the bundled models, for the page's examples."""
  paths = []
  for name in model_names:
    folder = models.bundled_samples(name)
    if folder and os.path.isdir(folder):
      paths += [os.path.join(folder, f) for f in sorted(os.listdir(folder))[:3]]
  return paths


def build_page(model_names: list[str], cache: ModelCache | None = None,
               precision: str = "float32"):
  """The Gradio Blocks page; requests are queued, one at a time, each
  computed in `precision`."""
  import gradio as gr  # pylint: disable=g-import-not-at-top
  cache = cache or ModelCache()

  def on_click(editor_value, hole_name, model_name, method, iterations, seed,
               progress=gr.Progress()):
    progress(0.0, desc="loading the model")
    try:
      result = inpaint_request(
          editor_value, hole_name, model_name, method, iterations, seed, cache,
          on_progress=lambda done: progress(done, desc="searching z"),
          precision=precision)
    except InputError as e:
      raise gr.Error(str(e)) from e
    return result.image, result.generated, result.corrupted, result.path

  with gr.Blocks(title="tf_inpaint") as page:
    gr.Markdown(
        "## tf_inpaint: semantic inpainting with a DCGAN prior\n"
        "Upload a photo (or pick a sample below), paint the hole with the "
        "brush or pick a mask, and press **Inpaint**. The model fills its "
        "own frame of the photo (faces: the CelebA crop) and the fill is "
        "blended into the photo at its size; every other pixel is kept.")
    with gr.Row():
      editor = gr.ImageEditor(
          label="Photo: paint the hole", type="numpy", image_mode="RGB",
          sources=["upload", "clipboard"], transforms=[], layers=False,
          brush=gr.Brush(colors=["#ff00ff"], default_color="#ff00ff",
                         color_mode="fixed"),
          elem_id="photo")
      with gr.Column():
        model = gr.Dropdown(list(model_names), value=model_names[0],
                            label="Model", elem_id="model")
        hole = gr.Radio(list(HOLES), value="painted", label="Hole",
                        elem_id="hole")
        method = gr.Radio(list(METHODS), value="ours", label="Method",
                          elem_id="method")
        iterations = gr.Number(DEFAULT_ITERATIONS, precision=0, minimum=1,
                               maximum=5000, label="Iterations (ours)",
                               elem_id="iterations")
        seed = gr.Number(0, precision=0, label="Seed", elem_id="seed")
        button = gr.Button("Inpaint", variant="primary", elem_id="inpaint")
    with gr.Row():
      result = gr.Image(label="Inpainted, at the photo's size", type="numpy",
                        format="png", height=320, elem_id="result")
      generated = gr.Image(label="G(z), the model's own fill", type="numpy",
                           height=320, elem_id="generated")
      corrupted = gr.Image(label="Corrupted input", type="numpy", height=320,
                           elem_id="corrupted")
    download = gr.File(label="Download the result", elem_id="download")
    samples = sample_photos(model_names)
    if samples:
      gr.Examples(samples, inputs=[editor], label="Samples of the bundled models")
    button.click(on_click,
                 inputs=[editor, hole, model, method, iterations, seed],
                 outputs=[result, generated, corrupted, download])
  page.queue(default_concurrency_limit=1)
  return page
