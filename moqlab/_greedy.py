"""Greedy baselines: the prioritised ordering practitioners use, made MOQ-aware, and the
naive "order, then round up to the MOQ" practice.

**Line keys.** Each item's ladder is given a non-increasing priority by the cost-weighted
antitonic regression of its reward-to-cost ratios,
``key_j = min_{a <= j} max_{b >= j} R(a..b) / C(a..b)``, where ``R`` and ``C`` sum rewards and
costs over lines ``a..b`` of the item (costs ``<= 0`` count as a tiny positive cost, so free
lines with a positive reward come first). A bad line followed by good ones is pooled with
them, so ranking all lines by key never asks for a line before its predecessor.

**greedy** (MOQ-aware). For every group with a threshold, its *opening bundle* is the
shortest run of its lines, in key order, whose contributions reach the
threshold; ``rho_g`` is the bundle's reward-to-cost ratio and the keys of the group's lines
are capped at ``rho_g`` (reaching a threshold is weighed as one bundle). Lines are then
scanned by decreasing key (ties: item, then rank) while the key is positive:

* a line whose groups are all open (or have no threshold) is taken if it fits the budget;
  otherwise its item is closed (its later lines cannot be taken);
* a line that would open closed groups triggers a bundle: for each closed group involved, its
  lines in scan order are added until the threshold is reached, and any closed group touched
  by an added line joins the bundle (closure across families). The bundle is taken whole if
  it fits the remaining budget and its total reward is positive, else the triggering item
  is closed. A group that cannot
  reach its threshold with the usable lines is retired (its lines are skipped
  from then on) and the bundle rebuilt without it. Filling a group prefers lines that open
  no further group, so that bundles do not cascade across families.

Every intermediate order is valid, so nothing is left below a threshold; a final pass drops
any group still short (kept as a safeguard, never expected to act). In the target modes the
budget is unlimited and the sequence of moves is cut: min-target at the first move reaching
the target, max-target just before the first move exceeding it.

**roundup**. Scan by key ignoring MOQs (budget respected), then for each group left below its
threshold, add its next lines in key order (whatever their reward: the dead stock that
rounding up creates) if the budget allows, else drop the group; groups broken by a drop are
dropped in turn.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> moqlab.solve(inst, budget=2, method="greedy").reward
    3.0
"""

from __future__ import annotations

import numpy as np

from ._check import TOLERANCE
from ._dense import dense_lines
from ._instance import Instance
from ._result import Answer

FREE_COST = 1e-12


def line_keys(instance: Instance) -> np.ndarray:
    """Non-increasing (per item) priority of each line: see the module docstring."""
    if instance.n_lines == 0:
        return np.zeros(0)
    scale = max(1.0, float(np.max(np.abs(instance.cost))))
    cost = np.maximum(instance.cost, FREE_COST * scale)
    reward = dense_lines(instance, instance.reward)
    cost = dense_lines(instance, cost)
    length = instance.item_length[:, None]
    width = reward.shape[1]
    cum_r = np.concatenate([np.zeros((reward.shape[0], 1)), np.cumsum(reward, axis=1)], axis=1)
    cum_c = np.concatenate([np.zeros((cost.shape[0], 1)), np.cumsum(cost, axis=1)], axis=1)
    column = np.arange(width)[None, :]
    key = np.full(reward.shape, np.inf)
    for a in range(width):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (cum_r[:, 1:] - cum_r[:, [a]]) / (cum_c[:, 1:] - cum_c[:, [a]])
        ratio = np.where((column >= a) & (column < length), ratio, -np.inf)
        best_end = np.maximum.accumulate(ratio[:, ::-1], axis=1)[:, ::-1]
        key = np.where(column >= a, np.minimum(key, best_end), key)
    return key[instance.line_item, instance.line_rank]


def _running_min_per_item(instance: Instance, key: np.ndarray) -> np.ndarray:
    dense = dense_lines(instance, key, fill=np.inf)
    dense = np.minimum.accumulate(dense, axis=1)
    return dense[instance.line_item, instance.line_rank]


def _scan_order(instance: Instance, key: np.ndarray) -> np.ndarray:
    return np.lexsort((instance.line_rank, instance.line_item, -key))


def _floor(moq: np.ndarray) -> np.ndarray:
    return moq - TOLERANCE * np.maximum(1.0, moq)


class _Groups:
    """Per family: each line's group, and each group's lines in scan order."""

    def __init__(self, instance: Instance, order: np.ndarray):
        position = np.empty(instance.n_lines, dtype=np.int64)
        position[order] = np.arange(instance.n_lines)
        self.line_group = []
        self.members = []
        self.starts = []
        for fam in instance.families:
            line_group = fam.item_group[instance.line_item]
            members = np.lexsort((position, line_group))
            counts = np.bincount(line_group, minlength=fam.n_groups)
            self.line_group.append(line_group)
            self.members.append(members)
            self.starts.append(np.concatenate([[0], np.cumsum(counts)]))

    def lines(self, k: int, g: int) -> np.ndarray:
        return self.members[k][self.starts[k][g]:self.starts[k][g + 1]]


def greedy_keys(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """MOQ-aware keys (capped at each group's opening-bundle ratio) and the scan order."""
    key = line_keys(instance)
    order = _scan_order(instance, key)
    groups = _Groups(instance, order)
    scale = max(1.0, float(np.max(np.abs(instance.cost)))) if instance.n_lines else 1.0
    cost = np.maximum(instance.cost, FREE_COST * scale)
    cap = np.full(instance.n_lines, np.inf)
    for k, fam in enumerate(instance.families):
        floor = _floor(fam.moq)
        for g in np.flatnonzero(fam.moq > 0):
            lines = groups.lines(k, g)
            reached = np.flatnonzero(np.cumsum(fam.oq[lines]) >= floor[g])
            if reached.size == 0:
                rho = -np.inf  # the group can never reach its threshold
            else:
                bundle = lines[:reached[0] + 1]
                rho = instance.reward[bundle].sum() / cost[bundle].sum()
            members = groups.lines(k, g)
            cap[members] = np.minimum(cap[members], rho)
    capped = _running_min_per_item(instance, np.minimum(key, cap))
    return capped, _scan_order(instance, capped)


class _State:
    """A valid order under construction: lines taken per item and open-group totals."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.take = np.zeros(instance.n_items, dtype=np.int64)
        self.total = [np.zeros(fam.n_groups) for fam in instance.families]
        self.count = [np.zeros(fam.n_groups, dtype=np.int64) for fam in instance.families]
        self.spent = 0.0
        self.target = 0.0

    def add(self, lines) -> None:
        inst = self.instance
        for j in lines:
            i = inst.line_item[j]
            self.take[i] = max(self.take[i], inst.line_rank[j] + 1)
            self.spent += inst.cost[j]
            self.target += inst.target[j]
            for k, fam in enumerate(inst.families):
                g = fam.item_group[i]
                self.total[k][g] += fam.oq[j]
                self.count[k][g] += 1

    def closed_groups(self, item: int) -> list[tuple[int, int]]:
        out = []
        for k, fam in enumerate(self.instance.families):
            g = fam.item_group[item]
            if fam.moq[g] > 0 and self.count[k][g] == 0:
                out.append((k, int(g)))
        return out


def _bundle(state: _State, trigger: int, groups: _Groups, usable: np.ndarray,
            key: np.ndarray) -> tuple[list[int], tuple[int, int] | None]:
    """Lines of the bundle that opens the closed groups ``trigger`` touches (closure across
    families) and ``None``; or ``[]`` and the first group of the closure that cannot reach its
    threshold with usable lines."""
    inst = state.instance
    bundle = [trigger]
    in_bundle = {trigger}
    first = state.closed_groups(inst.line_item[trigger])
    closure = set(first)
    pending = list(first)  # family order (popped from the end), not set order: reproducible
    while pending:
        k, g = pending.pop()
        fam = inst.families[k]
        floor = _floor(fam.moq)[g]
        total = sum(fam.oq[j] for j in bundle if groups.line_group[k][j] == g)
        # First lines that open no further group, then any line: keeps the closure small.
        for expand in (False, True):
            for j in groups.lines(k, g):
                if total >= floor:
                    break
                if j in in_bundle or not usable[j]:
                    continue
                new = [c for c in state.closed_groups(inst.line_item[j]) if c not in closure]
                if new and not expand:
                    continue
                bundle.append(int(j))
                in_bundle.add(int(j))
                total += fam.oq[j]
                closure.update(new)
                pending.extend(new)
        if total < floor:
            return [], (k, g)
    # Lines of one item must be added in rank order (they are, but keep it explicit).
    bundle.sort(key=lambda j: (inst.line_item[j], inst.line_rank[j]))
    return bundle, None


def _greedy_moves(instance: Instance, budget: float, start_take=None, keys=None):
    """Run the MOQ-aware scan, from the empty order or from the valid order ``start_take``;
    returns the final state and the list of moves (line lists). ``keys``: a precomputed
    ``greedy_keys(instance)``."""
    key, order = keys if keys is not None else greedy_keys(instance)
    groups = _Groups(instance, order)
    state = _State(instance)
    if start_take is not None:
        state.add(np.flatnonzero(instance.selection_from_take(start_take)))
    allowance = TOLERANCE * max(1.0, abs(budget)) if np.isfinite(budget) else 0.0
    usable = np.ones(instance.n_lines, dtype=bool)  # False: item closed or group failed
    moves = []
    for j in order:
        if key[j] <= 0:
            break
        if not usable[j]:
            continue
        i = instance.line_item[j]
        if state.take[i] != instance.line_rank[j]:
            continue
        if not state.closed_groups(i):
            if state.spent + instance.cost[j] <= budget + allowance:
                state.add([j])
                moves.append([j])
            else:
                usable[instance.item_start[i]:instance.item_start[i + 1]] = False
            continue
        bundle, short = _bundle(state, j, groups, usable, key)
        while short is not None and usable[j]:
            # A group that cannot reach its threshold now never will (usable lines only
            # shrink): retire it and rebuild the bundle without it.
            usable[groups.lines(*short)] = False
            bundle, short = _bundle(state, j, groups, usable, key)
        if short is not None:
            continue
        fits = state.spent + float(instance.cost[bundle].sum()) <= budget + allowance
        if fits and float(instance.reward[bundle].sum()) > 0:
            state.add(bundle)
            moves.append(bundle)
        else:
            usable[instance.item_start[i]:instance.item_start[i + 1]] = False
    return state, moves


def _drop_short_groups(instance: Instance, take: np.ndarray) -> np.ndarray:
    """Safeguard repair: empty every group left below its threshold, until none is."""
    take = take.copy()
    while True:
        selected = instance.selection_from_take(take)
        changed = False
        for fam in instance.families:
            line_group = fam.item_group[instance.line_item]
            total = np.bincount(line_group, weights=np.where(selected, fam.oq, 0.0),
                                minlength=fam.n_groups)
            count = np.bincount(line_group, weights=selected, minlength=fam.n_groups)
            short = (count > 0) & (total < _floor(fam.moq))
            if short.any():
                take[short[fam.item_group]] = 0
                changed = True
                break
        if not changed:
            return take


def _cut_moves(instance: Instance, moves, mode: str, limit: float):
    """Target modes: the prefix of the move sequence the mode asks for."""
    target = np.cumsum([instance.target[m].sum() for m in moves]) if moves else np.zeros(0)
    allowance = TOLERANCE * max(1.0, abs(limit))
    if mode == "min_target":
        reached = np.flatnonzero(target >= limit - allowance)
        if limit <= allowance:
            count, status, message = 0, "feasible", ""
        elif reached.size:
            count, status, message = int(reached[0]) + 1, "feasible", ""
        else:
            count, status = len(moves), "target_unreachable"
            message = (f"the greedy order stops growing at target "
                       f"{target[-1] if moves else 0.0:g} < {limit:g}")
    else:
        over = np.flatnonzero(target > limit + allowance)
        count, status, message = (int(over[0]) if over.size else len(moves)), "feasible", ""
    take = np.zeros(instance.n_items, dtype=np.int64)
    for move in moves[:count]:
        for j in move:
            i = instance.line_item[j]
            take[i] = max(take[i], instance.line_rank[j] + 1)
    return take, status, message


def solve_greedy(instance: Instance, mode: str, limit: float) -> Answer:
    """MOQ-aware prioritised greedy (see the module docstring)."""
    budget = limit if mode == "budget" else np.inf
    state, moves = _greedy_moves(instance, budget)
    info = {"moves": len(moves)}
    if mode == "budget":
        return Answer(_drop_short_groups(instance, state.take), "feasible", "", info)
    take, status, message = _cut_moves(instance, moves, mode, limit)
    return Answer(take, status, message, info)


# ------------------------------------------------------------------ roundup


def _roundup_take(instance: Instance, budget: float) -> np.ndarray:
    key = line_keys(instance)
    order = _scan_order(instance, key)
    allowance = TOLERANCE * max(1.0, abs(budget)) if np.isfinite(budget) else 0.0
    state = _State(instance)
    closed = np.zeros(instance.n_items, dtype=bool)
    for j in order:
        if key[j] <= 0:
            break
        i = instance.line_item[j]
        if closed[i] or state.take[i] != instance.line_rank[j]:
            continue
        if state.spent + instance.cost[j] <= budget + allowance:
            state.add([j])
        else:
            closed[i] = True

    groups = _Groups(instance, order)
    tried = [np.zeros(fam.n_groups, dtype=bool) for fam in instance.families]
    take = state.take
    while True:
        selected = instance.selection_from_take(take)
        short = None
        for k, fam in enumerate(instance.families):
            line_group = groups.line_group[k]
            total = np.bincount(line_group, weights=np.where(selected, fam.oq, 0.0),
                                minlength=fam.n_groups)
            count = np.bincount(line_group, weights=selected, minlength=fam.n_groups)
            bad = np.flatnonzero((count > 0) & (total < _floor(fam.moq)))
            if bad.size:
                short = (k, int(bad[0]), total[bad[0]])
                break
        if short is None:
            return take
        k, g, total = short
        fam = instance.families[k]
        if not tried[k][g]:
            tried[k][g] = True
            added, new_take = [], take.copy()
            for j in groups.lines(k, g):
                if total >= _floor(fam.moq)[g]:
                    break
                i = instance.line_item[j]
                if new_take[i] == instance.line_rank[j]:
                    new_take[i] += 1
                    added.append(j)
                    total += fam.oq[j]
            spent = float(instance.cost[instance.selection_from_take(take)].sum())
            if total >= _floor(fam.moq)[g] and \
                    spent + instance.cost[added].sum() <= budget + allowance:
                take = new_take
                continue
        take = take.copy()
        take[fam.item_group == g] = 0


def solve_roundup(instance: Instance, mode: str, limit: float) -> Answer:
    """Order ignoring MOQs, then round short groups up if the budget allows, else drop them.

    In the target modes the budget is grown by bisection over the MOQ-free order's spend
    until the rounded order reaches (min-target) or stays within (max-target) the target."""
    if mode == "budget":
        return Answer(_roundup_take(instance, limit), "feasible", "")
    return _bisect_budget(instance, mode, limit, _roundup_take)


def _bisect_budget(instance: Instance, mode: str, limit: float, order_for_budget,
                   steps: int = 60) -> Answer:
    """Smallest budget (min-target) / largest budget (max-target) found by bisection whose
    order meets the target rule; the target of these orders is not monotone in the budget,
    so this is a heuristic reading of the mode."""
    allowance = TOLERANCE * max(1.0, abs(limit))
    total_cost = float(np.clip(instance.cost, 0, None).sum())

    def target_of(take):
        return float(instance.target[instance.selection_from_take(take)].sum())

    full = order_for_budget(instance, total_cost)
    if mode == "min_target":
        if target_of(full) < limit - allowance:
            return Answer(full, "target_unreachable",
                          f"the order stops growing at target {target_of(full):g} < {limit:g}")
        lo, hi, best = 0.0, total_cost, full
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            take = order_for_budget(instance, mid)
            if target_of(take) >= limit - allowance:
                hi, best = mid, take
            else:
                lo = mid
        return Answer(best, "feasible", "")
    empty = np.zeros(instance.n_items, dtype=np.int64)
    if target_of(full) <= limit + allowance:
        return Answer(full, "feasible", "")
    lo, hi, best = 0.0, total_cost, order_for_budget(instance, 0.0)
    if target_of(best) > limit + allowance:
        best = empty
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        take = order_for_budget(instance, mid)
        if target_of(take) <= limit + allowance:
            lo, best = mid, take
        else:
            hi = mid
    return Answer(best, "feasible", "")
