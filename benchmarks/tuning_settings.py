r"""Per-image tuning settings against the search alone; prints one JSON line.

  python benchmarks/tuning_settings.py \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=8 --iterations=200

For each mask: hole PSNR and contextual loss of the z search alone, then of
--tune_iters of tuning from that search's z at each (learning rate, penalty,
tuned layers, and optionally its own number of steps) of --settings: one search per mask, so settings differ in the
tuning only. The contextual loss falls with every setting (the known pixels
are fitted); the hole PSNR says whether that generalises. Images are blended
as `bin/inpaint` does by default for the model and mask.
--encoder=celeba64_encoder starts the searches from it.
"""
import dataclasses
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags, logging  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, inpaint, masks, metrics, models  # pylint: disable=g-import-not-at-top

common.define_validation_flags(num_images=8, iterations=200)
flags.DEFINE_integer("tune_iters", 100, "Tuning iterations.")
flags.DEFINE_list("settings", ["1e-4:100", "1e-3:100", "1e-3:10"],
                  "learning_rate:penalty[:tune_layers[:tune_iters]] to try "
                  "(tune_layers default 2, tune_iters default --tune_iters).")
flags.DEFINE_string("encoder", None, "Start the searches from this encoder "
                    "(bundled name or run dir); default random starts.")
FLAGS = flags.FLAGS


def _scores(blended, contextual, images, mask):
  psnr = metrics.image_metrics(images, blended, mask)["psnr_hole"]
  return {"psnr_hole": round(float(np.mean(psnr)), 2),
          "contextual": round(float(np.mean(contextual)), 3)}


def _tuned(inpainter, options, z, images, mask):
  """Tunes G from the search's z with `options`; returns the inpainting
  result and its seconds per image (tuning, then scoring and blending)."""
  start = time.perf_counter()
  result = inpainter.reconfigured(options).fill_from(z, images * mask, mask)
  return result, (time.perf_counter() - start) / len(z)


def main(argv):
  del argv
  model_config, generator, discriminator, images = (
      common.load_model_and_validation_images())
  encoder = (models.load_encoder(FLAGS.encoder, generator) if FLAGS.encoder
             else None)
  report = {"model": FLAGS.model, "images": FLAGS.images,
            "first_image": FLAGS.first_image, "num_images": len(images),
            "iterations": FLAGS.iterations, "tune_iters": FLAGS.tune_iters,
            "encoder": FLAGS.encoder}
  for mask_name in FLAGS.masks:
    mask = masks.make_masks(mask_name, len(images), model_config.image_size,
                            FLAGS.seed)
    blending = inpaint.default_options(os.path.basename(FLAGS.model),
                                       mask_name)
    search = config.InpaintConfig(
        iterations=FLAGS.iterations, seed=FLAGS.seed,
        blend=blending["blend"], blend_detail=blending["blend_detail"])
    inpainter = inpaint.Inpainter(generator, discriminator, search,
                                  encoder=encoder)
    searched = inpainter.inpaint(images * mask, mask)
    runs = {"blend": blending["blend"],
            "blend_detail": blending["blend_detail"],
            "search": _scores(searched.blended, searched.contextual_loss,
                              images, mask)}
    logging.info("%s, search: %s", mask_name, runs["search"])
    for setting in FLAGS.settings:
      learning_rate, penalty, *rest = setting.split(":")
      layers, iters = (list(map(int, rest)) + [2, FLAGS.tune_iters][len(rest):])
      tuned = dataclasses.replace(search, tune_iters=iters,
                                  tune_learning_rate=float(learning_rate),
                                  tune_penalty=float(penalty),
                                  tune_layers=layers)
      result, seconds = _tuned(inpainter, tuned, searched.z, images, mask)
      runs[f"tuned_{setting}"] = {**_scores(result.blended,
                                            result.contextual_loss, images,
                                            mask),
                                  "seconds_per_image": round(seconds, 2)}
      logging.info("%s, %s: %s", mask_name, setting, runs[f"tuned_{setting}"])
    report[mask_name] = runs
  common.print_report(report)


if __name__ == "__main__":
  app.run(main)
