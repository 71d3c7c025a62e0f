"""Quality of ``relax`` (relax-round-repair) against the proven optima of the suite, next to
``greedy`` and ``search``: relaxation value, LP bound (HiGHS), rounded value, gap, feasibility,
time (JAX compile reported apart from run time).

    .venv/bin/python benchmarks/relax_quality.py [--size medium] [--limit N] [--out DIR]

Writes ``DIR/relax_quality_<size>.csv`` (one row per case and method) and ``.md`` (per-case
table and a summary). Cases: ``moqlab.load_suite(size)``; when the suite is not installed,
generated ``stock`` instances whose optimum is computed with ``milp``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd

import moqlab


def cases(size: str, limit: int | None):
    try:
        suite = moqlab.load_suite(size)
        out = [(c.name, c.family, c.instance, c.mode, float(c.limit),
                None if c.optimum is None else float(c.optimum), bool(c.proven))
               for c in suite]
    except (AttributeError, ImportError):
        from moqlab import generate
        out = []
        for seed in range(8):
            gen = generate.stock(24, seed=seed, max_lines=8)
            exact = moqlab.solve(gen.instance, budget=gen.limit, method="milp")
            out.append((f"stock24-{seed}", "stock", gen.instance, "budget", gen.limit,
                        exact.reward, exact.status == "optimal"))
    return out if limit is None else out[:limit]


def gap(value: float, optimum: float | None) -> float:
    if optimum is None:
        return float("nan")
    return (optimum - value) / max(abs(optimum), 1e-9)


def run(size: str, limit: int | None, methods, relax_options: dict) -> pd.DataFrame:
    rows = []
    for name, family, inst, mode, lim, optimum, proven in cases(size, limit):
        for method in methods:
            options = relax_options if method == "relax" else {}
            start = time.perf_counter()
            try:
                res = moqlab.solve(inst, method=method, **{mode: lim}, **options)
            except Exception as exc:  # a method missing or refusing the size: say so
                rows.append({"case": name, "method": method, "error": str(exc)[:120]})
                continue
            seconds = time.perf_counter() - start
            row = {"case": name, "family": family, "lines": inst.n_lines,
                   "families": inst.n_families, "mode": mode, "optimum": optimum,
                   "proven": proven, "method": method, "reward": res.reward,
                   "feasible": res.feasible, "status": res.status,
                   "gap": gap(res.reward, optimum), "seconds": seconds}
            if method == "relax":
                row.update({k: res.info.get(k) for k in (
                    "relax_value", "relax_violation", "lp_bound", "rounded_value",
                    "compile_seconds", "run_seconds")})
                row["seconds_without_compile"] = seconds - res.info["compile_seconds"]
            rows.append(row)
            print(f"{name:40s} {method:8s} gap={row['gap']:.4f} feasible={res.feasible} "
                  f"{seconds:.1f}s", flush=True)
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    ok = frame.dropna(subset=["gap"]) if "gap" in frame else frame
    ok = ok[ok["optimum"].abs() > 1e-9]  # a zero optimum has no relative gap
    return ok.groupby("method").agg(
        cases=("gap", "size"), mean_gap=("gap", "mean"), median_gap=("gap", "median"),
        max_gap=("gap", "max"), feasible=("feasible", "mean"),
        mean_seconds=("seconds", "mean")).reset_index()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--methods", default="greedy,search,relax")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--restarts", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1600)
    args = parser.parse_args(argv)
    frame = run(args.size, args.limit, args.methods.split(","),
                {"restarts": args.restarts, "steps": args.steps, "seed": 0})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"relax_quality_{args.size}"
    frame.to_csv(stem.with_suffix(".csv"), index=False)
    machine = f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} CPU"
    text = [f"# relax quality, suite `{args.size}` ({machine})", "",
            "Gap = (optimum - reward) / |optimum|; cases with optimum 0 are left out of the "
            "summary (no relative gap).", "", summary(frame).to_markdown(index=False,
                                                                          floatfmt=".4f"),
            "", "## Per case", "", frame.to_markdown(index=False, floatfmt=".4g"), ""]
    stem.with_suffix(".md").write_text("\n".join(text))
    print(summary(frame).to_string())


if __name__ == "__main__":
    main()
