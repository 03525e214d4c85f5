"""Keeps TensorFlow's start-up noise off a CPU user's terminal.

TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's C++ info and warning lines, but not
those its CUDA probing writes before its logging is set up ("All log messages
before absl::InitializeLog() ...", cudart_stub, the failed cuInit on a machine
without a GPU), nor oneDNN's error-level note that a uint8 op runs on Eigen. While a command runs, its stderr passes through a filter that
drops exactly those lines; everything else (errors, warnings, tracebacks)
passes unchanged. A user who sets TF_CPP_MIN_LOG_LEVEL gets TensorFlow's own
output, unfiltered.
"""
import contextlib
import os
import re
import sys
import threading

_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|"
    r"cuda_platform\.cc|cuda_executor\.cc|cpu_feature_guard\.cc|"
    r"rebuild TensorFlow with the appropriate compiler flags|"
    r"oneDNN custom operations|Sharding callback|"
    # A uint8 op of the image pipeline falling back from oneDNN to Eigen
    # (logged as an error, wrongly claiming the CPU lacks AVX-512).
    r"oneDNN supports DT_UINT8 only")


def is_noise(line: str) -> bool:
  return bool(_NOISE.search(line))


@contextlib.contextmanager
def filtered_stderr():
  """Routes file descriptor 2 through `is_noise` for the duration."""
  sys.stderr.flush()
  terminal = os.dup(2)
  read_end, write_end = os.pipe()
  os.dup2(write_end, 2)
  os.close(write_end)

  def forward():
    with os.fdopen(read_end, "rb") as pipe:
      for line in pipe:
        if not is_noise(line.decode(errors="replace")):
          os.write(terminal, line)

  thread = threading.Thread(target=forward, daemon=True)
  thread.start()
  try:
    yield
  finally:
    sys.stderr.flush()
    os.dup2(terminal, 2)  # the pipe's last writer closes: the reader ends
    thread.join(timeout=10)
    os.close(terminal)
