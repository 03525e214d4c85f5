r"""Does bin/evaluate's memory stay flat over many images? One JSON line.

  python benchmarks/evaluate_memory.py \
      --images=folder:../shared/data/celeba/img_align_celeba_half_extra \
      --num_images=2000 --masks=center,random80 --methods=ours,tv,biharmonic

Runs `bin/evaluate` once over --num_images images (x masks x methods),
sampling its resident memory (RSS) every second. Memory should not grow with
the number of images: images are read a part at a time and results are
written as they come. Reports the peak, and the highest RSS in each quarter
of the run's time: a leak shows as quarters that keep rising.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("model", "celeba64", "Bundled model or run directory.")
flags.DEFINE_string("images", None, "Images to evaluate (not validation "
                    "images: this measures memory, not quality).")
flags.DEFINE_integer("num_images", 2000, "How many.")
flags.DEFINE_list("masks", ["center", "random80"], "Masks.")
flags.DEFINE_list("methods", ["ours", "tv", "biharmonic"], "Methods.")
flags.DEFINE_integer("iterations", 5, "Search iterations of `ours` (memory "
                     "does not depend on them).")
flags.DEFINE_float("cap_gb", 8.0, "Stop bin/evaluate if its RSS passes this.")
flags.mark_flag_as_required("images")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  with tempfile.TemporaryDirectory(prefix="evaluate_memory_") as folder:
    command = [sys.executable, "bin/evaluate", f"--model={FLAGS.model}",
               f"--images={FLAGS.images}", f"--num_images={FLAGS.num_images}",
               f"--masks={','.join(FLAGS.masks)}",
               f"--methods={','.join(FLAGS.methods)}",
               f"--iters={FLAGS.iterations}",
               f"--outdir={os.path.join(folder, 'evaluation')}"]
    measured = common.watch_memory(command, FLAGS.cap_gb, cwd=REPO, every=1.0)
  samples = measured.pop("rss_samples")
  quarters = [max((rss for seconds, rss in samples
                   if q * measured["seconds"] / 4 <= seconds
                   < (q + 1) * measured["seconds"] / 4), default=0.0)
              for q in range(4)]
  common.print_report({
      "model": FLAGS.model, "images": FLAGS.images,
      "num_images": FLAGS.num_images, "masks": FLAGS.masks,
      "methods": FLAGS.methods, "iterations": FLAGS.iterations,
      **measured, "peak_rss_gb_by_quarter": quarters})


if __name__ == "__main__":
  app.run(main)
