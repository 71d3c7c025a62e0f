"""Group patterns: decide which multi-item MOQ groups are open, then price the order.

MOQ-heavy orders are hard for line-by-line heuristics because opening a supplier or a
category is one large, coordinated decision. This module searches over those decisions
directly; :mod:`moqlab.heuristics._search` uses it as one of its phases. The pricing of a pattern is a
pure JAX function, vmapped over many patterns at once (:mod:`moqlab.heuristics._pricing`); this module
holds the host side: the tables of an instance and the search over patterns.

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
``mu_s`` additively with the relative shortfall, with steps ``0.5 / sqrt(n + 1)``. A few times
per pricing the item choices are *repaired* into a valid order: (1) *cover*: while an open
switch is short, add the step (next line, or ``tmin_i`` lines from 0) with the best price:
net loss ``lam dC - dR`` per unit of normalised shortfall covered; (2) *shed*: while over
budget, remove the step with the lowest ``dR / dC`` that keeps every open switch covered;
(3) *fill*: add steps by their look-ahead ratio ``max_{b > t} (R(b) - R(t)) / (C(b) - C(t))``
while they fit. The best repaired order is the pattern's value; a pattern whose repair stays
over budget scores minus its overspend (so that the search can walk towards feasibility).

**Pattern search.** Best-improvement local search from structured starts (all open, the
patterns of seed orders such as greedy's, and one group of the coarsest family open with
everything else), then from random patterns: single flips, and pairs of flips across
families when no single flip improves. A flip is priced warm-started from its parent's
multipliers; every priced pattern is cached.

Example::

    >>> import moqlab
    >>> from moqlab.heuristics._pattern import search_patterns
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

from ..core._kernel import cumulative_table, moq_floor
from ._greedy import FREE_COST
from ..core._clock import Deadline
from ..core._instance import Instance
from ..core._precision import float64
from ..core._dense import same_shape_groups
from ._pricing import ITERATIONS, REPAIRS, ROWS, price_rows, row_sizes, stack_rows

MAX_SWITCHES = 64  # above this, the flip neighbourhood is too large to search this way


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
        return cumulative_table(instance, values, width, n)

    length = instance.item_length.astype(np.int64)
    tmin = np.ones(n, np.int64)
    contrib, switch, floors, family = [], [], [], []
    for k, fam in enumerate(instance.families):
        table = cumulative(fam.oq)
        floor = np.where(fam.moq > 0, moq_floor(fam.moq), 0.0)
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


class Priced(NamedTuple):
    """A priced pattern: ``score`` is its best repaired order's reward (or minus its
    overspend when no repair met the budget), with the final multipliers (warm starts)."""

    score: float
    take: np.ndarray
    feasible: bool
    lam: float
    mu: np.ndarray


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


@float64
def search_patterns(instance: Instance, budget: float, seeds=(), **options) -> Found:
    """Pattern search on one instance (a batch of one, :func:`search_patterns_batch`)."""
    return search_patterns_batch([instance], [budget], [seeds], **options)[0]


class _Walker:
    """One local search: its lane, current pattern and priced value, and whether it is
    trying single flips or pairs of flips."""

    def __init__(self, lane: int, pattern: np.ndarray):
        self.lane, self.pattern, self.value, self.pairs = lane, pattern, None, False


def _flips(tb: Tables, pattern: np.ndarray, pairs: bool) -> list[np.ndarray]:
    count = pattern.shape[0]
    if not pairs:
        flips = np.tile(pattern, (count, 1))
        flips[np.arange(count), np.arange(count)] ^= True
        return list(flips)
    out = []
    for a in range(count):
        for b in range(a + 1, count):
            if tb.family[a] != tb.family[b]:
                flipped = pattern.copy()
                flipped[[a, b]] ^= True
                out.append(flipped)
    return out


@float64
def search_patterns_batch(instances, budgets, seeds=None, *, max_priced: int = 150,
                          random_starts: int = 8, random_priced: int = 150, seed: int = 0,
                          iterations: int = ITERATIONS, repairs: int = REPAIRS,
                          max_rows: int = ROWS, streams=None,
                          deadline: Deadline | None = None) -> list[Found]:
    """:func:`_search_same_shape` on the lanes grouped by the padded sizes of their pricing
    rows, so that a lane's answer does not depend on the other lanes of the batch.
    ``streams[b]``: lane ``b``'s random stream (default its position)."""
    seeds = [()] * len(instances) if seeds is None else seeds
    streams = list(range(len(instances))) if streams is None else list(streams)
    tbs = [tables(inst) for inst in instances]
    found = [None] * len(instances)
    for members in same_shape_groups([row_sizes(tb) for tb in tbs]).values():
        part = _search_same_shape([instances[n] for n in members], [tbs[n] for n in members],
                                  [budgets[n] for n in members], [seeds[n] for n in members],
                                  [streams[n] for n in members], max_priced, random_starts,
                                  random_priced, seed, iterations, repairs, max_rows,
                                  deadline)
        for n, result in zip(members, part):
            found[n] = result
    return found


def _search_same_shape(instances, tbs, budgets, seeds, streams, max_priced, random_starts,
                       random_priced, seed, iterations, repairs, max_rows,
                       deadline=None) -> list[Found]:
    """Best-improvement pattern search on several (instance, budget) lanes at once: every
    round prices the flips of all walkers of all lanes in one batched call
    (:func:`moqlab.heuristics._pricing.price_rows`), warm-started from the walker's multipliers.

    ``seeds[b]``: orders whose patterns are extra starting points of lane ``b``. The
    structured starts (:func:`starting_patterns`) descend first, pricing at most
    ``max_priced`` patterns per lane; then ``random_starts`` random patterns per lane (drawn
    from ``seed`` and the lane's stream) descend with ``random_priced`` more. ``iterations``
    and ``repairs``: subgradient steps and repairs per pricing; ``max_rows`` caps the rows per
    call."""
    priced: list[dict] = [{} for _ in instances]
    structured, random = [], []
    for lane, (tb, lane_seeds) in enumerate(zip(tbs, seeds)):
        count = tb.floor.shape[0]
        if not 0 < count <= MAX_SWITCHES:
            structured.append(_Walker(lane, np.ones(count, bool)))
            continue
        structured += [_Walker(lane, p) for p in starting_patterns(tb, lane_seeds)]
        draws = np.random.default_rng([seed, streams[lane]]).random((random_starts, count)) < 0.5
        random += [_Walker(lane, p) for p in draws]
    cap = max_priced

    def price(requests):
        """Price (lane, pattern, parent value) requests not priced yet, within the cap."""
        todo, seen, queued = [], set(), [0] * len(instances)
        for lane, pattern, parent in requests:
            key = (lane, pattern.tobytes())
            if key[1] in priced[lane] or key in seen or len(priced[lane]) + queued[lane] >= cap:
                continue
            seen.add(key)
            queued[lane] += 1
            todo.append((lane, pattern, parent))
        for at in range(0, len(todo), max_rows):
            part = todo[at:at + max_rows]
            rows = stack_rows(tbs, [lane for lane, _, _ in part], [p for _, p, _ in part],
                              [budgets[lane] for lane, _, _ in part],
                              warm=[None if w is None else (w.lam, w.mu) for _, _, w in part])
            score, take, feasible, lam, mu = price_rows(rows, iterations, repairs)
            for r, (lane, pattern, _) in enumerate(part):
                n = instances[lane].n_items
                priced[lane][pattern.tobytes()] = Priced(
                    float(score[r]), take[r, :n].astype(np.int64), bool(feasible[r]),
                    float(lam[r]), mu[r])

    def descend(walkers):
        price([(w.lane, w.pattern, None) for w in walkers])
        for w in walkers:
            w.value = priced[w.lane].get(w.pattern.tobytes())
        active = [w for w in walkers if w.value is not None
                  and 0 < tbs[w.lane].floor.shape[0] <= MAX_SWITCHES]
        while active and not (deadline is not None and deadline.stop_if_passed()):
            flips = [_flips(tbs[w.lane], w.pattern, w.pairs) for w in active]
            price([(w.lane, f, w.value) for w, fs in zip(active, flips) for f in fs])
            still = []
            for w, fs in zip(active, flips):
                best, best_value = None, w.value
                for f in fs:
                    v = priced[w.lane].get(f.tobytes())
                    if v is not None and v.score > best_value.score + 1e-9:
                        best, best_value = f, v
                if best is not None:
                    w.pattern, w.value, w.pairs = best, best_value, False
                    still.append(w)
                elif not w.pairs:
                    w.pairs = True  # pairs of flips only when no single flip helps
                    still.append(w)
            active = [w for w in still if len(priced[w.lane]) < cap]

    descend(structured)
    cap = max_priced + random_priced
    descend(random)
    walkers = structured + random
    found = []
    for lane, inst in enumerate(instances):
        best = max((w for w in walkers if w.lane == lane and w.value is not None
                    and w.value.feasible), key=lambda w: w.value.score, default=None)
        if best is None:
            found.append(Found(None, -np.inf, np.ones(tbs[lane].floor.shape[0], bool),
                               len(priced[lane])))
        else:
            found.append(Found(best.value.take, best.value.score, best.pattern,
                               len(priced[lane])))
    return found
