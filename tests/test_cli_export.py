"""bin/export end to end: a bundle is written, the run it came from is never touched."""
import os
import shutil

import pytest

from commands import run_command
from conftest import snapshot

pytestmark = pytest.mark.slow  # every test here runs the command


def run_export(*flags, cwd):
  return run_command("export", *flags, cwd=cwd)


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


def test_a_keras_export_is_a_model_every_command_reads(tiny_run, tmp_path):
  shutil.copytree(tiny_run[1], tmp_path / "run")
  result = run_export("--run_dir=run", "--outdir=export", "--format=keras",
                      cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert sorted(os.listdir(tmp_path / "export")) == [
      ".tf_inpaint_outputs.json", "model.keras"]
  inpaint = run_command(
      "inpaint", "--model=export/model.keras",
      f"--images={tiny_run[0] / 'test'}", "--num_images=1", "--iters=2",
      "--outdir=out", "--logdir=tb", cwd=tmp_path)
  assert inpaint.returncode == 0, inpaint.stderr
  assert (tmp_path / "out" / "000_inpainted.png").exists()
