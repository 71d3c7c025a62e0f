"""Throughput and quality of greedy, jax-greedy, search, milp, auto and plain HiGHS, side by
side in one run.

For the chosen suite size (default ``medium``) every method solves every case; batched
methods (``jax-greedy``, ``search``) solve the whole set with ``moqlab.solve_batch``. JAX
compile time is measured separately: the first call on a batch (compile + run) minus a
second, timed call on the same batch (run only). Quality is the relative gap to the
optimum (the suite's when recorded, else the ``milp`` answer of this run). A batch-size sweep
repeats the batched methods on the first ``b`` cases.

``highspy`` is the anchor of issue 10: HiGHS on the textbook model
(``benchmarks/stock_orders.py``: maximise reward under the budget, prefix and MOQ rows) at
``mip_rel_gap = 0.005``, HiGHS's default threads (as ``milp``), nothing of moqlab's around it; ``auto`` is the default
method (``milp`` warm-started from greedy, 50 s limit). ``--orders fresh:N`` replaces the
suite by the fresh stock orders of ``benchmarks/stock_orders.py`` up to ``N`` items (their
recorded HiGHS optima as reference).

Writes ``benchmarks/results/throughput.csv`` (one row per method and batch size) and
``throughput.md`` (a Markdown table), and prints the table.

Usage::

    .venv/bin/python benchmarks/throughput.py [--size medium] [--milp-limit 60]
        [--sweep 1,4,16] [--max-cases N] [--skip N]
        [--orders fresh:N] [--methods milp,greedy,...]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

import moqlab

OUT = Path(__file__).resolve().parent / "results"


def _gap(reward: float, optimum: float) -> float:
    if optimum is None or not np.isfinite(optimum):
        return float("nan")
    return (optimum - reward) / max(abs(optimum), 1e-12)


def _solve_each(cases, method, **options):
    start = time.perf_counter()
    results = [moqlab.solve(c.instance, method=method, **{c.mode: c.limit}, **options)
               for c in cases]
    return results, time.perf_counter() - start


def _solve_batch(cases, method, **options):
    """Per mode (solve_batch takes one mode): first call (compile + run), second call (run)."""
    by_mode: dict[str, list[int]] = {}
    for n, c in enumerate(cases):
        by_mode.setdefault(c.mode, []).append(n)
    results = [None] * len(cases)
    first = second = 0.0
    for mode, index in by_mode.items():
        insts = [cases[n].instance for n in index]
        limits = [cases[n].limit for n in index]
        t0 = time.perf_counter()
        moqlab.solve_batch(insts, method=method, **{mode: limits}, **options)
        t1 = time.perf_counter()
        res = moqlab.solve_batch(insts, method=method, **{mode: limits}, **options)
        t2 = time.perf_counter()
        first += t1 - t0
        second += t2 - t1
        for n, r in zip(index, res):
            results[n] = r
    return results, second, max(0.0, first - second)


def _solve_highspy(cases, time_limit):
    """Plain HiGHS on the textbook model at ``mip_rel_gap = 0.005`` (the issue-10 anchor);
    results carry ``reward`` and ``feasible`` like moqlab results."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.stock_orders import solve_milp
    from moqlab.exact._milp import build_model

    start = time.perf_counter()
    results = []
    for c in cases:
        run = solve_milp(c.instance, build_model(c.instance), float(c.limit),
                         np.asarray(c.instance.reward, dtype=np.float64), 0.005, time_limit,
                         threads=None)  # HiGHS fixes its thread pool at the first solve
        results.append(SimpleNamespace(reward=run["reward"] if run["feasible"] else 0.0,
                                       feasible=run["feasible"]))
    return results, time.perf_counter() - start


def _fresh_cases(max_items: int):
    """The fresh stock orders, with the recorded HiGHS best as reference."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.stock_orders import DEFAULT_OUT, orders

    ref = pd.read_csv(DEFAULT_OUT).set_index("name")
    return [SimpleNamespace(name=name, instance=gen.instance, mode=gen.mode, limit=gen.limit,
                            optimum=float(ref.loc[name, "best_reward"]),
                            proven=bool(ref.loc[name, "proven"]))
            for name, gen in orders(max_items) if name in ref.index]


def _row(method, batch, cases, results, seconds, compile_seconds, optima):
    lines = sum(c.instance.n_lines for c in cases)
    gaps = np.array([_gap(r.reward, o) for r, o in zip(results, optima)])
    return {"method": method, "batch": batch, "instances": len(cases), "lines": lines,
            "seconds": seconds, "compile_seconds": compile_seconds,
            "instances_per_s": len(cases) / seconds, "lines_per_s": lines / seconds,
            "feasible": float(np.mean([r.feasible for r in results])),
            "mean_gap_pct": 100 * float(np.nanmean(gaps)) if np.isfinite(gaps).any() else np.nan,
            "worst_gap_pct": 100 * float(np.nanmax(gaps)) if np.isfinite(gaps).any() else np.nan}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--milp-limit", type=float, default=60.0)
    parser.add_argument("--sweep", default="1,4,16")
    parser.add_argument("--max-cases", type=int, default=None)
    parser.add_argument("--skip", type=int, default=0, help="skip the first cases")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--orders", default=None, help="fresh:N = benchmarks/stock_orders.py")
    parser.add_argument("--methods", default="highspy,milp,auto,greedy,jax-greedy,search",
                        help="comma-separated; milp always runs (it is the reference)")
    args = parser.parse_args(argv)
    wanted = set(args.methods.split(","))

    if args.orders:
        kind, _, size = args.orders.partition(":")
        if kind != "fresh":
            parser.error("--orders takes fresh:N")
        cases = _fresh_cases(int(size or 10**9))
        args.size = f"fresh orders up to {size or 'all'} items"
    else:
        cases = list(moqlab.load_suite(args.size))
    cases = cases[args.skip:][:args.max_cases]
    search_options = {}  # the defaults: what a user gets
    rows = []

    milp, milp_seconds = _solve_each(cases, "milp", time_limit=args.milp_limit)
    optima = []
    for c, m in zip(cases, milp):
        recorded = c.optimum if c.optimum is not None and c.proven else None
        optima.append(float(recorded) if recorded is not None and np.isfinite(recorded)
                      else m.reward)
    rows.append(_row("milp", 1, cases, milp, milp_seconds, 0.0, optima))
    if "highspy" in wanted:
        highs, highs_seconds = _solve_highspy(cases, args.milp_limit)
        rows.append(_row("highspy", 1, cases, highs, highs_seconds, 0.0, optima))
    for method in ("auto", "greedy"):
        if method in wanted:
            results, seconds = _solve_each(cases, method)
            rows.append(_row(method, 1, cases, results, seconds, 0.0, optima))
    for method, options in (("jax-greedy", {}), ("search", search_options)):
        if method not in wanted:
            continue
        results, seconds, compile_seconds = _solve_batch(cases, method, **options)
        rows.append(_row(method, len(cases), cases, results, seconds, compile_seconds, optima))
        for batch in [int(b) for b in args.sweep.split(",") if b]:
            if batch >= len(cases):
                continue
            part = cases[:batch]
            res, sec, comp = _solve_batch(part, method, **options)
            rows.append(_row(method, batch, part, res, sec, comp, optima[:batch]))

    table = pd.DataFrame(rows)
    table["machine"] = f"{platform.processor() or platform.machine()} x{__import__('os').cpu_count()}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "throughput.csv", index=False)
    anchor = "highspy" if "highspy" in wanted else "milp"
    base = table.query(f"method == '{anchor}'").instances_per_s.iloc[0]
    ratios = "".join(f"\n{m} / {anchor} instances per second: "
                     f"{table.query(f'method == {m!r}').instances_per_s.iloc[0] / base:.2f}x"
                     for m in table.method.unique() if m != anchor)
    text = (f"# Throughput on `{args.size}` ({len(cases)} cases), one run\n\n"
            + table.drop(columns=["machine"]).to_markdown(index=False, floatfmt=".4g")
            + f"\n{ratios}\n")
    (out / "throughput.md").write_text(text)
    print(text)
    return table


if __name__ == "__main__":
    main()
