import numpy as np
import pytest
import tensorflow as tf

from conftest import fixed_networks
from tf_inpaint import config, inpaint, masks
from tf_inpaint.errors import InputError


@pytest.fixture(scope="module")
def nets():
  return fixed_networks()


@pytest.fixture(scope="module")
def target(nets):
  """Images G itself made, y = G(z*), so the right z is known to exist."""
  _, generator, _ = nets
  z_star = tf.random.stateless_uniform([4, 8], [5, 5], -0.8, 0.8)
  return z_star.numpy(), generator(z_star).numpy()


def _config(**overrides):
  values = dict(iterations=300, learning_rate=0.01, batch_size=4,
                weighting="binary")
  values.update(overrides)
  return config.InpaintConfig(**values)


def _inpainter(nets, **overrides):
  _, generator, discriminator = nets
  return inpaint.Inpainter(generator, discriminator, _config(**overrides))


def test_optimising_z_recovers_a_target_made_by_g(nets, target):
  z_star, y = target
  # A single start can end in a local minimum (mask seed 1 leaves one of
  # the four there; `restarts` exist for that): this checks the search.
  mask = masks.make_masks("random80", 4, 32, seed=0)
  start = _inpainter(nets, iterations=1).inpaint(y, mask)
  result = _inpainter(nets).inpaint(y, mask)
  assert np.all(result.contextual_loss < 0.1 * start.contextual_loss)
  # Whole-image error (hole included) far below the image's own spread.
  assert np.abs(result.generated - y).mean() < 0.01 * y.std()
  np.testing.assert_allclose(result.z, z_star, atol=0.02)
  assert np.all(np.abs(result.z) <= 1)


def test_known_pixels_are_kept_and_outputs_have_the_input_shape(nets, target):
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  result = _inpainter(nets, iterations=5).inpaint(y, mask)
  for name in ("corrupted", "generated", "overlay", "blended"):
    assert getattr(result, name).shape == y.shape
  known = np.broadcast_to(mask > 0, y.shape)
  np.testing.assert_array_equal(result.blended[known], y[known])
  np.testing.assert_array_equal(result.overlay[known], y[known])
  assert np.all(result.corrupted[~known] == -1)


def test_results_do_not_depend_on_batching(nets, target):
  _, y = target
  y5 = np.concatenate([y, y[:1]])
  mask = masks.make_masks("random80", 5, 32, seed=2)
  whole = _inpainter(nets, iterations=20, batch_size=5).inpaint(y5, mask)
  batched = _inpainter(nets, iterations=20, batch_size=2).inpaint(y5, mask)
  np.testing.assert_allclose(batched.z, whole.z, atol=1e-5)
  np.testing.assert_allclose(batched.total_loss, whole.total_loss, rtol=1e-4)


def test_restarts_keep_the_lowest_final_loss(nets, target):
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  single = _inpainter(nets, iterations=30).inpaint(y, mask)
  several = _inpainter(nets, iterations=30, restarts=4).inpaint(y, mask)
  # The first restart starts where the single run does, so the best of four
  # can only be as good or better.
  assert np.all(several.total_loss <= single.total_loss + 1e-4)
  assert np.any(several.total_loss < single.total_loss - 1e-4)


@pytest.mark.parametrize("tune_iters", [0, 3])
def test_mean_of_restarts_averages_every_restarts_fill(nets, target,
                                                       tune_iters):
  from tf_inpaint import losses  # pylint: disable=g-import-not-at-top
  _, generator, discriminator = nets
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  settings = dict(iterations=10, restarts=3, tune_iters=tune_iters)
  best = _inpainter(nets, **settings).inpaint(y, mask)
  inpainter = _inpainter(nets, combine_restarts="mean", **settings)
  mean = inpainter.inpaint(y, mask)
  np.testing.assert_array_equal(mean.z, best.z)  # the same search
  if not tune_iters:
    final_z = inpainter._search_for(12)[0]  # pylint: disable=protected-access
    fills = generator(final_z, training=False).numpy().reshape(4, 3, 32, 32, 3)
    np.testing.assert_allclose(mean.generated, fills.mean(axis=1), atol=1e-5)
  # Losses are those of the returned (averaged) fill; known pixels are kept.
  contextual = losses.contextual_loss(mean.generated, y * mask, mask).numpy()
  perceptual = losses.perceptual_loss(discriminator(mean.generated)).numpy()
  np.testing.assert_allclose(mean.contextual_loss, contextual, rtol=1e-4)
  np.testing.assert_allclose(mean.perceptual_loss, perceptual, rtol=1e-4)
  known = np.broadcast_to(mask > 0, y.shape)
  np.testing.assert_allclose(mean.blended[known], y[known], atol=1e-5)
  assert not np.allclose(mean.generated, best.generated, atol=1e-3)


def test_no_perceptual_is_lambda_zero(nets, target):
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  result = _inpainter(nets, iterations=3, lam=0.0).inpaint(y, mask)
  assert np.all(result.perceptual_loss == 0)
  np.testing.assert_allclose(result.total_loss, result.contextual_loss)
  with_prior = _inpainter(nets, iterations=3, lam=0.5).inpaint(y, mask)
  assert np.all(with_prior.perceptual_loss < 0)
  np.testing.assert_allclose(
      with_prior.total_loss,
      with_prior.contextual_loss + 0.5 * with_prior.perceptual_loss, rtol=1e-5)


def test_writes_loss_curves_and_image_panels(nets, target, tmp_path):
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  _, y = target
  writer = tf.summary.create_file_writer(str(tmp_path))
  _inpainter(nets, iterations=4, image_every=2).inpaint(
      y, masks.make_masks("center", 4, 32), writer=writer, originals=y)
  writer.close()
  events = event_accumulator.EventAccumulator(
      str(tmp_path), size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  assert {"contextual_loss", "perceptual_loss", "total_loss",
          "inpainting"} <= set(events.Tags()["tensors"])
  # Losses are reported every 10 iterations and at the last one.
  assert [e.step for e in events.Tensors("total_loss")] == [4]
  assert [e.step for e in events.Tensors("inpainting")] == [2, 4]


def _fresh_losses(nets, result, y, mask, lam=0.003):
  """The losses of `result.z` computed from scratch, as the search defines."""
  from tf_inpaint import losses  # pylint: disable=g-import-not-at-top
  _, generator, discriminator = nets
  generated = generator(result.z, training=False)
  contextual = losses.contextual_loss(generated, y * mask, mask).numpy()
  perceptual = losses.perceptual_loss(discriminator(generated)).numpy()
  return contextual, perceptual, contextual + lam * perceptual


@pytest.mark.parametrize("restarts", [1, 3])
def test_reported_losses_are_those_of_the_returned_z(nets, target, restarts):
  _, y = target
  mask = masks.make_masks("random80", 4, 32, seed=3)
  result = _inpainter(nets, iterations=30, restarts=restarts).inpaint(y, mask)
  contextual, perceptual, total = _fresh_losses(nets, result, y, mask)
  np.testing.assert_allclose(result.contextual_loss, contextual, rtol=1e-4)
  np.testing.assert_allclose(result.perceptual_loss, perceptual, rtol=1e-4)
  np.testing.assert_allclose(result.total_loss, total, rtol=1e-4)
  np.testing.assert_allclose(
      result.generated, nets[1](result.z, training=False), atol=1e-5)


def test_cosine_schedule_warms_up_then_decays_to_zero(nets, target):
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  searcher = _inpainter(nets, iterations=100, lr_schedule="cosine")
  schedule = searcher._learning_rates()  # pylint: disable=protected-access
  rates = [float(schedule[i]) for i in (0, 5, 50, 99)]
  assert len(schedule) == 100
  assert rates[0] == 0 and rates[1] == pytest.approx(0.01)
  assert 0 < rates[2] < 0.01 and rates[3] == pytest.approx(0, abs=1e-5)
  cosine = searcher.inpaint(y, mask)
  constant = _inpainter(nets, iterations=100).inpaint(y, mask)
  assert not np.allclose(cosine.z, constant.z)
  # The search still descends.
  start = _inpainter(nets, iterations=1).inpaint(y, mask)
  assert np.all(cosine.contextual_loss < 0.8 * start.contextual_loss)


def test_cosine_schedule_restarts_for_every_batch(nets, target):
  _, y = target
  y5 = np.concatenate([y, y[:1]])
  mask = masks.make_masks("random80", 5, 32, seed=2)
  whole = _inpainter(nets, iterations=20, batch_size=5,
                     lr_schedule="cosine").inpaint(y5, mask)
  batched = _inpainter(nets, iterations=20, batch_size=2,
                       lr_schedule="cosine").inpaint(y5, mask)
  np.testing.assert_allclose(batched.z, whole.z, atol=1e-5)


@pytest.mark.parametrize("tune_layers", [2, 3])  # 3: every convolution
def test_tuning_lowers_the_contextual_loss_and_keeps_known_pixels(
    nets, tune_layers):
  _, generator, _ = nets
  # Targets G cannot make exactly: G's images with a pattern added.
  y = np.clip(generator(tf.random.stateless_uniform(
      [4, 8], [9, 9], -0.8, 0.8)).numpy() + 0.3 * np.sin(
          np.arange(32) / 2.0)[None, :, None, None], -1, 1).astype(np.float32)
  mask = masks.make_masks("center", 4, 32)
  searched = _inpainter(nets, iterations=30).inpaint(y, mask)
  tuner = _inpainter(nets, iterations=30, tune_iters=30,
                     tune_learning_rate=1e-3, tune_penalty=1.0,
                     tune_layers=tune_layers)
  tuned = tuner.inpaint(y, mask)
  # Tuning the search's z without searching again gives the same result.
  from_z = tuner.fill_from(searched.z, y * mask, mask)
  for name in ("generated", "blended", "contextual_loss", "total_loss"):
    np.testing.assert_allclose(getattr(from_z, name), getattr(tuned, name),
                               rtol=1e-5, atol=1e-5)
  assert np.all(tuned.contextual_loss < 0.9 * searched.contextual_loss)
  np.testing.assert_array_equal(tuned.z, searched.z)  # z stays fixed
  known = np.broadcast_to(mask > 0, y.shape)
  np.testing.assert_array_equal(tuned.blended[known], y[known])
  contextual, _, _ = _fresh_losses(nets, searched, y, mask)
  np.testing.assert_allclose(searched.contextual_loss, contextual, rtol=1e-4)


@pytest.mark.parametrize("tune_layers", [1, 2, 3])
def test_untuned_layers_of_any_split_make_gs_own_image(nets, tune_layers):
  """Tuning starts from G itself, whichever layers it tunes."""
  _, generator, _ = nets
  tuner = _inpainter(nets, tune_layers=tune_layers).tuner
  z = tf.random.stateless_uniform([3, 8], [1, 2], -1, 1)
  prior = {index: kernel[None].numpy().repeat(3, axis=0) for index, kernel
           in tuner._prior(tune_layers).items()}  # pylint: disable=protected-access
  assert len(prior) == tune_layers
  np.testing.assert_allclose(
      tuner.images(tuner.features(z, tune_layers), prior),
      generator(z).numpy(), atol=1e-5)


def test_more_tuned_layers_than_g_has_are_refused(nets):
  with pytest.raises(InputError, match="tune_layers=4: expected 1 to 3"):
    _inpainter(nets, tune_layers=4)


@pytest.mark.slow  # inpaints more than once
def test_tuning_penalty_keeps_the_output_near_the_prior(nets, target):
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  searched = _inpainter(nets, iterations=20).inpaint(y, mask)
  distance = {}
  for penalty in (0.0, 1e4):
    tuned = _inpainter(nets, iterations=20, tune_iters=20,
                       tune_learning_rate=1e-3,
                       tune_penalty=penalty).inpaint(y, mask)
    distance[penalty] = np.abs(tuned.generated - searched.generated).mean()
  assert distance[1e4] < 0.5 * distance[0.0]


@pytest.mark.slow  # inpaints more than once
def test_tuned_results_do_not_depend_on_batching(nets, target):
  _, y = target
  y5 = np.concatenate([y, y[:1]])
  mask = masks.make_masks("random80", 5, 32, seed=2)
  settings = dict(iterations=10, tune_iters=10, tune_learning_rate=1e-3)
  whole = _inpainter(nets, batch_size=5, **settings).inpaint(y5, mask)
  batched = _inpainter(nets, batch_size=2, **settings).inpaint(y5, mask)
  np.testing.assert_allclose(batched.generated, whole.generated, atol=1e-4)
  np.testing.assert_allclose(batched.total_loss, whole.total_loss, rtol=1e-4)


def test_tuning_a_few_images_at_a_time_gives_the_same_images(
    nets, target, monkeypatch):
  """Each image's tuned copy costs memory (150 MB for all of celeba64's
  layers), so images are tuned in parts that fit a budget; the parts do not
  change the result."""
  from tf_inpaint import tuning  # pylint: disable=g-import-not-at-top
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  settings = dict(iterations=5, tune_iters=5, tune_layers=3,
                  tune_learning_rate=1e-3)
  together = _inpainter(nets, **settings)
  assert together.tuner.rows_per_part(3) >= 4
  whole = together.inpaint(y, mask)
  monkeypatch.setattr(tuning, "TUNING_MEMORY_BYTES", 1)
  apart = _inpainter(nets, **settings)
  assert apart.tuner.rows_per_part(3) == 1
  parts = apart.inpaint(y, mask)
  np.testing.assert_allclose(parts.generated, whole.generated, atol=1e-5)
  np.testing.assert_allclose(parts.total_loss, whole.total_loss, rtol=1e-5)


def test_beyond_the_paper_defaults_only_where_measured():
  tuned = {"tune_iters": inpaint.DEFAULT_TUNE_ITERS}
  paper = {"tune_iters": 0}
  # 100 iterations from the encoder's start, then 15 steps on all 4 layers:
  # 20.94 dB on the center block against 20.92 for 500 + 100 steps.
  all_layers = {"iterations": 100, "tune_iters": 15, "tune_layers": 4,
                "tune_learning_rate": 3e-4, "tune_penalty": 0.1}
  one_start = {"restarts": 1, "combine_restarts": "best"}
  mean_of_4 = {"restarts": 4, "combine_restarts": "mean"}
  expected = {
      ("celeba64", "random80"): (paper, one_start, "biharmonic", 0.25),
      ("celeba64", "pattern"): (paper, one_start, "biharmonic", 0.5),
      ("svhn32", "random80"): (paper, one_start, "biharmonic", 0.25),
      ("svhn32", "pattern"): (tuned, one_start, "biharmonic", 0.5),
      ("svhn32", "left"): (tuned, mean_of_4, "poisson", 1.0),
      ("celeba64", "center"): (all_layers, one_start, "poisson", 1.0),
      ("svhn32", "center"): (tuned, mean_of_4, "biharmonic", 1.0),
      # Anything unmeasured (a run directory, a drawn hole) is the paper's.
      ("runs/mine", "random80"): (paper, one_start, "poisson", 1.0),
      ("celeba64", "file"): (paper, one_start, "poisson", 1.0)}
  for (model, mask), (tuning, starts, blend, detail) in expected.items():
    assert inpaint.default_options(model, mask) == {
        **tuning, **starts, "blend": blend, "blend_detail": detail}


def test_a_users_exported_model_carries_its_measured_defaults(tmp_path):
  from conftest import TINY_MODEL  # pylint: disable=g-import-not-at-top
  from tf_inpaint import models  # pylint: disable=g-import-not-at-top
  run_dir, exported = str(tmp_path / "run"), str(tmp_path / "exported")
  generator, discriminator = models.build(config.ModelConfig(**TINY_MODEL))
  measured = {"center": {"tune_iters": 30, "tune_layers": 3},
              "random80": {"blend": "biharmonic", "blend_detail": 0.25}}
  import os  # pylint: disable=g-import-not-at-top
  os.makedirs(run_dir)
  config.save_run_config(run_dir, generator.config, None, measured)
  models.export_weights(generator, discriminator,
                        os.path.join(run_dir, models.WEIGHTS_FILENAME))
  models.export(run_dir, exported)
  assert inpaint.default_options(exported, "center") == {
      **inpaint.PAPER_OPTIONS, "tune_iters": 30, "tune_layers": 3}
  assert inpaint.default_options(exported, "random80")["blend_detail"] == 0.25
  assert inpaint.default_options(exported, "left") == inpaint.PAPER_OPTIONS
  # Options a config refuses are refused where they are read.
  config.save_run_config(run_dir, generator.config, None,
                         {"center": {"tune_iters": -1}})
  with pytest.raises(InputError, match=r"inpaint_defaults\['center'\] is "
                     "not a set of inpainting options"):
    inpaint.default_options(run_dir, "center")


def test_calling_inpaint_again_reuses_its_traced_search(nets, target):
  """A web page calls one Inpainter many times: the same answer every time,
  from the functions traced on the first call (no new graphs held)."""
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  inpainter = _inpainter(nets, iterations=5, lr_schedule="cosine")
  first = inpainter.inpaint(y, mask)
  for _ in range(2):
    again = inpainter.inpaint(y, mask)
    np.testing.assert_array_equal(again.z, first.z)
  _, _, step, score = inpainter._search_for(4)  # pylint: disable=protected-access
  assert step.experimental_get_tracing_count() == 1
  assert score.experimental_get_tracing_count() == 1


@pytest.mark.slow  # inpaints more than once
def test_other_options_reuse_the_traced_search_and_tuning(nets, target):
  """A page whose user changes lam, iterations, the learning rate or the
  tuning options traces nothing new, and gets what a new Inpainter gives."""
  _, y = target
  mask = masks.make_masks("center", 4, 32)
  first = _inpainter(nets, iterations=3, tune_iters=2)
  first.inpaint(y, mask)
  for options in (dict(lam=0.1, iterations=4, learning_rate=0.05),
                  dict(lr_schedule="cosine", tune_iters=3,
                       tune_learning_rate=1e-2, tune_penalty=0.5, seed=3)):
    changed = first.reconfigured(
        _config(**{**dict(iterations=3, tune_iters=2), **options}))
    reused = changed.inpaint(y, mask)
    fresh = _inpainter(nets, **{**dict(iterations=3, tune_iters=2),
                                **options}).inpaint(y, mask)
    np.testing.assert_allclose(reused.z, fresh.z, atol=1e-6)
    np.testing.assert_allclose(reused.generated, fresh.generated, atol=1e-5)
  # pylint: disable=protected-access
  _, _, step, score = first._search_for(4)
  assert step.experimental_get_tracing_count() == 1
  assert score.experimental_get_tracing_count() == 1
  [(_, _, tune_step)] = first.tuner._tunings.values()
  assert tune_step.experimental_get_tracing_count() == 1


@pytest.mark.slow
def test_early_stopping_freezes_converged_images_and_shrinks_the_batch(
    nets, target, monkeypatch):
  _, y = target
  mask = masks.make_masks("center", 4, 32, seed=0)
  options = dict(iterations=200, learning_rate=0.05, stop_window=5,
                 stop_tolerance=0.03, weighting="importance")
  shrinks = []
  shrink = inpaint._ConvergingSearch._shrink  # pylint: disable=protected-access
  monkeypatch.setattr(inpaint._ConvergingSearch, "_shrink",  # pylint: disable=protected-access
                      lambda self: shrinks.append(len(self.rows)) or
                      shrink(self))
  together = _inpainter(nets, batch_size=4, **options).inpaint(y, mask)
  assert shrinks  # converged images stopped costing time
  # Each image, searched alone (no other row to move it), stops where it
  # stopped in the batch: a row's z and Adam state move with it.
  for i in range(4):
    alone = _inpainter(nets, batch_size=1, **options).inpaint(
        y[i:i + 1], mask[i:i + 1], first_index=i)
    np.testing.assert_allclose(alone.z, together.z[i:i + 1], atol=1e-5)
  # Stopping early is not the fixed count: off, every image runs 200.
  full = _inpainter(nets, batch_size=4,
                    **{**options, "stop_tolerance": 0.0}).inpaint(y, mask)
  assert np.abs(full.z - together.z).max() > 1e-3


def test_an_early_stop_ends_where_a_shorter_search_would(nets, target):
  _, y = target
  mask = masks.make_masks("center", 4, 32, seed=0)
  # Any improvement is below a 0.99 tolerance: every image stops at the
  # second check, after 2 windows of 5 iterations.
  stopped = _inpainter(nets, iterations=100, stop_window=5,
                       stop_tolerance=0.99).inpaint(y, mask)
  short = _inpainter(nets, iterations=10).inpaint(y, mask)
  np.testing.assert_allclose(stopped.z, short.z, atol=1e-6)
  np.testing.assert_allclose(stopped.total_loss, short.total_loss, rtol=1e-5)
