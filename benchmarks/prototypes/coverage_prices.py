"""Measuring harness (issue 10): coverage prices for a fixed pattern of open groups.

Prototyped here, now in the library as :mod:`moqlab.heuristics._cover` (``solve_cover``,
``pattern_climb``), which this script calls. For a *pattern* (groups of the multi-item families
protected = must open, the others of those families closed), the engine's pattern solve
prices items at ``R - lam C`` only; here each group ``g`` also gets a coverage price
``mu_g >= 0`` (a multiplier of its MOQ row), so an item's priced profit is
``R_i(t) - lam C_i(t) + sum_k mu_{k, g_k(i)} Q_{k,i}(t)``. ``(lam, mu)`` follow a projected
subgradient path (``iters`` steps, step ``eta / sqrt(n + 1)`` scaled by ``lam*`` and each
family's cost per unit of contribution; a free group opens in the primal step only when its
members' priced value exceeds ``mu_g moq_g``); every ``STRIDE``-th iterate is repaired, shed
and filled with the engine's own functions and the best valid order is kept.

Measured (2-core CPU, 2026-12-02):

* ``stock-i200-merchant-t1.0`` (1,260 lines, optimum 3675.51; ``search`` 3597.84, 2.11 %):
  the optimum's open set solved by the engine's ``solve_pattern`` ends invalid (cost 12,742
  over the budget 11,599); with coverage prices it gives 3663.99 (0.31 %). Climbing over
  patterns (single flips, each evaluated by this solve) from ``search``'s open set finds
  that set in 29 evaluations (10 s with compiles): 0.31 %.
* ``medium-stock-mixed-t1`` (optimum 2594.88; ``search`` 2535.72, 2.28 %): the optimum's
  open set gives only 2536.90 (2.2 %); flips from ``search``'s set find nothing, flips and
  swaps reach 2566.15 (1.1 %).
* The LP relaxation does not point at the open set on these tight orders: on
  ``stock-i200-merchant-t1.0`` it is 5039 (37 % above the optimum) with every category's
  ``y`` at 0.598.

So coverage prices fix the budget fit of a given pattern, but neither they nor the LP pick
the pattern; the within-pattern solve is still 2 % off on ``medium-stock-mixed-t1``. In the
engine (the climb after the group search, then exchange and the host polish), ``search``
ends 0.10 % from the optimum on ``stock-i200-merchant-t1.0`` and 0.07 % on
``medium-stock-mixed-t1``.

Usage::

    python benchmarks/prototypes/coverage_prices.py ORDER CATS SUPPLIERS [--climb]

``ORDER``: a fresh stock order name (``benchmarks/stock_orders.py``) or a suite case name;
``CATS``/``SUPPLIERS``: comma-separated open groups of the two multi-item families (the
others of that family closed), ``free`` (no pattern on that family) or ``none``; or
``search`` / ``milp`` in place of both (the open set of that method's answer). ``--climb``
then climbs from that pattern's order (:func:`moqlab.heuristics._cover.pattern_climb`).
"""


import sys
import time
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import moqlab  # noqa: E402
from benchmarks.stock_orders import orders  # noqa: E402
from moqlab.core._layout import prefix_layout  # noqa: E402
from moqlab.core._precision import float64  # noqa: E402
from moqlab.heuristics._cover import pattern_climb, solve_cover  # noqa: E402
from moqlab.heuristics._lagrange import totals  # noqa: E402


def order_named(name):
    if name.startswith(("tiny", "small", "medium", "large")):
        case = {c.name: c for c in moqlab.load_suite(name.split("-")[0])}[name]
        return SimpleNamespace(instance=case.instance, limit=case.limit)
    return dict(orders(100000))[name]


def open_sets(inst, limit, method):
    """The open multi-item groups of ``method``'s answer, per multi-item family."""
    res = moqlab.solve(inst, method=method, budget=limit)
    print(f"{method}: reward {res.reward:.2f}")
    selected = np.asarray(res.selected, bool)
    out = []
    for fam in inst.families:
        if (np.bincount(fam.item_group) > 1).any():
            used = np.bincount(fam.item_group[inst.line_item[selected]], minlength=fam.n_groups)
            out.append(",".join(map(str, np.flatnonzero(used > 0))) or "none")
    return out


def main(argv):
    name, cats, sups = argv[:3]
    gen = order_named(name)
    inst = gen.instance
    if cats in ("search", "milp"):
        cats, sups = open_sets(inst, gen.limit, cats)
    lay = prefix_layout(inst, budget=gen.limit)
    multi = [k for k, fam in enumerate(inst.families) if (np.bincount(fam.item_group) > 1).any()]
    closed = np.zeros(lay.floor.shape, bool)
    protect = np.zeros(lay.floor.shape, bool)
    for row, (k, spec) in enumerate(zip(multi, (cats, sups))):
        if spec == "free":
            continue
        chosen = [] if spec == "none" else [int(x) for x in spec.split(",")]
        for g in range(inst.families[k].n_groups):
            (protect if g in chosen else closed)[row, g] = True
    began = time.perf_counter()
    take, shut, ok = float64(jax.jit(solve_cover))(lay, closed, protect)
    reward, cost = float64(jax.jit(totals))(lay, take)
    print(f"pattern solve: reward {float(reward):.2f} cost {float(cost):.1f} ok {bool(ok)} "
          f"budget {gen.limit} ({time.perf_counter() - began:.1f} s with compile)")
    if "--climb" in argv:
        began = time.perf_counter()
        take, _ = float64(jax.jit(pattern_climb))(lay, take, shut)
        reward = float64(jax.jit(totals))(lay, take)[0]
        print(f"climb: reward {float(reward):.2f} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
