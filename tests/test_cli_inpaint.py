"""bin/inpaint end to end on a tiny model, and each bad input."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from commands import command_line, run_command
from conftest import snapshot

pytestmark = pytest.mark.slow  # every test here runs the command

FAST = ["--iters=3", "--image_every=2"]


@pytest.fixture
def run_dir(tiny_run):
  return tiny_run[1]


def run_inpaint(*flags, cwd):
  return run_command("inpaint", *flags, cwd=cwd)


def _error(result):
  lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert result.returncode == 2 and len(lines) == 1, result.stderr
  assert "Traceback" not in result.stderr
  return lines[0]


def test_writes_every_promised_file(run_dir, image_folder, tmp_path):
  # As a user starts it: the script itself, TF_CPP_MIN_LOG_LEVEL unset
  # (conftest sets it).
  user_env = {k: v for k, v in os.environ.items()
              if k != "TF_CPP_MIN_LOG_LEVEL"}
  result = subprocess.run(
      command_line("inpaint", f"--model={run_dir}", f"--images={image_folder}",
                   "--num_images=3", "--mask=random80", "--outdir=out",
                   "--logdir=tb", *FAST),
      cwd=tmp_path, env=user_env, capture_output=True, text=True, timeout=300,
      check=False)
  assert result.returncode == 0, result.stderr
  files = set(os.listdir(tmp_path / "out"))
  for name in ("000", "001", "002"):
    for kind in ("corrupted", "generated", "overlay", "blended", "inpainted",
                 "mask"):
      assert f"{name}_{kind}.png" in files
  assert {"grid.png", "metrics.json", ".tf_inpaint_outputs.json"} <= files
  assert len(files) == 3 * 6 + 3
  with Image.open(tmp_path / "out" / "000_blended.png") as image:
    assert image.size == (32, 32) and image.mode == "RGB"
  # The photo itself, at its size (52x40), its known pixels untouched.
  with Image.open(os.path.join(image_folder, "000.png")) as image:
    photo = np.asarray(image)
  with Image.open(tmp_path / "out" / "000_inpainted.png") as image:
    inpainted = np.asarray(image)
  with Image.open(tmp_path / "out" / "000_mask.png") as image:
    hole = np.asarray(image) == 255
  assert inpainted.shape == photo.shape == (40, 52, 3)
  assert 0.6 < hole[:, 6:46].mean() < 0.95 and not hole[:, :6].any()
  np.testing.assert_array_equal(inpainted[~hole], photo[~hole])
  report = json.loads((tmp_path / "out" / "metrics.json").read_text())
  assert set(report["mean"]) == {"psnr", "ssim", "l1", "psnr_hole",
                                 "ssim_hole", "l1_hole"}
  assert [r["name"] for r in report["per_image"]] == ["000", "001", "002"]
  assert report["inpaint_config"]["iterations"] == 3
  assert report["inpaint_config"]["weighting"] == "importance"
  assert report["inpaint_config"]["precision"] == "float32"
  # Where the time went, printed and recorded.
  assert set(report["seconds"]) == {"start-up", "reading", "search",
                                    "blending", "writing"}
  assert all(value >= 0 for value in report["seconds"].values())
  assert report["seconds"]["start-up"] > 0 and report["seconds"]["search"] > 0
  assert "Time: start-up " in result.stdout and "(total " in result.stdout
  assert "precision: float32" in result.stdout
  assert os.listdir(tmp_path / "tb")
  assert not [f for f in os.listdir(tmp_path) if f.startswith(".staging")]
  # TensorFlow's CUDA and CPU start-up lines stay off a CPU user's terminal.
  for noise in ("cudart_stub", "cuInit", "absl::InitializeLog",
                "cpu_feature_guard", "DT_UINT8", "remapper failed"):
    assert noise not in result.stderr


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


def test_a_mask_file_at_the_photos_size_frames_the_hole(run_dir, tmp_path):
  """A hole outside the training crop (the central 40x40 of this 52x40
  photo) gets a square frame around it; the result keeps the photo's size
  and every known pixel."""
  from conftest import write_images  # pylint: disable=g-import-not-at-top
  write_images(str(tmp_path / "images"), 1)
  hole = np.zeros((40, 52), np.uint8)
  hole[10:20, 0:5] = 255
  Image.fromarray(hole).save(tmp_path / "hole.png")
  result = run_inpaint(f"--model={run_dir}", "--images=images/000.png",
                       "--mask_file=hole.png", "--outdir=out", "--logdir=tb",
                       *FAST, cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert "inpainting the 40x40 square around it" in result.stdout
  with Image.open(tmp_path / "images" / "000.png") as image:
    photo = np.asarray(image)
  with Image.open(tmp_path / "out" / "000_inpainted.png") as image:
    inpainted = np.asarray(image)
  with Image.open(tmp_path / "out" / "000_mask.png") as image:
    np.testing.assert_array_equal(np.asarray(image), hole)
  missing = hole == 255
  np.testing.assert_array_equal(inpainted[~missing], photo[~missing])
  assert not np.array_equal(inpainted[missing], photo[missing])
  # A mask of neither the photo's size nor square is refused.
  Image.fromarray(hole[:, :50]).save(tmp_path / "hole.png")
  message = _error(run_inpaint(f"--model={run_dir}", "--images=images",
                               "--mask_file=hole.png", "--outdir=out2",
                               *FAST, cwd=tmp_path))
  assert "50x40, expected a square mask or the size of the photo 000" in (
      message)
  assert not (tmp_path / "out2").exists()


def test_overwrite_replaces_only_our_own_results(run_dir, image_folder,
                                                 tmp_path):
  common = [f"--model={run_dir}", f"--images={image_folder}",
            "--num_images=1", "--outdir=out", "--logdir=tb", *FAST]
  assert run_inpaint(*common, cwd=tmp_path).returncode == 0
  result = run_inpaint(*common, "--overwrite", "--seed=1", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  (tmp_path / "out" / "notes.txt").write_text("the user's own notes")
  before = snapshot(tmp_path / "out")
  assert "did not write (notes.txt)" in _error(
      run_inpaint(*common, "--overwrite", cwd=tmp_path))
  assert snapshot(tmp_path / "out") == before


@pytest.mark.parametrize("outdir, message", [
    (".", "or one of its parents"),
    ("..", "or one of its parents"),
    ("", "outdir: expected a directory path, got ''"),
])
def test_the_working_directory_is_never_cleared(run_dir, image_folder,
                                                tmp_path, outdir, message):
  work = tmp_path / "work"
  work.mkdir()
  (work / "bystander.txt").write_text("keep me")
  before = snapshot(tmp_path)
  result = run_inpaint(f"--model={run_dir}", f"--images={image_folder}",
                       "--num_images=1", f"--outdir={outdir}", "--overwrite",
                       "--logdir=../tb", *FAST, cwd=work)
  assert message in _error(result)
  assert snapshot(tmp_path) == before


@pytest.mark.parametrize("outdir", ["images", "images/out", "model"])
def test_an_outdir_overlapping_the_inputs_is_refused(run_dir, image_folder,
                                                     tmp_path, outdir):
  del image_folder  # at tmp_path/images
  shutil.copytree(run_dir, tmp_path / "model")
  before = snapshot(tmp_path)
  result = run_inpaint("--model=model", "--images=images", "--num_images=1",
                       f"--outdir={outdir}", "--overwrite", "--logdir=tb",
                       *FAST, cwd=tmp_path)
  assert "overlaps" in _error(result)
  assert snapshot(tmp_path) == before


def test_every_file_gets_its_own_results(run_dir, tmp_path):
  from conftest import write_images  # pylint: disable=g-import-not-at-top
  write_images(str(tmp_path / "images" / "sub"), 1)      # sub/000.png
  write_images(str(tmp_path / "images"), 1, seed=1)      # 000.png
  os.rename(tmp_path / "images" / "000.png", tmp_path / "images" / "sub_000.png")
  result = run_inpaint(f"--model={run_dir}", "--images=images", "--outdir=out",
                       "--logdir=tb", *FAST, cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert (tmp_path / "out" / "sub" / "000_blended.png").exists()
  assert (tmp_path / "out" / "sub_000_blended.png").exists()
  report = json.loads((tmp_path / "out" / "metrics.json").read_text())
  assert [r["name"] for r in report["per_image"]] == ["sub/000", "sub_000"]


def test_files_differing_only_in_extension_are_refused(run_dir, tmp_path):
  from conftest import write_images  # pylint: disable=g-import-not-at-top
  write_images(str(tmp_path / "images"), 1, ext="png")
  write_images(str(tmp_path / "images"), 1, ext="jpg")
  message = _error(run_inpaint(f"--model={run_dir}", "--images=images",
                               "--outdir=out", *FAST, cwd=tmp_path))
  assert "000.jpg and" in message and "000.png would both be written" in message
  assert not (tmp_path / "out").exists()


def test_a_mask_without_missing_pixels_copies_the_input(run_dir, image_folder,
                                                         tmp_path):
  Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "none.png")
  result = run_inpaint(f"--model={run_dir}", f"--images={image_folder}",
                       "--num_images=2", "--mask=file",
                       "--mask_file=none.png", "--outdir=out", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert "nothing to inpaint" in result.stdout
  assert sorted(os.listdir(tmp_path / "out")) == [
      ".tf_inpaint_outputs.json", "000_blended.png", "001_blended.png"]


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
    (lambda t, r, f: [f"--images={f}", f"--model={t / 'images'}"],
     "not a run directory or exported model"),
    (lambda t, r, f: [f"--images={f}", f"--model={_mismatched_model(r, t)}"],
     "matches config.json"),
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
  result = run_inpaint("--iters=2", "--blend=overlay", "--num_images=2",
                       cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  files = os.listdir(tmp_path / "inpainted")
  assert sorted(f for f in files if f.endswith("_blended.png")) == [
      "008001_blended.png", "008002_blended.png"]
  with Image.open(tmp_path / "inpainted" / "008001_blended.png") as image:
    assert image.size == (64, 64)
  assert "grid.png" in files and "metrics.json" in files
  # The bundled model's defaults: its encoder starts the search, and the
  # center block (where it measurably helps) is tuned.
  report = json.loads((tmp_path / "inpainted" / "metrics.json").read_text())
  assert report["init"] == "encoder" and report["encoder"] == "celeba64_encoder"
  assert report["inpaint_config"]["tune_iters"] == 15
  assert report["inpaint_config"]["tune_layers"] == 4
  assert report["inpaint_config"]["blend"] == "overlay"  # a flag given wins


def test_pets64_fills_a_large_square_in_its_sample_pets(tmp_path):
  result = run_inpaint("--model=pets64", "--mask=square_large", "--iters=2",
                       "--num_images=2", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  files = os.listdir(tmp_path / "inpainted")
  assert sorted(f for f in files if f.endswith("_inpainted.png")) == [
      "Abyssinian_99_inpainted.png", "Bengal_99_inpainted.png"]
  report = json.loads((tmp_path / "inpainted" / "metrics.json").read_text())
  assert report["init"] == "random"  # no encoder and no measured defaults
  assert report["inpaint_config"]["tune_iters"] == 0


def test_a_run_directory_needs_images(run_dir, tmp_path):
  assert "images: required with --model=PATH" in _error(
      run_inpaint(f"--model={run_dir}", cwd=tmp_path))
