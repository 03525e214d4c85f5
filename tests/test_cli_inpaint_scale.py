"""bin/inpaint on many images: a part at a time, resumable, sharded, merged."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from commands import command_line, run_command
from conftest import snapshot, write_images

pytestmark = pytest.mark.slow  # every test here runs the command

_PROGRESS = ".tf_inpaint_progress.jsonl"


@pytest.fixture
def work(varied_model, tmp_path):
  """A folder with a tiny model whose G varies with z, and 10 images."""
  write_images(str(tmp_path / "images"), 10, seed=7)
  os.symlink(varied_model, tmp_path / "model")
  return tmp_path


_COMMON = ["--model=model", "--images=images", "--mask=random80",
           "--batch_size=2", "--logdir=tb"]


def run_inpaint(*flags, cwd):
  return run_command("inpaint", *_COMMON, *flags, cwd=cwd)


def _error(result):
  lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert result.returncode == 2 and len(lines) == 1, result.stderr
  assert "Traceback" not in result.stderr
  return lines[0]


def _kill_after_parts(work, outdir, parts, *flags):
  """Starts a run and kills it (-9) once `parts` parts are recorded."""
  process = subprocess.Popen(
      command_line("inpaint", *_COMMON, f"--outdir={outdir}", *flags),
      cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  progress = work / f"{outdir}.partial" / _PROGRESS
  deadline = time.time() + 240
  while time.time() < deadline and process.poll() is None:
    if progress.exists() and len(progress.read_text().splitlines()) > parts:
      break
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not (work / outdir).exists(), "the run finished before the kill"


def test_a_killed_run_continues_to_the_same_bytes(work):
  straight = run_inpaint("--outdir=straight", "--iters=150", cwd=work)
  assert straight.returncode == 0, straight.stderr
  _kill_after_parts(work, "resumed", 2, "--iters=150")
  partial = snapshot(work / "resumed.partial")
  assert "000_blended.png" in partial and "009_blended.png" not in partial
  result = run_inpaint("--outdir=resumed", "--iters=150", cwd=work)
  assert result.returncode == 0, result.stderr
  assert "Continuing the stopped run" in result.stdout
  assert "images already done" in result.stdout
  assert _without_seconds(snapshot(work / "resumed")) == _without_seconds(
      snapshot(work / "straight"))
  assert not (work / "resumed.partial").exists()


def _without_seconds(files: dict) -> dict:
  """A folder's files with metrics.json's timing (this process's own) left
  out: every other byte of a continued run equals an uninterrupted one's."""
  report = json.loads(files["metrics.json"])
  assert set(report.pop("seconds")) >= {"start-up", "search"}
  return {**files, "metrics.json": report}


def test_other_settings_against_a_stopped_run_are_refused(work):
  _kill_after_parts(work, "out", 1, "--iters=150")
  before = snapshot(work)
  message = _error(run_inpaint("--outdir=out", "--iters=150", "--mask=center",
                               cwd=work))
  assert "out.partial holds an unfinished run with other settings" in message
  assert "mask: 'random80' there, 'center' now" in message
  assert snapshot(work) == before


def test_two_shards_merged_equal_one_run(work):
  assert run_inpaint("--outdir=whole", "--iters=3", cwd=work).returncode == 0
  for index in (1, 0):
    result = run_inpaint(f"--outdir=part{index}", "--iters=3",
                         "--num_shards=2", f"--shard_index={index}", cwd=work)
    assert result.returncode == 0, result.stderr
    assert f"(shard {index + 1} of 2)" in result.stdout
  merged = _merge("--merge=part1,part0", "--outdir=merged", cwd=work)
  assert merged.returncode == 0, merged.stderr
  whole, joined = snapshot(work / "whole"), snapshot(work / "merged")
  # The grid shows the first shard's images only; every image file is equal.
  assert whole.pop("grid.png") and joined.pop("grid.png")
  whole_report = json.loads(whole.pop("metrics.json"))
  report = json.loads(joined.pop("metrics.json"))
  assert joined == whole
  assert [r["name"] for r in report["per_image"]] == [f"{i:03d}"
                                                       for i in range(10)]
  # Scores agree to float32 rounding (SSIM's convolutions run per part).
  for merged_row, row in zip(report["per_image"], whole_report["per_image"]):
    assert merged_row.pop("name") == row.pop("name")
    assert merged_row == pytest.approx(row, rel=1e-5, abs=1e-5)
  assert report["mean"] == pytest.approx(whole_report["mean"], rel=1e-5,
                                         abs=1e-5)


def _merge(*flags, cwd):
  return run_command("inpaint", *flags, cwd=cwd)


def test_bad_shards_and_merges_are_one_line_exit_2_nothing_written(work):
  for index, iters in ((0, 3), (1, 4)):
    assert run_inpaint(f"--outdir=p{index}", f"--iters={iters}",
                       "--num_shards=2", f"--shard_index={index}",
                       cwd=work).returncode == 0
  (work / "y.partial").mkdir()
  (work / "y.partial" / _PROGRESS).write_text(
      json.dumps({"command": "evaluate", "settings": {}}) + "\n")
  before = snapshot(work)
  cases = [
      (run_inpaint("--outdir=y", cwd=work),
       "y.partial is an unfinished bin/evaluate output, not bin/inpaint's"),
      (run_inpaint("--outdir=x", "--num_shards=2", "--shard_index=2",
                   cwd=work), "shard_index=2: expected 0 to 1"),
      (_merge("--merge=p0,p0", "--outdir=x", cwd=work),
       "is the same shard (1 of 2): their images overlap"),
      (_merge("--merge=p0,p1", "--outdir=x", cwd=work),
       "made with other settings than p0 (inpaint_config.iterations"),
      (_merge("--merge=p0", "--outdir=x", cwd=work),
       "shard(s) 1 of 2 missing"),
      (_merge("--merge=p0,images", "--outdir=x", cwd=work),
       "merge=images: not a finished tf_inpaint output"),
  ]
  for result, message in cases:
    assert message in _error(result)
  assert snapshot(work) == before


_PEAK_RSS = """
import atexit, resource, runpy, sys
atexit.register(lambda: print("peak_rss_kb", resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _peak_rss_kb(work, count):
  result = subprocess.run(
      [sys.executable, "-c", _PEAK_RSS, *command_line("inpaint")[1:],
       "--model=model", "--images=many", f"--num_images={count}",
       "--mask=center", "--iters=1", "--batch_size=16", "--logdir=tb",
       f"--outdir=out{count}"],
      cwd=work, capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr
  return int(result.stderr.rsplit("peak_rss_kb", 1)[1].split()[0])


def test_memory_does_not_grow_with_the_number_of_images(work):
  write_images(str(work / "many"), 400, size=(32, 32), seed=8)
  small, large = _peak_rss_kb(work, 50), _peak_rss_kb(work, 400)
  assert large < 1.1 * small, (small, large)
