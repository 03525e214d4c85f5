import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tf_inpaint import config, networks, train
from tf_inpaint.errors import InputError

TINY = config.ModelConfig(image_size=32, base_filters=4, z_dim=8)


def _train_config(folder, **overrides):
  # float32 on every CPU (auto picks bf16 on some); tests/test_precision.py
  # covers the others.
  values = dict(dataset=f"folder:{folder}", batch_size=4, steps=3,
                summary_every=1, image_every=2, checkpoint_every=2, seed=1,
                precision="float32")
  values.update(overrides)
  return config.TrainConfig(**values)


def _event_tags(log_dir):
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  accumulator = event_accumulator.EventAccumulator(
      log_dir, size_guidance={event_accumulator.TENSORS: 0})
  accumulator.Reload()
  return accumulator


def _weights(run_dir, model_config=TINY):
  from tf_inpaint import models  # pylint: disable=g-import-not-at-top
  generator, discriminator = models.build(model_config)
  checkpoint = tf.train.Checkpoint(generator=generator,
                                   discriminator=discriminator)
  checkpoint.restore(tf.train.latest_checkpoint(
      config.checkpoint_dir(run_dir))).expect_partial()
  return [w.numpy() for w in generator.weights + discriminator.weights]


def test_a_few_steps_write_checkpoints_and_summaries(image_folder, tmp_path):
  run_dir, log_dir = str(tmp_path / "run"), str(tmp_path / "logs")
  metrics = train.Trainer(TINY, _train_config(image_folder), run_dir,
                          log_dir).train()
  assert metrics["step"] == 3
  assert all(np.isfinite(metrics[k]) for k in ("d_loss", "g_loss"))
  assert 0 < metrics["d_real"] < 1 and 0 < metrics["d_fake"] < 1
  assert config.load_run_config(run_dir)[0] == TINY
  checkpoints = tf.train.get_checkpoint_state(config.checkpoint_dir(run_dir))
  assert [os.path.basename(p) for p in checkpoints.all_model_checkpoint_paths
          ] == ["ckpt-2", "ckpt-3"]
  events = _event_tags(log_dir)
  tags = set(events.Tags()["tensors"])
  assert {"d_loss", "g_loss", "d_real", "d_fake", "images_per_second",
          "samples"} <= tags
  assert [e.step for e in events.Tensors("d_loss")] == [1, 2, 3]
  grid = tf.make_ndarray(events.Tensors("samples")[-1].tensor_proto)
  assert grid.shape == (3,)  # width, height, PNG bytes
  from tensorboard.plugins.hparams import plugin_data_pb2  # pylint: disable=g-import-not-at-top
  hparams_content = events.PluginTagToContent("hparams")
  assert hparams_content
  session = plugin_data_pb2.HParamsPluginData.FromString(
      next(iter(hparams_content.values()))).session_start_info
  assert session.hparams["learning_rate"].number_value == pytest.approx(2e-4)
  assert session.hparams["image_size"].number_value == 32


@pytest.mark.slow
def test_resumed_run_matches_an_uninterrupted_one(image_folder, tmp_path):
  straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
  train.Trainer(TINY, _train_config(image_folder, steps=4), straight,
                str(tmp_path / "l1")).train()
  train.Trainer(TINY, _train_config(image_folder, steps=2), resumed,
                str(tmp_path / "l2")).train()
  metrics = train.Trainer(TINY, _train_config(image_folder, steps=4), resumed,
                          str(tmp_path / "l2")).train()
  assert metrics["step"] == 4
  for a, b in zip(_weights(straight), _weights(resumed)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_one_step_under_mirrored_strategy_on_two_cpus(image_folder, tmp_path):
  assert len(tf.config.list_logical_devices("CPU")) == 2
  trainer = train.Trainer(TINY, _train_config(image_folder, steps=1,
                                              strategy="mirrored"),
                          str(tmp_path / "run"), str(tmp_path / "logs"))
  assert trainer.strategy.num_replicas_in_sync == 2
  metrics = trainer.train()
  assert metrics["step"] == 1 and np.isfinite(metrics["d_loss"])


def test_a_run_dir_with_another_config_is_refused(image_folder, tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=1), run_dir,
                str(tmp_path / "logs")).train()
  before = sorted(os.listdir(run_dir))
  with pytest.raises(InputError, match=r"different config.json \(seed: 1 -> 2\)"):
    train.Trainer(TINY, _train_config(image_folder, seed=2), run_dir).train()
  other_model = config.ModelConfig(image_size=32, base_filters=8, z_dim=8)
  with pytest.raises(InputError, match="base_filters: 4 -> 8"):
    train.Trainer(other_model, _train_config(image_folder), run_dir).train()
  assert sorted(os.listdir(run_dir)) == before


def test_a_non_run_directory_is_not_written_into(image_folder, tmp_path):
  (tmp_path / "mine.txt").write_text("user data")
  with pytest.raises(InputError, match="not a run directory"):
    train.Trainer(TINY, _train_config(image_folder), str(tmp_path)).train()
  assert sorted(os.listdir(tmp_path)) == ["images", "mine.txt"]


def test_bad_input_leaves_no_run_directory(tmp_path):
  run_dir = tmp_path / "run"
  with pytest.raises(InputError, match="no image files"):
    empty = tmp_path / "empty"
    empty.mkdir()
    train.Trainer(TINY, _train_config(str(empty)), str(run_dir))
  with pytest.raises(InputError, match="batch_size=64: larger than"):
    folder = tmp_path / "few"
    from conftest import write_images  # pylint: disable=g-import-not-at-top
    write_images(str(folder), 3)
    train.Trainer(TINY, _train_config(str(folder), batch_size=64),
                  str(run_dir))
  assert not run_dir.exists()


def test_failure_before_the_first_checkpoint_removes_the_new_run_dir(
    image_folder, tmp_path, monkeypatch):
  run_dir = tmp_path / "run"
  trainer = train.Trainer(TINY, _train_config(image_folder), str(run_dir),
                          str(tmp_path / "logs"))

  def broken_step(iterator, stop_vote, regularize):
    raise RuntimeError("simulated crash")

  monkeypatch.setattr(trainer, "_train_step", broken_step)
  with pytest.raises(RuntimeError, match="simulated crash"):
    trainer.train()
  assert not run_dir.exists()


def _checkpoint_files(run_dir):
  folder = config.checkpoint_dir(run_dir)
  return {name: open(os.path.join(folder, name), "rb").read()
          for name in os.listdir(folder)}


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage_state", "empty_state",
                                    "truncated_latest", "truncated_data"])
def test_a_damaged_checkpoint_resumes_from_the_newest_readable_one(
    image_folder, tmp_path, damage, caplog):
  straight, damaged = str(tmp_path / "straight"), str(tmp_path / "damaged")
  train.Trainer(TINY, _train_config(image_folder, steps=4), straight,
                str(tmp_path / "l1")).train()
  train.Trainer(TINY, _train_config(image_folder, steps=3), damaged,
                str(tmp_path / "l2")).train()  # ckpt-2 and ckpt-3
  folder = config.checkpoint_dir(damaged)
  if damage.endswith("_state"):
    with open(os.path.join(folder, "checkpoint"), "w") as f:
      f.write("this is not a checkpoint state }{" if damage == "garbage_state"
              else "")
    expected_step = 3
  else:
    name = ("ckpt-3.index" if damage == "truncated_latest" else
            "ckpt-3.data-00000-of-00001")
    with open(os.path.join(folder, name), "r+b") as f:
      f.truncate(10)
    expected_step = 2
  # bin/inpaint --model=RUN and bin/export read the newest readable one too.
  from tf_inpaint import models  # pylint: disable=g-import-not-at-top
  caplog.clear()
  models.load(damaged)
  if damage.startswith("truncated"):
    assert "restored ckpt-2, the newest readable" in caplog.text
  metrics = train.Trainer(TINY, _train_config(image_folder, steps=4), damaged,
                          str(tmp_path / "l2")).train()
  assert metrics["step"] == 4
  assert f"restored ckpt-{expected_step}, the newest readable" in caplog.text
  for a, b in zip(_weights(straight), _weights(damaged)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # trains more than once
def test_checkpoints_that_cannot_be_read_are_refused_not_restarted(
    image_folder, tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=3), run_dir,
                str(tmp_path / "logs")).train()
  folder = config.checkpoint_dir(run_dir)
  for name in ("ckpt-2.index", "ckpt-3.index"):
    with open(os.path.join(folder, name), "wb") as f:
      f.write(b"garbage")
  before = _checkpoint_files(run_dir)
  with pytest.raises(InputError, match="holds checkpoints, but none can be "
                     "read"):
    train.Trainer(TINY, _train_config(image_folder, steps=5), run_dir,
                  str(tmp_path / "logs")).train()
  assert _checkpoint_files(run_dir) == before


def _generator_at(run_dir, step, name):
  """G's weights (`name` = generator or ema_generator) as saved in ckpt-`step`."""
  from tf_inpaint import models  # pylint: disable=g-import-not-at-top
  generator = models.build_generator(TINY)
  path = os.path.join(config.checkpoint_dir(run_dir), f"ckpt-{step}")
  tf.train.Checkpoint(**{name: generator}).restore(path).expect_partial(
  ).assert_existing_objects_matched()
  return ([w.numpy() for w in generator.trainable_weights],
          [w.numpy() for w in generator.non_trainable_weights])


def test_the_ema_generator_is_the_moving_average_of_g(image_folder,
                                                       tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=3, checkpoint_every=1,
                                    ema_decay=0.2),
                run_dir, str(tmp_path / "logs")).train()
  g = [_generator_at(run_dir, s, "generator")[0] for s in (1, 2, 3)]
  ema = [_generator_at(run_dir, s, "ema_generator")[0] for s in (1, 3)]
  # The update at step t (0-based) uses d_t = min(0.2, (1 + t) / (10 + t)):
  # 0.1818 at t = 1, then 0.2 at t = 2.
  d1, d2 = min(0.2, 2 / 11), min(0.2, 3 / 12)
  for i, ema_weight in enumerate(ema[1]):
    # ema_3 = d2 (d1 ema_1 + (1 - d1) g_2) + (1 - d2) g_3
    expected = d2 * (d1 * ema[0][i] + (1 - d1) * g[1][i]) + (1 - d2) * g[2][i]
    np.testing.assert_allclose(ema_weight, expected, rtol=1e-5, atol=1e-7)
  assert not all(np.allclose(a, b) for a, b in zip(ema[1], g[2]))
  # BN statistics are copied, not averaged.
  for a, b in zip(_generator_at(run_dir, 3, "ema_generator")[1],
                  _generator_at(run_dir, 3, "generator")[1]):
    np.testing.assert_array_equal(a, b)


def test_inpainting_and_export_use_the_ema_generator(image_folder, tmp_path):
  from tf_inpaint import models  # pylint: disable=g-import-not-at-top
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=3, ema_decay=0.5),
                run_dir, str(tmp_path / "logs")).train()
  average = _generator_at(run_dir, 3, "ema_generator")[0]
  last = _generator_at(run_dir, 3, "generator")[0]
  assert not all(np.array_equal(a, b) for a, b in zip(average, last))
  for ema, expected in ((True, average), (False, last)):
    loaded = models.load(run_dir, ema=ema)[2].trainable_weights
    for weight, value in zip(loaded, expected):
      np.testing.assert_array_equal(weight.numpy(), value)
  models.export(run_dir, str(tmp_path / "bundle"))
  exported = models.load(str(tmp_path / "bundle"))[2].trainable_weights
  for weight, value in zip(exported, average):
    np.testing.assert_allclose(weight.numpy(), value, rtol=1e-3, atol=1e-6)


def _sample_grids(log_dir, tag):
  events = _event_tags(log_dir)
  return {e.step: tf.make_ndarray(e.tensor_proto)[2]
          for e in events.Tensors(tag)}


@pytest.mark.slow  # trains more than once
def test_a_warm_start_begins_with_the_source_weights(image_folder, tmp_path):
  from tf_inpaint import models, summaries  # pylint: disable=g-import-not-at-top
  source = str(tmp_path / "source")
  train.Trainer(TINY, _train_config(image_folder, steps=2, ema_decay=0.5),
                source, str(tmp_path / "l1")).train()
  train.Trainer(TINY, _train_config(image_folder, steps=1, seed=7,
                                    init_from=source),
                str(tmp_path / "warm"), str(tmp_path / "l2")).train()
  fixed_z = networks.DcganObjective(TINY, seed=7).fixed_z
  for tag, ema in (("samples", False), ("samples_ema", True)):
    generator = models.load(source, ema=ema)[2]
    expected = tf.io.encode_png(summaries.image_grid(generator(fixed_z))[0])
    assert _sample_grids(str(tmp_path / "l2"), tag)[0] == expected.numpy()


@pytest.mark.slow
def test_a_warm_start_from_another_model_is_refused(image_folder, tmp_path):
  source = str(tmp_path / "source")
  train.Trainer(TINY, _train_config(image_folder, steps=1), source,
                str(tmp_path / "l1")).train()
  other = config.ModelConfig(image_size=64, base_filters=4, z_dim=8)
  with pytest.raises(InputError, match=r"init_from=.*image_size: 32 -> 64"):
    train.Trainer(other, _train_config(image_folder, init_from=source),
                  str(tmp_path / "warm"))
  assert not (tmp_path / "warm").exists()


@pytest.mark.slow  # trains more than once
def test_a_run_from_before_ema_resumes_without_it(image_folder, tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=1, ema_decay=0.0),
                run_dir, str(tmp_path / "logs")).train()
  path = os.path.join(run_dir, "config.json")
  with open(path) as f:
    payload = json.load(f)
  del payload["train"]["ema_decay"]  # as written before the field existed
  with open(path, "w") as f:
    json.dump(payload, f)
  assert config.load_run_config(run_dir)[1].ema_decay == 0.0
  metrics = train.Trainer(TINY, _train_config(image_folder, steps=2,
                                              ema_decay=0.0),
                          run_dir, str(tmp_path / "logs")).train()
  assert metrics["step"] == 2


@pytest.mark.slow  # trains more than once
def test_config_json_records_the_resolved_crop_and_augmentation(image_folder,
                                                                tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=1), run_dir,
                str(tmp_path / "logs")).train()
  saved = config.load_run_config(run_dir)[1]
  assert (saved.crop, saved.augment) == ("square", "flip")  # a folder's
  path = os.path.join(run_dir, "config.json")
  with open(path) as f:
    payload = json.load(f)
  payload["train"].update(crop="auto", augment="auto")  # as before
  with open(path, "w") as f:
    json.dump(payload, f)
  metrics = train.Trainer(TINY, _train_config(image_folder, steps=2), run_dir,
                          str(tmp_path / "logs")).train()
  assert metrics["step"] == 2
  assert config.load_run_config(run_dir)[1].crop == "square"


@pytest.mark.slow
def test_resume_is_exact_with_undecodable_files_among_the_images(
    image_folder, tmp_path):
  from test_data import _damage  # pylint: disable=g-import-not-at-top
  _damage(image_folder)
  straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
  train.Trainer(TINY, _train_config(image_folder, steps=4), straight,
                str(tmp_path / "l1")).train()
  train.Trainer(TINY, _train_config(image_folder, steps=2), resumed,
                str(tmp_path / "l2")).train()
  train.Trainer(TINY, _train_config(image_folder, steps=4), resumed,
                str(tmp_path / "l2")).train()
  for a, b in zip(_weights(straight), _weights(resumed)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _diverging(trainer):
  """Makes G's loss NaN from the next step on, as a diverged run's would be."""
  objective = trainer.objective
  original = objective.generator_loss
  objective.generator_loss = lambda logits, extras: original(
      logits, extras) * float("nan")


@pytest.mark.slow  # trains more than once
def test_a_diverged_run_stops_and_keeps_the_last_good_checkpoint(
    image_folder, tmp_path, monkeypatch):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=2), run_dir,
                str(tmp_path / "logs")).train()
  trainer = train.Trainer(TINY, _train_config(image_folder, steps=4), run_dir,
                          str(tmp_path / "logs"))
  build = trainer._build  # pylint: disable=protected-access

  def build_then_diverge():
    build()
    _diverging(trainer)

  monkeypatch.setattr(trainer, "_build", build_then_diverge)
  with pytest.raises(InputError, match=r"training diverged at step 3: "
                     r"g_loss is nan; the last good checkpoint ckpt-2 is kept"):
    trainer.train()
  state = tf.train.get_checkpoint_state(config.checkpoint_dir(run_dir))
  assert os.path.basename(state.model_checkpoint_path) == "ckpt-2"


@pytest.mark.slow  # trains more than once
def test_a_second_process_on_the_same_run_is_refused(image_folder, tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=1), run_dir,
                str(tmp_path / "logs")).train()
  held = train.lock_run_dir(run_dir)  # as another bin/train would
  with pytest.raises(InputError, match=r"another process \(pid \d+\) is "
                     "training this run"):
    train.Trainer(TINY, _train_config(image_folder, steps=2), run_dir,
                  str(tmp_path / "logs")).train()
  held.close()
  metrics = train.Trainer(TINY, _train_config(image_folder, steps=2), run_dir,
                          str(tmp_path / "logs")).train()
  assert metrics["step"] == 2


@pytest.mark.slow
def test_a_killed_process_leaves_no_stale_lock(tmp_path):
  import signal  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time; from tf_inpaint import train; "
       "held = train.lock_run_dir(sys.argv[1]); print('locked', flush=True); "
       "time.sleep(120)", str(tmp_path)], stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == "locked"
  with pytest.raises(InputError, match="another process"):
    train.lock_run_dir(str(tmp_path))
  holder.send_signal(signal.SIGKILL)
  holder.wait(timeout=60)
  train.lock_run_dir(str(tmp_path)).close()


@pytest.mark.slow  # trains more than once
def test_a_save_interrupted_by_a_kill_leaves_nothing_behind(image_folder,
                                                            tmp_path):
  run_dir = str(tmp_path / "run")
  train.Trainer(TINY, _train_config(image_folder, steps=2), run_dir,
                str(tmp_path / "logs")).train()
  debris = os.path.join(config.checkpoint_dir(run_dir), "ckpt-3_temp")
  os.makedirs(debris)
  with open(os.path.join(debris, "part-00000"), "wb") as f:
    f.write(b"half a checkpoint")
  metrics = train.Trainer(TINY, _train_config(image_folder, steps=3), run_dir,
                          str(tmp_path / "logs")).train()
  assert metrics["step"] == 3 and not os.path.exists(debris)


def test_a_worker_does_not_judge_a_run_dir_the_chief_is_creating(
    image_folder, tmp_path):
  """Seen under load: worker 1 read the chief's half-made dir as foreign."""
  from tf_inpaint import data  # pylint: disable=g-import-not-at-top
  train_config = _train_config(image_folder)
  source = data.open_source(train_config.dataset)
  run_dir = tmp_path / "run"
  run_dir.mkdir()
  (run_dir / (config.CONFIG_FILENAME + ".tmp")).write_text("{")
  before = sorted(os.listdir(run_dir))
  assert not train.prepare_run_dir(str(run_dir), TINY, train_config, source,
                                   write=False)
  assert sorted(os.listdir(run_dir)) == before
  with pytest.raises(InputError, match="exists and is not a run directory"):
    train.prepare_run_dir(str(run_dir), TINY, train_config, source)
