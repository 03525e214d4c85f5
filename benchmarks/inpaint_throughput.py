"""Inpainting throughput of the paper's model at 64x64; prints one JSON line.

  python benchmarks/inpaint_throughput.py [--iterations=20]

Times the real `Inpainter` (one @tf.function step per iteration for the whole
batch) after a warm-up run that holds tracing, for 1 and 64 images per batch.
An image-iteration costs G and D forward, then D and G backward to the input
only (no weight gradients): about 2 x (G + D forward) FLOPs.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import numpy as np  # pylint: disable=g-import-not-at-top
from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks.common import forward_flops, matmul_gflops, peak_rss_mb  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, inpaint, masks, models  # pylint: disable=g-import-not-at-top

flags.DEFINE_integer("iterations", 20, "Timed iterations per batch size.")
FLAGS = flags.FLAGS


def image_iterations_per_second(generator, discriminator, count: int) -> float:
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (count, 64, 64, 3)).astype(np.float32)
  mask = masks.make_masks("center", count, 64)
  # Overlay blending keeps the timing about the z optimisation.
  def run(iterations):
    inpainter = inpaint.Inpainter(generator, discriminator,
                                  config.InpaintConfig(iterations=iterations,
                                                       batch_size=count,
                                                       blend="overlay"))
    start = time.perf_counter()
    inpainter.inpaint(images, mask)
    return time.perf_counter() - start
  # The difference of two runs cancels tracing and set-up.
  short, long = run(2), run(2 + FLAGS.iterations)
  return count * FLAGS.iterations / (long - short)


def main(argv):
  del argv
  model_config = config.ModelConfig()
  generator, discriminator = models.build(model_config)
  flops = 2 * sum(forward_flops(generator, discriminator))
  peak = matmul_gflops()
  result = {"gflop_per_image_iteration": round(flops / 1e9, 3)}
  for count in (1, 64):
    rate = image_iterations_per_second(generator, discriminator, count)
    result[f"image_iterations_per_s_batch{count}"] = round(rate, 1)
    result[f"fraction_of_matmul_batch{count}"] = round(
        rate * flops / 1e9 / peak, 3)
  result["matmul_gflops"] = round(peak, 1)
  result["peak_rss_mb"] = round(peak_rss_mb(), 0)
  print(json.dumps(result))


if __name__ == "__main__":
  app.run(main)
