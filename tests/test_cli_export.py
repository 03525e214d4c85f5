"""bin/export end to end: a bundle is written, the run it came from is never touched."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, snapshot

pytestmark = pytest.mark.slow  # every test here runs the command in a subprocess


def run_export(*flags, cwd):
  return subprocess.run(
      [sys.executable, os.path.join(REPO, "bin", "export"), *flags],
      cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_export_writes_a_bundle_that_loads(tiny_run, tmp_path):
  shutil.copytree(tiny_run[1], tmp_path / "run")
  result = run_export("--run_dir=run", "--outdir=bundle", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert {"config.json", "weights.npz"} <= set(os.listdir(tmp_path / "bundle"))
  again = run_export("--run_dir=run", "--outdir=bundle", "--overwrite",
                     cwd=tmp_path)
  assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("outdir", ["run", "run/checkpoints", "run/bundle",
                                    "."])
def test_export_never_writes_over_or_into_its_run(tiny_run, tmp_path,
                                                  outdir):
  shutil.copytree(tiny_run[1], tmp_path / "run")
  before = snapshot(tmp_path)
  result = run_export("--run_dir=run", f"--outdir={outdir}", "--overwrite",
                      cwd=tmp_path)
  errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert result.returncode == 2 and len(errors) == 1, result.stderr
  assert "Traceback" not in result.stderr
  assert snapshot(tmp_path) == before
  assert sorted(os.listdir(tmp_path)) == ["run"]
