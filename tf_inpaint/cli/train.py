"""`bin/train`: train a DCGAN (or a Context Encoder) into a run directory.

  bin/train --dataset=svhn_cropped
  bin/train --dataset=folder:../shared/data/celeba/img_align_celeba_half \
      --crop=celeba --image_size=64
  bin/train --model=context_encoder --mask=center --dataset=celeb_a
  tensorboard --logdir tensorboard_logs
"""
import os

from absl import flags

from tf_inpaint import config
from tf_inpaint.cli import run_main

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the flags; in a function so importing this module defines none."""
  model, train = config.ModelConfig(), config.TrainConfig(dataset="unused")
  flags.DEFINE_enum("model", model.architecture, config.ARCHITECTURES,
                    "What to train: the paper's DCGAN, or the Context Encoder "
                    "baseline (needs --mask).")
  flags.DEFINE_enum("mask", None, list(config.MASK_FAMILIES),
                    "Context encoder only: the mask family it learns to fill "
                    "(center; random = random80 or pattern per batch).")
  flags.DEFINE_string("dataset", None, "TFDS name (svhn_cropped, celeb_a, dtd, "
                      "oxford_iiit_pet), folder:PATH or mat:PATH.")
  flags.DEFINE_string("data_dir", None, "TFDS data directory.")
  flags.DEFINE_string("split", train.split, "Dataset split (TFDS only).")
  flags.DEFINE_integer("first_image", train.first_image,
                       "1-based index of the first image used.")
  flags.DEFINE_integer("num_images", train.num_images,
                       "Images used from --first_image on; 0 = all.")
  flags.DEFINE_enum("crop", train.crop, config.CROPS,
                    "Central crop before resizing; auto picks per dataset.")
  flags.DEFINE_enum("augment", train.augment, config.AUGMENTATIONS,
                    "Augmentation; auto: flips for faces and scenes, digit-safe "
                    "jitter for mat:, none for svhn_cropped.")
  flags.DEFINE_string("run_dir", None, "Run directory (config.json + "
                      "checkpoints); default runs/<dataset>_<size>. Reusing "
                      "it resumes the run.")
  flags.DEFINE_string("logdir", None, "TensorBoard directory; default "
                      "tensorboard_logs/<run name>.")
  flags.DEFINE_integer("image_size", model.image_size, "Image side: 32, 64 or "
                       "128.")
  flags.DEFINE_integer("z_dim", model.z_dim, "Latent dimension.")
  flags.DEFINE_integer("base_filters", model.base_filters,
                       "Channels of G's last / D's first hidden layer.")
  flags.DEFINE_integer("batch_size", train.batch_size, "Global batch size.")
  flags.DEFINE_integer("steps", train.steps, "Total training steps.")
  flags.DEFINE_float("learning_rate", train.learning_rate, "Adam learning "
                     "rate.")
  flags.DEFINE_float("beta1", train.beta1, "Adam beta_1.")
  flags.DEFINE_integer("seed", train.seed, "Seed for everything random.")
  flags.DEFINE_enum("strategy", train.strategy, config.STRATEGIES,
                    "tf.distribute strategy.")
  flags.DEFINE_integer("checkpoint_every", train.checkpoint_every,
                       "Steps between checkpoints.")
  flags.DEFINE_integer("summary_every", train.summary_every,
                       "Steps between scalar summaries and progress lines.")
  flags.DEFINE_integer("image_every", train.image_every,
                       "Steps between sample grids.")
  flags.DEFINE_float("ema_decay", train.ema_decay, "Decay of the moving "
                     "average of G's weights that inpainting and export use; "
                     "0 turns it off.")
  flags.DEFINE_string("init_from", None, "Warm start a new run from a bundled "
                      "model (e.g. celeba64), a run directory or an exported "
                      "model of the same architecture and size: its G, D and "
                      "EMA G, with fresh optimizers.")
  flags.mark_flag_as_required("dataset")


def default_run_dir(dataset: str, model_config: config.ModelConfig) -> str:
  """runs/<dataset name>_<size>[_ce_<mask family>], e.g. runs/svhn_cropped_64."""
  name = os.path.basename(os.path.normpath(dataset.split(":", 1)[-1]))
  name = f"{name}_{model_config.image_size}"
  if model_config.architecture == "context_encoder":
    name += f"_ce_{model_config.mask_family}"
  return os.path.join("runs", name)


def main() -> None:
  from tf_inpaint import train  # pylint: disable=g-import-not-at-top
  model_config = config.ModelConfig(image_size=FLAGS.image_size,
                                    z_dim=FLAGS.z_dim,
                                    base_filters=FLAGS.base_filters,
                                    architecture=FLAGS.model,
                                    mask_family=FLAGS.mask)
  train_config = config.TrainConfig(
      dataset=FLAGS.dataset, data_dir=FLAGS.data_dir, split=FLAGS.split,
      first_image=FLAGS.first_image, num_images=FLAGS.num_images,
      crop=FLAGS.crop, augment=FLAGS.augment, batch_size=FLAGS.batch_size,
      steps=FLAGS.steps, learning_rate=FLAGS.learning_rate, beta1=FLAGS.beta1,
      seed=FLAGS.seed, strategy=FLAGS.strategy,
      checkpoint_every=FLAGS.checkpoint_every,
      summary_every=FLAGS.summary_every, image_every=FLAGS.image_every,
      ema_decay=FLAGS.ema_decay, init_from=FLAGS.init_from)
  run_dir = FLAGS.run_dir or default_run_dir(FLAGS.dataset, model_config)
  trainer = train.Trainer(model_config, train_config, run_dir, FLAGS.logdir)
  print(f"Training into {run_dir}; TensorBoard: tensorboard --logdir "
        f"{trainer.log_dir}", flush=True)
  metrics = trainer.train()
  print(f"Done at step {metrics['step']}: run directory {run_dir}", flush=True)


def run() -> None:
  define_flags()
  run_main(main)
