r"""One set of tables from several `bin/evaluate` runs of the same images.

  python benchmarks/results_tables.py docs/results/celeba64_protocol_*.json \
      > docs/results/celeba64_protocol.md

Runs made a mask, or a group of methods, at a time (each on its own core, or
in another session) join into the tables of `results.md`: whole-image PSNR,
hole PSNR and SSIM, seconds per image. Runs of other images, model or seed,
or two runs of one (mask, method), are refused (`evaluate.join_results`).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from tf_inpaint import evaluate  # pylint: disable=g-import-not-at-top
from tf_inpaint.errors import InputError  # pylint: disable=g-import-not-at-top


def main(paths: list[str]) -> None:
  if not paths:
    sys.exit("usage: results_tables.py RESULTS.json [...] > TABLES.md")
  results = []
  for path in paths:
    with open(path, encoding="utf-8") as file:
      results.append(json.load(file))
  try:
    rows = evaluate.join_results(results, paths)
  except InputError as error:
    sys.exit(f"error: {error}")
  print(evaluate.results_markdown(rows, evaluate.describe_selection(
      results[0])), end="")


if __name__ == "__main__":
  main(sys.argv[1:])
