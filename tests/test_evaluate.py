"""Evaluation: the library table and bin/evaluate end to end on a tiny model."""
import json
import os
import shutil

import numpy as np
import pytest

from commands import run_command
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
  return run_command(
      "evaluate", f"--model={run}", f"--images=folder:{root / 'test'}",
      "--masks=center,random80",
      "--methods=ours,ours_no_perceptual,ours_tuned,tv,lowrank,nn,biharmonic",
      "--iters=5", "--tune_iters=2", f"--outdir={outdir}", *extra, cwd=cwd,
      timeout=600)


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
      "pairs", "results.json", "results.md", "time_quality.png"]
  assert len(os.listdir(tmp_path / "eval1" / "pairs")) == 7 * 2 + 1
  table = (tmp_path / "eval1" / "results.md").read_text()
  assert "| center |" in table and "| random80 |" in table
  assert "Seconds per image" in table
  assert report["nn_images"].startswith(f"folder:{root / 'train'}")


@pytest.mark.slow
def test_bin_evaluate_refuses_an_unknown_method(tiny_run, tmp_path):
  root, run = tiny_run
  result = _evaluate(root, run, tmp_path, "bad", "--methods=ours,magic")
  assert result.returncode == 2
  assert "error: methods=ours,magic" in result.stderr
  assert not (tmp_path / "bad").exists()


def test_an_evaluated_image_in_the_nn_search_set_is_refused():
  rng = np.random.default_rng(0)
  decoded = lambda shape: rng.integers(0, 256, shape) / 127.5 - 1.0
  images, search = decoded((3, 8, 8, 3)), decoded((5, 8, 8, 3))
  evaluate.check_not_in_search_set(images, search, "train/")
  search[3] = images[1] + 1e-4  # the same 8-bit pixels, decoded once more
  with pytest.raises(InputError, match="nn_images=train/: holds 1 of the "
                     "evaluated images .*evaluated image 2"):
    evaluate.check_not_in_search_set(images, search, "train/")


@pytest.mark.slow
def test_nn_leaves_the_defaults_when_its_images_are_gone(tiny_run, tmp_path):
  root, run = tiny_run
  shutil.copytree(run, tmp_path / "run")
  config_path = tmp_path / "run" / "config.json"
  run_config = json.loads(config_path.read_text())
  run_config["train"]["dataset"] = f"folder:{tmp_path / 'gone'}"
  config_path.write_text(json.dumps(run_config))
  result = run_command(
      "evaluate", "--model=run", f"--images=folder:{root / 'test'}",
      "--masks=center", "--iters=2", "--outdir=out", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  warnings = [l for l in result.stderr.splitlines() if "leaving nn out" in l]
  assert len(warnings) == 1 and "gone" in warnings[0]
  report = json.loads((tmp_path / "out" / "results.json").read_text())
  assert "nn" not in {r["method"] for r in report["results"]}
  assert "biharmonic" in {r["method"] for r in report["results"]}
  # Asked for by name, nn without its images is an error, and so is a
  # search set that holds the evaluated images.
  for extra, message in (
      ("--methods=nn", "methods=nn: the model's training images"),
      (f"--nn_images=folder:{root / 'test'}", "holds 4 of the evaluated")):
    refused = run_command(
        "evaluate", "--model=run", f"--images=folder:{root / 'test'}",
        "--masks=center", "--iters=2", "--outdir=refused", extra,
        cwd=tmp_path)
    assert refused.returncode == 2 and message in refused.stderr, (
        refused.stderr[-500:])
    assert not (tmp_path / "refused").exists()


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


@pytest.mark.parametrize("model_name, mask, expected", [
    # The model's own iteration count too, where it has one.
    ("celeba64", "center", {"tune_iters": 15, "tune_layers": 4,
                            "blend": "poisson", "iterations": 100}),
    ("celeba64", "random80", {"tune_iters": 0, "blend": "biharmonic",
                              "blend_detail": 0.25, "restarts": 1}),
    ("svhn32", "left", {"tune_iters": 100, "blend": "poisson",
                        "restarts": 4, "combine_restarts": "mean"}),
    ("runs/mine", "random80", {"tune_iters": 0, "blend": "poisson",
                               "blend_detail": 1.0}),
])
def test_ours_default_takes_bin_inpaints_defaults_for_the_model_and_mask(
    model_name, mask, expected):
  from tf_inpaint.config import InpaintConfig  # pylint: disable=g-import-not-at-top
  given = InpaintConfig(iterations=7, tune_iters=3, blend="overlay",
                        restarts=2)
  config = evaluate.ours_config("ours_default", given, model_name, mask)
  expected = {"iterations": 7, **expected}
  assert {k: getattr(config, k) for k in expected} == expected
  assert config.learning_rate == given.learning_rate  # the other flags apply
  # The paper's method stays the paper's, whatever the model.
  assert evaluate.ours_config("ours", given, model_name, mask).tune_iters == 0


@pytest.mark.slow
def test_ours_default_fills_as_ours_with_the_defaults_set_by_hand():
  import dataclasses  # pylint: disable=g-import-not-at-top
  from conftest import fixed_networks  # pylint: disable=g-import-not-at-top
  from tf_inpaint.config import InpaintConfig  # pylint: disable=g-import-not-at-top
  _, generator, discriminator = fixed_networks()
  images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype(
      np.float32)
  config = InpaintConfig(iterations=3, batch_size=2)
  run = lambda methods, config, **names: evaluate.evaluate(
      images, ["random80"], methods, generator, discriminator, config,
      progress=lambda _: None, **names)[1][0].outputs
  by_default = run(["ours_default"], config, model_name="celeba64")
  by_hand = run(["ours"], dataclasses.replace(
      config, blend="biharmonic", blend_detail=0.25))
  paper = run(["ours"], config)
  np.testing.assert_array_equal(by_default["ours_default"], by_hand["ours"])
  assert not np.array_equal(by_default["ours_default"], paper["ours"])
  # A model with no defaults of its own: the paper's method.
  np.testing.assert_array_equal(
      run(["ours_default"], config, model_name="runs/mine")["ours_default"],
      paper["ours"])


@pytest.mark.slow
def test_bin_evaluate_ours_default_starts_from_the_models_own_encoder(
    tmp_path):
  from conftest import write_images  # pylint: disable=g-import-not-at-top
  write_images(str(tmp_path / "faces"), 2, size=(64, 64))
  result = run_command(
      "evaluate", "--model=celeba64", "--images=folder:faces",
      "--masks=random80", "--methods=ours_default,biharmonic", "--iters=2",
      "--outdir=eval", cwd=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads((tmp_path / "eval" / "results.json").read_text())
  assert report["default_encoder"] == "celeba64_encoder"
  assert {r["method"] for r in report["results"]} == {"ours_default",
                                                      "biharmonic"}


def _run_results(mask, methods, **changes):
  header = {"model": "celeba64", "images": "folder:faces", "first_image": 1,
            "num_images": 2, "per_subfolder": False, "seed": 0,
            "missing_fraction": 0.8, **changes}
  return {**header, "results": [
      {"mask": mask, "method": m, "psnr": 20.0 + i, "psnr_hole": 15.0 + i,
       "ssim_hole": 0.5, "seconds_per_image": 1.0 + i}
      for i, m in enumerate(methods)]}


def test_runs_of_the_same_images_join_into_one_table():
  runs = [_run_results("center", ["ours", "tv"]),
          _run_results("center", ["ours_default"]),
          _run_results("left", ["ours", "tv"])]
  rows = evaluate.join_results(runs, ["a.json", "b.json", "c.json"])
  table = evaluate.markdown_table(rows, "psnr_hole")
  assert table.splitlines() == [
      "| mask | ours | tv | ours_default |", "|---|---:|---:|---:|",
      "| center | 15.00 | **16.00** | 15.00 |",
      "| left | 15.00 | **16.00** |  |"]
  text = evaluate.results_markdown(rows, evaluate.describe_selection(runs[0]))
  assert "SSIM, missing pixels only" in text
  assert "2 images from folder:faces (first 1), model celeba64" in text


@pytest.mark.parametrize("second, message", [
    (_run_results("center", ["nn"], seed=1), "b.json: seed 1, but a.json"),
    (_run_results("center", ["nn"], num_images=3), "b.json: num_images 3"),
    (_run_results("center", ["tv"]), "b.json: tv on center is in a.json"),
])
def test_runs_that_do_not_join_are_refused(second, message):
  with pytest.raises(InputError, match=message):
    evaluate.join_results([_run_results("center", ["ours", "tv"]), second],
                          ["a.json", "b.json"])


@pytest.mark.slow
def test_an_evaluation_in_many_parts_traces_each_search_once():
  """bin/evaluate reads images a part (a batch) at a time; memory stays flat
  over thousands of images only if no part traces a new search (every trace
  is kept): one Inpainter per (mask, method), one TV step per shape."""
  from conftest import fixed_networks  # pylint: disable=g-import-not-at-top
  from tf_inpaint import baselines  # pylint: disable=g-import-not-at-top
  from tf_inpaint.config import InpaintConfig  # pylint: disable=g-import-not-at-top
  _, generator, discriminator = fixed_networks()
  images = np.random.default_rng(2).uniform(-1, 1, (6, 32, 32, 3)).astype(
      np.float32)
  made = []
  original_init = evaluate.Inpainter.__init__

  def counting_init(self, *args, **kwargs):
    made.append(self)
    original_init(self, *args, **kwargs)

  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(evaluate.Inpainter, "__init__", counting_init)
    results = evaluate.evaluate(
        images, ["center", "random80"], ["ours", "tv"], generator,
        discriminator, InpaintConfig(iterations=2, batch_size=2),
        progress=lambda _: None)[0]
  assert len(results) == 4 and len(made) == 2  # one per (mask, ours)
  for inpainter in made:  # three parts of 2 images, one traced search
    ((_, _, step, _),) = inpainter._searches.values()
    assert step.experimental_get_tracing_count() == 1
  *_, tv_step = baselines._total_variation_solver((2, 32, 32, 3))
  assert tv_step.experimental_get_tracing_count() == 1
