"""Train-step throughput of the paper's DCGAN; prints one JSON line.

  python benchmarks/train_throughput.py [--steps=4]

Runs the real `Trainer` (data pipeline included) on generated images, timing
the steps after the first interval (which holds tracing), at 64x64 and 32x32.
FLOPs per image come from the layer shapes: a train step costs G forward,
D forward on real and fake, D backward twice for D (input and weight
gradients), D backward to its input once more for G, and G backward.
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
from absl import app, flags, logging  # pylint: disable=g-import-not-at-top
from PIL import Image  # pylint: disable=g-import-not-at-top

from benchmarks.common import forward_flops, matmul_gflops  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, models, train  # pylint: disable=g-import-not-at-top

flags.DEFINE_integer("steps", 4, "Timed steps per size (after warm-up).")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
FLAGS = flags.FLAGS


def train_step_flops(model_config: config.ModelConfig) -> int:
  """Per image: G forward and backward (3 passes), D 7 passes (see above)."""
  g, d = forward_flops(*models.build(model_config))
  return 3 * g + 7 * d


def images_per_second(image_size: int, workdir: str) -> float:
  folder = os.path.join(workdir, f"images{image_size}")
  os.makedirs(folder)
  rng = np.random.default_rng(0)
  for i in range(FLAGS.batch_size):
    Image.fromarray(rng.integers(0, 256, (image_size, image_size, 3),
                                 dtype=np.uint8)).save(f"{folder}/{i}.png")
  warmup = 2
  train_config = config.TrainConfig(
      dataset=f"folder:{folder}", batch_size=FLAGS.batch_size,
      steps=warmup + FLAGS.steps, summary_every=warmup,
      image_every=10**6, checkpoint_every=10**6)
  trainer = train.Trainer(config.ModelConfig(image_size=image_size),
                          train_config, os.path.join(workdir, f"run{image_size}"),
                          os.path.join(workdir, f"logs{image_size}"))
  # With summary_every=warmup, the last interval holds only timed steps
  # when steps is a multiple of warmup; otherwise it is the final remainder.
  return trainer.train()["images_per_second"]


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  tf.config.optimizer.set_jit(False)
  result = {"batch_size": FLAGS.batch_size, "timed_steps": FLAGS.steps}
  peak = matmul_gflops()
  with tempfile.TemporaryDirectory() as workdir:
    for size in (64, 32):
      ips = images_per_second(size, workdir)
      flops = train_step_flops(config.ModelConfig(image_size=size))
      result[f"images_per_s_{size}"] = round(ips, 2)
      result[f"gflop_per_image_{size}"] = round(flops / 1e9, 3)
      result[f"achieved_gflops_{size}"] = round(ips * flops / 1e9, 1)
  result["matmul_gflops"] = round(peak, 1)
  result["fraction_of_matmul_64"] = round(result["achieved_gflops_64"] / peak,
                                          3)
  print(json.dumps(result))


if __name__ == "__main__":
  app.run(main)
