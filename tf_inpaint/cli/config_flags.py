"""Command-line flags derived from the config dataclasses: one vocabulary.

Every field of a config dataclass becomes a flag of the same name, type and
default, whose help is the field's entry in the class's `Attributes:`
docstring; choices come from the field's `metadata["choices"]` or from the
caller (for registries the config module cannot see). So `iterations` is
`--iterations` in every command. Short names people type are aliases
(`--iters`); spellings that meant something else elsewhere are deprecated
aliases that still work for one release and say so when used.
"""
import dataclasses
import inspect
import re
import sys

from absl import flags

FLAGS = flags.FLAGS
_DEPRECATED: dict[str, str] = {}  # old spelling -> flag name


def attribute_docs(cls) -> dict[str, str]:
  """Field name -> its text in the `Attributes:` section of `cls`'s docstring."""
  doc = inspect.getdoc(cls) or ""
  section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
  docs, name = {}, None
  for line in section.splitlines():
    match = re.match(r"^  (\w+): (.*)$", line)
    if match:
      name = match.group(1)
      docs[name] = match.group(2).strip()
    elif name and line.startswith("    "):
      docs[name] += " " + line.strip()
  return docs


def define_config_flags(cls, exclude=(), defaults=None, choices=None) -> None:
  """Defines a flag for each field of dataclass `cls` not in `exclude`.

  Args:
    cls: a config dataclass whose docstring has an `Attributes:` section.
    exclude: fields the command sets itself.
    defaults: field -> default, where the command's differs from the class's.
    choices: field -> allowed values, beside each field's metadata["choices"].
  """
  docs = attribute_docs(cls)
  defaults, choices = defaults or {}, choices or {}
  for field in dataclasses.fields(cls):
    if field.name in exclude:
      continue
    default = defaults.get(field.name, None if field.default is
                           dataclasses.MISSING else field.default)
    help_text = docs.get(field.name, field.name)
    allowed = choices.get(field.name, field.metadata.get("choices"))
    if allowed:
      flags.DEFINE_enum(field.name, default, list(allowed), help_text)
    elif field.type is bool:
      flags.DEFINE_bool(field.name, default, help_text)
    elif field.type is int:
      flags.DEFINE_integer(field.name, default, help_text)
    elif field.type is float:
      flags.DEFINE_float(field.name, default, help_text)
    else:
      flags.DEFINE_string(field.name, default, help_text)


def define_aliases(aliases: dict[str, str], deprecated: bool = False) -> None:
  """Defines `--alias` for each `alias: flag`; deprecated ones warn when used."""
  for alias, name in aliases.items():
    flags.DEFINE_alias(alias, name)
    if deprecated:
      _DEPRECATED[alias] = name


def warn_deprecated() -> None:
  """Says, once per deprecated spelling used, what to write instead."""
  for alias, name in _DEPRECATED.items():
    if alias in FLAGS and FLAGS[alias].present:
      print(f"warning: --{alias} is deprecated and will be removed in the "
            f"next release; use --{name}", file=sys.stderr)


def config_from_flags(cls, exclude=(), **values):
  """Builds `cls` from the flags of its fields, with `values` for `exclude`d."""
  kwargs = {field.name: FLAGS[field.name].value
            for field in dataclasses.fields(cls) if field.name not in exclude}
  return cls(**kwargs, **values)


def define_selection_flags() -> None:
  """--first_image, --num_images, --per_subfolder: which images a command
  reads; --max_megapixels: how large a photo file it decodes."""
  from tf_inpaint import config  # pylint: disable=g-import-not-at-top
  docs = attribute_docs(config.TrainConfig)
  flags.DEFINE_integer("first_image", 1, docs["first_image"])
  flags.DEFINE_integer("num_images", 0, docs["num_images"])
  flags.DEFINE_bool("per_subfolder", False, docs["per_subfolder"])
  flags.DEFINE_float("max_megapixels", config.MAX_PHOTO_MEGAPIXELS,
                     "Refuse photo files larger than this many megapixels "
                     "before decoding them (0: no limit).")


def define_shard_flags() -> None:
  """--num_shards, --shard_index and --merge of the commands that split their
  images over processes (see `tf_inpaint.shards`)."""
  flags.DEFINE_integer("num_shards", 0, "Split the images into this many "
                       "shards, one per process (0: one per task of "
                       "TF_CONFIG's cluster if set, else 1).")
  flags.DEFINE_integer("shard_index", None, "This process's shard, 0-based "
                       "(default: its task's place in TF_CONFIG, else 0).")
  flags.DEFINE_list("merge", None, "Instead of running: join the --outdir of "
                    "each shard's run into one --outdir.")


# The short names people type for the inpainting options; kept as aliases.
INPAINT_ALIASES = {"iters": "iterations", "lr": "learning_rate",
                   "window": "window_size"}


def define_inpaint_flags(exclude=()) -> None:
  """The InpaintConfig flags of bin/inpaint and bin/evaluate, with aliases."""
  from tf_inpaint import config  # pylint: disable=g-import-not-at-top
  define_config_flags(config.InpaintConfig, exclude=exclude)
  define_aliases({alias: name for alias, name in INPAINT_ALIASES.items()
                  if name not in exclude})


def settings_defaults() -> dict:
  """What a stopped bin/inpaint or bin/evaluate run (or a shard to merge)
  written before an InpaintConfig field existed is taken to have used: the
  field's default (for precision, what runs computed in before it)."""
  from tf_inpaint import config, precision  # pylint: disable=g-import-not-at-top
  return {"inpaint_config": {**dataclasses.asdict(config.InpaintConfig()),
                             "precision": precision.LEGACY}}
