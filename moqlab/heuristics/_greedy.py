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

from ..core._kernel import (GroupLines, allowance, cumulative_table, drop_short_groups, full_budget,
                            group_totals, lift_group, moq_floor, opening_runs, order_totals,
                            prefix_sums, target_cut)
from ..core._dense import bucket, dense_lines
from ..core._clock import TIME_LIMIT_OPTION, Deadline
from ..core._instance import Instance
from ..core._result import Answer

OPTIONS = (TIME_LIMIT_OPTION,)  # greedy and roundup

FREE_COST = 1e-12


def line_keys(instance: Instance) -> np.ndarray:
    """Non-increasing (per item) priority of each line: see the module docstring. The work
    is quadratic in each item's own ladder length: items are keyed in groups of similar
    lengths, so one long-ladder item does not make every item pay for its width."""
    if instance.n_lines == 0:
        return np.zeros(0)
    scale = max(1.0, float(np.max(np.abs(instance.cost))))
    cost = np.maximum(instance.cost, FREE_COST * scale)
    reward = dense_lines(instance, instance.reward)
    cost = dense_lines(instance, cost)
    key = np.full(reward.shape, np.inf)
    length = instance.item_length
    width_of = np.array([bucket(int(n)) for n in length])
    for width in np.unique(width_of).tolist():
        items = np.flatnonzero(width_of == width)
        width = min(width, reward.shape[1])
        key[items, :width] = _ladder_keys(reward[items, :width], cost[items, :width],
                                          length[items, None])
    return key[instance.line_item, instance.line_rank]


def _ladder_keys(reward: np.ndarray, cost: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``key[i, t] = min_{a <= t} max_{b >= t} (R[b + 1] - R[a]) / (C[b + 1] - C[a])`` over
    each item's ladder (``R, C`` its running sums; columns past ``length`` ignored)."""
    width = reward.shape[1]
    cum_r, cum_c = prefix_sums(reward), prefix_sums(cost)
    column = np.arange(width)[None, :]
    key = np.full(reward.shape, np.inf)
    for a in range(width):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (cum_r[:, 1:] - cum_r[:, [a]]) / (cum_c[:, 1:] - cum_c[:, [a]])
        ratio = np.where((column >= a) & (column < length), ratio, -np.inf)
        best_end = np.maximum.accumulate(ratio[:, ::-1], axis=1)[:, ::-1]
        key = np.where(column >= a, np.minimum(key, best_end), key)
    return key


def _running_min_per_item(instance: Instance, key: np.ndarray) -> np.ndarray:
    dense = dense_lines(instance, key, fill=np.inf)
    dense = np.minimum.accumulate(dense, axis=1)
    return dense[instance.line_item, instance.line_rank]


def _scan_order(instance: Instance, key: np.ndarray) -> np.ndarray:
    return np.lexsort((instance.line_rank, instance.line_item, -key))


def greedy_keys(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """MOQ-aware keys (capped at each group's opening-bundle ratio) and the scan order."""
    key = line_keys(instance)
    order = _scan_order(instance, key)
    groups = GroupLines(instance, order)
    scale = max(1.0, float(np.max(np.abs(instance.cost)))) if instance.n_lines else 1.0
    cost = np.maximum(instance.cost, FREE_COST * scale)
    cap = np.full(instance.n_lines, np.inf)
    for k, fam in enumerate(instance.families):
        rho = _opening_ratios(fam, groups.members[k], groups.starts[k], instance.reward, cost)
        cap = np.minimum(cap, rho[groups.line_group[k]])
    capped = _running_min_per_item(instance, np.minimum(key, cap))
    return capped, _scan_order(instance, capped)


def _opening_ratios(fam, members: np.ndarray, starts: np.ndarray, reward: np.ndarray,
                    cost: np.ndarray) -> np.ndarray:
    """``rho_g`` of every group of one family: reward over cost of its opening run
    (:func:`moqlab.core._kernel.opening_runs`; ``-inf`` when the threshold is out of reach,
    ``+inf`` for a group without threshold)."""
    rho = np.full(fam.n_groups, np.inf)
    reward, cost = reward[members], cost[members]
    runs = opening_runs(fam, members, starts)
    for g in np.flatnonzero(fam.moq > 0).tolist():
        if runs[g] < 0:
            rho[g] = -np.inf  # the group can never reach its threshold
        else:
            lo, end = starts[g], starts[g] + runs[g]
            rho[g] = reward[lo:end].sum() / cost[lo:end].sum()
    return rho


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


def _chunked(positions: np.ndarray, size: int = 256):
    """The positions as Python ints, converted a chunk at a time: a bundle walk usually
    stops long before the end of its group's lines."""
    for at in range(0, positions.size, size):
        yield from positions[at:at + size].tolist()


class _Scan:
    """The MOQ-aware scan of :func:`greedy_moves`, indexed by scan position.

    Per-position data are host lists (the scan is sequential, and list reads are several
    times faster than numpy scalar reads). Two facts keep the work near-linear without
    changing a single decision:

    * usability is per item (an item closes, or a retired group closes all its items),
      and only shrinks;
    * when the scan is at position ``p``, every line of a still-closed group at a position
      before ``p`` belongs to an unusable item: it was scanned while its group was closed,
      so it triggered a bundle that closed its item or retired one of its groups (an
      accepted bundle would have opened the group). A bundle walk therefore starts at the
      group's first member at or after ``p`` (binary search), skipping only dead lines.
    """

    def __init__(self, instance: Instance, key: np.ndarray, order: np.ndarray,
                 budget: float):
        self.instance = instance
        self.order = order
        self.groups = GroupLines(instance, order)
        self.position = np.empty(instance.n_lines, dtype=np.int64)
        self.position[order] = np.arange(instance.n_lines)
        not_positive = np.flatnonzero(key[order] <= 0)
        self.active = int(not_positive[0]) if not_positive.size else instance.n_lines
        self.order_at = order.tolist()
        self.item_at = instance.line_item[order].tolist()
        self.rank_at = instance.line_rank[order].tolist()
        self.cost_at = instance.cost[order].tolist()
        self.oq_at = [fam.oq[order].tolist() for fam in instance.families]
        self.group_of = [fam.item_group.tolist() for fam in instance.families]
        self.thresholded = [(fam.moq > 0).tolist() for fam in instance.families]
        self.floor = [moq_floor(fam.moq).tolist() for fam in instance.families]
        self.limit = budget + allowance(budget)
        # capacity families: what each ceiling still admits (a line or bundle that would
        # overflow one is refused like one over the budget)
        self.cq_at = [capacity.cq[order].tolist() for capacity in instance.capacities]
        self.ceiling_of = [capacity.item_group.tolist() for capacity in instance.capacities]
        self.room = [(capacity.cap + allowance(capacity.cap)).tolist()
                     for capacity in instance.capacities]
        self.take = [0] * instance.n_items
        self.usable = [True] * instance.n_items  # False: item closed or one of its groups retired
        self.total = [[0.0] * fam.n_groups for fam in instance.families]
        self.count = [[0] * fam.n_groups for fam in instance.families]
        self.spent = 0.0

    def add(self, q: int) -> None:
        """Take the line at position ``q`` (its predecessors are taken)."""
        i = self.item_at[q]
        self.take[i] = max(self.take[i], self.rank_at[q] + 1)
        self.spent += self.cost_at[q]
        for k, group_of in enumerate(self.group_of):
            g = group_of[i]
            self.total[k][g] += self.oq_at[k][q]
            self.count[k][g] += 1
        for room, ceiling_of, cq_at in zip(self.room, self.ceiling_of, self.cq_at):
            room[ceiling_of[i]] -= cq_at[q]

    def within_ceilings(self, positions) -> bool:
        """Whether taking the lines at ``positions`` keeps every capacity group within its
        ceiling."""
        for room, ceiling_of, cq_at in zip(self.room, self.ceiling_of, self.cq_at):
            used: dict[int, float] = {}
            for q in positions:
                g = ceiling_of[self.item_at[q]]
                used[g] = used.get(g, 0.0) + cq_at[q]
            if any(volume > room[g] for g, volume in used.items()):
                return False
        return True

    def closed(self, item: int) -> list[tuple[int, int]]:
        """The groups of ``item`` with a threshold and no line taken, in family order."""
        out = []
        for k, group_of in enumerate(self.group_of):
            g = group_of[item]
            if self.thresholded[k][g] and self.count[k][g] == 0:
                out.append((k, g))
        return out

    def retire(self, k: int, g: int) -> None:
        """A group that cannot reach its threshold: all its items become unusable."""
        for i in np.flatnonzero(self.instance.families[k].item_group == g).tolist():
            self.usable[i] = False

    def bundle(self, p: int) -> tuple[list[int], tuple[int, int] | None]:
        """Positions of the bundle that opens the closed groups of the line at ``p``
        (closure across families) and ``None``; or ``[]`` and the first group of the
        closure that cannot reach its threshold with usable lines."""
        item_at, usable = self.item_at, self.usable
        bundle, in_bundle, bundle_total = [], set(), {}
        closed_of = {}  # counts do not change while a bundle is built: one lookup per item

        def closed(item):
            if item not in closed_of:
                closed_of[item] = self.closed(item)
            return closed_of[item]

        def put(q):
            bundle.append(q)
            in_bundle.add(q)
            for k, group_of in enumerate(self.group_of):
                cell = (k, group_of[item_at[q]])
                bundle_total[cell] = bundle_total.get(cell, 0.0) + self.oq_at[k][q]

        put(p)
        first = closed(item_at[p])
        closure = set(first)
        pending = list(first)  # family order (popped from the end), not set order: reproducible
        while pending:
            k, g = pending.pop()
            floor, oq = self.floor[k][g], self.oq_at[k]
            total = bundle_total.get((k, g), 0.0)
            # First lines that open no further group, then the deferred ones: keeps the
            # closure small. Nothing enters the closure during the first pass, so the
            # second pass only needs the lines the first one deferred.
            deferred = []
            for q in _chunked(self.groups.positions_from(k, g, p)):
                if total >= floor:
                    break
                if q in in_bundle or not usable[item_at[q]]:
                    continue
                if any(c not in closure for c in closed(item_at[q])):
                    deferred.append(q)
                    continue
                put(q)
                total += oq[q]
            for q in deferred:
                if total >= floor:
                    break
                new = [c for c in closed(item_at[q]) if c not in closure]
                put(q)
                total += oq[q]
                closure.update(new)
                pending.extend(new)
            if total < floor:
                return [], (k, g)
        return bundle, None

    def run(self, start_take=None, deadline: Deadline | None = None) -> list[list[int]]:
        """Scan every positive-key line; returns the moves (line lists). A passed
        ``deadline`` stops the scan between moves (every move keeps the order valid)."""
        inst = self.instance
        if start_take is not None:
            for j in np.flatnonzero(inst.selection_from_take(start_take)).tolist():
                self.add(int(self.position[j]))
        moves = []
        for p in range(self.active):
            if deadline is not None and p % 256 == 0 and deadline.stop_if_passed():
                break
            i = self.item_at[p]
            if not self.usable[i] or self.take[i] != self.rank_at[p]:
                continue
            if not self.closed(i):
                if self.spent + self.cost_at[p] <= self.limit and (
                        not self.room or self.within_ceilings((p,))):
                    self.add(p)
                    moves.append([self.order_at[p]])
                else:
                    self.usable[i] = False
                continue
            bundle, short = self.bundle(p)
            while short is not None and self.usable[i]:
                # A group that cannot reach its threshold now never will (usable lines
                # only shrink): retire it and rebuild the bundle without it.
                self.retire(*short)
                bundle, short = self.bundle(p)
            if short is not None:
                continue
            # Lines of one item must be added in rank order: line order is (item, rank).
            lines = sorted(self.order_at[q] for q in bundle)
            fits = self.spent + float(inst.cost[lines].sum()) <= self.limit and (
                not self.room or self.within_ceilings(bundle))
            if fits and float(inst.reward[lines].sum()) > 0:
                for j in lines:
                    self.add(int(self.position[j]))
                moves.append(lines)
            else:
                self.usable[i] = False
        return moves

    def state(self) -> _State:
        """The final order as a :class:`_State`."""
        state = _State(self.instance)
        state.take = np.array(self.take, dtype=np.int64)
        state.total = [np.array(t, dtype=np.float64) for t in self.total]
        state.count = [np.array(c, dtype=np.int64) for c in self.count]
        state.spent = self.spent
        state.target = float(self.instance.target[self.instance.selection_from_take(state.take)].sum())
        return state


def greedy_moves(instance: Instance, budget: float, start_take=None, keys=None,
                 deadline: Deadline | None = None):
    """Run the MOQ-aware scan, from the empty order or from the valid order ``start_take``;
    returns the final state and the list of moves (line lists). ``keys``: a precomputed
    ``greedy_keys(instance)``; ``deadline`` may stop the scan early."""
    key, order = keys if keys is not None else greedy_keys(instance)
    scan = _Scan(instance, key, order, budget)
    moves = scan.run(start_take, deadline)
    return scan.state(), moves


def shed_to_budget(instance: Instance, take: np.ndarray, budget: float) -> np.ndarray:
    """A valid order within ``budget`` from a valid ``take``: while over budget, remove the
    last line of positive cost with the least reward per unit of cost and empty the groups
    this leaves short (which, with negative costs, may raise the cost again: the loop goes
    on). Lines only ever leave, so it ends, at worst at the empty order."""
    take = np.asarray(take, dtype=np.int64).copy()
    margin = allowance(budget)
    start = instance.item_start[:-1]
    while True:
        selected = instance.selection_from_take(take)
        if instance.cost[selected].sum() <= budget + margin or not take.any():
            return take
        items = np.flatnonzero(take > 0)
        last = start[items] + take[items] - 1
        paid = instance.cost[last] > 0
        if not paid.any():
            return np.zeros_like(take)
        items, last = items[paid], last[paid]
        worst = items[np.argmin(instance.reward[last] / instance.cost[last])]
        take[worst] -= 1
        take = drop_short_groups(instance, take)


def _cut_moves(instance: Instance, moves, mode: str, limit: float):
    """Target modes: the prefix of the move sequence the mode asks for."""
    count, status, message = target_cut([instance.target[m].sum() for m in moves], mode, limit)
    take = np.zeros(instance.n_items, dtype=np.int64)
    for move in moves[:count]:
        for j in move:
            i = instance.line_item[j]
            take[i] = max(take[i], instance.line_rank[j] + 1)
    return take, status, message


MAX_OPENINGS = 16  # scans the empty-order fallback may run
MAX_TRIED = 64  # groups it tries to open (best opening ratio first)


def open_one_group(instance: Instance, budget: float, keys=None) -> np.ndarray:
    """The fallback when the scan ends with the empty order: for every group with a
    threshold, open it from the empty order (its lines in scan order until the threshold,
    then the groups of other families this leaves short, the same way), keep it if it fits
    the budget, and let the scan fill the rest (:func:`greedy_moves` from that start).
    Returns the best such order (the empty one when no group opens within the budget).
    Tries the ``MAX_TRIED`` groups whose opening runs pay best (reward per cost) and scans
    from the ``MAX_OPENINGS`` most rewarding openings, only when the plain scan found
    nothing: the fallback's cost stays bounded on large orders."""
    key, order = keys if keys is not None else greedy_keys(instance)
    groups = GroupLines(instance, order)
    empty = np.zeros(instance.n_items, dtype=np.int64)
    best, best_reward = empty, 0.0
    # the groups whose opening runs pay best are tried first, a bounded number of them
    scale = max(1.0, float(np.max(np.abs(instance.cost))))
    cost = np.maximum(instance.cost, FREE_COST * scale)
    ranked = []
    for k, fam in enumerate(instance.families):
        rho = _opening_ratios(fam, groups.members[k], groups.starts[k], instance.reward, cost)
        ranked += [(-rho[g], k, g) for g in np.flatnonzero(np.isfinite(rho)).tolist()]
    starts = []
    for _, k, g in sorted(ranked)[:MAX_TRIED]:
        start = _opened(instance, groups, empty, k, g)
        if start is not None:
            start = shed_keeping_groups(instance, start, budget)
        if start is not None:
            starts.append(start)
    # the most rewarding openings first, and a bounded number of scans: the fallback
    # stays linear in the order's size
    starts.sort(key=lambda take: -order_totals(instance, take)[0])
    for start in starts[:MAX_OPENINGS]:
        state, _ = greedy_moves(instance, budget, start_take=start, keys=(key, order))
        take = drop_short_groups(instance, state.take)
        reward = order_totals(instance, take)[0]
        if reward > best_reward:
            best, best_reward = take, reward
    return best


def _opened(instance: Instance, groups: GroupLines, take, k: int, g: int, rounds: int = 8):
    """``take`` with group ``g`` of family ``k`` lifted to its threshold and every group
    this leaves short lifted in turn (a few rounds); ``None`` when some group cannot be."""
    floors = [moq_floor(fam.moq) for fam in instance.families]
    take, _, total = lift_group(instance, take, groups.lines(k, g), instance.families[k].oq,
                                0.0, floors[k][g])
    if total < floors[k][g]:
        return None
    for _ in range(rounds):
        selected = instance.selection_from_take(take)
        short = [(f, h, totals[0][h])
                 for f, totals in enumerate(group_totals(instance, selected))
                 for h in np.flatnonzero((totals[1] > 0) & (totals[0] < floors[f])).tolist()]
        if not short:
            return take
        for f, h, total in short:
            take, _, reached = lift_group(instance, take, groups.lines(f, h),
                                          instance.families[f].oq, total, floors[f][h])
            if reached < floors[f][h]:
                return None
    return None


SHED_BATCH = 64  # removals one step of shed_keeping_groups may make together


def shed_keeping_groups(instance: Instance, take: np.ndarray, budget: float):
    """``take`` (valid) brought within ``budget`` by removals that leave every group empty
    or at its threshold: an item's last line, or all its lines (how an item whose own
    minimum is several lines leaves), the ones losing the least reward per unit of cost
    saved first; ``None`` when no removal is left before the order fits. Up to
    ``SHED_BATCH`` removals are made a step (one per group where their sum would break the
    group's threshold or empty it, and no more than the excess over the budget), with the
    group totals updated in place: the work stays near-linear in the order's size."""
    take = np.asarray(take, dtype=np.int64).copy()
    limit = budget + allowance(budget)
    floors = [moq_floor(fam.moq) for fam in instance.families]
    cum_reward = cumulative_table(instance, instance.reward)
    cum_cost = cumulative_table(instance, instance.cost)
    cum_oq = [cumulative_table(instance, fam.oq) for fam in instance.families]
    every = np.arange(instance.n_items)
    spent = float(cum_cost[every, take].sum())
    totals = [np.bincount(fam.item_group, weights=table[every, take], minlength=fam.n_groups)
              for fam, table in zip(instance.families, cum_oq)]
    counts = [np.bincount(fam.item_group, weights=take > 0, minlength=fam.n_groups)
              for fam in instance.families]
    while spent > limit:
        items = np.flatnonzero(take > 0)
        best_ratio = np.full(items.size, np.inf)
        best_keep = take[items].copy()
        for keep in (take[items] - 1, np.zeros(items.size, dtype=np.int64)):
            saved = cum_cost[items, take[items]] - cum_cost[items, keep]
            lost = cum_reward[items, take[items]] - cum_reward[items, keep]
            ok = saved > 0
            for fam, floor, table, total, count in zip(instance.families, floors, cum_oq,
                                                       totals, counts):
                g = fam.item_group[items]
                after_total = total[g] - (table[items, take[items]] - table[items, keep])
                after_count = count[g] - (keep == 0)
                ok &= (after_count == 0) | (after_total >= floor[g]) | (fam.moq[g] <= 0)
            ratio = np.where(ok, lost / np.where(ok, saved, 1.0), np.inf)
            better = ratio < best_ratio
            best_ratio = np.where(better, ratio, best_ratio)
            best_keep = np.where(better, keep, best_keep)
        ranked = np.argsort(best_ratio, kind="stable")[:SHED_BATCH]
        ranked = ranked[np.isfinite(best_ratio[ranked])]
        if not ranked.size:
            return None
        who, keep = items[ranked], best_keep[ranked]
        chosen = np.ones(ranked.size, dtype=bool)
        for fam, floor, table, total, count in zip(instance.families, floors, cum_oq, totals,
                                                   counts):
            g = fam.item_group[who]
            drop = table[who, take[who]] - table[who, keep]
            after = total - np.bincount(g, weights=drop, minlength=fam.n_groups)
            members = count - np.bincount(g, weights=keep == 0, minlength=fam.n_groups)
            fine = (fam.moq <= 0) | (members == 0) | (after >= floor)
            first = np.zeros(ranked.size, dtype=bool)
            first[np.unique(g, return_index=True)[1]] = True  # the best removal of its group
            chosen &= fine[g] | first
        saved = np.where(chosen, cum_cost[who, take[who]] - cum_cost[who, keep], 0.0)
        before = np.cumsum(saved) - saved
        chosen &= (before < spent - limit) | (np.arange(ranked.size) == 0)
        who, keep = who[chosen], keep[chosen]
        spent -= float((cum_cost[who, take[who]] - cum_cost[who, keep]).sum())
        for fam, table, total, count in zip(instance.families, cum_oq, totals, counts):
            g = fam.item_group[who]
            np.subtract.at(total, g, table[who, take[who]] - table[who, keep])
            np.subtract.at(count, g, keep == 0)
        take[who] = keep
    return take


def budget_answer(instance: Instance, take: np.ndarray, budget: float, keys=None) -> np.ndarray:
    """The budget-mode answer of a greedy scan that ended at ``take``: short groups dropped,
    and, when that leaves the empty order, :func:`open_one_group`. Shared by ``greedy`` and
    ``jax-greedy`` so that their answers stay equal."""
    take = drop_short_groups(instance, take)
    if not take.any() and instance.families:
        take = open_one_group(instance, budget, keys)
    return take


def solve_greedy(instance: Instance, mode: str, limit: float,
                 time_limit: float | None = None) -> Answer:
    """MOQ-aware prioritised greedy (see the module docstring). ``time_limit`` stops the
    scan between moves (status ``time_limit``)."""
    deadline = Deadline(time_limit)
    budget = limit if mode == "budget" else np.inf
    state, moves = greedy_moves(instance, budget, deadline=deadline)
    info = {"moves": len(moves)}
    if mode == "budget":
        take = drop_short_groups(instance, state.take) if deadline.stopped else \
            budget_answer(instance, state.take, budget)
        status, message = "feasible", ""
    else:
        take, status, message = _cut_moves(instance, moves, mode, limit)
    if deadline.stopped:
        status, message = "time_limit", deadline.message("the greedy scan")
    return Answer(take, status, message, info)


# ------------------------------------------------------------------ roundup


def _roundup_take(instance: Instance, budget: float) -> np.ndarray:
    key = line_keys(instance)
    order = _scan_order(instance, key)
    margin = allowance(budget)
    state = _State(instance)
    closed = np.zeros(instance.n_items, dtype=bool)
    for j in order:
        if key[j] <= 0:
            break
        i = instance.line_item[j]
        if closed[i] or state.take[i] != instance.line_rank[j]:
            continue
        if state.spent + instance.cost[j] <= budget + margin:
            state.add([j])
        else:
            closed[i] = True

    groups = GroupLines(instance, order)
    tried = [np.zeros(fam.n_groups, dtype=bool) for fam in instance.families]
    take = state.take
    while True:
        selected = instance.selection_from_take(take)
        short = None
        for k, (fam, (total, count)) in enumerate(zip(instance.families,
                                                      group_totals(instance, selected))):
            bad = np.flatnonzero((count > 0) & (total < moq_floor(fam.moq)))
            if bad.size:
                short = (k, int(bad[0]), total[bad[0]])
                break
        if short is None:  # dropping groups of negative cost can end over the budget
            return shed_to_budget(instance, take, budget) if np.isfinite(budget) else take
        k, g, total = short
        fam = instance.families[k]
        if not tried[k][g]:
            tried[k][g] = True
            new_take, added, total = lift_group(instance, take, groups.lines(k, g), fam.oq,
                                                total, moq_floor(fam.moq)[g])
            spent = float(instance.cost[instance.selection_from_take(take)].sum())
            if total >= moq_floor(fam.moq)[g] and \
                    spent + instance.cost[added].sum() <= budget + margin:
                take = new_take
                continue
        take = take.copy()
        take[fam.item_group == g] = 0


def solve_roundup(instance: Instance, mode: str, limit: float,
                  time_limit: float | None = None) -> Answer:
    """Order ignoring MOQs, then round short groups up if the budget allows, else drop them.

    In the target modes the budget is grown by bisection over the MOQ-free order's spend
    until the rounded order reaches (min-target) or stays within (max-target) the target;
    ``time_limit`` stops the bisection between steps (one pass, in budget mode, is not cut)."""
    if mode == "budget":
        return Answer(_roundup_take(instance, limit), "feasible", "")
    deadline = Deadline(time_limit)
    answer = _bisect_budget(instance, mode, limit, _roundup_take, deadline=deadline)
    if deadline.stopped:
        answer = answer._replace(status="time_limit",
                                 message=deadline.message("the bisection over budgets"))
    return answer


def _bisect_budget(instance: Instance, mode: str, limit: float, order_for_budget,
                   steps: int = 60, deadline: Deadline | None = None) -> Answer:
    """Smallest budget (min-target) / largest budget (max-target) found by bisection whose
    order meets the target rule; the target of these orders is not monotone in the budget,
    so this is a heuristic reading of the mode."""
    margin = allowance(limit)
    total_cost = full_budget(instance)

    def target_of(take):
        return float(instance.target[instance.selection_from_take(take)].sum())

    full = order_for_budget(instance, total_cost)
    if mode == "min_target":
        if target_of(full) < limit - margin:
            return Answer(full, "target_unreachable",
                          f"the order stops growing at target {target_of(full):g} < {limit:g}")
        lo, hi, best = 0.0, total_cost, full
        for _ in range(steps):
            if deadline is not None and deadline.stop_if_passed():
                break
            mid = 0.5 * (lo + hi)
            take = order_for_budget(instance, mid)
            if target_of(take) >= limit - margin:
                hi, best = mid, take
            else:
                lo = mid
        return Answer(best, "feasible", "")
    empty = np.zeros(instance.n_items, dtype=np.int64)
    if target_of(full) <= limit + margin:
        return Answer(full, "feasible", "")
    lo, hi, best = 0.0, total_cost, order_for_budget(instance, 0.0)
    if target_of(best) > limit + margin:
        best = empty
    for _ in range(steps):
        if deadline is not None and deadline.stop_if_passed():
            break
        mid = 0.5 * (lo + hi)
        take = order_for_budget(instance, mid)
        if target_of(take) <= limit + margin:
            lo, best = mid, take
        else:
            hi = mid
    return Answer(best, "feasible", "")
