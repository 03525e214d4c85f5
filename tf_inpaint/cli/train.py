r"""`bin/train`: train a DCGAN, a Context Encoder or a z encoder into a run dir.

  bin/train --dataset=svhn_cropped
  bin/train --dataset=folder:../shared/data/celeba/img_align_celeba_half \
      --crop=celeba --image_size=64
  bin/train --dataset=folder:faces@1-8000+folder:more_faces --crop=celeba
  bin/train --architecture=context_encoder --mask_family=center --dataset=celeb_a
  bin/train --architecture=encoder --generator=celeba64 --base_filters=32 \
      --dataset=folder:../shared/data/celeba/img_align_celeba_half --crop=celeba
  tensorboard --logdir tensorboard_logs
"""
import os
import sys

from absl import flags

from tf_inpaint import config
from tf_inpaint.cli import config_flags, run_main

FLAGS = flags.FLAGS
# Set from the data (channels) or the encoder's generator, not by flags.
_DERIVED_MODEL_FIELDS = ("channels", "generator_digest")


def define_flags() -> None:
  """Defines the flags; in a function so importing this module defines none.

  Nothing here or in checking the flags' values imports TensorFlow, so a
  mistyped flag is refused in a second.
  """
  config_flags.define_config_flags(
      config.ModelConfig, exclude=_DERIVED_MODEL_FIELDS,
      choices={"architecture": list(config.ARCHITECTURES),
               "mask_family": list(config.MASK_FAMILIES)})
  config_flags.define_config_flags(config.TrainConfig)
  config_flags.define_aliases({"model": "architecture", "mask": "mask_family"},
                              deprecated=True)
  flags.DEFINE_string("run_dir", None, "Run directory (config.json + "
                      "checkpoints); default runs/<dataset>_<size>. Reusing "
                      "it resumes the run.")
  flags.DEFINE_string("logdir", None, "TensorBoard directory; default "
                      "tensorboard_logs/<run name>.")
  flags.mark_flag_as_required("dataset")


def default_run_dir(dataset: str, model_config: config.ModelConfig) -> str:
  """runs/<dataset name>_<size>[<suffix>_<mask family>], e.g. runs/svhn_cropped_64."""
  from tf_inpaint import data, models  # pylint: disable=g-import-not-at-top
  name = (f"{data.dataset_name(dataset)}_{model_config.image_size}"
          f"{models.architecture(model_config).run_suffix}")
  if model_config.mask_family:
    name += f"_{model_config.mask_family}"
  return os.path.join("runs", name)


def main() -> None:
  train_config = config_flags.config_from_flags(config.TrainConfig)
  model_config = config_flags.config_from_flags(
      config.ModelConfig, exclude=_DERIVED_MODEL_FIELDS)
  from tf_inpaint import cluster, models, precision, train  # pylint: disable=g-import-not-at-top
  row = models.architecture(model_config)  # refused before joining a cluster
  # Before anything else runs TensorFlow (loading an encoder's generator).
  cluster.make_strategy(train_config.strategy)
  if row.inverts_generator:
    model_config = models.bind_generator(
        model_config, given=[name for name in ("image_size", "z_dim")
                             if FLAGS[name].present])
  run_dir = FLAGS.run_dir or default_run_dir(FLAGS.dataset, model_config)
  trainer = train.Trainer(model_config, train_config, run_dir, FLAGS.logdir)
  print(f"Training into {run_dir}; TensorBoard: tensorboard --logdir "
        f"{trainer.log_dir}", flush=True)
  print(precision.describe(FLAGS.precision, trainer.train_config.precision),
        flush=True)
  metrics = trainer.train()
  if trainer.interrupted:
    # A scheduler must tell an interrupted run from a finished one.
    cause = (f"signal {trainer.stop_signal}" if trainer.stop_signal
             else "another worker was stopped")
    print(f"Interrupted at step {metrics['step']} ({cause}); checkpoint "
          f"saved: run the same command to continue. Run directory {run_dir}",
          flush=True)
    sys.exit(128 + trainer.stop_signal if trainer.stop_signal else 1)
  print(f"Done at step {metrics['step']}: run directory {run_dir}", flush=True)


def run() -> None:
  run_main(define_flags, main)
