"""MkDocs hook: the pages made from other files when the site is built.

- `index.md`: README.md, its links rewritten for the site;
- `models.md`: the bundled models' card, tf_inpaint/pretrained/MODELS.md;
- `cli.md`: every command's flags, from the config dataclasses the flags
  themselves are derived from (their `Attributes:` docstrings), so the
  reference cannot drift from `--help`.
"""
import dataclasses
import os
import sys

from mkdocs.structure.files import File

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# Links of the repository's files, as the site names the same pages.
_SITE_LINKS = {"](docs/": "](", "](../../docs/": "](",
               "](tf_inpaint/pretrained/MODELS.md)": "](models.md)"}


def _read(*path: str) -> str:
  with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
    return f.read()


def _for_site(markdown: str) -> str:
  for old, new in _SITE_LINKS.items():
    markdown = markdown.replace(old, new)
  return markdown


def cli_reference() -> str:
  """The flags of every config field, by config, with defaults and choices."""
  from tf_inpaint import config  # pylint: disable=import-outside-toplevel
  from tf_inpaint.cli import config_flags  # pylint: disable=import-outside-toplevel
  sections = [("bin/train: the model", config.ModelConfig),
              ("bin/train: training", config.TrainConfig),
              ("bin/inpaint, bin/evaluate and the Python API: the search",
               config.InpaintConfig)]
  lines = ["# Command-line reference", "",
           "Every flag below is a field of a configuration dataclass, with the "
           "same name, type and default in every command "
           "(`bin/<command> --help` prints the same text). Short aliases: "
           + ", ".join(f"`--{alias}` for `--{name}`" for alias, name in
                       config_flags.INPAINT_ALIASES.items()) + "."]
  for title, cls in sections:
    docs = config_flags.attribute_docs(cls)
    lines += ["", f"## {title}", "", "| flag | default | meaning |",
              "|---|---|---|"]
    for field in dataclasses.fields(cls):
      default = ("(required)" if field.default is dataclasses.MISSING
                 else f"`{field.default}`")
      choices = field.metadata.get("choices")
      meaning = docs.get(field.name, "").replace("|", "\\|")
      if choices:
        meaning += f" Choices: {', '.join(f'`{c}`' for c in choices)}."
      lines.append(f"| `--{field.name}` | {default} | {meaning} |")
  return "\n".join(lines) + "\n"


def on_files(files, config):
  pages = {"index.md": _for_site(_read("README.md")),
           "models.md": _for_site(_read("tf_inpaint", "pretrained",
                                        "MODELS.md")),
           "cli.md": cli_reference()}
  for name, content in pages.items():
    files.append(File.generated(config, name, content=content))
  return files
