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


def _docs_tables():
  sys.path.insert(0, os.path.join(REPO, "tools"))
  import docs_tables  # pylint: disable=import-outside-toplevel
  return docs_tables


@pytest.mark.slow
def test_every_results_table_matches_the_json_it_is_made_from():
  result = subprocess.run([sys.executable, "tools/docs_tables.py", "--check"],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("page", ["README.md", "docs/results.md",
                                  "docs/benchmarks.md"])
def test_no_results_table_is_typed_by_hand(page):
  with open(os.path.join(REPO, page), encoding="utf-8") as f:
    text = f.read()
  assert "<!-- table " in text
  outside = _docs_tables().BLOCK.sub("", text)
  assert not re.findall(r"^\|.*", outside, re.MULTILINE)


def test_a_table_is_rendered_from_its_json_with_command_and_cpu(tmp_path):
  docs_tables = _docs_tables()
  header = {"model": "m", "images": "folder:x", "first_image": 1,
            "num_images": 2, "per_subfolder": False, "seed": 0,
            "missing_fraction": 0.8}
  row = lambda mask, method, value: {"mask": mask, "method": method,
                                     "psnr_hole": value}
  (tmp_path / "a.json").write_text(json.dumps({
      **header, "command": "bin/evaluate --masks=center",
      "machine": {"cpu": "Some CPU", "cpu_flags": ["avx2"], "cores_used": 2,
                  "tensorflow": "2.x"},
      "results": [row("center", "ours", 20.0), row("center", "tv", 18.5)]}))
  (tmp_path / "b.json").write_text(json.dumps({
      **header, "results": [row("left", "ours", 12.0),
                            row("left", "tv", 12.25)]}))
  page = (f"Intro\n<!-- table evaluate {tmp_path}/a.json {tmp_path}/b.json "
          "metric=psnr_hole -->\nstale\n<!-- end table -->\nOutro\n")
  rendered = docs_tables.regenerate(page, "page.md")
  assert rendered.splitlines()[2:6] == [
      "| mask | ours | tv |", "|---|---:|---:|",
      "| center | **20.00** | 18.50 |", "| left | 12.00 | **12.25** |"]
  assert "`bin/evaluate --masks=center` — Some CPU (avx2), 2 cores" in rendered
  assert "command not recorded — CPU not recorded" in rendered  # b.json
  assert rendered.startswith("Intro\n") and rendered.endswith("Outro\n")
  assert docs_tables.regenerate(rendered, "page.md") == rendered
  with pytest.raises(docs_tables.TableError,
                     match=r"page.md: table evaluate .*missing.json"):
    docs_tables.regenerate(page.replace("b.json", "missing.json"), "page.md")
