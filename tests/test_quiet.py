"""The stderr filter of the command-line tools drops TF's start-up noise only."""
import os
import subprocess
import sys

from conftest import REPO


def test_only_tensorflows_start_up_lines_are_dropped():
  code = (
      "import os, sys\n"
      "from tf_inpaint.cli import quiet\n"
      "with quiet.filtered_stderr():\n"
      "  os.write(2, b'WARNING: All log messages before absl::InitializeLog() "
      "is called are written to STDERR\\n')\n"
      "  os.write(2, b'I0000 cudart_stub.cc:31] Could not find cuda drivers\\n')\n"
      "  os.write(2, b'E0000 cuda_platform.cc:52] failed call to cuInit\\n')\n"
      "  print('error: a real message', file=sys.stderr)\n"
      "  os.write(2, b'no newline at the end')\n"
      "print('after', file=sys.stderr)\n")
  result = subprocess.run([sys.executable, "-c", code], cwd=REPO,
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": REPO})
  assert result.stderr == "error: a real message\nno newline at the endafter\n"
