"""Putting G(z) into the hole: overlay (eq. 5), Poisson blending (eq. 6), and
a biharmonic residual blend (beyond the paper).

Poisson blending keeps the known pixels and gives the hole G(z)'s gradients:
  argmin_x ||grad x - grad G(z)||^2  over the hole, x = y on known pixels,
solved in closed form per channel as a sparse linear system (the discrete
Poisson equation with the known pixels as Dirichlet boundary and Neumann
conditions at the image border), one LU factorisation per image.

Equivalently, the Poisson blend is G(z) plus the *harmonic* interpolation of
the residual y - G(z) from the known pixels into the hole. The biharmonic
blend interpolates that residual biharmonically instead (smooth to second
order, as scikit-image's `inpaint_biharmonic`), which follows scattered known
pixels more closely than the harmonic one does (random-pixel masks). A detail
weight a < 1 mixes it with the biharmonic fill of the known pixels alone (the
classical baseline): a * blend + (1 - a) * baseline. Up to clipping, that is
the baseline plus a times G(z)'s detail (G(z) minus the biharmonic fill of
its own known pixels): G's detail shrunk where G is not precise enough.
"""
import numpy as np
from scipy import sparse
from scipy.sparse import linalg as sparse_linalg


def overlay(corrupted, generated, masks):
  """M * y + (1 - M) * G(z), for arrays or tensors alike."""
  return masks * corrupted + (1.0 - masks) * generated


def _neighbour_pairs(height: int, width: int):
  """Flat indices (a, b) of every 4-neighbour pair inside the image, both ways."""
  index = np.arange(height * width).reshape(height, width)
  a = np.concatenate([index[:, :-1].ravel(), index[:-1, :].ravel()])
  b = np.concatenate([index[:, 1:].ravel(), index[1:, :].ravel()])
  return np.concatenate([a, b]), np.concatenate([b, a])


def poisson_blend_one(corrupted, generated, mask):
  """Blends one image: corrupted, generated (H, W, C); mask (H, W, 1), 1 = known."""
  height, width, channels = generated.shape
  known = mask.reshape(-1) > 0.5
  unknown_ids = np.flatnonzero(~known)
  result = corrupted.reshape(-1, channels).astype(np.float64).copy()
  if unknown_ids.size == 0:
    return corrupted.copy()
  guide = generated.reshape(-1, channels).astype(np.float64)
  p, q = _neighbour_pairs(height, width)
  rows_in_hole = ~known[p]
  p, q = p[rows_in_hole], q[rows_in_hole]
  position = np.full(height * width, -1)
  position[unknown_ids] = np.arange(unknown_ids.size)
  # Row of pixel p: deg(p) x_p - sum of unknown neighbours = guidance + known.
  degree = np.bincount(position[p], minlength=unknown_ids.size)
  q_unknown = ~known[q]
  matrix = sparse.csc_matrix(
      (np.concatenate([degree, -np.ones(q_unknown.sum())]),
       (np.concatenate([np.arange(unknown_ids.size), position[p[q_unknown]]]),
        np.concatenate([np.arange(unknown_ids.size), position[q[q_unknown]]]))),
      shape=(unknown_ids.size, unknown_ids.size))
  rhs = np.zeros((unknown_ids.size, channels))
  np.add.at(rhs, position[p], guide[p] - guide[q])
  np.add.at(rhs, position[p[~q_unknown]], result[q[~q_unknown]])
  result[unknown_ids] = sparse_linalg.splu(matrix).solve(rhs)
  return np.clip(result, -1.0, 1.0).reshape(height, width, channels).astype(
      corrupted.dtype)


def poisson_blend(corrupted, generated, masks):
  """Blends a batch: arrays (N, H, W, C) in [-1, 1], masks (N, H, W, 1)."""
  corrupted, generated, masks = (np.asarray(a) for a in
                                 (corrupted, generated, masks))
  return np.stack([poisson_blend_one(y, g, m)
                   for y, g, m in zip(corrupted, generated, masks)])


def biharmonic_interpolation(values, masks):
  """Fills the holes of `values` (N, H, W, C) biharmonically, unclipped."""
  from skimage.restoration import inpaint_biharmonic  # pylint: disable=g-import-not-at-top
  return np.stack([
      inpaint_biharmonic(image, mask[..., 0] < 0.5, channel_axis=-1)
      for image, mask in zip(np.asarray(values, np.float64),
                             np.asarray(masks))])


def biharmonic_blend(corrupted, generated, masks, detail: float = 1.0):
  """G(z) plus the biharmonic interpolation of the residual y - G(z), mixed
  with weight 1 - `detail` with the biharmonic fill of y alone."""
  corrupted, generated, masks = (np.asarray(a) for a in
                                 (corrupted, generated, masks))
  residual = biharmonic_interpolation(corrupted - generated, masks)
  filled = np.clip(generated + residual, -1.0, 1.0)
  if detail < 1.0:
    smooth = np.clip(biharmonic_interpolation(corrupted, masks), -1.0, 1.0)
    filled = smooth + detail * (filled - smooth)
  return overlay(corrupted, filled, masks).astype(corrupted.dtype)


def blend(corrupted, generated, masks, method: str = "poisson",
          detail: float = 1.0):
  """The final image by `method`: `poisson`, `biharmonic` (with G's
  `detail` weight) or `overlay`."""
  if method == "poisson":
    return poisson_blend(corrupted, generated, masks)
  if method == "biharmonic":
    return biharmonic_blend(corrupted, generated, masks, detail)
  if method == "overlay":
    return np.asarray(overlay(corrupted, generated, masks))
  raise ValueError(
      f"blend={method!r}: expected poisson, biharmonic or overlay")
