"""PSNR, SSIM and L1 of an inpainted image, whole image and hole only.

Images are in [-1, 1], so the peak-to-peak range is 2.
"""
import numpy as np
import tensorflow as tf

_MAX_VAL = 2.0
# An exact match has infinite PSNR, which JSON cannot hold: report at most this.
PSNR_CAP_DB = 100.0


def _hole_mean(values, masks):
  """Mean of per-pixel values (N, H, W, C) over each image's missing pixels."""
  hole = tf.broadcast_to(1.0 - masks, tf.shape(values))
  return tf.reduce_sum(values * hole, axis=[1, 2, 3]) / tf.maximum(
      tf.reduce_sum(hole, axis=[1, 2, 3]), 1.0)


def image_metrics(original, inpainted, masks) -> dict[str, np.ndarray]:
  """Per-image psnr, ssim, l1 and their `_hole` variants (over missing pixels).

  Args:
    original, inpainted: (N, H, W, C) in [-1, 1].
    masks: (N, H, W, 1), 1 = known.
  Returns:
    name -> float array of shape (N,).
  """
  original = tf.convert_to_tensor(original, tf.float32)
  inpainted = tf.convert_to_tensor(inpainted, tf.float32)
  masks = tf.convert_to_tensor(masks, tf.float32)
  squared = tf.square(original - inpainted)
  absolute = tf.abs(original - inpainted)
  hole_mse = _hole_mean(squared, masks)
  ssim_map = tf.image.ssim(original, inpainted, max_val=_MAX_VAL,
                           return_index_map=True)
  # The SSIM map covers the valid (unpadded) 11x11 windows: crop the mask.
  margin = (masks.shape[1] - ssim_map.shape[1]) // 2
  cropped = masks[:, margin:margin + ssim_map.shape[1],
                  margin:margin + ssim_map.shape[2]]
  results = {
      "psnr": tf.minimum(tf.image.psnr(original, inpainted, max_val=_MAX_VAL),
                         PSNR_CAP_DB),
      "ssim": tf.reduce_mean(ssim_map, axis=[1, 2]),
      "l1": tf.reduce_mean(absolute, axis=[1, 2, 3]),
      "psnr_hole": tf.minimum(10.0 * tf.math.log(_MAX_VAL**2 / tf.maximum(
          hole_mse, 1e-30)) / tf.math.log(10.0), PSNR_CAP_DB),
      "ssim_hole": _hole_mean(ssim_map[..., None], cropped),
      "l1_hole": _hole_mean(absolute, masks),
  }
  return {name: value.numpy().astype(np.float64)
          for name, value in results.items()}


def mean_of_records(records: list) -> dict:
  """The mean of each metric over per-image records ({"name": ..., metric:
  value}), computed the same way for one run and for merged parts."""
  names = [key for key in records[0] if key != "name"] if records else []
  return {key: float(np.mean([record[key] for record in records]))
          for key in names}
