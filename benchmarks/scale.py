"""Scale benchmark: greedy, jax-greedy and search on one purchase order of about 1,000,000
lines (100,000 items, three MOQ families: sku, category, supplier).

The instance is ``moqlab.generate.stock(100_000, seed=1, mean_demand=10, max_lines=16,
fraction=F)``: ~10.5 lines per item (the ladder capped at 16 lines), 100,000 SKU groups,
5,000 categories and 2,000 suppliers. Timings are wall clock on this machine, one method at
a time; ``jax-greedy`` is timed twice on the same instance (the first call compiles for its
padded bucket, the second reuses the compiled program), with the host part (keys, scan
arrays) and the scan reported separately. Peak memory is the process's maximum resident
set (``resource.getrusage``), read after each step (it never decreases).

Two budget regimes are measured, because the greedy's work depends on them:

* ``--fraction 0.8`` (default here): the first group-opening bundle fits, groups open early
  and most lines are single-line moves: the scan is near-linear.
* ``--fraction 0.5`` (the generator's default): the first bundles cascade across the three
  families over ~40% of all lines and do not fit; each failed attempt closes one item and
  the next trigger rebuilds a bundle of the same size, so the work grows quadratically.
  Measured on smaller instances (``--quadratic-items``), with a time cap.

Run::

    .venv/bin/python benchmarks/scale.py        # writes benchmarks/results/scale.md and .csv
    .venv/bin/python benchmarks/scale.py --skip search --items 10000
    .venv/bin/python benchmarks/scale.py --search-items 10000   # search on 104,405 lines

``search`` on the 1,000,000-line order was last timed at 21.7 s, before its engine was
rebuilt; the rebuilt engine was still running after 15 minutes there (its compiled call
cannot be cut by ``time_limit``), so the full run times it on the 104,405-line order.
"""

from __future__ import annotations

import argparse
import csv
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _instance(n_items: int, fraction: float, seed: int):
    import moqlab
    began = time.perf_counter()
    gen = moqlab.generate.stock(n_items, seed=seed, mean_demand=10.0, max_lines=16,
                                fraction=fraction)
    return gen, time.perf_counter() - began


def _solve(gen, method: str, **options):
    """One solve, timed; the certified bound (on by default since the bound landed, and
    40 s of the 100k-line jax-greedy call) is not part of a method's time here."""
    import moqlab
    began = time.perf_counter()
    res = moqlab.solve(gen.instance, method=method, budget=gen.limit, bound=False, **options)
    return res, time.perf_counter() - began


def _row(label, gen, method, seconds, res, note=""):
    inst = gen.instance
    return {"instance": label, "lines": inst.n_lines, "items": inst.n_items,
            "method": method, "seconds": round(seconds, 2),
            "reward": round(float(res.reward), 2) if res is not None else None,
            "feasible": bool(res.feasible) if res is not None else None,
            "peak_rss_mb": round(_peak_mb()), "note": note}


def measure(label: str, n_items: int, fraction: float, seed: int, methods, search_options):
    """Rows for one instance: generation, then each method (jax-greedy twice)."""
    gen, seconds = _instance(n_items, fraction, seed)
    rows = [{"instance": label, "lines": gen.instance.n_lines, "items": n_items,
             "method": "generate", "seconds": round(seconds, 2), "reward": None,
             "feasible": None, "peak_rss_mb": round(_peak_mb()), "note": ""}]
    print(f"{label}: {gen.instance.n_lines} lines, limit {gen.limit}", flush=True)
    if "greedy" in methods:
        res, seconds = _solve(gen, "greedy")
        rows.append(_row(label, gen, "greedy", seconds, res, f"moves {res.info.get('moves')}"))
        print(rows[-1], flush=True)
    if "jax-greedy" in methods:
        for call in ("first call (compiles)", "second call"):
            res, seconds = _solve(gen, "jax-greedy")
            note = (f"{call}; host keys+arrays {res.info['prepare_seconds']:.2f} s, "
                    f"scan {res.info['scan_seconds']:.2f} s")
            rows.append(_row(label, gen, "jax-greedy", seconds, res, note))
            print(rows[-1], flush=True)
    if "search" in methods:
        res, seconds = _solve(gen, "search", **search_options)
        rows.append(_row(label, gen, "search", seconds, res,
                         "default options" if not search_options else str(search_options)))
        print(rows[-1], flush=True)
    return rows


def to_markdown(rows) -> str:
    cols = ["instance", "lines", "items", "method", "seconds", "reward", "feasible",
            "peak_rss_mb", "note"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join("" if row[c] is None else str(row[c]) for c in cols)
                     + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000],
                        help="smaller instances (items) measured first, same fraction")
    parser.add_argument("--quadratic-items", type=int, nargs="*", default=[1_000, 3_000],
                        help="instances (items) measured at fraction 0.5 (jax-greedy only)")
    parser.add_argument("--search-items", type=int, default=None,
                        help="time search on an order of this many items instead of --items "
                             "(same fraction and seed)")
    parser.add_argument("--skip", nargs="*", default=[],
                        help="methods to skip: greedy jax-greedy search")
    parser.add_argument("--out", default=str(RESULTS / "scale.md"))
    args = parser.parse_args(argv)
    methods = [m for m in ("greedy", "jax-greedy", "search") if m not in args.skip]
    rows = []
    for n in args.sizes:
        rows += measure(f"stock {n} items, f={args.fraction}", n, args.fraction, args.seed,
                        [m for m in methods if m != "search"], {})
    search_items = args.items if args.search_items is None else args.search_items
    rows += measure(f"stock {args.items} items, f={args.fraction}", args.items, args.fraction,
                    args.seed, [m for m in methods if m != "search" or search_items == args.items],
                    {})
    if "search" in methods and search_items != args.items:
        rows += measure(f"stock {search_items} items, f={args.fraction}", search_items,
                        args.fraction, args.seed, ["search"], {})
    for n in args.quadratic_items:
        rows += measure(f"stock {n} items, f=0.5", n, 0.5, args.seed,
                        [m for m in ("jax-greedy",) if m in methods], {})
    import jax
    import platform
    header = (f"# Scale benchmark\n\nMachine: {platform.machine()}, "
              f"{__import__('os').cpu_count()} CPU cores, jax {jax.__version__} "
              f"({jax.default_backend()}). Command: `.venv/bin/python benchmarks/scale.py "
              f"{' '.join(argv if argv is not None else __import__('sys').argv[1:])}`.\n\n"
              "Seconds are wall clock of `moqlab.solve(...)` (verification included); "
              "peak RSS is the process maximum so far.\n\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(header + to_markdown(rows) + "\n")
    table = Path(args.out).with_suffix(".csv")
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out} and {table}")


if __name__ == "__main__":
    main()
