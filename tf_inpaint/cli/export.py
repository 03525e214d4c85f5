"""`bin/export`: a run directory's latest weights as a bundled model, or in
Keras's own formats.

  bin/export --run_dir=runs/celeba64 --outdir=tf_inpaint/pretrained/celeba64
  bin/export --run_dir=runs/celeba64 --outdir=export --format=keras

--format=npz (the default, what bundled models are) writes config.json and
weights.npz (float16, keyed by weight path, e.g. generator/upsample_0/kernel;
about half a checkpoint's size; loading restores float32); any `--model` flag
accepts the directory. --format=keras writes model.keras (G, D and the
configs; any `--model` flag accepts the file), weights_h5 config.json and
<net>.weights.h5, saved_model config.json and saved_model/ (a TensorFlow
SavedModel of G for serving, `serve(z)`). A context encoder is written without
its discriminator, which inference does not use; from a run trained with an
EMA generator, G is the average (--ema_decay).
"""
from absl import flags

from tf_inpaint.cli import run_main

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_string("run_dir", None, "Run directory written by bin/train.")
  flags.DEFINE_string("outdir", None, "Directory for the bundled model.")
  flags.DEFINE_bool("overwrite", False, "Replace an --outdir holding files.")
  flags.DEFINE_enum("format", "npz", ["npz", "keras", "weights_h5",
                                      "saved_model"],
                    "npz: config.json + weights.npz (bundled models); keras: "
                    "model.keras; weights_h5: <net>.weights.h5; saved_model: "
                    "a SavedModel of G for serving.")
  flags.mark_flags_as_required(["run_dir", "outdir"])


def main() -> None:
  from tf_inpaint import models, outputs  # pylint: disable=g-import-not-at-top
  with outputs.staged_directory(FLAGS.outdir, FLAGS.overwrite, "export",
                                [("run_dir", FLAGS.run_dir)]) as staging:
    models.export(FLAGS.run_dir, staging, FLAGS.format)
  print(f"Exported {FLAGS.run_dir} to {FLAGS.outdir}")


def run() -> None:
  run_main(define_flags, main)
