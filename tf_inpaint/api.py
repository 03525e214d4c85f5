"""The Python API: a trained model that inpaints photos at their own size.

  import tf_inpaint
  model = tf_inpaint.load_model("celeba64")
  result = model.inpaint(photo, hole)   # HxWx3 uint8/float; HxW, True = missing
  result.image                          # the photo, its hole filled

Everything `bin/inpaint` does is here as keyword arguments (the fields of
InpaintConfig: iterations, restarts, lam, blend, tune_iters, seed, ...).
"""
import dataclasses

import numpy as np

from tf_inpaint import config, data, inpaint, masks, models, photos, precision
from tf_inpaint.errors import InputError


@dataclasses.dataclass
class PhotoResult:
  """One inpainted photo.

  Attributes:
    image: the photo with its hole filled: the input's size and dtype, every
      known pixel unchanged.
    hole: bool HxW, True = missing, as it was read.
    frame: the part of the photo the model saw, and why it was chosen.
    crop, crop_mask: the model's view of the frame, (S, S, 3) in [-1, 1]
      and (S, S, 1), 1 = known.
    generated: G(z) at the model's resolution, (S, S, 3) in [-1, 1].
    blended: the model-resolution result, (S, S, 3) in [-1, 1].
    contextual_loss, perceptual_loss: the losses of the returned z.
  """
  image: np.ndarray
  hole: np.ndarray
  frame: photos.Frame
  crop: np.ndarray
  crop_mask: np.ndarray
  generated: np.ndarray
  blended: np.ndarray
  contextual_loss: float
  perceptual_loss: float


_OPTIONS = tuple(f.name for f in dataclasses.fields(config.InpaintConfig))


class InpaintingModel:
  """A bundled or trained DCGAN (and its z encoder, if any) ready to inpaint."""

  def __init__(self, name: str, model_config, train_config, generator,
               discriminator, encoder=None):
    self.name = name
    self.config = model_config
    self.crop = data.training_crop(train_config)  # frames photos as trained
    self.generator = generator
    self.discriminator = discriminator
    self.encoder = encoder
    self._inpainter = None  # built on the first call, then reconfigured

  @property
  def image_size(self) -> int:
    return self.config.image_size

  def inpaint(self, photo, hole, *, progress: bool = False, on_progress=None,
              **options):
    """Fills the hole of a photo, or of each photo of a batch.

    Args:
      photo: HxWx3 uint8 (0-255) or float (0-1), any size; or a batch: a
        list of such photos (sizes may differ) or an NHWC array.
      hole: HxW (or HxWx1) bool, or 0/1 or 0/255 numbers; True / non-zero =
        missing. For a batch, one hole per photo (a list or an NHW array).
      progress: show a progress bar of the search.
      on_progress: optional callable given the fraction of the search done.
      **options: InpaintConfig fields (iterations, restarts, lam, blend,
        tune_iters, seed, batch_size, precision, ...); the rest keep
        bin/inpaint's defaults.
    Returns:
      A PhotoResult, or a list of them for a batch.
    Raises:
      ValueError: naming the photo, hole or option that is wrong.
    """
    batched = isinstance(photo, (list, tuple)) or np.ndim(photo) == 4
    photo_list = list(photo) if batched else [photo]
    hole_list = list(hole) if batched else [hole]
    if len(hole_list) != len(photo_list):
      raise InputError(f"hole: {len(hole_list)} holes for {len(photo_list)} "
                       "photos, expected one each")
    inpaint_config = self._config(options)
    names = [f"photo[{i}]" if batched else "photo"
             for i in range(len(photo_list))]
    shapes = [photos.check_photo(p, n).shape
              for p, n in zip(photo_list, names)]
    holes = [photos.check_hole(h, shape, n.replace("photo", "hole"))
             for h, shape, n in zip(hole_list, shapes, names)]
    frames = [photos.choose_frame(h, self.crop) for h in holes]
    views = [photos.model_view(np.asarray(p), h, f, self.image_size)
             for p, h, f in zip(photo_list, holes, frames)]
    crops = np.stack([v[0] for v in views])
    crop_masks = np.stack([v[1] for v in views])
    masks.check_masks(crop_masks)
    result = self._inpainter_for(inpaint_config, progress).inpaint(
        crops, crop_masks, on_progress=on_progress)
    results = [
        PhotoResult(
            image=photos.paste_back(p, h, f, result.generated[i],
                                    inpaint_config.blend,
                                    inpaint_config.blend_detail),
            hole=h, frame=f, crop=crops[i], crop_mask=crop_masks[i],
            generated=result.generated[i], blended=result.blended[i],
            contextual_loss=float(result.contextual_loss[i]),
            perceptual_loss=float(result.perceptual_loss[i]))
        for i, (p, h, f) in enumerate(zip(photo_list, holes, frames))]
    return results if batched else results[0]

  def _inpainter_for(self, inpaint_config, progress: bool):
    """An Inpainter for these options: one per loaded model, reconfigured
    when they change, so its traced functions serve every call."""
    if self._inpainter is None:
      self._inpainter = inpaint.Inpainter(
          self.generator, self.discriminator, inpaint_config,
          progress=progress, encoder=self.encoder)
    elif (self._inpainter.config != inpaint_config
          or self._inpainter.progress != progress):
      self._inpainter = self._inpainter.reconfigured(inpaint_config, progress)
    return self._inpainter

  def _config(self, options: dict) -> config.InpaintConfig:
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
      raise InputError(f"{unknown[0]}: not an inpainting option; expected "
                       f"one of {', '.join(_OPTIONS)}")
    # A drawn hole is no named mask: the defaults of --mask=file.
    options = {**inpaint.default_options(self.name, "file"), **options}
    try:
      return precision.resolved(config.InpaintConfig(**options))
    except ValueError as e:
      raise InputError(str(e)) from e


def load_model(model: str = "celeba64", *, init: str = "auto",
               encoder: str | None = None) -> InpaintingModel:
  """Loads a model to inpaint with.

  Args:
    model: a bundled model's name (celeba64, svhn32), a run directory of
      bin/train, or an exported model directory.
    init: start of the z search: `encoder`, `random`, or `auto` (the
      model's encoder when it has one).
    encoder: a z encoder (bundled name or run directory) for `init`;
      default: the bundled model's own.
  Raises:
    ValueError: if the model or encoder cannot be loaded, naming it.
  """
  model_config, train_config, generator, discriminator = models.load(
      model, "dcgan")
  _, encoder_model = models.start_encoder(init, encoder, model, generator,
                                          flag=f"init={init}")
  return InpaintingModel(model, model_config, train_config, generator,
                         discriminator, encoder_model)
