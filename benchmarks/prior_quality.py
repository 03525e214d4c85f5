"""How good a DCGAN is as a prior for inpainting; prints one JSON line.

  python benchmarks/prior_quality.py --model=celeba64 \
      --images=folder:../shared/data/celeba/img_align_celeba_half \
      --first_image=8001 --num_images=64 \
      --train_images=folder:../shared/data/celeba/img_align_celeba_half@1-1000 \
      --figure=samples.png

On held-out images, four measures:
- inversion: how well G can represent an unseen image: the PSNR of G(z) to
  the whole image after `--inversion_iterations` of the z search with no
  hole (binary weights, no perceptual term), from the model's encoder when
  it has one (`--init=auto`) or a random z; mean and spread over images;
- hole PSNR and SSIM of `ours` (the paper's search) and `ours_default`
  (bin/inpaint's defaults for `--defaults_of`, default the model's name) on
  each of `--masks`;
- a grid of G's samples from a fixed z (`--figure`);
- D's gap: its mean probability "real" on `--train_images` minus that on
  the held-out images (over-fitting; near 0 is healthy).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import config, data, evaluate, inpaint, metrics, models, outputs, summaries  # pylint: disable=g-import-not-at-top

common.define_validation_flags()
flags.DEFINE_integer("inversion_iterations", 500, "Iterations of the "
                     "whole-image inversion.")
flags.DEFINE_enum("init", "auto", ["auto", "random"], "Start of the "
                  "inversion: the model's encoder if it has one, or random.")
flags.DEFINE_list("methods", ["ours", "ours_default"], "Inpainting methods.")
flags.DEFINE_string("defaults_of", None, "Bundled name whose bin/inpaint "
                    "defaults ours_default uses (default: --model).")
flags.DEFINE_string("train_images", None, "Training images for D's gap "
                    "(a dataset spec; none: no gap).")
flags.DEFINE_string("figure", None, "PNG of 64 samples from a fixed z.")
FLAGS = flags.FLAGS
_SAMPLES = 64


def inversion_psnr(generator, discriminator, encoder, images) -> np.ndarray:
  """Per image: PSNR of G(z) to the whole image after the no-hole search."""
  known = np.ones((*images.shape[:3], 1), np.float32)
  result = inpaint.Inpainter(
      generator, discriminator,
      config.InpaintConfig(iterations=FLAGS.inversion_iterations, lam=0.0,
                           weighting="binary", blend="overlay",
                           seed=FLAGS.seed), encoder=encoder).inpaint(
                               images, known)
  return metrics.image_metrics(images, result.generated, known)["psnr"]


def main(argv):
  del argv
  model_config, generator, discriminator, images = (
      common.load_model_and_validation_images())
  encoder_name, encoder = models.start_encoder(FLAGS.init, None, FLAGS.model,
                                               generator)
  psnr = inversion_psnr(generator, discriminator, encoder, images)
  result = {"model": models.identity(FLAGS.model), "images": FLAGS.images,
            "first_image": FLAGS.first_image, "num_images": len(images),
            "seed": FLAGS.seed,
            "inversion_start": encoder_name or "random",
            "inversion_iterations": FLAGS.inversion_iterations,
            "inversion_psnr": round(float(np.mean(psnr)), 3),
            "inversion_psnr_std": round(float(np.std(psnr)), 3),
            "iterations": FLAGS.iterations}
  defaults_of = FLAGS.defaults_of or FLAGS.model
  rows, _ = evaluate.evaluate(
      images, FLAGS.masks, FLAGS.methods, generator, discriminator,
      config.InpaintConfig(iterations=FLAGS.iterations, seed=FLAGS.seed),
      FLAGS.seed, progress=lambda _: None, model_name=defaults_of,
      default_encoder=models.start_encoder("auto", None, defaults_of,
                                           generator)[1]
      if defaults_of == FLAGS.model else None)
  for row in rows:
    for name in ("psnr_hole", "ssim_hole"):
      result[f"{row['method']}_{row['mask']}_{name}"] = round(row[name], 3)
  if FLAGS.train_images:
    train_images, _ = data.read_images(FLAGS.train_images,
                                       model_config.image_size,
                                       data.training_crop(models.load_config(
                                           FLAGS.model)[1]))
    gap = (common.mean_real_probability(discriminator, train_images)
           - common.mean_real_probability(discriminator, images))
    result.update(train_images=FLAGS.train_images, d_gap=round(gap, 4))
  if FLAGS.figure:
    z = tf.random.stateless_uniform([_SAMPLES, model_config.z_dim],
                                    [FLAGS.seed, 0], -1.0, 1.0)
    outputs.save_uint8_png(FLAGS.figure, summaries.image_grid(
        generator(z, training=False), columns=8)[0].numpy())
    result["figure"] = FLAGS.figure
  common.print_report(result)


if __name__ == "__main__":
  app.run(main)
