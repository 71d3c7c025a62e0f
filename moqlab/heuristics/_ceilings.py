"""Capacity families (containers, shelf space) for the methods that do not model them: their
order, solved without the ceilings, is repaired to fit every ceiling (:func:`fit_ceilings`),
and the ceilings are priced into the rewards until the method's own order fits them
(:func:`priced_ceilings`).

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b"], [5.0, 3.0], [1.0, 1.0],
    ...     capacities=[(["box", "box"], [2.0, 2.0], [3.0, 3.0])])
    >>> fit_ceilings(inst, [1, 1], budget=2.0)[0].tolist()   # a box holds one of them
    [1, 0]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ..core._check import check
from ..core._instance import Instance
from ..core._kernel import (allowance, capacity_totals, drop_short_groups, group_totals,
                            moq_floor, order_totals, over_ceiling)
from ._greedy import greedy_moves, shed_to_budget


PRICE_ROUNDS = 8  # bisection steps on the ceiling prices (each one solve of the method)
GROWTH = 1.25  # an overflowing group's price, from the dual's, grows by this until it fits
GROWTH_FROM = 1e-3  # ... where the dual's price is at least this fraction of its top (else halved)
LOOKAHEAD = 32  # candidates whose knock-on drops are evaluated when no removal is safe


def fit_ceilings(instance: Instance, take, budget: float) -> tuple[np.ndarray, int]:
    """Repair an order that ignores the capacity families: lower it until every capacity
    group is within its ceiling, then fill at a profit. Returns the new take and the number
    of lines shed.

    *Shed*: while a group overflows, take off the last line of one of its members: a line
    whose removal keeps every MOQ group of its item met (or empties the group), least reward
    per unit of contribution ``reward_j / cq_j`` first; when no removal is safe, the one
    (among the :data:`LOOKAHEAD` best by that ratio) whose knock-on changes (:func:`relift`:
    the MOQ groups it leaves short lifted back with other lines, or emptied) lose the least
    reward per unit of the group's volume they free. *Fill*: greedy's MOQ-aware scan
    (:func:`moqlab.heuristics._greedy.greedy_moves`) from that order, which adds lines and
    opens groups (whole opening bundles) only where the budget and every ceiling still
    hold. Where removing lines of negative cost (a merchant price break) broke the budget,
    :func:`moqlab.heuristics.shed_to_budget` brings the order back within it before the
    fill. Every step but the fill only removes lines, and the fill checks every ceiling, so
    the ceilings hold at the end.

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
    shed = 0
    while True:
        overflow = first_overflow(instance, take)
        if overflow is None:
            break
        capacity, g, total = overflow
        # per member, the removal of its lines from its last one of positive volume on
        # (lines of zero volume after it free nothing and must go first)
        members, keep = _bulky_suffixes(instance, capacity, g, take)
        if not members.size:  # cannot happen: a total above a ceiling >= 0 has bulky lines
            break
        frees = _suffix_sums(instance, capacity.cq, members, keep, take)
        ratio = _suffix_sums(instance, instance.reward, members, keep, take) / frees
        safe = _keeps_moqs(instance, take, members, keep)
        if safe.any():
            ranked = np.flatnonzero(safe)[np.argsort(ratio[safe], kind="stable")]
            picks = _independent(instance, members, ranked, frees, total - capacity.cap[g])
            shed += int((take[members[picks]] - keep[picks]).sum())
            take[members[picks]] = keep[picks]
            continue
        before = order_totals(instance, take)[0]
        best, best_take = np.inf, None
        for pick in np.argsort(ratio, kind="stable")[:LOOKAHEAD]:
            trial = take.copy()
            trial[members[pick]] = keep[pick]
            trial = relift(instance, trial, budget)
            freed = total - _group_total(instance, capacity, g, trial)
            score = (before - order_totals(instance, trial)[0]) / freed if freed > 0 else np.inf
            if score < best or best_take is None:
                best, best_take = score, trial
        shed += int(np.clip(take - best_take, 0, None).sum())
        take = best_take
    take = shed_to_budget(instance, relift(instance, take, budget), budget)
    state, _ = greedy_moves(instance, budget, start_take=take)
    return state.take, shed


def relift(instance: Instance, take, budget: float) -> np.ndarray:
    """Every MOQ group left short by a removal, lifted back to its threshold with the next
    lines of its members, most rewarding first, where the budget and every ceiling allow
    and no closed group would open; a group that cannot be lifted is emptied (and the groups
    that leaves short are treated in turn). A swap, where a removal alone would drop a whole
    supplier: the bulky line leaves, smaller ones of the same group take its place."""
    take = np.asarray(take, dtype=np.int64).copy()
    start, length = instance.item_start[:-1], instance.item_length
    limit = budget + allowance(budget)
    for _ in range(sum(fam.n_groups for fam in instance.families) + 1):
        selected = instance.selection_from_take(take)
        totals = group_totals(instance, selected)
        short = None
        for fam, (total, count) in zip(instance.families, totals):
            below = np.flatnonzero((count > 0) & (total < moq_floor(fam.moq)))
            if below.size:
                short = (fam, int(below[0]), total[below[0]])
                break
        if short is None:
            return take
        fam, g, reached = short
        spent = float(instance.cost[selected].sum())
        room = [capacity.cap + allowance(capacity.cap) - used for capacity, used in
                zip(instance.capacities, capacity_totals(instance, selected))]
        blocked = np.zeros(instance.n_items, dtype=bool)
        for other, (_, count) in zip(instance.families, totals):
            blocked |= ((count == 0) & (other.moq > 0))[other.item_group]
        trial = take.copy()
        candidates = np.flatnonzero((fam.item_group == g) & ~blocked & (take < length))
        while reached < moq_floor(fam.moq[g]) and candidates.size:
            line = start[candidates] + trial[candidates]
            best = int(np.argmax(instance.reward[line]))
            i, j = candidates[best], line[best]
            fits = spent + instance.cost[j] <= limit and all(
                capacity.cq[j] <= left[capacity.item_group[i]]
                for capacity, left in zip(instance.capacities, room))
            if fits:
                trial[i] += 1
                spent += instance.cost[j]
                reached += fam.oq[j]
                for capacity, left in zip(instance.capacities, room):
                    left[capacity.item_group[i]] -= capacity.cq[j]
            if not fits or trial[i] >= length[i]:
                candidates = np.delete(candidates, best)
        if reached >= moq_floor(fam.moq[g]):
            take = trial
        else:
            take[fam.item_group == g] = 0
    return drop_short_groups(instance, take)


def _independent(instance: Instance, members, ranked, freed, excess: float) -> np.ndarray:
    """Of the safe removals ``ranked`` best first, those that can be made together: at most
    one per MOQ group with a threshold (each was judged safe alone) and no more than the
    group's ``excess`` volume needs (the first one always)."""
    used = [set() for _ in instance.families]
    chosen, gained = [], 0.0
    for pick in ranked.tolist():
        item = members[pick]
        cells = [int(fam.item_group[item]) if fam.moq[fam.item_group[item]] > 0 else -1
                 for fam in instance.families]
        if any(cell >= 0 and cell in seen for cell, seen in zip(cells, used)):
            continue
        chosen.append(pick)
        gained += freed[pick]
        for cell, seen in zip(cells, used):
            seen.add(cell)
        if gained >= excess:
            break
    return np.asarray(chosen, dtype=np.int64)


def first_overflow(instance: Instance, take):
    """The first capacity group above its ceiling: ``(family, group, its total)``, or
    ``None``."""
    selected = instance.selection_from_take(take)
    for capacity, totals in zip(instance.capacities, capacity_totals(instance, selected)):
        over = np.flatnonzero(over_ceiling(totals, capacity.cap))
        if over.size:
            return capacity, int(over[0]), float(totals[over[0]])
    return None


def _bulky_suffixes(instance: Instance, capacity, g: int, take):
    """The members of capacity group ``g`` holding a selected line of positive volume, and
    for each the take that drops its lines from the last such line on."""
    start = instance.item_start[:-1]
    selected = instance.selection_from_take(take)
    bulky = selected & (capacity.cq > 0) & (capacity.item_group[instance.line_item] == g)
    last = np.full(instance.n_items, -1)
    np.maximum.at(last, instance.line_item[bulky], np.flatnonzero(bulky))
    members = np.flatnonzero(last >= 0)
    return members, last[members] - start[members]


def _suffix_sums(instance: Instance, values, members, keep, take) -> np.ndarray:
    """Per member: the sum of ``values`` over its lines ``keep .. take - 1``."""
    running = np.concatenate([[0.0], np.cumsum(values)])
    start = instance.item_start[members]
    return running[start + take[members]] - running[start + keep]


def _keeps_moqs(instance: Instance, take, members, keep) -> np.ndarray:
    """Whether cutting item ``members[n]`` back to ``keep[n]`` lines leaves every MOQ group
    of the item met or empty."""
    selected = instance.selection_from_take(take)
    safe = np.ones(members.size, dtype=bool)
    for fam, (total, count) in zip(instance.families, group_totals(instance, selected)):
        g = fam.item_group[members]
        cut = _suffix_sums(instance, fam.oq, members, keep, take)
        empties = count[g] <= take[members] - keep
        safe &= (fam.moq[g] <= 0) | empties | (total[g] - cut >= moq_floor(fam.moq[g]))
    return safe


def _group_total(instance: Instance, capacity, g: int, take) -> float:
    members = capacity.item_group[instance.line_item] == g
    return float(capacity.cq[members & instance.selection_from_take(take)].sum())




def priced_ceilings(instance: Instance, budget: float, solve_order: Callable,
                    rounds: int = PRICE_ROUNDS, good_enough: float | None = None,
                    first_take=None, start=None, finish: Callable | None = None):
    """The best repaired order over a bisection of ceiling prices. ``solve_order(inst)``
    returns the take of the method on an instance without capacity families.

    Round 0 solves the order as it is; round ``r`` solves it with every line's reward
    lowered by ``rho[k, h] cq_j`` (a price per unit of volume of its group ``h`` of
    capacity family ``k``: the Lagrangian term of the ceiling rows). Each group's price is
    bisected on its own in ``[0, max_j reward_j / cq_j]`` (at the top no line of the group
    earns its volume): raised where the method's order overflows the group, lowered where
    it fits. Every round's order is repaired by :func:`fit_ceilings`; the most rewarding
    repaired order is kept. Where a method's order overflows a container by a few lines, a
    repair that only removes and refills cannot reach orders that trade a bulky item for
    small ones; the priced method can. Stops early once the order's reward reaches
    ``good_enough`` (a bound's value less a tolerance), or when ``solve_order`` returns
    ``None`` (its time is spent). ``first_take``: round 0's order when the caller has it
    already. ``start``: round 1's prices, one array per capacity family (the ceiling
    prices of the Lagrangian dual bound, which price every container at once); from there
    a group whose order still overflows has its price raised by :data:`GROWTH` per round
    until it fits, then bisected (a group whose dual price is below :data:`GROWTH_FROM`
    of its top is bisected at once); default the middle of each group's range.
    ``finish``: applied to every repaired order (a valid order in, a valid order out:
    ``search``'s polish, which keeps the ceilings; small-stock-mixed-containers0.3:
    0.55 % off -> optimal, medium-stock-mixed-t0.5-containers0.3: 3.04 % -> 1.46 %), and
    to the method's raw order, kept where it comes out valid and better (the polish
    repairs an overflow by trades; with the growth from the dual's prices, that case:
    1.46 % -> 0.48 %). Returns ``(take, solves run, lines shed by the kept repair, stopped
    by time)``."""
    low, high, price = [], [], []
    for capacity in instance.capacities:
        line_group = capacity.item_group[instance.line_item]
        earning = np.where(capacity.cq > 0, np.maximum(instance.reward, 0.0)
                           / np.where(capacity.cq > 0, capacity.cq, 1.0), 0.0)
        top = np.zeros(capacity.n_groups)
        np.maximum.at(top, line_group, earning)
        low.append(np.zeros(capacity.n_groups))
        high.append(top)
        price.append(np.zeros(capacity.n_groups))
    bracketed = [np.zeros(len(hi), dtype=bool) for hi in high]
    first_prices = (None if start is None else
                    [np.clip(np.asarray(rho, dtype=np.float64)[:len(hi)], 0.0, hi)
                     for rho, hi in zip(start, high)])
    best = (-np.inf, None, 0)
    done = 0
    for done in range(1, rounds + 2):
        reward = instance.reward.copy()
        for capacity, rho in zip(instance.capacities, price):
            reward -= rho[capacity.item_group[instance.line_item]] * capacity.cq
        priced = dataclasses.replace(instance, reward=reward, capacities=(), _cache={})
        unpriced = done == 1 and first_take is not None
        raw = first_take if unpriced else solve_order(priced)
        if raw is None:
            if best[1] is None:  # no order at all yet: the empty one is always valid
                best = (0.0, np.zeros(instance.n_items, dtype=np.int64), 0)
            return best[1], done - 1, best[2], True
        raw = np.asarray(raw, dtype=np.int64)
        take, shed = fit_ceilings(instance, raw, budget)
        if finish is not None:
            take = finish(take)
            direct = finish(raw)  # the finish's own way into the ceilings, when it has one
            if (check(instance, instance.selection_from_take(direct), budget=budget).feasible
                    and order_totals(instance, direct)[0] > order_totals(instance, take)[0]):
                take, shed = direct, int(np.clip(raw - direct, 0, None).sum())
        value = order_totals(instance, take)[0]
        if value > best[0]:
            best = (value, take, shed)
        if good_enough is not None and value >= good_enough:
            break
        for capacity, used, lo, hi, rho, known in zip(
                instance.capacities,
                capacity_totals(instance, instance.selection_from_take(raw)), low, high,
                price, bracketed):
            over = over_ceiling(used, capacity.cap)
            lo[over], hi[~over] = rho[over], rho[~over]
            known |= ~over
            # from the dual's prices, an overflowing group's price grows by GROWTH until its
            # order fits: the bracket's top, max reward / volume, is far above it (25-60
            # times on the medium suite), and its midpoint buys a fraction of the container
            grow = over & ~known & (rho > GROWTH_FROM * hi) & (GROWTH > 1)
            rho[:] = np.where(grow, np.minimum(hi, GROWTH * rho), 0.5 * (lo + hi))
        if done == 1 and first_prices is not None:
            for rho, hi, first in zip(price, high, first_prices):
                rho[:] = first
                hi[:] = np.maximum(hi, first)
    return best[1], done, best[2], False
