"""Fixed "fresh" MOQ-heavy stock orders and their HiGHS reference figures.

    python benchmarks/stock_orders.py [--max-items N] [--out PATH]

The order set (:func:`orders`) is importable by other scripts::

    from benchmarks.stock_orders import orders
    for name, gen in orders():           # gen: moqlab Generated (.instance, .mode, .limit)
        ...

Sizes (items) 8, 10, 200, 500, 1000, 2000, 4000, 6000 (about 50 to 40,000 lines), two orders
each from ``moqlab.generate.stock`` (mean_demand 4, demand_spread 0.6, max_lines 12, the three
default MOQ families, budget mode at fraction 0.5):

* ``stock-i{n}-mixed-t0.5``: price_breaks "mixed", tightness 0.5, seed ``1000 + 10 s``;
* ``stock-i{n}-{merchant|fiscal}-t1.0``: price_breaks "merchant" (even size index ``s``) or
  "fiscal" (odd), tightness 1.0, seed ``1000 + 10 s + 1``.

For each order the script solves the textbook MILP (``moqlab.exact._milp.build_model``: maximise
the lines' reward under the budget row, prefix and MOQ rows; HiGHS single-threaded, every
run on a fresh HiGHS object):

(a) ``mip_rel_gap = 0.005``, time limit 300 s;
(b) ``mip_rel_gap = 0``, time limit 600 s ("best"; ``proven`` = status Optimal);
(c) the LP relaxation (all columns continuous).

Each MILP incumbent (``x[:n_lines] > 0.5``) is verified with ``moqlab.check``; ``feasible``
is true when both incumbents pass. Rows are appended to the CSV after each order.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (8, 10, 200, 500, 1000, 2000, 4000, 6000)
GAP005_TIME_LIMIT = 300.0
BEST_TIME_LIMIT = 600.0
COLUMNS = ["name", "n_items", "n_lines", "limit", "lp_value", "lp_seconds", "gap005_reward",
           "gap005_bound", "gap005_seconds", "gap005_status", "best_reward", "best_bound",
           "best_seconds", "best_status", "proven", "feasible"]
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "stock_orders.csv"
REPO_ROOT = Path(__file__).resolve().parent.parent


def order_specs(max_items: int | None = None) -> list[tuple[str, int, dict]]:
    """``(name, n_items, stock() keyword arguments)`` of every order, sizes increasing."""
    specs = []
    for s, n in enumerate(SIZES):
        if max_items is not None and n > max_items:
            continue
        cycled = "merchant" if s % 2 == 0 else "fiscal"
        for j, (breaks, tight) in enumerate((("mixed", 0.5), (cycled, 1.0))):
            params = dict(seed=1000 + 10 * s + j, mean_demand=4.0, demand_spread=0.6,
                          max_lines=12, price_breaks=breaks, tightness=tight)
            specs.append((f"stock-i{n}-{breaks}-t{tight}", n, params))
    return specs


def orders(max_items: int | None = None):
    """The order set: a list of ``(name, Generated)``, generated when called."""
    import moqlab
    return [(name, moqlab.generate.stock(n, **params))
            for name, n, params in order_specs(max_items)]


# ----------------------------------------------------------------- HiGHS runs


def _highs_for(model, limit: float, reward: np.ndarray, threads: int | None = 1):
    """A fresh single-threaded HiGHS object: maximise reward . x, cost row <= limit."""
    import highspy
    from moqlab.exact._milp import COST_ROW, load_model
    highs = load_model(model, threads=threads)
    costs = np.zeros(model.n_cols)
    costs[:model.n_lines] = reward
    highs.changeColsCost(model.n_cols, np.arange(model.n_cols, dtype=np.int32), costs)
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.changeRowBounds(COST_ROW, -highspy.kHighsInf, float(limit))
    return highs


def solve_lp(model, limit, reward) -> tuple[float, float]:
    """LP relaxation value and seconds."""
    import highspy
    highs = _highs_for(model, limit, reward)
    highs.changeColsIntegrality(model.n_cols, np.arange(model.n_cols, dtype=np.int32),
                                np.full(model.n_cols, int(highspy.HighsVarType.kContinuous),
                                        dtype=np.uint8))
    start = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - start
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        print(f"  LP status {highs.modelStatusToString(status)}", flush=True)
        return float("nan"), seconds
    return float(highs.getInfo().objective_function_value), seconds


def solve_milp(instance, model, limit, reward, rel_gap: float, time_limit: float,
               threads: int | None = 1) -> dict:
    """One MILP run: objective, dual bound, seconds, status, verified incumbent."""
    import highspy
    import moqlab
    highs = _highs_for(model, limit, reward, threads)
    highs.setOptionValue("mip_rel_gap", float(rel_gap))
    highs.setOptionValue("time_limit", float(time_limit))
    start = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - start
    status = highs.getModelStatus()
    info = highs.getInfo()
    out = {"status": highs.modelStatusToString(status), "seconds": seconds,
           "bound": float(info.mip_dual_bound), "reward": float("nan"), "feasible": False,
           "optimal": status == highspy.HighsModelStatus.kOptimal}
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible: an incumbent exists
        x = np.asarray(highs.getSolution().col_value)[:model.n_lines]
        checked = moqlab.check(instance, x > 0.5, budget=limit)
        out["reward"] = float(info.objective_function_value)
        out["feasible"] = bool(checked.feasible)
        if abs(checked.reward - out["reward"]) > 1e-6 * max(1.0, abs(out["reward"])):
            print(f"  note: HiGHS objective {out['reward']!r}, rounded incumbent "
                  f"{checked.reward!r}", flush=True)
    return out


def measure(name: str, gen) -> dict:
    from moqlab.exact._milp import build_model
    inst, limit = gen.instance, float(gen.limit)
    assert gen.mode == "budget", gen.mode
    model = build_model(inst)
    reward = np.asarray(inst.reward, dtype=np.float64)
    lp_value, lp_seconds = solve_lp(model, limit, reward)
    a = solve_milp(inst, model, limit, reward, 0.005, GAP005_TIME_LIMIT)
    b = solve_milp(inst, model, limit, reward, 0.0, BEST_TIME_LIMIT)
    return {"name": name, "n_items": inst.n_items, "n_lines": inst.n_lines, "limit": limit,
            "lp_value": lp_value, "lp_seconds": round(lp_seconds, 3),
            "gap005_reward": a["reward"], "gap005_bound": a["bound"],
            "gap005_seconds": round(a["seconds"], 3), "gap005_status": a["status"],
            "best_reward": b["reward"], "best_bound": b["bound"],
            "best_seconds": round(b["seconds"], 3), "best_status": b["status"],
            "proven": b["optimal"], "feasible": a["feasible"] and b["feasible"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-items", type=int, default=None,
                        help="skip orders with more items than this")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    args = parser.parse_args(argv)
    import moqlab
    from moqlab.exact._milp import HIGHS_VERSION
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from importlib.metadata import version
    print(f"moqlab stock orders, HiGHS {HIGHS_VERSION} (threads=1), highspy "
          f"{version('highspy')}; writing {args.out}", flush=True)
    with open(args.out, "w", newline="") as fh:
        csv.DictWriter(fh, COLUMNS).writeheader()
    for name, n, params in order_specs(args.max_items):
        gen = moqlab.generate.stock(n, **params)
        print(f"{name}: {gen.instance.n_lines} lines, budget {gen.limit}", flush=True)
        row = measure(name, gen)
        with open(args.out, "a", newline="") as fh:
            csv.DictWriter(fh, COLUMNS).writerow(row)
        print(f"  lp {row['lp_value']:.4f} ({row['lp_seconds']}s) | gap.005 "
              f"{row['gap005_reward']:.4f} <= {row['gap005_bound']:.4f} "
              f"({row['gap005_seconds']}s, {row['gap005_status']}) | gap0 "
              f"{row['best_reward']:.4f} <= {row['best_bound']:.4f} "
              f"({row['best_seconds']}s, {row['best_status']}) feasible={row['feasible']}",
              flush=True)
    return 0


if __name__ == "__main__":
    if str(REPO_ROOT) not in sys.path:  # run as a script without moqlab installed
        sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
