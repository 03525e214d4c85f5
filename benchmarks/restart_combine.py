r"""Mean of k searches' fills against the best of k and one; one JSON line.

  python benchmarks/restart_combine.py --model=svhn32 \
      --images=mat:../shared/data/svhn/train_32x32_first883.mat \
      --first_image=801 --num_images=83 --masks=center --k=4

Runs k searches per image (seeds 0 to k-1; with the model's own encoder the
first starts from it, the others from random z) with `bin/inpaint`'s
defaults for the model and mask but no tuning, and reports the hole PSNR of
each alone, of the best of the first j by total loss (`--combine_restarts=best`)
and of the mean of their fills (`mean`), for j = 2..k, blended as the
defaults say. It shows how the gain of averaging grows with k.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags, logging  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import blend, config, inpaint, masks, metrics, models  # pylint: disable=g-import-not-at-top

common.define_validation_flags(num_images=64, iterations=500)
flags.DEFINE_integer("k", 4, "Searches per image.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  model_config, generator, discriminator, images = (
      common.load_model_and_validation_images())
  encoder_name = models.BUNDLED_ENCODERS.get(FLAGS.model)
  encoder = (models.load_encoder(encoder_name, generator) if encoder_name
             else None)
  report = {"model": FLAGS.model, "images": FLAGS.images,
            "first_image": FLAGS.first_image, "num_images": len(images),
            "iterations": FLAGS.iterations, "k": FLAGS.k,
            "encoder": encoder_name}
  for mask_name in FLAGS.masks:
    mask = masks.make_masks(mask_name, len(images), model_config.image_size,
                            FLAGS.seed)
    options = {**inpaint.default_options(FLAGS.model, mask_name),
               "tune_iters": 0, "restarts": 1, "combine_restarts": "best"}
    hole_psnr = lambda generated: round(float(np.mean(metrics.image_metrics(
        images, blend.blend(images * mask, generated, mask, options["blend"],
                            options["blend_detail"]), mask)["psnr_hole"])), 2)
    fills, totals, runs = [], [], {"options": options}
    for seed in range(FLAGS.k):
      search = config.InpaintConfig(iterations=FLAGS.iterations, seed=seed,
                                    **options)
      result = inpaint.Inpainter(
          generator, discriminator, search,
          encoder=encoder if seed == 0 else None).inpaint(images * mask, mask)
      fills.append(result.generated)
      totals.append(result.total_loss)
      runs[f"single_{seed}"] = hole_psnr(result.generated)
      if seed:
        best = np.argmin(np.stack(totals), axis=0)
        runs[f"best_of_{seed + 1}"] = hole_psnr(
            np.stack(fills)[best, np.arange(len(images))])
        runs[f"mean_of_{seed + 1}"] = hole_psnr(np.mean(fills, axis=0))
      logging.info("%s: %s", mask_name, runs)
    report[mask_name] = runs
  common.print_report(report)


if __name__ == "__main__":
  app.run(main)
