"""Writing results without ever losing a user's files.

Everything goes to a staging directory beside the target, renamed into place
only when complete. Each output directory records the files it holds in a
manifest, so `--overwrite` replaces our own earlier results and nothing else;
the earlier results are removed only after the new ones are in place.
"""
import contextlib
import json
import os
import shutil
import tempfile

import numpy as np

from tf_inpaint import summaries
from tf_inpaint.errors import InputError

# Lists the files an output directory holds, so --overwrite knows they are ours.
MANIFEST_FILENAME = ".tf_inpaint_outputs.json"
# An unfinished output: `<outdir>.partial/`, with its settings and the records
# of the images finished so far, one JSON line per finished part.
PARTIAL_SUFFIX = ".partial"
PROGRESS_FILENAME = ".tf_inpaint_progress.jsonl"
_STAGING_PREFIX = ".staging-"
_REPLACED_PREFIX = ".replaced-"


def _remove_debris(parent: str) -> None:
  """Removes staging folders left by our own processes that were killed.

  Their names carry the writer's pid (`.staging-<pid>-...`); a folder whose
  process is gone is half-written results, never to be completed.
  """
  for name in os.listdir(parent):
    for prefix in (_STAGING_PREFIX, _REPLACED_PREFIX):
      pid = name[len(prefix):].split("-", 1)[0] if name.startswith(
          prefix) else ""
      if pid.isdigit() and not _alive(int(pid)):
        shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True  # someone else's process
  return True


def _is_within(path: str, folder: str) -> bool:
  """True if real path `path` is `folder` or lies inside it."""
  return os.path.commonpath([path, folder]) == folder


def _files_under(folder: str) -> list[str]:
  """Every file below `folder`, as sorted paths relative to it."""
  return sorted(os.path.relpath(os.path.join(root, name), folder)
                for root, _, names in os.walk(folder) for name in names)


def _foreign_files(outdir: str) -> list[str]:
  """Files in `outdir` that no manifest of ours lists (all, if none is there)."""
  try:
    with open(os.path.join(outdir, MANIFEST_FILENAME)) as f:
      ours = set(json.load(f)["files"])
  except (OSError, ValueError, KeyError, TypeError):
    ours = set()
  return [name for name in _files_under(outdir)
          if name != MANIFEST_FILENAME and name not in ours]


def check_writable(outdir: str, overwrite: bool, inputs=()) -> None:
  """Refuses an output directory we may not write, before any work is done.

  Args:
    outdir: the directory the results will replace.
    overwrite: whether earlier results of ours there may be replaced.
    inputs: (flag, path) pairs the command reads (images, models, masks):
      an outdir that is, holds or lies inside one of them is refused.
  Raises:
    InputError: for an empty name, a file, the current directory, home or
      one of their parents, an overlap with an input, a directory that
      holds files unless --overwrite, and with --overwrite a directory that
      holds any file we did not write.
  """
  if not outdir:
    raise InputError("outdir: expected a directory path, got ''")
  path = os.path.realpath(outdir)
  if os.path.exists(path) and not os.path.isdir(path):
    raise InputError(f"outdir={outdir}: exists and is not a directory")
  for protected in (os.getcwd(), os.path.expanduser("~")):
    if _is_within(os.path.realpath(protected), path):
      raise InputError(f"outdir={outdir}: is {protected} or one of its "
                       "parents; choose a new folder for the results")
  for flag, input_path in inputs:
    real_input = os.path.realpath(input_path)
    if _is_within(path, real_input) or _is_within(real_input, path):
      raise InputError(f"outdir={outdir}: overlaps {flag}={input_path}; "
                       "choose a folder outside it")
  _check_creatable(outdir, path)
  if os.path.isdir(path) and os.listdir(path):
    if not overwrite:
      raise InputError(f"outdir={outdir}: already holds results; pass "
                       "--overwrite to replace them or choose another --outdir")
    foreign = _foreign_files(path)
    if foreign:
      raise InputError(
          f"outdir={outdir}: holds files tf_inpaint did not write "
          f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
          "--overwrite replaces only earlier results: choose another "
          "--outdir or move them away")


def check_directory_flag(flag: str, value: str) -> None:
  """Refuses a directory flag (--logdir, --run_dir) that names a file or lies
  under one, before any work is done."""
  if os.path.exists(value) and not os.path.isdir(value):
    raise InputError(f"{flag}={value}: exists and is not a directory")
  _check_creatable(value, os.path.realpath(value), flag)


def _check_creatable(outdir: str, path: str, flag: str = "outdir") -> None:
  """Refuses a place we could not write, before any work is done."""
  existing = path
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  parent = existing if existing != path else os.path.dirname(path)
  if not os.path.isdir(parent):
    raise InputError(f"{flag}={outdir}: cannot write there ({parent} is a "
                     "file)")
  if not os.access(parent, os.W_OK | os.X_OK):
    raise InputError(f"{flag}={outdir}: cannot write there (no permission "
                     f"in {parent})")
  try:  # permissions say yes where the file system says no (/proc, read-only)
    os.rmdir(tempfile.mkdtemp(prefix=".tf_inpaint_check_", dir=parent))
  except OSError as e:
    raise InputError(f"{flag}={outdir}: cannot write there ({parent}: "
                     f"{e.strerror})") from e


def _write_manifest(staging: str, command: str, settings=None) -> None:
  save_json(os.path.join(staging, MANIFEST_FILENAME),
            {"command": command, "files": _files_under(staging),
             **({"settings": settings} if settings is not None else {})})


def read_manifest(directory: str, flag: str) -> dict:
  """The manifest of a finished output of ours.

  Raises:
    InputError: if `directory` is not one (or is a stopped run's partial).
  """
  path = os.path.join(directory, MANIFEST_FILENAME)
  try:
    with open(path) as f:
      manifest = json.load(f)
  except (OSError, ValueError):
    manifest = None
  if not (isinstance(manifest, dict) and {"command", "files"} <= set(manifest)):
    stopped = os.path.isdir(partial_path(directory))
    raise InputError(
        f"{flag}={directory}: not a finished tf_inpaint output" +
        ("; its run was stopped: rerun its command to finish it" if stopped
         else f" (no readable {MANIFEST_FILENAME})"))
  return manifest


def _replace(staging: str, outdir: str, parent: str) -> None:
  """Puts `staging` at `outdir`; earlier results are deleted only after."""
  if not os.path.isdir(outdir):
    os.replace(staging, outdir)
    return
  replaced = tempfile.mkdtemp(prefix=f"{_REPLACED_PREFIX}{os.getpid()}-",
                              dir=parent)
  previous = os.path.join(replaced, "previous")
  os.replace(outdir, previous)
  try:
    os.replace(staging, outdir)
  except BaseException:
    os.replace(previous, outdir)
    raise
  finally:
    shutil.rmtree(replaced, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(outdir: str, overwrite: bool, command: str, inputs=(),
                     settings=None):
  """Yields a staging directory that becomes `outdir` on success only.

  Args:
    outdir, overwrite, inputs: as for `check_writable`.
    command: what wrote the results (recorded in the manifest).
    settings: what the results depend on, recorded in the manifest.
  """
  check_writable(outdir, overwrite, inputs)
  target = os.path.realpath(outdir)
  parent = os.path.dirname(target)
  try:
    os.makedirs(parent, exist_ok=True)
    _remove_debris(parent)
    staging = tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-",
                               dir=parent)
  except OSError as e:
    raise InputError(f"outdir={outdir}: cannot write there "
                     f"({e.strerror or e})") from e
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would stick to outdir
  try:
    yield staging
    _write_manifest(staging, command, settings)
    _replace(staging, target, parent)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise


class PartialOutput:
  """A results folder filled a part at a time, which survives being stopped.

  Files go to `<outdir>.partial/`; after each part, `add` appends that part's
  records to the progress file, so a run stopped at any moment (even by kill
  -9) knows which images are finished, and a run with the same settings
  continues after them.
  """

  def __init__(self, directory: str, records: list):
    self.directory = directory
    self.records = records  # one dict per finished image, in order

  @property
  def done(self) -> int:
    return len(self.records)

  def add(self, records: list) -> None:
    """Marks the next `len(records)` images finished (their files written)."""
    with open(os.path.join(self.directory, PROGRESS_FILENAME), "a") as f:
      f.write(json.dumps({"records": records}, default=_json_default) + "\n")
      f.flush()
      os.fsync(f.fileno())
    self.records.extend(records)


def _flat(settings: dict, prefix: str = "") -> dict:
  """{"a": {"b": 1}} -> {"a.b": 1}, so a difference names the field."""
  flat = {}
  for key, value in settings.items():
    if isinstance(value, dict):
      flat.update(_flat(value, f"{prefix}{key}."))
    else:
      flat[f"{prefix}{key}"] = value
  return flat


def differing_settings(first: dict, second: dict, ignore=(),
                       defaults=None) -> list:
  """(field, first's value, second's value) of every field that differs.

  `defaults`: the value a field has in settings written before it existed
  (an option added since), e.g. a config's defaults.
  """
  first, second = _flat(first), _flat(second)
  defaults = _flat(defaults or {})
  value = lambda settings, key: settings.get(key, defaults.get(key))
  return [(key, value(first, key), value(second, key))
          for key in sorted(set(first) | set(second))
          if key not in ignore and value(first, key) != value(second, key)]


def partial_path(outdir: str) -> str:
  return os.path.realpath(outdir) + PARTIAL_SUFFIX


def _read_progress(partial: str, outdir: str, command: str, settings: dict,
                   defaults: dict):
  """The records of an unfinished run with these settings, or InputError."""
  path = os.path.join(partial, PROGRESS_FILENAME)
  try:
    with open(path) as f:
      lines = f.read().split("\n")
    header = json.loads(lines[0])
  except (OSError, ValueError) as e:
    raise InputError(f"outdir={outdir}: {partial} exists but is not an "
                     "unfinished tf_inpaint output; move it away") from e
  if header.get("command") != command:
    raise InputError(f"outdir={outdir}: {partial} is an unfinished "
                     f"bin/{header.get('command')} output, not bin/{command}'s;"
                     " choose another --outdir or delete it")
  differing = differing_settings(header.get("settings", {}), settings,
                                 defaults=defaults)
  if differing:
    shown = "; ".join(f"{key}: {there!r} there, {now!r} now"
                      for key, there, now in differing[:3])
    raise InputError(f"outdir={outdir}: {partial} holds an unfinished run "
                     f"with other settings ({shown}); rerun with its settings "
                     "to finish it, or delete it to start again")
  records = []
  for line in lines[1:]:
    try:
      records.extend(json.loads(line)["records"])
    except (ValueError, KeyError):
      break  # a line cut short by a kill: that part is done again
  return records


@contextlib.contextmanager
def resumable_directory(outdir: str, overwrite: bool, command: str,
                        settings: dict, inputs=(), defaults=None):
  """Yields a PartialOutput that becomes `outdir` when the block completes.

  Args:
    outdir, overwrite, inputs: as for `check_writable`.
    command: what writes the results (recorded in the manifest).
    settings: everything the results depend on (JSON values): a partial
      output is continued only by a run with the same settings.
    defaults: settings that a partial output written before they existed
      (an option added since) is taken to have had, e.g. a config's defaults.
  Raises:
    InputError: as `check_writable`, or if `<outdir>.partial` holds
      something else than an unfinished run of this command with these
      settings.
  The partial folder is kept when the block fails after finishing images
  (to be continued) and removed when it fails before finishing any.
  """
  check_writable(outdir, overwrite, inputs)
  target = os.path.realpath(outdir)
  partial = partial_path(outdir)
  if os.path.exists(partial):
    records = _read_progress(partial, outdir, command, settings,
                             defaults or {})
  else:
    records = []
    try:
      os.makedirs(partial)
      with open(os.path.join(partial, PROGRESS_FILENAME), "w") as f:
        f.write(json.dumps({"command": command, "settings": settings},
                           sort_keys=True) + "\n")
    except OSError as e:
      shutil.rmtree(partial, ignore_errors=True)
      raise InputError(f"outdir={outdir}: cannot write there "
                       f"({e.strerror or e})") from e
  output = PartialOutput(partial, records)
  try:
    yield output
  except BaseException:
    if not output.done:
      shutil.rmtree(partial, ignore_errors=True)
    raise
  os.remove(os.path.join(partial, PROGRESS_FILENAME))
  _write_manifest(partial, command, settings)
  _replace(partial, target, os.path.dirname(target))


def save_png(path: str, image) -> None:
  """Saves one float image in [-1, 1] (H, W, C) as an 8-bit PNG."""
  save_uint8_png(path, summaries.to_uint8(image).numpy())


def save_uint8_png(path: str, pixels: np.ndarray) -> None:
  """Saves uint8 pixels (H, W), (H, W, 1) or (H, W, 3) as a PNG."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(pixels.squeeze(-1) if pixels.ndim == 3 and
                  pixels.shape[-1] == 1 else pixels).save(path)


def _json_default(value):
  """numpy scalars as Python numbers."""
  if isinstance(value, np.generic):
    return value.item()
  raise TypeError(f"{type(value).__name__} is not JSON serializable")


def save_json(path: str, payload) -> None:
  with open(path, "w") as f:
    json.dump(payload, f, indent=2, sort_keys=True, default=_json_default)
    f.write("\n")
