"""Writing results without ever leaving a half-written output directory.

Everything goes to a staging directory beside the target, renamed into place
only when complete; an existing target is replaced only when asked.
"""
import contextlib
import json
import os
import shutil
import tempfile

import numpy as np

from tf_inpaint import summaries
from tf_inpaint.errors import InputError


def check_writable(outdir: str, overwrite: bool) -> None:
  """Refuses an output directory that already holds files, unless overwriting."""
  if os.path.exists(outdir) and not os.path.isdir(outdir):
    raise InputError(f"outdir={outdir}: exists and is not a directory")
  if os.path.isdir(outdir) and os.listdir(outdir) and not overwrite:
    raise InputError(f"outdir={outdir}: already holds results; pass "
                     "--overwrite to replace them or choose another --outdir")


@contextlib.contextmanager
def staged_directory(outdir: str, overwrite: bool):
  """Yields a staging directory that becomes `outdir` on success only."""
  check_writable(outdir, overwrite)
  parent = os.path.dirname(os.path.abspath(outdir))
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=".staging-", dir=parent)
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would stick to outdir
  try:
    yield staging
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  if os.path.isdir(outdir):
    shutil.rmtree(outdir)
  os.replace(staging, outdir)


def save_png(path: str, image) -> None:
  """Saves one float image in [-1, 1] (H, W, C) as an 8-bit PNG."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  pixels = summaries.to_uint8(image).numpy()
  Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels
                  ).save(path)


def save_json(path: str, payload) -> None:
  with open(path, "w") as f:
    json.dump(payload, f, indent=2, sort_keys=True,
              default=lambda x: x.item() if isinstance(x, np.generic) else x)
    f.write("\n")
