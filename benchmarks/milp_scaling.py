"""How long HiGHS takes to PROVE optimality on MOQ instances, by size.

    python benchmarks/milp_scaling.py --out results/milp_scaling.csv

Series: (lines per item cap) x (MOQ families). Each series grows the number of items
(10, 30, 100, ...) and solves the budget mode at the generator's drawn budget with
``milp`` (``mip_rel_gap = 0``, all tie stages) under ``--time-limit`` seconds (default 300, the
issue's 5 minutes). A series stops at the first size HiGHS does not prove within the limit
(bigger sizes are not tried: they are reported as not reached). Instances come from
``moqlab.generate.stock`` (realistic purchasing: stock-reward ladders, lots, MOQ families
per SKU (units), per category (units) and per supplier (money), tightness 0.5) when it is
available, else (or with ``MILP_SCALING_GENERATOR=local``) from the small local stand-in
:func:`local_stock` with the same shape.

Columns: generator, items, max_lines, lines, families, groups (groups with a minimum),
status, proven, seconds (the whole solve), reward_seconds (first HiGHS run: the reward
optimum), tie_seconds (the cost/target tie stages), build_seconds, nodes, gap, bound, reward,
highs_version. Series run in ``--jobs`` processes (HiGHS single-threaded each); the machine
and the parallelism are printed with the table.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

import moqlab
from moqlab.exact._milp import HIGHS_VERSION

FAMILY_ORDER = ("sku", "category", "supplier")
COLUMNS = ["generator", "items", "max_lines", "lines", "families", "groups", "status",
           "proven", "seconds", "reward_seconds", "tie_seconds", "build_seconds", "nodes",
           "gap", "bound", "reward", "highs_version"]


def local_stock(n_items: int, max_lines: int, n_families: int, seed: int):
    """Stand-in generator: Poisson demand, one-period stock reward per unit, integer lots,
    MOQ per SKU (units), per category (units), per supplier (money); budget = half of the
    unconstrained order's cost. Returns ``(instance, budget)``."""
    from scipy import stats
    rng = np.random.default_rng(seed)
    price = np.round(np.exp(rng.normal(2.5, 0.8, n_items)), 2)
    margin = price * rng.uniform(0.2, 0.8, n_items)
    mean = 6.0 * np.exp(rng.normal(0, 1, n_items))
    lot = rng.choice([1, 1, 1, 2, 3, 4, 6, 12], n_items)
    length = np.clip(np.ceil(stats.poisson.ppf(0.995, mean) / lot), 1, max_lines).astype(int)
    item = np.repeat(np.arange(n_items), length)
    step = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    units = lot[item]
    first = step * units + 1
    # Expected reward of the units first..first+lot-1: (M - S) P(D >= k) + C P(D < k).
    reward = np.zeros(item.size)
    for u in range(int(units.max())):
        k = first + u
        inside = u < units
        p_sell = stats.poisson.sf(k - 1, mean[item])
        value = 1.5 * margin[item] * p_sell - 0.3 * price[item] * (1 - p_sell)
        reward += np.where(inside, value, 0.0)
    reward = np.round(reward, 4)
    cost = np.round(price[item] * units, 2)
    families = []
    if n_families >= 1:
        moq = np.where(rng.random(n_items) < 0.5, np.ceil(0.5 * mean), 0.0)
        families.append((item.astype(str), units.astype(float), moq[item]))
    if n_families >= 2:
        cat = rng.integers(0, max(1, n_items // 20), n_items)
        need = np.bincount(cat, weights=0.5 * mean)[cat]
        families.append((np.char.add("c", cat[item].astype(str)), units.astype(float),
                         np.ceil(need)[item]))
    if n_families >= 3:
        sup = rng.integers(0, max(1, n_items // 50), n_items)
        need = np.bincount(sup, weights=0.5 * mean * price)[sup]
        families.append((np.char.add("s", sup[item].astype(str)), cost.copy(),
                         np.round(need, 2)[item]))
    inst = moqlab.Instance.from_arrays(item.astype(str), reward, cost, target=units.astype(float),
                                       families=families)
    # Budget: half the cost of the unconstrained order (per item, the best-reward prefix).
    spend = 0.0
    for i in range(inst.n_items):
        lines = slice(inst.item_start[i], inst.item_start[i + 1])
        gain = np.concatenate([[0.0], np.cumsum(inst.reward[lines])])
        spend += float(np.concatenate([[0.0], np.cumsum(inst.cost[lines])])[np.argmax(gain)])
    return inst, round(0.5 * spend, 2)


def _has_generate() -> bool:
    if os.environ.get("MILP_SCALING_GENERATOR") == "local":
        return False
    try:
        import moqlab.generate  # noqa: F401
        return True
    except ImportError:
        return False


def make_instance(n_items: int, max_lines: int, n_families: int, seed: int):
    """``(generator name, instance, budget)`` for one point of a series."""
    if _has_generate():
        gen = moqlab.generate.stock(n_items, seed=seed, max_lines=max_lines,
                                    moq=FAMILY_ORDER[:n_families])
        return "moqlab.generate.stock", gen.instance, gen.limit
    inst, budget = local_stock(n_items, max_lines, n_families, seed)
    return "local_stock", inst, budget


def measure(n_items: int, max_lines: int, n_families: int, seed: int, time_limit: float) -> dict:
    generator, inst, budget = make_instance(n_items, max_lines, n_families, seed)
    res = moqlab.solve(inst, budget=budget, method="milp", time_limit=time_limit, threads=1)
    info = res.info
    reward_seconds = info["reward_seconds"] or 0.0
    return {"generator": generator, "items": n_items, "max_lines": max_lines,
            "lines": inst.n_lines, "families": n_families,
            "groups": int(sum((fam.moq > 0).sum() for fam in inst.families)),
            "status": res.status, "proven": bool(info["proven_optimal"]),
            "seconds": round(res.seconds, 3), "reward_seconds": round(reward_seconds, 3),
            "tie_seconds": round(info["mip_seconds"] - reward_seconds, 3),
            "build_seconds": round(info["build_seconds"], 3), "nodes": info["nodes"],
            "gap": info["gap"], "bound": info["bound"], "reward": res.reward,
            "highs_version": HIGHS_VERSION}


def run_series(max_lines: int, n_families: int, sizes, seed: int, time_limit: float):
    rows = []
    for n_items in sizes:
        row = measure(n_items, max_lines, n_families, seed, time_limit)
        print(f"  lines<={max_lines} families={n_families} items={n_items} "
              f"({row['lines']} lines): {row['status']} in {row['seconds']:.1f} s "
              f"(reward {row['reward_seconds']:.1f} s, ties {row['tie_seconds']:.1f} s, "
              f"{row['nodes']} nodes, gap {row['gap']})", file=sys.stderr, flush=True)
        rows.append(row)
        if not row["proven"]:
            break
    return rows


def write_csv(path: Path, rows) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def markdown(rows) -> str:
    head = ("| items | lines/item cap | lines | families | groups | status | seconds "
            "| reward stage s | tie stages s | nodes | gap |")
    out = [head, "|" + "---|" * 11]
    for r in rows:
        gap = "" if r["gap"] is None else f"{r['gap']:.2g}"
        out.append(f"| {r['items']} | {r['max_lines']} | {r['lines']} | {r['families']} | "
                   f"{r['groups']} | {r['status']} | {r['seconds']:.2f} | "
                   f"{r['reward_seconds']:.2f} | {r['tie_seconds']:.2f} | {r['nodes']} | {gap} |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/milp_scaling.csv")
    parser.add_argument("--items", default="10,30,100,300,1000,3000,10000")
    parser.add_argument("--max-lines", default="4,16")
    parser.add_argument("--families", default="0,1,3")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    sizes = [int(v) for v in args.items.split(",")]
    series = [(int(lines), int(fam)) for lines in args.max_lines.split(",")
              for fam in args.families.split(",")]
    began = time.perf_counter()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_series, lines, fam, sizes, args.seed, args.time_limit)
                   for lines, fam in series]
        done = {}
        for future in as_completed(futures):
            done[futures.index(future)] = future.result()
            # Rewrite after every series so an interrupted run keeps what it measured.
            rows = [row for k in sorted(done) for row in done[k]]
            write_csv(out, rows)
    print(f"HiGHS {HIGHS_VERSION}, mip_rel_gap=0, time limit {args.time_limit:g} s, "
          f"{args.jobs} series in parallel, 1 HiGHS thread each; machine: "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"total wall {time.perf_counter() - began:.0f} s\n")
    print(markdown(rows))
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
