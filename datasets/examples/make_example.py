"""Make ``order.csv``: the example purchase order shipped with moqlab.

36 items from 3 suppliers in 6 categories. Each item has Poisson demand; its ladder is sold
in lots (1 to 6 units a step, up to about three times the mean demand) and each step's reward
is the one-period stock reward of its units,
``sum_k (M - S) P(D >= k) + C P(D < k)`` (gross margin M, stock-out penalty S <= 0, carrying
cost C <= 0), so ladders start positive and turn negative. Three MOQ families:

* ``g0``/``oq0``/``moq0``: per SKU, in units (some SKUs have none);
* ``g1``/``oq1``/``moq1``: per category, in units;
* ``g2``/``oq2``/``moq2``: per supplier, in money (``oq2`` = the step's cost).

``order-containers.csv`` is the same order shipped in containers: a capacity family
``c0``/``cq0``/``cap0`` with one container per supplier (``cap0`` in m3) and each line's
volume (its units times the SKU's unit volume, drawn with seed 8, so ``order.csv`` is
unchanged).

Deterministic (seed 7). Run from anywhere: ``python datasets/examples/make_example.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd


def poisson_survival(mean: float, kmax: int) -> np.ndarray:
    """P(D >= k) for k = 0..kmax, D ~ Poisson(mean)."""
    k = np.arange(kmax + 1)
    pmf = np.empty(kmax + 1)
    pmf[0] = np.exp(-mean)
    for i in range(1, kmax + 1):
        pmf[i] = pmf[i - 1] * mean / i
    return 1.0 - np.concatenate([[0.0], np.cumsum(pmf)[:-1]])


def make(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    suppliers = ["acme", "borealis", "cobalt"]
    supplier_moq = {"acme": 400.0, "borealis": 900.0, "cobalt": 250.0}
    categories = [f"cat{c}" for c in range(6)]
    category_moq = {c: float(m) for c, m in zip(categories, [0, 12, 20, 0, 30, 8])}
    rows = []
    for i in range(36):
        item = f"sku{i:02d}"
        supplier = suppliers[i % 3]
        category = categories[(i // 2) % 6]
        mean = float(rng.uniform(1.5, 12.0))
        price = float(np.round(rng.uniform(4.0, 40.0), 2))
        margin = price * float(rng.uniform(0.3, 0.8))
        stockout = -0.2 * margin
        carrying = -price * float(rng.uniform(0.15, 0.4))
        lot = int(rng.choice([1, 2, 3, 6]))
        steps = max(2, int(np.ceil(3 * mean / lot)))
        survival = poisson_survival(mean, steps * lot + 1)
        sku_moq = float(lot * rng.choice([0, 1, 2, 3]))
        for s in range(steps):
            units = np.arange(s * lot + 1, (s + 1) * lot + 1)
            p_ge = survival[units]
            reward = float(np.sum((margin - stockout) * p_ge + carrying * (1 - p_ge)))
            cost = round(price * lot, 2)
            rows.append({"id": item, "min": (s + 1) * lot, "reward": round(reward, 4),
                         "cost": cost, "target": float(lot),
                         "g0": item, "oq0": float(lot), "moq0": sku_moq,
                         "g1": category, "oq1": float(lot), "moq1": category_moq[category],
                         "g2": supplier, "oq2": cost, "moq2": supplier_moq[supplier]})
    return pd.DataFrame(rows)


CONTAINER_M3 = {"acme": 0.6, "borealis": 1.2, "cobalt": 0.5}


def with_containers(order: pd.DataFrame, seed: int = 8) -> pd.DataFrame:
    """``order`` with a container per supplier: unit volumes ``exp(N(-4, 0.5))`` m3 (a
    shoebox is about 0.01 m3) to 0.0001 m3, ceilings :data:`CONTAINER_M3`."""
    rng = np.random.default_rng(seed)
    items = order["id"].unique()
    unit_volume = dict(zip(items, np.round(np.exp(rng.normal(-4.0, 0.5, size=items.size)), 4)))
    out = order.copy()
    out["c0"] = out["g2"]
    out["cq0"] = np.round(out["oq1"] * out["id"].map(unit_volume), 4)
    out["cap0"] = out["g2"].map(CONTAINER_M3)
    return out


if __name__ == "__main__":
    order = make()
    for name, frame in (("order.csv", order), ("order-containers.csv",
                                               with_containers(order))):
        out = Path(__file__).with_name(name)
        frame.to_csv(out, index=False)
        print(f"wrote {out}")
