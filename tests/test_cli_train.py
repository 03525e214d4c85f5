"""bin/train end to end, as a user runs it."""
import json
import os
import subprocess

import numpy as np
import pytest
from scipy import io as scipy_io

from commands import command_line, run_command

pytestmark = pytest.mark.slow  # every test here runs the command

TINY_FLAGS = ["--image_size=32", "--base_filters=4", "--z_dim=8",
              "--batch_size=4"]


def run_train(*flags, cwd):
  return run_command("train", *flags, cwd=cwd)


def test_train_shows_a_progress_bar_on_a_terminal(image_folder, tmp_path):
  """On a terminal: Keras's progress bar, no log line per summary."""
  import pty  # pylint: disable=g-import-not-at-top
  leader, follower = pty.openpty()
  process = subprocess.Popen(
      command_line("train", f"--dataset=folder:{image_folder}", *TINY_FLAGS,
                   "--steps=3", "--summary_every=1"), cwd=tmp_path, stdout=follower,
      stderr=subprocess.PIPE, text=True)
  os.close(follower)
  shown = b""
  while True:
    try:
      chunk = os.read(leader, 4096)
    except OSError:  # the terminal closes when the command exits
      break
    if not chunk:
      break
    shown += chunk
  stderr = process.communicate(timeout=300)[1]
  assert process.returncode == 0, stderr
  assert b"3/3" in shown and b"g_loss" in shown, shown[-500:]
  assert "step 3/3" not in stderr


def error_lines(result):
  return [line for line in result.stderr.splitlines()
          if line.startswith("error:")]


def test_train_writes_a_run_and_tensorboard_logs(image_folder, tmp_path):
  result = run_train(f"--dataset=folder:{image_folder}", *TINY_FLAGS,
                     "--steps=2", "--summary_every=1", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  run_dir = tmp_path / "runs" / "images_32"
  assert json.loads((run_dir / "config.json").read_text())["model"][
      "base_filters"] == 4
  assert (run_dir / "checkpoints" / "checkpoint").exists()
  assert os.listdir(tmp_path / "tensorboard_logs" / "images_32")
  assert "step 2/2" in result.stderr
  assert "Done at step 2" in result.stdout


def _mat_without_x(tmp_path):
  path = tmp_path / "no_x.mat"
  scipy_io.savemat(str(path), {"y": np.arange(3)})
  return f"mat:{path}"


def _tiffs_named_jpg(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  folder = tmp_path / "tiffs"
  folder.mkdir()
  for i in range(6):
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(
        folder / f"{i}.jpg", format="TIFF")
  return f"folder:{folder}"


def _empty_folder(tmp_path):
  (tmp_path / "empty").mkdir()
  return f"folder:{tmp_path / 'empty'}"


@pytest.mark.parametrize("make_dataset, extra, message", [
    (lambda tmp: "imagenet2012", [], "dataset='imagenet2012': expected one of"),
    (lambda tmp: "folder:/no/such/dir", [], "folder:/no/such/dir: no such"),
    (_empty_folder, [], "no image files"),
    (_tiffs_named_jpg, [], "none of the 6 image files can be decoded"),
    (_mat_without_x, [], "no variable 'X'"),
    (lambda tmp: f"folder:{tmp / 'images'}", ["--image_size=48"],
     "image_size=48: expected one of 32, 64, 128"),
    (lambda tmp: f"folder:{tmp / 'images'}", ["--batch_size=50"],
     "batch_size=50: larger than the dataset"),
])
def test_bad_input_is_one_line_exit_2_and_no_run_dir(image_folder, tmp_path,
                                                     make_dataset, extra,
                                                     message):
  result = run_train(f"--dataset={make_dataset(tmp_path)}", *TINY_FLAGS,
                     *extra, "--run_dir=run", cwd=tmp_path)
  assert result.returncode == 2
  errors = error_lines(result)
  assert len(errors) == 1 and message in errors[0], result.stderr
  assert "Traceback" not in result.stderr
  assert not (tmp_path / "run").exists()
  assert not (tmp_path / "tensorboard_logs").exists()


def test_a_run_dir_with_another_config_is_refused(image_folder, tmp_path):
  common = [f"--dataset=folder:{image_folder}", *TINY_FLAGS, "--steps=1",
            "--run_dir=run"]
  assert run_train(*common, cwd=tmp_path).returncode == 0
  config_before = (tmp_path / "run" / "config.json").read_text()
  result = run_train(*common, "--learning_rate=0.001", cwd=tmp_path)
  assert result.returncode == 2
  assert "learning_rate: 0.0002 -> 0.001" in error_lines(result)[0]
  assert (tmp_path / "run" / "config.json").read_text() == config_before


@pytest.mark.parametrize("command, flag", [("train", "--dataset"),
                                           ("inpaint", "--mask_file"),
                                           ("evaluate", "--methods")])
def test_help_shows_the_commands_own_flags(tmp_path, command, flag):
  result = run_command(command, "--help", cwd=tmp_path)
  # absl exits with status 1 after --help; what matters is what it shows.
  assert flag in result.stdout and f"bin/{command}" in result.stdout


@pytest.mark.parametrize("command, flags_given, warning, message", [
    ("train", ["--model=context_encoder"], "--model is deprecated",
     "a context_encoder needs a mask family"),
    ("train", ["--mask=center"], "--mask is deprecated",
     "a dcgan is not trained on one mask family"),
    ("evaluate", ["--model=celeba64", "--images=x", "--first=0"],
     "--first is deprecated", "first_image=0: expected >= 1"),
    ("inpaint", ["--iters=0"], None, "iterations=0"),
    ("inpaint", ["--lr=-1"], None, "learning_rate=-1.0"),
    ("inpaint", ["--window=4"], None, "window_size=4"),
])
def test_old_and_short_flag_spellings_still_work(image_folder, tmp_path,
                                                 command, flags_given,
                                                 warning, message):
  dataset = [f"--dataset=folder:{image_folder}"] if command == "train" else []
  result = run_command(command, *dataset, *flags_given, cwd=tmp_path)
  assert result.returncode == 2, result.stderr
  errors = error_lines(result)
  assert len(errors) == 1 and message in errors[0], result.stderr
  warnings = [l for l in result.stderr.splitlines()
              if l.startswith("warning:")]
  if warning:
    assert len(warnings) == 1 and warning in warnings[0]
  else:
    assert not warnings
  assert not os.listdir(tmp_path) or os.listdir(tmp_path) == ["images"]


def test_kills_at_random_moments_always_resume_at_a_consistent_step(
    image_folder, tmp_path):
  """SIGKILL at 20 random moments of a run that checkpoints every step (so
  many land inside a checkpoint write): after each, the checkpoint a resume
  restores holds the step its name says, never an earlier one than before,
  and the run goes on from there."""
  import random  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from commands import kill_command_after  # pylint: disable=g-import-not-at-top
  from tf_inpaint import checkpoints, config  # pylint: disable=g-import-not-at-top
  flags = [f"--dataset=folder:{image_folder}", *TINY_FLAGS,
           "--checkpoint_every=1", "--summary_every=1", "--image_every=1000",
           "--precision=float32", "--run_dir=run", "--logdir=tb"]
  # A first checkpoint before the kills, so that each kill tests a resume
  # however slowly a loaded machine starts the command.
  assert run_train(*flags, "--steps=2", cwd=tmp_path).returncode == 0
  rng = random.Random(0)
  restored_steps = []
  for _ in range(20):
    killed = kill_command_after("train", *flags, "--steps=100000",
                                cwd=tmp_path, seconds=rng.uniform(0.8, 2.5))
    assert killed
    step = tf.Variable(0, dtype=tf.int64)
    path = checkpoints.restore_newest(
        tf.train.Checkpoint(step=step),
        config.checkpoint_dir(str(tmp_path / "run")), strict=False)
    assert path is not None
    assert int(step.numpy()) == int(path.rsplit("-", 1)[1]), path
    restored_steps.append(int(step.numpy()))
  assert restored_steps[0] >= 2 and restored_steps == sorted(restored_steps)
  final = restored_steps[-1] + 2
  result = run_train(*flags, f"--steps={final}", cwd=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  assert f"Done at step {final}" in result.stdout
