"""Runs bin/<command> in the end-to-end tests, as a new process, fast.

`run_command` forks each command from a multiprocessing forkserver that has
already imported TensorFlow and the commands (`set_forkserver_preload`): a
fresh process running the command's own `run()` (absl flags, exit status,
stdout and stderr), without the ~6 s of imports every `bin/<command>` pays,
which was most of the suite's time. Tests of a command's start-up itself
(signals, TF_CONFIG clusters, a terminal, installed scripts) start the real
script with `command_line` and subprocess.
"""
import contextlib
import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile

from conftest import REPO

COMMANDS = ("train", "inpaint", "evaluate", "export")
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(
    ["tensorflow", "keras", "scipy.sparse.linalg", "matplotlib.pyplot"]
    + [f"tf_inpaint.cli.{command}" for command in COMMANDS]
    + [f"tf_inpaint.{module}" for module in (
        "baselines", "data", "evaluate", "inpaint", "models", "train")])


def command_line(command: str, *flags: str) -> list[str]:
  """The argv of `bin/<command> flags...`, for subprocess."""
  return [sys.executable, os.path.join(REPO, "bin", command), *flags]


def _run_in_child(command, flags, cwd, env, stdout_path, stderr_path):
  """The forked process: bin/<command>'s `run()` in `cwd` with `env`."""
  os.chdir(cwd)
  os.environ.clear()
  os.environ.update(env)
  for fd, path in ((1, stdout_path), (2, stderr_path)):
    target = os.open(path, os.O_WRONLY | os.O_TRUNC)
    os.dup2(target, fd)
    os.close(target)
  sys.argv = [os.path.join(REPO, "bin", command), *flags]
  importlib.import_module(f"tf_inpaint.cli.{command}").run()


@contextlib.contextmanager
def _started(command: str, flags, cwd, env):
  """Forks `bin/<command> flags...` from the server; yields (process, its
  stdout and stderr paths), which exist until the block ends."""
  with tempfile.TemporaryDirectory() as scratch:
    paths = [os.path.join(scratch, name) for name in ("stdout", "stderr")]
    for path in paths:
      open(path, "w").close()
    process = _FORKSERVER.Process(
        target=_run_in_child,
        args=(command, list(flags), str(cwd), dict(env or os.environ), *paths))
    process.start()
    yield process, paths


def run_command(command: str, *flags: str, cwd, env=None,
                timeout: float = 300) -> subprocess.CompletedProcess:
  """Runs `bin/<command> flags...` in `cwd` (environment `env`, default this
  one's) as a new process; like `subprocess.run(capture_output=True,
  text=True)`.

  Raises:
    subprocess.TimeoutExpired: if it runs longer than `timeout` (then killed).
  """
  argv = command_line(command, *flags)
  with _started(command, flags, cwd, env) as (process, paths):
    process.join(timeout)
    if process.exitcode is None:
      process.kill()
      process.join()
      raise subprocess.TimeoutExpired(argv, timeout)
    stdout, stderr = (open(path).read() for path in paths)
  return subprocess.CompletedProcess(argv, process.exitcode, stdout, stderr)


def kill_command_after(command: str, *flags: str, cwd, seconds: float,
                       env=None) -> bool:
  """Starts `bin/<command> flags...` as `run_command` does and SIGKILLs it
  after `seconds` if it is still running; True if it was killed."""
  with _started(command, flags, cwd, env) as (process, _):
    process.join(seconds)
    killed = process.exitcode is None
    if killed:
      process.kill()
    process.join()
  return killed
