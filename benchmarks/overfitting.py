"""Has a DCGAN memorised its training images? Prints one JSON line.

  python benchmarks/overfitting.py --model=runs/dtd64 \
      --images=folder:../shared/data/dtd/images --per_subfolder \
      --num_train=96 --first_validation=97

Two signs, both on un-augmented images in the model's framing:
- D's gap: its mean probability "real" on the training images minus that on
  held-out images of the same distribution. An over-fitted D tells the images
  it has seen from new ones (the signal StyleGAN2-ADA watches); near 0 is
  healthy.
- G's copies: the RMS distance (pixels in [-1, 1]) from each of 256 samples
  to its nearest training image, against the same distance from each
  held-out image, and from each sample to its nearest held-out image.
  Samples much closer to the training images than to held-out ones are
  copies of the training set; equally close ones are merely smooth.
Run it on a run directory while it trains: it reads the newest checkpoint.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from tf_inpaint import data, models  # pylint: disable=g-import-not-at-top

flags.DEFINE_string("model", None, "DCGAN: bundled name or run directory.")
flags.DEFINE_string("images", None, "The dataset spec it was trained on.")
flags.DEFINE_bool("per_subfolder", False, "Count the selections below in "
                  "each class folder (as the model was trained).")
flags.DEFINE_integer("num_train", 0, "Training images: the first N (negative: "
                     "all but the last -N).")
flags.DEFINE_integer("first_validation", 1, "Held-out images: from here on "
                     "(negative: the last -N).")
flags.DEFINE_integer("num_samples", 256, "G samples for the copy check.")
flags.DEFINE_integer("seed", 0, "Seed of the samples' z.")
flags.mark_flags_as_required(["model", "images", "num_train",
                              "first_validation"])
FLAGS = flags.FLAGS


def _nearest_rms(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
  """Each query's RMS pixel distance to its nearest reference image."""
  q = queries.reshape(len(queries), -1).astype(np.float64)
  r = references.reshape(len(references), -1).astype(np.float64)
  squared = ((q**2).sum(1)[:, None] - 2 * q @ r.T + (r**2).sum(1)[None])
  return np.sqrt(np.maximum(squared.min(axis=1), 0) / q.shape[1])


def main(argv):
  del argv
  model_config, train_config, generator, discriminator = models.load(
      FLAGS.model, "dcgan")
  crop = data.training_crop(train_config)
  read = lambda first, count: data.read_images(  # pylint: disable=g-long-lambda
      FLAGS.images, model_config.image_size, crop, first, count,
      per_subfolder=FLAGS.per_subfolder)[0]
  train, validation = read(1, FLAGS.num_train), read(FLAGS.first_validation, 0)
  z = tf.random.stateless_uniform([FLAGS.num_samples, model_config.z_dim],
                                  [FLAGS.seed, 0], -1, 1)
  samples = generator(z).numpy()
  d_train = common.mean_real_probability(discriminator, train)
  d_validation = common.mean_real_probability(discriminator, validation)
  common.print_report({
      "model": FLAGS.model, "images": FLAGS.images,
      "per_subfolder": FLAGS.per_subfolder, "num_train": len(train),
      "num_validation": len(validation), "seed": FLAGS.seed,
      "d_real_train": round(d_train, 4),
      "d_real_validation": round(d_validation, 4),
      "d_gap": round(d_train - d_validation, 4),
      "d_real_samples": round(common.mean_real_probability(discriminator, samples),
                              4),
      "nearest_train_rms_samples": round(float(np.mean(
          _nearest_rms(samples, train))), 4),
      "nearest_train_rms_validation": round(float(np.mean(
          _nearest_rms(validation, train))), 4),
      "nearest_validation_rms_samples": round(float(np.mean(
          _nearest_rms(samples, validation))), 4)})


if __name__ == "__main__":
  app.run(main)
