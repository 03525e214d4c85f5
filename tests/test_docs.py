"""The documentation: the site builds with no warning, and every command it
shows uses flags that exist."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

COMMANDS = ("train", "inpaint", "evaluate", "export", "demo")
# A command as written in the docs, up to where its flags end.
_COMMAND = re.compile(r"bin/(" + "|".join(COMMANDS) + r")\b([^`#;|&)]*)")


def _markdown_files() -> list[str]:
  docs = os.path.join(REPO, "docs")
  return [os.path.join(REPO, "README.md"),
          os.path.join(REPO, "tf_inpaint", "pretrained", "MODELS.md")] + [
              os.path.join(docs, name) for name in sorted(os.listdir(docs))
              if name.endswith(".md")]


def _flags_shown() -> dict:
  """command -> {flag: where it is shown}."""
  shown = {command: {} for command in COMMANDS}
  for path in _markdown_files():
    with open(path, encoding="utf-8") as f:
      text = re.sub(r"\\\n\s*", " ", f.read())  # join continued lines
    for number, line in enumerate(text.splitlines(), 1):
      for command, rest in _COMMAND.findall(line):
        for flag in re.findall(r"(?<![\w-])--([a-z][\w]*)", rest):
          shown[command].setdefault(flag, f"{os.path.relpath(path, REPO)}"
                                    f":{number}")
  return shown


def _flags_defined(command: str) -> set:
  """The flags `bin/<command>` defines (its own and absl's)."""
  script = (f"import json; from tf_inpaint.cli import {command} as c; "
            "c.define_flags(); from absl import flags; "
            "print(json.dumps(sorted(flags.FLAGS)))")
  result = subprocess.run([sys.executable, "-c", script], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          check=True)
  return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.slow  # imports TensorFlow once per command
def test_every_command_in_the_docs_uses_flags_that_exist():
  shown = _flags_shown()
  assert sum(map(len, shown.values())) > 30  # the docs do show commands
  defined = {command: _flags_defined(command) | {"help", "helpfull"}
             for command, flags in shown.items() if flags}
  missing = [f"bin/{command} --{flag} ({where})"
             for command, flags in shown.items()
             for flag, where in sorted(flags.items())
             if flag not in defined[command]]
  assert not missing, missing


def test_the_site_builds_with_no_warning(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
       str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True,
      timeout=300, check=False,
      env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
  assert result.returncode == 0, result.stderr[-3000:]
  site = tmp_path / "site"
  # Generated pages: the README as home, the models' card, the flags.
  home = (site / "index.html").read_text()
  assert "Set-up: two commands" in home and 'href="training/"' in home
  assert "celeba64_ce_center" in (site / "models" / "index.html").read_text()
  cli = (site / "cli" / "index.html").read_text()
  for flag in ("--precision", "--conv_impl", "--stop_tolerance", "--dataset"):
    assert flag in cli
  assert "load_model" in (site / "api" / "index.html").read_text()
