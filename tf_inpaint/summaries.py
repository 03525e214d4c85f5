"""TensorBoard image panels and matplotlib figure grids."""
import math

import numpy as np
import tensorflow as tf


def to_uint8(images):
  """float images in [-1, 1] -> uint8 in [0, 255] (the library's edge format)."""
  images = (tf.clip_by_value(tf.convert_to_tensor(images, tf.float32), -1., 1.)
            + 1.0) * 127.5
  return tf.cast(tf.round(images), tf.uint8)


def image_grid(images, columns: int | None = None, padding: int = 1):
  """Tiles (N, H, W, C) images in [-1, 1] into one (1, H', W', C) uint8 image."""
  images = to_uint8(images)
  count, height, width, channels = images.shape
  columns = columns or math.ceil(math.sqrt(count))
  rows = math.ceil(count / columns)
  filler = tf.zeros([rows * columns - count, height, width, channels], tf.uint8)
  images = tf.concat([images, filler], axis=0)
  images = tf.pad(images, [[0, 0], [padding, padding], [padding, padding],
                           [0, 0]], constant_values=255)
  height, width = height + 2 * padding, width + 2 * padding
  grid = tf.reshape(images, [rows, columns, height, width, channels])
  grid = tf.transpose(grid, [0, 2, 1, 3, 4])
  return tf.reshape(grid, [1, rows * height, columns * width, channels])


def write_scalars(values: dict, step: int) -> None:
  """Writes every name -> number of `values` to the default summary writer."""
  for name, value in values.items():
    tf.summary.scalar(name, value, step=step)


def figure_grid(rows: list[list[np.ndarray]], column_titles: list[str],
                path: str) -> None:
  """Saves a figure with one row per image and one titled column per stage.

  Args:
    rows: rows of float images in [-1, 1], each (H, W, C).
    column_titles: one title per column.
    path: PNG path to write.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  num_rows, num_columns = len(rows), len(column_titles)
  figure, axes = plt.subplots(num_rows, num_columns, squeeze=False,
                              figsize=(1.6 * num_columns, 1.6 * num_rows))
  for r, row in enumerate(rows):
    for c, image in enumerate(row):
      axis = axes[r][c]
      axis.imshow(to_uint8(image).numpy().squeeze(),
                  cmap="gray" if image.shape[-1] == 1 else None)
      axis.set_xticks([])
      axis.set_yticks([])
      if r == 0:
        axis.set_title(column_titles[c], fontsize=9)
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def time_quality_figure(rows: list[dict], path: str) -> None:
  """Saves hole PSNR against seconds per image, one panel per mask.

  Args:
    rows: `evaluate.evaluate` result rows (method, mask, psnr_hole,
      seconds_per_image).
    path: PNG path to write.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  masks = list(dict.fromkeys(row["mask"] for row in rows))
  figure, axes = plt.subplots(1, len(masks), squeeze=False,
                              figsize=(4.5 * len(masks), 3.6))
  for axis, mask in zip(axes[0], masks):
    for row in rows:
      if row["mask"] == mask:
        # Local methods can take ~0 s; a floor keeps them on the log axis.
        seconds = max(row["seconds_per_image"], 1e-4)
        axis.scatter(seconds, row["psnr_hole"], s=24)
        axis.annotate(row["method"], (seconds, row["psnr_hole"]),
                      fontsize=7, xytext=(3, 3), textcoords="offset points")
    axis.set_xscale("log")
    axis.set_xlabel("seconds per image")
    axis.set_ylabel("hole PSNR (dB)")
    axis.set_title(mask)
    axis.grid(alpha=0.3)
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)
