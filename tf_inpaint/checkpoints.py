"""Finding the checkpoint to restore, and never mistaking a broken one for none.

`tf.train.CheckpointManager` reads the `checkpoint` state file; when that file
is garbage it logs a warning and reports no checkpoint at all, so a resumed
run would silently restart at step 0 and overwrite the later checkpoints.
Here the checkpoint files themselves are the evidence: the newest that can be
read is restored (saying so if it is not the one the state file names), and
checkpoints that exist but cannot be read are an error.
"""
import os
import re

import tensorflow as tf
from absl import logging

from tf_inpaint.errors import InputError

_CHECKPOINT_INDEX = re.compile(r"^ckpt-(\d+)\.index$")


def _numbered_checkpoints(directory: str) -> list[str]:
  """ckpt-N prefixes with an index file in `directory`, newest first."""
  if not os.path.isdir(directory):
    return []
  numbers = [int(m.group(1)) for m in map(_CHECKPOINT_INDEX.match,
                                          os.listdir(directory)) if m]
  return [os.path.join(directory, f"ckpt-{n}") for n in sorted(numbers,
                                                               reverse=True)]


def _first_line(error: BaseException) -> str:
  text = str(error).strip()
  return text.splitlines()[0].split(". ")[0] if text else type(error).__name__


def readable_state(directory: str):
  """The `checkpoint` state file's contents, or None if it is missing or
  cannot be parsed (TensorFlow raises on an empty one)."""
  try:
    return tf.train.get_checkpoint_state(directory)
  except ValueError:
    return None


def remove_unreadable_state(directory: str) -> None:
  """Deletes a `checkpoint` state file that cannot be parsed, which would
  stop a CheckpointManager from opening the directory; the checkpoints
  themselves stay, and `restore_newest` finds them without it."""
  path = os.path.join(directory, "checkpoint")
  if os.path.isfile(path) and readable_state(directory) is None:
    logging.warning("Removing %s: not a readable checkpoint state file", path)
    os.remove(path)


def restore_newest(checkpoint: tf.train.Checkpoint, directory: str,
                   strict: bool = True) -> str | None:
  """Restores the newest readable checkpoint of `directory` into `checkpoint`.

  Args:
    checkpoint: the objects to restore.
    directory: a CheckpointManager's directory.
    strict: every saved value must be restored (resuming training); else only
      the objects of `checkpoint` must be found (loading for inference).
  Returns:
    The restored checkpoint's path, or None if `directory` holds none.
  Raises:
    InputError: if checkpoints exist but none can be read or matches.
  """
  state = readable_state(directory)
  named = state.model_checkpoint_path if state else None
  candidates = ([named] if named else []) + [
      path for path in _numbered_checkpoints(directory)
      if os.path.basename(path) != os.path.basename(named or "")]
  failures = []
  for path in candidates:
    try:
      status = checkpoint.restore(path)
      if strict:
        status.assert_consumed()
      else:
        status.expect_partial().assert_existing_objects_matched()
    # A .data file cut short raises IndexError from the reader.
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as e:
      failures.append(f"{os.path.basename(path)}: {_first_line(e)}")
      continue
    if failures or not named:
      logging.warning("%s: restored %s, the newest readable checkpoint (%s)",
                      directory, os.path.basename(path),
                      "; ".join(failures) or "the checkpoint state file is "
                      "missing or unreadable")
    return path
  if candidates:
    raise InputError(f"{directory}: holds checkpoints, but none can be read "
                     f"and matches config.json ({failures[0]})")
  return None
