"""Splitting a command's images over processes, and joining their outputs.

Shard i of n takes a contiguous block of the selected images, so the parts
joined in shard order are the images in their own order, and each image's
mask and random start (keyed by its index in the whole selection) are those
of one unsharded run. The same job file works on a cluster: with
`TF_CONFIG` set, n is its number of tasks and i this task's place (chief
first, then the workers).
"""
import os
import shutil

from tf_inpaint import cluster, outputs
from tf_inpaint.errors import InputError

def shard_of_process(num_shards: int, shard_index: int | None):
  """(index, count) of this process's shard, from the flags or TF_CONFIG.

  Raises:
    InputError: for a count below 0 or an index outside [0, count).
  """
  if num_shards < 0:
    raise InputError(f"num_shards={num_shards}: expected >= 1 (0: from "
                     "TF_CONFIG, else 1)")
  tf_config = cluster.read_tf_config() if not num_shards else None
  if tf_config:
    tasks = [(task_type, i) for task_type in ("chief", "worker")
             for i in range(len(tf_config["cluster"].get(task_type, [])))]
    task = tf_config["task"]
    own = tasks.index((task["type"], task.get("index", 0)))
    num_shards = len(tasks)
    shard_index = own if shard_index is None else shard_index
  num_shards = num_shards or 1
  shard_index = 0 if shard_index is None else shard_index
  if not 0 <= shard_index < num_shards:
    raise InputError(f"shard_index={shard_index}: expected 0 to "
                     f"{num_shards - 1} (num_shards={num_shards})")
  return shard_index, num_shards


def shard_range(total: int, index: int, count: int) -> tuple[int, int]:
  """[start, stop) of shard `index` of `count` over `total` images."""
  return total * index // count, total * (index + 1) // count


def _ordered_parts(parts: list, command: str, defaults=None) -> list:
  """(manifest, directory) of every shard of one run, in shard order.

  Raises:
    InputError: for a part that is not a finished output of `command`,
      parts of different settings or shard counts, two parts of the same
      shard (overlapping images), or a missing shard.
  """
  found = []
  for part in parts:
    manifest = outputs.read_manifest(part, "merge")
    settings = manifest.get("settings")
    if manifest["command"] != command or not settings:
      raise InputError(f"merge={part}: a bin/{manifest['command']} output "
                       f"without shards, not bin/{command}'s")
    found.append((manifest, part))
  reference, first_part = found[0]
  for manifest, part in found[1:]:
    differing = outputs.differing_settings(
        reference["settings"], manifest["settings"], ignore=("shard",),
        defaults=defaults)
    if differing:
      key, first_value, value = differing[0]
      raise InputError(f"merge={part}: made with other settings than "
                       f"{first_part} ({key}: {value!r} there, {first_value!r}"
                       f" in {first_part})")
  count = reference["settings"]["shard"][1]
  by_index = {}
  for manifest, part in found:
    index, part_count = manifest["settings"]["shard"]
    if part_count != count:
      raise InputError(f"merge={part}: shard {index + 1} of {part_count}, "
                       f"but {first_part} is one of {count}")
    if index in by_index:
      raise InputError(f"merge={part}: {by_index[index][1]} is the same "
                       f"shard ({index + 1} of {count}): their images overlap")
    by_index[index] = (manifest, part)
  missing = sorted(set(range(count)) - set(by_index))
  if missing:
    raise InputError(f"merge: shard(s) {', '.join(str(i) for i in missing)} "
                     f"of {count} missing (0-based --shard_index)")
  return [by_index[i] for i in range(count)]


def merge_parts(parts: list, outdir: str, overwrite: bool, command: str,
                join, defaults=None) -> None:
  """Joins the outputs of every shard of one run into `outdir`.

  `join(staging, parts)` writes the joined results into the staging folder,
  given [(manifest, directory)] of the parts in shard order. `defaults`: as
  for `outputs.differing_settings` (a part made before an option existed).
  Raises:
    InputError: as `_ordered_parts`, or as `outputs.check_writable`.
  """
  ordered = _ordered_parts(parts, command, defaults)
  settings = dict(ordered[0][0]["settings"], shard=[0, 1])
  with outputs.staged_directory(outdir, overwrite, command,
                                [("merge", part) for part in parts],
                                settings) as staging:
    join(staging, ordered)


def copy_files(staging: str, ordered: list, skip=()) -> None:
  """Copies every part's files (but `skip`, and those of later parts that
  the first part also has, such as a grid) into `staging`."""
  for manifest, part in ordered:
    for name in manifest["files"]:
      target = os.path.join(staging, name)
      if name in skip or os.path.exists(target):
        continue
      os.makedirs(os.path.dirname(target), exist_ok=True)
      shutil.copy2(os.path.join(part, name), target)
