"""Frozen configuration dataclasses and their JSON round-trip.

A run directory's `config.json` holds a `ModelConfig` and a `TrainConfig`; the
networks are always rebuilt from it, never from command-line flags.
"""
import dataclasses
import json
import math
import os
from typing import Any

from tf_inpaint.errors import InputError
from tf_inpaint.precision import PRECISIONS

# How 5x5 stride-2 layers are computed (conv_choice.py); results are equal up
# to float rounding.
CONV_IMPLS = ("auto", "phase", "native")

SUPPORTED_IMAGE_SIZES = (32, 64, 128)
STRATEGIES = ("default", "mirrored", "multi_worker_mirrored")
AUGMENTATIONS = ("auto", "none", "flip", "flip_rot90", "digits")
CROPS = ("auto", "none", "square", "celeba")
# The names of registries whose modules need TensorFlow, which this module
# must not import (flags are checked before TensorFlow loads); a test holds
# each equal to its registry.
ARCHITECTURES = ("dcgan", "context_encoder", "encoder")  # models.ARCHITECTURES
MASK_FAMILIES = ("center", "random")  # context_encoder.MASK_FAMILIES
GAN_LOSSES = ("non_saturating", "hinge")  # losses.GAN_LOSSES
DIFF_AUGMENTATIONS = ("color", "translation", "cutout")  # diff_augment.POLICIES
CONFIG_FILENAME = "config.json"
# Photo files larger than this are refused before they are decoded (a flag
# raises it); inpainting one takes about 20 bytes per pixel at its peak.
MAX_PHOTO_MEGAPIXELS = 100.0
CHECKPOINT_SUBDIR = "checkpoints"


def _require(condition: bool, message: str) -> None:
  if not condition:
    raise InputError(message)


def _require_positive(config, *names: str) -> None:
  for name in names:
    value = getattr(config, name)
    _require(value >= 1, f"{name}={value}: expected a positive integer")


def _require_choice(config, name: str, choices) -> None:
  value = getattr(config, name)
  _require(value in choices,
           f"{name}={value!r}: expected one of {', '.join(choices)}")


def _require_finite_and_seeded(config) -> None:
  """Every float field finite (inf or NaN would train or search to NaN), and
  a non-negative seed (TensorFlow's stateless ops need one)."""
  for field in dataclasses.fields(config):
    value = getattr(config, field.name)
    if isinstance(value, float):
      _require(math.isfinite(value),
               f"{field.name}={value}: expected a finite number")
  if hasattr(config, "seed"):
    _require(config.seed >= 0, f"seed={config.seed}: expected >= 0")


def parse_diff_augment(policy: str) -> tuple[str, ...]:
  """The changes of a DiffAugment policy: `none` -> (), `color,cutout` -> both.

  Raises:
    ValueError: naming an unknown or repeated change.
  """
  if policy == "none":
    return ()
  names = tuple(name.strip() for name in policy.split(","))
  for name in names:
    if name not in DIFF_AUGMENTATIONS:
      raise ValueError(f"{name!r} is not a change")
  if len(set(names)) != len(names):
    raise ValueError("a change is listed twice")
  return names


def _require_adam(config) -> None:
  _require_finite_and_seeded(config)
  _require(config.learning_rate > 0,
           f"learning_rate={config.learning_rate}: expected > 0")
  _require(0 <= config.beta1 < 1, f"beta1={config.beta1}: expected in [0, 1)")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Architecture of a network pair (the paper's DCGAN at the defaults).

  Attributes:
    image_size: side of the square images; one of SUPPORTED_IMAGE_SIZES.
    z_dim: length of the latent vector z, drawn from U[-1, 1] (DCGAN only).
    base_filters: channels of G's last hidden layer and of D's first layer;
      doubled at every halving of resolution (64 gives 4x4x512 at 64x64).
    channels: image channels.
    architecture: what to train, a row of `models.ARCHITECTURES`: `dcgan`
      (the paper's; G maps z to an image), `context_encoder` (Pathak et
      al.'s baseline; G maps an image with holes to a completed one) or
      `encoder` (maps an image with holes to a starting z for a DCGAN).
    mask_family: the masks a context encoder learns to fill: `center`, or
      `random` (random80 or pattern per batch); none for a DCGAN, which
      serves every mask.
    generator: for an `encoder`: the DCGAN it inverts (a bundled name or a
      path), which stays frozen; its image size and z_dim are the encoder's.
    generator_digest: for an `encoder`: the fingerprint of that G's weights,
      filled in when training starts, checked wherever the encoder is used.
    spectral_norm: spectrally normalised D (Miyato et al.): every weight
      divided by its largest singular value, and no BN in D; off keeps the
      paper's DCGAN discriminator.
  """
  image_size: int = 64
  z_dim: int = 100
  base_filters: int = 64
  channels: int = 3
  architecture: str = "dcgan"
  mask_family: str | None = None
  generator: str | None = None
  generator_digest: str | None = None
  spectral_norm: bool = False

  def __post_init__(self):
    _require(self.image_size in SUPPORTED_IMAGE_SIZES,
             f"image_size={self.image_size}: expected one of "
             f"{', '.join(map(str, SUPPORTED_IMAGE_SIZES))}")
    _require_positive(self, "z_dim", "base_filters")
    _require(self.channels in (1, 3),
             f"channels={self.channels}: expected 1 or 3")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """How a DCGAN is trained.

  Attributes:
    dataset: dataset spec: a TFDS name, `folder:PATH` or `mat:PATH`; several
      joined by `+` are mixed in proportion to their sizes, each taking
      `@FIRST-LAST` (1-based, inclusive; `@FIRST-` to its end) or all its
      images (`folder:A@1-8000+folder:B`).
    data_dir: TFDS data directory (None: TFDS's default).
    split: dataset split (TFDS only; folders and .mat files have one split).
    first_image: 1-based index of the first image used, in the dataset's order
      (sorted file names for folders), so a held-out tail stays unseen; in
      folders, negative counts from the end (-3: the third-last).
    num_images: how many images from `first_image` on; 0 means all, and
      negative (folders) all but that many at the end.
    per_subfolder: count `first_image` and `num_images` in each folder of
      images (class folders, as in DTD's layout), so every class gives the
      same share; folder datasets only.
    crop: central crop before resizing: `celeba` (the DCGAN face framing),
      `square`, `none`, or `auto` (chosen per dataset).
    augment: `flip` (horizontal flips, for faces and scenes), `flip_rot90`
      (flips and 90-degree turns, for textures), `digits` (small shifts,
      colour jitter, inversion; never flips), `none`, or `auto`.
    batch_size: global batch size, split over replicas.
    steps: total training steps; raising it and rerunning continues a run.
    learning_rate: Adam learning rate of G (and of D unless
      `d_learning_rate` is set).
    d_learning_rate: Adam learning rate of D, for two time-scale updates
      (TTUR, Heusel et al.: e.g. 1e-4 for G, 4e-4 for D); 0 means
      `learning_rate`.
    beta1: Adam beta_1 for both networks.
    gan_loss: the adversarial losses, a row of `losses.GAN_LOSSES`:
      `non_saturating` (the paper's DCGAN) or `hinge` (SN-GAN, BigGAN).
    r1_gamma: weight of the R1 penalty gamma/2 * ||grad D(x)||^2 on real
      images (Mescheder et al.; StyleGAN2); 0 turns it off.
    r1_every: lazy R1: the penalty, scaled by this, is added every
      `r1_every` steps instead of each step (StyleGAN2 uses 16).
    diff_augment: DiffAugment policy (Zhao et al.) for small datasets: the
      changes applied to every image D sees, real or generated, a
      comma-separated list of `color`, `translation`, `cutout`, or `none`.
    seed: the one seed for weights, data order, augmentation and noise.
    strategy: `default`, `mirrored` or `multi_worker_mirrored`.
    checkpoint_every: steps between checkpoints.
    summary_every: steps between scalar summaries and progress lines.
    image_every: steps between image grids of the fixed z batch.
    ema_decay: decay of the exponential moving average of G's weights kept
      beside G (0 turns it off); inpainting and export use the average,
      which is smoother than the last step's G (StyleGAN's G_ema).
    init_from: warm start: a bundled model, run directory or exported model
      of the same architecture and size whose G, D (and EMA G) a new run
      starts from, with fresh optimizers; None starts from random weights.
    precision: `float32`, `mixed_bfloat16` (bf16 compute, float32 weights;
      fast on CPUs with AVX512-BF16 or AMX), `mixed_float16` (GPUs, with
      loss scaling) or `auto` (bf16 where the hardware has it, else float32;
      a resumed run keeps the precision it started with).
    conv_impl: how the 5x5 stride-2 layers are computed: `phase` (on the
      forward convolution kernel), `native` (TensorFlow's own kernels) or
      `auto` (per layer the faster, measured once per machine and cached);
      results are equal up to float rounding.
  """
  dataset: str
  data_dir: str | None = None
  split: str = "train"
  first_image: int = 1
  num_images: int = 0
  per_subfolder: bool = False
  crop: str = dataclasses.field(default="auto", metadata={"choices": CROPS})
  augment: str = dataclasses.field(default="auto",
                                   metadata={"choices": AUGMENTATIONS})
  batch_size: int = 64
  steps: int = 10000
  learning_rate: float = 2e-4
  d_learning_rate: float = 0.0
  beta1: float = 0.5
  gan_loss: str = dataclasses.field(default="non_saturating",
                                    metadata={"choices": GAN_LOSSES})
  r1_gamma: float = 0.0
  r1_every: int = 16
  diff_augment: str = "none"
  seed: int = 0
  strategy: str = dataclasses.field(default="default",
                                    metadata={"choices": STRATEGIES})
  checkpoint_every: int = 500
  summary_every: int = 50
  image_every: int = 500
  ema_decay: float = 0.999
  init_from: str | None = None
  precision: str = dataclasses.field(default="auto",
                                     metadata={"choices": PRECISIONS})
  conv_impl: str = dataclasses.field(default="auto",
                                     metadata={"choices": CONV_IMPLS})

  # Fields that may change when a run is continued: they set how long and how
  # often, or how fast, not what is computed.
  RESUMABLE_FIELDS = ("steps", "checkpoint_every", "summary_every",
                      "image_every", "conv_impl")
  # What a config.json written before a field existed meant by leaving it out.
  LEGACY_VALUES = {"ema_decay": 0.0, "precision": "float32"}

  def __post_init__(self):
    _require(bool(self.dataset), "dataset: expected a dataset spec, got ''")
    _require(self.first_image != 0,
             "first_image=0: expected >= 1 (1-based), or < 0 to count from "
             "the end")
    _require_choice(self, "crop", CROPS)
    _require_choice(self, "augment", AUGMENTATIONS)
    _require_choice(self, "strategy", STRATEGIES)
    _require_choice(self, "precision", PRECISIONS)
    _require_choice(self, "conv_impl", CONV_IMPLS)
    _require_choice(self, "gan_loss", GAN_LOSSES)
    _require_positive(self, "batch_size", "steps", "checkpoint_every",
                      "summary_every", "image_every", "r1_every")
    _require_adam(self)
    _require(self.d_learning_rate >= 0,
             f"d_learning_rate={self.d_learning_rate}: expected > 0, or 0 "
             "for learning_rate")
    _require(self.r1_gamma >= 0,
             f"r1_gamma={self.r1_gamma}: expected >= 0 (0 = off)")
    try:
      parse_diff_augment(self.diff_augment)
    except ValueError as e:
      raise InputError(f"diff_augment={self.diff_augment!r}: {e}; expected "
                       f"none or a comma-separated list of "
                       f"{', '.join(DIFF_AUGMENTATIONS)}") from e
    _require(0 <= self.ema_decay < 1,
             f"ema_decay={self.ema_decay}: expected in [0, 1) (0 = off)")
    _require(self.init_from is None or bool(self.init_from),
             "init_from: expected a model name or path, got ''")


def _from_dict(cls, values: dict[str, Any], source: str):
  known = {f.name for f in dataclasses.fields(cls)}
  unknown = sorted(set(values) - known)
  _require(not unknown, f"{source}: unknown {cls.__name__} fields {unknown}")
  legacy = getattr(cls, "LEGACY_VALUES", {})
  return cls(**{**{k: v for k, v in legacy.items() if k not in values},
                **values})


def run_config_payload(model: ModelConfig, train: TrainConfig | None,
                       inpaint_defaults: dict | None = None) -> dict:
  """The JSON form of a run's configs, as `config.json` holds them, with the
  inpainting defaults measured for the model, if any (keyed by mask)."""
  payload = {"model": dataclasses.asdict(model)}
  if train is not None:
    payload["train"] = dataclasses.asdict(train)
  if inpaint_defaults:
    payload["inpaint_defaults"] = inpaint_defaults
  return payload


def check_inpaint_defaults(defaults, source: str) -> dict:
  """Refuses inpainting defaults that are not {mask: {InpaintConfig field:
  value}} with values an InpaintConfig takes."""
  if not isinstance(defaults, dict):
    raise InputError(f"{source}: inpaint_defaults is not a mapping of masks")
  for mask, options in defaults.items():
    try:
      InpaintConfig(**options)
    except (TypeError, InputError) as e:
      raise InputError(f"{source}: inpaint_defaults[{mask!r}] is not a set "
                       f"of inpainting options ({e})") from e
  return defaults


def load_inpaint_defaults(directory: str) -> dict:
  """The `inpaint_defaults` of a run or exported directory's config.json:
  {mask: {InpaintConfig field: value}}, measured for that model; {} when
  there is none (the paper's method then)."""
  path = os.path.join(directory, CONFIG_FILENAME)
  if not os.path.isfile(path):
    return {}
  try:
    with open(path) as f:
      payload = json.load(f)
  except (OSError, json.JSONDecodeError):
    return {}  # loading the model says what is wrong with the file
  return check_inpaint_defaults(payload.get("inpaint_defaults") or {}, path)


def run_config_from_payload(payload: dict, source: str):
  """(ModelConfig, TrainConfig or None) from `run_config_payload`'s form."""
  try:
    model = _from_dict(ModelConfig, payload["model"], source)
    train = (_from_dict(TrainConfig, payload["train"], source)
             if payload.get("train") is not None else None)
  except (KeyError, TypeError) as e:
    raise InputError(f"{source}: not a valid run config ({e})") from e
  return model, train


def save_run_config(run_dir: str, model: ModelConfig,
                    train: TrainConfig | None,
                    inpaint_defaults: dict | None = None) -> str:
  """Writes `config.json` atomically (no half-written file on a crash)."""
  path = os.path.join(run_dir, CONFIG_FILENAME)
  tmp_path = path + ".tmp"
  with open(tmp_path, "w") as f:
    json.dump(run_config_payload(model, train, inpaint_defaults), f, indent=2,
              sort_keys=True)
    f.write("\n")
  os.replace(tmp_path, path)
  return path


def load_run_config(run_dir: str) -> tuple[ModelConfig, TrainConfig | None]:
  """Reads a run directory's `config.json`; InputError if it is not a run."""
  path = os.path.join(run_dir, CONFIG_FILENAME)
  if not os.path.isfile(path):
    raise InputError(f"{run_dir}: not a run directory (no {CONFIG_FILENAME})")
  try:
    with open(path) as f:
      payload = json.load(f)
  except json.JSONDecodeError as e:
    raise InputError(f"{path}: not a valid run config ({e})") from e
  return run_config_from_payload(payload, path)


def checkpoint_dir(run_dir: str) -> str:
  """Where a run directory keeps its `tf.train.Checkpoint`s."""
  return os.path.join(run_dir, CHECKPOINT_SUBDIR)


def config_differences(saved, requested, ignore=()) -> list[str]:
  """Lists `field: saved -> requested` for every differing dataclass field."""
  return [
      f"{f.name}: {getattr(saved, f.name)!r} -> {getattr(requested, f.name)!r}"
      for f in dataclasses.fields(saved)
      if f.name not in ignore
      and getattr(saved, f.name) != getattr(requested, f.name)
  ]


WEIGHTINGS = ("importance", "binary")
BLENDS = ("poisson", "biharmonic", "overlay")
LR_SCHEDULES = ("constant", "cosine")
RESTART_CHOICES = ("best", "mean")


@dataclasses.dataclass(frozen=True)
class InpaintConfig:
  """How holes are filled (Yeh et al., Sec. 3.2-3.3).

  Attributes:
    lam: weight of the perceptual loss log(1 - D(G(z))); 0.003 as in the
      paper. 0 drops it (the paper's Fig. 2 ablation).
    iterations: Adam steps on z; 1500 as in the paper.
    learning_rate: Adam learning rate for z (the peak, with a schedule).
    lr_schedule: `constant`, or `cosine`: a linear warm-up over the first
      5 % of the iterations, then a cosine decay to 0 (as StyleGAN2's
      projector ramps its learning rate up and down).
    beta1: Adam beta_1 for z.
    restarts: starts of z per image (random ones, or with an encoder its z
      first); `combine_restarts` makes one fill of them.
    combine_restarts: `best`: the restart with the lowest final loss (the
      paper); `mean`: the average of the restarts' fills, an estimate of the
      posterior mean, which minimises the expected squared error (higher
      PSNR, blurrier where the restarts disagree; beyond the paper).
    batch_size: images optimised together (each with `restarts` z's).
    weighting: contextual-loss weights: `importance` (CVPR version: missing
      fraction of a window around each known pixel) or `binary` (the mask).
    window_size: side of the importance window; 7 as in the paper.
    blend: `poisson` (eq. 6, closed form), `overlay` (eq. 5), or
      `biharmonic`: G(z) plus the biharmonic interpolation of the known
      pixels' residual y - G(z) (`blend.py`; beyond the paper).
    blend_detail: with `biharmonic`, the weight of G(z)'s detail over the
      biharmonic fill of the known pixels: 1 = G(z) plus the residual, 0 =
      the biharmonic baseline (`blend.py`; beyond the paper).
    stop_tolerance: stop searching an image's z once its total loss fell by
      less than this fraction over the last `stop_window` iterations; its
      z is kept from then, and a batch ends when all have stopped. 0 (off)
      runs every iteration (the paper).
    stop_window: iterations over which `stop_tolerance` is measured.
    tune_iters: after the search, Adam steps on a per-image copy of G's last
      `tune_layers` layers with z fixed (`tuning.py`); 0 = the paper's method.
    tune_layers: how many of G's convolutions, counted back from its image
      layer, tuning changes: 2 = the last upsampling convolution and the
      image layer; at most G's number of convolutions (every one).
    tune_learning_rate: Adam learning rate of that tuning.
    tune_penalty: weight of the tuned layers' squared change relative to
      their prior weights; higher keeps the fill closer to the prior.
    seed: seed of the initial z's (and, in bin/inpaint and bin/evaluate, of
      the masks).
    image_every: iterations between TensorBoard image panels.
    precision: what G and D compute in, as TrainConfig.precision; z, the
      losses, tuning and the blend stay float32. bf16 results depend on the
      batch size up to bf16 rounding, float32 ones do not.
    conv_impl: as TrainConfig.conv_impl; `auto` measures at `batch_size`
      (times `restarts`) rows, so the choice, and the results, do not depend
      on how many images a call gets.
  """
  lam: float = 0.003
  iterations: int = 1500
  learning_rate: float = 0.01
  lr_schedule: str = dataclasses.field(default="constant",
                                       metadata={"choices": LR_SCHEDULES})
  beta1: float = 0.9
  restarts: int = 1
  combine_restarts: str = dataclasses.field(
      default="best", metadata={"choices": RESTART_CHOICES})
  batch_size: int = 64
  weighting: str = dataclasses.field(default="importance",
                                     metadata={"choices": WEIGHTINGS})
  window_size: int = 7
  blend: str = dataclasses.field(default="poisson",
                                 metadata={"choices": BLENDS})
  blend_detail: float = 1.0
  stop_tolerance: float = 0.0
  stop_window: int = 50
  tune_iters: int = 0
  tune_layers: int = 2
  tune_learning_rate: float = 1e-3
  tune_penalty: float = 10.0
  seed: int = 0
  image_every: int = 100
  precision: str = dataclasses.field(default="float32",
                                     metadata={"choices": PRECISIONS})
  conv_impl: str = dataclasses.field(default="auto",
                                     metadata={"choices": CONV_IMPLS})

  def __post_init__(self):
    _require_choice(self, "precision", PRECISIONS)
    _require_choice(self, "conv_impl", CONV_IMPLS)
    _require(self.lam >= 0, f"lam={self.lam}: expected >= 0")
    _require_positive(self, "iterations", "restarts", "batch_size",
                      "image_every", "stop_window")
    _require(0 <= self.stop_tolerance < 1,
             f"stop_tolerance={self.stop_tolerance}: expected in [0, 1) "
             "(0 = off)")
    _require_adam(self)
    _require_choice(self, "weighting", WEIGHTINGS)
    _require_choice(self, "blend", BLENDS)
    _require(0 <= self.blend_detail <= 1,
             f"blend_detail={self.blend_detail}: expected 0 to 1")
    _require_choice(self, "lr_schedule", LR_SCHEDULES)
    _require_choice(self, "combine_restarts", RESTART_CHOICES)
    _require(self.tune_iters >= 0,
             f"tune_iters={self.tune_iters}: expected >= 0 (0 = no tuning)")
    _require(self.tune_layers >= 1,
             f"tune_layers={self.tune_layers}: expected >= 1")
    _require(self.tune_learning_rate > 0,
             f"tune_learning_rate={self.tune_learning_rate}: expected > 0")
    _require(self.tune_penalty >= 0,
             f"tune_penalty={self.tune_penalty}: expected >= 0")
    _require(self.window_size >= 1 and self.window_size % 2 == 1,
             f"window_size={self.window_size}: expected an odd positive "
             "integer")
