r"""How many iterations the encoder start needs; prints one JSON line.

  python benchmarks/inpaint_convergence.py --model=celeba64 \
      --encoder=celeba64_encoder \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=64

For each mask: the mean contextual loss (of the returned z, as `Inpainter`
reports it) and hole PSNR of the random start after --iterations, and of the
encoder start after each of --encoder_iterations; `iterations_to_match` is
the fewest of those at which the encoder start's loss is at most the random
start's (null if none is).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, inpaint, masks, metrics, models  # pylint: disable=g-import-not-at-top

common.define_validation_flags()  # --iterations: of the random start
flags.DEFINE_string("encoder", None, "Encoder trained for --model; default: "
                    "the bundled model's own.")
flags.DEFINE_list("encoder_iterations", ["1", "10", "25", "50", "100", "200"],
                  "Iteration counts tried from the encoder start.")
FLAGS = flags.FLAGS


def _run(generator, discriminator, encoder, images, mask, iterations):
  search = config.InpaintConfig(iterations=iterations, seed=FLAGS.seed)
  result = inpaint.Inpainter(generator, discriminator, search,
                             encoder=encoder).inpaint(images * mask, mask)
  psnr = metrics.image_metrics(images, result.blended, mask)["psnr_hole"]
  return {"contextual": round(float(np.mean(result.contextual_loss)), 3),
          "psnr_hole": round(float(np.mean(psnr)), 2)}


def main(argv):
  del argv
  model_config, generator, discriminator, images = (
      common.load_model_and_validation_images())
  _, encoder = models.start_encoder("encoder", FLAGS.encoder, FLAGS.model,
                                    generator)
  report = {"model": FLAGS.model, "encoder": FLAGS.encoder,
            "images": FLAGS.images, "first_image": FLAGS.first_image,
            "num_images": len(images), "seed": FLAGS.seed}
  for mask_name in FLAGS.masks:
    mask = masks.make_masks(mask_name, len(images), model_config.image_size,
                            FLAGS.seed)
    random_start = _run(generator, discriminator, None, images, mask,
                        FLAGS.iterations)
    learned = {int(n): _run(generator, discriminator, encoder, images, mask,
                            int(n)) for n in FLAGS.encoder_iterations}
    matched = [n for n, run in learned.items()
               if run["contextual"] <= random_start["contextual"]]
    report[mask_name] = {
        f"random_start_{FLAGS.iterations}": random_start,
        "encoder_start": learned,
        "iterations_to_match": min(matched) if matched else None}
  common.print_report(report)


if __name__ == "__main__":
  app.run(main)
