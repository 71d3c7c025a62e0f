"""The budget-optimal frontier, and how the three modes read their answer from it.

For a budget ``C``, ``q_C`` is the valid order of cost ``<= C`` with the largest reward;
among equal rewards the cheaper; among equal reward and cost the larger total target
(``prefer_larger_target=True``: budget and min-target modes) or the smaller one
(max-target mode). As ``C`` grows from 0, ``q_C`` changes only at the costs of its own
orders: the list of these orders is the *frontier*. Each frontier order has a strictly
larger reward than the one before it.

* min-target ``T``: the first frontier order with target ``>= T``; when none reaches ``T``,
  the last (largest) frontier order with status ``target_unreachable``.
* max-target ``T``: the frontier order just before the first one whose target exceeds ``T``.

The functions here work on candidate orders given as arrays (reward, cost, target), so
exact methods that produce candidates in any way (enumeration chunks, MILP solves) share one
reading of the rules.
"""

from __future__ import annotations

import numpy as np

from ._kernel import allowance


def frontier_indices(reward, cost, target, prefer_larger_target: bool = True) -> np.ndarray:
    """Indices of the frontier orders among candidates, in increasing cost.

    The first index is ``q_0`` (the best order of cost ``<= 0``); candidates cheaper than it
    that are beaten at ``C = 0`` are not part of the frontier. Ties between identical
    (reward, cost, target) keep the lowest index.
    """
    cost = np.asarray(cost, dtype=np.float64)
    on_frontier = reduce_candidates(reward, cost, target, prefer_larger_target)
    if on_frontier.size == 0:
        return on_frontier
    # q_0: the last frontier order that costs at most 0; everything before it is beaten.
    at_zero = np.flatnonzero(cost[on_frontier] <= 0.0)  # within budget 0 (no allowance)
    start = int(at_zero[-1]) if at_zero.size else 0
    return on_frontier[start:]


def reduce_candidates(reward, cost, target, prefer_larger_target: bool = True) -> np.ndarray:
    """Indices of candidates that can still be on the frontier of a larger set.

    The frontier of a union of sets is the frontier of the union of their frontiers, except
    that ``q_0`` must be recomputed: we keep every candidate that is on the frontier when
    negative costs are allowed (no ``q_0`` cut).
    """
    reward = np.asarray(reward, dtype=np.float64)
    cost = np.asarray(cost, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if reward.size == 0:
        return np.zeros(0, dtype=np.int64)
    tie = -target if prefer_larger_target else target
    order = np.lexsort((np.arange(reward.size), tie, -reward, cost))
    r = reward[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(r)[:-1]])
    return order[r > best_before]


def pick_target(frontier_target, mode: str, limit: float) -> tuple[int, str, str]:
    """Position in the frontier answering a target mode, with a status and message.

    Returns ``(position, status, message)``; ``position == -1`` means the empty order
    (max-target when even the first frontier order exceeds ``limit``).
    """
    frontier_target = np.asarray(frontier_target, dtype=np.float64)
    margin = allowance(limit)
    if mode == "min_target":
        reached = np.flatnonzero(frontier_target >= limit - margin)
        if reached.size:
            return int(reached[0]), "optimal", ""
        return (len(frontier_target) - 1, "target_unreachable",
                f"no budget-optimal order reaches target {limit:g}: the largest one "
                f"reaches {frontier_target[-1]:g} (rewards turn negative before the target)")
    if mode == "max_target":
        over = np.flatnonzero(frontier_target > limit + margin)
        if over.size == 0:
            return len(frontier_target) - 1, "optimal", ""
        if over[0] == 0:
            return (-1, "target_unreachable",
                    f"every budget-optimal order exceeds target {limit:g}; "
                    "returning the empty order")
        return int(over[0]) - 1, "optimal", ""
    raise ValueError(f"unknown target mode {mode!r}")


def pick_candidate(totals, mode: str, limit: float) -> tuple[int, str, str]:
    """A heuristic's reading of a target mode over its candidate orders (rows of
    ``(reward, cost, target)``): the frontier of the candidates, then :func:`pick_target`.
    Returns ``(row, status, message)``; ``row == -1`` is the empty order. The status is
    ``feasible`` or ``target_unreachable``, never ``optimal``: the candidates' frontier is
    not proven to be the true one."""
    totals = np.asarray(totals, dtype=np.float64).reshape(-1, 3)
    front = frontier_indices(totals[:, 0], totals[:, 1], totals[:, 2], mode != "max_target")
    position, status, message = pick_target(totals[front, 2], mode, limit)
    if status == "optimal":
        status = "feasible"
    return (-1 if position < 0 else int(front[position])), status, message
