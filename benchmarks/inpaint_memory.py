r"""Resident memory over many inpainting calls; prints one JSON line.

  python benchmarks/inpaint_memory.py --passes=100

One `tf_inpaint.load_model(...)` inpaints the same sample photo --passes
times (as a web page or a Python loop would), --iterations each. Reports the
process's resident memory (RSS) after the first pass and after the last, and
the seconds per pass after the first: memory should stay flat (#14: under
50 MB of growth after warm-up).
"""
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
from PIL import Image  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
import tf_inpaint  # pylint: disable=g-import-not-at-top
from tf_inpaint import models  # pylint: disable=g-import-not-at-top

flags.DEFINE_string("model", "celeba64", "Bundled model or run directory.")
flags.DEFINE_integer("passes", 100, "Inpainting calls.")
flags.DEFINE_integer("iterations", 5, "Iterations per call.")
flags.DEFINE_integer("tune_iters", 0, "Per-image generator tuning "
                     "iterations per call.")
flags.DEFINE_bool("vary_options", False, "Change the options every call "
                  "(iterations n or n+1, lam, learning rate), as a page whose "
                  "user changes them does.")
FLAGS = flags.FLAGS


def _rss_mb() -> float:
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv):
  del argv
  folder = models.bundled_samples("celeba64")
  with Image.open(os.path.join(folder, sorted(os.listdir(folder))[0])) as f:
    photo = np.asarray(f.convert("RGB"))
  hole = np.zeros(photo.shape[:2], bool)
  hole[40:60, 30:60] = True
  model = tf_inpaint.load_model(FLAGS.model)
  model.inpaint(photo, hole, iterations=FLAGS.iterations,
                tune_iters=FLAGS.tune_iters)
  after_first = _rss_mb()
  start = time.perf_counter()
  for i in range(1, FLAGS.passes):
    varied = dict(iterations=FLAGS.iterations + i % 2, lam=0.003 * (1 + i % 3),
                  learning_rate=0.01 * (1 + i % 5)) if FLAGS.vary_options else {}
    model.inpaint(photo, hole, **{"iterations": FLAGS.iterations,
                                  "tune_iters": FLAGS.tune_iters, **varied})
  common.print_report({
      "model": FLAGS.model, "passes": FLAGS.passes,
      "iterations": FLAGS.iterations, "tune_iters": FLAGS.tune_iters,
      "vary_options": FLAGS.vary_options,
      "rss_mb_after_first": round(after_first),
      "rss_mb_after_last": round(_rss_mb()),
      "seconds_per_pass": round((time.perf_counter() - start) /
                                max(1, FLAGS.passes - 1), 3)})


if __name__ == "__main__":
  app.run(main)
