"""Command-line entry points: flags -> config dataclass -> library call."""
import contextlib
import os
import sys

# TensorFlow's C++ start-up chatter (CUDA probing on CPU machines) drowns the
# progress lines; real errors still surface as Python exceptions. A user who
# sets the level keeps TensorFlow's own output (see quiet.py).
_QUIET = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags  # pylint: disable=g-import-not-at-top

from tf_inpaint import timing  # pylint: disable=g-import-not-at-top,unused-import  (starts the clock)
from tf_inpaint.cli import config_flags  # pylint: disable=g-import-not-at-top
from tf_inpaint.cli import quiet  # pylint: disable=g-import-not-at-top
from tf_inpaint.errors import InputError, WorkerLostError  # pylint: disable=g-import-not-at-top


def _show_in_help(main) -> None:
  """Makes `--help` show the command's own flags and usage text.

  absl lists the key flags of the main module (named by sys.argv[0]); ours
  are defined in the command's module and, derived from the configs, in
  `config_flags`, so they are registered for main too.
  """
  command = sys.modules[main.__module__]
  for module in (command, config_flags):
    for flag in flags.FLAGS.get_key_flags_for_module(module):
      flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
  sys.modules["__main__"].__doc__ = _with_installed_names(command.__doc__)


def _with_installed_names(doc: str) -> str:
  """`doc` with bin/<command> spelled as installed (`tf-inpaint-train`) when
  the command was started by its installed name rather than from bin/."""
  from importlib import metadata  # pylint: disable=g-import-not-at-top
  if not os.path.basename(sys.argv[0]).startswith("tf-inpaint"):
    return doc
  for script in metadata.entry_points(group="console_scripts"):
    if script.value.startswith("tf_inpaint.cli."):
      command = script.value.split(":")[0].rsplit(".", 1)[1]
      doc = doc.replace(f"bin/{command} ", f"{script.name} ").replace(
          f"`bin/{command}`", f"`{script.name}`")
  return doc


def run_main(define_flags, main) -> None:
  """Defines the flags and runs an absl `main`; bad input is one line on
  stderr and exit status 2, a lost training peer one line and exit status 1.

  Defining flags may import TensorFlow, so it runs inside the stderr filter.
  """

  def guarded(argv):
    if len(argv) > 1:
      raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
      config_flags.warn_deprecated()
      main()
    except InputError as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(2)
    except WorkerLostError as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(1)

  with quiet.filtered_stderr() if _QUIET else contextlib.nullcontext():
    define_flags()
    _show_in_help(main)
    app.run(guarded)
