r"""Writes every results table of the docs from the JSON it reports.

  python tools/docs_tables.py           # rewrite the tables in place
  python tools/docs_tables.py --check   # exit 1 if any table is out of date

A table is a block of a Markdown file (README.md, docs/*.md, MODELS.md)
between two comments that say what it is made from:

  <!-- table evaluate docs/results/pets64.json metric=psnr_hole -->
  ...generated, never edited by hand...
  <!-- end table -->

The first word is the kind of table (a function below), then the JSON files
(`FILE@center,left`: only those masks of a results.json), then options
(`labels=` takes `;` between labels and `_` for a space). Under each table a line says the command and the CPU that
produced the figures, from the JSON's `command` and `machine` fields ("not
recorded" where a file predates them). tests/test_docs.py runs --check.
"""
import argparse
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tf_inpaint import evaluate  # pylint: disable=g-import-not-at-top
from tf_inpaint.errors import InputError  # pylint: disable=g-import-not-at-top

PAGES = ("README.md", "docs/*.md", "tf_inpaint/pretrained/MODELS.md")
BLOCK = re.compile(r"(<!-- table (\w+)((?: [^>]*?)?) -->\n)(.*?)"
                   r"(<!-- end table -->)", re.DOTALL)


def _load(path: str) -> dict:
  with open(os.path.join(ROOT, path), encoding="utf-8") as f:
    return json.load(f)


def _machine(facts) -> str:
  """One phrase for a `machine` field: a dict of `tf_inpaint.machine.facts`
  or, in older files, a sentence."""
  if not facts:
    return "CPU not recorded"
  if isinstance(facts, str):
    return facts
  flags = ", ".join(facts.get("cpu_flags", [])) or "no AVX2"
  return (f"{facts['cpu']} ({flags}), {facts['cores_used']} cores, "
          f"TensorFlow {facts['tensorflow']}")


def provenance(results: list[dict]) -> str:
  """The commands and CPUs behind a table, one line each, as Markdown."""
  lines = []
  for result in results:
    command = result.get("command")
    line = (f"`{command}`" if command else "command not recorded") + \
        f" — {_machine(result.get('machine'))}"
    if line not in lines:
      lines.append(line)
  return "".join(f"<small>{line}</small>  \n" for line in lines)


def evaluate_table(results, metric="psnr_hole", masks=None, methods=None,
                   digits=None, paper=None):
  """Masks x methods from `bin/evaluate` results.json files of the same
  images (joined as `bin/evaluate --merge` would); one metric. `paper`
  (FILE:DATASET) adds the published whole-image PSNR beside `psnr`."""
  rows = evaluate.join_results(results, [r.get("command", "?")
                                         for r in results])
  if masks:
    rows = [r for r in rows if r["mask"] in masks.split(",")]
  if methods:
    order = methods.split(",")
    rows = sorted((r for r in rows if r["method"] in order),
                  key=lambda r: order.index(r["method"]))
  best = min if metric == "seconds_per_image" else max
  digits = int(digits) if digits else (3 if metric.startswith("ssim") else 2)
  reference = None
  if paper:
    path, dataset = paper.split(":")
    reference = _load(path)[dataset]
  return evaluate.markdown_table(rows, metric, best=best, digits=digits,
                                 reference=reference)


def _labels(labels: str) -> list[str]:
  """A block's `labels=`: `;` between labels, `_` for a space."""
  return [label.replace("_", " ") for label in labels.split(";")]


def _cell(value, best, digits) -> str:
  """A figure, bold where it is its row's or column's best; empty for None."""
  if value is None:
    return ""
  text = f"{value:.{digits}f}"
  return f"**{text}**" if value == best else text


def by_mask_table(results, columns=None, labels=None, digits="2"):
  """Masks x settings from a benchmark's JSON whose masks map settings to
  one figure each (blend methods, detail weights); the best in bold."""
  (result,) = results
  masks = [key for key, value in result.items() if isinstance(value, dict)
           and value and all(isinstance(v, (int, float))
                             for v in value.values())]
  columns = (columns.split(",") if columns else
             list(dict.fromkeys(k for m in masks for k in result[m])))
  names = _labels(labels) if labels else columns
  lines = ["| mask | " + " | ".join(names) + " |",
           "|---|" + "---:|" * len(columns)]
  for mask in masks:
    values = [result[mask].get(column) for column in columns]
    top = max(v for v in values if v is not None)
    cells = [_cell(v, top, digits) for v in values]
    lines.append(f"| {mask} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def prior_quality_table(results):
  """One column per model, from benchmarks/prior_quality.py's JSON lines."""
  rows = [("whole-face inversion PSNR, mean ± std (dB)",
           lambda r: f"{r['inversion_psnr']:.2f} ± {r['inversion_psnr_std']:.2f}"),
          ("hole PSNR of `ours`, center (dB)",
           lambda r: f"{r['ours_center_psnr_hole']:.2f}"),
          ("hole PSNR of `ours`, random80 (dB)",
           lambda r: f"{r['ours_random80_psnr_hole']:.2f}"),
          ("D's real-probability gap, training minus held-out",
           lambda r: f"{r['d_gap']:+.3f}")]
  lines = ["| measure | " + " | ".join(f"`{r['model']}`" for r in results)
           + " |", "|---|" + "---:|" * len(results)]
  lines += [f"| {name} | " + " | ".join(cell(r) for r in results) + " |"
            for name, cell in rows]
  return "\n".join(lines) + "\n"


def photo_memory_table(results):
  """Peak resident memory per photo size and path (benchmarks/photo_memory.py)."""
  (result,) = results
  peaks = {(row["megapixels"], row["path"]): row["peak_rss_gb"]
           for row in result["results"]}
  lines = ["| photo | `bin/inpaint` | Python API |", "|---|---:|---:|"]
  for megapixels in sorted({size for size, _ in peaks}):
    side = round((megapixels * 1e6) ** 0.5)
    cells = [f"{peaks[(megapixels, path)]:.2f} GB" if (megapixels, path)
             in peaks else "" for path in ("cli", "api")]
    lines.append(f"| {megapixels:g} megapixels ({side}×{side}) | "
                 + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def throughput_table(results):
  """Ours against the plain Keras peers, from train_throughput.py and
  inpaint_throughput.py (one run each): `--conv_impl=auto` per precision."""
  train, search = results
  precisions = list(train["keras_peer_images_per_s"])
  rows = [("training, 64×64, batch 64, images/s",
           lambda p: train["ours_images_per_s"][f"{p}/auto"],
           lambda p: train["keras_peer_images_per_s"][p])]
  for batch in (64, 1):
    rows.append((f"z search, {batch} image{'s' * (batch > 1)} per batch, "
                 "image-iterations/s",
                 lambda p, b=batch: search["ours_image_iterations_per_s"][
                     f"{p}/auto/batch{b}"],
                 lambda p, b=batch: search["keras_peer_image_iterations_per_s"][
                     f"{p}/batch{b}"]))
  lines = ["| benchmark | " + " | ".join(
      f"ours, {p} | Keras peer, {p} | ratio, {p}" for p in precisions) + " |",
           "|---|" + "---:|" * (3 * len(precisions))]
  for name, ours, peer in rows:
    cells = [f"{ours(p):.1f} | {peer(p):.1f} | {ours(p) / peer(p):.2f}×"
             for p in precisions]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def first_job_table(results):
  """benchmarks/first_job.py: `bin/inpaint --mask=center` per precision,
  wall clock, peak memory, hole PSNR, and where the time went."""
  (result,) = results
  lines = ["| run | wall clock | peak RSS | hole PSNR | start-up | search "
           "| tuning |", "|---|---:|---:|---:|---:|---:|---:|"]
  for run in result["runs"]:
    phases = run["phases"]
    lines.append(
        f"| `{run['what']}` | {run['seconds']:.1f} s | "
        f"{run['peak_rss_gb']:.2f} GB | {run['psnr_hole']:.2f} | "
        f"{phases['start-up']:.1f} s | {phases['search']:.1f} s | "
        f"{phases['tuning']:.1f} s |")
  return "\n".join(lines) + "\n"


def bundles_table(results):
  """Each bundled model's numbers per network and file size, counted from
  its weights.npz, and the digest runs record it by (`models.identity`)."""
  del results  # made from the bundles themselves
  import numpy as np  # pylint: disable=import-outside-toplevel
  from tf_inpaint import models  # pylint: disable=import-outside-toplevel
  lines = ["| name | numbers in the weights, per network | weights.npz | "
           "sha256 |", "|---|---|---:|---|"]
  for name in models.BUNDLED_MODELS:
    path = os.path.join(models.resolve(name), models.WEIGHTS_FILENAME)
    counts = {}
    with np.load(path) as weights:
      for key in weights.files:
        network = key.split("/")[0]
        counts[network] = counts.get(network, 0) + weights[key].size
    sizes = " + ".join(f"{network} {count / 1e6:.2f} M"
                       for network, count in counts.items())
    digest = models.identity(name).rsplit(" ", 1)[1].rstrip(")")
    lines.append(f"| `{name}` | {sizes} | "
                 f"{os.path.getsize(path) / 1e6:.1f} MB | `{digest}` |")
  return "\n".join(lines) + "\n"


def overfitting_table(results):
  """D's real-probability gap beside hole PSNR, per checkpoint: the
  benchmarks/overfitting.py results, then the file of the checkpoints'
  `ours` scores; matched by run and step."""
  *gap_results, scores = results
  gaps = {gap["model"]: gap for gap in gap_results}
  lines = ["| run | step | D(x) training | D(x) validation | D's gap | "
           "square_large | circle |", "|---|---:|---:|---:|---:|---:|---:|"]
  for checkpoint in scores["checkpoints"]:
    gap = gaps[f"{checkpoint['run']} (step {checkpoint['step']})"]
    lines.append(
        f"| DiffAugment: {checkpoint['diff_augment']} | "
        f"{checkpoint['step']:,} | {gap['d_real_train']:.3f} | "
        f"{gap['d_real_validation']:.3f} | {gap['d_gap']:+.3f} | "
        f"{checkpoint['square_large_psnr_hole']:.2f} | "
        f"{checkpoint['circle_psnr_hole']:.2f} |")
  return "\n".join(lines) + "\n"


def checkpoints_table(results, labels):
  """Hole PSNR of `ours` on center and random80 per generator: a
  `bin/evaluate` results.json gives one row, a benchmarks/ema_vs_raw.py
  result two (the last-step G, the EMA G); `labels` names the rows."""
  rows = []
  for result in results:
    if "results" in result:
      scores = {row["mask"]: row["psnr_hole"] for row in result["results"]
                if row["method"] == "ours"}
      rows.append((scores["center"], scores["random80"]))
    else:
      rows += [(result[f"{g}_center_psnr_hole"],
                result[f"{g}_random80_psnr_hole"]) for g in ("raw", "ema")]
  names = _labels(labels)
  if len(names) != len(rows):
    raise ValueError(f"{len(names)} labels for {len(rows)} rows")
  best = [max(column) for column in zip(*rows)]
  lines = ["| generator | center | random80 |", "|---|---:|---:|"]
  for name, row in zip(names, rows):
    cells = [_cell(v, top, 2) for v, top in zip(row, best)]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def inpaint_defaults_table(results):
  """Each bundled model's `inpaint_defaults` (config.json): the options
  `bin/inpaint` uses per mask beyond the paper's."""
  del results  # made from the bundles themselves
  from tf_inpaint import models  # pylint: disable=import-outside-toplevel
  lines = ["| model | mask | options beyond the paper's |", "|---|---|---|"]
  for name in models.BUNDLED_MODELS:
    for mask, options in sorted(models.inpaint_defaults(name).items()):
      flags = " ".join(f"`--{key}={value}`" for key, value in
                       sorted(options.items()))
      lines.append(f"| `{name}` | `{mask}` | {flags} |")
  return "\n".join(lines) + "\n"


def evaluate_memory_table(results):
  """Peak resident memory of `bin/evaluate` runs of different lengths, and
  the peak of each quarter of each run (benchmarks/evaluate_memory.py)."""
  (result,) = results
  lines = ["| images × masks × methods | peak RSS | peak of each quarter of the "
           "run | wall clock |", "|---|---:|---|---:|"]
  for run in result["runs"]:
    quarters = " / ".join(f"{gb:.2f}" for gb in run["peak_rss_gb_by_quarter"])
    lines.append(f"| {run['num_images']:,} × {len(run['masks'])} × "
                 f"{len(run['methods'])} | {run['peak_rss_gb']:.2f} GB | "
                 f"{quarters} GB | {run['seconds'] / 60:.0f} min |")
  return "\n".join(lines) + "\n"


def tuning_table(results, mask="center"):
  """Per-image tuning settings against the search alone, from
  benchmarks/tuning_settings.py runs (one search per run, so settings
  differ in the tuning only; seconds compare within a run)."""
  lines = ["| tuning | layers | steps | learning rate | hole PSNR | "
           "seconds per image |", "|---|---:|---:|---:|---:|---:|"]
  for index, result in enumerate(results):
    for name, scores in result[mask].items():
      if name == "search" and index == 0:  # the same search in every run
        lines.append(f"| none (the search alone) | | | | "
                     f"{scores['psnr_hole']:.2f} | |")
      elif name.startswith("tuned_"):
        rate, _, layers, *steps = name[len("tuned_"):].split(":")
        steps = steps[0] if steps else str(result["tune_iters"])
        lines.append(f"| tuned | {layers} | {steps} | {rate} | "
                     f"{scores['psnr_hole']:.2f} | "
                     f"{scores['seconds_per_image']:.2f} |")
  return "\n".join(lines) + "\n"


def precisions_table(results, metric="psnr_hole"):
  """The same `bin/evaluate` run in each precision: one column per run's
  `inpaint_config.precision`, and the largest difference from the first."""
  names = [r["inpaint_config"]["precision"] for r in results]
  values = [{(row["mask"], row["method"]): row[metric]
             for row in r["results"]} for r in results]
  lines = ["| mask | method | " + " | ".join(names) + " | difference |",
           "|---|---|" + "---:|" * (len(names) + 1)]
  for mask, method in values[0]:
    cells = [v[mask, method] for v in values]
    difference = max(abs(c - cells[0]) for c in cells)
    lines.append(f"| {mask} | {method} | "
                 + " | ".join(f"{c:.3f}" for c in cells)
                 + f" | {difference:.3f} |")
  return "\n".join(lines) + "\n"


KINDS = {"evaluate": evaluate_table, "by_mask": by_mask_table,
         "prior_quality": prior_quality_table,
         "photo_memory": photo_memory_table, "throughput": throughput_table,
         "first_job": first_job_table, "bundles": bundles_table,
         "overfitting": overfitting_table,
         "checkpoints": checkpoints_table,
         "inpaint_defaults": inpaint_defaults_table,
         "evaluate_memory": evaluate_memory_table, "tuning": tuning_table,
         "precisions": precisions_table}


def _load_part(spec: str) -> dict:
  """A JSON file, or with `@MASK,...` only those masks of a results.json."""
  path, _, masks = spec.partition("@")
  result = _load(path)
  if masks:
    result = {**result, "results": [row for row in result["results"]
                                    if row["mask"] in masks.split(",")]}
  return result


def render(kind: str, spec: str) -> tuple[str, str]:
  """The table and its provenance for one block's `kind` and `spec`."""
  words = spec.split()
  paths = [w for w in words if "=" not in w]
  options = dict(w.split("=", 1) for w in words if "=" in w)
  results = [_load_part(path) for path in paths]
  return KINDS[kind](results, **options), provenance(results)


def regenerate(text: str, page: str) -> str:
  """`text` with every table block rendered anew; a block that cannot be is
  a TableError naming the page and the block."""
  previous = []  # a table made from the same runs as the one above says so

  def block(match):
    try:
      table, made_by = render(match.group(2), match.group(3))
    except (OSError, KeyError, TypeError, ValueError, InputError) as error:
      raise TableError(f"{page}: table {match.group(2)}"
                       f"{match.group(3)}: {error}") from error
    shown = ("<small>The same runs as the table above.</small>  \n"
             if previous and made_by == previous[-1] and made_by else made_by)
    previous.append(made_by)
    return match.group(1) + table + "\n" + shown + match.group(5)
  return BLOCK.sub(block, text)


class TableError(Exception):
  """A table block whose JSON is missing or does not fit its kind."""


def pages() -> list[str]:
  return sorted(path for pattern in PAGES
                for path in glob.glob(os.path.join(ROOT, pattern)))


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true",
                      help="change nothing; exit 1 if a table is out of date")
  args = parser.parse_args()
  stale = []
  for path in pages():
    with open(path, encoding="utf-8") as f:
      text = f.read()
    try:
      new = regenerate(text, os.path.relpath(path, ROOT))
    except TableError as error:
      print(f"error: {error}", file=sys.stderr)
      return 1
    if new != text:
      stale.append(os.path.relpath(path, ROOT))
      if not args.check:
        with open(path, "w", encoding="utf-8") as f:
          f.write(new)
  if stale:
    print(("out of date: " if args.check else "rewrote: ")
          + ", ".join(stale), file=sys.stderr)
  return 1 if stale and args.check else 0


if __name__ == "__main__":
  sys.exit(main())
