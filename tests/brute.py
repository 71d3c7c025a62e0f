"""An independent, deliberately naive reference for the design note's rules (used by tests
only): all orders by itertools, validity checked with plain loops, frontier walked by hand."""

from __future__ import annotations

import itertools

import numpy as np


def valid_orders(inst):
    """(take, reward, cost, target) for every valid order, in itertools order."""
    out = []
    lengths = [int(n) for n in inst.item_length]
    for take in itertools.product(*[range(n + 1) for n in lengths]):
        chosen = [j for j in range(inst.n_lines) if inst.line_rank[j] < take[inst.line_item[j]]]
        ok = True
        for fam in inst.families:
            totals, counts = {}, {}
            for j in chosen:
                g = fam.item_group[inst.line_item[j]]
                totals[g] = totals.get(g, 0.0) + fam.oq[j]
                counts[g] = counts.get(g, 0) + 1
            for g, total in totals.items():
                if total < fam.moq[g] - 1e-9 * abs(fam.moq[g]):
                    ok = False
        for capacity in inst.capacities:
            used = {}
            for j in chosen:
                g = capacity.item_group[inst.line_item[j]]
                used[g] = used.get(g, 0.0) + capacity.cq[j]
            for g, total in used.items():
                if total > capacity.cap[g] + 1e-9 * abs(capacity.cap[g]):
                    ok = False
        if ok:
            out.append((np.array(take), sum(inst.reward[chosen]), sum(inst.cost[chosen]),
                        sum(inst.target[chosen])))
    return out


def best_under(orders, budget, larger_target=True):
    """q_C by the design note's tie rules."""
    feasible = [o for o in orders if o[2] <= budget + 1e-9 * abs(budget)]
    sign = 1 if larger_target else -1
    return max(feasible, key=lambda o: (o[1], -o[2], sign * o[3]))


def frontier(orders, larger_target=True):
    """The distinct q_C as C grows from 0 (C visits every order cost >= 0, and 0)."""
    costs = sorted({0.0} | {o[2] for o in orders if o[2] >= 0})
    out = []
    for c in costs:
        q = best_under(orders, c, larger_target)
        if not out or (q[1], q[2], q[3]) != (out[-1][1], out[-1][2], out[-1][3]):
            out.append(q)
    return out


def answer(inst, mode, limit):
    """(reward, cost, target, status) that an exact method must report."""
    orders = valid_orders(inst)
    if mode == "budget":
        q = best_under(orders, limit)
        return q[1], q[2], q[3], "optimal"
    front = frontier(orders, larger_target=(mode == "min_target"))
    tol = 1e-9 * abs(limit)
    if mode == "min_target":
        for q in front:
            if q[3] >= limit - tol:
                return q[1], q[2], q[3], "optimal"
        q = front[-1]
        return q[1], q[2], q[3], "target_unreachable"
    previous = None
    for q in front:
        if q[3] > limit + tol:
            break
        previous = q
    if previous is None:
        return 0.0, 0.0, 0.0, "target_unreachable"
    return previous[1], previous[2], previous[3], "optimal"
