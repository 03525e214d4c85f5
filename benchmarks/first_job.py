r"""The README's first job, timed as a user meets it; prints one JSON line.

  python benchmarks/first_job.py --precisions=float32,mixed_bfloat16

Runs `bin/inpaint --mask=center` (the 16 bundled faces, the model's own
defaults) in a fresh process per precision, and reports its wall clock, its
peak resident memory (VmHWM, GB of 10^9 bytes), the hole PSNR it wrote to
metrics.json and where its time went (metrics.json's `seconds`). Run it on
an idle machine, after installation and after one earlier run (the strided
layers' kernel choice is measured once per machine and cached).
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from absl import app, flags  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"],
                  "--precision of each run.")
flags.DEFINE_list("extra_flags", [], "More bin/inpaint flags for every run, "
                  "e.g. --extra_flags=--tune_iters=30.")
flags.DEFINE_float("cap_gb", 8.0, "Stop a run whose RSS passes this.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  runs = []
  with tempfile.TemporaryDirectory(prefix="first_job_") as folder:
    for name in FLAGS.precisions:
      outdir = os.path.join(folder, name)
      command = [sys.executable, "bin/inpaint", "--mask=center",
                 f"--precision={name}", *FLAGS.extra_flags,
                 f"--outdir={outdir}", f"--logdir={outdir}_logs"]
      measured = common.watch_memory(command, FLAGS.cap_gb, cwd=REPO)
      del measured["rss_samples"]
      if "error" not in measured and "stopped_over_cap_gb" not in measured:
        with open(os.path.join(outdir, "metrics.json")) as f:
          metrics = json.load(f)
        measured.update(psnr_hole=round(metrics["mean"]["psnr_hole"], 3),
                        phases=metrics["seconds"])
      runs.append({"what": " ".join(["bin/inpaint --mask=center",
                                     f"--precision={name}",
                                     *FLAGS.extra_flags]), **measured})
      print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
  common.print_report({"runs": runs})


if __name__ == "__main__":
  app.run(main)
