"""The certified bound against HiGHS's LP relaxation, side by side in one run: a batch of
medium stock orders (150 items, three MOQ families, mixed price breaks, tightness 0.5 and
1.0), bounded by :func:`moqlab.relaxations.reward_bounds` (one batched, compiled call;
compile time reported apart: the first call) and by HiGHS solving the LP relaxation of the
textbook MILP of :mod:`moqlab.exact._milp` (binary columns relaxed to [0, 1]) order after
order. Reports both times, their ratio and how far each bound lies above the other.

Usage::

    .venv/bin/python benchmarks/bound_vs_lp.py [--orders 64] [--threads 2]

Writes ``benchmarks/results/bound-vs-lp.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"


def lp_bound(instance, budget: float, threads: int) -> float:
    """HiGHS's optimal value of the LP relaxation (user units)."""
    import highspy

    from moqlab.exact._milp import COST_ROW, _budget_row, build_model, load_model, normalised

    work, units = normalised(instance)
    model = build_model(work)
    highs = load_model(model, threads=threads)
    highs.changeColsIntegrality(model.n_cols, np.arange(model.n_cols, dtype=np.int32),
                                np.zeros(model.n_cols, dtype=np.int32))
    highs.changeRowBounds(COST_ROW, -highspy.kHighsInf,
                          _budget_row(work, budget / units["cost"]))
    objective = np.zeros(model.n_cols)
    objective[:model.n_lines] = work.reward
    highs.changeColsCost(model.n_cols, np.arange(model.n_cols, dtype=np.int32), objective)
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.run()
    return highs.getInfo().objective_function_value * units["reward"]


def main() -> None:
    import moqlab
    from moqlab.relaxations import reward_bounds

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS / "bound-vs-lp.md"))
    args = parser.parse_args()
    gens = [moqlab.generate.stock(150, seed=5000 + s, price_breaks="mixed",
                                  tightness=(0.5, 1.0)[s % 2], max_lines=12)
            for s in range(args.orders)]
    instances, budgets = [g.instance for g in gens], [g.limit for g in gens]

    start = time.perf_counter()
    reward_bounds(instances, budgets)
    first = time.perf_counter() - start
    start = time.perf_counter()
    dual = reward_bounds(instances, budgets)
    warm = time.perf_counter() - start

    start = time.perf_counter()
    lp = np.array([lp_bound(inst, b, args.threads) for inst, b in zip(instances, budgets)])
    highs_seconds = time.perf_counter() - start

    above = (dual - lp) / np.abs(lp)
    lines = sum(inst.n_lines for inst in instances)
    text = "\n".join([
        f"# Certified bound vs HiGHS's LP relaxation ({args.orders} medium stock orders, "
        f"{lines:,} lines)", "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, HiGHS threads "
        f"{args.threads}; {time.strftime('%Y-%m-%d')}.", "",
        "| | seconds | orders per second |", "|---|---|---|",
        f"| dual bound, one batched call (warm) | {warm:.2f} | {args.orders / warm:.1f} |",
        f"| dual bound, first call (compile included) | {first:.2f} | |",
        f"| HiGHS LP relaxation, order by order | {highs_seconds:.2f} | "
        f"{args.orders / highs_seconds:.1f} |", "",
        f"Warm ratio HiGHS / dual bound: {highs_seconds / warm:.2f}x.", "",
        f"Dual bound above the LP optimum: mean {100 * above.mean():.4f} %, median "
        f"{100 * np.median(above):.4f} %, worst {100 * above.max():.4f} %, best "
        f"{100 * above.min():.4f} % (negative: tighter than the LP, where per-SKU minimums "
        "bind).", ""])
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
