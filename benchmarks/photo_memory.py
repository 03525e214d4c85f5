r"""Peak memory of inpainting one large photo; prints one JSON line.

  python benchmarks/photo_memory.py --megapixels=1,12,36,100

For each size a square JPEG photo (smooth noise, so it compresses as photos
do) and a PNG hole of --hole_fraction of its area (a square at the centre)
are written to a temporary folder, then inpainted in a fresh process through
each path: `bin/inpaint --images=photo.jpg --mask_file=hole.png` (`cli`)
and `tf_inpaint.load_model(...).inpaint(photo, hole)` on the decoded arrays
(`api`). Each process's peak resident memory (RSS, what the out-of-memory
killer counts) is read from the kernel when it ends; a process that passes
--cap_gb is stopped and reported as over it.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
from PIL import Image  # pylint: disable=g-import-not-at-top

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("model", "celeba64", "Bundled model or run directory.")
flags.DEFINE_list("megapixels", ["1", "12", "36", "100"], "Photo sizes.")
flags.DEFINE_list("paths", ["cli", "api"], "What to measure: cli, api.")
flags.DEFINE_float("hole_fraction", 0.05, "The hole's share of the photo.")
flags.DEFINE_integer("iterations", 5, "Search iterations (memory does not "
                     "depend on them).")
flags.DEFINE_float("cap_gb", 8.0, "Stop a process whose RSS passes this.")
FLAGS = flags.FLAGS

_API_SCRIPT = """
import sys
import numpy as np
from PIL import Image
import tf_inpaint
Image.MAX_IMAGE_PIXELS = None
photo = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
hole = np.asarray(Image.open(sys.argv[2])) > 127
model = tf_inpaint.load_model(sys.argv[3])
model.inpaint(photo, hole, iterations=int(sys.argv[4]), tune_iters=0)
"""


def _write_photo(folder: str, megapixels: float) -> tuple[str, str]:
  side = int(round((megapixels * 1e6) ** 0.5))
  rng = np.random.default_rng(0)
  coarse = rng.integers(0, 256, (side // 64 + 1, side // 64 + 1, 3),
                        dtype=np.uint8)
  photo = Image.fromarray(coarse).resize((side, side), Image.BICUBIC)
  photo_path = os.path.join(folder, f"photo_{megapixels:g}mp.jpg")
  photo.save(photo_path, quality=90)
  hole_side = int(round(side * FLAGS.hole_fraction ** 0.5))
  hole = np.zeros((side, side), np.uint8)
  start = (side - hole_side) // 2
  hole[start:start + hole_side, start:start + hole_side] = 255
  hole_path = os.path.join(folder, f"hole_{megapixels:g}mp.png")
  Image.fromarray(hole).save(hole_path)
  return photo_path, hole_path


def main(argv):
  del argv
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  rows = []
  with tempfile.TemporaryDirectory(prefix="photo_memory_") as folder:
    for megapixels in map(float, FLAGS.megapixels):
      photo, hole = _write_photo(folder, megapixels)
      commands = {
          "cli": [sys.executable, "bin/inpaint", f"--model={FLAGS.model}",
                  f"--images={photo}", f"--mask_file={hole}",
                  f"--iters={FLAGS.iterations}", "--tune_iters=0",
                  f"--outdir={os.path.join(folder, f'out_{megapixels:g}')}",
                  "--max_megapixels=0",
                  f"--logdir={os.path.join(folder, 'logs')}"],
          "api": [sys.executable, "-c", _API_SCRIPT, photo, hole, FLAGS.model,
                  str(FLAGS.iterations)]}
      for path in FLAGS.paths:
        measured = common.watch_memory(commands[path], FLAGS.cap_gb,
                                       cwd=REPO)
        del measured["rss_samples"]
        rows.append({"path": path, "megapixels": megapixels, **measured})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
  common.print_report({"model": FLAGS.model, "hole_fraction": FLAGS.hole_fraction,
                    "iterations": FLAGS.iterations,
                    "results": rows})


if __name__ == "__main__":
  app.run(main)
