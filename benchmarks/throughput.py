"""Throughput and quality of greedy, jax-greedy, search, milp, auto and plain HiGHS, side by
side in one run.

For the chosen suite size (default ``medium``) every method solves every case; batched
methods (``jax-greedy``, ``search``) solve them with ``moqlab.solve_batch``, one batch per
size class of lines (``<= 100``, ``<= 1,000``, ...). Rows are given per size class and for
the whole set (``size`` ``all``), with the ratio of instances per second to the anchor per
size. JAX compile time is measured separately: the first call on a batch (compile + run)
minus a second, timed call on the same batch (run only). Quality is the relative gap to the
best known reward: the recorded optimum (or best known) or the best verified answer any
method of this run found, whichever is larger; ``milp`` runs only when asked for, or when
some case is not proven and ``highspy`` does not run. A
batch-size sweep repeats the batched methods on the first ``b`` cases.

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
# The heuristics' times are their solves: the certified bound each budget-mode answer
# carries by default (``bound=True``, up to 5 s of branching an order) is timed on its own
# by ``moqlab bench`` (``bound_seconds``), and HiGHS's time here includes no such proof.
NO_BOUND = {"bound": False}


def _gap(reward: float, optimum: float) -> float:
    if optimum is None or not np.isfinite(optimum):
        return float("nan")
    return (optimum - reward) / max(abs(optimum), 1e-12)


def _solve_each(cases, method, **options):
    """Per-case results and seconds (each solve timed on its own)."""
    results, seconds = [], []
    for c in cases:
        start = time.perf_counter()
        results.append(moqlab.solve(c.instance, method=method, **{c.mode: c.limit}, **options))
        seconds.append(time.perf_counter() - start)
    return results, seconds


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

    results, seconds = [], []
    for c in cases:
        start = time.perf_counter()
        run = solve_milp(c.instance, build_model(c.instance), float(c.limit),
                         np.asarray(c.instance.reward, dtype=np.float64), 0.005, time_limit,
                         threads=None)  # HiGHS fixes its thread pool at the first solve
        seconds.append(time.perf_counter() - start)
        results.append(SimpleNamespace(reward=run["reward"] if run["feasible"] else 0.0,
                                       feasible=run["feasible"]))
    return results, seconds


def _fresh_cases(max_items: int):
    """The fresh stock orders, with the recorded HiGHS best as reference."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.stock_orders import DEFAULT_OUT, orders

    ref = pd.read_csv(DEFAULT_OUT).set_index("name")
    return [SimpleNamespace(name=name, instance=gen.instance, mode=gen.mode, limit=gen.limit,
                            optimum=float(ref.loc[name, "best_reward"]),
                            proven=bool(ref.loc[name, "proven"]))
            for name, gen in orders(max_items) if name in ref.index]


SIZE_CLASSES = (100, 1_000, 10_000, 100_000, 10**12)  # lines: a class holds up to its bound


def _size_class(lines: int) -> str:
    bound = next(b for b in SIZE_CLASSES if lines <= b)
    return "all" if bound == SIZE_CLASSES[-1] else f"<= {bound:,}"


def _row(method, batch, cases, results, seconds, compile_seconds, index, size="all"):
    """One table row; ``index``: the cases' positions in the whole set (their gaps are
    filled in by :func:`_with_gaps` once every method has run)."""
    lines = sum(c.instance.n_lines for c in cases)
    return {"size": size, "method": method, "batch": batch, "instances": len(cases),
            "lines": lines,
            "seconds": seconds, "compile_seconds": compile_seconds,
            "instances_per_s": len(cases) / seconds, "lines_per_s": lines / seconds,
            "feasible": float(np.mean([r.feasible for r in results])),
            "_answers": [(n, r.reward, r.feasible) for n, r in zip(index, results)]}


def _with_gaps(rows, optima):
    """The rows' mean and worst gap to the best known reward of each case: the recorded
    one or the best verified reward any method of this run found (a recorded best of 0,
    where HiGHS found no order, would make every gap enormous)."""
    best = list(optima)
    for row in rows:
        for n, reward, feasible in row["_answers"]:
            if feasible:
                best[n] = max(best[n], reward)
    for row in rows:
        gaps = np.array([_gap(reward, best[n]) for n, reward, _ in row.pop("_answers")])
        row["mean_gap_pct"] = (100 * float(np.nanmean(gaps)) if np.isfinite(gaps).any()
                               else np.nan)
        row["worst_gap_pct"] = 100 * float(np.nanmax(gaps)) if np.isfinite(gaps).any() else np.nan
    return rows


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
                        help="comma-separated; milp also runs when a case has no proven "
                        "optimum (the reference is the best known reward)")
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
    search_options = {}  # the defaults (but the bound): what a user gets
    classes = sorted({_size_class(c.instance.n_lines) for c in cases},
                     key=lambda name: [_size_class(b) for b in SIZE_CLASSES].index(name))
    members = {name: [n for n, c in enumerate(cases) if _size_class(c.instance.n_lines) == name]
               for name in classes}
    rows = []

    def per_case_rows(method, results, seconds):
        rows.append(_row(method, 1, cases, results, sum(seconds), 0.0, range(len(cases))))
        for name, index in members.items():
            if len(classes) > 1:
                rows.append(_row(method, 1, [cases[n] for n in index],
                                 [results[n] for n in index], sum(seconds[n] for n in index),
                                 0.0, index, size=name))

    # the reference: the best known reward (the recorded optimum or best known, or this
    # run's best verified answer of any method, whichever is larger; _with_gaps)
    optima = [float(c.optimum) if c.optimum is not None and np.isfinite(c.optimum)
              else -np.inf for c in cases]
    if "highspy" in wanted:
        highs, highs_seconds = _solve_highspy(cases, args.milp_limit)
        optima = [max(o, h.reward) if h.feasible else o for o, h in zip(optima, highs)]
    if "milp" in wanted or not (all(c.proven for c in cases) or "highspy" in wanted):
        milp, milp_seconds = _solve_each(cases, "milp", time_limit=args.milp_limit)
        optima = [max(o, m.reward) for o, m in zip(optima, milp)]
        per_case_rows("milp", milp, milp_seconds)
    if "highspy" in wanted:
        per_case_rows("highspy", highs, highs_seconds)
    for method in ("auto", "greedy"):
        if method in wanted:
            results, seconds = _solve_each(cases, method,
                                           **({} if method == "auto" else NO_BOUND))
            per_case_rows(method, results, seconds)
    for method, options in (("jax-greedy", {}), ("search", search_options)):
        if method not in wanted:
            continue
        # one batch per size class (a class is one or two compiled shapes); the whole-set
        # row sums them
        results, seconds, compile_seconds = [None] * len(cases), 0.0, 0.0
        for name, index in members.items():
            part = [cases[n] for n in index]
            res, sec, comp = _solve_batch(part, method, **options, **NO_BOUND)
            for n, r in zip(index, res):
                results[n] = r
            seconds, compile_seconds = seconds + sec, compile_seconds + comp
            if len(classes) > 1:
                rows.append(_row(method, len(part), part, res, sec, comp, index, size=name))
        rows.append(_row(method, len(cases), cases, results, seconds, compile_seconds,
                         range(len(cases))))
        for batch in [int(b) for b in args.sweep.split(",") if b]:
            if batch >= len(cases):
                continue
            part = cases[:batch]
            res, sec, comp = _solve_batch(part, method, **options, **NO_BOUND)
            rows.append(_row(method, batch, part, res, sec, comp, range(batch)))

    table = pd.DataFrame(_with_gaps(rows, optima))
    table["machine"] = f"{platform.processor() or platform.machine()} x{__import__('os').cpu_count()}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "throughput.csv", index=False)
    anchor = "highspy" if "highspy" in wanted else "milp"
    ratios = ""
    for size in table["size"].unique():
        at = table[table["size"] == size]
        base = at.query(f"method == '{anchor}'").instances_per_s.iloc[0]
        ratios += "".join(f"\nlines {size}: {m} / {anchor} instances per second: "
                          f"{at.query(f'method == {m!r}').instances_per_s.iloc[0] / base:.2f}x"
                          for m in at.method.unique() if m != anchor)
    text = (f"# Throughput on `{args.size}` ({len(cases)} cases), one run\n\n"
            + table.drop(columns=["machine"]).to_markdown(index=False, floatfmt=".4g")
            + f"\n{ratios}\n")
    (out / "throughput.md").write_text(text)
    print(text)
    return table


if __name__ == "__main__":
    main()
