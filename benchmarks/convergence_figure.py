r"""Draws the curves of an `inpaint_convergence.py` result.

  python benchmarks/convergence_figure.py \
      docs/results/celeba64_encoder_convergence.json \
      docs/results/celeba64_encoder_convergence.png

One row per mask: the encoder start's contextual loss and hole PSNR after
each iteration count it was run for, against the random start's values after
its iterations (a dashed line), so how far the encoder start is from the
target speed-up can be seen rather than read from numbers.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top


def draw(report: dict, path: str) -> None:
  """Saves the figure of one convergence `report` (its JSON line) to `path`."""
  masks = [key for key, value in report.items()
           if isinstance(value, dict) and "encoder_start" in value]
  if not masks:
    raise ValueError("the result holds no mask with an 'encoder_start' curve; "
                     "expected the JSON line of inpaint_convergence.py")
  figure, axes = plt.subplots(len(masks), 2, squeeze=False,
                              figsize=(9, 3.2 * len(masks)))
  for row, mask in zip(axes, masks):
    curve = report[mask]["encoder_start"]
    iterations = [int(count) for count in curve]
    (baseline_name,) = [key for key in report[mask]
                        if key.startswith("random_start_")]
    baseline_iterations = baseline_name.rsplit("_", 1)[1]
    for axis, measure, label in zip(
        row, ("contextual", "psnr_hole"),
        ("contextual loss (mean)", "hole PSNR (dB)")):
      axis.plot(iterations, [curve[str(i)][measure] for i in iterations],
                "o-", label="encoder start")
      axis.axhline(report[mask][baseline_name][measure], color="gray",
                   linestyle="--",
                   label=f"random start, {baseline_iterations} iterations")
      axis.set_xscale("log")
      axis.set_xlabel("iterations of the z search")
      axis.set_ylabel(label)
      axis.set_title(f"{mask}: {label}")
      axis.grid(alpha=0.3)
      axis.legend(fontsize=8)
  figure.suptitle(f"{report.get('model')}, {report.get('num_images')} "
                  "validation images", fontsize=10)
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def main(argv: list[str]) -> None:
  if len(argv) != 3:
    sys.exit("usage: convergence_figure.py RESULT.json FIGURE.png")
  with open(argv[1], encoding="utf-8") as file:
    draw(json.load(file), argv[2])


if __name__ == "__main__":
  main(sys.argv)
