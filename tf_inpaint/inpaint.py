"""Inpainter: fill holes by optimising z (Yeh et al., Sec. 3).

  z_hat = argmin_z  contextual(z) + lam * perceptual(z),   z in [-1, 1]^d
  contextual(z) = sum |W * (G(z) - y)|,   perceptual(z) = log(1 - D(G(z)))

Every image has its own z (`restarts` of them), all held in one tf.Variable
and updated together by Adam in one `@tf.function` step; G and D run in
inference mode and only z is trained. Each image's random starting z depends
on the seed and the image's index only, and a learned start (`encoder`) on the
image alone, so results do not depend on batching.
"""
import copy
import dataclasses
import sys

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tf_inpaint import blend as blend_lib
from tf_inpaint import conv_choice
from tf_inpaint import losses
from tf_inpaint import models
from tf_inpaint import precision as precision_lib
from tf_inpaint import summaries
from tf_inpaint import timing
from tf_inpaint import tuning
from tf_inpaint.config import InpaintConfig

_PANEL_IMAGES = 8
_WARMUP_FRACTION = 0.05
# Losses are copied to the host for the progress bar and TensorBoard only
# this often; the search itself needs none of them.
_REPORT_EVERY = 10


@dataclasses.dataclass
class InpaintResult:
  """Per-image outputs, arrays of N images in [-1, 1].

  Attributes:
    corrupted: the input with its holes shown black.
    generated: G(z_hat) (with combine_restarts=mean, the restarts' mean).
    overlay: M * y + (1 - M) * G(z_hat) (eq. 5).
    blended: the final image by the configured blend (eq. 6 for poisson).
    z: the chosen latent vectors (N, z_dim): the best restart's.
    contextual_loss, perceptual_loss, total_loss: the losses of the
      returned `generated` (N,).
  """
  corrupted: np.ndarray
  generated: np.ndarray
  overlay: np.ndarray
  blended: np.ndarray
  z: np.ndarray
  contextual_loss: np.ndarray
  perceptual_loss: np.ndarray
  total_loss: np.ndarray


# Per-image tuning steps of `ours_tuned` when --tune_iters is not given.
DEFAULT_TUNE_ITERS = 100
# What a model without measured defaults for a mask gets: the paper's method.
PAPER_OPTIONS = {"tune_iters": 0, "restarts": 1, "combine_restarts": "best",
                 "blend": "poisson", "blend_detail": 1.0}


def default_options(model: str, mask: str) -> dict:
  """The InpaintConfig fields `bin/inpaint` sets for a model and mask when
  their flags are not given: the options measured for that mask and saved
  with the model (config.json's `inpaint_defaults`: beyond-the-paper options
  are defaults only where they raised hole PSNR on validation images), else
  the paper's."""
  measured = models.inpaint_defaults(model).get(mask, {})
  return {**PAPER_OPTIONS, **measured}


def show_holes(images, masks):
  """The corrupted image as a person sees it: missing pixels black (-1)."""
  return masks * images - (1.0 - masks)


class Inpainter:
  """Fills the holes of images with a trained generator and discriminator."""

  def __init__(self, generator: keras.Model, discriminator: keras.Model,
               config: InpaintConfig = InpaintConfig(),
               progress: bool = False, encoder: keras.Model | None = None,
               frozen: bool = False):
    """
    Args:
      generator, discriminator: the trained DCGAN.
      config: the search's settings.
      progress: show a progress bar (or log lines when not on a terminal).
      encoder: a z encoder trained for this generator: each image's first
        start is then E(image, mask) instead of a random z.
      frozen: G and D are already private copies from `models.frozen_copy`
        (one loaded model's Inpainters share them; a copy per Inpainter
        costs about 30 MB that TensorFlow does not give back), in the
        config's precision.
    Raises:
      InputError: if `encoder` was trained for another generator.
    """
    if encoder is not None:
      models.check_encoder_fits(encoder.config, generator, "encoder")
    config = precision_lib.resolved(config)
    # Private frozen copies: faster, and the caller's networks stay untouched.
    self.generator, self.discriminator = (
        (generator, discriminator) if frozen
        else models.frozen_copy(generator, discriminator, config.precision))
    self.encoder = encoder
    self.tuner = tuning.GeneratorTuner(self.generator, self.discriminator,
                                       config, self._image_losses)
    self.config = config
    self.progress = progress
    self.z_dim = generator.config.z_dim
    self._searches = {}  # see `_search_for`; shared with `reconfigured` copies
    # Seconds in the encoder, the search, tuning and blending, summed over
    # calls (and `reconfigured` copies): where a command's time went.
    self.stopwatch = timing.Stopwatch()

  def reconfigured(self, config: InpaintConfig,
                   progress: bool | None = None) -> "Inpainter":
    """This Inpainter with other options, sharing its networks and traced
    functions: a page whose user changes the options builds nothing new for
    shapes it has seen (memory stays flat). Another precision needs other
    networks: a new Inpainter then."""
    config = precision_lib.resolved(config)
    if config.precision != self.config.precision:
      return Inpainter(self.generator, self.discriminator, config,
                       self.progress if progress is None else progress,
                       self.encoder)
    other = copy.copy(self)  # shallow: the same G, D, encoder and searches
    other.config = config
    other.progress = self.progress if progress is None else progress
    other.tuner = self.tuner.reconfigured(config)
    return other

  def initial_z(self, image_indices, images=None, masks=None) -> tf.Tensor:
    """(len(image_indices) * restarts, z_dim) starting points, image-major.

    Random starts depend on the seed and the image's index only; with an
    encoder, the first start of each image is E(image, mask) instead.
    """
    cfg = self.config
    starts = tf.stack([
        tf.random.stateless_uniform([cfg.restarts, self.z_dim],
                                    [cfg.seed, int(i)], -1.0, 1.0)
        for i in image_indices])
    if self.encoder is not None:
      with self.stopwatch.phase("encoder"):
        learned = self.encoder(images * masks, masks, training=False)
      starts = tf.concat([learned[:, None], starts[:, 1:]], axis=1)
    return tf.reshape(starts, [-1, self.z_dim])

  def _search_for(self, rows: int):
    """(z, optimizer state, step, score) for `rows` rows of z.

    Built once per shape, Adam beta1 and use of D, and kept (by `reconfigured`
    copies too): a web page or a Python loop calling `inpaint` again reuses
    the traced functions instead of tracing (and holding) new ones. lam and
    the learning rate are inputs of the step, not constants of its graph.
    The optimizer's state is reset before every batch.
    """
    cfg = self.config
    key = (rows, cfg.beta1, cfg.lam > 0)
    if key not in self._searches:
      # Before tracing; measured at the configured batch, so that the choice
      # (and every result) is the same however many images a call gets.
      conv_choice.choose([self.generator, self.discriminator],
                         cfg.batch_size * cfg.restarts, train_kernels=False,
                         conv_impl=cfg.conv_impl)
      z = tf.Variable(tf.zeros([rows, self.z_dim]), name="z")
      optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta1)
      optimizer.build([z])
      optimizer_state = [v for v in optimizer.variables
                         if not v.path.endswith("learning_rate")]
      losses_of_z = lambda z, corrupted, weights, lam: self._image_losses(
          self.generator(z, training=False), corrupted, weights, lam,
          perceptual=key[2])
      self._searches[key] = (z, optimizer_state,
                             self._make_step(z, optimizer, losses_of_z),
                             tf.function(losses_of_z, jit_compile=False))
    return self._searches[key]

  def _image_losses(self, generated, corrupted, weights, lam, perceptual):
    """Per-image contextual, perceptual and total loss of `generated`.

    `perceptual=False` (lam = 0, the Fig. 2 ablation) skips the pass through D.
    """
    contextual = losses.contextual_loss(generated, corrupted, weights)
    if perceptual:
      perceptual = losses.perceptual_loss(
          self.discriminator(generated, training=False))
    else:
      perceptual = tf.zeros_like(contextual)
    return contextual, perceptual, contextual + lam * perceptual

  @staticmethod
  def _make_step(z: tf.Variable, optimizer, losses_of_z):
    """One Adam step on every row of z; returns the losses before it."""

    @tf.function(jit_compile=False)
    def step(corrupted, weights, lam, learning_rate):
      optimizer.learning_rate = learning_rate
      with tf.GradientTape() as tape:
        contextual, perceptual, total = losses_of_z(z, corrupted, weights, lam)
        # Images are independent: the sum's gradient for a row of z is that
        # image's own gradient.
        objective = tf.reduce_sum(total)
      optimizer.apply_gradients([(tape.gradient(objective, z), z)])
      z.assign(tf.clip_by_value(z, -1.0, 1.0))
      return contextual, perceptual, total

    return step

  def _learning_rates(self) -> list:
    """The z learning rate of every iteration, as scalar tensors."""
    cfg = self.config
    if cfg.lr_schedule == "constant":
      return [tf.constant(cfg.learning_rate)] * cfg.iterations
    warmup = max(1, round(_WARMUP_FRACTION * cfg.iterations))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, cfg.iterations - warmup),
        warmup_target=cfg.learning_rate, warmup_steps=warmup)
    return [tf.cast(schedule(i), tf.float32) for i in range(cfg.iterations)]

  def inpaint(self, images, masks, writer=None, originals=None,
              on_progress=None, first_index: int = 0) -> InpaintResult:
    """Inpaints `images` (N, S, S, C) with `masks` (N, S, S, 1), 1 = known.

    Args:
      images: inputs in [-1, 1]; their missing pixels are never read.
      masks: 1 = known pixel, 0 = missing.
      writer: optional tf.summary writer for loss curves and image panels.
      originals: optional uncorrupted images, shown in the panels.
      on_progress: optional callable, given the fraction of the search done
        (0 to 1) every few iterations (a web page's progress bar).
      first_index: the index of `images[0]` in a run taken in parts: random
        starts and TensorBoard steps then match those of one call on all.
    """
    cfg = self.config
    images = np.asarray(images, np.float32)
    masks = np.asarray(masks, np.float32)
    count = len(images)
    batch = min(cfg.batch_size, count)
    z, optimizer_state, step, score = self._search_for(batch * cfg.restarts)
    parts = []
    total_steps = -(-count // batch) * cfg.iterations
    report = on_progress and (lambda done: on_progress(done / total_steps))
    for start in range(0, count, batch):
      real = min(batch, count - start)
      # The last batch is padded by repeating its last image; padded rows are
      # optimised independently and dropped.
      take = np.minimum(np.arange(start, start + batch), count - 1)
      z.assign(self.initial_z(take + first_index, images[take], masks[take]))
      for variable in optimizer_state:
        variable.assign(tf.zeros_like(variable))
      with self.stopwatch.phase("search"):
        best_z, averaged_z = self._optimise_batch(
            step, score, z, optimizer_state, images[take], masks[take], real,
            (first_index + start) // cfg.batch_size, writer,
            None if originals is None else np.asarray(originals)[take],
            report)
      parts.append(self._outputs(best_z, images[take], masks[take], real,
                                 averaged_z))
    return InpaintResult(**{
        name: np.concatenate([part[name] for part in parts])
        for name in parts[0]})

  def _optimise_batch(self, step, score, z, optimizer_state, images, masks,
                      real, batch_index, writer, originals, report=None):
    """Searches one batch's z; returns each image's best z, and with
    combine_restarts=mean every restart's (else None)."""
    cfg = self.config
    repeat = lambda a: tf.repeat(a, cfg.restarts, axis=0)
    known = tf.constant(images * masks)
    known_weights = losses.context_weights(tf.constant(masks), cfg.weighting,
                                           cfg.window_size)
    corrupted, weights = repeat(known), repeat(known_weights)
    # A live bar on a terminal; in a log file, a line every 10 %.
    progbar = keras.utils.Progbar(
        cfg.iterations, verbose=int(self.progress and sys.stdout.isatty()),
        stateful_metrics=["contextual", "perceptual", "total"],
        unit_name="iteration")
    log_every = max(1, cfg.iterations // 10)
    real_rows = real * cfg.restarts
    lam = tf.constant(cfg.lam, tf.float32)
    learning_rates = self._learning_rates()
    search = _ConvergingSearch(self._search_for, z, optimizer_state, step,
                               corrupted, weights, real_rows,
                               cfg.stop_tolerance)
    for iteration in range(1, cfg.iterations + 1):
      step_losses = search.step(lam, learning_rates[iteration - 1])
      done = (cfg.stop_tolerance > 0 and iteration % cfg.stop_window == 0
              and search.converged(step_losses[2]))
      last = iteration == cfg.iterations or done
      global_step = batch_index * cfg.iterations + iteration
      if writer is not None and (iteration % cfg.image_every == 0 or last):
        search.write_back()
        with writer.as_default():
          self._write_panel(images, masks, originals, z, global_step)
      logged = self.progress and not sys.stdout.isatty() and (
          iteration % log_every == 0 or last)
      if not (logged or last or iteration % _REPORT_EVERY == 0):
        progbar.update(iteration)
        continue
      if report:
        report(global_step)
      means = {name: float(tf.reduce_mean(value[:search.real_rows]))
               for name, value in zip(("contextual", "perceptual", "total"),
                                      step_losses)}
      progbar.update(iteration, list(means.items()))
      if logged:
        logging.info("batch %d, iteration %d/%d: contextual %.3f  perceptual "
                     "%.4f  total %.3f", batch_index + 1, iteration,
                     cfg.iterations, means["contextual"], means["perceptual"],
                     means["total"])
      if writer is not None:
        with writer.as_default():
          summaries.write_scalars({f"{name}_loss": value
                                   for name, value in means.items()},
                                  global_step)
      if done:
        logging.info("batch %d: every image converged by iteration %d",
                     batch_index + 1, iteration)
        break
    search.write_back()
    # A step returns the losses of z before its update: score the final z,
    # which is what is returned, and keep per image the best restart.
    total = score(z, corrupted, weights, lam)[2]
    best = tf.argmin(tf.reshape(total, [-1, cfg.restarts]), axis=1,
                     output_type=tf.int32) + tf.range(
                         tf.shape(total)[0] // cfg.restarts) * cfg.restarts
    return (tf.gather(z, best),
            tf.identity(z) if cfg.combine_restarts == "mean" else None)

  def fill_from(self, z, images, masks) -> InpaintResult:
    """The outputs for given latents `z` (N, z_dim), one per image, with no
    search: G(z), tuned per image first when the config says so. A benchmark
    tunes one search's z with many settings this way."""
    images = np.asarray(images, np.float32)
    masks = np.asarray(masks, np.float32)
    batch = self.config.batch_size
    parts = [self._outputs(tf.constant(z[i:i + batch], tf.float32),
                           images[i:i + batch], masks[i:i + batch],
                           len(images[i:i + batch]))
             for i in range(0, len(images), batch)]
    return InpaintResult(**{
        name: np.concatenate([part[name] for part in parts])
        for name in parts[0]})

  def _outputs(self, z, images, masks, real, averaged_z=None) -> dict:
    """InpaintResult fields for the first `real` rows of `images` filled
    from their chosen `z`: tuned first if tune_iters, scored, blended.
    `averaged_z`: k rows per image whose fills are averaged instead
    (combine_restarts=mean); `z` is then only what the result reports."""
    cfg = self.config
    known = tf.constant(images * masks)
    known_weights = losses.context_weights(tf.constant(masks), cfg.weighting,
                                           cfg.window_size)
    fill_z = z if averaged_z is None else averaged_z
    per_image = fill_z.shape[0] // len(images)
    repeat = lambda a: tf.repeat(a, per_image, axis=0)
    if cfg.tune_iters:
      with self.stopwatch.phase("tuning"):
        generated = self.tuner.tune(fill_z, repeat(known),
                                    repeat(known_weights))
        generated.numpy()  # the tuning's work belongs to this phase
    else:
      generated = self.generator(fill_z, training=False)
    generated = tf.reduce_mean(tf.reshape(
        generated, [len(images), per_image, *generated.shape[1:]]), axis=1)
    scores = self._image_losses(generated, known, known_weights,
                                tf.constant(cfg.lam, tf.float32),
                                perceptual=cfg.lam > 0)
    generated = generated.numpy()
    overlay = blend_lib.overlay(images, generated, masks)
    with self.stopwatch.phase("blending"):
      blended = blend_lib.blend(images[:real] * masks[:real],
                                generated[:real], masks[:real], cfg.blend,
                                cfg.blend_detail)
    return {
        "corrupted": show_holes(images, masks)[:real],
        "generated": generated[:real],
        "overlay": overlay[:real],
        "blended": blended,
        "z": z.numpy()[:real],
        **{name: value.numpy()[:real] for name, value in zip(
            ("contextual_loss", "perceptual_loss", "total_loss"), scores)},
    }

  def _write_panel(self, images, masks, originals, z, step):
    """Rows of (original,) corrupted, G(z), blended for the first images."""
    cfg = self.config
    shown = min(_PANEL_IMAGES, len(images))
    rows = np.arange(shown) * cfg.restarts  # first restart of each image
    generated = self.generator(tf.gather(z, rows), training=False).numpy()
    corrupted = images[:shown] * masks[:shown]
    columns = [show_holes(images[:shown], masks[:shown]), generated,
               blend_lib.blend(corrupted, generated, masks[:shown], cfg.blend,
                               cfg.blend_detail)]
    if originals is not None:
      columns.insert(0, originals[:shown])
    tiles = np.stack(columns, axis=1).reshape(-1, *images.shape[1:])
    tf.summary.image("inpainting", summaries.image_grid(
        tiles, columns=len(columns)), step=step)


class _ConvergingSearch:
  """The z search of one batch, which stops searching the rows (images and
  restarts) that have converged (`stop_tolerance`).

  A row has converged when its total loss fell by less than the tolerance,
  relative, over the last `stop_window` iterations; its z is kept as it was
  then. Converged rows cost nothing once at most half of the rows are left:
  the rest move to a smaller search (the next power of two, so few sizes are
  traced), carrying their z and Adam state. Padding rows of a last, short
  batch count as converged from the start. With tolerance 0 every row runs
  every iteration (the paper).
  """

  def __init__(self, search_for, z, optimizer_state, step, corrupted,
               weights, real_rows: int, tolerance: float):
    self._search_for = search_for
    self.full_z = z  # the batch's z; converged rows are written here
    self.z, self.state, self._step = z, optimizer_state, step
    self.corrupted, self.weights = corrupted, weights
    self.tolerance = tolerance
    self.rows = np.arange(z.shape[0])  # which row of full_z each row is
    self.real_rows = real_rows  # rows before these are real images
    self.active = self.rows < real_rows
    self.previous = None
    self.stopped = {}  # row of full_z -> its z when it converged

  def step(self, lam, learning_rate):
    return self._step(self.corrupted, self.weights, lam, learning_rate)

  def converged(self, totals) -> bool:
    """Marks the rows that stopped improving; True when none is left."""
    totals = totals.numpy()
    if self.previous is not None:
      gain = (self.previous - totals) / np.maximum(np.abs(self.previous),
                                                   1e-8)
      stopped = self.active & (gain < self.tolerance)
      if stopped.any():
        self.stopped.update(zip(self.rows[stopped],
                                tf.boolean_mask(self.z, stopped).numpy()))
        self.active &= ~stopped
    self.previous = totals
    if not self.active.any():
      return True
    if self.active.sum() <= len(self.rows) // 2:
      self._shrink()
    return False

  def write_back(self) -> None:
    """Puts every row's z into the batch's z: the searching rows' current
    one, the converged rows' from when they converged."""
    if self.z is not self.full_z and self.active.any():
      self.full_z.scatter_nd_update(self.rows[self.active][:, None],
                                    tf.boolean_mask(self.z, self.active))
    if self.stopped:
      self.full_z.scatter_nd_update(
          np.array(list(self.stopped))[:, None],
          np.stack(list(self.stopped.values())))

  def _shrink(self) -> None:
    """Moves the searching rows to a search of the next power of two."""
    keep = np.flatnonzero(self.active)
    size = 1 << int(np.ceil(np.log2(len(keep))))
    take = np.concatenate([keep, np.repeat(keep[-1:], size - len(keep))])
    z, state, step, _ = self._search_for(size)
    z.assign(tf.gather(self.z, take))
    for new, old in zip(state, self.state):
      new.assign(old if len(old.shape) == 0 else tf.gather(old, take))
    self.z, self.state, self._step = z, state, step
    self.corrupted = tf.gather(self.corrupted, take)
    self.weights = tf.gather(self.weights, take)
    self.rows, self.previous = self.rows[take], self.previous[take]
    self.active = np.arange(size) < len(keep)  # the copies only repeat one
    self.real_rows = len(keep)
