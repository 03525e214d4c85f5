"""Inpainting baselines the paper compares against.

Each takes corrupted images (N, H, W, C) in [-1, 1] and masks (N, H, W, 1),
1 = known, and returns filled images whose known pixels are the input's.
"""
import functools

import keras
import numpy as np
import tensorflow as tf

from tf_inpaint import blend

_TV_EPSILON = 1e-3


def _keep_known(corrupted, filled, masks):
  return masks * corrupted + (1.0 - masks) * filled


def _known_mean(corrupted, masks):
  """Per-image, per-channel mean of the known pixels: a neutral start."""
  return (np.sum(corrupted * masks, axis=(1, 2), keepdims=True) /
          np.maximum(np.sum(masks, axis=(1, 2), keepdims=True), 1.0))


def total_variation(corrupted, masks, iterations: int = 500,
                    learning_rate: float = 0.02):
  """Minimises the (smoothed, isotropic) total variation with the known pixels fixed.

  Adam on the missing pixels, all images at once; starts from the mean of the
  known pixels.
  """
  corrupted = np.asarray(corrupted, np.float32)
  masks = np.asarray(masks, np.float32)
  fill, optimizer, step = _total_variation_solver(corrupted.shape)
  fill.assign(np.broadcast_to(_known_mean(corrupted, masks), corrupted.shape))
  for variable in optimizer.variables:
    variable.assign(tf.zeros_like(variable))
  optimizer.learning_rate.assign(learning_rate)
  values, known = tf.constant(corrupted), tf.constant(masks)
  for _ in range(iterations):
    step(values, known)
  return np.clip(_keep_known(corrupted, fill.numpy(), masks), -1.0, 1.0)


@functools.lru_cache(maxsize=4)
def _total_variation_solver(shape):
  """(fill, Adam, traced step) for images of `shape`, built once and reused:
  a new tf.function per call would keep every trace, and an evaluation's
  memory would grow with each batch."""
  fill = tf.Variable(tf.zeros(shape), name="tv_fill")
  optimizer = keras.optimizers.Adam()
  optimizer.build([fill])

  @tf.function(jit_compile=False)
  def step(values, known):
    with tf.GradientTape() as tape:
      image = known * values + (1.0 - known) * fill
      dx = image[:, :-1, 1:] - image[:, :-1, :-1]
      dy = image[:, 1:, :-1] - image[:, :-1, :-1]
      tv = tf.reduce_sum(tf.sqrt(dx**2 + dy**2 + _TV_EPSILON**2))
    optimizer.apply_gradients([(tape.gradient(tv, fill), fill)])

  return fill, optimizer, step


def low_rank(corrupted, masks, iterations: int = 200,
             shrink_range=(0.5, 0.002)):
  """Low-rank matrix completion per channel by Soft-Impute with continuation.

  Repeats X <- SVT_tau(M * y + (1 - M) * X) (singular value soft
  thresholding, Mazumder et al. 2010) while tau falls geometrically through
  `shrink_range`, as fractions of the largest singular value of the
  mean-filled image: large tau first finds the dominant structure, small tau
  then fits the details.
  """
  corrupted = np.asarray(corrupted, np.float64)
  masks = np.asarray(masks, np.float64)
  estimate = _keep_known(corrupted, np.broadcast_to(
      _known_mean(corrupted, masks), corrupted.shape), masks)
  # (N, C, H, W): numpy's SVD works on the last two axes of a stack.
  estimate = np.transpose(estimate, (0, 3, 1, 2))
  values = np.transpose(corrupted, (0, 3, 1, 2))
  known = np.transpose(np.broadcast_to(masks, corrupted.shape), (0, 3, 1, 2))
  largest = np.linalg.svd(estimate, compute_uv=False)[..., :1]
  for fraction in np.geomspace(*shrink_range, iterations):
    u, s, vt = np.linalg.svd(known * values + (1 - known) * estimate,
                             full_matrices=False)
    estimate = (u * np.maximum(s - fraction * largest, 0.0)[..., None, :]) @ vt
  filled = np.transpose(estimate, (0, 2, 3, 1))
  return np.clip(_keep_known(corrupted, filled, masks), -1.0, 1.0).astype(
      np.float32)


def nearest_neighbour(corrupted, masks, training_images,
                      chunk: int = 2048):
  """Pastes into the hole the training image closest on the known pixels (Fig. 6).

  Distance is the Euclidean distance over each image's known pixels:
  sum M(x - t)^2 = sum M x^2 - 2 sum (M x) t + sum M t^2, in matmuls.
  """
  corrupted = np.asarray(corrupted, np.float32)
  masks = np.broadcast_to(np.asarray(masks, np.float32), corrupted.shape)
  flat_masks = masks.reshape(len(masks), -1)
  flat_known = (corrupted * masks).reshape(len(masks), -1)
  best_distance = np.full(len(corrupted), np.inf)
  best = np.zeros_like(flat_known)
  for start in range(0, len(training_images), chunk):
    candidates = np.asarray(training_images[start:start + chunk],
                            np.float32).reshape(-1, flat_known.shape[1])
    distance = (-2.0 * flat_known @ candidates.T +
                flat_masks @ (candidates**2).T)  # + sum M x^2, constant per row
    index = np.argmin(distance, axis=1)
    chosen = distance[np.arange(len(distance)), index]
    better = chosen < best_distance
    best_distance[better] = chosen[better]
    best[better] = candidates[index[better]]
  return _keep_known(corrupted, best.reshape(corrupted.shape), masks)


def biharmonic(corrupted, masks):
  """scikit-image's biharmonic inpainting, the classical local reference."""
  corrupted = np.asarray(corrupted, np.float64)
  filled = blend.biharmonic_interpolation(corrupted, masks)
  return np.clip(_keep_known(corrupted, filled, np.asarray(masks)), -1.0,
                 1.0).astype(np.float32)
