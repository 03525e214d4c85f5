"""Which kernels compute each 5x5 stride-2 layer: chosen by measuring them.

The phase form (`strided_conv.py`) runs transposed convolutions and input
gradients on TensorFlow's forward convolution kernel; TensorFlow's own
kernels (`native`) are the usual Keras path. Which is faster depends on the
CPU, the shape, the batch and the precision (on an AVX2 EPYC the phase form
trained 1.66x faster; on an AVX-512 EPYC with BF16 TensorFlow's kernels won
at batch 64). Both give the same values up to float rounding, so the choice
never changes a result beyond that.

`choose` times both forms once for each layer's (shape, batch, precision,
use) and keeps the faster; the choice is cached per machine in the user's
cache directory, keyed by CPU model and TensorFlow version, so later runs
pay nothing. `--conv_impl=phase|native` forces one.
"""
import json
import os
import time

import tensorflow as tf

from tf_inpaint import machine
from tf_inpaint.config import CONV_IMPLS
from tf_inpaint.errors import InputError

IMPLEMENTATIONS = ("phase", "native")
_CACHE_FILENAME = "conv_choice.json"
_REPEATS = 7


def cache_path() -> str:
  """$TF_INPAINT_CACHE_DIR, else $XDG_CACHE_HOME/tf_inpaint, else
  ~/.cache/tf_inpaint; the file that holds the measured choices."""
  directory = os.environ.get("TF_INPAINT_CACHE_DIR") or os.path.join(
      os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
      "tf_inpaint")
  return os.path.join(directory, _CACHE_FILENAME)


def _read_cache() -> dict:
  try:
    with open(cache_path()) as f:
      cache = json.load(f)
    return cache if isinstance(cache, dict) else {}
  except (OSError, ValueError):
    return {}  # no cache yet, or a damaged one: measure again


def _write_cache(cache: dict) -> None:
  """Atomically, so a concurrent reader never sees half a file; a cache that
  cannot be written only costs a measurement next time."""
  path = cache_path()
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp_path = f"{path}.{os.getpid()}.tmp"
    with open(tmp_path, "w") as f:
      json.dump(cache, f, indent=1, sort_keys=True)
    os.replace(tmp_path, path)
  except OSError:
    pass


def strided_layers(*networks) -> list:
  """Every layer of `networks` that has both forms (layers.FreezablePhases)."""
  from tf_inpaint import layers  # pylint: disable=g-import-not-at-top
  return [layer for net in networks if net is not None
          for layer in net._flatten_layers()  # pylint: disable=protected-access
          if isinstance(layer, layers.FreezablePhases)]


def _key(layer, batch_size: int, train_kernels: bool) -> str:
  """What a measurement depends on: machine, library, shape, batch, dtype, use."""
  return "|".join(map(str, (
      machine.cpu_model(), f"tf{tf.__version__}", type(layer).__name__,
      "x".join(map(str, layer.input_shape_seen)), layer.filters,
      f"batch{batch_size}", layer.compute_dtype,
      "train" if train_kernels else "infer")))


def _seconds(layer, inputs, train_kernels: bool) -> float:
  """Shortest time of a forward and backward pass through `layer` (the input
  gradient, and the kernel's when it trains): the least disturbed by other
  work on the machine."""
  watched = [layer.kernel] if train_kernels else []

  @tf.function(jit_compile=False)
  def forward_backward(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      outputs = tf.cast(layer(x), tf.float32)
    return tape.gradient(outputs, [x, *watched])

  forward_backward(inputs)  # traces and warms up
  times = []
  for _ in range(_REPEATS):
    start = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), forward_backward(inputs))
    times.append(time.perf_counter() - start)
  return min(times)


def measure(layer, batch_size: int, train_kernels: bool) -> dict:
  """Seconds per forward and backward pass of each form, for one layer."""
  inputs = tf.random.stateless_uniform([batch_size, *layer.input_shape_seen],
                                       [0, 0], -1.0, 1.0,
                                       dtype=layer.compute_dtype)
  chosen = layer.conv_impl
  try:
    seconds = {}
    for implementation in IMPLEMENTATIONS:
      layer.conv_impl = implementation
      seconds[implementation] = _seconds(layer, inputs, train_kernels)
  finally:
    layer.conv_impl = chosen
  return seconds


def choose(networks, batch_size: int, train_kernels: bool,
           conv_impl: str = "auto") -> dict:
  """Sets `conv_impl` on every strided layer of `networks`, before tracing.

  Args:
    networks: built Keras models (None entries are skipped).
    batch_size: the batch each layer will see (per replica).
    train_kernels: whether the kernels get gradients (training) or only the
      inputs do (the z search through frozen networks).
    conv_impl: `phase` or `native` for every layer, or `auto`: each layer's
      faster form, measured once per machine (see the module docstring).
  Returns:
    layer path -> the chosen form.
  """
  if conv_impl not in CONV_IMPLS:
    raise InputError(f"conv_impl={conv_impl!r}: expected one of "
                     f"{', '.join(CONV_IMPLS)}")
  layers = strided_layers(*networks)
  cache = _read_cache() if conv_impl == "auto" else {}
  measured = False
  for layer in layers:
    if conv_impl != "auto":
      layer.conv_impl = conv_impl
      continue
    key = _key(layer, batch_size, train_kernels)
    if key not in cache:
      seconds = measure(layer, batch_size, train_kernels)
      cache[key] = min(seconds, key=seconds.get)
      measured = True
    layer.conv_impl = cache[key]
  if measured:
    _write_cache({**_read_cache(), **cache})
  return {layer.path: layer.conv_impl for layer in layers}
