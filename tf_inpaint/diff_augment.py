"""DiffAugment: random, differentiable changes to every image D judges.

Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training"
(NeurIPS 2020): real and generated batches both pass through the same kinds
of change before D, each image with its own random parameters, so D cannot
memorise a small training set and G still gets gradients through the changes.
A policy (`config.parse_diff_augment`) names rows of `POLICIES`, applied in
order; every change is stateless (its randomness is a function of the seed).
Images are float NHWC in [-1, 1]; 0 (mid-grey) is what translation and
cutout fill with, as in the paper's code.
"""
from typing import Callable

import tensorflow as tf

# Translation moves by up to this fraction of the side; cutout removes a
# square of this fraction of the side (the paper's ratios).
_TRANSLATION_RATIO = 1 / 8
_CUTOUT_RATIO = 1 / 2


def _per_image_uniform(images, seed, low=0.0, high=1.0):
  return tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed,
                                     low, high, dtype=images.dtype)


def color(images, seed):
  """Brightness +U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5)."""
  seeds = tf.random.experimental.stateless_split(seed, 3)
  images = images + _per_image_uniform(images, seeds[0], -0.5, 0.5)
  grey = tf.reduce_mean(images, axis=3, keepdims=True)
  images = grey + (images - grey) * _per_image_uniform(images, seeds[1], 0, 2)
  mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
  return mean + (images - mean) * _per_image_uniform(images, seeds[2], 0.5,
                                                     1.5)


def _shift_axis(images, shifts, axis):
  """Moves each image by its own whole number of pixels along `axis` (1 or
  2), filling with 0; a gather, so gradients reach the pixels that stay."""
  size = tf.shape(images)[axis]
  padding = [[0, 0]] * 4
  padding[axis] = [size, size]
  padded = tf.pad(images, padding)
  # Output pixel i takes input pixel i - shift, at i - shift + size in padded.
  indices = tf.range(size)[None, :] - shifts[:, None] + size
  return tf.gather(padded, indices, axis=axis, batch_dims=1)


def translation(images, seed):
  """Shifts each image by up to 1/8 of its side in each direction."""
  seeds = tf.random.experimental.stateless_split(seed, 2)
  batch, size = tf.shape(images)[0], tf.shape(images)[1]
  limit = tf.cast(tf.cast(size, tf.float32) * _TRANSLATION_RATIO + 0.5,
                  tf.int32)
  for axis, axis_seed in zip((1, 2), tf.unstack(seeds)):
    shifts = tf.random.stateless_uniform([batch], axis_seed, -limit,
                                         limit + 1, dtype=tf.int32)
    images = _shift_axis(images, shifts, axis)
  return images


def cutout(images, seed):
  """Sets a square of half the side, centred anywhere, to 0 in each image."""
  seeds = tf.random.experimental.stateless_split(seed, 2)
  batch, size = tf.shape(images)[0], tf.shape(images)[1]
  half = tf.cast(tf.cast(size, tf.float32) * _CUTOUT_RATIO, tf.int32) // 2
  positions = tf.range(size)[None, :]
  outside = []
  for axis_seed in tf.unstack(seeds):
    centres = tf.random.stateless_uniform([batch, 1], axis_seed, 0, size,
                                          dtype=tf.int32)
    outside.append(tf.logical_or(positions < centres - half,
                                 positions >= centres + half))  # (N, size)
  keep = tf.logical_or(outside[0][:, :, None], outside[1][:, None, :])
  return images * tf.cast(keep[..., None], images.dtype)


POLICIES: dict[str, Callable] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def augment(images, policy: tuple[str, ...], seed):
  """`images` through each change of `policy`, each with its own seed."""
  if not policy:
    return images
  seeds = tf.random.experimental.stateless_split(seed, len(policy))
  for name, change_seed in zip(policy, tf.unstack(seeds)):
    images = POLICIES[name](images, change_seed)
  return images
