"""bin/inpaint end to end on a tiny model, and each bad input."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, write_images
from tf_inpaint import config, train

FAST = ["--iters=3", "--image_every=2"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("model")
  write_images(str(root / "train"), 8)
  run = str(root / "run")
  train.Trainer(config.ModelConfig(image_size=32, base_filters=4, z_dim=8),
                config.TrainConfig(dataset=f"folder:{root / 'train'}",
                                   batch_size=4, steps=1),
                run, str(root / "logs")).train()
  return run


def run_inpaint(*flags, cwd):
  return subprocess.run(
      [sys.executable, os.path.join(REPO, "bin", "inpaint"), *flags],
      cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _error(result):
  lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert result.returncode == 2 and len(lines) == 1, result.stderr
  assert "Traceback" not in result.stderr
  return lines[0]


def test_writes_every_promised_file(run_dir, image_folder, tmp_path):
  result = run_inpaint(f"--model={run_dir}", f"--images={image_folder}",
                       "--num_images=3", "--mask=random80", "--outdir=out",
                       "--logdir=tb", *FAST, cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  files = set(os.listdir(tmp_path / "out"))
  for name in ("000", "001", "002"):
    for kind in ("corrupted", "generated", "overlay", "blended"):
      assert f"{name}_{kind}.png" in files
  assert {"grid.png", "metrics.json"} <= files
  assert len(files) == 3 * 4 + 2
  with Image.open(tmp_path / "out" / "000_blended.png") as image:
    assert image.size == (32, 32) and image.mode == "RGB"
  report = json.loads((tmp_path / "out" / "metrics.json").read_text())
  assert set(report["mean"]) == {"psnr", "ssim", "l1", "psnr_hole",
                                 "ssim_hole", "l1_hole"}
  assert [r["name"] for r in report["per_image"]] == ["000", "001", "002"]
  assert os.listdir(tmp_path / "tb")
  assert not [f for f in os.listdir(tmp_path) if f.startswith(".staging")]


def test_file_mask_and_greyscale_input(run_dir, tmp_path):
  grey = np.random.default_rng(0).integers(0, 256, (40, 40), dtype=np.uint8)
  Image.fromarray(grey).save(tmp_path / "face.png")
  hole = np.zeros((64, 64), np.uint8)
  hole[20:40, 20:40] = 255
  Image.fromarray(hole).save(tmp_path / "hole.png")
  result = run_inpaint(f"--model={run_dir}", "--images=face.png",
                       "--mask=file", "--mask_file=hole.png", "--outdir=out",
                       "--logdir=tb", *FAST, cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert "converting L to RGB" in result.stderr
  files = set(os.listdir(tmp_path / "out"))
  # The original behind a user's mask is unknown: no metrics.
  assert "face_blended.png" in files and "metrics.json" not in files


def test_an_existing_outdir_needs_overwrite(run_dir, image_folder, tmp_path):
  (tmp_path / "out").mkdir()
  (tmp_path / "out" / "old.png").write_bytes(b"previous results")
  common = [f"--model={run_dir}", f"--images={image_folder}",
            "--num_images=1", "--outdir=out", "--logdir=tb", *FAST]
  assert "already holds results" in _error(run_inpaint(*common, cwd=tmp_path))
  assert os.listdir(tmp_path / "out") == ["old.png"]
  result = run_inpaint(*common, "--overwrite", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert "old.png" not in os.listdir(tmp_path / "out")


def test_a_mask_without_missing_pixels_copies_the_input(run_dir, image_folder,
                                                         tmp_path):
  Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "none.png")
  result = run_inpaint(f"--model={run_dir}", f"--images={image_folder}",
                       "--num_images=2", "--mask=file",
                       "--mask_file=none.png", "--outdir=out", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert "nothing to inpaint" in result.stdout
  assert sorted(os.listdir(tmp_path / "out")) == ["000_blended.png",
                                                  "001_blended.png"]


def _mismatched_model(run_dir, tmp_path):
  broken = tmp_path / "broken"
  shutil.copytree(run_dir, broken)
  config_path = broken / "config.json"
  payload = json.loads(config_path.read_text())
  payload["model"]["base_filters"] = 8
  config_path.write_text(json.dumps(payload))
  return str(broken)


def _write(tmp_path, name, content):
  (tmp_path / name).write_bytes(content)
  return name


def _tiny_image(tmp_path):
  Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "tiny.png")
  return "tiny.png"


def _wide_mask(tmp_path):
  Image.fromarray(np.zeros((32, 64), np.uint8)).save(tmp_path / "wide.png")
  return "wide.png"


def _all_missing_mask(tmp_path):
  Image.fromarray(np.full((32, 32), 255, np.uint8)).save(tmp_path / "all.png")
  return "all.png"


@pytest.mark.parametrize("flags, message", [
    (lambda t, r, f: ["--images=/no/such.png"], "no such file or folder"),
    (lambda t, r, f: [f"--images={_write(t, 'bad.png', b'garbage')}"],
     "bad.png: not a readable image"),
    (lambda t, r, f: [f"--images={_tiny_image(t)}"], "5x5 is too small"),
    (lambda t, r, f: [f"--images={f}", "--mask=file",
                      "--mask_file=/no/mask.png"], "mask_file=/no/mask.png: no "
     "such file"),
    (lambda t, r, f: [f"--images={f}", "--mask=file",
                      f"--mask_file={_wide_mask(t)}"], "expected a square mask"),
    (lambda t, r, f: [f"--images={f}", "--mask=file",
                      f"--mask_file={_all_missing_mask(t)}"],
     "has no known pixel"),
    (lambda t, r, f: [f"--images={f}", f"--model={t}"],
     "not a run directory"),
    (lambda t, r, f: [f"--images={f}", f"--model={_mismatched_model(r, t)}"],
     "does not match config.json"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(run_dir, image_folder,
                                                       tmp_path, flags,
                                                       message):
  args = [f"--model={run_dir}", "--outdir=out", "--logdir=tb", *FAST]
  args += flags(tmp_path, run_dir, image_folder)
  assert message in _error(run_inpaint(*args, cwd=tmp_path))
  assert not (tmp_path / "out").exists()
  assert not [f for f in os.listdir(tmp_path) if f.startswith(".staging")]


def test_unknown_mask_name_is_a_flag_error(run_dir, image_folder, tmp_path):
  result = run_inpaint(f"--model={run_dir}", f"--images={image_folder}",
                       "--mask=stripes", cwd=tmp_path)
  assert result.returncode != 0
  assert "--mask" in result.stderr and "random80" in result.stderr
  assert not (tmp_path / "inpainted").exists()


def test_no_flags_uses_the_bundled_model_and_sample_faces(tmp_path):
  result = run_inpaint("--iters=2", "--blend=overlay", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  files = os.listdir(tmp_path / "inpainted")
  assert len([f for f in files if f.endswith("_blended.png")]) == 16
  with Image.open(tmp_path / "inpainted" / "008001_blended.png") as image:
    assert image.size == (64, 64)
  assert "grid.png" in files and "metrics.json" in files


def test_a_run_directory_needs_images(run_dir, tmp_path):
  assert "images: required with --model=PATH" in _error(
      run_inpaint(f"--model={run_dir}", cwd=tmp_path))
