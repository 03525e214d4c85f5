"""z-search throughput at 64x64 beside plain Keras; prints one JSON line.

  python benchmarks/inpaint_throughput.py [--iterations=20]

Times the real `Inpainter` (one @tf.function step per iteration for the
whole batch) for 1 and 64 images per batch, for each precision the machine
supports and each way of computing the strided layers (`--conv_impl`); the
difference of a short and a long run after a warm-up cancels set-up. In the same
run: the naive search through a plain Keras DCGAN (benchmarks/keras_peers.py)
in float32 and bf16, and the ratio of ours to the faster peer. An
image-iteration costs G and D forward, then D and G backward to the input
only (no weight gradients): about 2 x (G + D forward) FLOPs.
"""
import dataclasses
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import numpy as np  # pylint: disable=g-import-not-at-top
from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks import keras_peers  # pylint: disable=g-import-not-at-top
from benchmarks.common import forward_flops, matmul_gflops, peak_rss_mb, print_report, supported_precisions  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, inpaint, masks, models  # pylint: disable=g-import-not-at-top

flags.DEFINE_integer("iterations", 20, "Timed iterations per setting.")
FLAGS = flags.FLAGS
_BATCHES = (1, 64)


def image_iterations_per_second(generator, discriminator, count: int,
                                precision: str, conv_impl: str) -> float:
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (count, 64, 64, 3)).astype(np.float32)
  mask = masks.make_masks("center", count, 64)
  inpainter = inpaint.Inpainter(generator, discriminator, config.InpaintConfig(
      iterations=2, batch_size=count, blend="overlay", precision=precision,
      conv_impl=conv_impl))

  # Overlay blending keeps the timing about the z optimisation.
  def run(iterations):
    timed = inpainter.reconfigured(dataclasses.replace(
        inpainter.config, iterations=iterations))
    start = time.perf_counter()
    timed.inpaint(images, mask)
    return time.perf_counter() - start

  run(2)  # traces the step, which the timed runs share
  short, long = run(2), run(2 + FLAGS.iterations)
  return count * FLAGS.iterations / (long - short)


def main(argv):
  del argv
  generator, discriminator = models.build(config.ModelConfig())
  flops = 2 * sum(forward_flops(generator, discriminator))
  result = {"gflop_per_image_iteration": round(flops / 1e9, 3),
            "timed_iterations": FLAGS.iterations}
  ours = {}
  for precision in supported_precisions():
    for conv_impl in ("phase", "native", "auto"):
      for count in _BATCHES:
        ours[f"{precision}/{conv_impl}/batch{count}"] = round(
            image_iterations_per_second(generator, discriminator, count,
                                        precision, conv_impl), 1)
  peers = {f"{policy}/batch{count}": round(
      keras_peers.search_image_iterations_per_second(
          policy, count, FLAGS.iterations), 1)
           for policy in ("float32", "mixed_bfloat16") for count in _BATCHES}
  result["ours_image_iterations_per_s"] = ours
  result["keras_peer_image_iterations_per_s"] = peers
  for count in _BATCHES:
    fastest_peer = max(value for key, value in peers.items()
                       if key.endswith(f"/batch{count}"))
    for precision in supported_precisions():
      result[f"ratio_{precision}_auto_to_faster_peer_batch{count}"] = round(
          ours[f"{precision}/auto/batch{count}"] / fastest_peer, 3)
  peak = matmul_gflops()
  result["matmul_gflops"] = round(peak, 1)
  result["fraction_of_matmul_float32_batch64"] = round(
      ours["float32/auto/batch64"] * flops / 1e9 / peak, 3)
  result["peak_rss_mb"] = round(peak_rss_mb(), 0)
  print_report(result)


if __name__ == "__main__":
  app.run(main)
