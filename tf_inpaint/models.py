"""The model registry and store: build, load, export and copy any architecture.

`ARCHITECTURES` maps a `ModelConfig.architecture` name to what the rest of the
package needs of it; a new architecture is one module plus one row here, and
nothing else tests an architecture's name. A model is a run directory
(`config.json` + checkpoints), a bundled name, or an exported directory
(`config.json` + `weights.npz`); it is always rebuilt from its config, and its
weights are matched by their Keras paths, never by position.
"""
import dataclasses
import hashlib
import os
import zipfile
import zlib
from typing import Callable, Protocol

import keras
import numpy as np
import tensorflow as tf

from tf_inpaint import checkpoints
from tf_inpaint import config as config_lib
from tf_inpaint import context_encoder
from tf_inpaint import encoder as encoder_lib
from tf_inpaint import layers as blocks
from tf_inpaint import networks
from tf_inpaint import precision as precision_lib
from tf_inpaint.config import ModelConfig
from tf_inpaint.errors import InputError


class Objective(Protocol):
  """An architecture's part of a training step; the Trainer owns the rest.

  Attributes:
    extra_metrics: names of the extra per-example values `fake` returns,
      averaged, logged and summarised beside the losses.
  """
  extra_metrics: tuple[str, ...]

  def prepare(self, generator: keras.Model, batches: tf.data.Dataset,
              fresh: bool) -> None:
    """Takes what it needs from the data before training (fresh: no restore)."""

  def fake(self, generator: keras.Model, real: tf.Tensor,
           seed: tf.Tensor) -> tuple[tf.Tensor, dict]:
    """Images for D to judge against `real`, and per-example extras."""

  def generator_loss(self, adversarial_loss: tf.Tensor | None,
                     extras: dict) -> tf.Tensor:
    """Per-example loss of G, given its per-example adversarial loss (of
    `TrainConfig.gan_loss`; None without a discriminator)."""

  def samples(self, generator: keras.Model) -> tf.Tensor:
    """The images of the TensorBoard progress panel."""


@dataclasses.dataclass(frozen=True)
class Architecture:
  """What the package needs of one architecture.

  Attributes:
    generator: ModelConfig -> the network inference uses (a keras.Model
      and layers.BuiltFromConfig: its `example_inputs` build its weights).
    objective: (ModelConfig, seed) -> its training `Objective`.
    needs_discriminator: whether inference uses D (the DCGAN's perceptual
      loss does; a context encoder does not, and is exported without it).
    mask_families: the mask families it can be trained on (None: it takes no
      `mask_family`), each mapped to the evaluation masks it covers.
    run_suffix: appended to default run directory names.
    adversarial: whether it is trained against a discriminator.
    inverts_generator: whether it is trained for one frozen DCGAN
      (`ModelConfig.generator`), which its objective then receives as a
      third argument.
  """
  generator: Callable[..., keras.Model]
  objective: Callable[..., Objective]
  needs_discriminator: bool
  mask_families: dict | None = None
  run_suffix: str = ""
  adversarial: bool = True
  inverts_generator: bool = False


ARCHITECTURES = {
    "dcgan": Architecture(
        generator=networks.Generator,
        objective=networks.DcganObjective,
        needs_discriminator=True),
    "context_encoder": Architecture(
        generator=context_encoder.ContextEncoder,
        objective=context_encoder.ContextEncoderObjective,
        needs_discriminator=False,
        mask_families=context_encoder.MASK_FAMILIES,
        run_suffix="_ce"),
    "encoder": Architecture(
        generator=encoder_lib.Encoder,
        objective=encoder_lib.EncoderObjective,
        needs_discriminator=False,
        run_suffix="_encoder",
        adversarial=False,
        inverts_generator=True),
}


def architecture(config: ModelConfig) -> Architecture:
  """The registry row of `config`, after checking its mask family.

  Raises:
    InputError: for an unknown architecture, or a mask family it cannot take.
  """
  row = ARCHITECTURES.get(config.architecture)
  if row is None:
    raise InputError(f"architecture={config.architecture!r}: expected one of "
                     f"{', '.join(ARCHITECTURES)}")
  if row.mask_families is not None:
    if config.mask_family not in row.mask_families:
      raise InputError(f"mask_family={config.mask_family}: a "
                       f"{config.architecture} needs a mask family, one of "
                       f"{', '.join(row.mask_families)}")
  elif config.mask_family is not None:
    raise InputError(f"mask_family={config.mask_family}: a "
                     f"{config.architecture} is not trained on one mask family")
  if row.inverts_generator and not config.generator:
    raise InputError(f"generator: an {config.architecture} needs the DCGAN it "
                     "inverts (--generator=celeba64 or a run directory)")
  if not row.inverts_generator and config.generator:
    raise InputError(f"generator={config.generator}: only an encoder is "
                     f"trained for a generator, not a {config.architecture}")
  return row


def build_generator(config: ModelConfig, name: str = "generator",
                    precision: str = "float32"):
  """Creates the architecture's G with its weights, computing in `precision`
  (a resolved `precision.PRECISIONS` value; weights are float32 in any)."""
  row = architecture(config)
  with precision_lib.policy(precision):
    generator = row.generator(config, name=name)
  generator(*row.generator.example_inputs(config))
  return generator


def build(config: ModelConfig, precision: str = "float32"):
  """Creates G and D with their weights, ready to restore or train.

  D is None for an architecture trained without one.
  """
  row = architecture(config)
  generator = build_generator(config, precision=precision)
  if not row.adversarial:
    return generator, None
  with precision_lib.policy(precision):
    discriminator = networks.Discriminator(config, name="discriminator")
  discriminator(generator(*row.generator.example_inputs(config)))
  return generator, discriminator


def make_objective(config: ModelConfig, seed: int) -> Objective:
  row = architecture(config)
  if row.inverts_generator:
    return row.objective(config, seed, inverted_generator(config))
  return row.objective(config, seed)


# What an encoder takes from the DCGAN it inverts.
_INHERITED_FIELDS = ("image_size", "z_dim", "channels")


def bind_generator(config: ModelConfig, given=()) -> ModelConfig:
  """An encoder's config completed from its DCGAN: sizes and G's digest.

  Args:
    config: an encoder's config naming its `generator`.
    given: fields the user set, which must then agree with G's.
  Raises:
    InputError: if `generator` is not a readable DCGAN, or disagrees with a
      `given` field.
  """
  generator_config, _, generator, _ = load(config.generator, "dcgan",
                                           flag="generator")
  for name in given:
    if name in _INHERITED_FIELDS and (getattr(config, name) !=
                                      getattr(generator_config, name)):
      raise InputError(
          f"{name}={getattr(config, name)}: the generator {config.generator} "
          f"has {name}={getattr(generator_config, name)}; leave it out")
  return dataclasses.replace(
      config, generator_digest=encoder_lib.generator_digest(generator),
      **{name: getattr(generator_config, name) for name in _INHERITED_FIELDS})


def inverted_generator(config: ModelConfig) -> keras.Model:
  """The frozen DCGAN generator an encoder config names, checked by digest."""
  generator = load(config.generator, "dcgan", flag="generator")[2]
  check_encoder_fits(config, generator, "generator", config.generator)
  return frozen_copy(generator)[0]


def check_encoder_fits(config: ModelConfig, generator: keras.Model,
                       flag: str, value: str | None = None) -> None:
  """Refuses an encoder config trained for a G other than `generator`.

  Args:
    flag, value: the flag (and its value) that named the mismatched model,
      for the message.
  """
  digest = encoder_lib.generator_digest(generator)
  if config.generator_digest != digest:
    named = flag if value is None else f"{flag}={value}"
    raise InputError(
        f"{named}: the encoder was trained for another generator "
        f"({config.generator}, digest {config.generator_digest}; this "
        f"generator's is {digest}); train one for it with bin/train "
        "--architecture=encoder --generator=...")


def start_encoder(init: str, encoder: str | None, model: str,
                  generator: keras.Model, flag: str = "init=encoder"):
  """(name, encoder) that starts the z search, or (None, None) for random.

  Args:
    init: `encoder`, `random`, or `auto` (the encoder when there is one).
    encoder: the --encoder flag (a bundled name or path), or None for the
      bundled encoder of a bundled `model`.
    model, generator: the --model flag and its loaded G.
    flag: what asked for an encoder, for the message when there is none.
  Raises:
    InputError: for `encoder` with no encoder, an encoder with `random`, or
      an encoder trained for another generator.
  """
  if init not in INITS:
    raise InputError(f"init={init!r}: expected one of {', '.join(INITS)}")
  if init == "random":
    if encoder:
      raise InputError(f"encoder={encoder}: not used with --init=random; "
                       "drop one of them")
    return None, None
  encoder = encoder or BUNDLED_ENCODERS.get(model)
  if encoder is None:
    if init == "encoder":
      raise InputError(f"{flag}: model {model} has no bundled encoder; "
                       "pass --encoder=RUN_DIR (bin/train "
                       f"--architecture=encoder --generator={model})")
    return None, None
  return encoder, load_encoder(encoder, generator)


def context_encoder_names(names, model: str) -> list:
  """The context encoders to compare `model` with: `names` (the
  --context_encoders flag) if given, else the bundled model's own.

  Raises:
    InputError: for neither.
  """
  if names:
    return list(names)
  if model not in BUNDLED_CONTEXT_ENCODERS:
    raise InputError(
        f"methods=context_encoder: model {model} has no bundled context "
        "encoders; pass --context_encoders=RUN_DIR,... (bin/train "
        "--architecture=context_encoder --mask_family=FAMILY)")
  return list(BUNDLED_CONTEXT_ENCODERS[model])


def load_encoder(encoder: str, generator: keras.Model,
                 flag: str = "encoder") -> keras.Model:
  """Loads an encoder and checks that it was trained for `generator`."""
  config, _, model, _ = load(encoder, "encoder", flag=flag)
  check_encoder_fits(config, generator, flag, encoder)
  return model


def _weights_by_path(model: keras.Model) -> dict:
  """A model's weights keyed by their path below the model (`project/kernel`)."""
  return {weight.path.split("/", 1)[1]: weight for weight in model.weights}


def copy_weights(source: keras.Model, target: keras.Model) -> None:
  """Assigns each weight of `source` to the weight of `target` at its path."""
  targets = _weights_by_path(target)
  sources = _weights_by_path(source)
  if set(sources) != set(targets):
    raise ValueError(f"{source.name} and {target.name} have different weights:"
                     f" {sorted(set(sources) ^ set(targets))[:3]}")
  for path, weight in sources.items():
    targets[path].assign(weight)


def frozen_copy(generator: keras.Model, discriminator: keras.Model = None,
                precision: str | None = None):
  """Copies of G and D (if given) for inference only, phase kernels computed once.

  Inpainting calls G and D thousands of times with fixed weights; rebuilding
  the phase kernels each time dominates small batches. Copies, so the
  originals stay trainable and no cache can go stale. They compute in
  `precision` (resolved), by default in G's own.
  """
  copy_g, copy_d = build(generator.config,
                         precision or precision_lib.of_model(generator))
  if discriminator is None:
    copy_d = None
  for source, target in ((generator, copy_g), (discriminator, copy_d)):
    if source is None:
      continue
    copy_weights(source, target)
    for layer in target._flatten_layers():  # pylint: disable=protected-access
      if isinstance(layer, blocks.FreezablePhases):
        layer.freeze_phases()
  return copy_g, copy_d


# Bundled model -> the folder of sample images shipped for it.
BUNDLED_MODELS = {
    "celeba64": "celeba64",
    "svhn32": "svhn32",
    "celeba64_ce_center": "celeba64",
    "celeba64_ce_random": "celeba64",
    "svhn32_ce_center": "svhn32",
    "svhn32_ce_random": "svhn32",
    "celeba64_encoder": "celeba64",
    "svhn32_encoder": "svhn32",
    "dtd64": "dtd64",
    "pets64": "pets64",
}
WEIGHTS_FILENAME = "weights.npz"
# Bundled generator -> the bundled encoder that starts its search by default
# (`--init=auto`), where the encoder start measurably beat random starts on
# validation images (README, Results). `svhn32_encoder` lost on the center
# block there, so it is bundled but used only when asked for (--encoder).
BUNDLED_ENCODERS = {"celeba64": "celeba64_encoder"}
INITS = ("auto", "encoder", "random")
# Bundled generator -> the bundled context encoders (one per mask family) that
# `bin/evaluate --methods=context_encoder` compares it with by default.
BUNDLED_CONTEXT_ENCODERS = {
    "celeba64": ("celeba64_ce_center", "celeba64_ce_random"),
    "svhn32": ("svhn32_ce_center", "svhn32_ce_random")}


def resolve(model: str) -> str:
  """A bundled model's name or a path -> the directory that holds it."""
  if model in BUNDLED_MODELS:
    from importlib import resources  # pylint: disable=g-import-not-at-top
    return str(resources.files("tf_inpaint") / "pretrained" / model)
  return model


def identity(model: str) -> str:
  """What a run's settings record of `model`: a bundled model by its name and
  weights' digest (the same bundle in any checkout, not a newer one), any
  other by its real path."""
  if model not in BUNDLED_MODELS:
    return os.path.realpath(model)
  digest = hashlib.sha256()
  with open(os.path.join(resolve(model), WEIGHTS_FILENAME), "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return f"{model} (bundled, weights sha256 {digest.hexdigest()[:16]})"


def bundled_samples(model: str) -> str | None:
  """The sample images (validation images) shipped with a bundled model."""
  if model not in BUNDLED_MODELS:
    return None
  from importlib import resources  # pylint: disable=g-import-not-at-top
  return str(resources.files("tf_inpaint") / "samples" /
             BUNDLED_MODELS[model])


def export_weights(generator, discriminator, path: str) -> None:
  """Saves G's and D's weights (D may be None) as float16, keyed by path.

  Keys are `generator/<path>` and `discriminator/<path>`, e.g.
  `generator/upsample_0/kernel`.
  """
  weights = {f"{prefix}/{path}": weight.numpy().astype(np.float16)
             for prefix, net in (("generator", generator),
                                 ("discriminator", discriminator))
             if net is not None
             for path, weight in _weights_by_path(net).items()}
  np.savez_compressed(path, **weights)


def _load_weights(generator, discriminator, path: str) -> None:
  """Restores `export_weights` output as float32, every weight by its path.

  Raises:
    ValueError: naming the first weight that is missing, unexpected, of
      another shape or not finite.
  """
  expected = {f"{prefix}/{path}": weight
              for prefix, net in (("generator", generator),
                                  ("discriminator", discriminator))
              if net is not None
              for path, weight in _weights_by_path(net).items()}
  with np.load(path) as saved:
    names = set(saved.files)
    if names and all(n.startswith(("g_", "d_")) for n in names):
      raise ValueError("written by an older tf_inpaint, with weights stored "
                       "by position; re-export it with bin/export from its "
                       "run directory")
    missing = sorted(set(expected) - names)
    if missing:
      raise ValueError(f"no weight {missing[0]} in the file")
    # A D that inference does not use may be in the file; it is not read.
    unexpected = sorted(name for name in names - set(expected)
                        if discriminator is not None
                        or not name.startswith("discriminator/"))
    if unexpected:
      raise ValueError(f"unexpected weight {unexpected[0]} in the file")
    for name, weight in expected.items():
      value = saved[name]
      if value.shape != tuple(weight.shape):
        raise ValueError(f"{name} has shape {value.shape}, the network "
                         f"expects {tuple(weight.shape)}")
      weight.assign(value.astype(np.float32))


def _first_non_finite(*nets) -> str | None:
  """The path of the first weight holding NaN or infinity, if any."""
  for net in nets:
    if net is not None:
      for weight in net.weights:
        if not np.all(np.isfinite(weight.numpy())):
          return weight.path
  return None


def inpaint_defaults(model: str) -> dict:
  """The inpainting options measured for a model, by mask ({} if none, or
  for a name or path that holds no model: the paper's method)."""
  if is_keras_file(model):
    return {}
  return config_lib.load_inpaint_defaults(resolve(model))


def check_exists(model: str, flag: str = "model") -> None:
  """Refuses, before any work, a model argument that names nothing loadable:
  an unknown name, a missing path, or a file that is not a model."""
  if model in BUNDLED_MODELS or is_keras_file(model) or os.path.isdir(model):
    return
  if os.path.isfile(model):
    kind = ("an image" if model.lower().endswith((".png", ".jpg", ".jpeg"))
            else "a file")
    raise InputError(f"{flag}={model}: {kind}, not a model directory or "
                     ".keras file")
  raise InputError(f"{flag}={model}: no bundled model {model!r} (bundled: "
                   f"{', '.join(BUNDLED_MODELS)}) and no such directory")


def load_config(model: str, flag: str = "model"):
  """(ModelConfig, TrainConfig or None) of a bundled, run or exported model."""
  check_exists(model, flag)
  if is_keras_file(model):
    return _read_keras_file(model, flag)[:2]
  directory = resolve(model)
  if not os.path.isfile(os.path.join(directory, config_lib.CONFIG_FILENAME)):
    raise InputError(f"{flag}={model}: not a run directory or exported model "
                     f"(no {config_lib.CONFIG_FILENAME})")
  try:
    return config_lib.load_run_config(directory)
  except InputError as e:
    raise InputError(f"{flag}={model}: {e}") from e


def load(model: str, architecture_name: str | None = None,
         flag: str = "model", ema: bool = True):
  """Rebuilds G and D from a run directory, an export or a bundled model.

  Args:
    model: a bundled model's name, a run directory or an exported directory.
    architecture_name: if given, the architecture the caller can use.
    flag: the flag `model` came from, for error messages.
    ema: from a run trained with an EMA generator, load the average as G
      (what inpainting and export use); False loads the last step's G.
  Returns:
    (ModelConfig, TrainConfig or None, G, D); D is None when inference does
    not need it.
  Raises:
    InputError: if `model` is none of these, is not of `architecture_name`,
      or its weights cannot be read or do not fit its config.
  """
  if is_keras_file(model):
    model_config, train_config, generator, discriminator = _read_keras_file(
        model, flag)
    row = _checked_architecture(model, model_config, architecture_name, flag)
    if not row.needs_discriminator:
      discriminator = None
  else:
    model_config, train_config = load_config(model, flag)
    row = _checked_architecture(model, model_config, architecture_name, flag)
    generator, discriminator = build(model_config)
    if not row.needs_discriminator:
      discriminator = None
    _restore(model, generator, discriminator, train_config, flag, ema)
  broken = _first_non_finite(generator, discriminator)
  if broken:
    raise InputError(f"{flag}={model}: weight {broken} holds NaN or infinite "
                     "values; the model is broken (a diverged run?)")
  return model_config, train_config, generator, discriminator


def _checked_architecture(model: str, model_config: ModelConfig,
                          architecture_name: str | None,
                          flag: str) -> Architecture:
  """The model's registry row, if it is of `architecture_name`."""
  try:
    row = architecture(model_config)
  except InputError as e:
    raise InputError(f"{flag}={model}: {e}") from e
  if architecture_name and model_config.architecture != architecture_name:
    raise InputError(f"{flag}={model}: a {model_config.architecture} model, "
                     f"expected a {architecture_name}")
  return row


def _restore(model: str, generator, discriminator, train_config, flag: str,
             ema: bool) -> None:
  """Reads the weights of an exported model or a run's newest checkpoint."""
  directory = resolve(model)
  weights_path = os.path.join(directory, WEIGHTS_FILENAME)
  if os.path.isfile(weights_path):
    try:
      _load_weights(generator, discriminator, weights_path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile,
            zlib.error) as e:
      raise InputError(f"{flag}={model}: {WEIGHTS_FILENAME} cannot be read "
                       f"or does not match config.json ({e})") from e
  else:
    use_ema = ema and train_config is not None and train_config.ema_decay
    checkpoint = tf.train.Checkpoint(**{
        name: net for name, net in (
            ("ema_generator" if use_ema else "generator", generator),
            ("discriminator", discriminator)) if net is not None})
    checkpoint_dir = config_lib.checkpoint_dir(directory)
    try:
      restored = checkpoints.restore_newest(checkpoint, checkpoint_dir,
                                            strict=False)
    except InputError as e:
      raise InputError(f"{flag}={model}: {e}") from e
    if restored is None:
      raise InputError(f"{flag}={model}: no checkpoint in {checkpoint_dir}")


KERAS_FILENAME = "model.keras"
EXPORT_FORMATS = ("npz", "keras", "weights_h5", "saved_model")


@keras.saving.register_keras_serializable(package="tf_inpaint")
class TrainedModel(keras.Model):
  """A whole trained model in one Keras file: its networks and its configs.

  `bin/export --format=keras` writes it, and `load` (so every --model flag
  and tf_inpaint.load_model) reads it back; calling it runs G.
  """

  def __init__(self, model_config: ModelConfig, train_config=None, **kwargs):
    super().__init__(**kwargs)
    self.model_config, self.train_config = model_config, train_config
    self.generator, self.discriminator = build(model_config)
    self.built = True  # every weight exists now

  def call(self, *inputs):
    return self.generator(*inputs)

  def get_config(self) -> dict:
    return {"name": self.name, "trainable": self.trainable,
            **config_lib.run_config_payload(self.model_config,
                                            self.train_config)}

  @classmethod
  def from_config(cls, config: dict):
    config = dict(config)
    model_config, train_config = config_lib.run_config_from_payload(
        {"model": config.pop("model"), "train": config.pop("train", None)},
        "a .keras file")
    return cls(model_config, train_config, **config)


def is_keras_file(model: str) -> bool:
  return model.endswith(".keras") and os.path.isfile(model)


def _read_keras_file(model: str, flag: str):
  """(ModelConfig, TrainConfig or None, G, D) of a `TrainedModel` file."""
  try:
    trained = keras.saving.load_model(model)
  except (ValueError, OSError, TypeError, KeyError, zipfile.BadZipFile) as e:
    raise InputError(f"{flag}={model}: cannot be read as a Keras file "
                     f"({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                     ) from e
  if not isinstance(trained, TrainedModel):
    raise InputError(f"{flag}={model}: a {type(trained).__name__}, expected a "
                     "model exported by bin/export --format=keras")
  return (trained.model_config, trained.train_config, trained.generator,
          trained.discriminator)


def _serving_signature(generator: keras.Model) -> list:
  """G's inputs with a free batch size, for a SavedModel's `serve`."""
  return [tf.TensorSpec((None, *x.shape[1:]), x.dtype)
          for x in generator.example_inputs(generator.config)]


def export(run_dir: str, out_dir: str, export_format: str = "npz") -> None:
  """Writes a run's latest networks to `out_dir` in one of EXPORT_FORMATS.

  `npz` (what bundled models are): config.json + weights.npz, float16 by
  weight path. `keras`: model.keras, a TrainedModel. `weights_h5`:
  config.json + <net>.weights.h5 (Keras's weights format; rebuild the nets
  with `build(config)`). `saved_model`: config.json + saved_model/, a
  TensorFlow SavedModel of G whose `serve` maps G's inputs to its outputs.
  Only the networks inference needs are written, and G is the EMA generator
  when the run has one.
  """
  if export_format not in EXPORT_FORMATS:
    raise InputError(f"format={export_format!r}: expected one of "
                     f"{', '.join(EXPORT_FORMATS)}")
  model_config, train_config, generator, discriminator = load(
      run_dir, flag="run_dir")
  os.makedirs(out_dir, exist_ok=True)
  if export_format == "keras":
    trained = TrainedModel(model_config, train_config)
    copy_weights(generator, trained.generator)
    if discriminator is not None:
      copy_weights(discriminator, trained.discriminator)
    trained.save(os.path.join(out_dir, KERAS_FILENAME))
    return
  if export_format == "npz":
    export_weights(generator, discriminator,
                   os.path.join(out_dir, WEIGHTS_FILENAME))
  elif export_format == "weights_h5":
    for net in (generator, discriminator):
      if net is not None:
        net.save_weights(os.path.join(out_dir, f"{net.name}.weights.h5"))
  else:
    generator.export(os.path.join(out_dir, "saved_model"),
                     format="tf_saved_model", verbose=False,
                     input_signature=_serving_signature(generator))
  config_lib.save_run_config(out_dir, model_config, train_config,
                             inpaint_defaults(run_dir))
