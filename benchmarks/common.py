"""Measurements shared by the benchmark scripts."""
import resource
import time

import tensorflow as tf


def forward_flops(generator, discriminator) -> tuple[int, int]:
  """The model's float ops for one image through G and through D.

  Counted from the layer shapes (2 per multiply-add of the dense and 5x5
  convolution layers), so the figure is the architecture's and does not
  change with how the convolutions are computed.
  """
  config = generator.config
  g_flops = 2 * int(tf.size(generator.project.kernel))
  resolution = 4
  for layer in (*generator.upsample, generator.to_image):
    g_flops += 2 * resolution**2 * int(tf.size(layer.kernel))  # per input px
    resolution *= 2
  d_flops = 2 * int(tf.size(discriminator.to_logit.kernel))
  resolution = config.image_size
  for layer in discriminator.downsample:
    resolution //= 2
    d_flops += 2 * resolution**2 * int(tf.size(layer.kernel))  # per output px
  return g_flops, d_flops


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
