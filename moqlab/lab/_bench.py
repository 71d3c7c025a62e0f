"""The reproducible report behind ``moqlab bench``: every method on the benchmark cases,
with the tables and figures that the paper and the notebooks read.

**Cases.** :func:`bench_cases` takes the instance suite (``moqlab.load_suite(size)``) when
it is installed, and otherwise falls back to Pisinger's 0/1 knapsack instances shipped in
``datasets/pisinger/`` (proven optima ``z``, budget mode). Both give
:class:`BenchCase` records with a reference value ``optimum`` (``proven`` says whether it is
a proven optimum or only the best known value).

**Quality.** For a result of reward ``r`` on a case of reference ``z``, the gap is
``(z - r) / |z|`` (``z - r`` when ``z = 0``): 0 is optimal, larger is worse; in the target
modes it compares the reward of the order reached with the exact method's at the same
target (it can then be negative). A result the verifier rejects counts as infeasible and
is left out of the gaps.

**Certified gap.** Every budget-mode result carries a bound on the optimum
(:attr:`moqlab.Result.bound`), so ``certified_gap = (bound - r) / |bound|`` needs no
reference: it is what a user without the optimum knows about the answer. Its time is
``bound_seconds``, left out of ``seconds``.

**Speed.** ``instances/s`` and ``lines/s`` divide the number of instances (lines) a method
solved by the wall time of its calls; batched methods (JAX) are timed after a warm-up call,
so compile time is reported separately (``compile_seconds``) and never mixed with run time.

Example (the quick run takes about a minute on two cores)::

    >>> from moqlab.lab._bench import run_bench
    >>> paths = run_bench("paper/results", quick=True)      # doctest: +SKIP
    >>> sorted(p.name for p in paths)                       # doctest: +SKIP
    ['gap_vs_time.png', 'highs_time.png', 'machine.json', 'runs.csv', 'table.csv', ...]
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core._errors import MOQInputError, MOQSizeError
from ..core._instance import Instance
from ._pisinger import DATASETS, read_pisinger
from .._solve import (CAPACITY_METHODS, METHODS, enumerable, methods, solve,
                      solve_batch)
from ._suite import SIZES, SuiteCase, load_suite

BATCH_METHODS = tuple(name for name, (_, _, batched) in METHODS.items() if batched)
# Pisinger files by size class when the suite is absent (n = 20 and 50, then n = 100).
PISINGER_BY_SIZE = {
    "small": ("knapPI_11_20_1000.csv", "knapPI_1_50_1000.csv", "knapPI_9_50_1000.csv"),
    "medium": ("knapPI_1_50_100000.csv", "knapPI_1_100_100000.csv"),
}


# What run_bench writes; a folder holding any of them is never written into again.
REPORT_FILES = ("runs.csv", "table.csv", "table.md", "summary.csv", "worse_than_roundup.csv",
                "throughput.csv", "machine.json", "gap_vs_time.png", "throughput.png",
                "highs_time.png", "dfl.csv")

# A benchmark case is a suite case; Pisinger fallback cases have no HiGHS time.
BenchCase = SuiteCase


# ------------------------------------------------------------------------------ cases
def _suite_cases(size: str):
    """The suite's cases of one size, or ``None`` when no suite is built."""
    try:
        cases = load_suite(size)
    except (MOQInputError, OSError):  # no manifest yet, or a size it does not have
        return None
    return cases or None


def suite_available() -> bool:
    """Whether the instance suite (``moqlab.load_suite``) is built."""
    return _suite_cases(SIZES[0]) is not None


def suite_sizes() -> tuple[str, ...]:
    """The size classes benchmarked: the suite's when it is available, else Pisinger's."""
    if suite_available():
        return tuple(SIZES)
    return tuple(PISINGER_BY_SIZE)


def _from_suite(size: str) -> list[BenchCase] | None:
    cases = _suite_cases(size)
    if cases is None:
        return None
    return [c._replace(limit=float(c.limit), proven=bool(c.proven),
                       optimum=None if c.optimum is None or pd.isna(c.optimum)
                       else float(c.optimum))
            for c in cases]


def _from_pisinger(size: str) -> list[BenchCase]:
    cases = []
    for filename in PISINGER_BY_SIZE.get(size, ()):
        family = "pisinger-" + filename.split("_")[1]
        for case in read_pisinger(DATASETS / "pisinger" / filename):
            cases.append(BenchCase(case.name, family, size, case.instance, "budget",
                                   case.budget, case.optimum, True, highs_seconds=None))
    return cases


def first_per_family(cases: Sequence[BenchCase], per_family: int) -> list[BenchCase]:
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        if seen.get(case.family, 0) < per_family:
            out.append(case)
            seen[case.family] = seen.get(case.family, 0) + 1
    return out


def bench_cases(size: str, per_family: int | None = None) -> list[BenchCase]:
    """Deterministic cases of one size class: the suite's when installed, else Pisinger's;
    ``per_family`` keeps the first cases of each family (quick runs)."""
    cases = _from_suite(size)
    if cases is None:
        cases = _from_pisinger(size)
    return cases if per_family is None else first_per_family(cases, per_family)


# ---------------------------------------------------------------------------- quality
def relative_gap(reward: float, optimum: float | None) -> float:
    """``(optimum - reward) / |optimum|`` (absolute when the optimum is 0); NaN if unknown."""
    if optimum is None or not math.isfinite(optimum):
        return math.nan
    scale = abs(optimum)
    return (optimum - reward) / scale if scale > 1e-12 else optimum - reward


def eligible(method: str, instance: Instance, mode: str = "budget") -> bool:
    """Whether a method can be asked this instance (enumeration only when tiny; on an order
    with capacity families, the target modes only of the methods that model them)."""
    if instance.capacities and mode != "budget" and method not in CAPACITY_METHODS:
        return False
    if method == "enumerate":
        return enumerable(instance)
    return True


def method_options(method: str, quick: bool, milp_time: float | None = None) -> dict:
    """Options a method is run with in the report: the MILP's time limit (``milp_time``,
    default 10 s in quick runs, else 60 s)."""
    if method != "milp":
        return {}
    return {"time_limit": milp_time if milp_time is not None else 10.0 if quick else 60.0}


def _row(case: BenchCase, res, seconds: float) -> dict:
    """One run's row; ``seconds`` leaves out the certified bound's time (its own column)."""
    bound_seconds = res.info.get("bound_seconds", 0.0)
    return {"method": res.method, "case": case.name, "family": case.family, "size": case.size,
            "mode": case.mode, "lines": case.instance.n_lines, "items": case.instance.n_items,
            "reward": res.reward, "optimum": case.optimum, "proven": case.proven,
            "gap": relative_gap(res.reward, case.optimum) if res.feasible else math.nan,
            "bound": math.nan if res.bound is None else res.bound,
            "certified_gap": math.nan if res.gap is None else res.gap,
            "feasible": bool(res.feasible), "status": res.status,
            "seconds": max(0.0, seconds - bound_seconds), "bound_seconds": bound_seconds}


def _solve_group(method: str, cases: list[BenchCase], options: dict) -> list[dict]:
    """Solve cases sharing a mode; batched methods get one warm-up and one timed call."""
    if method in BATCH_METHODS:
        limits = {"budget": None, "min_target": None, "max_target": None}
        limits[cases[0].mode] = [c.limit for c in cases]
        call = lambda: solve_batch([c.instance for c in cases], method=method,  # noqa: E731
                                   **{k: v for k, v in limits.items() if v is not None},
                                   **options)
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        start = time.perf_counter()
        results = call()
        wall = time.perf_counter() - start
        rows = [_row(c, r, wall / len(cases)) for c, r in zip(cases, results)]
        for row in rows:
            row["compile_seconds"] = max(0.0, first - wall)
        return rows
    rows = []
    for case in cases:
        start = time.perf_counter()
        res = solve(case.instance, method=method, **{case.mode: case.limit}, **options)
        rows.append(_row(case, res, time.perf_counter() - start))
    return rows


def run_method(method: str, cases: Sequence[BenchCase], quick: bool = True,
               milp_time: float | None = None) -> list[dict]:
    """One row per case the method is eligible for: reward, gap, feasibility, seconds."""
    options = method_options(method, quick, milp_time)
    todo = [c for c in cases if eligible(method, c.instance, c.mode)]
    rows = []
    for key in dict.fromkeys((c.family, c.mode) for c in todo):
        group = [c for c in todo if (c.family, c.mode) == key]
        try:
            rows += _solve_group(method, group, options)
        except MOQSizeError:
            continue
    return rows


def fill_reference(runs: pd.DataFrame) -> pd.DataFrame:
    """Cases without a proven optimum take the reward of this run's exact answers (``milp``
    or ``enumerate`` with status ``optimal``), or else the best known value: the larger of
    the recorded one and the best verified reward of this run (a recorded best of 0, where
    HiGHS found no order, would make every gap a large negative number); their gaps are
    recomputed."""
    runs = runs.copy()
    runs["optimum"] = runs["optimum"].astype(np.float64)
    runs["proven"] = runs["proven"].fillna(False).astype(bool)
    exact = runs[runs["method"].isin(["milp", "enumerate"]) & (runs["status"] == "optimal")]
    proven = exact.groupby("case")["reward"].first()
    missing = ~runs["proven"] & runs["case"].isin(proven.index)
    if missing.any():
        runs.loc[missing, "optimum"] = runs.loc[missing, "case"].map(proven).astype(np.float64)
        runs.loc[missing, "proven"] = True
    best = runs[runs["feasible"].astype(bool)].groupby("case")["reward"].max()
    known = ~runs["proven"] & runs["case"].isin(best.index)
    runs.loc[known, "optimum"] = np.fmax(runs.loc[known, "optimum"],
                                         runs.loc[known, "case"].map(best).astype(np.float64))
    runs["gap"] = [relative_gap(r, z) if ok else math.nan
                   for r, z, ok in zip(runs["reward"], runs["optimum"], runs["feasible"])]
    return runs


def _gap_statistics(group: pd.DataFrame) -> dict:
    """Mean and worst gap and certified gap of a group of runs (NaN where none)."""
    out = {}
    for column, name in (("gap", "gap"), ("certified_gap", "certified_gap")):
        values = (group[column] if column in group else pd.Series(dtype=float)).dropna()
        out[f"mean_{name}"] = values.mean() if len(values) else math.nan
        out[f"worst_{name}"] = values.max() if len(values) else math.nan
    return out


def summarise(runs: pd.DataFrame, machine: str) -> pd.DataFrame:
    """The results table: per method, family and size, gaps, feasibility and speed."""
    def one(group: pd.DataFrame) -> pd.Series:
        seconds = group["seconds"].sum()
        return pd.Series({
            "instances": len(group), **_gap_statistics(group),
            "feasible": group["feasible"].mean(),
            "optimal_proven": group["proven"].mean(),
            "instances_per_s": len(group) / seconds if seconds > 0 else math.nan,
            "lines_per_s": group["lines"].sum() / seconds if seconds > 0 else math.nan,
            "mean_seconds": group["seconds"].mean(),
        })
    table = (runs.groupby(["method", "family", "size"], sort=False)[list(runs.columns)]
             .apply(one).reset_index())
    table["machine"] = machine
    return table


def summarise_by_size(runs: pd.DataFrame) -> pd.DataFrame:
    """Per method and size class over every family: cases, the share solved to the
    reference (gap at most 1e-6), mean and worst gap, mean and worst certified gap,
    feasibility and mean seconds (the paper's main table)."""
    def one(group: pd.DataFrame) -> pd.Series:
        gaps = group["gap"].dropna()
        return pd.Series({
            "instances": len(group),
            "at_reference": float((gaps <= 1e-6).mean()) if len(gaps) else math.nan,
            **_gap_statistics(group),
            "feasible": group["feasible"].mean(),
            "mean_seconds": group["seconds"].mean(),
            "compile_seconds": (group["compile_seconds"].max()
                                if "compile_seconds" in group else math.nan),
        })
    sizes = {size: n for n, size in enumerate(SIZES)}
    table = (runs.groupby(["method", "size"], sort=False)[list(runs.columns)].apply(one)
             .reset_index())
    return table.sort_values(["size", "method"], key=lambda c: c.map(sizes) if c.name == "size"
                             else c.map({m: n for n, m in enumerate(METHODS)}),
                             kind="stable").reset_index(drop=True)


def worse_than_naive(runs: pd.DataFrame, naive: str = "roundup") -> pd.DataFrame:
    """The cases where a method's feasible answer earns less than the naive practice's
    (``roundup``: order ignoring MOQs, then round up or drop): case, size, method, both
    rewards and the relative shortfall."""
    base = runs[(runs["method"] == naive) & runs["feasible"]].set_index(["case", "mode"])
    rows = []
    for _, run in runs[(runs["method"] != naive) & runs["feasible"]].iterrows():
        key = (run["case"], run["mode"])
        if key not in base.index:
            continue
        naive_reward = float(base.loc[key, "reward"])
        if run["reward"] < naive_reward - 1e-6 * max(1.0, abs(naive_reward)):
            rows.append({"case": run["case"], "size": run["size"], "mode": run["mode"],
                         "method": run["method"], "reward": run["reward"],
                         f"{naive}_reward": naive_reward,
                         "shortfall": (naive_reward - run["reward"]) / max(1.0, abs(naive_reward))})
    return pd.DataFrame(rows, columns=["case", "size", "mode", "method", "reward",
                                       f"{naive}_reward", "shortfall"])


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown rendering of :func:`summarise`'s table (no extra dependency)."""
    formats = {"mean_gap": "{:.3%}", "worst_gap": "{:.3%}", "mean_certified_gap": "{:.3%}",
               "worst_certified_gap": "{:.3%}", "feasible": "{:.0%}",
               "optimal_proven": "{:.0%}", "instances_per_s": "{:.4g}",
               "lines_per_s": "{:.4g}", "mean_seconds": "{:.3g}", "instances": "{:d}"}
    columns = [c for c in table.columns if c != "machine"]
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = ""
    for _, row in table.iterrows():
        cells = []
        for c in columns:
            value = row[c]
            if c in formats and isinstance(value, (int, float, np.number)) and not pd.isna(value):
                value = formats[c].format(int(value) if c == "instances" else float(value))
            elif pd.isna(value):
                value = "–"
            cells.append(str(value))
        body += "| " + " | ".join(cells) + " |\n"
    machine = table["machine"].iloc[0] if len(table) else ""
    return head + body + f"\nMachine: {machine}\n"


# ------------------------------------------------------------------------- throughput
SWEEP_ORDER_LINES = 5_000  # the sweep's orders: the largest size whose orders are this small
SWEEP_BATCH_LINES = 40_000  # ... and no batch above this many lines in all


def sweep_size(sizes: Sequence[str], cases: dict) -> str:
    """The size the batch sweep draws its orders from: the largest of ``sizes`` whose
    median order has at most ``SWEEP_ORDER_LINES`` lines (batches of many orders are what
    the sweep measures; a large size would spend the run on a few batches), else the
    smallest."""
    fits = [size for size in sizes if cases[size] and np.median(
        [c.instance.n_lines for c in cases[size]]) <= SWEEP_ORDER_LINES]
    return fits[-1] if fits else sizes[0]


def sweep_batches(batch_sizes: Sequence[int], cases: Sequence[BenchCase]) -> list[int]:
    """The batch sizes whose batches hold at most ``SWEEP_BATCH_LINES`` lines (the first
    always)."""
    lines = np.mean([c.instance.n_lines for c in cases])
    kept = [b for b in batch_sizes if b * lines <= SWEEP_BATCH_LINES]
    return kept or list(batch_sizes[:1])


def throughput_cases(cases: Sequence[BenchCase]) -> list[BenchCase]:
    """The cases batches are filled from: one family in budget mode (the largest one
    available), so that every batch size compiles one shape."""
    budget = [c for c in cases if c.mode == "budget"] or list(cases)
    family = max(dict.fromkeys(c.family for c in budget),
                 key=lambda f: max(c.instance.n_lines for c in budget if c.family == f))
    return [c for c in budget if c.family == family]


SLOW_CALL = 20.0  # seconds: a batch size this slow is timed once


def throughput(method: str, cases: Sequence[BenchCase], batch_sizes: Sequence[int],
               repeats: int = 3) -> list[dict]:
    """Instances/s against batch size: cases are cycled to fill each batch; each size is
    compiled by a warm-up call, then the best of ``repeats`` timed calls is kept (one
    when the warm-up took over ``SLOW_CALL`` seconds). The method alone is timed: no
    certified bound (``bound=False``; the quality table times the bounds)."""
    rows = []
    mode = cases[0].mode
    cases = [c for c in cases if c.mode == mode]
    for size in batch_sizes:
        chosen = [cases[i % len(cases)] for i in range(size)]
        instances = [c.instance for c in chosen]
        limits = [c.limit for c in chosen]
        call = lambda: solve_batch(instances, method=method, **{mode: limits},  # noqa: E731
                                   bound=False, progress=False)
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        best = math.inf
        for _ in range(repeats if first <= SLOW_CALL else 1):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        lines = sum(i.n_lines for i in instances)
        rows.append({"method": method, "batch": size, "seconds": best,
                     "instances_per_s": size / best, "lines_per_s": lines / best,
                     "compile_seconds": max(0.0, first - best)})
    return rows


def dfl_table(small: bool = True) -> pd.DataFrame | None:
    """Decision-focused learning against two-stage training (``moqlab.lab._dfl``; small:
    one degree, two seeds): held-out normalised regret per method, mean and spread over
    seeds; ``None`` when the module is not installed."""
    try:
        from ._dfl import run_experiment
    except ImportError:
        return None
    table = run_experiment(small=small)
    return (table.groupby(["degree", "method"])
            .agg(regret_mean=("regret", "mean"), regret_std=("regret", "std"),
                 seeds=("regret", "size"), train_seconds=("seconds", "mean"))
            .reset_index())


# ---------------------------------------------------------------------------- machine
def machine_info() -> dict:
    """What the figures were measured on: CPU model, cores, JAX backend, commit."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
    try:
        import jax
        info["jax"] = jax.__version__
        info["jax_backend"] = jax.default_backend()
        info["jax_devices"] = len(jax.devices())
    except Exception:  # jax is a dependency, but the report must not die on a bad backend
        info["jax_backend"] = "unavailable"
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True, check=True,
                                        cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = "unknown"
    return info


def machine_label(info: dict) -> str:
    return f"{info['cpu']}, {info['cores']} cores, JAX {info.get('jax_backend', '?')}"


# ---------------------------------------------------------------------------- figures
def _figure():
    try:
        import matplotlib
    except ImportError:
        raise MOQInputError("moqlab bench draws its figures with matplotlib: "
                            "pip install 'moqlab[bench]' (in the repository: pip install '.[bench]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_gap_vs_time(runs: pd.DataFrame, path: Path) -> None:
    """Mean gap against mean seconds per instance, one marker per method and size."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for method, group in runs.groupby("method", sort=False):
        per_size = group.groupby("size", sort=False).agg(gap=("gap", "mean"),
                                                          seconds=("seconds", "mean"))
        ax.plot(per_size["seconds"], per_size["gap"] * 100, "o-", label=method)
        for size, row in per_size.iterrows():
            ax.annotate(size, (row["seconds"], row["gap"] * 100), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("seconds per instance (log)")
    ax.set_ylabel("mean gap to optimum (%)")
    ax.legend(fontsize=8)
    _save(plt, fig, ax, path)


def _plain(value: float, _position=None) -> str:
    """A log-axis tick as a plain number (``1,000``, ``0.01``), not ``10^3``."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _save(plt, fig, ax, path: Path) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_formatter(FuncFormatter(_plain))
            axis.set_minor_formatter(NullFormatter())
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def draw_throughput(ax, rows: pd.DataFrame) -> None:
    """Instances per second against batch size (log-log) on ``ax``, one line per method
    (the report's figure; the batched-methods notebook draws its live run with it)."""
    for method, group in rows.groupby("method", sort=False):
        ax.plot(group["batch"], group["instances_per_s"], "o-", label=method)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size (instances)")
    ax.set_ylabel("instances per second")
    if len(rows):
        ax.legend(fontsize=8)


def plot_throughput(rows: pd.DataFrame, path: Path) -> None:
    """:func:`draw_throughput` saved to ``path``."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    draw_throughput(ax, rows)
    _save(plt, fig, ax, path)


def plot_highs_time(runs: pd.DataFrame, path: Path) -> None:
    """The exact MILP's (HiGHS) seconds against instance size in lines; a cross where its
    time limit stopped it before the proof."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    exact = runs[runs["method"] == "milp"]
    for n, (family, group) in enumerate(exact.groupby("family", sort=False)):
        proven = group["status"] == "optimal"
        color = f"C{n % 10}"
        ax.scatter(group["lines"][proven], group["seconds"][proven], s=14, color=color,
                   label=family)
        ax.scatter(group["lines"][~proven], group["seconds"][~proven], s=30, marker="x",
                   color=color, label=f"{family} (time limit)" if (~proven).any() else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lines in the instance")
    ax.set_ylabel("HiGHS seconds")
    if len(exact):
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "milp not installed", ha="center", transform=ax.transAxes)
    _save(plt, fig, ax, path)


# ------------------------------------------------------------------------------ driver
def write_quality(runs: pd.DataFrame, out) -> None:
    """From the runs (one row per case and method, ``machine`` set): the references and
    gaps (:func:`fill_reference`), then ``runs.csv``, ``table.csv``, ``table.md``,
    ``summary.csv``, ``worse_than_roundup.csv``, ``gap_vs_time.png`` and ``highs_time.png``
    in ``out``. Rerun on a report's own ``runs.csv`` (``benchmarks/full.py --requality``),
    it derives them again without solving anything."""
    out = Path(out)
    runs = fill_reference(runs)
    table = summarise(runs, str(runs["machine"].iloc[0]))
    runs.to_csv(out / "runs.csv", index=False)
    table.to_csv(out / "table.csv", index=False)
    summarise_by_size(runs).to_csv(out / "summary.csv", index=False)
    worse_than_naive(runs).to_csv(out / "worse_than_roundup.csv", index=False)
    (out / "table.md").write_text(markdown_table(table))
    plot_gap_vs_time(runs, out / "gap_vs_time.png")
    plot_highs_time(runs, out / "highs_time.png")


def plan(quick: bool, sizes: Sequence[str] | None = None,
         method_names: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """The sizes and methods a run covers (quick: the smallest size only)."""
    available = methods()
    chosen = list(method_names) if method_names else available
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise MOQInputError(f"methods not available here: {', '.join(unknown)}; "
                            f"available: {', '.join(available)}")
    all_sizes = suite_sizes()
    chosen_sizes = list(sizes) if sizes else list(all_sizes[:1] if quick else all_sizes)
    return chosen_sizes, chosen


def run_bench(out, quick: bool = False, sizes: Sequence[str] | None = None,
              method_names: Sequence[str] | None = None, progress: bool = True,
              dfl: str | None = None, skip: Sequence[str] = (),
              milp_time: float | None = None) -> list[Path]:
    """Run the methods on the cases and write ``runs.csv``, ``table.csv``, ``table.md``,
    ``throughput.csv``, ``machine.json``, three figures and (``dfl``: ``"small"`` or
    ``"full"``; default ``"small"``, ``"none"`` when ``quick``) ``dfl.csv`` into ``out``, a
    folder holding none of these files (results are never mixed with an earlier run's);
    returns the paths. ``skip``: ``"method:size"`` pairs left out (recorded in ``machine.json``)."""
    from tqdm.auto import tqdm

    dfl = dfl or ("none" if quick else "small")
    if dfl not in ("none", "small", "full"):
        raise MOQInputError("dfl must be none, small or full", column="dfl", value=dfl)
    out = Path(out)
    earlier = [name for name in REPORT_FILES if (out / name).exists()]
    if earlier:
        raise MOQInputError(f"{out} holds an earlier report ({', '.join(earlier)}): moqlab "
                            "bench never mixes two runs (name a new --out)",
                            column="--out", value=str(out))
    out.mkdir(parents=True, exist_ok=True)
    chosen_sizes, chosen_methods = plan(quick, sizes, method_names)
    per_family = 3 if quick else None
    cases = {size: bench_cases(size, per_family) for size in chosen_sizes}
    info = machine_info()
    label = machine_label(info)
    rows: list[dict] = []
    skipped = sorted(set(skip))
    bad = [pair for pair in skipped if pair.count(":") != 1]
    if bad:
        raise MOQInputError("skip takes method:size", column="--skip", value=bad[0])
    jobs = [(m, s) for s in chosen_sizes for m in chosen_methods
            if cases[s] and f"{m}:{s}" not in skipped]
    for method, size in tqdm(jobs, desc="moqlab bench", disable=not progress):
        began = time.perf_counter()
        done = run_method(method, cases[size], quick, milp_time)
        rows += done
        # what has run so far, kept on disk: a long run that is stopped still says where
        # its time went
        pd.DataFrame(rows).to_csv(out / "runs.csv", index=False)
        if not progress:
            print(f"{method} on {size}: {len(done)} cases in "
                  f"{time.perf_counter() - began:.0f} s", flush=True)
    runs = pd.DataFrame(rows)
    if runs.empty:
        raise MOQInputError("no benchmark case could be solved (no cases for these sizes?)")
    runs["machine"] = label

    swept = sweep_size(chosen_sizes, cases)
    through_cases = throughput_cases(cases[swept])
    batch_sizes = sweep_batches([1, 8] if quick else [1, 4, 16, 64, 256], through_cases)
    through = []
    # Quick runs time the batch sizes of the fastest batched method only (each size compiles).
    timed = ("greedy", "jax-greedy") if quick else ("greedy", *BATCH_METHODS)
    for method in tqdm([m for m in chosen_methods if m in timed
                        and f"{m}:{swept}" not in skipped],
                       desc="throughput", disable=not progress):
        began = time.perf_counter()
        through += throughput(method, through_cases, batch_sizes, repeats=1 if quick else 3)
        if not progress:
            print(f"throughput of {method} on {swept} (batches {batch_sizes}): "
                  f"{time.perf_counter() - began:.0f} s", flush=True)
    through = pd.DataFrame(through, columns=["method", "batch", "seconds", "instances_per_s",
                                             "lines_per_s", "compile_seconds"])
    through["machine"] = label

    dfl = None if dfl == "none" else dfl_table(small=dfl == "small")

    info.update({"quick": quick, "sizes": chosen_sizes, "methods": chosen_methods,
                 "milp_time_limit": method_options("milp", quick, milp_time)["time_limit"],
                 "skipped": skipped,
                 "source": "suite" if suite_available() else "pisinger"})
    paths = {name: out / name for name in REPORT_FILES if name != "dfl.csv"}
    write_quality(runs, out)
    through.to_csv(paths["throughput.csv"], index=False)
    paths["machine.json"].write_text(json.dumps(info, indent=2) + "\n")
    plot_throughput(through, paths["throughput.png"])
    if dfl is not None:
        paths["dfl.csv"] = out / "dfl.csv"
        dfl.to_csv(paths["dfl.csv"], index=False)
    return list(paths.values())
