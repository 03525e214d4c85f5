import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from scipy import io as scipy_io

from conftest import CELEBA_DIR, write_images
from tf_inpaint import data
from tf_inpaint.errors import InputError


def _first_batch(dataset):
  return next(iter(dataset)).numpy()


# TFDS's seeded mock draws an invalid pets `head_bbox` (min > max) from its
# second example on, so pets is mocked with one example.
@pytest.mark.parametrize("name, count", [
    (name, 1 if name == "oxford_iiit_pet" else 4)
    for name in sorted(data.TFDS_DATASETS)])
def test_every_tfds_name_loads_through_mock_data(name, count, monkeypatch):
  monkeypatch.setattr(data, "unreachable_download_host", lambda builder: None)
  with tfds.testing.mock_data(num_examples=count):
    source = data.open_source(name)
    assert source.num_examples == count
    images = list(data.images(source, 32).as_numpy_iterator())
  assert len(images) == count
  assert all(i.shape == (32, 32, 3) and i.dtype == np.float32 for i in images)
  assert all(i.min() >= -1 and i.max() <= 1 for i in images)


def test_tfds_training_batches_under_mock_data(monkeypatch):
  monkeypatch.setattr(data, "unreachable_download_host", lambda builder: None)
  with tfds.testing.mock_data(num_examples=10):
    source = data.open_source("svhn_cropped")
    batch = _first_batch(data.training_batches(source, 64, 4, seed=0))
  assert batch.shape == (4, 64, 64, 3)


def test_an_unprepared_tfds_dataset_offline_fails_fast(monkeypatch):
  """No download host answers: one line naming the way out, no retries."""
  monkeypatch.setattr(data, "unreachable_download_host",
                      lambda builder: "ufldl.stanford.edu")
  with tfds.testing.mock_data(num_examples=2):
    with pytest.raises(InputError,
                       match="dataset=svhn_cropped: not prepared in .*"
                       "ufldl.stanford.edu cannot be reached .*folder:PATH"):
      data.open_source("svhn_cropped")


def test_the_download_probe_names_a_host_that_does_not_answer():
  class Builder:  # what the probe reads of a TFDS builder
    url_infos = {"https://nonexistent.invalid/train.mat": None}
  assert data.unreachable_download_host(Builder()) == "nonexistent.invalid"
  Builder.url_infos = None
  assert data.unreachable_download_host(Builder()) is None


def test_folder_is_recursive_sorted_and_scaled(tmp_path):
  write_images(str(tmp_path / "b"), 2, seed=1)
  write_images(str(tmp_path / "a"), 3, seed=2, ext="jpg")
  (tmp_path / "notes.txt").write_text("not an image")
  source = data.open_source(f"folder:{tmp_path}")
  assert source.num_examples == 5
  paths = [p.decode() for p in source.records.as_numpy_iterator()]
  assert paths == sorted(paths) and paths[0].endswith(os.path.join("a",
                                                                   "000.jpg"))
  images = np.stack(list(data.images(source, 32).as_numpy_iterator()))
  assert images.shape == (5, 32, 32, 3)
  assert -1 <= images.min() < -0.5 and 0.5 < images.max() <= 1


def test_folder_skips_an_unreadable_image_with_a_warning(image_folder, caplog):
  bad = os.path.join(image_folder, "broken.png")
  with open(bad, "wb") as f:
    f.write(b"this is not a png")
  source = data.open_source(f"folder:{image_folder}")
  assert source.num_examples == 12
  assert any(bad in record.getMessage() for record in caplog.records)


def test_folder_selection_by_first_image_and_count(image_folder):
  source = data.open_source(f"folder:{image_folder}", first_image=3,
                            num_images=4)
  paths = [os.path.basename(p.decode())
           for p in source.records.as_numpy_iterator()]
  assert source.num_examples == 4 and paths == [
      "002.png", "003.png", "004.png", "005.png"]


def test_per_subfolder_selects_the_same_range_in_each_class(tmp_path):
  # DTD's layout: one folder per class, of different sizes; a nested folder
  # sorts between a class's own files but is a class of its own.
  write_images(str(tmp_path / "banded"), 5, seed=1)
  write_images(str(tmp_path / "banded" / "extra"), 2, seed=2)
  write_images(str(tmp_path / "bubbly"), 4, seed=3)
  selected = data.list_image_files(str(tmp_path), first_image=2,
                                   num_images=2, per_subfolder=True)
  names = [os.path.relpath(p, tmp_path) for p in selected]
  assert names == sorted(names) and sorted(names) == sorted(
      [os.path.join("banded", "001.png"), os.path.join("banded", "002.png"),
       os.path.join("banded", "extra", "001.png"),
       os.path.join("bubbly", "001.png"), os.path.join("bubbly", "002.png")])
  train = data.open_source(f"folder:{tmp_path}", num_images=3,
                           per_subfolder=True)
  held_out = data.open_source(f"folder:{tmp_path}", first_image=4,
                              per_subfolder=True)
  train_paths = set(train.records.as_numpy_iterator())
  held_out_paths = set(held_out.records.as_numpy_iterator())
  assert (train.num_examples, held_out.num_examples) == (8, 3)
  assert not train_paths & held_out_paths
  with pytest.raises(InputError, match="first_image=6, num_images=0: selects "
                     "no image; the largest of its 3 image folders has 5"):
    data.open_source(f"folder:{tmp_path}", first_image=6, per_subfolder=True)


@pytest.mark.parametrize("spec", ["mat:{tmp}/x.mat", "{tmp}/one.png"])
def test_per_subfolder_is_refused_where_there_are_no_folders(tmp_path, spec):
  write_images(str(tmp_path), 1)
  os.rename(tmp_path / "000.png", tmp_path / "one.png")
  with pytest.raises(InputError, match="^per_subfolder: .* not a folder"):
    data.read_images(spec.format(tmp=tmp_path), 32, "square",
                     per_subfolder=True)


def test_textures_of_mixed_and_small_sizes_are_cropped_then_resized(tmp_path):
  write_images(str(tmp_path / "a"), 2, size=(160, 213), seed=1)
  write_images(str(tmp_path / "b"), 2, size=(40, 30), seed=2)  # below 64 px
  source = data.open_source(f"folder:{tmp_path}", per_subfolder=True)
  batch = _first_batch(data.training_batches(source, 64, 4, seed=0,
                                             augment="flip_rot90"))
  assert batch.shape == (4, 64, 64, 3) and batch.dtype == np.float32
  assert -1 <= batch.min() and batch.max() <= 1


@pytest.mark.skipif(not os.path.isdir(CELEBA_DIR), reason="no shared data")
def test_real_celeba_files_get_the_dcgan_face_framing():
  """The half-size faces crop to their central 54x54, as the full size to 108."""
  source = data.open_source(f"folder:{CELEBA_DIR}", num_images=3)
  raw = tf.io.decode_jpeg(tf.io.read_file(
      os.path.join(CELEBA_DIR, "000001.jpg")))
  assert tuple(raw.shape) == (109, 89, 3)
  assert tuple(data._central_crop(raw, "celeba").shape) == (54, 54, 3)
  full = tf.image.resize(raw, (218, 178))
  assert tuple(data._central_crop(full, "celeba").shape) == (108, 108, 3)
  images = list(data.images(source, 64, crop="celeba").as_numpy_iterator())
  assert len(images) == 3 and images[0].shape == (64, 64, 3)


def test_mat_file_in_svhn_layout(tmp_path):
  images = np.random.default_rng(0).integers(0, 256, (32, 32, 3, 7),
                                             dtype=np.uint8)
  path = tmp_path / "svhn.mat"
  scipy_io.savemat(str(path), {"X": images})
  source = data.open_source(f"mat:{path}")
  assert source.num_examples == 7 and source.augment == "digits"
  first = next(data.images(source, 32).as_numpy_iterator())
  np.testing.assert_allclose(first, images[..., 0] / 127.5 - 1, atol=1e-5)


def test_same_seed_same_batches_and_resume_skips_exactly(image_folder):
  source = data.open_source(f"folder:{image_folder}")
  stream = data.training_batches(source, 32, 4, seed=5)
  first_five = [b.numpy() for b in stream.take(5)]
  again = [b.numpy() for b in data.training_batches(source, 32, 4,
                                                    seed=5).take(5)]
  resumed = [b.numpy() for b in data.training_batches(
      source, 32, 4, seed=5, start_step=3).take(2)]
  other_seed = _first_batch(data.training_batches(source, 32, 4, seed=6))
  np.testing.assert_array_equal(np.stack(first_five), np.stack(again))
  np.testing.assert_array_equal(np.stack(first_five[3:]), np.stack(resumed))
  assert not np.array_equal(first_five[0], other_seed)


def test_texture_augmentation_reaches_all_8_symmetries_and_is_seeded():
  image = tf.reshape(tf.linspace(-1.0, 1.0, 8 * 8 * 3), (8, 8, 3))
  seeds = [tf.constant([0, i], tf.int64) for i in range(64)]
  outputs = [data._augment(image, "flip_rot90", s).numpy() for s in seeds]
  symmetries = [np.rot90(v, k) for v in (image.numpy(), image.numpy()[:, ::-1])
                for k in range(4)]
  seen = {next(i for i, s in enumerate(symmetries) if np.array_equal(o, s))
          for o in outputs}  # StopIteration if any output is not a symmetry
  assert seen == set(range(8))
  again = [data._augment(image, "flip_rot90", s).numpy() for s in seeds]
  np.testing.assert_array_equal(outputs, again)


def test_flips_for_faces_never_for_digits():
  image = tf.reshape(tf.linspace(-1.0, 1.0, 8 * 8 * 3), (8, 8, 3))
  flipped = [data._augment(image, "flip", tf.constant([0, i], tf.int64))
             for i in range(16)]
  assert any(np.array_equal(f, image[:, ::-1]) for f in flipped)
  # Digit augmentation shifts by at most 2 px and never mirrors: a bar at
  # columns 3-4 of 16 stays in the left third (inverted or not).
  bar = np.full((16, 16, 3), -0.5, np.float32)
  bar[:, 3:5] = 0.8
  for i in range(16):
    out = data._augment(tf.constant(bar), "digits",
                        tf.constant([0, i], tf.int64)).numpy()
    profile = out.mean(axis=(0, 2))
    assert np.argmax(np.abs(profile - np.median(profile))) <= 6


@pytest.mark.parametrize("spec, message", [
    ("imagenet", "dataset='imagenet': expected one of"),
    ("folder:/no/such/folder", "no such directory"),
    ("mat:/no/such.mat", "no such file"),
])
def test_bad_specs_are_named(spec, message):
  with pytest.raises(InputError, match=message):
    data.open_source(spec)


def test_folder_without_images_is_an_error(tmp_path):
  (tmp_path / "readme.txt").write_text("hi")
  with pytest.raises(InputError, match="no image files"):
    data.open_source(f"folder:{tmp_path}")


def test_mat_without_x_is_an_error(tmp_path):
  path = tmp_path / "labels.mat"
  scipy_io.savemat(str(path), {"y": np.arange(3)})
  with pytest.raises(InputError, match="no variable 'X'"):
    data.open_source(f"mat:{path}")


def test_batch_larger_than_dataset_is_an_error(image_folder):
  source = data.open_source(f"folder:{image_folder}")
  with pytest.raises(InputError, match="batch_size=13: larger than"):
    data.training_batches(source, 32, 13, seed=0)


def test_a_failed_tfds_download_is_a_clear_error(monkeypatch):
  def unreachable(self, *args, **kwargs):
    raise ConnectionError("Failed to resolve 'ufldl.stanford.edu'")

  monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare",
                      unreachable)
  # The hosts answer (so the fast probe passes), the download still fails.
  monkeypatch.setattr(data, "unreachable_download_host", lambda builder: None)
  with pytest.raises(InputError, match="dataset=svhn_cropped: TFDS could not "
                     "download or prepare it .*ConnectionError"):
    data.open_source("svhn_cropped", data_dir="/tmp/no-tfds-here")


def _damage(folder):
  """A truncated JPEG and a TIFF named .jpg among good images: PIL's header
  check passes both, TensorFlow cannot decode either."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  pixels = np.random.default_rng(1).integers(0, 256, (40, 52, 3), np.uint8)
  Image.fromarray(pixels).save(os.path.join(folder, "004a.jpg"))
  path = os.path.join(folder, "004a.jpg")
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
  Image.fromarray(pixels).save(os.path.join(folder, "007a.jpg"), format="TIFF")
  return ["004a.jpg", "007a.jpg"]


def test_files_that_cannot_be_decoded_are_skipped_before_anything_else(
    image_folder, caplog):
  names = _damage(image_folder)
  source = data.open_source(f"folder:{image_folder}")
  assert source.num_examples == 12
  kept = [os.path.basename(p.decode())
          for p in source.records.as_numpy_iterator()]
  assert not set(names) & set(kept)
  assert "Skipped 2 of 14 images" in caplog.text
  # Every record left decodes: none is dropped later, after a resume's skip.
  batches = list(data.training_batches(source, 32, 4, seed=0).take(6))
  assert all(b.shape == (4, 32, 32, 3) for b in batches)


def test_a_folder_where_nothing_decodes_is_one_error(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  for i in range(3):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
        tmp_path / f"{i}.jpg", format="TIFF")
  with pytest.raises(InputError, match=r"none of the 3 image files can be "
                     r"decoded: 0.jpg \(a TIFF file"):
    data.open_source(f"folder:{tmp_path}")


def test_selection_counts_files_before_checking_them(image_folder):
  _damage(image_folder)
  paths = data.list_image_files(image_folder, first_image=5, num_images=3)
  # Sorted: ..., 004.png, 004a.jpg (broken), 005.png, ...; 5th to 7th.
  assert [os.path.basename(p) for p in paths] == ["004.png", "005.png"]


def test_negative_selections_count_from_the_end_of_each_subfolder(tmp_path):
  for name, count in (("a", 5), ("b", 8)):
    write_images(str(tmp_path / name), count, seed=count)
  def names(first, count):
    return [os.path.relpath(p, tmp_path) for p in data.list_image_files(
        str(tmp_path), first, count, per_subfolder=True)]
  held_out, training = names(-3, 0), names(1, -3)
  assert held_out == ["a/002.png", "a/003.png", "a/004.png",
                      "b/005.png", "b/006.png", "b/007.png"]
  assert len(training) == 2 + 5 and not set(training) & set(held_out)
  assert names(-3, 1) == ["a/002.png", "b/005.png"]
  with pytest.raises(InputError, match="first_image=1, num_images=-9: "
                     "selects no image"):
    names(1, -9)


def test_counting_from_the_end_is_refused_outside_folders(tmp_path):
  path = tmp_path / "svhn.mat"
  scipy_io.savemat(str(path), {"X": np.zeros((32, 32, 3, 4), np.uint8)})
  with pytest.raises(InputError, match="counting from the end works in image "
                     "folders"):
    data.open_source(f"mat:{path}", first_image=-3)


@pytest.mark.parametrize("first, count, message", [
    (0, 0, "first_image=0: expected >= 1"),
    (0, -1, "first_image=0: expected >= 1"),
    (20, 0, "first_image=20, num_images=0: selects no image"),
])
def test_one_selection_rule_for_every_reader(image_folder, first, count,
                                             message):
  with pytest.raises(InputError, match=message):
    data.read_images(image_folder, 32, "none", first, count)
  with pytest.raises(InputError, match=message):
    data.open_source(f"folder:{image_folder}", first_image=first,
                     num_images=count)


def test_a_16_bit_greyscale_png_keeps_its_tones(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  ramp = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (32, 1))
  Image.fromarray(ramp).save(tmp_path / "deep.png")
  images, _ = data.read_images(str(tmp_path / "deep.png"), 32, "none")
  row = images[0, 0, :, 0]
  assert row[0] == pytest.approx(-1, abs=0.02)
  assert row[-1] == pytest.approx(1, abs=0.02)
  assert np.all(np.diff(row) > 0)


@pytest.mark.parametrize("values, expected", [
    (np.array([0.0, 0.5, 1.0]), [0, 128, 255]),          # floats in [0, 1]
    (np.array([0.0, 127.6, 255.0]), [0, 128, 255]),      # floats in [0, 255]
    (np.array([0, 300, 65535], np.uint16), None),        # would wrap: refused
    (np.array([-1.0, 0.0, 1.0]), None),
])
def test_mat_pixels_are_converted_by_range_never_wrapped(tmp_path, values,
                                                         expected):
  x = np.broadcast_to(values[None, None, None, :], (32, 32, 3, 3)).copy()
  path = tmp_path / "x.mat"
  scipy_io.savemat(str(path), {"X": x})
  if expected is None:
    with pytest.raises(InputError, match="expected pixels in"):
      data.open_source(f"mat:{path}")
    return
  records = list(data.open_source(f"mat:{path}").records.as_numpy_iterator())
  assert [int(r[0, 0, 0]) for r in records] == expected


def _solid_images(folder, colours, size=(20, 20)):
  """One flat image per colour value, so a decoded image names its source."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  os.makedirs(folder, exist_ok=True)
  for i, value in enumerate(colours):
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(
        os.path.join(folder, f"{i:03d}.png"))


def test_several_sources_are_mixed_selected_and_resumed_exactly(tmp_path):
  _solid_images(str(tmp_path / "a"), [10] * 6)
  _solid_images(str(tmp_path / "b"), [200] * 12)
  spec = f"folder:{tmp_path / 'a'}@2-5+folder:{tmp_path / 'b'}"
  source = data.open_source(spec)
  assert source.num_examples == 4 + 12
  assert source.spec == (f"folder:{tmp_path / 'a'}@2-5+"
                         f"folder:{tmp_path / 'b'}@1-12")
  # The canonical spec opens the same selection again.
  assert data.open_source(source.spec).num_examples == 16
  levels = [round(float(i.mean()), 2)
            for i in data.images(source, 16).as_numpy_iterator()]
  assert sorted(set(levels)) == [round(10 / 127.5 - 1, 2),
                                 round(200 / 127.5 - 1, 2)]
  assert levels.count(round(10 / 127.5 - 1, 2)) == 4
  # Mixed from the start, not one source after the other.
  assert levels[:8].count(levels[0]) < 8
  stream = [b.numpy() for b in data.training_batches(source, 16, 4,
                                                     seed=3).take(6)]
  resumed = [b.numpy() for b in data.training_batches(
      source, 16, 4, seed=3, start_step=4).take(2)]
  np.testing.assert_array_equal(np.stack(stream[4:]), np.stack(resumed))
  assert data.dataset_name(spec) == "a+b"


def test_tfds_and_folders_mix_and_mat_files_do_not(tmp_path, monkeypatch):
  monkeypatch.setattr(data, "unreachable_download_host", lambda builder: None)
  write_images(str(tmp_path / "faces"), 3)
  with tfds.testing.mock_data(num_examples=4):
    source = data.open_source(f"svhn_cropped+folder:{tmp_path / 'faces'}",
                              split="train")
    images = list(data.images(source, 32, "none").as_numpy_iterator())
  assert len(images) == 7 and all(i.shape == (32, 32, 3) for i in images)
  scipy_io.savemat(str(tmp_path / "d.mat"), {"X": np.zeros((32, 32, 3, 2),
                                                           np.uint8)})
  with pytest.raises(InputError, match="sources of different kinds cannot be "
                     "mixed"):
    data.open_source(f"mat:{tmp_path / 'd.mat'}+folder:{tmp_path / 'faces'}")


@pytest.mark.parametrize("spec, flags, message", [
    ("folder:{a}+folder:{a}", {}, "is listed twice"),
    ("folder:{a}+folder:{a}/", {}, "is listed twice"),
    ("folder:{a}+", {}, "an empty source between"),
    ("folder:{a}@3-2+folder:{b}", {}, "range 3-2 is empty"),
    ("folder:{a}@0-2", {}, "not 1-based"),
    ("folder:{a}+folder:{b}", {"first_image": 2},
     "with several sources give each its own range"),
    ("folder:{a}@1-2", {"num_images": 2}, "gives its own range; drop one"),
    ("folder:{a}+folder:{tmp}/missing", {}, "no such directory"),
    ("folder:{a}+folder:{empty}", {}, "no image files"),
])
def test_bad_source_lists_are_refused_in_one_line(tmp_path, spec, flags,
                                                  message):
  write_images(str(tmp_path / "a"), 3)
  write_images(str(tmp_path / "b"), 3, seed=1)
  os.makedirs(tmp_path / "empty")
  spec = spec.format(a=tmp_path / "a", b=tmp_path / "b", tmp=tmp_path,
                     empty=tmp_path / "empty")
  with pytest.raises(InputError, match=message) as raised:
    data.open_source(spec, **flags)
  assert "\n" not in str(raised.value)


def test_auto_crop_of_sources_that_disagree_is_refused(tmp_path, monkeypatch):
  write_images(str(tmp_path / "a"), 3)
  scipy_io.savemat(str(tmp_path / "d1.mat"), {"X": np.zeros((32, 32, 3, 2),
                                                            np.uint8)})
  scipy_io.savemat(str(tmp_path / "d2.mat"), {"X": np.zeros((32, 32, 3, 3),
                                                            np.uint8)})
  source = data.open_source(f"mat:{tmp_path / 'd1.mat'}+"
                            f"mat:{tmp_path / 'd2.mat'}")
  assert source.num_examples == 5 and source.augment == "digits"
  monkeypatch.setattr(data, "unreachable_download_host", lambda builder: None)
  with tfds.testing.mock_data(num_examples=2):
    mixed = data.open_source(f"celeb_a+folder:{tmp_path / 'a'}")
  with pytest.raises(InputError, match="crop=auto: the sources of .* have "
                     "different own crops; pass --crop"):
    data.resolve(mixed, "auto", "flip")
  assert data.resolve(mixed, "celeba", "auto") == ("celeba", "flip")
