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
# # Quickstart: solve a purchase order with MOQs
#
# A purchase order is a table of **lines**: each line is one more step of an item's
# quantity ladder, with a `reward` (what holding that step is worth), a `cost` and a
# `target`. Suppliers impose **minimal order quantities** through MOQ families
# `gk, oqk, moqk`: a group of a family is either not ordered at all, or ordered for at
# least `moqk` (in units or in money).
#
# The example order ships with moqlab: 36 SKUs and three families -- per SKU in units
# (`g0`), per category in units (`g1`), per supplier in money (`g2`).

# %%
import os
from pathlib import Path

import pandas as pd

import moqlab

ROOT = Path(moqlab.__file__).resolve().parent.parent
df = pd.read_csv(ROOT / "datasets" / "examples" / "order.csv")
print(df.shape)
df.head(8)

# %% [markdown]
# ## Solve with a budget
#
# `moqlab.moqsolv` is the pandas front (after Lokad's `moqsolv`): a boolean column aligned
# with the table. `method="auto"` picks an exact method when the instance is small enough
# (enumeration, else the HiGHS MILP), else the MOQ-aware greedy.

# %%
BUDGET = 1500
df["selected"] = moqlab.moqsolv(df, budget=BUDGET, method="milp")
chosen = df[df["selected"]]
print(f"{len(chosen)} lines chosen, cost {chosen.cost.sum():.2f} <= {BUDGET}, "
      f"reward {chosen.reward.sum():.2f}")
chosen.groupby("id").agg(lines=("min", "size"), last_min=("min", "max"), reward=("reward", "sum"),
                         cost=("cost", "sum"), supplier=("g2", "first"))

# %% [markdown]
# The same through the `Instance`/`Result` API, which also says whether the answer is
# proven optimal and passes the independent verifier:

# %%
inst = moqlab.Instance.from_frame(df.drop(columns="selected"))
res = moqlab.solve(inst, budget=BUDGET, method="milp")
print(res.status, res.feasible, res.reward, res.cost, f"{res.seconds:.3f}s")
{item: k for item, k in res.quantities.items() if k}

# %% [markdown]
# ## Why the MOQs bind
#
# For each family, compare what each ordered group reaches with its threshold. A group
# "binds" when it is ordered at (or just above) its minimum: without the MOQ the order
# would have stopped lower there.

# %%
def group_report(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    taken = frame[frame["selected"]]
    totals = taken.groupby(f"g{k}")[f"oq{k}"].sum()
    thresholds = frame.groupby(f"g{k}")[f"moq{k}"].first()
    out = pd.DataFrame({"ordered": totals, "moq": thresholds}).fillna({"ordered": 0.0})
    out["slack"] = out["ordered"] - out["moq"]
    out["state"] = ["not ordered" if o == 0 else ("at the MOQ" if s < 1e-9 * max(1, m) + 1e-9
                                                   else "above")
                    for o, s, m in zip(out["ordered"], out["slack"], out["moq"])]
    return out


group_report(df, 2)  # suppliers, in money

# %%
group_report(df, 1)  # categories, in units

# %% [markdown]
# Solving the same order **without** the MOQ columns shows what the constraints change:
# the unconstrained order spreads the budget over more items and leaves groups below
# their thresholds -- an order the suppliers would refuse.

# %%
plain = df[["id", "min", "reward", "cost", "target"]].copy()
df["selected_no_moq"] = moqlab.moqsolv(plain, budget=BUDGET, method="milp")
violations = moqlab.check(inst, df["selected_no_moq"].to_numpy()).reasons
print(f"reward without MOQs {df.loc[df.selected_no_moq, 'reward'].sum():.2f} "
      f"(an upper bound), with MOQs {res.reward:.2f}")
print(f"{len(violations)} MOQ violations in the unconstrained order, e.g.:")
for reason in violations[:5]:
    print("  ", reason)

# %% [markdown]
# ## Heuristics and the target modes
#
# The greedy heuristic answers in milliseconds; `min_target` grows the reward-prioritised
# order until its total target (here: units) reaches T, `max_target` stops just below T
# (shown with the greedy heuristic, which walks its own sequence of growing orders).

# %%
rows = []
for method in ["milp", "greedy", "roundup"]:
    r = moqlab.solve(inst, budget=BUDGET, method=method)
    rows.append({"method": method, "reward": r.reward, "cost": r.cost,
                 "status": r.status, "seconds": r.seconds})
pd.DataFrame(rows)

# %%
for mode in ["min_target", "max_target"]:
    r = moqlab.solve(inst, **{mode: 60}, method="greedy")
    print(mode, r.status, f"target {r.target:g}", f"cost {r.cost:.2f}", f"reward {r.reward:.2f}")
