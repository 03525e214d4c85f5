"""Measurements shared by the benchmark scripts."""
import resource
import time

import tensorflow as tf


def forward_flops(network, input_shape) -> int:
  """Float ops of one inference pass on one input, counted by TF's profiler."""
  from tensorflow.python.profiler import model_analyzer, option_builder  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  graph = tf.function(lambda x: network(x, training=False)).get_concrete_function(
      tf.TensorSpec((1, *input_shape))).graph
  options = option_builder.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  return model_analyzer.profile(graph, options=options).total_float_ops


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
  """The machine's practical float32 peak: a large tf.matmul, in GFLOP/s."""
  a = tf.random.normal((n, n))
  matmul = tf.function(tf.matmul)
  matmul(a, a).numpy()
  start = time.perf_counter()
  for _ in range(repeats):
    result = matmul(a, a)
  result.numpy()
  return repeats * 2 * n**3 / (time.perf_counter() - start) / 1e9


def peak_rss_mb() -> float:
  """This process's peak resident memory so far (Linux reports KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
