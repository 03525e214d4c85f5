"""The `tf.distribute` strategy of a training run, and its place in a cluster.

`--strategy=multi_worker_mirrored` reads the cluster from `TF_CONFIG`, as
TensorFlow does; a malformed one is refused here with one line, before
TensorFlow starts. The strategy must be created before any other TensorFlow
operation in the process (collective ops are configured at start-up), so it
is created once per process and reused.
"""
import json
import os

import tensorflow as tf

from tf_inpaint import config as config_lib
from tf_inpaint.errors import InputError

# Task types a multi-worker training cluster may hold ("chief" is optional).
_TASK_TYPES = ("chief", "worker")
# What a collective op raises once TensorFlow aborts them on a dead peer.
LOST_WORKER_ERRORS = (tf.errors.UnavailableError, tf.errors.CancelledError,
                      tf.errors.DeadlineExceededError)
_created: dict[str, tf.distribute.Strategy] = {}


def read_tf_config() -> dict | None:
  """TF_CONFIG checked for what multi-worker training needs, or None if unset.

  Raises:
    InputError: one line naming what is wrong with it.
  """
  text = os.environ.get("TF_CONFIG", "").strip()
  if not text:
    return None
  try:
    tf_config = json.loads(text)
  except json.JSONDecodeError as e:
    raise InputError(f"TF_CONFIG: not valid JSON ({e})") from e
  cluster = tf_config.get("cluster") if isinstance(tf_config, dict) else None
  task = tf_config.get("task") if isinstance(tf_config, dict) else None
  if not isinstance(cluster, dict) or not cluster:
    raise InputError('TF_CONFIG: expected {"cluster": {"worker": ["host:port",'
                     ' ...]}, "task": {"type": "worker", "index": 0}}')
  for task_type, addresses in cluster.items():
    if task_type not in _TASK_TYPES:
      raise InputError(f"TF_CONFIG: cluster has {task_type!r} tasks; "
                       f"multi-worker training takes only {_TASK_TYPES}")
    if (not isinstance(addresses, list) or not addresses or not all(
        isinstance(a, str) and a.rpartition(":")[2].isdigit()
        for a in addresses)):
      raise InputError(f"TF_CONFIG: cluster {task_type!r} must be a list of "
                       f"'host:port' addresses, got {addresses!r}")
  if not isinstance(task, dict) or task.get("type") not in cluster:
    raise InputError(f"TF_CONFIG: task type must be one of the cluster's "
                     f"{sorted(cluster)}, got {task!r}")
  index = task.get("index", 0)
  size = len(cluster[task["type"]])
  if isinstance(index, bool) or not isinstance(index, int) or not (
      0 <= index < size):
    raise InputError(f"TF_CONFIG: task index {index!r} out of range for "
                     f"{size} {task['type']!r} task(s)")
  return tf_config


def make_strategy(name: str) -> tf.distribute.Strategy:
  """Maps a --strategy value to a `tf.distribute.Strategy`, once per process."""
  if name not in config_lib.STRATEGIES:
    raise InputError(f"strategy={name!r}: expected one of "
                     f"{', '.join(config_lib.STRATEGIES)}")
  if name == "default":
    return tf.distribute.get_strategy()
  if name not in _created:
    if name == "mirrored":
      _created[name] = tf.distribute.MirroredStrategy()
    else:
      _created[name] = _multi_worker_strategy()
  return _created[name]


def _multi_worker_strategy() -> tf.distribute.Strategy:
  tf_config = read_tf_config()
  if tf_config:
    workers = sum(len(a) for a in tf_config["cluster"].values())
    print(f"Joining a cluster of {workers} workers as {tf_config['task']['type']}"
          f" {tf_config['task'].get('index', 0)}; waiting for the others to "
          "start", flush=True)
  try:
    return tf.distribute.MultiWorkerMirroredStrategy()
  except RuntimeError as e:
    if "program startup" not in str(e):
      raise
    raise InputError("strategy=multi_worker_mirrored: TensorFlow already ran "
                     "in this process; create the strategy (Trainer, or "
                     "cluster.make_strategy) before anything else") from e


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the run's checkpoints and summaries."""
  return strategy.extended.should_checkpoint

