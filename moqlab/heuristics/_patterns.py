"""Patterns of the coarsest groups, bounded one by one and solved at their own dual prices
(part of ``search``, for orders with few coarse groups).

A *pattern* opens some of the coarsest multi-item groups (their MOQ must be met) and closes
the rest (:func:`moqlab.heuristics._lagrange.patterns_of`): every valid order belongs to
exactly one pattern. For each pattern ``p`` the dual function of the bound
(:func:`moqlab.core._dual.dual_bound`, with the pattern as a branch state) gives

* a **bound** ``U_p``: no order of pattern ``p`` earns more, so ``max_p U_p`` bounds the
  optimum, and a pattern with ``U_p`` at most an order already found holds nothing better;
* **prices** ``(lam_p, mu_p)``: the budget price and, for each open group, the price of its
  coverage, so an item's priced profit is ``R - lam_p C + mu_p Q``. On orders whose MOQs
  take most of the budget (the open groups' thresholds met almost exactly), these prices are
  what the engine's own coverage-price path (:mod:`moqlab.heuristics._cover`) approaches
  without reaching.

The stage first bounds the order as a whole (the dual function with no pattern fixed, one
lane of the ``2^G - 1`` the patterns take) and stops there when that bound is within
``CLOSE_ENOUGH`` of the best order found: no pattern can then gain more (on the medium suite
this skips the stage on the loose-budget orders, where it cost 0.5 to 1 s and gained
nothing).

Patterns are visited best bound first, only while their bound exceeds the best order found.
A pattern whose items outside its closed groups have few orders (at most
``ENUMERATE_ORDERS``; on small orders, where the coarse families cover every multi-item
group, a pattern leaves only the items of its open groups) is enumerated: its best order is
exact, raises the best order found, and the pattern's bound gives way to it, so when every
pattern left above the best order is enumerated, that order is proven optimal
(``small-stock-fiscal-t1``: 20.5 % off before, optimal after). At most ``PATTERN_SOLVES``
other patterns are solved heuristically: every item takes its best prefix at ``(lam_p f, mu_p)``
for ``f`` in ``PATTERN_SPREAD`` (a higher budget price leaves room for the integer rounding),
the order is repaired, shed and filled (:func:`moqlab.heuristics._lagrange.settle`), and the
host polish (:func:`moqlab.heuristics._search.polish`) first trades it into the budget where
the shed could not, keeping every MOQ, then improves it.

Measured on ``medium-stock-supplier`` (1,996 lines, 6 suppliers with MOQs in money, the
budget 4 % below the MOQs of the best pattern at list value): the engine's order is 16 % off
HiGHS's; the best pattern's bound is 6,360 (the root bound 6,435) and its order 6,322, within
0.22 % of HiGHS's 6,336 (20 s), the next pattern's bound 5,723.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b", "c", "d"], [4.0, 4.0, 5.0, 1.0], [2.0, 2.0, 3.0, 1.0],
    ...     families=[(["s", "s", "t", "t"], [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0])])
    >>> found = best_patterns(inst, 4.0, incumbent=6.0)  # an order worth 6 is known
    >>> [round(b, 2) for b in found.bounds]  # s open, t open, both shut
    [8.0, 6.0, 0.0]
    >>> found.takes[0].tolist(), found.enumerated, found.solved  # s open: 4 orders, visited
    ([1, 1, 0, 0], 1, 0)
    >>> round(found.bound, 2)  # no pattern left unvisited can beat 8: the order is optimal
    8.0
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core._clock import Deadline
from ..core._instance import Instance
from ..core._kernel import order_totals
from ..core._layout import Layout, layout_sizes, multi_groups, prefix_layout
from ..core._orders import ENUMERATE_ORDERS, best_order, order_count
from ..core._precision import float64
from ..core._dual import NODE_TEMPERATURE, dual_bound, splittable
from ._cover import cover_choice, cover_priced
from ._lagrange import PATTERN_GROUPS, barred, may_fit, patterns_of, settle

PATTERN_STEPS = 200  # dual search steps per pattern bound
REFINE_STEPS = 300  # more steps for a pattern about to be solved, from its bound's point
PATTERN_SOLVES = 16  # patterns solved at most, best bound first
PATTERN_SPREAD = (1.0, 1.03, 1.06, 1.1, 1.15, 1.2, 1.3, 1.45)  # times the pattern's lam
PATTERN_BOUND_CELLS = 1 << 15  # patterns are bounded on layouts of at most this many cells
SAME_REWARD = 1e-7  # a bound this close (relative) to the incumbent is its rounding allowance
CLOSE_ENOUGH = 1e-3  # a root bound this close (relative) to the incumbent skips the patterns


class Patterns(NamedTuple):
    """What :func:`best_patterns` found: ``takes`` (the orders of the solved patterns, each
    repaired, shed and filled; not yet verified), ``bounds`` (each pattern's bound, best
    first; patterns that cannot fit the budget are left out; empty when the root bound
    skipped them), ``solved`` (patterns solved at dual prices), ``root`` (the bound of the
    whole order), ``enumerated`` (patterns enumerated exactly), ``best`` (the incumbent or
    the best enumerated order, whichever earns more), ``unsolved`` (the largest bound of a
    pattern not enumerated)."""

    takes: list
    bounds: list
    solved: int
    root: float
    enumerated: int = 0
    best: float = -np.inf
    unsolved: float = -np.inf

    @property
    def bound(self) -> float:
        """The tighter of the root bound and the patterns' bound: the best order found
        (``best``) or the largest bound of a pattern not enumerated (``unsolved``), whichever
        is larger (an enumerated pattern holds nothing better than its best order)."""
        if not self.bounds:
            return self.root
        return min(self.root, max(self.best, self.unsolved))


def _states(lay: Layout):
    """``[P, K, G]`` branch states (``+1`` open, ``-1`` closed, ``0`` free) of every pattern
    of the coarsest groups, and which patterns are distinct and may fit the budget."""
    closed, protect, distinct = patterns_of(lay, PATTERN_GROUPS)
    closed, protect, distinct = closed[1:], protect[1:], distinct[1:]  # row 0: no pattern
    state = protect.astype(jnp.int8) - closed.astype(jnp.int8)
    return state, distinct & may_fit(lay, protect)


@jax.jit
def _root_bound(lay: Layout):
    return dual_bound(lay, PATTERN_STEPS)[0]


@jax.jit
def _pattern_bounds(lay: Layout):
    state, wanted = _states(lay)
    values, duals = jax.vmap(lambda s: dual_bound(lay, PATTERN_STEPS, s))(state)
    return jnp.where(wanted, values, -jnp.inf), state, duals


@jax.jit
def _pattern_orders(lay: Layout, state, dual):
    """The settled order at every price of ``PATTERN_SPREAD`` (``[S, I]``)."""
    protect, closed = state > 0, state < 0
    dual = dual_bound(lay, REFINE_STEPS, state, dual, NODE_TEMPERATURE)[1]
    nu = jnp.where(splittable(lay), dual.nu, 0.0)
    mu = jax.vmap(lambda share, group: jax.ops.segment_sum(share, group, lay.floor.shape[1]))(
        nu, lay.group)
    mu = jnp.where(protect, mu, 0.0)  # free groups: their split prices are no coverage price

    def at(scale):
        profit = cover_priced(lay, dual.lam * scale, mu)
        return settle(lay, profit, cover_choice(lay, profit, mu, closed, protect), closed,
                      protect)[0]

    return jax.lax.map(at, jnp.asarray(PATTERN_SPREAD, dtype=lay.reward.dtype))


def coarse_groups(instance: Instance) -> int:
    """The number of multi-item groups with an MOQ of ``instance``'s coarsest family that
    has any (0 when no family has one)."""
    counts = [int(multi_groups(fam).sum()) for fam in instance.families]
    return min((c for c in counts if c), default=0)


def bounds_patterns(instance: Instance) -> bool:
    """Does :func:`best_patterns` apply to ``instance``: a family with at least one and at
    most ``PATTERN_GROUPS`` multi-item groups with an MOQ, on a layout of at most
    ``PATTERN_BOUND_CELLS`` cells?"""
    items, width = layout_sizes(instance)[:2]
    return 1 <= coarse_groups(instance) <= PATTERN_GROUPS and items * width <= PATTERN_BOUND_CELLS


@float64
def best_patterns(instance: Instance, budget: float, incumbent: float,
                  deadline: Deadline | None = None, layout: Layout | None = None,
                  root: float | None = None) -> Patterns:
    """Bound every pattern of ``instance``'s coarsest groups at ``budget`` and solve those
    whose bound exceeds ``incumbent`` (the reward of a valid order), best first (module
    docstring): a pattern whose items outside its closed groups have at most
    ``ENUMERATE_ORDERS`` orders is enumerated (its best order is exact and raises the
    incumbent), the others are solved at their dual prices, at most ``PATTERN_SOLVES`` of
    them. Stops once ``deadline`` has passed. ``layout``: the instance's prefix layout at
    ``budget``, when the caller has it. ``root``: a root dual bound of the order when the
    caller has one (the engine computes one, of as many steps, for its climb: one compile and
    one search fewer; any multipliers give a valid bound)."""
    layout = prefix_layout(instance, budget) if layout is None else layout
    lay = Layout(*(jnp.asarray(part) for part in layout))
    root = float(_root_bound(lay)) if root is None else root
    if root <= incumbent + CLOSE_ENOUGH * max(abs(incumbent), 1.0):
        return Patterns([], [], 0, root)
    values, states, duals = jax.device_get(_pattern_bounds(lay))
    order = [int(p) for p in np.argsort(-values, kind="stable") if np.isfinite(values[p])]
    takes, solved, exact = [], 0, set()
    for p in order:
        if (values[p] <= incumbent + SAME_REWARD * max(abs(incumbent), 1.0)
                or (deadline is not None and deadline.stop_if_passed())):
            break
        free = _open_items(layout, states[p], instance.n_items)
        if order_count(instance, free) <= ENUMERATE_ORDERS:
            take = best_order(instance, budget, free)
            takes.append(take)
            incumbent = max(incumbent, float(order_totals(instance, take)[0]))
            exact.add(p)
            continue
        if solved == PATTERN_SOLVES:
            continue  # enumerable patterns further down may still gain
        dual = jax.tree_util.tree_map(lambda part: part[p], duals)
        found = np.asarray(jax.device_get(_pattern_orders(lay, states[p], dual)))
        takes.extend(row[:instance.n_items].astype(np.int64) for row in found)
        solved += 1
    unsolved = max((float(values[p]) for p in order if p not in exact), default=-np.inf)
    return Patterns(takes, [float(values[p]) for p in order], solved, root, len(exact),
                    incumbent, unsolved)


def _open_items(layout: Layout, state, n_items: int) -> np.ndarray:
    """Items of no closed group of the pattern ``state`` (``[K, G]``: -1 closed)."""
    return ~np.asarray(barred(layout, np.asarray(state) < 0))[:n_items]
