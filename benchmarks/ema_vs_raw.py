"""What the EMA generator does for inpainting; prints one JSON line.

  python benchmarks/ema_vs_raw.py --model=runs/celeba64_ema \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=64 --iterations=500

Inpaints the same validation images with the same masks and starting z twice,
with the run's last-step G and with its EMA G from the same checkpoint
(`models.load(ema=False/True)`; D is the same), and reports the mean hole PSNR
per mask, as `bin/evaluate` computes it for `ours`.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, data, evaluate, models  # pylint: disable=g-import-not-at-top

common.define_validation_flags(model=None)  # a run trained with --ema_decay
flags.mark_flags_as_required(["model"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  inpaint_config = config.InpaintConfig(iterations=FLAGS.iterations,
                                        seed=FLAGS.seed)
  result = {"model": FLAGS.model, "images": FLAGS.images,
            "first_image": FLAGS.first_image, "num_images": FLAGS.num_images,
            "iterations": FLAGS.iterations, "seed": FLAGS.seed}
  images = None
  for name, ema in (("raw", False), ("ema", True)):
    model_config, train_config, generator, discriminator = models.load(
        FLAGS.model, "dcgan", ema=ema)
    if images is None:
      images, _ = data.read_images(
          FLAGS.images, model_config.image_size,
          data.training_crop(train_config), FLAGS.first_image,
          FLAGS.num_images)
    rows, _ = evaluate.evaluate(images, FLAGS.masks, ["ours"], generator,
                                discriminator, inpaint_config, FLAGS.seed,
                                progress=lambda _: None)
    for row in rows:
      result[f"{name}_{row['mask']}_psnr_hole"] = round(row["psnr_hole"], 2)
  common.print_report(result)


if __name__ == "__main__":
  app.run(main)
