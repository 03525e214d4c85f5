r"""Per-image tuning settings against the search alone; prints one JSON line.

  python benchmarks/tuning_settings.py \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=8 --iterations=200

For each mask: hole PSNR and contextual loss of the z search alone, then of
the search followed by --tune_iters of tuning at each (learning rate,
penalty, tuned layers) of --settings. The contextual loss falls with every
setting (the known pixels are fitted); the hole PSNR says whether that
generalises. --encoder=celeba64_encoder starts the searches from it.
"""
import dataclasses
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, data, inpaint, masks, metrics, models  # pylint: disable=g-import-not-at-top

common.define_validation_flags(num_images=8, iterations=200)
flags.DEFINE_integer("tune_iters", 100, "Tuning iterations.")
flags.DEFINE_list("settings", ["1e-4:100", "1e-3:100", "1e-3:10"],
                  "learning_rate:penalty[:tune_layers] to try (tune_layers "
                  "default 2).")
flags.DEFINE_string("encoder", None, "Start the searches from this encoder "
                    "(bundled name or run dir); default random starts.")
FLAGS = flags.FLAGS


def _scores(result, images, mask):
  psnr = metrics.image_metrics(images, result.blended, mask)["psnr_hole"]
  return {"psnr_hole": round(float(np.mean(psnr)), 2),
          "contextual": round(float(np.mean(result.contextual_loss)), 3)}


def main(argv):
  del argv
  model_config, train_config, generator, discriminator = models.load(
      FLAGS.model, "dcgan")
  images, _ = data.read_images(FLAGS.images, model_config.image_size,
                               data.training_crop(train_config),
                               FLAGS.first_image, FLAGS.num_images)
  search = config.InpaintConfig(iterations=FLAGS.iterations, seed=FLAGS.seed)
  encoder = (models.load_encoder(FLAGS.encoder, generator) if FLAGS.encoder
             else None)
  report = {"model": FLAGS.model, "images": FLAGS.images,
            "first_image": FLAGS.first_image, "num_images": len(images),
            "iterations": FLAGS.iterations, "tune_iters": FLAGS.tune_iters,
            "encoder": FLAGS.encoder}
  fill = lambda options, mask: _scores(inpaint.Inpainter(
      generator, discriminator, options, encoder=encoder).inpaint(
          images * mask, mask), images, mask)
  for mask_name in FLAGS.masks:
    mask = masks.make_masks(mask_name, len(images), model_config.image_size,
                            FLAGS.seed)
    runs = {"search": fill(search, mask)}
    for setting in FLAGS.settings:
      learning_rate, penalty, *layers = setting.split(":")
      tuned = dataclasses.replace(search, tune_iters=FLAGS.tune_iters,
                                  tune_learning_rate=float(learning_rate),
                                  tune_penalty=float(penalty),
                                  tune_layers=int(layers[0]) if layers else 2)
      runs[f"tuned_{setting}"] = fill(tuned, mask)
    report[mask_name] = runs
  print(json.dumps(report))


if __name__ == "__main__":
  app.run(main)
