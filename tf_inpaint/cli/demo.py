"""`bin/demo`: a local web page to inpaint a photo by painting its hole.

  bin/demo                                   # http://127.0.0.1:7860
  bin/demo --model=celeba64,runs/my_faces --port=8080

Needs the optional Gradio dependency: pip install -e ".[demo]". The page binds
to 127.0.0.1 unless --host says otherwise; requests are queued and run one at
a time.
"""
import logging
import os
import socket

from absl import flags

from tf_inpaint import errors, precision
from tf_inpaint.cli import run_main

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_list("model", ["celeba64", "svhn32", "dtd64", "pets64"],
                    "Models the "
                    "page offers: bundled names and run directories (the "
                    "first is selected).")
  flags.DEFINE_string("host", "127.0.0.1", "Address to serve on; 0.0.0.0 "
                      "makes the page reachable from other machines.")
  flags.DEFINE_integer("port", 7860, "Port to serve on.")
  flags.DEFINE_enum("precision", "float32", list(precision.PRECISIONS),
                    "What G and D compute in for every request (as "
                    "bin/inpaint --precision).")


def _check_port_free(host: str, port: int) -> None:
  """Refuses a port another program serves on, before building the page."""
  with socket.socket() as probe:
    try:
      probe.bind((host, port))
    except OSError as e:
      raise errors.InputError(f"port={port}: cannot serve on {host}:{port} "
                              f"({e.strerror}); pass another --port") from e


def main() -> None:
  # Checked before Gradio and TensorFlow load, in a second.
  if not FLAGS.model:
    raise errors.InputError("model: expected at least one model")
  if not 0 < FLAGS.port < 65536:
    raise errors.InputError(f"port={FLAGS.port}: expected 1-65535")
  _check_port_free(FLAGS.host, FLAGS.port)
  os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
  logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request
  try:
    import gradio  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError as e:
    raise errors.InputError("bin/demo needs Gradio: pip install -e "
                            "\".[demo]\"") from e
  from tf_inpaint import demo, models  # pylint: disable=g-import-not-at-top
  for name in FLAGS.model:
    models.load_config(name)  # a missing model fails now, not on the page
  resolved = precision.resolve(FLAGS.precision)
  print(precision.describe(FLAGS.precision, resolved), flush=True)
  page = demo.build_page(FLAGS.model, precision=resolved)
  page.launch(server_name=FLAGS.host, server_port=FLAGS.port, ssr_mode=False,
              show_error=True, max_file_size="50mb",
              allowed_paths=[os.path.dirname(p) for p in
                             demo.sample_photos(FLAGS.model)])


def run() -> None:
  run_main(define_flags, main)
