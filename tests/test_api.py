"""The public Python API: photos of any size in, the same photos out."""
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

import tf_inpaint
from tf_inpaint import photos

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
SAMPLE = os.path.join(ROOT, "tf_inpaint", "samples", "celeba64", "008001.jpg")
FAST = dict(iterations=3)


@pytest.fixture(scope="module")
def model():
  return tf_inpaint.load_model("celeba64")


def _face(size=None):
  """A real face (109x89, uint8), optionally resized to (width, height)."""
  with Image.open(SAMPLE) as image:
    return np.asarray(image.resize(size) if size else image.convert("RGB"))


def _hole(shape, top, left, height, width):
  hole = np.zeros(shape[:2], bool)
  hole[top:top + height, left:left + width] = True
  return hole


@pytest.mark.slow  # loads the bundled model afresh, as the snippet does
def test_readme_snippet_runs(tmp_path, monkeypatch):
  with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    readme = f.read()
  section = readme.split("## Your own photo, from Python", 1)[1]
  snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
  shutil.copy(SAMPLE, tmp_path / "face.jpg")
  monkeypatch.chdir(tmp_path)
  exec(compile(snippet, "README.md", "exec"), {})  # pylint: disable=exec-used
  with Image.open(tmp_path / "face_inpainted.png") as out:
    assert out.size == (89, 109)


@pytest.mark.parametrize("size", [(89, 109), (300, 200)])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_photo_comes_back_at_its_size_with_known_pixels_unchanged(
    model, size, dtype):
  photo = _face(size)
  if dtype == "float32":
    photo = photo.astype(np.float32) / 255.0
  hole = _hole(photo.shape, photo.shape[0] // 2 - 8, photo.shape[1] // 2 - 10,
               16, 20)
  result = model.inpaint(photo, hole, **FAST)
  assert result.image.shape == photo.shape
  assert result.image.dtype == photo.dtype
  np.testing.assert_array_equal(result.image[~hole], photo[~hole])
  assert not np.array_equal(result.image[hole], photo[hole])
  assert result.generated.shape == result.blended.shape == (64, 64, 3)
  assert result.crop_mask.shape == (64, 64, 1)
  assert 0 < (result.crop_mask == 0).mean() < 0.5


def test_fill_is_the_photos_own_not_noise(model):
  """The pasted fill is close to the face that was there (a real model)."""
  photo = _face()
  hole = _hole(photo.shape, 40, 30, 20, 30)
  result = model.inpaint(photo, hole, iterations=30)
  error = np.abs(result.image[hole].astype(int) - photo[hole]).mean()
  assert error < 40, error  # a uniform grey fill is ~60 away on this face


def test_skimage_and_opencv_hole_conventions_agree(model):
  photo = _face()
  hole = _hole(photo.shape, 40, 30, 12, 14)
  expected = model.inpaint(photo, hole, **FAST).image
  for convention in (hole.astype(np.uint8), hole.astype(np.uint8) * 255,
                     hole.astype(np.float32)[..., None]):
    np.testing.assert_array_equal(
        model.inpaint(photo, convention, **FAST).image, expected)


def test_hole_outside_the_training_crop_gets_a_square_frame_around_it(model):
  photo = _face((300, 200))
  hole = _hole(photo.shape, 5, 10, 20, 30)  # top-left corner of the photo
  result = model.inpaint(photo, hole, **FAST)
  frame = result.frame
  assert frame.source == "around the hole"
  assert frame.height == frame.width
  rows, cols = frame.slices()
  assert hole[rows, cols].sum() == hole.sum()
  np.testing.assert_array_equal(result.image[~hole], photo[~hole])


def test_training_crop_frame_for_a_hole_inside_it(model):
  result = model.inpaint(_face(), _hole((109, 89), 40, 30, 10, 10), **FAST)
  assert result.frame == photos.Frame(27, 17, 54, 54, "training crop")


def test_batches_as_lists_of_sizes_and_as_nhwc_arrays(model):
  faces = [_face(), _face((300, 200))]
  holes = [_hole(f.shape, 40, 30, 10, 10) for f in faces]
  results = model.inpaint(faces, holes, **FAST)
  assert [r.image.shape for r in results] == [f.shape for f in faces]
  stacked = np.stack([_face()] * 3)
  results = model.inpaint(stacked, np.stack([holes[0]] * 3), **FAST)
  assert len(results) == 3 and results[2].image.shape == (109, 89, 3)
  # Alone or in a batch, a photo gets the same fill.
  np.testing.assert_array_equal(results[0].image,
                                model.inpaint(faces[0], holes[0], **FAST).image)


@pytest.mark.parametrize("photo, hole, message", [
    (np.zeros((50, 40, 3), np.uint16), None, "photo: dtype uint16"),
    (np.full((50, 40, 3), 2.0), None, r"photo: float values in \[2, 2\]"),
    (np.zeros((50, 40)), None, r"photo: shape \(50, 40\), expected HxWx3"),
    (np.zeros((50, 40, 4), np.uint8), None, "expected HxWx3"),
    (np.zeros((50, 40, 3), np.uint8), np.zeros((40, 50), bool),
     "hole: shape .* expected 50x40"),
    (np.zeros((50, 40, 3), np.uint8), np.full((50, 40), 0.5), "hole: values"),
    (np.zeros((50, 40, 3), np.uint8), np.eye(50, 40) * 2, "hole: values 0, 2"),
    (np.zeros((50, 40, 3), np.uint8), np.zeros((50, 40), bool),
     "hole: no missing pixel"),
    (np.zeros((300, 200, 3), np.uint8), _hole((300, 200), 0, 0, 150, 150),
     "hole: spans 150x150 px, more than the model's frame"),
])
def test_bad_input_is_one_line_value_error(model, photo, hole, message):
  if hole is None:
    hole = _hole(photo.shape, 5, 5, 4, 4)
  with pytest.raises(ValueError, match=message) as raised:
    model.inpaint(photo, hole, **FAST)
  assert "\n" not in str(raised.value)


def test_bad_options_and_models_are_value_errors(model):
  with pytest.raises(ValueError, match="iteratons: not an inpainting option"):
    model.inpaint(_face(), _hole((109, 89), 40, 30, 5, 5), iteratons=5)
  with pytest.raises(ValueError, match="iterations=0"):
    model.inpaint(_face(), _hole((109, 89), 40, 30, 5, 5), iterations=0)
  with pytest.raises(ValueError, match="model=no_such_model"):
    tf_inpaint.load_model("no_such_model")
  with pytest.raises(ValueError, match="hole: 1 holes for 2 photos"):
    model.inpaint([_face(), _face()], [_hole((109, 89), 40, 30, 5, 5)])


def test_import_does_not_start_tensorflow():
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  code = ("import sys, tf_inpaint; assert 'tensorflow' not in sys.modules; "
          "print(tf_inpaint.__version__, 'load_model' in dir(tf_inpaint))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True).stdout
  assert out.split() == [tf_inpaint.__version__, "True"]


def test_progress_is_reported_up_to_the_whole_search(model):
  fractions = []
  model.inpaint(_face(), _hole((109, 89), 40, 30, 5, 5), iterations=20,
                on_progress=fractions.append)
  assert fractions == sorted(fractions) and fractions[-1] == 1.0
  assert len(fractions) == 2  # every 10 iterations
