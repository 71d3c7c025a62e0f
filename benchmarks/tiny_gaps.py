"""Gap of greedy and roundup to the enumerated optimum on tiny random instances, and the
time of ``enumerate`` on the 20-item Pisinger instances (the foundation's figures).

Tiny instances: 3-8 items of 1-3 lines with decreasing, noisy rewards, integer costs 1-7,
1-2 MOQ families of 1-3 groups (units or money thresholds), budget 20-70% of total cost.
Gap = (optimum - reward) / |optimum| (0 when the optimum is 0).

Usage: ``.venv/bin/python benchmarks/tiny_gaps.py [--instances 500] [--seed 0]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import moqlab


def _tiny_instance(rng: np.random.Generator) -> moqlab.Instance:
    n = int(rng.integers(3, 9))
    rows = []
    for i in range(n):
        base = rng.uniform(2, 10)
        for rank in range(int(rng.integers(1, 4))):
            rows.append({"id": f"i{i}", "min": rank + 1,
                         "reward": round(base * (1 - 0.45 * rank) + rng.normal(0, 1), 2),
                         "cost": float(rng.integers(1, 8))})
    frame = pd.DataFrame(rows)
    item = frame["id"].str[1:].astype(int).to_numpy()
    for k in range(int(rng.integers(1, 3))):
        n_groups = int(rng.integers(1, 4))
        group = rng.integers(0, n_groups, n)[item]
        money = rng.random() < 0.5
        frame[f"g{k}"] = [f"g{g}" for g in group]
        frame[f"oq{k}"] = frame["cost"] if money else 1.0
        moq = rng.choice([0, 2, 3, 5, 8, 12], n_groups) * (3 if money else 1)
        frame[f"moq{k}"] = moq[group].astype(float)
    return moqlab.Instance.from_frame(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    methods = ["greedy", "roundup"]
    gaps = {m: [] for m in methods}
    feasible = {m: 0 for m in methods}
    for _ in range(args.instances):
        inst = _tiny_instance(rng)
        budget = float(rng.uniform(0.2, 0.7) * inst.cost.sum())
        best = moqlab.solve(inst, budget=budget, method="enumerate").reward
        for method in methods:
            res = moqlab.solve(inst, budget=budget, method=method)
            feasible[method] += res.feasible
            gaps[method].append((best - res.reward) / abs(best) if best else 0.0)
    print("| method | instances | feasible | mean gap | worst gap | optimal |")
    print("|---|---|---|---|---|---|")
    for method in methods:
        g = np.array(gaps[method])
        print(f"| {method} | {len(g)} | {feasible[method]}/{len(g)} | {100 * g.mean():.2f}% "
              f"| {100 * g.max():.1f}% | {100 * np.mean(g < 1e-9):.0f}% |")
    cases = moqlab.read_pisinger(moqlab.dataset_path("pisinger/knapPI_11_20_1000.csv"))
    start = time.perf_counter()
    exact = sum(moqlab.solve(c.instance, budget=c.budget, method="enumerate").reward == c.optimum
                for c in cases)
    seconds = time.perf_counter() - start
    print(f"\nenumerate on {len(cases)} Pisinger 20-item instances (2^20 orders each): "
          f"{exact}/{len(cases)} optima reproduced, {seconds:.2f} s in all, "
          f"{1000 * seconds / len(cases):.1f} ms per instance")


if __name__ == "__main__":
    main()
