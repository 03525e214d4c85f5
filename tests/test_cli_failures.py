"""The failure paths of all five commands: one line, exit 2, nothing touched.

Each row runs a command as a user would, with one bad input, in a directory
holding a bystander file; the command must say what is wrong on one line,
exit with status 2, print no traceback, and leave every file as it was.
"""
import os
import shutil
import socket
import subprocess

import numpy as np
import pytest
from PIL import Image

from commands import command_line, run_command
from conftest import snapshot

pytestmark = pytest.mark.slow  # every test here runs a command

FAST = ["--iterations=2"]


def _file(tmp_path, name="a_file"):
  (tmp_path / name).write_text("a regular file")
  return name


def _bomb(tmp_path):
  """A PNG of 196 megapixels: over --max_megapixels and over Pillow's
  decompression-bomb limit (2x its 89 Mpx default)."""
  Image.new("1", (14000, 14000)).save(tmp_path / "bomb.png")
  return "bomb.png"


def _hole(tmp_path):
  hole = np.zeros((32, 32), np.uint8)
  hole[8:24, 8:24] = 255
  Image.fromarray(hole).save(tmp_path / "hole.png")
  return "hole.png"


def _images(tmp_path):
  return str(tmp_path / "images")


_LISTENING = []  # sockets held open while a test's command runs


def _busy_port():
  """A port another program (this test) already serves on."""
  listener = socket.socket()
  listener.bind(("127.0.0.1", 0))
  listener.listen()
  _LISTENING.append(listener)
  return listener.getsockname()[1]


# (command, flags from (tmp_path, tiny run dir), expected part of the message).
# One row per class and command; every value a config refuses is in
# test_config.py.
CASES = [
    ("train", lambda t, r: ["--seed=-1"], "seed=-1: expected >= 0"),
    ("train", lambda t, r: [f"--run_dir={_file(t)}/run"],
     "cannot write there"),
    ("train", lambda t, r: [f"--logdir={_file(t)}"],
     "exists and is not a directory"),
    ("train", lambda t, r: [f"--init_from={t}"], "not a run directory"),
    ("train", lambda t, r: ["--run_dir=/proc/tf_inpaint_run"],
     "run_dir=/proc/tf_inpaint_run: cannot write there"),
    ("train", lambda t, r: ["--precision=mixed_float16"],
     "precision=mixed_float16: no GPU here"),
    ("train", lambda t, r: [f"--dataset=folder:{_images(t)}+folder:"
                            f"{_images(t)}/"], "is listed twice"),
    ("inpaint", lambda t, r: ["--model=celeba128"],
     "model=celeba128: no bundled model 'celeba128' (bundled: celeba64"),
    ("inpaint", lambda t, r: [f"--model={_images(t)}/000.png"],
     "000.png: an image, not a model directory"),
    ("inpaint", lambda t, r: ["--mask=random80", "--missing_fraction=1.5"],
     "missing_fraction=1.5: expected a fraction"),
    ("inpaint", lambda t, r: ["--mask=random80", "--missing_fraction=nan"],
     "missing_fraction=nan: expected a fraction"),
    ("demo", lambda t, r: [f"--port={_busy_port()}"], "cannot serve on"),
    ("demo", lambda t, r: ["--precision=mixed_float16"],
     "precision=mixed_float16: no GPU here"),
    ("train", lambda t, r: ["--architecture=encoder",
                            "--generator=celeba64_ce_center"],
     "generator=celeba64_ce_center: a context_encoder model, expected a dcgan"),
    ("inpaint", lambda t, r: ["--seed=-1"], "seed=-1: expected >= 0"),
    ("inpaint", lambda t, r: ["--lam=inf"], "lam=inf: expected a finite"),
    ("inpaint", lambda t, r: [f"--outdir={_file(t)}/out"],
     "cannot write there"),
    ("inpaint", lambda t, r: [f"--logdir={_file(t)}"],
     "logdir=a_file: exists and is not a directory"),
    ("inpaint", lambda t, r: ["--mask=left", f"--mask_file={_hole(t)}"],
     "read only with --mask=file, not --mask=left"),
    ("inpaint", lambda t, r: ["--first_image=0"], "first_image=0"),
    ("inpaint", lambda t, r: [f"--images={_bomb(t)}"],
     "bomb.png: 14000x14000 is 196.0 megapixels, more than "
     "max_megapixels=100; raise it"),
    ("inpaint", lambda t, r: ["--init=encoder"],
     "model has no bundled encoder; pass --encoder=RUN_DIR"),
    ("inpaint", lambda t, r: ["--tune_iters=-1"], "tune_iters=-1"),
    ("evaluate", lambda t, r: ["--masks=center,center"],
     "center given more than once"),
    ("evaluate", lambda t, r: ["--methods=tv,tv"], "tv given more than once"),
    ("evaluate", lambda t, r: ["--first_image=0"], "first_image=0"),
    ("evaluate", lambda t, r: ["--methods=ours_encoder"],
     "methods=ours_encoder: model"),
    ("evaluate", lambda t, r: ["--methods=context_encoder"],
     "has no bundled context encoders; pass --context_encoders="),
    ("evaluate", lambda t, r: [f"--outdir={_file(t)}/out"],
     "cannot write there"),
    ("export", lambda t, r: [f"--outdir={_file(t)}/out"],
     "cannot write there"),
]


def _common(command, tmp_path, run_dir):
  if command == "train":
    return [f"--dataset=folder:{_images(tmp_path)}", "--image_size=32",
            "--base_filters=4", "--z_dim=8", "--batch_size=4", "--steps=1",
            "--run_dir=run", "--logdir=tb"]
  if command == "inpaint":
    return [f"--model={run_dir}", f"--images={_images(tmp_path)}",
            "--outdir=out", "--logdir=tb", *FAST]
  if command == "evaluate":
    return [f"--model={run_dir}", f"--images={_images(tmp_path)}",
            "--methods=tv", "--outdir=out", *FAST]
  if command == "demo":
    return [f"--model={run_dir}", "--host=127.0.0.1"]
  return [f"--run_dir={run_dir}", "--outdir=out"]


@pytest.mark.parametrize("command, flags, message", CASES)
def test_bad_input_is_one_line_exit_2_and_touches_nothing(
    tiny_run, image_folder, tmp_path, command, flags, message):
  del image_folder  # at tmp_path/images
  run_dir = str(tmp_path / "model")
  shutil.copytree(tiny_run[1], run_dir)
  (tmp_path / "bystander.txt").write_text("keep me")
  args = _common(command, tmp_path, run_dir) + flags(tmp_path, run_dir)
  before, names = snapshot(tmp_path), sorted(os.listdir(tmp_path))
  result = run_command(command, *args, cwd=tmp_path)
  errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert result.returncode == 2, result.stderr[-3000:]
  assert len(errors) == 1 and message in errors[0], result.stderr[-3000:]
  assert "Traceback" not in result.stderr
  assert snapshot(tmp_path) == before
  assert sorted(os.listdir(tmp_path)) == names  # no new (empty) folder


def test_a_mask_file_alone_means_the_users_own_mask(tiny_run, image_folder,
                                                    tmp_path):
  del image_folder
  result = run_command(
      "inpaint", f"--model={tiny_run[1]}", "--images=images", "--num_images=1",
      f"--mask_file={_hole(tmp_path)}", "--outdir=out", "--logdir=tb", *FAST,
      cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  files = os.listdir(tmp_path / "out")
  assert "000_blended.png" in files and "metrics.json" not in files


def test_an_interrupted_run_exits_non_zero_and_says_so(image_folder,
                                                       tmp_path):
  import signal  # pylint: disable=g-import-not-at-top
  process = subprocess.Popen(
      command_line("train", f"--dataset=folder:{image_folder}",
                   "--image_size=32", "--base_filters=4", "--z_dim=8",
                   "--batch_size=4", "--steps=100000", "--summary_every=1",
                   "--run_dir=run", "--logdir=tb"),
      cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  for line in process.stderr:
    if "step 2/" in line:
      break
  process.send_signal(signal.SIGTERM)
  stdout, stderr = process.communicate(timeout=120)
  assert process.returncode == 128 + signal.SIGTERM, stdout + stderr
  assert "Interrupted at step" in stdout and "Done" not in stdout
  assert os.listdir(tmp_path / "run" / "checkpoints")


@pytest.mark.parametrize("command, flags, message", [
    ("train", ["--dataset=folder:x", "--batch_size=0"], "batch_size=0"),
    ("train", ["--dataset=folder:x", "--diff_augment=colour"],
     "diff_augment='colour'"),
    ("inpaint", ["--iters=-1"], "iterations=-1"),
    ("evaluate", ["--model=m", "--images=x", "--masks=center,center"],
     "center given more than once"),
    ("evaluate", ["--model=m", "--images=x", "--lam=nan"], "lam=nan"),
    ("demo", ["--port=0"], "port=0: expected 1-65535"),
])
def test_bad_flag_values_are_refused_before_tensorflow_loads(
    tmp_path, command, flags, message):
  """A `tensorflow` that cannot be imported stands in front of the real one:
  a refusal that needed TensorFlow would fail with a traceback instead."""
  blocker = tmp_path / "blocked" / "tensorflow"
  blocker.mkdir(parents=True)
  (blocker / "__init__.py").write_text(
      "raise ImportError('tensorflow imported')\n")
  env = {**os.environ, "PYTHONPATH": str(tmp_path / "blocked")}
  result = subprocess.run(command_line(command, *flags), cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
  assert result.returncode == 2, result.stderr
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: ")
  assert message in lines[0]
