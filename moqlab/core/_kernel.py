"""What every solver shares, written once: the feasibility tolerance, the data grid, order
and group totals, cumulative tables, the group repairs (drop a short group, lift it to its
threshold).

Feasibility tolerances are relative (the design note): a total ``s`` meets a budget ``C``
when ``s <= C + allowance(C)`` and a group's contribution meets its threshold ``m`` when it
is at least ``moq_floor(m) = m - allowance(m)``, with ``allowance(x) = 1e-9 |x|``. Being
purely relative, the rule does not depend on the units: scaling every cost (or every
contribution and threshold of a family) by any factor keeps the same orders valid. The
functions work on Python floats, numpy arrays and JAX arrays alike.

Example::

    >>> from moqlab.core._kernel import allowance, moq_floor
    >>> allowance(-2e6), float(moq_floor(3.0))
    (0.002, 2.999999997)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._dense import dense_lines
from ._instance import Instance

TOLERANCE = 1e-9
GRID_DIGITS = 8  # significant decimal digits a grid may have below the largest value


def allowance(value, tolerance: float = TOLERANCE):
    """How far a total may pass ``value`` and still meet it: ``tolerance * |value|``."""
    return tolerance * abs(value)


def moq_floor(moq, tolerance: float = TOLERANCE):
    """The least contribution that meets threshold ``moq``: ``moq - tolerance * |moq|``."""
    return moq - allowance(moq, tolerance)


def grid_step(values) -> float | None:
    """The coarsest step ``10**p`` of which every value is a multiple, looking at most
    ``GRID_DIGITS`` decimal digits below the largest ``|value|``; ``None`` for real data.
    Totals of such values are multiples of the step up to rounding noise, so snapping them
    to the grid (:func:`snap`) makes equal totals compare equal whatever the units
    (``0.1 + 0.2`` and ``0.3``; integers scaled by 1e-9).

    >>> grid_step([3.0, 12.0]), grid_step([2e-9, 1.2e-8]), grid_step([1 / 3])
    (1.0, 1e-09, None)
    """
    values = np.asarray(values, dtype=np.float64)
    nonzero = np.abs(values[values != 0])
    if nonzero.size == 0:
        return None
    top = math.floor(math.log10(float(nonzero.max())))
    for power in range(top, top - GRID_DIGITS - 1, -1):
        multiples = values / 10.0 ** power
        if np.all(np.abs(multiples - np.round(multiples)) <= 1e-6):
            return 10.0 ** power
    return None


def snap(totals, step: float | None):
    """``totals`` rounded to the nearest multiple of ``step`` (unchanged when ``None``)."""
    if step is None:
        return totals
    return np.round(np.asarray(totals) / step) * step


# ----------------------------------------------------------------- totals


def order_totals(instance: Instance, take) -> tuple[float, float, float]:
    """Total reward, cost and target of the order taking ``take[i]`` lines of item ``i``."""
    selected = instance.selection_from_take(take)
    return (float(instance.reward[selected].sum()), float(instance.cost[selected].sum()),
            float(instance.target[selected].sum()))


def full_budget(instance: Instance) -> float:
    """The cost of every line of positive cost: a budget every order fits in."""
    return float(np.clip(instance.cost, 0, None).sum())


def reachable_target(instance: Instance) -> float:
    """The target of every line of positive target: no order's target exceeds it."""
    return float(np.clip(instance.target, 0, None).sum())


def group_totals(instance: Instance, selected: np.ndarray):
    """Per family: (sum of contributions, number of selected lines) per group."""
    out = []
    for fam in instance.families:
        line_group = fam.item_group[instance.line_item]
        total = np.bincount(line_group, weights=np.where(selected, fam.oq, 0.0),
                            minlength=fam.n_groups)
        count = np.bincount(line_group, weights=selected, minlength=fam.n_groups)
        out.append((total, count))
    return out


def capacity_totals(instance: Instance, selected: np.ndarray) -> list[np.ndarray]:
    """Per capacity family: the sum of contributions ``cq`` of the selected lines per group."""
    return [np.bincount(capacity.item_group[instance.line_item],
                        weights=np.where(selected, capacity.cq, 0.0),
                        minlength=capacity.n_groups)
            for capacity in instance.capacities]


def over_ceiling(total, cap, tolerance: float = TOLERANCE):
    """Whether a capacity group's total passes its ceiling (beyond the relative allowance)."""
    return total > cap + allowance(cap, tolerance)


def prefix_sums(table: np.ndarray) -> np.ndarray:
    """``[n, L] -> [n, L + 1]``: column ``t`` holds the sum of the first ``t`` columns."""
    return np.concatenate([np.zeros((table.shape[0], 1)), np.cumsum(table, axis=1)], axis=1)


def cumulative_table(instance: Instance, values, width: int | None = None,
                     n_items: int | None = None) -> np.ndarray:
    """``table[i, t]`` = sum of ``values`` over the first ``t`` lines of item ``i``
    (``t = 0 .. width``; past an item's last line the total stays at the item's full sum;
    ``width`` and ``n_items`` pad the table, default: the instance's own sizes)."""
    return prefix_sums(dense_lines(instance, np.asarray(values, dtype=np.float64), width,
                                   n_items))


# ---------------------------------------------------------- group repairs


def drop_short_groups(instance: Instance, take: np.ndarray) -> np.ndarray:
    """Safeguard repair: empty every group left below its threshold, until none is."""
    take = np.asarray(take).copy()
    while True:
        selected = instance.selection_from_take(take)
        for fam, (total, count) in zip(instance.families, group_totals(instance, selected)):
            short = (count > 0) & (total < moq_floor(fam.moq))
            if short.any():
                take[short[fam.item_group]] = 0
                break
        else:
            return take


def lift_group(instance: Instance, take: np.ndarray, lines, oq: np.ndarray, total: float,
               floor: float) -> tuple[np.ndarray, list, float]:
    """Walk a group's ``lines`` in the given order, adding each line that is next in its
    item's prefix, until the group's contribution ``total`` reaches ``floor`` (the walk
    that opens or completes a group). Returns the new take, the lines added and the
    contribution reached (below ``floor`` when the lines ran out)."""
    take = np.asarray(take).copy()
    added = []
    for j in lines:
        if total >= floor:
            break
        i = instance.line_item[j]
        if take[i] == instance.line_rank[j]:
            take[i] += 1
            added.append(j)
            total += oq[j]
    return take, added, total


def without_ceilings(instance: Instance) -> Instance:
    """``instance`` without its capacity families (what a method that does not model them
    solves before :func:`moqlab.heuristics.fit_ceilings` repairs its order)."""
    if not instance.capacities:
        return instance
    return dataclasses.replace(instance, capacities=(), _cache={})


# ------------------------------------------------------------ opening runs


class GroupLines:
    """Per family: each line's group, and each group's lines in scan ``order`` (with their
    scan positions, so that a walk can start at the first member at or after a position).
    Group ``g`` of family ``k`` holds ``members[k][starts[k][g]:starts[k][g + 1]]``."""

    def __init__(self, instance: Instance, order: np.ndarray):
        position = np.empty(instance.n_lines, dtype=np.int64)
        position[order] = np.arange(instance.n_lines)
        self.line_group, self.members, self.member_position, self.starts = [], [], [], []
        for fam in instance.families:
            line_group = fam.item_group[instance.line_item]
            # lines sorted by (group, scan position): a stable sort of the scan order by group
            members = order[np.argsort(line_group[order], kind="stable")]
            counts = np.bincount(line_group, minlength=fam.n_groups)
            self.line_group.append(line_group)
            self.members.append(members)
            self.member_position.append(position[members])
            self.starts.append(np.concatenate([[0], np.cumsum(counts)]))

    def lines(self, k: int, g: int) -> np.ndarray:
        return self.members[k][self.starts[k][g]:self.starts[k][g + 1]]

    def positions_from(self, k: int, g: int, p: int) -> np.ndarray:
        """Scan positions of the lines of group ``g`` (family ``k``) at or after ``p``."""
        lo, hi = self.starts[k][g], self.starts[k][g + 1]
        segment = self.member_position[k][lo:hi]
        return segment[np.searchsorted(segment, p):]


def opening_runs(fam, members: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For every group of one family, the length of its *opening run*: the shortest run of
    its lines in scan order (``members[starts[g]:starts[g + 1]]``) whose contributions reach
    its threshold; 0 for a group without threshold, -1 when the threshold is out of reach.
    Sums are numpy's own over each group's lines in scan order, so a run does not depend on
    how groups are batched."""
    runs = np.zeros(fam.n_groups, dtype=np.int64)
    oq, floor = fam.oq[members], moq_floor(fam.moq)
    for g in np.flatnonzero(fam.moq > 0).tolist():
        reached = np.flatnonzero(np.cumsum(oq[starts[g]:starts[g + 1]]) >= floor[g])
        runs[g] = reached[0] + 1 if reached.size else -1
    return runs


# -------------------------------------------------------------- target cut


def target_cut(move_target, mode: str, limit: float) -> tuple[int, str, str]:
    """How many moves of a growing order a target mode keeps, given each move's target:
    min-target, the first prefix whose target reaches ``limit`` (all moves and
    ``target_unreachable`` when none does); max-target, the moves before the first prefix
    that exceeds it. Returns ``(count, status, message)``, status ``feasible`` otherwise."""
    target = np.cumsum(np.asarray(move_target, dtype=np.float64))
    margin = allowance(limit)
    if mode == "min_target":
        reached = np.flatnonzero(target >= limit - margin)
        if limit <= margin:
            return 0, "feasible", ""
        if reached.size:
            return int(reached[0]) + 1, "feasible", ""
        return (target.size, "target_unreachable",
                f"the greedy order stops growing at target "
                f"{target[-1] if target.size else 0.0:g} < {limit:g}")
    over = np.flatnonzero(target > limit + margin)
    return (int(over[0]) if over.size else target.size), "feasible", ""
