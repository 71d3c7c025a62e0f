# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exact versus heuristics: gaps and times
#
# moqlab's exact oracle is HiGHS on a MILP with `mip_rel_gap = 0`; the heuristics are the
# MOQ-aware greedy, the naive "order then round up" practice, batched JAX heuristics and
# a differentiable relaxation. This notebook
#
# 1. reads the report written by `moqlab bench` (`paper/results/`: the same files the
#    paper includes), and
# 2. reruns a small comparison live on the benchmark suite.
#
# `MOQLAB_SMALL=1` (what CI sets) keeps the live part to a few seconds.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import moqlab
from moqlab.lab._bench import bench_cases, fill_reference, run_method, suite_sizes

SMALL = os.environ.get("MOQLAB_SMALL") == "1"
ROOT = Path(moqlab.__file__).resolve().parent.parent
RESULTS = ROOT / "paper" / "results"
print("methods here:", moqlab.methods())

# %% [markdown]
# ## 1. The recorded report
#
# `table.csv` holds, per method, instance family and size class: the mean and worst
# relative gap to the optimum, the share of verified-feasible answers, instances and lines
# solved per second, and the machine. If the report is missing (a fresh clone where
# `moqlab bench` has not run), a quick one is made in a temporary folder.

# %%
if not (RESULTS / "table.csv").exists():
    from moqlab.lab._bench import run_bench
    RESULTS = Path(tempfile.mkdtemp()) / "results"
    run_bench(RESULTS, quick=True, method_names=["greedy", "roundup", "milp"], progress=False)
table = pd.read_csv(RESULTS / "table.csv")
runs = pd.read_csv(RESULTS / "runs.csv")
print(table["machine"].iloc[0])
table.drop(columns="machine")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for method, group in runs.groupby("method", sort=False):
    ax.scatter(group["seconds"], group["gap"] * 100, s=10, label=method, alpha=0.7)
ax.set_xscale("log")
ax.set_xlabel("seconds per instance (log)")
ax.set_ylabel("gap to optimum (%)")
ax.set_title("every instance of the report")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Where are the heuristics weakest? The worst gaps per family show that the knapsack-like
# instances are easy for density-ordered greedy, while MOQ-heavy "stock" instances (group
# minimums in units and money across several families) are where gaps appear.

# %%
(runs.dropna(subset=["gap"])
     .groupby(["family", "method"])["gap"].agg(["mean", "max", "count"])
     .unstack("method")["max"].mul(100).round(3))   # worst gap, %

# %% [markdown]
# ## 2. A live comparison
#
# The smallest size class of the suite (or Pisinger's knapsack instances when the suite is
# not built), a few cases per family, every available method. The reference is the
# suite's proven optimum, or this run's exact answer.

# %%
size = suite_sizes()[0]
cases = bench_cases(size, per_family=2 if SMALL else None)
# The JAX methods compile once per shape (seconds each on a CPU): notebook 04 times them.
methods = [m for m in moqlab.methods()
           if not SMALL or m in ("enumerate", "greedy", "roundup", "milp")]
rows = []
for method in methods:
    rows += run_method(method, cases, quick=True)
live = fill_reference(pd.DataFrame(rows))
summary = live.groupby("method", sort=False).agg(
    mean_gap=("gap", "mean"), worst_gap=("gap", "max"), feasible=("feasible", "mean"),
    mean_seconds=("seconds", "mean"))
summary.round(5)

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.barh(summary.index, summary["mean_gap"] * 100)
ax.set_xlabel(f"mean gap to optimum (%), {size} cases")
plt.show()
