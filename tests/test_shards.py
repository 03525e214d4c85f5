"""Which images a process takes, from its flags or TF_CONFIG; joining parts."""
import json

import pytest

from tf_inpaint import shards
from tf_inpaint.errors import InputError


@pytest.mark.parametrize("total, count", [(10, 3), (2, 4), (2000, 7)])
def test_shards_partition_the_images_in_order(total, count):
  ranges = [shards.shard_range(total, i, count) for i in range(count)]
  assert ranges[0][0] == 0 and ranges[-1][1] == total
  assert all(ranges[i][1] == ranges[i + 1][0] for i in range(count - 1))
  sizes = [stop - start for start, stop in ranges]
  assert max(sizes) - min(sizes) <= 1


def test_flags_pick_the_shard_and_default_to_one(monkeypatch):
  monkeypatch.delenv("TF_CONFIG", raising=False)
  assert shards.shard_of_process(0, None) == (0, 1)
  assert shards.shard_of_process(4, 3) == (3, 4)


def test_tf_config_gives_each_task_its_shard(monkeypatch):
  cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
  seen = []
  for task_type, index in (("chief", 0), ("worker", 0), ("worker", 1)):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": cluster, "task": {"type": task_type, "index": index}}))
    seen.append(shards.shard_of_process(0, None))
  assert seen == [(0, 3), (1, 3), (2, 3)]
  # Flags win over TF_CONFIG.
  assert shards.shard_of_process(2, 1) == (1, 2)


@pytest.mark.parametrize("num_shards, index, message", [
    (2, 2, "shard_index=2: expected 0 to 1 (num_shards=2)"),
    (3, -1, "shard_index=-1: expected 0 to 2"),
    (-1, 0, "num_shards=-1: expected >= 1"),
    (0, 1, "shard_index=1: expected 0 to 0 (num_shards=1)"),
])
def test_a_shard_out_of_range_is_refused(monkeypatch, num_shards, index,
                                         message):
  monkeypatch.delenv("TF_CONFIG", raising=False)
  with pytest.raises(InputError, match=message.replace("(", r"\(").replace(
      ")", r"\)")):
    shards.shard_of_process(num_shards, index)


def test_a_shard_from_before_a_new_option_merges_at_its_default(tmp_path):
  """A part written before `blend_detail` existed joins a part written with
  it at its default, and not one written with another value."""
  from tf_inpaint import outputs  # pylint: disable=g-import-not-at-top

  def part(name, shard, search):
    settings = {"mask": "center", "inpaint_config": search, "shard": shard}
    with outputs.staged_directory(str(tmp_path / name), False, "inpaint",
                                  settings=settings):
      pass
    return str(tmp_path / name)

  old = part("old", [0, 2], {"iterations": 3})
  same = part("same", [1, 2], {"iterations": 3, "blend_detail": 1.0})
  other = part("other", [1, 2], {"iterations": 3, "blend_detail": 0.5})
  defaults = {"inpaint_config": {"iterations": 1500, "blend_detail": 1.0}}
  joined = []
  shards.merge_parts([same, old], str(tmp_path / "merged"), False, "inpaint",
                     lambda staging, ordered: joined.extend(
                         d for _, d in ordered), defaults=defaults)
  assert joined == [old, same]
  with pytest.raises(InputError, match=r"blend_detail: 0.5 there, 1.0 in"):
    shards.merge_parts([old, other], str(tmp_path / "refused"), False,
                       "inpaint", lambda *_: None, defaults=defaults)
  assert not (tmp_path / "refused").exists()
