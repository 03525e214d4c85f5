"""`bin/export`: a run directory's latest weights as a bundled model.

  bin/export --run_dir=runs/celeba64 --outdir=tf_inpaint/pretrained/celeba64

Writes config.json and weights.npz (float16, keyed by weight path, e.g.
generator/upsample_0/kernel; about half a checkpoint's size;
loading restores float32). Any `--model` flag accepts the result. A context
encoder is written without its discriminator, which inference does not use; from
a run trained with an EMA generator, G is the average (--ema_decay).
"""
from absl import flags

from tf_inpaint.cli import run_main

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_string("run_dir", None, "Run directory written by bin/train.")
  flags.DEFINE_string("outdir", None, "Directory for the bundled model.")
  flags.DEFINE_bool("overwrite", False, "Replace an --outdir holding files.")
  flags.mark_flags_as_required(["run_dir", "outdir"])


def main() -> None:
  from tf_inpaint import models, outputs  # pylint: disable=g-import-not-at-top
  with outputs.staged_directory(FLAGS.outdir, FLAGS.overwrite, "export",
                                [("run_dir", FLAGS.run_dir)]) as staging:
    models.export(FLAGS.run_dir, staging)
  print(f"Exported {FLAGS.run_dir} to {FLAGS.outdir}")


def run() -> None:
  define_flags()
  run_main(main)
