"""How good is each answer, as a user without the optimum can know it: ``search``'s reward,
its gap to the best known reward, and its certified gap (``Result.gap``: the bound of
``moqlab.relaxations._bound``, dual bound then branch and bound over the MOQ groups).

Cases: the suite's medium and large stock cases (budget mode; reference: the recorded
optimum, or HiGHS's best known reward when not proven) and the fresh stock orders of
``benchmarks/stock_orders.py`` (reference: the best reward HiGHS found in 600 s). Each
order is solved once with ``search`` (default options), then bounded with
``bound_time`` seconds of branching (default 5, the library's default). ``gap`` is
``(reference - reward) / max(|reference|, |reward|)`` (negative: better than the
reference; -100 % where the reference is the empty order);
``certified_gap`` is ``(bound - reward) / |bound|``; ``root_gap`` the same with the dual
bound before branching; ``reference_above_bound`` flags a bound below the reference (a bug:
never expected).

Writes ``benchmarks/results/certified-gap.{csv,md}``.

Usage::

    .venv/bin/python benchmarks/certified_gap.py [--max-items 6000] [--bound-time 5]
        [--only medium,large,fresh] [--filter NAME]
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"


def cases(only: list[str], max_items: int, name_filter: str | None):
    import moqlab
    from benchmarks.stock_orders import DEFAULT_OUT, orders

    for size in ("medium", "large"):
        if size not in only:
            continue
        for case in moqlab.load_suite(size):
            if name_filter and name_filter not in case.name:
                continue
            if case.mode == "budget" and case.family == "stock":
                yield size, case.name, case.instance, case.limit, case.optimum, case.proven
    if "fresh" in only:
        recorded = {row["name"]: row for row in csv.DictReader(open(DEFAULT_OUT))}
        for name, gen in orders(max_items):
            if name_filter and name_filter not in name:
                continue
            if gen.instance.n_lines < 1000 or name not in recorded:
                continue
            row = recorded[name]
            yield ("fresh", name, gen.instance, gen.limit, float(row["best_reward"]),
                   row["proven"] == "True")


def run(args) -> pd.DataFrame:
    import moqlab

    rows = []
    for group, name, inst, limit, reference, proven in cases(args.only, args.max_items,
                                                              args.filter):
        start = time.perf_counter()
        res = moqlab.solve(inst, budget=limit, method="search", bound=True,
                           bound_time=args.bound_time)
        wall = time.perf_counter() - start
        root = res.info.get("root_bound", res.bound)
        scale = max(abs(reference), abs(res.reward), 1e-12)
        row = {"group": group, "case": name, "lines": inst.n_lines, "reference": reference,
               "proven": proven, "reward": res.reward, "feasible": res.feasible,
               "gap": (reference - res.reward) / scale,
               "bound": res.bound, "certified_gap": res.gap,
               "root_gap": (root - res.reward) / abs(root) if root else 0.0,
               "reference_above_bound": reference > res.bound * (1 + 1e-9) + 1e-9,
               "search_seconds": res.seconds,
               "bound_seconds": res.info.get("bound_seconds", 0.0),
               "bound_nodes": res.info.get("bound_nodes", 0), "wall_seconds": wall}
        rows.append(row)
        print(f"{name:32s} lines {inst.n_lines:6d} gap {100 * row['gap']:7.3f} %  certified "
              f"{100 * row['certified_gap']:7.3f} % (root {100 * row['root_gap']:7.3f} %)  "
              f"search {res.seconds:6.1f} s  bound {row['bound_seconds']:5.1f} s  nodes "
              f"{row['bound_nodes']}", flush=True)
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, bound_time: float) -> str:
    lines = [f"# search's certified gaps (bound_time {bound_time:g} s)", "",
             f"Machine: {platform.machine()}, {platform.python_version()}; "
             f"{time.strftime('%Y-%m-%d')}.", "",
             "| group | case | lines | gap to reference | certified gap | dual-bound gap "
             "| search s | bound s | branches |", "|---|---|---|---|---|---|---|---|---|"]
    for _, r in frame.iterrows():
        lines.append(f"| {r.group} | {r.case} | {r.lines} | {100 * r.gap:.3f} % | "
                     f"{100 * r.certified_gap:.3f} % | {100 * r.root_gap:.3f} % | "
                     f"{r.search_seconds:.1f} | {r.bound_seconds:.1f} | {r.bound_nodes} |")
    lines.append("")
    for group, part in frame.groupby("group", sort=False):
        lines.append(f"- {group}: {len(part)} orders, certified gap mean "
                     f"{100 * part.certified_gap.mean():.3f} %, worst "
                     f"{100 * part.certified_gap.max():.3f} %; gap to reference mean "
                     f"{100 * part.gap.mean():.3f} %, worst {100 * part.gap.max():.3f} %; "
                     f"feasible {part.feasible.mean():.0%}; bound below the reference: "
                     f"{int(part.reference_above_bound.sum())}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-items", type=int, default=6000)
    parser.add_argument("--bound-time", type=float, default=5.0)
    parser.add_argument("--only", type=lambda s: s.split(","), default=["medium", "large",
                                                                        "fresh"])
    parser.add_argument("--filter")
    parser.add_argument("--out", default=str(RESULTS / "certified-gap"))
    args = parser.parse_args()
    frame = run(args)
    frame.to_csv(args.out + ".csv", index=False)
    Path(args.out + ".md").write_text(markdown(frame, args.bound_time))
    print(markdown(frame, args.bound_time))


if __name__ == "__main__":
    main()
