"""Facts about the machine that a measured speed depends on.

Results and benchmarks record them beside every figure (a speed holds only
on the machine it was measured on), and `precision` reads the CPU's flags to
decide what `auto` means.
"""
import functools
import os
import platform

# CPU flags that decide which kernels and precisions are fast.
RELEVANT_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
                      "amx_bf16", "amx_tile")


def _cpuinfo(field: str) -> str | None:
  """The first value of `field` in /proc/cpuinfo, or None where there is none."""
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.split(":", 1)[0].strip() == field:
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return None


@functools.cache
def cpu_flags() -> frozenset:
  """The CPU's feature flags (empty where /proc/cpuinfo has none)."""
  return frozenset((_cpuinfo("flags") or "").split())


@functools.cache
def cpu_model() -> str:
  """The CPU's model name (lscpu's), or the platform's processor string."""
  return (_cpuinfo("model name") or platform.processor()
          or platform.machine())


def facts() -> dict:
  """CPU model and its relevant flags, cores this process may use, versions."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return {"cpu": cpu_model(),
          "cpu_flags": [f for f in RELEVANT_CPU_FLAGS if f in cpu_flags()],
          "cores_used": len(os.sched_getaffinity(0)),
          "tensorflow": tf.__version__, "keras": keras.__version__}
