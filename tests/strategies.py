"""Hypothesis strategies shared by the tests: tiny random MOQ instances."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import moqlab


@st.composite
def tiny_frames(draw, max_items: int = 8, max_lines: int = 3, max_families: int = 2,
                integers: bool = True, negative_costs: bool = False, max_capacities: int = 0,
                min_capacities: int = 0):
    """A valid lines table: up to ``max_items`` x ``max_lines``, up to ``max_families``
    families (units or money contributions), rewards of any sign, a few free lines
    (``negative_costs``: some lines are paid for, e.g. returns or rebates), and
    ``min_capacities`` to ``max_capacities`` capacity families (volumes 0-3 per line,
    ceilings 0-8; drawn after everything else, so tables without them are unchanged)."""
    n_items = draw(st.integers(1, max_items))
    lengths = draw(st.lists(st.integers(1, max_lines), min_size=n_items, max_size=n_items))
    n_families = draw(st.integers(0, max_families))
    number = (st.integers(-4, 12).map(float) if integers
              else st.floats(-4, 12, allow_nan=False).map(lambda v: round(v, 3)))
    rows = []
    for i, length in enumerate(lengths):
        for rank in range(length):
            reward = draw(number)
            costs = [0, 1, 2, 3, 4, 5, 6, 8, 10] + ([-3, -1] if negative_costs else [])
            cost = float(draw(st.sampled_from(costs)))
            target = float(draw(st.integers(0, 5)))
            rows.append({"id": f"i{i}", "min": rank + 1, "reward": reward, "cost": cost,
                         "target": target})
    frame = pd.DataFrame(rows)
    for k in range(n_families):
        n_groups = draw(st.integers(1, 3))
        item_group = draw(st.lists(st.integers(0, n_groups - 1), min_size=n_items,
                                   max_size=n_items))
        money = draw(st.booleans())
        moq = draw(st.lists(st.sampled_from([0, 0, 2, 3, 4, 6, 9]), min_size=n_groups,
                            max_size=n_groups))
        item_index = frame["id"].str[1:].astype(int).to_numpy()
        group = np.asarray(item_group)[item_index]
        frame[f"g{k}"] = [f"f{k}g{g}" for g in group]
        if money:
            frame[f"oq{k}"] = np.maximum(frame["cost"].to_numpy(), 0.5)
        else:
            frame[f"oq{k}"] = [float(draw(st.integers(1, 3))) for _ in range(len(frame))]
        frame[f"moq{k}"] = [float(moq[g]) for g in group]
    n_capacities = draw(st.integers(min_capacities, max_capacities)) if max_capacities else 0
    for k in range(n_capacities):
        n_groups = draw(st.integers(1, 3))
        item_group = draw(st.lists(st.integers(0, n_groups - 1), min_size=n_items,
                                   max_size=n_items))
        cap = draw(st.lists(st.sampled_from([0, 2, 3, 4, 5, 8]), min_size=n_groups,
                            max_size=n_groups))
        item_index = frame["id"].str[1:].astype(int).to_numpy()
        group = np.asarray(item_group)[item_index]
        frame[f"c{k}"] = [f"c{k}h{g}" for g in group]
        frame[f"cq{k}"] = [float(draw(st.integers(0, 3))) for _ in range(len(frame))]
        frame[f"cap{k}"] = [float(cap[g]) for g in group]
    # Shuffle rows: the table order must not matter.
    perm = draw(st.permutations(list(range(len(frame)))))
    return frame.iloc[list(perm)].reset_index(drop=True)


@st.composite
def tiny_problems(draw, **kwargs):
    """(instance, mode, limit) with a limit drawn inside the instance's range."""
    frame = draw(tiny_frames(**kwargs))
    inst = moqlab.Instance.from_frame(frame)
    mode = draw(st.sampled_from(["budget", "min_target", "max_target"]))
    if mode == "budget":
        top = float(np.clip(inst.cost, 0, None).sum())
    else:
        top = float(inst.target.sum())
    limit = float(draw(st.integers(0, int(top) + 2)))
    return inst, mode, limit
