"""Output directories: nothing the user had is lost, whatever goes wrong."""
import os
import shutil

import pytest

from conftest import snapshot

from tf_inpaint import outputs
from tf_inpaint.errors import InputError


def _write_results(outdir, content, overwrite=False, command="inpaint"):
  with outputs.staged_directory(str(outdir), overwrite, command) as staging:
    with open(os.path.join(staging, "result.txt"), "w") as f:
      f.write(content)
    os.makedirs(os.path.join(staging, "sub"))
    with open(os.path.join(staging, "sub", "nested.txt"), "w") as f:
      f.write(content)


def test_overwrite_replaces_our_own_earlier_results(tmp_path):
  _write_results(tmp_path / "out", "first")
  _write_results(tmp_path / "out", "second", overwrite=True)
  assert (tmp_path / "out" / "result.txt").read_text() == "second"
  assert (tmp_path / "out" / "sub" / "nested.txt").read_text() == "second"
  assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging debris


def test_overwrite_refuses_a_directory_holding_files_we_did_not_write(
    tmp_path):
  _write_results(tmp_path / "out", "first")
  (tmp_path / "out" / "notes.txt").write_text("the user's own notes")
  before = snapshot(tmp_path / "out")
  with pytest.raises(InputError, match=r"holds files tf_inpaint did not "
                     r"write \(notes.txt\)"):
    _write_results(tmp_path / "out", "second", overwrite=True)
  assert snapshot(tmp_path / "out") == before
  assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_failure_keeps_the_earlier_results(tmp_path):
  _write_results(tmp_path / "out", "first")
  before = snapshot(tmp_path / "out")
  with pytest.raises(RuntimeError):
    with outputs.staged_directory(str(tmp_path / "out"), True, "inpaint"):
      raise RuntimeError("crash halfway")
  assert snapshot(tmp_path / "out") == before
  assert sorted(os.listdir(tmp_path)) == ["out"]


@pytest.mark.parametrize("outdir, message", [
    ("", "outdir: expected a directory path, got ''"),
    (".", "or one of its parents"),
    ("..", "or one of its parents"),
    ("/", "or one of its parents"),
    ("~", "or one of its parents"),
])
def test_the_working_directory_home_and_their_parents_are_refused(
    tmp_path, monkeypatch, outdir, message):
  monkeypatch.chdir(tmp_path)
  (tmp_path / "bystander.txt").write_text("keep me")
  with pytest.raises(InputError, match=message):
    outputs.check_writable(os.path.expanduser(outdir), overwrite=True)
  assert (tmp_path / "bystander.txt").read_text() == "keep me"


@pytest.mark.parametrize("outdir", ["work/run", "work/run/inside", "work"])
def test_an_outdir_that_is_inside_or_holds_an_input_is_refused(
    tmp_path, monkeypatch, outdir):
  (tmp_path / "work" / "run").mkdir(parents=True)
  (tmp_path / "elsewhere").mkdir()
  monkeypatch.chdir(tmp_path / "elsewhere")
  with pytest.raises(InputError, match="overlaps run_dir="):
    outputs.check_writable(str(tmp_path / outdir), True,
                           [("run_dir", str(tmp_path / "work" / "run"))])


def test_an_unwritable_place_is_one_input_error(tmp_path):
  (tmp_path / "file").write_text("a regular file")
  with pytest.raises(InputError, match="cannot write there"):
    _write_results(tmp_path / "file" / "out", "x")
  with pytest.raises(InputError, match="exists and is not a directory"):
    _write_results(tmp_path / "file", "x")
  assert (tmp_path / "file").read_text() == "a regular file"


def test_a_place_under_a_file_is_refused_before_any_work(tmp_path):
  (tmp_path / "file").write_text("a regular file")
  with pytest.raises(InputError, match=r"cannot write there \(.*file is a "
                     r"file\)"):
    outputs.check_writable(str(tmp_path / "file" / "sub" / "out"), False)


def test_staging_left_by_a_killed_process_is_removed(tmp_path):
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
  dead_pid.wait()
  debris = tmp_path / f".staging-{dead_pid.pid}-abc"
  debris.mkdir()
  (debris / "half.png").write_bytes(b"half-written")
  live = tmp_path / f".staging-{os.getpid()}-xyz"  # a run still going
  live.mkdir()
  _write_results(tmp_path / "out", "new")
  assert sorted(os.listdir(tmp_path)) == [live.name, "out"]


def test_a_directory_holding_files_needs_overwrite(tmp_path):
  _write_results(tmp_path / "out", "first")
  before = snapshot(tmp_path / "out")
  with pytest.raises(InputError, match="already holds results; pass "
                     "--overwrite"):
    _write_results(tmp_path / "out", "second")
  assert snapshot(tmp_path / "out") == before


def test_a_stopped_run_from_before_a_new_option_continues_at_its_default(
    tmp_path):
  """A partial output written before `blend_detail` existed continues with
  the option at its default, and is refused with the option changed."""
  outdir = str(tmp_path / "out")
  old = {"mask": "center", "inpaint_config": {"iterations": 3}}
  with pytest.raises(RuntimeError):
    with outputs.resumable_directory(outdir, False, "inpaint", old) as part:
      part.add([{"name": "000"}])
      raise RuntimeError("stopped")
  defaults = {"inpaint_config": {"iterations": 1500, "blend_detail": 1.0}}
  new = {"mask": "center",
         "inpaint_config": {"iterations": 3, "blend_detail": 1.0}}
  with outputs.resumable_directory(outdir, False, "inpaint", new,
                                   defaults=defaults) as part:
    assert part.records == [{"name": "000"}]
  shutil.rmtree(outdir)
  with pytest.raises(RuntimeError):
    with outputs.resumable_directory(outdir, False, "inpaint", old) as part:
      part.add([{"name": "000"}])
      raise RuntimeError("stopped")
  changed = {"mask": "center",
             "inpaint_config": {"iterations": 3, "blend_detail": 0.5}}
  with pytest.raises(InputError, match=r"inpaint_config.blend_detail: 1.0 "
                     "there, 0.5 now"):
    with outputs.resumable_directory(outdir, False, "inpaint", changed,
                                     defaults=defaults):
      pass
