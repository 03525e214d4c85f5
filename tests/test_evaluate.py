"""Evaluation: the library table and bin/evaluate end to end on a tiny model."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO
from tf_inpaint import evaluate
from tf_inpaint.errors import InputError


def test_markdown_table_has_masks_as_rows_and_bolds_the_best():
  rows = [{"mask": "center", "method": "ours", "psnr": 20.0},
          {"mask": "center", "method": "tv", "psnr": 18.5},
          {"mask": "left", "method": "ours", "psnr": 15.0},
          {"mask": "left", "method": "tv", "psnr": 16.25}]
  assert evaluate.markdown_table(rows).splitlines() == [
      "| mask | ours | tv |", "|---|---:|---:|",
      "| center | **20.00** | 18.50 |", "| left | 15.00 | **16.25** |"]


@pytest.mark.parametrize("masks, methods, message", [
    (["center", "stripes"], ["ours"], "masks=center,stripes"),
    (["file"], ["ours"], "masks=file"),
    (["center"], ["ours", "magic"], "methods=ours,magic"),
])
def test_unknown_names_are_refused(masks, methods, message):
  with pytest.raises(InputError, match=message):
    evaluate.check_names(masks, methods)


def _evaluate(root, run, cwd, outdir, *extra):
  return subprocess.run(
      [sys.executable, os.path.join(REPO, "bin", "evaluate"), f"--model={run}",
       f"--images=folder:{root / 'test'}", "--masks=center,random80",
       "--methods=ours,ours_no_perceptual,ours_tuned,tv,lowrank,nn,biharmonic",
       "--iters=5", "--tune_iters=2", f"--outdir={outdir}", *extra],
      cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_bin_evaluate_writes_every_method_and_mask_deterministically(
    tiny_run, tmp_path):
  root, run = tiny_run
  first = _evaluate(root, run, tmp_path, "eval1")
  assert first.returncode == 0, first.stderr
  assert _evaluate(root, run, tmp_path, "eval2").returncode == 0
  report = json.loads((tmp_path / "eval1" / "results.json").read_text())
  assert report["seed"] == 0 and report["model"] == run
  pairs = {(r["method"], r["mask"]) for r in report["results"]}
  assert pairs == {(m, k) for m in ("ours", "ours_no_perceptual",
                                    "ours_tuned", "tv", "lowrank", "nn",
                                    "biharmonic")
                   for k in ("center", "random80")}
  for row in report["results"]:
    assert row["n"] == 4
    assert all(isinstance(row[k], float) for k in (
        "psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole",
        "seconds_per_image"))
    assert row["seconds_per_image"] > 0
  untimed = lambda rows: [{k: v for k, v in row.items()
                           if k != "seconds_per_image"} for row in rows]
  again = json.loads((tmp_path / "eval2" / "results.json").read_text())
  assert untimed(again["results"]) == untimed(report["results"])
  assert sorted(os.listdir(tmp_path / "eval1")) == [
      ".tf_inpaint_outputs.json", "figure_center.png", "figure_random80.png",
      "results.json", "results.md", "time_quality.png"]
  table = (tmp_path / "eval1" / "results.md").read_text()
  assert "| center |" in table and "| random80 |" in table
  assert "Seconds per image" in table


@pytest.mark.slow
def test_bin_evaluate_refuses_an_unknown_method(tiny_run, tmp_path):
  root, run = tiny_run
  result = _evaluate(root, run, tmp_path, "bad", "--methods=ours,magic")
  assert result.returncode == 2
  assert "error: methods=ours,magic" in result.stderr
  assert not (tmp_path / "bad").exists()


def test_a_mask_does_not_depend_on_the_other_masks_evaluated():
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tf_inpaint import masks  # pylint: disable=g-import-not-at-top
  images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(
      np.float32)
  alone = evaluate.evaluate(images, ["random80"], ["biharmonic"], None, None,
                            seed=5, progress=lambda _: None)[1]
  after_others = evaluate.evaluate(images, ["center", "pattern", "random80"],
                                   ["biharmonic"], None, None, seed=5,
                                   progress=lambda _: None)[1]
  np.testing.assert_array_equal(alone[0].masks, after_others[2].masks)
  # bin/inpaint draws the same masks for the same seed.
  np.testing.assert_array_equal(alone[0].masks,
                                masks.make_masks("random80", 3, 32, seed=5))
  assert not np.array_equal(alone[0].masks,
                            masks.make_masks("random80", 3, 32, seed=6))


@pytest.mark.parametrize("masks, methods, message", [
    (["center", "center"], ["tv"], "masks=center,center: center given more"),
    (["center"], ["tv", "nn", "tv"], "methods=tv,nn,tv: tv given more"),
])
def test_repeated_names_are_refused(masks, methods, message):
  with pytest.raises(InputError, match=message):
    evaluate.check_names(masks, methods)
