r"""One time/quality figure from several `bin/evaluate` results.

  python benchmarks/time_quality_figure.py \
      docs/results/celeba64_center_encoder_tuned.json \
      docs/results/celeba64_random80_time_quality.json \
      docs/results/celeba64_time_quality.png

Each mask's panel takes its rows from the first file that has that mask, so
runs made one mask at a time can be shown side by side; seconds compare
only within a panel (one run), never across panels.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from tf_inpaint import summaries  # pylint: disable=g-import-not-at-top


def main(argv: list[str]) -> None:
  if len(argv) < 3:
    sys.exit("usage: time_quality_figure.py RESULTS.json [...] FIGURE.png")
  rows, masks_seen = [], set()
  for path in argv[1:-1]:
    with open(path, encoding="utf-8") as file:
      results = json.load(file)["results"]
    new_masks = {row["mask"] for row in results} - masks_seen
    rows += [row for row in results if row["mask"] in new_masks]
    masks_seen |= new_masks
  summaries.time_quality_figure(rows, argv[-1])


if __name__ == "__main__":
  main(sys.argv)
