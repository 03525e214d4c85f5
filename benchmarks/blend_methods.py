r"""Blending the same fills by each `--blend`; prints one JSON line.

  python benchmarks/blend_methods.py \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=64 --iterations=500

For each mask: one z search (from the model's encoder when it has one, as
bin/inpaint does by default), then hole PSNR of its G(z) put into the hole
by every blend of config.BLENDS, beside the biharmonic baseline on the same
corrupted images. Only the blending differs between the `blend` columns.

--detail_weights adds the biharmonic blend with each of those weights of G's
detail (`--blend_detail`): 1 is the biharmonic blend, 0 the baseline.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import baselines, blend, config, inpaint, masks, metrics, models  # pylint: disable=g-import-not-at-top

common.define_validation_flags()
flags.DEFINE_enum("init", "auto", models.INITS, "Start of the z search.")
flags.DEFINE_list("detail_weights", [], "Weights of G's detail over the "
                  "biharmonic fill to measure (between 0 and 1).")
FLAGS = flags.FLAGS
FLAGS.set_default("masks", ["center", "random80", "pattern", "left"])


def _psnr_hole(images, filled, mask) -> float:
  scores = metrics.image_metrics(images, filled, mask)["psnr_hole"]
  return round(float(np.mean(scores)), 2)


def main(argv):
  del argv
  model_config, generator, discriminator, images = (
      common.load_model_and_validation_images())
  encoder_name, encoder = models.start_encoder(FLAGS.init, None, FLAGS.model,
                                               generator)
  search = config.InpaintConfig(iterations=FLAGS.iterations, seed=FLAGS.seed)
  report = {"model": FLAGS.model, "encoder": encoder_name,
            "images": FLAGS.images, "first_image": FLAGS.first_image,
            "num_images": len(images), "iterations": FLAGS.iterations}
  for mask_name in FLAGS.masks:
    mask = masks.make_masks(mask_name, len(images), model_config.image_size,
                            FLAGS.seed)
    corrupted = (images * mask).astype(np.float32)
    result = inpaint.Inpainter(generator, discriminator, search,
                               encoder=encoder).inpaint(corrupted, mask)
    row = {f"blend_{method}": _psnr_hole(
        images, blend.blend(corrupted, result.generated, mask, method), mask)
           for method in config.BLENDS}
    row["biharmonic_baseline"] = _psnr_hole(
        images, baselines.biharmonic(corrupted, mask), mask)
    for weight in FLAGS.detail_weights:
      row[f"biharmonic_detail_{weight}"] = _psnr_hole(images, blend.blend(
          corrupted, result.generated, mask, "biharmonic", float(weight)),
                                                      mask)
    report[mask_name] = row
    print(mask_name, row, file=sys.stderr, flush=True)
  common.print_report(report)


if __name__ == "__main__":
  app.run(main)
