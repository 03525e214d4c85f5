r"""bin/inpaint on 200 and on 2,000 images; prints one JSON line.

  python benchmarks/inpaint_scale.py \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=1000

Copies the validation faces into a temporary folder, repeated under new
names until there are --large of them, then runs `bin/inpaint` (a
subprocess each, --iterations per image, random starts, no tuning: the same
work as the in-memory path) on the first --small and on all --large, and
reports each run's peak resident memory (target: the same
within 10 %) and images/s. For comparison, the in-memory path on the
--small images: `data.read_images` of all, then one `Inpainter.inpaint`
call, no files written.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
sys.path.insert(0, REPO)

from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, data, inpaint, masks, models  # pylint: disable=g-import-not-at-top

flags.DEFINE_string("model", "celeba64", "Bundled model or run directory.")
flags.DEFINE_string("images", None, "Validation images (a folder spec).")
flags.DEFINE_integer("first_image", 1, "1-based index of the first image.")
flags.DEFINE_integer("num_images", 0, "How many distinct images; 0 = all.")
flags.DEFINE_integer("small", 200, "Images in the small run.")
flags.DEFINE_integer("large", 2000, "Images in the large run.")
flags.DEFINE_integer("iterations", 5, "Iterations of the z search.")
flags.DEFINE_string("mask", "center", "Mask.")
flags.mark_flags_as_required(["images"])
FLAGS = flags.FLAGS

# Runs a script and reports its peak resident memory on stderr at exit.
_WITH_PEAK_RSS = """
import atexit, resource, runpy, sys
atexit.register(lambda: print("peak_rss_kb", resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _repeated_folder(folder: str) -> None:
  """--large files in `folder`: the selected images, repeated."""
  paths = data.list_image_files(data.local_path(FLAGS.images),
                                FLAGS.first_image, FLAGS.num_images)
  for i in range(FLAGS.large):
    source = paths[i % len(paths)]
    shutil.copy(source, os.path.join(
        folder, f"{i:05d}{os.path.splitext(source)[1]}"))


def _command_run(folder: str, count: int, outdir: str) -> dict:
  start = time.perf_counter()
  result = subprocess.run(
      [sys.executable, "-c", _WITH_PEAK_RSS,
       os.path.join(REPO, "bin", "inpaint"), f"--model={FLAGS.model}",
       f"--images={folder}", f"--num_images={count}", f"--mask={FLAGS.mask}",
       f"--iterations={FLAGS.iterations}", "--init=random", "--tune_iters=0",
       f"--outdir={outdir}",
       f"--logdir={outdir}_tb"], capture_output=True, text=True, check=True)
  seconds = time.perf_counter() - start
  peak = int(result.stderr.rsplit("peak_rss_kb", 1)[1].split()[0])
  return {"peak_rss_mb": round(peak / 1024), "images_per_s":
          round(count / seconds, 2)}


def _in_memory(folder: str) -> dict:
  start = time.perf_counter()
  model_config, train_config, generator, discriminator = models.load(
      FLAGS.model, "dcgan")
  images, _ = data.read_images(folder, model_config.image_size,
                               data.training_crop(train_config),
                               num_images=FLAGS.small)
  mask_array = masks.make_masks(FLAGS.mask, len(images),
                                model_config.image_size)
  inpaint.Inpainter(generator, discriminator, config.InpaintConfig(
      iterations=FLAGS.iterations)).inpaint(images, mask_array)
  return {"images_per_s": round(FLAGS.small / (time.perf_counter() - start),
                                2), "peak_rss_mb": round(common.peak_rss_mb())}


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as work:
    folder = os.path.join(work, "images")
    os.makedirs(folder)
    _repeated_folder(folder)
    small = _command_run(folder, FLAGS.small, os.path.join(work, "small"))
    large = _command_run(folder, FLAGS.large, os.path.join(work, "large"))
    in_memory = _in_memory(folder)
  common.print_report({
      "model": FLAGS.model, "images": FLAGS.images, "mask": FLAGS.mask,
      "iterations": FLAGS.iterations,
      f"command_{FLAGS.small}": small, f"command_{FLAGS.large}": large,
      f"in_memory_{FLAGS.small}": in_memory,
      "peak_rss_ratio": round(large["peak_rss_mb"] / small["peak_rss_mb"], 3)})


if __name__ == "__main__":
  app.run(main)
