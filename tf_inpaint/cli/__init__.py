"""Command-line entry points: flags -> config dataclass -> library call."""
import os
import sys

# TensorFlow's C++ start-up chatter (CUDA probing on CPU machines) drowns the
# progress lines; real errors still surface as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top

from tf_inpaint.errors import InputError


def run_main(main) -> None:
  """Runs an absl `main`; bad input is one line on stderr and exit status 2."""

  def guarded(argv):
    if len(argv) > 1:
      raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
      main()
    except InputError as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(2)

  app.run(guarded)
