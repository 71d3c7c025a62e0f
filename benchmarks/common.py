"""Shared, deterministic benchmark data for the asv suite.

The cases come from :func:`moqlab.lab._bench.bench_cases`: the instance suite
(``moqlab.load_suite``) when it is installed, else Pisinger's knapsack instances shipped in
``datasets/pisinger/``. Nothing is random here, so every commit is measured on the same
instances.

``MOQLAB_BENCH=full`` selects the full run (every size class, every case); the default is
the quick run CI uses (the smallest size class, the first 2 budget-mode cases of each
family), like
scipy's ``XSLOW`` switch.
"""

from __future__ import annotations

import math
import os

import numpy as np

import moqlab
from moqlab.lab._bench import (BATCH_METHODS, BenchCase, bench_cases, eligible,
                           first_per_family, method_options, relative_gap, suite_sizes)


FULL = os.environ.get("MOQLAB_BENCH", "quick").lower() == "full"

# asv runs every benchmark in a fresh process; JAX's persistent compilation cache lets
# them share compiled programs (time_* never includes compilation anyway: see setup).
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    import jax

    jax.config.update("jax_compilation_cache_dir",
                      os.path.join(os.path.dirname(os.path.dirname(__file__)), ".asv", "jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
SIZES = list(suite_sizes() if FULL else suite_sizes()[:1])
# Every method registered in moqlab; those not importable in this checkout are skipped
# (asv shows them as n/a), so the suite picks each method up as soon as it lands.
METHODS = moqlab.methods()
PER_FAMILY = None if FULL else 2


def build_cases() -> dict[str, list[BenchCase]]:
    """Every case of every benchmarked size class (what ``setup_cache`` stores). The quick
    run keeps budget-mode cases only, so that each JAX method compiles one batch shape."""
    if FULL:
        return {size: bench_cases(size) for size in SIZES}
    return {size: first_per_family([c for c in bench_cases(size) if c.mode == "budget"],
                                   PER_FAMILY) for size in SIZES}


def cases_for(cache: dict, method: str, size: str) -> list[BenchCase]:
    """The cases a method is asked; asv skips the benchmark when there are none."""
    if method not in moqlab.methods():
        raise NotImplementedError(f"method {method!r} is not available")
    chosen = [c for c in cache.get(size, []) if eligible(method, c.instance, c.mode)]
    if not chosen:
        raise NotImplementedError(f"no {size} case fits method {method!r}")
    return chosen


def solve_all(method: str, cases: list[BenchCase]) -> list:
    """Solve every case: one batched call per mode for batched (JAX) methods."""
    options = method_options(method, quick=not FULL)
    if method not in BATCH_METHODS:
        return [moqlab.solve(c.instance, method=method, **{c.mode: c.limit}, **options)
                for c in cases]
    results = []
    for mode in dict.fromkeys(c.mode for c in cases):
        group = [c for c in cases if c.mode == mode]
        results += moqlab.solve_batch([c.instance for c in group], method=method,
                                      **{mode: [c.limit for c in group]}, **options)
    return results


def gaps(cases: list[BenchCase], results: list) -> np.ndarray:
    """Relative gap to the reference value of each feasible result (NaN otherwise)."""
    return np.array([relative_gap(r.reward, c.optimum) if r.feasible else math.nan
                     for c, r in zip(cases, results)])
