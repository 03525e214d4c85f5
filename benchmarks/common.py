"""Measurements shared by the benchmark scripts."""
import json
import os
import resource
import shlex
import sys
import time

import tensorflow as tf


def forward_flops(generator, discriminator) -> tuple[int, int]:
  """The model's float ops for one image through G and through D.

  Counted from the layer shapes (2 per multiply-add of the dense and 5x5
  convolution layers), so the figure is the architecture's and does not
  change with how the convolutions are computed.
  """
  config = generator.config
  g_flops = 2 * int(tf.size(generator.project.kernel))
  resolution = 4
  for layer in (*generator.upsample, generator.to_image):
    g_flops += 2 * resolution**2 * int(tf.size(layer.kernel))  # per input px
    resolution *= 2
  d_flops = 2 * int(tf.size(discriminator.to_logit.kernel))
  resolution = config.image_size
  for layer in discriminator.downsample:
    resolution //= 2
    d_flops += 2 * resolution**2 * int(tf.size(layer.kernel))  # per output px
  return g_flops, d_flops


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
  """The machine's practical float32 peak: a large tf.matmul, in GFLOP/s."""
  a = tf.random.normal((n, n))
  matmul = tf.function(tf.matmul)
  matmul(a, a).numpy()
  start = time.perf_counter()
  for _ in range(repeats):
    result = matmul(a, a)
  result.numpy()
  return repeats * 2 * n**3 / (time.perf_counter() - start) / 1e9


def supported_precisions() -> list:
  """float32, and the mixed precision `auto` picks here if it picks one."""
  from tf_inpaint import precision  # pylint: disable=g-import-not-at-top
  chosen = precision.resolve("auto")
  return ["float32"] + ([chosen] if chosen != "float32" else [])


def mean_real_probability(discriminator, images) -> float:
  """D's mean probability "real" over `images`, in batches of 64."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  logits = np.concatenate([discriminator(batch).numpy() for batch in
                           tf.data.Dataset.from_tensor_slices(images).batch(64)])
  return float(tf.reduce_mean(tf.sigmoid(logits)))


def _memory_gb(pid: int) -> tuple[float, float]:
  """A live process's (resident memory, its peak so far) in GB; zeros once
  it has gone."""
  values = {}
  try:
    with open(f"/proc/{pid}/status") as f:
      for line in f:
        if line.startswith(("VmRSS:", "VmHWM:")):
          values[line[:5]] = int(line.split()[1]) * 1024 / 1e9
  except OSError:
    pass
  return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def watch_memory(command: list, cap_gb: float, cwd: str = None,
                 every: float = 0.1) -> dict:
  """Runs `command` in a new process; its peak RSS (GB of 10^9 bytes: the
  kernel's high-water mark, VmHWM, read every `every` s; not the child's
  ru_maxrss, which starts at this process's RSS at the fork), seconds, RSS
  samples (seconds, GB), and `stopped_over_cap_gb` if it passed `cap_gb`
  and was killed, or `error` (its last stderr line) if it failed."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import threading  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
  capped, samples, peak = threading.Event(), [], [0.0]

  def watch():
    while process.poll() is None:
      rss, high_water = _memory_gb(process.pid)
      peak[0] = max(peak[0], high_water)
      samples.append((round(time.perf_counter() - start, 1), round(rss, 3)))
      if rss > cap_gb:
        capped.set()
        process.kill()
      time.sleep(every)

  watcher = threading.Thread(target=watch, daemon=True)
  watcher.start()
  stderr = process.stderr.read()  # until the process closes it
  watcher.join()  # it ends when the process has
  result = {"peak_rss_gb": round(peak[0], 3),
            "seconds": round(time.perf_counter() - start, 1),
            "rss_samples": samples}
  if capped.is_set():
    result["stopped_over_cap_gb"] = cap_gb
  elif process.returncode:
    result["error"] = (stderr.strip().splitlines() or ["?"])[-1]
  return result


def peak_rss_mb() -> float:
  """This process's peak resident memory so far (Linux reports KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def define_validation_flags(model="celeba64", num_images: int = 64,
                            iterations: int = 500) -> None:
  """The flags of the benchmarks that inpaint validation images: --model,
  --images (required), --first_image, --num_images, --masks, --iterations
  and --seed, with this benchmark's defaults."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_string("model", model, "DCGAN: bundled name or run dir.")
  flags.DEFINE_string("images", None, "Validation images (a dataset spec).")
  flags.DEFINE_integer("first_image", 1, "1-based index of the first image.")
  flags.DEFINE_integer("num_images", num_images, "How many images.")
  flags.DEFINE_list("masks", ["center", "random80"], "Masks.")
  flags.DEFINE_integer("iterations", iterations, "Iterations of the z search.")
  flags.DEFINE_integer("seed", 0, "Seed of the masks and initial z.")
  flags.mark_flags_as_required(["images"])


def load_model_and_validation_images():
  """(model config, G, D, images) for the flags of `define_validation_flags`:
  the DCGAN --model and its --images, framed as it was trained."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from tf_inpaint import data, models  # pylint: disable=g-import-not-at-top
  given = flags.FLAGS
  model_config, train_config, generator, discriminator = models.load(
      given.model, "dcgan")
  images, _ = data.read_images(given.images, model_config.image_size,
                               data.training_crop(train_config),
                               given.first_image, given.num_images)
  return model_config, generator, discriminator, images


def print_report(result: dict) -> None:
  """Prints a benchmark's result as one JSON line, with the command that ran
  it and the machine it ran on: a figure quoted in the docs names both."""
  from tf_inpaint import machine  # pylint: disable=g-import-not-at-top
  script = os.path.relpath(os.path.abspath(sys.argv[0]),
                           os.path.dirname(os.path.dirname(__file__)))
  print(json.dumps({"command": shlex.join(["python", script, *sys.argv[1:]]),
                    "machine": machine.facts(), **result}))
