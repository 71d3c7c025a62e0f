"""The headline figures of a results folder, computed once for the paper's text and for the
README, so that both quote the same numbers (a test checks the README against
``paper/results/``).

    python paper/figures.py                    # print the README block from paper/results
    python paper/figures.py --write-readme     # replace the block in README.md

The block sits in README.md between ``<!-- figures:begin -->`` and ``<!-- figures:end -->``.
Every number is read from the files ``benchmarks/full.py`` writes: ``summary.csv``
(``moqlab bench``), ``highs/throughput.csv``, ``scale.csv``, ``milp_scaling.csv``,
``suite_optima.csv``, ``dfl.csv`` and ``full.json``; an absent file leaves its lines out.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
HEADLINE_METHODS = ("milp", "search", "greedy", "jax-greedy", "relax", "roundup")


def _read(results: Path, name: str) -> pd.DataFrame | None:
    path = results / name
    return pd.read_csv(path) if path.exists() else None


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def key_figures(results: Path) -> dict:
    """A JSON-ready dict of the headline numbers of ``results`` (fractions, not percent)."""
    results = Path(results)
    figures: dict = {}
    stamp = results / "full.json"
    machine = results / "machine.json"
    info = json.loads(machine.read_text()) if machine.exists() else {}
    figures["commit"] = (json.loads(stamp.read_text())["commit"] if stamp.exists()
                         else info.get("commit", "unknown"))
    figures["machine"] = f"{info.get('cpu', '?')}, {info.get('cores', '?')} cores"
    figures["full"] = stamp.exists()
    figures["quick"] = bool(info.get("quick", False))
    if stamp.exists():
        stamped = json.loads(stamp.read_text())
        steps = stamped.get("steps", {})
        passed = [step["seconds"] for step in steps.values() if step.get("returncode") == 0]
        figures["full_minutes"] = round((sum(passed) if steps else stamped.get("seconds", 0))
                                        / 60, 1)
        figures["full_failed"] = [name for name, step in steps.items()
                                  if step.get("returncode") != 0]

    summary = _read(results, "summary.csv")
    if summary is not None:
        figures["quality"] = [
            {key: (row[key] if key in ("method", "size") else _number(row[key]))
             for key in ("method", "size", "instances", "at_reference", "mean_gap",
                         "worst_gap", "mean_certified_gap", "feasible", "mean_seconds")}
            for _, row in summary.iterrows() if row["method"] in HEADLINE_METHODS]

    highs = _read(results, "highs/throughput.csv")
    if highs is not None:
        whole = highs[(highs["size"] == "all") & (highs["batch"] == highs.groupby("method")
                                                  ["batch"].transform("max"))]
        anchor = whole[whole["method"] == "highspy"]["instances_per_s"].iloc[0]
        figures["speed_vs_highs"] = {
            row["method"]: {"ratio": float(row["instances_per_s"] / anchor),
                            "mean_gap": _number(row["mean_gap_pct"] / 100),
                            "worst_gap": _number(row["worst_gap_pct"] / 100),
                            "seconds": float(row["seconds"]),
                            "compile_seconds": float(row["compile_seconds"])}
            for _, row in whole.iterrows()}
        figures["speed_cases"] = int(whole["instances"].max())

    scale = _read(results, "scale.csv")
    if scale is not None:
        largest = scale[scale["lines"] == scale["lines"].max()]
        figures["scale"] = {"lines": int(largest["lines"].iloc[0]), "seconds": {
            method: float(group["seconds"].min())
            for method, group in largest.groupby("method") if method != "generate"}}
        search = scale[scale["method"] == "search"]
        if len(search) and search["lines"].max() < scale["lines"].max():
            widest = search[search["lines"] == search["lines"].max()]
            figures["scale_search"] = {"lines": int(widest["lines"].iloc[0]),
                                       "seconds": float(widest["seconds"].min())}

    milp = _read(results, "milp_scaling.csv")
    if milp is not None:
        proven = milp[milp["proven"].astype(bool)]
        figures["milp_largest_proven_lines"] = int(proven["lines"].max()) if len(proven) else 0
        figures["milp_series"] = int(milp.groupby(["max_lines", "families"]).ngroups)

    optima = _read(results, "suite_optima.csv")
    if optima is not None:
        figures["suite"] = {"proved": len(optima),
                            "reproduced": int(optima["reproduced"].sum())}

    dfl = _read(results, "dfl.csv")
    if dfl is not None:
        top = dfl[dfl["degree"] == dfl["degree"].max()].set_index("method")["regret_mean"]
        if {"fy", "two-stage"} <= set(top.index):
            figures["dfl"] = {"degree": int(dfl["degree"].max()), "fy": float(top["fy"]),
                              "two_stage": float(top["two-stage"])}
    return figures


def _pct(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def readme_block(figures: dict) -> str:
    """The Markdown the README quotes between its figure markers."""
    source = ("`benchmarks/full.py`" if figures["full"] else
              "`moqlab bench --quick`" if figures.get("quick") else "`moqlab bench`")
    lines = [BEGIN, f"Measured by {source} at commit `{figures['commit']}` on "
             f"{figures['machine']} (`paper/results/`):", ""]
    if "quality" in figures:
        lines += ["| size | method | cases | at the optimum | mean gap | worst gap | "
                  "certified gap (mean) | mean seconds |", "|---|---|---|---|---|---|---|---|"]
        for row in figures["quality"]:
            if row["size"] in ("medium", "large"):
                lines.append(f"| {row['size']} | `{row['method']}` | {int(row['instances'])} | "
                             f"{_pct(row['at_reference'], 0)} | {_pct(row['mean_gap'])} | "
                             f"{_pct(row['worst_gap'])} | {_pct(row['mean_certified_gap'])} | "
                             f"{row['mean_seconds']:.3g} |")
        lines.append("")
    if "speed_vs_highs" in figures:
        speed = figures["speed_vs_highs"]
        parts = [f"`{method}` {value['ratio']:.2g}× (mean gap {_pct(value['mean_gap'])})"
                 for method, value in speed.items() if method != "highspy"]
        lines.append(f"- Speed against plain HiGHS on the {figures['speed_cases']} medium orders, "
                     f"same run, instances per second: {', '.join(parts)}.")
    if "scale" in figures:
        scale = figures["scale"]
        parts = [f"`{method}` {seconds:.1f} s" for method, seconds in scale["seconds"].items()]
        lines.append(f"- One order of {scale['lines']:,} lines: {', '.join(parts)} "
                     "(jax-greedy: second call).")
    if "scale_search" in figures:
        widest = figures["scale_search"]
        lines.append(f"- `search` on one order of {widest['lines']:,} lines: "
                     f"{widest['seconds']:.1f} s, its first call (compiles included).")
    if "suite" in figures:
        lines.append(f"- `milp` re-proved {figures['suite']['proved']} suite optima in this run; "
                     f"{figures['suite']['reproduced']} equal the recorded ones.")
    if "dfl" in figures:
        dfl = figures["dfl"]
        lines.append(f"- Decision-focused learning (degree {dfl['degree']}): held-out regret "
                     f"{dfl['fy']:.4f} against {dfl['two_stage']:.4f} for two-stage training.")
    lines.append(END)
    return "\n".join(lines)


def readme_with(block: str, text: str) -> str:
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"README.md lacks the markers {BEGIN} ... {END}")
    return head + block + tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    block = readme_block(key_figures(args.results))
    if args.write_readme:
        README.write_text(readme_with(block, README.read_text()))
        print(f"updated {README}")
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
