"""Train-step throughput at 64x64 beside plain Keras; prints one JSON line.

  python benchmarks/train_throughput.py [--steps=6]

Runs the real `Trainer` (data pipeline included) on generated images, timing
the steps after the first interval (which holds tracing), for each precision
the machine supports (`float32`, and `mixed_bfloat16` where `auto` picks it)
and each way of computing the strided layers (`--conv_impl` phase, native,
auto). In the same run: a plain Keras `Sequential` DCGAN of the same
architecture (benchmarks/keras_peers.py) in float32 and in bf16, and the
ratios of ours to the faster peer and to the float32 peer. FLOPs per image
come from the layer shapes: G forward, D forward on real and fake, D backward
twice for D (input and weight gradients), D backward to its input once more
for G, and G backward.
"""
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

from benchmarks import keras_peers  # pylint: disable=g-import-not-at-top
from benchmarks.common import forward_flops, matmul_gflops, print_report, supported_precisions  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, models, train  # pylint: disable=g-import-not-at-top

flags.DEFINE_integer("steps", 6, "Timed steps per setting (after warm-up).")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
FLAGS = flags.FLAGS
_SIZE = 64


def train_step_flops(model_config: config.ModelConfig) -> int:
  """Per image: G forward and backward (3 passes), D 7 passes (see above)."""
  g, d = forward_flops(*models.build(model_config))
  return 3 * g + 7 * d


def images_per_second(workdir: str, folder: str, precision: str,
                      conv_impl: str) -> float:
  name = f"{precision}_{conv_impl}"
  warmup = 2
  train_config = config.TrainConfig(
      dataset=f"folder:{folder}", batch_size=FLAGS.batch_size,
      steps=warmup + FLAGS.steps, summary_every=warmup,
      image_every=10**6, checkpoint_every=10**6, precision=precision,
      conv_impl=conv_impl)
  trainer = train.Trainer(config.ModelConfig(image_size=_SIZE), train_config,
                          os.path.join(workdir, f"run_{name}"),
                          os.path.join(workdir, f"logs_{name}"))
  # With summary_every=warmup, the last interval holds only timed steps
  # when steps is a multiple of warmup; otherwise it is the final remainder.
  return trainer.train()["images_per_second"]


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  tf.config.optimizer.set_jit(False)
  result = {"image_size": _SIZE, "batch_size": FLAGS.batch_size,
            "timed_steps": FLAGS.steps}
  flops = train_step_flops(config.ModelConfig(image_size=_SIZE))
  result["gflop_per_image"] = round(flops / 1e9, 3)
  ours = {}
  with tempfile.TemporaryDirectory() as workdir:
    folder = os.path.join(workdir, "images")
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for i in range(FLAGS.batch_size):
      Image.fromarray(rng.integers(0, 256, (_SIZE, _SIZE, 3),
                                   dtype=np.uint8)).save(f"{folder}/{i}.png")
    for precision in supported_precisions():
      for conv_impl in ("phase", "native", "auto"):
        ours[f"{precision}/{conv_impl}"] = round(
            images_per_second(workdir, folder, precision, conv_impl), 1)
  peers = {policy: round(keras_peers.train_images_per_second(
      policy, FLAGS.batch_size, FLAGS.steps), 1)
           for policy in ("float32", "mixed_bfloat16")}
  result["ours_images_per_s"] = ours
  result["keras_peer_images_per_s"] = peers
  default = ours[f"{supported_precisions()[-1]}/auto"]
  result["ours_default"] = f"{supported_precisions()[-1]}/auto"
  result["ratio_default_to_faster_peer"] = round(default / max(peers.values()),
                                                 3)
  result["ratio_float32_to_float32_peer"] = round(
      ours["float32/auto"] / peers["float32"], 3)
  peak = matmul_gflops()
  result["matmul_gflops"] = round(peak, 1)
  result["fraction_of_matmul_float32"] = round(
      ours["float32/auto"] * flops / 1e9 / peak, 3)
  print_report(result)


if __name__ == "__main__":
  app.run(main)
