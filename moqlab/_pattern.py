"""Group patterns: decide which multi-item MOQ groups are open, then price the order.

MOQ-heavy orders are hard for line-by-line heuristics because opening a supplier or a
category is one large, coordinated decision. This module searches over those decisions
directly (host side, numpy, vectorised over items); :mod:`moqlab._search` uses it as one of
its phases.

**Switches and patterns.** A *switch* is a group with a threshold holding more than one item.
Groups of a single item are folded into the item's ladder: item ``i`` may take ``0`` lines or
at least ``tmin_i`` lines (the first prefix reaching all its single-item thresholds). A
*pattern* ``p`` is a boolean per switch: ``p_s = 1`` means group ``s`` is open and must reach
its threshold ``f_s``; ``p_s = 0`` means closed, so every item in it takes 0 lines.

**Pricing a pattern (Lagrangian heuristic).** With cumulative tables ``R_i(t)``, ``C_i(t)``,
``Q_{s,i}(t)`` (reward, cost, contribution of item ``i``'s first ``t`` lines), the pattern's
problem is ``max sum_i R_i(t_i)`` s.t. ``sum_i C_i(t_i) <= B``, ``sum_{i in s} Q_{s,i}(t_i)
>= f_s`` for open ``s``, ``t_i in {0} u [tmin_i, L_i]`` (0 for items of closed switches). Its
Lagrangian separates by item: for multipliers ``lam >= 0`` (budget) and ``mu_s >= 0``
(thresholds), each item takes ``argmax_t R_i(t) - lam C_i(t) + sum_s mu_s Q_{s,i}(t)``. A
projected subgradient method moves ``lam`` multiplicatively with the relative overspend and
``mu_s`` additively with the relative shortfall. Every ``repair_every`` iterations the item
choices are *repaired* into a valid order: (1) *cover*: while an open switch is short, add
the step (next line, or ``tmin_i`` lines from 0) with the best price, net loss
``lam dC - dR`` per unit of normalised shortfall covered; (2) *shed*: while over budget,
remove the step with the lowest ``dR / dC`` that keeps every open switch covered; (3) *fill*:
add steps by their look-ahead ratio ``max_{b > t} (R(b) - R(t)) / (C(b) - C(t))`` while they fit.
The best repaired order is the pattern's value; a pattern whose repair stays over budget
scores minus its overspend (so that the search can walk towards feasibility).

**Pattern search.** Best-improvement local search from several starting patterns (all open,
the greedy order's pattern, and one group of the coarsest family open with everything
else): single flips, and pairs of flips across families when no single flip improves.
Each priced pattern is cached.

Example::

    >>> import moqlab
    >>> from moqlab._pattern import search_patterns
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b", "c"], [4.0, 4.0, 5.0], [2.0, 2.0, 3.0],
    ...     families=[(["s", "s", "t"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    >>> found = search_patterns(inst, budget=4.0)
    >>> int(found.take.sum()), float(found.reward)
    (2, 8.0)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._check import TOLERANCE
from ._greedy import FREE_COST, _floor
from ._instance import Instance

MAX_SWITCHES = 64  # above this, the flip neighbourhood is too large to search this way
REPAIR_PRICES = (1.0,)  # multiples of lam tried by each repair


class Tables(NamedTuple):
    """Per-item cumulative tables of one instance (``I`` items, ``L`` lines per item)."""

    reward: np.ndarray     # [I, L + 1]
    cost: np.ndarray       # [I, L + 1]
    contrib: np.ndarray    # [K, I, L + 1] contributions of multi-item families
    switch: np.ndarray     # [K, I] switch of the item in each family, -1 = none
    floor: np.ndarray      # [S] thresholds of the switches (minus tolerance)
    family: np.ndarray     # [S] family of each switch
    tmin: np.ndarray       # [I] fewest lines of a non-empty take (single-item groups)
    length: np.ndarray     # [I]
    free: float            # cost used for free lines in ratios


def tables(instance: Instance) -> Tables:
    """Cumulative tables, switches and item minimums of ``instance``."""
    n, width = instance.n_items, int(instance.item_length.max()) if instance.n_lines else 0

    def cumulative(values):
        table = np.zeros((n, width))
        table[instance.line_item, instance.line_rank] = values
        return np.concatenate([np.zeros((n, 1)), np.cumsum(table, axis=1)], axis=1)

    length = instance.item_length.astype(np.int64)
    tmin = np.ones(n, np.int64)
    contrib, switch, floors, family = [], [], [], []
    for k, fam in enumerate(instance.families):
        table = cumulative(fam.oq)
        floor = np.where(fam.moq > 0, _floor(fam.moq), 0.0)
        size = np.bincount(fam.item_group, minlength=fam.n_groups)
        single = ((size == 1) & (fam.moq > 0))[fam.item_group]
        reach = table >= floor[fam.item_group][:, None]
        reach[:, 0] = False
        first = np.where(reach.any(axis=1), reach.argmax(axis=1), width + 1)
        tmin = np.where(single, np.maximum(tmin, first), tmin)
        multi = (size > 1) & (fam.moq > 0)
        if not multi.any():
            continue
        index = np.full(fam.n_groups, -1)
        index[multi] = np.arange(multi.sum()) + len(floors)
        contrib.append(table)
        switch.append(index[fam.item_group])
        floors.extend(floor[multi])
        family.extend([k] * int(multi.sum()))
    scale = max(1.0, float(np.max(np.abs(instance.cost)))) if instance.n_lines else 1.0
    return Tables(cumulative(instance.reward), cumulative(instance.cost),
                  np.array(contrib).reshape(len(contrib), n, width + 1),
                  np.array(switch, dtype=np.int64).reshape(len(switch), n),
                  np.array(floors, dtype=np.float64), np.array(family, dtype=np.int64),
                  tmin, length, FREE_COST * scale)


def allowed_items(tb: Tables, pattern: np.ndarray) -> np.ndarray:
    """Items that may be ordered under ``pattern``: all their switches open."""
    ok = tb.tmin <= tb.length
    for switch in tb.switch:
        ok &= (switch < 0) | pattern[np.maximum(switch, 0)]
    return ok


def coverage(tb: Tables, take: np.ndarray) -> np.ndarray:
    """Contribution of ``take`` to each switch."""
    rows = np.arange(take.shape[0])
    total = np.zeros(tb.floor.shape[0])
    for switch, table in zip(tb.switch, tb.contrib):
        inside = switch >= 0
        total += np.bincount(switch[inside], weights=table[rows, take][inside],
                             minlength=total.shape[0])
    return total


def _steps(tb: Tables, take: np.ndarray, up: bool):
    """Next (``up``) or previous step of every item: the new take, whether the step exists,
    and the changes ``T(new) - T(take)`` of reward, cost and contributions (``[K, I]``)."""
    rows = np.arange(take.shape[0])
    if up:
        new = np.minimum(np.where(take == 0, tb.tmin, take + 1), tb.reward.shape[1] - 1)
        valid = np.where(take == 0, tb.tmin, take + 1) <= tb.length
    else:
        new = np.where(take <= tb.tmin, 0, take - 1)
        valid = take > 0
    d_reward = tb.reward[rows, new] - tb.reward[rows, take]
    d_cost = tb.cost[rows, new] - tb.cost[rows, take]
    d_contrib = tb.contrib[:, rows, new] - tb.contrib[:, rows, take]
    return new, valid, d_reward, d_cost, d_contrib


def _lookahead_ratio(tb: Tables, take: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``max_{b >= start} (R(b) - R(take)) / (C(b) - C(take))`` per item (free lines count
    at a tiny cost)."""
    rows = np.arange(take.shape[0])
    ends = np.arange(tb.reward.shape[1])[None, :]
    gain = tb.reward - tb.reward[rows, take][:, None]
    spend = np.maximum(tb.cost - tb.cost[rows, take][:, None], tb.free)
    inside = (ends >= start[:, None]) & (ends <= tb.length[:, None])
    return np.where(inside, gain / spend, -np.inf).max(axis=1)


def repair(tb: Tables, pattern: np.ndarray, budget: float, take: np.ndarray, price: float):
    """Turn item choices into a valid order under ``pattern`` (cover, shed, fill; see the
    module docstring). Returns ``(take, overspend)``; ``take`` is ``None`` when an open
    switch cannot be covered, ``overspend > 0`` when shedding could not meet the budget."""
    allowed = allowed_items(tb, pattern)
    take = np.where(allowed, take, 0).astype(np.int64)
    allowance = TOLERANCE * max(1.0, abs(budget))
    rows = np.arange(take.shape[0])
    scale = np.maximum(tb.floor, 1e-12)
    deficit = np.where(pattern, np.maximum(tb.floor - coverage(tb, take), 0.0), 0.0)
    spent = float(tb.cost[rows, take].sum())
    while deficit.sum() > 0:
        new, valid, d_reward, d_cost, d_contrib = _steps(tb, take, up=True)
        gain = np.zeros(take.shape[0])
        for switch, delta in zip(tb.switch, d_contrib):
            s = np.maximum(switch, 0)
            gain += np.where(switch >= 0, np.minimum(delta, deficit[s]) / scale[s], 0.0)
        candidate = allowed & valid & (gain > 0)
        if not candidate.any():
            return None, np.inf
        net = price * d_cost - d_reward
        safe_gain = np.where(candidate, gain, 1.0)
        # a profitable step is better the more it covers, a costly one the less it costs
        # per unit covered
        score = np.where(net > 0, net / safe_gain, net * safe_gain)
        i = int(np.argmin(np.where(candidate, score, np.inf)))
        for switch, delta in zip(tb.switch, d_contrib):
            if switch[i] >= 0:
                deficit[switch[i]] = max(0.0, deficit[switch[i]] - delta[i])
        spent += d_cost[i]
        take[i] = new[i]
    covered = coverage(tb, take)
    while spent > budget + allowance:
        new, valid, d_reward, d_cost, d_contrib = _steps(tb, take, up=False)
        keep = valid & (d_cost < 0)
        for switch, delta in zip(tb.switch, d_contrib):
            s = np.maximum(switch, 0)
            keep &= (switch < 0) | ~pattern[s] | (covered[s] + delta >= tb.floor[s])
        if not keep.any():
            return take, spent - budget
        loss = np.where(keep, d_reward / np.where(keep, d_cost, -1.0), np.inf)
        i = int(np.argmin(loss))
        for switch, delta in zip(tb.switch, d_contrib):
            if switch[i] >= 0:
                covered[switch[i]] += delta[i]
        spent += d_cost[i]
        take[i] = new[i]
    closed = ~allowed
    while True:
        new, valid, _, d_cost, _ = _steps(tb, take, up=True)
        ratio = _lookahead_ratio(tb, take, np.where(take == 0, tb.tmin, take + 1))
        fits = spent + d_cost <= budget + allowance
        wanted = ~closed & valid & (ratio > 0)
        closed |= wanted & ~fits  # a step that does not fit now never will
        candidate = wanted & fits
        if not candidate.any():
            return take, 0.0
        i = int(np.argmax(np.where(candidate, ratio, -np.inf)))
        spent += d_cost[i]
        take[i] = new[i]


class Priced(NamedTuple):
    """A pattern's best repaired order: ``score`` is its reward, or minus its overspend when
    no repair met the budget (``take`` then the least-over order, or ``None``)."""

    score: float
    take: np.ndarray | None
    feasible: bool


def price_pattern(tb: Tables, pattern: np.ndarray, budget: float, iterations: int = 200,
                  repair_every: int = 20) -> Priced:
    """Lagrangian pricing of one pattern (module docstring)."""
    n, width = tb.reward.shape
    rows = np.arange(n)
    allowed = allowed_items(tb, pattern)
    ends = np.arange(width)[None, :]
    choice = (ends == 0) | (allowed[:, None] & (ends >= tb.tmin[:, None])
                            & (ends <= tb.length[:, None]))
    positive = tb.cost[:, 1] > 0
    lam0 = float(np.median(tb.reward[positive, 1] / tb.cost[positive, 1])) \
        if positive.any() else 1.0
    lam0 = max(lam0, 1e-9)
    lam, mu = lam0, np.zeros(tb.floor.shape[0])
    spread = max(abs(budget), 1.0)
    mu_step = lam0 * spread / np.maximum(tb.floor, 1e-9) / max(tb.floor.shape[0], 1)
    best = Priced(-np.inf, None, False)
    for it in range(iterations):
        value = tb.reward - lam * tb.cost
        for switch, table in zip(tb.switch, tb.contrib):
            value = value + np.where(switch >= 0, mu[np.maximum(switch, 0)], 0.0)[:, None] * table
        take = np.where(choice, value, -np.inf).argmax(axis=1)
        spent = float(tb.cost[rows, take].sum())
        short = np.where(pattern, (tb.floor - coverage(tb, take)) / np.maximum(tb.floor, 1e-9),
                         0.0)
        if it % repair_every == repair_every - 1 or it == iterations - 1:
            for factor in REPAIR_PRICES:
                fixed, over = repair(tb, pattern, budget, take, lam * factor)
                if fixed is None:
                    continue
                score = float(tb.reward[rows, fixed].sum()) if over == 0 else -over
                if score > best.score:
                    best = Priced(score, fixed, over == 0)
        step = 0.5 / np.sqrt(it + 1)
        lam = lam * np.exp(step * np.clip(4.0 * (spent - budget) / spread, -1.0, 1.0))
        mu = np.maximum(0.0, mu + step * mu_step * short)
    return best


class Found(NamedTuple):
    """Result of :func:`search_patterns`: the best feasible order found (``None`` when no
    pattern could be made feasible), its reward and pattern, and how many patterns were
    priced."""

    take: np.ndarray | None
    reward: float
    pattern: np.ndarray
    priced: int


def pattern_of(tb: Tables, take: np.ndarray) -> np.ndarray:
    """Switches that ``take`` opens."""
    opened = np.zeros(tb.floor.shape[0], bool)
    for switch in tb.switch:
        inside = (switch >= 0) & (take > 0)
        opened[switch[inside]] = True
    return opened


def starting_patterns(tb: Tables, seeds=()) -> list[np.ndarray]:
    """All open, the patterns of the ``seeds`` orders, and, for the family with the fewest
    switches (at most 8), each of its groups open alone with all other families open."""
    count = tb.floor.shape[0]
    starts = [np.ones(count, bool)] + [pattern_of(tb, np.asarray(t)) for t in seeds]
    families, sizes = np.unique(tb.family, return_counts=True)
    if families.size > 1 and sizes.min() <= 8:
        coarse = families[np.argmin(sizes)]
        for s in np.flatnonzero(tb.family == coarse):
            start = tb.family != coarse
            start[s] = True
            starts.append(start)
    unique = {s.tobytes(): s for s in starts}
    return list(unique.values())


def search_patterns(instance: Instance, budget: float, seeds=(), *, max_priced: int = 150,
                    iterations: int = 200, repair_every: int = 20) -> Found:
    """Best-improvement search over patterns (module docstring). ``seeds``: orders whose
    patterns are extra starting points; ``max_priced`` caps the number of priced patterns."""
    tb = tables(instance)
    count = tb.floor.shape[0]
    priced: dict[bytes, Priced] = {}

    def value(pattern):
        key = pattern.tobytes()
        if key not in priced:
            priced[key] = price_pattern(tb, pattern, budget, iterations, repair_every)
        return priced[key]

    def single_flips(pattern):
        flips = np.tile(pattern, (count, 1))
        flips[np.arange(count), np.arange(count)] ^= True
        return list(flips)

    def pair_flips(pattern):
        out = []
        for a in range(count):
            for b in range(a + 1, count):
                if tb.family[a] != tb.family[b]:
                    flipped = pattern.copy()
                    flipped[[a, b]] ^= True
                    out.append(flipped)
        return out

    searchable = 0 < count <= MAX_SWITCHES
    starts = starting_patterns(tb, seeds) if searchable else [np.ones(count, bool)]
    best_take, best_reward, best_pattern = None, -np.inf, starts[0]
    for pattern in starts:
        current = value(pattern)
        moved = searchable
        while moved and len(priced) < max_priced:
            moved = False
            for flips in (single_flips, pair_flips):  # pairs only when no single flip helps
                winner, winner_value = None, current
                for flipped in flips(pattern):
                    if len(priced) >= max_priced:
                        break
                    candidate = value(flipped)
                    if candidate.score > winner_value.score + 1e-9:
                        winner, winner_value = flipped, candidate
                if winner is not None:
                    pattern, current, moved = winner, winner_value, True
                    break
        if current.feasible and current.score > best_reward:
            best_take, best_reward, best_pattern = current.take, current.score, pattern
    return Found(best_take, best_reward, best_pattern, len(priced))
