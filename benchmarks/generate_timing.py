"""Wall time of the generators at one million lines (validation of the table included).

Usage: ``.venv/bin/python benchmarks/generate_timing.py [--repeat 2]``; prints one line per
generator call: family, items, lines, families, seconds (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import time

import moqlab

CALLS = (
    ("knapsack", dict(n_items=1_000_000, kind="weak")),
    ("knapsack", dict(n_items=1_000_000, kind="weak", moq_groups=[1000, 50])),
    ("stock", dict(n_items=62_500, price_breaks="mixed")),   # about 975k lines, 3 families
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    for family, params in CALLS:
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            gen = moqlab.generate.generate(family, seed=1, **params)
            best = min(best, time.perf_counter() - start)
        inst = gen.instance
        print(f"{family:9s} items {inst.n_items:8d}  lines {inst.n_lines:8d}  families "
              f"{inst.n_families}  seconds {best:.2f}  ({params})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
