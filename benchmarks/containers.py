"""Container orders (a capacity family: one container per supplier, next to the three MOQ
families): how every method does against HiGHS's proven optimum, side by side in one run.

Cases: the suite's container cases (small, medium: proven optima recorded in the manifest;
large: HiGHS's best in 240 s) and fresh ``moqlab.generate.stock(..., containers=...)``
orders of 170 to 12,000 lines (mixed price breaks, tightness 0.5, container fractions 0.3
and 0.5), whose reference is ``milp`` run here (``mip_rel_gap = 0``, ``--milp-time`` seconds; ``proven`` says whether it
closed). Each method runs with its defaults in budget mode (the heuristics: solve without
the ceilings, priced rounds where their order overflows, repair; ``bound=False``: the
quality is measured against the reference, and the time is the method's own). ``gap`` is
``(reference - reward) / |reference|``; ``rounds`` the method's solves.

Writes ``benchmarks/results/containers.{csv,md}``.

Usage::

    .venv/bin/python benchmarks/containers.py [--methods greedy,search] [--max-items 700]
        [--milp-time 120]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
FRESH_ITEMS = (12, 60, 300, 700)  # about 170 to 12,000 lines (ladders of ~17 lines)
FRACTIONS = (0.3, 0.5)


def cases(max_items: int, milp_time: float):
    import moqlab

    for size in ("small", "medium", "large"):
        for case in moqlab.load_suite(size):
            if "containers" in case.name:
                yield case.name, case.instance, case.limit, case.optimum, case.proven, None
    for n in FRESH_ITEMS:
        if n > max_items:
            continue
        for f, fraction in enumerate(FRACTIONS):
            gen = moqlab.generate.stock(n, seed=900 + 10 * n + f, price_breaks="mixed",
                                        containers=fraction, n_suppliers=max(2, n // 40))
            res = moqlab.solve(gen.instance, budget=gen.limit, method="milp",
                               time_limit=milp_time, bound=False)
            yield (f"fresh-{n}-c{fraction:g}", gen.instance, gen.limit, res.reward,
                   res.status == "optimal", res.seconds)


def run(args) -> pd.DataFrame:
    import moqlab

    rows = []
    for name, inst, limit, reference, proven, milp_seconds in cases(args.max_items,
                                                                     args.milp_time):
        for method in args.methods:
            res = moqlab.solve(inst, budget=limit, method=method, bound=False)
            gap = (reference - res.reward) / max(abs(reference), 1e-12)
            rows.append({"case": name, "lines": inst.n_lines, "reference": reference,
                         "proven": proven, "milp_seconds": milp_seconds, "method": method,
                         "reward": res.reward, "feasible": res.feasible, "gap": gap,
                         "seconds": res.seconds,
                         "rounds": res.info.get("ceiling_rounds", 1)})
            print(f"{name:42s} {inst.n_lines:6d} lines  {method:8s} gap {100 * gap:7.2f} %  "
                  f"{res.seconds:6.1f} s  rounds {rows[-1]['rounds']}  feasible {res.feasible}  "
                  f"(reference proven {proven}"
                  + (f", milp {milp_seconds:.1f} s)" if milp_seconds is not None else ")"),
                  flush=True)
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    lines = ["# Container orders: gap to the proven optimum (or HiGHS's best) per method", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}; "
             f"{time.strftime('%Y-%m-%d')}. Suite cases: optimum from the manifest; fresh "
             "cases: milp in this run (its time in `milp s`).", "",
             "| case | lines | proven | milp s | method | gap | seconds | rounds | feasible |",
             "|---|---|---|---|---|---|---|---|---|"]
    for _, r in frame.iterrows():
        milp = "" if pd.isna(r.milp_seconds) else f"{r.milp_seconds:.1f}"
        lines.append(f"| {r.case} | {r.lines} | {r.proven} | {milp} | {r.method} | "
                     f"{100 * r.gap:.2f} % | {r.seconds:.2f} | {r.rounds} | {r.feasible} |")
    lines.append("")
    for method, part in frame.groupby("method", sort=False):
        lines.append(f"- {method}: {len(part)} orders, gap mean {100 * part.gap.mean():.2f} %, "
                     f"median {100 * part.gap.median():.2f} %, worst "
                     f"{100 * part.gap.max():.2f} %; feasible {part.feasible.mean():.0%}; "
                     f"mean {part.seconds.mean():.2f} s")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", type=lambda s: s.split(","),
                        default=["greedy", "roundup", "search"])
    parser.add_argument("--max-items", type=int, default=700)
    parser.add_argument("--milp-time", type=float, default=120.0)
    parser.add_argument("--out", default=str(RESULTS / "containers"))
    args = parser.parse_args()
    frame = run(args)
    frame.to_csv(args.out + ".csv", index=False)
    Path(args.out + ".md").write_text(markdown(frame))
    print(markdown(frame))


if __name__ == "__main__":
    main()
