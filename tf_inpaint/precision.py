"""Numeric precision: which Keras mixed-precision policy the networks compute in.

`float32` is the paper's. `mixed_bfloat16` computes convolutions and matmuls
in bfloat16 while variables, optimizer state, batch-norm statistics, the
image and logit layers, losses and z stay float32; CPUs with AVX512-BF16 or
AMX run it on native bf16 instructions (a plain Keras DCGAN trains about
1.6x faster on such a CPU, README, Benchmarks). `mixed_float16` is for GPUs,
where it needs loss scaling; on a CPU it would only be slow, so it is
refused there. `auto` resolves to bf16 where the hardware has it, else
float32, and the resolved value is what every run records.
"""
import contextlib

from tf_inpaint import machine
from tf_inpaint.errors import InputError

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# What a record written before precision was a setting computed in.
LEGACY = "float32"
# /proc/cpuinfo flags that give bfloat16 arithmetic its own instructions.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def gpu_compute_capabilities() -> list:
  """(major, minor) of each GPU TensorFlow sees; empty on a CPU-only machine."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return [tf.config.experimental.get_device_details(gpu).get(
      "compute_capability", (0, 0))
          for gpu in tf.config.list_physical_devices("GPU")]


def check_choice(precision: str) -> None:
  if precision not in PRECISIONS:
    raise InputError(f"precision={precision!r}: expected one of "
                     f"{', '.join(PRECISIONS)}")


def resolve(precision: str, flags=None, gpus=None) -> str:
  """The policy `precision` means on this machine.

  Args:
    precision: one of PRECISIONS.
    flags, gpus: the CPU flags and GPU compute capabilities to decide by
      (default: this machine's); tests pass others.
  Raises:
    InputError: for an unknown value, or mixed_float16 without a GPU.
  """
  check_choice(precision)
  gpus = gpu_compute_capabilities() if gpus is None else gpus
  if precision == "mixed_float16" and not gpus:
    raise InputError("precision=mixed_float16: no GPU here, and on a CPU "
                     "float16 is only slower; use mixed_bfloat16 or float32")
  if precision != "auto":
    return precision
  flags = machine.cpu_flags() if flags is None else flags
  if gpus:
    return "mixed_bfloat16" if all(c >= (8, 0) for c in gpus) else "float32"
  return ("mixed_bfloat16" if any(flag in flags for flag in BF16_CPU_FLAGS)
          else "float32")


def resolved(config):
  """A config dataclass with its `precision` field resolved (`resolve`)."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  return dataclasses.replace(config, precision=resolve(config.precision))


def describe(requested: str, resolved: str) -> str:
  """The line a command prints once: what it computes in, and why."""
  if requested != "auto":
    return f"precision: {resolved}"
  found = [flag for flag in BF16_CPU_FLAGS if flag in machine.cpu_flags()]
  reason = (f"the CPU has {', '.join(found).upper()}" if found else
            "no bf16 instructions on this CPU")
  return f"precision: {resolved} (auto: {reason})"


@contextlib.contextmanager
def policy(precision: str):
  """Keras layers created inside compute in `precision` (a resolved value).

  Keras takes a layer's dtype policy from the global one when the layer is
  made; the global policy is restored afterwards, so networks built outside
  stay float32.
  """
  import keras  # pylint: disable=g-import-not-at-top
  if precision == "auto":
    raise ValueError("resolve the precision before building networks")
  previous = keras.config.dtype_policy()
  keras.config.set_dtype_policy(precision)
  try:
    yield
  finally:
    keras.config.set_dtype_policy(previous)


def of_model(model) -> str:
  """The policy a network was built with (its dtype policy's name)."""
  return model.dtype_policy.name
