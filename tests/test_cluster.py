"""TF_CONFIG checks: what multi-worker training refuses, before TF starts."""
import json

import pytest

from tf_inpaint import cluster
from tf_inpaint.errors import InputError

WORKERS = {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}


def test_unset_means_a_single_worker(monkeypatch):
  monkeypatch.delenv("TF_CONFIG", raising=False)
  assert cluster.read_tf_config() is None


def test_a_valid_cluster_is_returned(monkeypatch):
  tf_config = {"cluster": {**WORKERS, "chief": ["127.0.0.1:2221"]},
               "task": {"type": "chief", "index": 0}}
  monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
  assert cluster.read_tf_config() == tf_config


@pytest.mark.parametrize("tf_config, expected", [
    ("{", "not valid JSON"),
    ("[1, 2]", 'expected {"cluster"'),
    ({"task": {"type": "worker", "index": 0}}, 'expected {"cluster"'),
    ({"cluster": {**WORKERS, "ps": ["127.0.0.1:1"]},
      "task": {"type": "worker", "index": 0}}, "has 'ps' tasks"),
    ({"cluster": {"worker": "127.0.0.1:2222"},
      "task": {"type": "worker", "index": 0}}, "list of 'host:port'"),
    ({"cluster": {"worker": ["127.0.0.1"]},
      "task": {"type": "worker", "index": 0}}, "list of 'host:port'"),
    ({"cluster": WORKERS}, "task type must be one of the cluster's"),
    ({"cluster": WORKERS, "task": {"type": "chief", "index": 0}},
     "task type must be one of the cluster's ['worker']"),
    ({"cluster": WORKERS, "task": {"type": "worker", "index": 2}},
     "task index 2 out of range for 2 'worker' task(s)"),
    ({"cluster": WORKERS, "task": {"type": "worker", "index": -1}},
     "task index -1 out of range"),
    ({"cluster": WORKERS, "task": {"type": "worker", "index": True}},
     "task index True out of range"),
])
def test_a_malformed_tf_config_is_refused(monkeypatch, tf_config, expected):
  monkeypatch.setenv("TF_CONFIG", tf_config if isinstance(tf_config, str)
                     else json.dumps(tf_config))
  with pytest.raises(InputError, match="^TF_CONFIG: ") as error:
    cluster.read_tf_config()
  assert expected in str(error.value)
  assert "\n" not in str(error.value)
