"""bin/train --strategy=multi_worker_mirrored: two worker processes on localhost.

Each test starts a real two-worker cluster (two `bin/train` processes with
their own TF_CONFIG on free 127.0.0.1 ports) training a tiny model.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

TINY = ["--image_size=32", "--base_filters=4", "--z_dim=8", "--batch_size=4",
        "--strategy=multi_worker_mirrored", "--summary_every=1",
        "--run_dir=run", "--logdir=tb"]


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def start_workers(image_folder, cwd, *flags, ports=None):
  """Starts worker 0 (the chief) and worker 1; returns their Popen objects."""
  ports = ports or _free_ports(2)
  cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
  workers = []
  for index in range(2):
    env = dict(os.environ, TF_CONFIG=json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": index}}))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user runs it
    workers.append(subprocess.Popen(
        [sys.executable, os.path.join(REPO, "bin", "train"),
         f"--dataset=folder:{image_folder}", *TINY, *flags],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True))
  return workers


def finish(workers, timeout=240):
  """(returncode, stdout, stderr) of each worker once it has exited."""
  outputs = [w.communicate(timeout=timeout) for w in workers]
  return [(w.returncode, *output) for w, output in zip(workers, outputs)]


def wait_for_step(worker, step):
  """Reads the worker's log until it reports `step`; returns what it read."""
  seen = []
  for line in worker.stderr:
    seen.append(line)
    if f"step {step}/" in line:
      return "".join(seen)
  raise AssertionError("worker exited before step %d:\n%s" % (step,
                                                              "".join(seen)))


def test_two_workers_train_one_run_and_resume_from_the_same_step(
    image_folder, tmp_path):
  results = finish(start_workers(image_folder, tmp_path, "--steps=3"))
  for code, stdout, stderr in results:
    assert code == 0, stderr
    assert "Done at step 3" in stdout
  # The chief alone writes the run: its checkpoints and summaries.
  assert sorted(os.listdir(tmp_path / "run" / "checkpoints")) == [
      "checkpoint", "ckpt-3.data-00000-of-00001", "ckpt-3.index"]
  assert os.listdir(tmp_path / "tb")
  assert sorted(os.listdir(tmp_path)) == ["images", "run", "tb"]

  results = finish(start_workers(image_folder, tmp_path, "--steps=5"))
  for code, stdout, stderr in results:
    assert code == 0, stderr
    assert re.search(r"Resumed \S+ckpt-3 at step 3", stderr)
    assert "Done at step 5" in stdout


def test_a_signal_to_one_worker_stops_both_at_the_same_step(image_folder,
                                                            tmp_path):
  workers = start_workers(image_folder, tmp_path, "--steps=100000")
  wait_for_step(workers[1], 2)
  workers[1].send_signal(signal.SIGTERM)
  (chief_code, chief_out, _), (code, out, _) = finish(workers)
  assert code == 128 + signal.SIGTERM and chief_code == 1
  step = re.search(r"Interrupted at step (\d+) \(signal 15\)", out).group(1)
  assert f"Interrupted at step {step} (another worker was stopped)" in (
      chief_out)
  assert f"ckpt-{step}.index" in os.listdir(tmp_path / "run" / "checkpoints")


def test_a_killed_worker_stops_the_other_with_one_line(image_folder,
                                                       tmp_path):
  workers = start_workers(image_folder, tmp_path, "--steps=100000",
                          "--checkpoint_every=1")
  wait_for_step(workers[0], 2)
  workers[1].send_signal(signal.SIGKILL)
  started = time.monotonic()
  code, _, stderr = finish(workers[:1], timeout=120)[0]
  assert time.monotonic() - started < 90  # no hang
  assert code == 1 and "Traceback" not in stderr
  last = stderr.strip().splitlines()[-1]
  assert last.startswith("error: training stopped at step ")
  assert "another worker stopped answering" in last
  assert "resume from ckpt-" in last
  workers[1].wait()


@pytest.mark.parametrize("tf_config, expected", [
    ("{not json", "TF_CONFIG: not valid JSON"),
    (json.dumps({"cluster": {"worker": ["127.0.0.1:1"]},
                 "task": {"type": "worker", "index": 1}}),
     "TF_CONFIG: task index 1 out of range for 1 'worker' task(s)"),
])
def test_a_malformed_tf_config_is_one_line_and_writes_nothing(
    image_folder, tmp_path, tf_config, expected):
  env = dict(os.environ, TF_CONFIG=tf_config)
  env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user runs it
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, "bin", "train"),
       f"--dataset=folder:{image_folder}", *TINY, "--steps=1"],
      cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
      check=False)
  assert result.returncode == 2
  [line] = result.stderr.strip().splitlines()
  assert line.startswith(f"error: {expected}")
  assert sorted(os.listdir(tmp_path)) == ["images"]
