"""Capacity families (containers, shelf space) for the methods that do not model them: their
order, solved without the ceilings, is repaired to fit every ceiling.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b"], [5.0, 3.0], [1.0, 1.0],
    ...     capacities=[(["box", "box"], [2.0, 2.0], [3.0, 3.0])])
    >>> fit_ceilings(inst, [1, 1], budget=2.0)[0].tolist()   # a box holds one of them
    [1, 0]
"""

from __future__ import annotations

import heapq

import numpy as np

from ..core._instance import Instance
from ..core._kernel import drop_short_groups, group_totals, moq_floor, over_ceiling
from ._greedy import greedy_moves, shed_to_budget


def fit_ceilings(instance: Instance, take, budget: float) -> tuple[np.ndarray, int]:
    """Repair an order that ignores the capacity families: lower it until every capacity
    group is within its ceiling, empty the MOQ groups left short, then fill at a profit.
    Returns the new take and the number of lines shed.

    *Shed*: in each overflowing group, take off the last line of a member, first the lines
    whose removal keeps every MOQ group of their item met (or empties it), then the others;
    within each class, least reward per unit of contribution ``reward_j / cq_j`` first,
    until the group fits. *Drop*: :func:`moqlab.core.drop_short_groups`. *Fill*: greedy's
    MOQ-aware scan (:func:`moqlab.heuristics._greedy.greedy_moves`) from that order, which
    adds lines and opens groups (whole opening bundles) only where the budget and every
    ceiling still hold. Where removing lines of negative cost (a merchant price break) broke
    the budget, :func:`moqlab.heuristics.shed_to_budget` brings the order back within it
    before the fill. Every step but the fill only removes lines, and the fill checks every
    ceiling, so the ceilings hold at the end.

    Example::

        >>> import moqlab
        >>> inst = moqlab.Instance.from_arrays(
        ...     ["a", "a", "b"], [5.0, 4.0, 3.0], [1.0, 1.0, 1.0],
        ...     capacities=[(["box"] * 3, [2.0, 2.0, 1.0], [3.0] * 3)])
        >>> take, shed = fit_ceilings(inst, [2, 1], budget=3.0)  # volume 5, a box of 3
        >>> take.tolist(), shed
        ([1, 1], 1)
    """
    take = np.asarray(take, dtype=np.int64).copy()
    if not instance.capacities:
        return take, 0
    start = instance.item_start[:-1]
    selected = instance.selection_from_take(take)
    moq_state = [(fam, total, count.astype(np.int64))
                 for fam, (total, count) in zip(instance.families,
                                                group_totals(instance, selected))]

    def shed_key(i: int, cq: np.ndarray) -> tuple:
        line = start[i] + take[i] - 1
        if cq[line] <= 0:
            return (2, 0.0)  # frees nothing: only to reach the item's earlier lines
        breaks = any(fam.moq[fam.item_group[i]] > 0 and count[fam.item_group[i]] > 1
                     and total[fam.item_group[i]] - fam.oq[line]
                     < moq_floor(fam.moq[fam.item_group[i]])
                     for fam, total, count in moq_state)
        return (int(breaks), instance.reward[line] / cq[line])

    shed = 0
    for _ in range(len(instance.capacities) + 1):  # a pass per family until none overflows
        overflowing = False
        for capacity in instance.capacities:
            totals = np.bincount(capacity.item_group, minlength=capacity.n_groups,
                                 weights=_taken_sums(instance, capacity.cq, take))
            for g in np.flatnonzero(over_ceiling(totals, capacity.cap)):
                overflowing = True
                total, members = totals[g], np.flatnonzero(capacity.item_group == g)
                heap = [(shed_key(i, capacity.cq), int(i)) for i in members if take[i] > 0]
                heapq.heapify(heap)
                while heap and over_ceiling(total, capacity.cap[g]):
                    key, i = heapq.heappop(heap)
                    fresh = shed_key(i, capacity.cq)
                    if fresh != key:  # the MOQ totals moved since it was pushed
                        heapq.heappush(heap, (fresh, i))
                        continue
                    line = start[i] + take[i] - 1
                    total -= capacity.cq[line]
                    for fam, moq_total, count in moq_state:
                        moq_total[fam.item_group[i]] -= fam.oq[line]
                        count[fam.item_group[i]] -= 1
                    take[i] -= 1
                    shed += 1
                    if take[i] > 0:
                        heapq.heappush(heap, (shed_key(i, capacity.cq), i))
        if not overflowing:
            break
    take = shed_to_budget(instance, drop_short_groups(instance, take), budget)
    state, _ = greedy_moves(instance, budget, start_take=take)
    return state.take, shed




def _taken_sums(instance: Instance, values: np.ndarray, take: np.ndarray) -> np.ndarray:
    """Per item: the sum of ``values`` over its first ``take[i]`` lines."""
    selected = instance.selection_from_take(take)
    return np.bincount(instance.line_item, weights=np.where(selected, values, 0.0),
                       minlength=instance.n_items)
