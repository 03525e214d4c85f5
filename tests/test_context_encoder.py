"""Context Encoder: network, loss, training masks, training and evaluation."""
import json

import numpy as np
import pytest
import tensorflow as tf

from commands import run_command
from tf_inpaint import config, context_encoder, data, evaluate, masks, models
from tf_inpaint import train
from tf_inpaint.errors import InputError


def _config(family="center", image_size=32, base_filters=4):
  return config.ModelConfig(image_size=image_size, base_filters=base_filters,
                            architecture="context_encoder",
                            mask_family=family)


@pytest.mark.parametrize("image_size", [32, 64])
def test_shapes_and_output_range(image_size):
  model, discriminator = models.build(_config(image_size=image_size))
  images = tf.random.uniform((2, image_size, image_size, 3), -1, 1)
  mask = masks.make_masks("center", 2, image_size)
  predictions = model(images, mask)
  assert predictions.shape == images.shape
  assert -1 <= float(tf.reduce_min(predictions)) <= float(
      tf.reduce_max(predictions)) <= 1
  assert discriminator(predictions).shape == (2, 1)


def test_channelwise_dense_has_one_dense_layer_per_channel():
  model, _ = models.build(_config(image_size=64, base_filters=16))
  channels, positions = 16 * 8, 4 * 4  # the 4x4x128 bottleneck
  assert model.channelwise.count_params() == (channels * positions**2 +
                                              channels * positions)
  # Channels do not mix: changing one channel changes only that channel.
  layer = model.channelwise
  x = tf.random.normal((1, 4, 4, channels))
  changed = tf.tensor_scatter_nd_add(x, [[0, 1, 2, 5]], [1.0])
  difference = (layer(changed) - layer(x)).numpy()
  assert np.abs(difference[..., 5]).sum() > 0
  assert np.abs(np.delete(difference, 5, axis=-1)).max() == 0


def test_the_hole_is_ignored_and_filled_with_the_fill_colour():
  model, _ = models.build(_config())
  mask = masks.make_masks("center", 2, 32)
  images = tf.random.uniform((2, 32, 32, 3), -1, 1)
  other_holes = images * mask + (1 - mask) * 0.7
  np.testing.assert_allclose(model(images, mask), model(other_holes, mask),
                             atol=1e-6)


def test_reconstruction_loss_weights_the_overlap_band_ten_times():
  mask = np.ones((1, 8, 8, 1), np.float32)
  mask[:, 3:5, 3:5] = 0  # 4 missing pixels
  images = np.zeros((1, 8, 8, 3), np.float32)
  band = context_encoder.overlap_band(mask, 1).numpy()
  assert band.sum() == 16 - 4  # the ring of known pixels around the hole
  in_hole = images.copy()
  in_hole[0, 3, 3] = 1.0
  in_band = images.copy()
  in_band[0, 2, 2] = 1.0
  far = images.copy()
  far[0, 0, 0] = 1.0
  loss = lambda p: float(context_encoder.reconstruction_loss(p, images, mask,
                                                             1)[0])
  assert loss(in_hole) == pytest.approx(3 / 12)  # 3 values / 12 missing
  assert loss(in_band) == pytest.approx(10 * loss(in_hole))
  assert loss(far) == 0


def test_training_masks_come_from_the_family_and_the_seed():
  center = context_encoder.MaskSampler("center", 32, seed=0)
  np.testing.assert_array_equal(center(3, tf.constant([1, 2], tf.int64)),
                                masks.make_masks("center", 3, 32))
  sampler = context_encoder.MaskSampler("random", 32, seed=0)
  kinds = set()
  for step in range(12):
    seed = tf.constant([7, step], tf.int64)
    drawn = sampler(4, seed).numpy()
    np.testing.assert_array_equal(drawn, sampler(4, seed))
    missing = (1 - drawn).reshape(4, -1).sum(axis=1)
    if np.all(missing == round(0.8 * 32 * 32)):
      kinds.add("random80")
    else:
      assert np.all(missing == round(0.25 * 32 * 32)), missing
      kinds.add("pattern")
  assert kinds == {"random80", "pattern"}


@pytest.fixture(scope="module")
def solid_colours(tmp_path_factory):
  """Images of one colour each: the hole is predictable from its context."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  folder = tmp_path_factory.mktemp("solid")
  rng = np.random.default_rng(0)
  for i in range(16):
    colour = rng.integers(0, 256, 3).astype(np.uint8)
    Image.fromarray(np.tile(colour, (32, 32, 1))).save(folder / f"{i:02d}.png")
  return str(folder)


def _train(folder, run_dir, steps, family="center"):
  return train.Trainer(
      _config(family),
      config.TrainConfig(dataset=f"folder:{folder}", batch_size=8, steps=steps,
                         learning_rate=1e-2, augment="none",
                         summary_every=1, image_every=5, checkpoint_every=5),
      run_dir, run_dir + "_logs").train()


@pytest.mark.slow
def test_training_reduces_the_masked_l2_and_keeps_the_fill(solid_colours,
                                                           tmp_path):
  images, _ = data.read_images(f"folder:{solid_colours}", 32, "none")
  mask = masks.make_masks("center", len(images), 32)

  def masked_l2(run_dir):
    _, _, model, discriminator = models.load(run_dir)
    assert discriminator is None  # inference does not need it
    return float(tf.reduce_mean(context_encoder.reconstruction_loss(
        model(images, mask), images, mask, 1))), model.fill.numpy()

  run_dir = str(tmp_path / "run")
  metrics = _train(solid_colours, run_dir, steps=1)
  assert np.isfinite(metrics["reconstruction"])
  before, fill = masked_l2(run_dir)
  np.testing.assert_allclose(fill, images.mean(axis=(0, 1, 2)), atol=0.02)
  _train(solid_colours, run_dir, steps=40)  # resumes the same run
  after, resumed_fill = masked_l2(run_dir)
  assert after < 0.75 * before, (before, after)
  np.testing.assert_array_equal(resumed_fill, fill)
  saved = config.load_run_config(run_dir)[0]
  assert (saved.architecture, saved.mask_family) == ("context_encoder",
                                                     "center")


@pytest.fixture(scope="module")
def tiny_runs(tiny_run, solid_colours, tmp_path_factory):
  """The shared tiny DCGAN, and a context encoder trained 2 steps."""
  root, dcgan = tiny_run
  center = str(tmp_path_factory.mktemp("ce_eval") / "ce_center")
  _train(solid_colours, center, steps=2)
  return root, dcgan, center


@pytest.mark.slow
def test_evaluate_fills_holes_with_the_matching_context_encoder(tiny_runs):
  root, dcgan, center = tiny_runs
  _, _, generator, discriminator = models.load(dcgan)
  _, _, model, _ = models.load(center)
  images, _ = data.read_images(f"folder:{root / 'test'}", 32, "none")
  rows, evaluations = evaluate.evaluate(
      images, ["center"], ["context_encoder"], generator, discriminator,
      context_encoders=[model], progress=lambda _: None)
  assert [(r["method"], r["mask"], r["n"]) for r in rows] == [
      ("context_encoder", "center", 4)]
  filled = evaluations[0].outputs["context_encoder"]
  mask = evaluations[0].masks
  np.testing.assert_allclose(filled * mask, images * mask, atol=1e-6)
  prediction = model(images, mask).numpy()
  np.testing.assert_allclose(filled * (1 - mask), prediction * (1 - mask),
                             atol=1e-6)
  with pytest.raises(InputError, match="mask=random80: no context encoder"):
    evaluate.evaluate(images, ["center", "random80"], ["context_encoder"],
                      generator, discriminator, context_encoders=[model])


def _evaluate(root, dcgan, center, cwd, outdir, masks_flag):
  return run_command(
      "evaluate", f"--model={dcgan}", f"--images=folder:{root / 'test'}",
      f"--masks={masks_flag}", "--methods=biharmonic,context_encoder",
      f"--context_encoders={center}", f"--outdir={outdir}", cwd=cwd)


@pytest.mark.slow
def test_bin_evaluate_reports_the_context_encoder(tiny_runs, tmp_path):
  root, dcgan, center = tiny_runs
  result = _evaluate(root, dcgan, center, tmp_path, "eval", "center")
  assert result.returncode == 0, result.stderr
  report = json.loads((tmp_path / "eval" / "results.json").read_text())
  assert {(r["method"], r["mask"]) for r in report["results"]} == {
      ("biharmonic", "center"), ("context_encoder", "center")}
  assert report["context_encoders"] == [center]
  assert "context_encoder" in (tmp_path / "eval" / "results.md").read_text()


@pytest.mark.slow
def test_bin_evaluate_refuses_a_mask_outside_the_family(tiny_runs, tmp_path):
  root, dcgan, center = tiny_runs
  result = _evaluate(root, dcgan, center, tmp_path, "mismatch",
                     "center,pattern")
  assert result.returncode == 2
  errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and "mask=pattern: no context encoder" in errors[0]
  assert "'center' (center)" in errors[0]
  assert not (tmp_path / "mismatch").exists()


@pytest.mark.slow
def test_bin_inpaint_refuses_a_context_encoder(tiny_runs, tmp_path):
  root, _, center = tiny_runs
  result = run_command("inpaint", f"--model={center}",
                       f"--images={root / 'test'}", "--outdir=out",
                       cwd=tmp_path)
  assert result.returncode == 2
  assert "error: model=" in result.stderr and "context_encoder" in result.stderr
  assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_export_keeps_only_what_inference_needs(tiny_runs, tmp_path):
  root, _, center = tiny_runs
  models.export(center, str(tmp_path / "bundle"))
  with np.load(tmp_path / "bundle" / models.WEIGHTS_FILENAME) as saved:
    assert saved.files and all(k.startswith("generator/")
                               for k in saved.files)
  _, _, exported, _ = models.load(str(tmp_path / "bundle"))
  _, _, original, _ = models.load(center)
  images, _ = data.read_images(f"folder:{root / 'test'}", 32, "none")
  mask = masks.make_masks("pattern", 4, 32)
  np.testing.assert_allclose(exported(images, mask), original(images, mask),
                             atol=2e-2)  # float16 storage


@pytest.mark.slow
@pytest.mark.parametrize("flags, message", [
    (["--model=context_encoder"], "needs a mask family"),
    (["--mask=center"], "is not trained on one mask family"),
])
def test_bin_train_checks_the_mask_family(image_folder, tmp_path, flags,
                                          message):
  result = run_command("train", f"--dataset=folder:{image_folder}",
                       "--image_size=32", *flags, cwd=tmp_path)
  assert result.returncode == 2
  assert message in result.stderr
  assert not (tmp_path / "runs").exists()


def test_progress_panel_pairs_each_input_with_its_completion():
  model_config = _config()
  model, _ = models.build(model_config)
  model.fill.assign([0.25, -0.5, 0.75])
  images = tf.random.uniform((32, 32, 32, 3), -1, 1)
  objective = context_encoder.ContextEncoderObjective(model_config, seed=0)
  objective.prepare(model, tf.data.Dataset.from_tensors(images), fresh=False)
  samples = objective.samples(model).numpy()
  mask = masks.make_masks("center", 1, 32)[0]
  assert samples.shape == (32, 32, 32, 3)  # 16 images, each twice
  np.testing.assert_allclose(samples[0] * (1 - mask),
                             (1 - mask) * np.array([0.25, -0.5, 0.75]))
  np.testing.assert_allclose(samples[1] * (1 - mask),
                             model(images[:1], mask[None])[0] * (1 - mask),
                             atol=1e-6)
  np.testing.assert_allclose(samples[1] * mask, images[0] * mask)
