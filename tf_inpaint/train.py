"""Trainer: the DCGAN training loop under a `tf.distribute` strategy.

One `@tf.function` step computes G(z) once and updates G and D from two
gradient tapes over the same forward pass (TensorFlow's DCGAN tutorial), with
per-example losses averaged over the global batch. A run directory holds
`config.json` and the checkpoints; running again with the same directory
resumes exactly: weights, optimizer state, step, data order and noise.
"""
import dataclasses
import fcntl
import math
import os
import shutil
import signal
import sys
import tempfile
import time

import keras
import tensorflow as tf
from absl import logging
from tensorboard.plugins.hparams import api as hparams_api

from tf_inpaint import checkpoints
from tf_inpaint import cluster
from tf_inpaint import config as config_lib
from tf_inpaint import conv_choice
from tf_inpaint import data
from tf_inpaint import diff_augment
from tf_inpaint import losses
from tf_inpaint import models
from tf_inpaint import outputs
from tf_inpaint import precision as precision_lib
from tf_inpaint import summaries
from tf_inpaint.errors import InputError, WorkerLostError

_LOCK_FILENAME = ".lock"
_CHECKPOINTS_KEPT = 3


def check_warm_start_source(source: str,
                            model_config: config_lib.ModelConfig) -> None:
  """Refuses an `init_from` whose networks differ from the run's."""
  source_config, _ = models.load_config(source, "init_from")
  differences = config_lib.config_differences(source_config, model_config)
  if differences:
    raise InputError(f"init_from={source}: a different model "
                     f"({'; '.join(differences)}); warm starts need the same "
                     "architecture and sizes")


def lock_run_dir(run_dir: str):
  """Takes the run's lock for this process; InputError if another holds it.

  An flock is released by the kernel when its process ends, however it
  ends, so a killed run never leaves a stale lock behind.
  Returns:
    the open lock file; closing it releases the lock.
  """
  handle = open(os.path.join(run_dir, _LOCK_FILENAME), "a+")
  try:
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError as e:
    handle.seek(0)
    owner = handle.read().strip() or "?"
    handle.close()
    raise InputError(f"run_dir={run_dir}: another process (pid {owner}) is "
                     "training this run; wait for it or stop it") from e
  handle.seek(0)
  handle.truncate()
  handle.write(f"{os.getpid()}\n")
  handle.flush()
  return handle


def remove_checkpoint_debris(directory: str) -> None:
  """Removes `ckpt-N_temp` folders of a save that a kill interrupted.

  Called under the run's lock, so no save of ours is under way.
  """
  if os.path.isdir(directory):
    for name in os.listdir(directory):
      path = os.path.join(directory, name)
      if name.endswith("_temp") and os.path.isdir(path):
        logging.warning("Removing %s, left by an interrupted save", path)
        shutil.rmtree(path, ignore_errors=True)


def resolve_precision(run_dir: str, requested: str) -> str:
  """What `requested` means for this run: `auto` keeps the precision a run
  being resumed started with (float32 for runs older than the setting),
  anything else is checked against the machine (`precision.resolve`)."""
  if requested == "auto" and os.path.isfile(
      os.path.join(run_dir, config_lib.CONFIG_FILENAME)):
    _, saved = config_lib.load_run_config(run_dir)
    if saved is not None:
      return saved.precision
  return precision_lib.resolve(requested)


def default_log_dir(run_dir: str) -> str:
  """tensorboard_logs/<run name>, the panel a user opens by run name."""
  return os.path.join("tensorboard_logs",
                      os.path.basename(os.path.normpath(run_dir)))


def prepare_run_dir(run_dir: str, model_config: config_lib.ModelConfig,
                    train_config: config_lib.TrainConfig,
                    source: data.ImageSource, write: bool = True) -> bool:
  """Creates a run directory or checks that it holds this same run.

  A config.json written before `auto` crops and augmentations were resolved
  is compared as it resolves against `source` today. With `write=False` (a
  worker that is not the chief) only a config.json already there is checked.

  Returns:
    True if the directory was created now (so a failure may remove it).
  Raises:
    InputError: if the directory holds something else, or a run whose
      configuration differs in anything but its length and cadence.
  """
  config_path = os.path.join(run_dir, config_lib.CONFIG_FILENAME)
  if os.path.isfile(config_path):
    saved_model, saved_train = config_lib.load_run_config(run_dir)
    differences = config_lib.config_differences(saved_model, model_config)
    if saved_train is not None:
      differences += config_lib.config_differences(
          data.resolve_auto(source, saved_train), train_config,
          ignore=config_lib.TrainConfig.RESUMABLE_FIELDS)
    if differences:
      raise InputError(f"run_dir={run_dir}: holds a run with a different "
                       f"config.json ({'; '.join(differences)}); use another "
                       "--run_dir or the same settings")
    if write:  # keeps the inpainting defaults measured for the run
      config_lib.save_run_config(run_dir, model_config, train_config,
                                 config_lib.load_inpaint_defaults(run_dir))
    return False
  if not write:
    # The chief may be creating the directory right now (config.json.tmp
    # not yet renamed); it refuses a foreign directory itself, and then this
    # worker stops with it.
    return False
  if os.path.exists(run_dir) and (not os.path.isdir(run_dir)
                                  or os.listdir(run_dir)):
    raise InputError(f"run_dir={run_dir}: exists and is not a run directory "
                     f"(no {config_lib.CONFIG_FILENAME}); refusing to write "
                     "into it")
  os.makedirs(run_dir, exist_ok=True)
  config_lib.save_run_config(run_dir, model_config, train_config)
  return True


class Trainer:
  """Trains a generator/discriminator pair into a run directory.

  The dataset is opened and checked before anything is written, so bad input
  leaves no run directory behind.
  """

  def __init__(self, model_config: config_lib.ModelConfig,
               train_config: config_lib.TrainConfig, run_dir: str,
               log_dir: str | None = None):
    self.model_config = model_config
    self.run_dir = run_dir
    self.log_dir = log_dir or default_log_dir(run_dir)
    outputs.check_directory_flag("run_dir", run_dir)
    outputs.check_directory_flag("logdir", self.log_dir)
    self.stop_signal = None  # the signal that stopped training, if any
    self.interrupted = False  # by a signal here or in another worker
    # First: a multi-worker strategy must precede every other TF operation.
    self.strategy = cluster.make_strategy(train_config.strategy)
    self.is_chief = cluster.is_chief(self.strategy)
    row = models.architecture(model_config)  # refused here, before any work
    if row.inverts_generator and not model_config.generator_digest:
      self.model_config = model_config = models.bind_generator(model_config)
    cfg = train_config
    self.source = data.open_source(cfg.dataset, cfg.data_dir, cfg.split,
                                   cfg.first_image, cfg.num_images,
                                   cfg.per_subfolder)
    # config.json records what was used, not `auto`.
    self.train_config = cfg = dataclasses.replace(
        data.resolve_auto(self.source, train_config), dataset=self.source.spec,
        precision=resolve_precision(run_dir, train_config.precision))
    data.check_batch_size(self.source, cfg.batch_size)
    if cfg.init_from:
      check_warm_start_source(cfg.init_from, model_config)
    if cfg.batch_size % self.strategy.num_replicas_in_sync:
      raise InputError(f"batch_size={cfg.batch_size}: not divisible by the "
                       f"{self.strategy.num_replicas_in_sync} replicas")

  def _build(self):
    cfg = self.train_config
    keras.utils.set_random_seed(cfg.seed)
    with self.strategy.scope():
      self.generator, self.discriminator = models.build(
          self.model_config, cfg.precision)
      self.g_optimizer = self._optimizer(self.generator, cfg.learning_rate)
      self.d_optimizer = (None if self.discriminator is None else
                          self._optimizer(self.discriminator,
                                          cfg.d_learning_rate or
                                          cfg.learning_rate))
      self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
      self.ema_generator = (models.build_generator(
          self.model_config, precision=cfg.precision)
                            if cfg.ema_decay else None)
    tracked = dict(generator=self.generator, discriminator=self.discriminator,
                   g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                   step=self.step, ema_generator=self.ema_generator)
    self.checkpoint = tf.train.Checkpoint(
        **{name: value for name, value in tracked.items() if value is not None})
    # Every worker saves (a save may need collectives); only the chief's
    # checkpoints are kept, the others' go to a temporary dir.
    self.manager = tf.train.CheckpointManager(
        self.checkpoint,
        config_lib.checkpoint_dir(self.run_dir) if self.is_chief else
        tempfile.mkdtemp(prefix="tf_inpaint_worker_"),
        max_to_keep=_CHECKPOINTS_KEPT)
    chosen = conv_choice.choose(
        [self.generator, self.discriminator],
        cfg.batch_size // self.strategy.num_replicas_in_sync,
        train_kernels=True, conv_impl=cfg.conv_impl)
    logging.info("Strided layers: %s", ", ".join(
        f"{path} {form}" for path, form in chosen.items()))
    self._noise_seed = tf.constant([cfg.seed, 1], tf.int64)
    self.objective = models.make_objective(self.model_config, cfg.seed)
    self.gan_loss = losses.GAN_LOSSES[cfg.gan_loss]
    self.diff_augment = config_lib.parse_diff_augment(cfg.diff_augment)

  def _optimizer(self, network: keras.Model, learning_rate: float):
    """Adam for `network`, built eagerly (building inside the first
    strategy.run fails to trace); float16 compute adds loss scaling, which
    keeps small gradients from underflowing."""
    cfg = self.train_config
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=cfg.beta1)
    if cfg.precision == "mixed_float16":
      optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(network.trainable_variables)
    return optimizer

  def _replica_step(self, real, step, stop_vote, regularize: bool):
    cfg = self.train_config
    replica_id = tf.distribute.get_replica_context().replica_id_in_sync_group
    # Folding the replica id in gives every replica its own noise.
    seed = tf.random.experimental.stateless_fold_in(
        tf.random.experimental.stateless_fold_in(self._noise_seed, step),
        tf.cast(replica_id, tf.int64))
    adversarial = self.discriminator is not None
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
      fake, extras = self.objective.fake(self.generator, real, seed)
      adversarial_loss = None
      if adversarial:
        real_logits, fake_logits = self._judge(real, fake, seed)
        d_loss = tf.nn.compute_average_loss(
            self.gan_loss.discriminator(real_logits, fake_logits),
            global_batch_size=cfg.batch_size)
        d_objective = d_loss
        if regularize:
          d_objective += self._r1_term(real, seed)
        adversarial_loss = self.gan_loss.generator(fake_logits)
      g_loss = tf.nn.compute_average_loss(
          self.objective.generator_loss(adversarial_loss, extras),
          global_batch_size=cfg.batch_size)
      # The identity except under loss scaling (float16); on the tapes.
      scaled_g_loss = self.g_optimizer.scale_loss(g_loss)
      if adversarial:
        scaled_d_loss = self.d_optimizer.scale_loss(d_objective)
    g_vars = self.generator.trainable_variables
    self.g_optimizer.apply_gradients(zip(
        g_tape.gradient(scaled_g_loss, g_vars), g_vars))
    metrics = {"g_loss": g_loss}
    if adversarial:
      d_vars = self.discriminator.trainable_variables
      self.d_optimizer.apply_gradients(zip(
          d_tape.gradient(scaled_d_loss, d_vars), d_vars))
      metrics.update(
          d_loss=d_loss,
          d_real=tf.reduce_sum(tf.sigmoid(real_logits)) / cfg.batch_size,
          d_fake=tf.reduce_sum(tf.sigmoid(fake_logits)) / cfg.batch_size)
    # identity: each replica's own tensor, so the strategy can sum them.
    return {**metrics, "stop_votes": tf.identity(stop_vote),
            **{name: tf.nn.compute_average_loss(
                value, global_batch_size=cfg.batch_size)
               for name, value in extras.items()}}

  def _augmented(self, images, seed, which: int):
    """`images` as D sees them: through DiffAugment, if on, with a seed of
    their own (`which`: 1 real, 2 fake)."""
    return diff_augment.augment(
        images, self.diff_augment,
        tf.random.experimental.stateless_fold_in(seed, which))

  def _judge(self, real, fake, seed):
    """D's logits on the real and the fake batch (both augmented alike)."""
    return (self.discriminator(self._augmented(real, seed, 1), training=True),
            self.discriminator(self._augmented(fake, seed, 2), training=True))

  def _r1_term(self, real, seed):
    """The lazy R1 penalty's share of D's loss on a regularising step:
    r1_every * gamma / 2 * ||grad D(x)||^2 on real images as D sees them
    (StyleGAN2 adds it every 16th step, scaled by 16)."""
    cfg = self.train_config
    penalty = losses.r1_penalty(self.discriminator,
                                self._augmented(real, seed, 1))
    return tf.nn.compute_average_loss(
        0.5 * cfg.r1_gamma * cfg.r1_every * penalty,
        global_batch_size=cfg.batch_size)

  def _regularizes(self, step: int) -> bool:
    """Whether the step after `step` adds the lazy R1 penalty."""
    cfg = self.train_config
    return bool(cfg.r1_gamma) and step % cfg.r1_every == 0

  @tf.function(jit_compile=False)  # XLA is slower on CPU and breaks summaries.
  def _train_step(self, iterator, stop_vote, regularize: bool):
    """One step on every replica; `stop_vote` > 0 asks all workers to stop.

    The votes are summed with the losses, so every worker of a cluster
    learns of a signal at the same step and they stop (and save) together.
    `regularize` (a Python bool: one graph with R1, one without, as a
    tf.cond cannot hold R1's nested gradient) adds the R1 penalty.
    """
    per_replica = self.strategy.run(self._replica_step,
                                    args=(next(iterator), self.step,
                                          stop_vote, regularize))
    if self.ema_generator is not None:
      self._update_ema()
    self.step.assign_add(1)
    return {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, value,
                                       axis=None)
            for name, value in per_replica.items()}

  def _request_stop(self, signum, frame):
    del frame
    logging.warning("Signal %d: saving a checkpoint and stopping.", signum)
    self.stop_signal = signum

  def _update_ema(self) -> None:
    """ema <- d * ema + (1 - d) * G for trainable weights; the rest copied.

    d ramps up as min(ema_decay, (1 + t) / (10 + t)) at step t, as in
    tf.train.ExponentialMovingAverage, so the average follows G early on
    instead of remembering the random initialisation for ~1/(1-d) steps.
    Non-trainable weights (BN statistics, a context encoder's fill) are
    averages or constants already, and are copied as StyleGAN copies buffers.
    """
    step = tf.cast(self.step, tf.float32)
    decay = tf.minimum(self.train_config.ema_decay,
                       (1.0 + step) / (10.0 + step))
    for average, weight in zip(self.ema_generator.trainable_weights,
                               self.generator.trainable_weights):
      average.assign(decay * average + (1.0 - decay) * weight)
    for copy, weight in zip(self.ema_generator.non_trainable_weights,
                            self.generator.non_trainable_weights):
      copy.assign(weight)

  def _warm_start(self) -> None:
    """Copies G, D and the EMA G of `init_from` into this fresh run."""
    source = self.train_config.init_from
    _, _, generator, discriminator = models.load(
        source, flag="init_from", ema=False)
    copies = [(generator, self.generator), (discriminator, self.discriminator)]
    if self.ema_generator is not None:
      copies.append((models.load(source, flag="init_from")[2],
                     self.ema_generator))
    if discriminator is None and self.discriminator is not None:
      logging.warning("init_from=%s holds no discriminator; D starts from "
                      "random weights", source)
    for origin, target in copies:
      if origin is not None and target is not None:
        models.copy_weights(origin, target)
    logging.info("Warm start from %s (fresh optimizers)", source)

  def _write_samples(self, step: int) -> None:
    if not self.is_chief:  # its writer discards them
      return
    samples = self.objective.samples(self.generator)
    tf.summary.image("samples", summaries.image_grid(samples), step=step)
    if self.ema_generator is not None:
      samples = self.objective.samples(self.ema_generator)
      tf.summary.image("samples_ema", summaries.image_grid(samples),
                       step=step)

  def train(self) -> dict:
    """Runs until `steps`, or a signal; returns the last step's metrics."""
    cfg = self.train_config
    created = prepare_run_dir(self.run_dir, self.model_config, cfg,
                              self.source, write=self.is_chief)
    lock = None
    if self.is_chief:
      lock = lock_run_dir(self.run_dir)
      remove_checkpoint_debris(config_lib.checkpoint_dir(self.run_dir))
      checkpoints.remove_unreadable_state(
          config_lib.checkpoint_dir(self.run_dir))
    try:
      return self._train()
    except cluster.LOST_WORKER_ERRORS as e:
      kept = self._latest_checkpoint()
      raise WorkerLostError(
          f"training stopped at step {self._current_step()}: another worker "
          f"stopped answering ({type(e).__name__}); "
          + (f"start every worker again with the same command to resume from "
             f"{os.path.basename(kept)}" if kept else
             "no checkpoint was saved yet")) from e
    except BaseException:
      if created and self._latest_checkpoint() is None:
        shutil.rmtree(self.run_dir, ignore_errors=True)
      raise
    finally:
      if lock is not None:
        lock.close()  # releases the lock
      if not self.is_chief and hasattr(self, "manager"):
        shutil.rmtree(self.manager.directory, ignore_errors=True)

  def _latest_checkpoint(self) -> str | None:
    manager = getattr(self, "manager", None)  # None if _build never ran
    return manager and manager.latest_checkpoint

  def _train(self) -> dict:
    cfg = self.train_config
    self._build()
    try:
      # Every worker resumes from the chief's checkpoints.
      restored = checkpoints.restore_newest(
          self.checkpoint, config_lib.checkpoint_dir(self.run_dir))
    except InputError as e:
      raise InputError(f"run_dir={self.run_dir}: {e}; move them away to "
                       "start again") from e
    if restored:
      logging.info("Resumed %s at step %d", restored, self._current_step())
    elif cfg.init_from:
      self._warm_start()
    start = self._current_step()
    self.objective.prepare(
        self.generator,
        data.training_batches(self.source, self.model_config.image_size,
                              cfg.batch_size, cfg.seed, cfg.crop, cfg.augment),
        fresh=restored is None and not cfg.init_from)
    if restored is None and self.ema_generator is not None and not (
        cfg.init_from):
      models.copy_weights(self.generator, self.ema_generator)
    if start >= cfg.steps:
      logging.info("Run already at step %d >= steps=%d; nothing to do.", start,
                   cfg.steps)
      return {"step": start}
    batches = data.training_batches(
        self.source, self.model_config.image_size, cfg.batch_size, cfg.seed,
        cfg.crop, cfg.augment, start_step=start)
    iterator = iter(self.strategy.experimental_distribute_dataset(batches))
    writer = (tf.summary.create_file_writer(self.log_dir) if self.is_chief
              else tf.summary.create_noop_writer())
    previous_handlers = {s: signal.signal(s, self._request_stop)
                         for s in (signal.SIGINT, signal.SIGTERM)}
    metrics = {}
    try:
      with writer.as_default():
        hparams_api.hparams({k: str(v) if v is None else v for k, v in
                             {**dataclasses.asdict(self.model_config),
                              **dataclasses.asdict(cfg)}.items()})
        if start == 0:
          self._write_samples(0)
        interval_start, interval_step = time.perf_counter(), start
        # A live bar on a terminal; in a log file, a line per summary.
        on_terminal = sys.stdout.isatty()
        progbar = keras.utils.Progbar(
            cfg.steps, verbose=int(on_terminal), unit_name="step",
            stateful_metrics=("d_loss", "g_loss", "d_real", "d_fake",
                              "images_per_second",
                              *self.objective.extra_metrics))
        progbar.update(start)
        while self._current_step() < cfg.steps and not self.interrupted:
          metrics = self._train_step(
              iterator, tf.constant(float(self.stop_signal is not None)),
              self._regularizes(self._current_step()))
          self.interrupted = float(metrics.pop("stop_votes")) > 0
          step = self._current_step()
          self._check_finite(metrics, step)
          if step % cfg.summary_every == 0 or step == cfg.steps:
            metrics = {k: float(v) for k, v in metrics.items()}
            now = time.perf_counter()
            metrics["images_per_second"] = ((step - interval_step) *
                                            cfg.batch_size /
                                            (now - interval_start))
            interval_start, interval_step = now, step
            summaries.write_scalars(metrics, step)
            progbar.update(step, [(k, v) for k, v in metrics.items()])
            if not on_terminal:
              self._log_progress(step, metrics)
          else:
            progbar.update(step)
          if step % cfg.image_every == 0 or step == cfg.steps:
            self._write_samples(step)
          if step % cfg.checkpoint_every == 0:
            self.manager.save(checkpoint_number=step)
      if self.manager.latest_checkpoint != self._checkpoint_path(
          self._current_step()):
        self.manager.save(checkpoint_number=self._current_step())
    finally:
      writer.close()
      for signum, handler in previous_handlers.items():
        signal.signal(signum, handler)
    metrics = {k: float(v) for k, v in metrics.items()}
    metrics["step"] = self._current_step()
    return metrics

  def _check_finite(self, metrics: dict, step: int) -> None:
    """Stops at the first non-finite loss; nothing after it is saved."""
    for name in ("d_loss", "g_loss"):
      if name not in metrics:
        continue
      value = float(metrics[name])
      if not math.isfinite(value):
        kept = self.manager.latest_checkpoint
        raise InputError(
            f"training diverged at step {step}: {name} is {value}; "
            f"{'the last good checkpoint ' + os.path.basename(kept) if kept else 'no checkpoint'}"
            " is kept; lower --learning_rate and run again")

  def _current_step(self) -> int:
    return int(self.step.numpy())

  def _checkpoint_path(self, step: int) -> str:
    return os.path.join(self.manager.directory, f"ckpt-{step}")

  def _log_progress(self, step: int, metrics: dict) -> None:
    remaining = (self.train_config.steps - step) * self.train_config.batch_size
    eta = remaining / max(metrics["images_per_second"], 1e-9)
    shown = "".join(
        f"  {label} {metrics[name]:{fmt}}" for name, label, fmt in (
            ("d_loss", "d_loss", ".4f"), ("g_loss", "g_loss", ".4f"),
            ("d_real", "D(x)", ".3f"), ("d_fake", "D(G(z))", ".3f"),
            *((name, name, ".4f") for name in self.objective.extra_metrics))
        if name in metrics)
    logging.info(
        "step %d/%d%s  %.1f img/s  eta %s", step, self.train_config.steps,
        shown, metrics["images_per_second"],
        f"{int(eta // 3600)}:{time.strftime('%M:%S', time.gmtime(eta))}")
