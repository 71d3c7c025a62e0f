"""Build the paper to PDF with Typst (the ``typst`` package from PyPI, no TeX needed).

    python paper/build.py                                 # paper/results -> paper/paper.pdf
    python paper/build.py --results build/ci-results --out build/paper.pdf

The results folder is what ``moqlab bench`` writes; the paper reads its tables and figures
from there (every number in the Results section), so nothing in the paper is typed by hand.
Optional inputs (what ``benchmarks/full.py`` adds to ``moqlab bench``'s files, for
example ``dfl.csv`` or ``highs/throughput.csv``) are included when present; the headline
numbers of the text come from ``paper/figures.py``, as the README's do.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
ROOT = HERE.parent
OPTIONAL = ("dfl.csv", "summary.csv", "worse_than_roundup.csv", "highs/throughput.csv",
            "scale.csv", "milp_scaling.csv", "suite_optima.csv")


def build(results: Path, out: Path) -> Path:
    import json

    import typst

    from figures import key_figures

    results = results.resolve()
    try:
        inside = "/" + results.relative_to(ROOT).as_posix()
    except ValueError:
        raise SystemExit(f"the results folder must be inside the repository: {results}")
    missing = [name for name in ("table.csv", "machine.json", "gap_vs_time.png",
                                 "throughput.png", "highs_time.png")
               if not (results / name).exists()]
    if missing:
        raise SystemExit(f"{results} lacks {', '.join(missing)}: run `moqlab bench` first")
    have = ",".join(name for name in OPTIONAL if (results / name).exists())
    out.parent.mkdir(parents=True, exist_ok=True)
    typst.compile(str(HERE / "paper.typ"), output=str(out), root=str(ROOT),
                  sys_inputs={"results": inside, "have": have,
                              "figures": json.dumps(key_figures(results))})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--out", type=Path, default=HERE / "paper.pdf")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    path = build(args.results, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, "
          f"{time.perf_counter() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
