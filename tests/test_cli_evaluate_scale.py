"""bin/evaluate: (mask, method) pairs saved as they finish, resumed, merged."""
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from commands import command_line, run_command
from conftest import snapshot, write_images

pytestmark = pytest.mark.slow  # every test here runs the command

_FLAGS = ["--model=model", "--images=images", "--masks=center,random80",
          "--methods=ours,tv,biharmonic", "--iters=3"]


@pytest.fixture
def work(varied_model, tmp_path):
  write_images(str(tmp_path / "images"), 6, seed=9)
  os.symlink(varied_model, tmp_path / "model")
  return tmp_path


def run_evaluate(*flags, cwd):
  return run_command("evaluate", *flags, cwd=cwd)


def _results(folder):
  with open(os.path.join(folder, "results.json")) as f:
    report = json.load(f)
  return {(r["mask"], r["method"]): r for r in report.pop("results")}, report


def test_a_killed_evaluation_continues_after_its_finished_pairs(work):
  process = subprocess.Popen(
      command_line("evaluate", *_FLAGS[:-1], "--iters=300", "--outdir=out"),
      cwd=work,
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  progress = work / "out.partial" / ".tf_inpaint_progress.jsonl"
  deadline = time.time() + 240
  while time.time() < deadline and process.poll() is None:
    if progress.exists() and len(progress.read_text().splitlines()) > 1:
      break
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not (work / "out").exists(), "the run finished before the kill"
  saved = (work / "out.partial" / "pairs" / "center.ours.npz").read_bytes()
  result = run_evaluate(*_FLAGS[:-1], "--iters=300", "--outdir=out", cwd=work)
  assert result.returncode == 0, result.stderr
  assert "Continuing the stopped run" in result.stdout
  assert "center: ours on" not in result.stdout  # reused, not run again
  assert "center: tv on" in result.stdout
  assert (work / "out" / "pairs" / "center.ours.npz").read_bytes() == saved
  rows, _ = _results(work / "out")
  assert len(rows) == 6 and not (work / "out.partial").exists()


def test_two_shards_merged_equal_one_evaluation(work):
  assert run_evaluate(*_FLAGS, "--outdir=whole", cwd=work).returncode == 0
  for index in (0, 1):
    result = run_evaluate(*_FLAGS, f"--outdir=part{index}", "--num_shards=2",
                          f"--shard_index={index}", cwd=work)
    assert result.returncode == 0, result.stderr
  merged = run_evaluate("--merge=part0,part1", "--outdir=merged", cwd=work)
  assert merged.returncode == 0, merged.stderr
  whole_rows, whole = _results(work / "whole")
  merged_rows, joined = _results(work / "merged")
  shard_commands = joined.pop("command").split(" && ")
  assert [c.split("--outdir=")[1].split()[0] for c in shard_commands] == [
      "part0", "part1", "merged"]  # how the merged results were made
  del whole["command"]
  assert whole["machine"]["cpu"] and whole["machine"]["cores_used"] >= 1
  assert joined == whole  # settings, machine, and num_images 6 = 3 + 3
  assert merged_rows.keys() == whole_rows.keys()
  for key, row in whole_rows.items():
    for metric in ("psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole"):
      # The same images and masks; scores agree to float32 rounding.
      np.testing.assert_allclose(merged_rows[key][metric], row[metric],
                                 rtol=1e-5, atol=1e-5)
  for name in ("results.md", "figure_center.png", "figure_random80.png",
               "time_quality.png"):
    assert (work / "merged" / name).exists()


def test_bad_merges_and_changed_settings_are_refused(work):
  assert run_evaluate(*_FLAGS, "--outdir=p0", "--num_shards=2",
                      "--shard_index=0", cwd=work).returncode == 0
  assert run_evaluate(*_FLAGS[:-1], "--iters=4", "--outdir=p1",
                      "--num_shards=2", "--shard_index=1",
                      cwd=work).returncode == 0
  before = snapshot(work)
  for flags, message in (
      (["--merge=p0,p1", "--outdir=x"], "made with other settings than p0"),
      (["--merge=p0,p0", "--outdir=x"], "their images overlap"),
      ([*_FLAGS, "--outdir=x", "--num_shards=2", "--shard_index=5"],
       "shard_index=5: expected 0 to 1"),
      (["--outdir=x"], "model: required (unless --merge)")):
    result = run_evaluate(*flags, cwd=work)
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1, result.stderr
    assert message in errors[0]
  assert snapshot(work) == before
