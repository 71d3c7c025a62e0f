"""Quality of the heuristics on the benchmark suite, against the oracle's optimum or bound.

For every suite case (``moqlab.load_suite``) and method (default ``greedy`` and
``roundup``), solve at the case's limit, verify (every answer goes through the verifier),
and measure the relative gap

* budget mode: ``(ref - reward) / |ref|`` with ``ref`` the proven optimum, or, when the
  oracle stopped at its time limit, its best bound (an upper bound, so the gap is an
  over-estimate; such cases are flagged ``proven = False``);
* target modes: the answer is a specific frontier order, so the gap is
  ``|ref - reward| / |ref|`` against the proven frontier order's reward (a deviation: a
  heuristic can overshoot), and ``exact`` says whether the method returned that reward.

Rewards are money, so ``|ref|`` below 1 divides by 1 (an absolute gap). Budget and target
modes are summarised on separate rows.

Writes ``quality_cases.csv`` (one row per case and method) and ``quality_table.csv`` /
``quality_table.md`` (per size class and method: cases, feasibility rate, mean and worst gap,
share of cases solved to the reference, median seconds).

Usage::

    .venv/bin/python benchmarks/quality_table.py [--out benchmarks/results] [--size tiny ...]
        [--method greedy --method roundup] [--exclude CASE]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

import moqlab

DEFAULT_METHODS = ("greedy", "roundup")
EXACT = 1e-9


def reference(case) -> tuple[float, str]:
    """The value a heuristic is measured against and what it is."""
    if case.proven and case.optimum is not None:
        return case.optimum, "optimum"
    if case.mode == "budget" and case.bound is not None and math.isfinite(case.bound):
        return case.bound, "bound"
    return math.nan, "none"


def gap(case, reward: float, ref: float) -> float:
    """Relative gap; rewards are money, so a reference below 1 in size divides by 1."""
    if not math.isfinite(ref):
        return math.nan
    scale = max(abs(ref), 1.0)
    diff = ref - reward if case.mode == "budget" else abs(ref - reward)
    return diff / scale


def case_rows(cases, methods) -> list[dict]:
    rows = []
    for case in cases:
        ref, kind = reference(case)
        for method in methods:
            start = time.perf_counter()
            res = moqlab.solve(case.instance, method=method, **{case.mode: case.limit})
            seconds = time.perf_counter() - start
            g = gap(case, res.reward, ref) if res.feasible else math.nan
            rows.append({"case": case.name, "family": case.family, "size": case.size,
                         "mode": case.mode,
                         "modes": "budget" if case.mode == "budget" else "target", "method": method, "lines": case.instance.n_lines,
                         "reward": res.reward, "reference": ref, "reference_kind": kind,
                         "proven": case.proven, "feasible": res.feasible, "status": res.status,
                         "gap": g, "exact": bool(res.feasible and math.isfinite(g)
                                                 and abs(g) <= EXACT),
                         "seconds": seconds})
    return rows


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(("tiny", "small", "medium", "large", "all"))}
    everything = rows.assign(size="all")
    frame = pd.concat([rows, everything], ignore_index=True)
    table = frame.groupby(["size", "modes", "method"], sort=False).agg(
        cases=("case", "size"),
        proven_refs=("proven", "sum"),
        feasible_rate=("feasible", "mean"),
        mean_gap_pct=("gap", lambda g: 100 * np.nanmean(g) if g.notna().any() else math.nan),
        worst_gap_pct=("gap", lambda g: 100 * np.nanmax(g) if g.notna().any() else math.nan),
        exact_rate=("exact", "mean"),
        median_seconds=("seconds", "median")).reset_index()
    table["_o"] = table["size"].map(order)
    return table.sort_values(["_o", "modes", "method"]).drop(columns="_o").reset_index(drop=True)


def to_markdown(table: pd.DataFrame) -> str:
    header = ("| size | modes | method | cases | proven refs | feasible | mean gap % | "
              "worst gap % | at reference | median s |")
    lines = [header, "|" + "---|" * 10]
    for row in table.itertuples(index=False):
        lines.append(f"| {row.size} | {row.modes} | {row.method} | {row.cases} | "
                     f"{row.proven_refs} | "
                     f"{100 * row.feasible_rate:.0f}% | {row.mean_gap_pct:.3f} | "
                     f"{row.worst_gap_pct:.3f} | {100 * row.exact_rate:.0f}% | "
                     f"{row.median_seconds:.4f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--size", action="append", help="size class (repeatable)")
    parser.add_argument("--method", action="append", help="method (repeatable)")
    parser.add_argument("--exclude", action="append", default=[],
                        help="skip this case (repeatable), e.g. one a method is too slow on")
    args = parser.parse_args(argv)
    cases = [c for c in moqlab.load_suite(args.size) if c.name not in args.exclude]
    rows = pd.DataFrame(case_rows(cases, args.method or DEFAULT_METHODS))
    table = summarise(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "quality_cases.csv", index=False)
    table.to_csv(out / "quality_table.csv", index=False)
    markdown = to_markdown(table)
    (out / "quality_table.md").write_text(
        "Gaps of the heuristics on the benchmark suite (datasets/suite), relative to the "
        "proven optimum (or the MILP's best bound where it was not proven: an over-estimate;"
        " cases without an optimum or a finite bound count for feasibility only). Written by "
        "benchmarks/quality_table.py."
        "\n\n" + markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
