"""``search``: the Lagrangian engine, batched, started from the greedy order, polished.

**Budget mode.** Each (instance, budget) *lane* is solved by
:func:`moqlab.heuristics._engine.engine`, a pure JAX function over the instance's
:class:`moqlab.core._layout.Layout` (:mod:`moqlab.heuristics._lagrange` documents the algorithm):

1. *price*: a budget price ``lam``; every item takes the allowed prefix maximising
   ``R_i(t) - lam C_i(t)`` (per-SKU minimums folded into the allowed prefixes);
2. *repair*: short groups are raised or closed, whichever loses less priced profit;
   ``lam`` is bisected to the smallest price whose repaired order fits the budget;
3. *improve*: orders priced at ``lam* x (1, .97, ..., 0)`` are shed into the budget and
   filled, and the best goes through a group search (close an open group, or open a closed
   one, repaired, shed and filled; kept when the reward rises).

Lanes of the same bucketed layout sizes are stacked, ``vmap``-ed and sharded over the local
devices (:mod:`moqlab.core._sharding`); a lane's answer depends only on its instance and
budget, never on the rest of the batch. The candidates of a lane are the engine's order and
greedy's (:func:`moqlab.heuristics._greedy.budget_answer`, so ``search`` is never worse than
``greedy`` in budget mode); the best verified one goes through :func:`polish` (host, numpy:
best-improvement add / remove / trade of single lines), and every answer is verified again by
:func:`moqlab.check` before it is returned.

**Target modes** ("better" under the design note): the answer should be the budget-optimal
order ``q_C`` at the smallest budget reaching the target (min-target) or the last one
staying within it (max-target). ``search`` approximates the frontier: it takes the costs of
the greedy move sequence around the greedy cut as budgets, solves each of these budgets
(budget mode, all lanes in the same batch), and applies the frontier rules
(:mod:`moqlab.core._frontier`: ``frontier_indices`` + ``pick_target``) to all candidates found
(engine orders and greedy prefixes). Status ``target_unreachable`` when no candidate
reaches a min-target.

Orders with at most ``ENUMERATE_ORDERS`` orders in all (tiny ones) are also enumerated
exactly (:mod:`moqlab.core._orders`), the best order within each lane's budget joining the
candidates.

The engine is deterministic: there is no seed. The compiled engine call cannot be cut by
``time_limit``; a passed deadline skips the polish and is reported as ``time_limit``.

**Patterns** (budget mode; :mod:`moqlab.heuristics._patterns`): on orders whose coarsest
MOQ family has at most ``PATTERN_GROUPS`` multi-item groups (suppliers, typically) and which
are too large to enumerate, every pattern of those groups (which open, which stay shut) is
bounded by its own dual function, and the best patterns are solved at their own dual prices
and polished. The largest pattern bound is itself an upper bound on the optimum
(``info["pattern_bound"]``), which the certified bound uses when it is the tighter one.

Options: ``budgets`` (8, target modes), ``polish_moves`` (500; 0 turns the polish off),
``patterns`` (True), ``time_limit``.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> moqlab.solve(inst, budget=4, method="search").reward
    9.0
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

import jax
import numpy as np

from ..core._check import check
from ..core._clock import TIME_LIMIT_OPTION, Deadline
from ..core._dense import same_shape_groups
from ..core._frontier import pick_candidate
from ..core._instance import Instance
from ..core._kernel import allowance, group_totals, moq_floor, order_totals
from ..core._layout import Layout, layout_sizes, multi_groups, prefix_layout
from ..core._options import Option
from ..core._orders import decode, enumerate_orders, order_count
from ..core._precision import float64
from ..core._result import Answer
from ..core._sharding import over_lanes, shard_batch, sharded
from ._greedy import budget_answer
from ._jax_greedy import cut_moves, greedy_runs, take_after
from ._engine import engine
from ._lagrange import PATTERN_GROUPS
from ._patterns import best_patterns, bounds_patterns

ENUMERATE_ORDERS = 1 << 18  # orders with at most this many orders are also enumerated

OPTIONS = (
    Option("budgets", int, 8, "target modes: budgets tried around greedy's cut", minimum=1),
    Option("polish_moves", int, 500, "host best-improvement moves (0: no polish)", minimum=0),
    Option("patterns", bool, True, "budget mode: bound and solve the patterns of the "
           "coarsest groups (at most 6 of them)"),
    TIME_LIMIT_OPTION,
)


# ------------------------------------------------------------------ the engine, batched


def few_groups(instance: Instance) -> bool:
    """Does ``instance`` have a family with at least one and at most ``PATTERN_GROUPS``
    multi-item groups with an MOQ (the engine then tries the open/closed patterns of its
    coarsest families, :func:`moqlab.heuristics._lagrange.patterns_of`)?"""
    counts = [int(multi_groups(fam).sum()) for fam in instance.families]
    return not any(counts) or min(c for c in counts if c) <= PATTERN_GROUPS


@float64
def run_engine(instances: Sequence[Instance], budgets) -> list[np.ndarray]:
    """The engine's order (``take``) for every lane ``(instances[n], budgets[n])``. Lanes are
    stacked only with lanes of the same layout sizes, so each answer is the one the lane
    gets alone."""
    shapes = [(layout_sizes(inst), few_groups(inst)) for inst in instances]
    out = [None] * len(instances)
    for (sizes, patterns), members in same_shape_groups(shapes).items():
        solve = sharded(over_lanes(functools.partial(engine, patterns=patterns)),
                        f"search-engine-{patterns}")
        lays = [prefix_layout(instances[n], budgets[n], sizes) for n in members]
        stacked, _ = shard_batch(Layout(*(np.stack(parts) for parts in zip(*lays))))
        takes, _ = jax.device_get(solve(stacked))
        for b, n in enumerate(members):
            out[n] = np.asarray(takes[b][:instances[n].n_items], dtype=np.int64)
    return out


# ------------------------------------------------------------------ host polish

POLISH_MAX_ITEMS = 4096  # pairwise swaps are [I, I]: skipped above this size


def polish(instance: Instance, take, budget: float, max_moves: int = 500,
           deadline: Deadline | None = None) -> np.ndarray:
    """Best-improvement descent on one order (host, numpy): add the next line of an item,
    remove the last line of an item, or trade (remove the last line of ``i``, add the next
    line of ``j``); each move keeps every group empty or at its threshold and the budget.
    Stops when no move raises the reward (ties: lower cost). An order over the budget (whose
    groups are valid) is first brought into it by the removals and trades that keep every
    group valid, each losing the least reward per unit of cost saved. Pairwise trades are
    skipped for instances above ``POLISH_MAX_ITEMS`` items. Spend and group totals are
    updated move by move (a move costs O(items), not O(lines)); the final order is
    verified, and the start order is returned if it were not valid."""
    start_take = np.asarray(take, dtype=np.int64)
    take = start_take.copy()
    n, length = instance.n_items, instance.item_length
    start = instance.item_start
    margin = allowance(budget)
    fams = [(fam.item_group, fam.oq, moq_floor(fam.moq), fam.moq > 0) for fam in instance.families]
    pairs = n <= POLISH_MAX_ITEMS
    selected = instance.selection_from_take(take)
    spent = float(instance.cost[selected].sum())
    totals = [total for total, _ in group_totals(instance, selected)]
    counts = [np.bincount(group, weights=take > 0, minlength=floor.size)
              for group, _, floor, _ in fams]

    def apply(i: int, up: bool) -> None:
        nonlocal spent
        line = start[i] + (take[i] if up else take[i] - 1)
        sign = 1.0 if up else -1.0
        spent += sign * instance.cost[line]
        opened_or_closed = take[i] == 0 if up else take[i] == 1
        for (group, oq, _, _), tot, cnt in zip(fams, totals, counts):
            tot[group[i]] += sign * oq[line]
            cnt[group[i]] += sign * opened_or_closed
        take[i] += 1 if up else -1

    for _ in range(max_moves):
        if deadline is not None and deadline.stop_if_passed():
            break
        can_add = take < length
        nxt = start[:-1] + np.minimum(take, length - 1)
        can_rem = take > 0
        lst = start[:-1] + np.maximum(take - 1, 0)
        add_r = np.where(can_add, instance.reward[nxt], -np.inf)
        add_c = np.where(can_add, instance.cost[nxt], np.inf)
        rem_r = np.where(can_rem, -instance.reward[lst], -np.inf)
        rem_c = np.where(can_rem, -instance.cost[lst], np.inf)
        ok_add, ok_rem = can_add.copy(), can_rem.copy()
        fam_state = []
        for (g, oq, floor, thr), tot, cnt in zip(fams, totals, counts):
            oq_add = oq[nxt]
            oq_rem = oq[lst]
            # adding to an open group keeps it valid; a closed group must open at once
            add_ok = ~thr[g] | (cnt[g] > 0) | (oq_add >= floor[g])
            empties = (cnt[g] == 1) & (take == 1)
            rem_ok = ~thr[g] | empties | (tot[g] - oq_rem >= floor[g])
            ok_add &= add_ok
            ok_rem &= rem_ok
            fam_state.append((g, tot, thr, floor, oq_add, oq_rem, add_ok, rem_ok))
        if spent > budget + margin:
            move = _cheapest_saving(ok_rem, rem_r, rem_c, fam_state, can_rem, can_add, add_r,
                                    add_c, pairs)
            if move is None:
                break
            for i, up in move:
                apply(i, up)
            continue
        best, best_key = None, (0.0, 0.0)
        # single adds / removes
        gain = np.where(ok_add & (spent + add_c <= budget + margin), add_r, -np.inf)
        i = int(np.argmax(gain))
        if gain[i] > best_key[0]:
            best, best_key = ("add", i), (gain[i], -add_c[i])
        gain = np.where(ok_rem, rem_r, -np.inf)
        i = int(np.argmax(gain))
        if gain[i] > best_key[0]:
            best, best_key = ("rem", i), (gain[i], -rem_c[i])
        if pairs:
            valid = _trades(can_rem, can_add, fam_state)
            pair_c = rem_c[:, None] + add_c[None, :]
            pair_r = rem_r[:, None] + add_r[None, :]
            pair_r = np.where(valid & (spent + pair_c <= budget + margin), pair_r, -np.inf)
            flat = int(np.argmax(pair_r))
            if pair_r.flat[flat] > best_key[0] + 1e-12:
                best = ("swap", divmod(flat, n))
        if best is None:
            break
        kind, where = best
        if kind == "add":
            apply(where, up=True)
        elif kind == "rem":
            apply(where, up=False)
        else:
            apply(where[0], up=False)
            apply(where[1], up=True)
    return take if _valid(instance, take, budget) else start_take


def _trades(can_rem, can_add, fam_state) -> np.ndarray:
    """``[I, I]``: may the last line of ``i`` go and the next line of ``j`` come, every group
    staying empty or at its threshold? In a group that holds both, only the total after the
    trade counts (a removal that alone would break the group's MOQ may be traded)."""
    valid = can_rem[:, None] & can_add[None, :]
    for g, tot, thr, floor, oq_add, oq_rem, add_ok, rem_ok in fam_state:
        same = g[:, None] == g[None, :]
        after = tot[g][:, None] - oq_rem[:, None] + oq_add[None, :]
        same_ok = ~thr[g][:, None] | (after >= floor[g][:, None])
        valid &= np.where(same, same_ok, rem_ok[:, None] & add_ok[None, :])
    np.fill_diagonal(valid, False)
    return valid


def _cheapest_saving(ok_rem, rem_r, rem_c, fam_state, can_rem, can_add, add_r, add_c, pairs):
    """The removal or trade (``[(item, up), ...]``) that saves cost, keeps every group valid
    and loses the least reward per unit of cost saved; ``None`` when there is none."""
    saved = np.where(ok_rem, -rem_c, 0.0)
    ratio = np.where(saved > 0, -rem_r / np.where(saved > 0, saved, 1.0), np.inf)
    i = int(np.argmin(ratio))
    best, best_ratio = ([(i, False)] if np.isfinite(ratio[i]) else None), ratio[i]
    if pairs:
        pair_saved = -(rem_c[:, None] + add_c[None, :])
        pair_lost = -(rem_r[:, None] + add_r[None, :])
        ok = _trades(can_rem, can_add, fam_state) & (pair_saved > 0)
        pair_ratio = np.where(ok, pair_lost / np.where(ok, pair_saved, 1.0), np.inf)
        flat = int(np.argmin(pair_ratio))
        if pair_ratio.flat[flat] < best_ratio:
            i, j = divmod(flat, pair_ratio.shape[1])
            best = [(i, False), (j, True)]
    return best


# ------------------------------------------------------------------ answers


def _valid(instance: Instance, take, budget: float | None) -> bool:
    return check(instance, instance.selection_from_take(take), budget=budget).feasible


def _best_budget_take(instance: Instance, candidates, budget: float):
    """Best verified candidate by reward, then lower cost."""
    best, best_key = None, None
    for take in candidates:
        if not _valid(instance, take, budget):
            continue
        r, c, _ = order_totals(instance, take)
        key = (r, -c)
        if best_key is None or key > best_key:
            best, best_key = take, key
    return best


@float64
def solve_search_batch(instances: Sequence[Instance], mode: str, limits, budgets: int = 8,
                       polish_moves: int = 500, patterns: bool = True,
                       time_limit: float | None = None) -> list[Answer]:
    """``search`` on a batch (see the module docstring). ``time_limit`` bounds the whole
    call: the compiled greedy and engine calls are not cut, a passed deadline stops the
    polish between moves; the answers are then the best orders found so far, status
    ``time_limit``."""
    deadline = Deadline(time_limit)
    instances = list(instances)
    if not instances:
        return []
    limits = np.broadcast_to(np.asarray(limits, dtype=np.float64), (len(instances),))
    greedy_budget = limits if mode == "budget" else np.full(len(instances), np.inf)
    clock = [time.perf_counter()]

    def lap():  # seconds since the previous lap (batch totals, JAX compiles included)
        clock.append(time.perf_counter())
        return clock[-1] - clock[-2]

    runs, _ = greedy_runs(instances, greedy_budget)
    lane_inst, lane_budget, lane_owner, extra = [], [], [], []
    for b, (inst, run, lim) in enumerate(zip(instances, runs, limits)):
        if mode == "budget":
            plan = [float(lim)]
            extra.append([budget_answer(inst, run.take, float(lim))])
        else:
            cut_take, _, _ = cut_moves(inst, run, mode, float(lim))
            cut = int(_count_of(inst, run, cut_take))
            prefixes = [take_after(inst, run, m) for m in range(run.moves + 1)]
            low = max(0, cut - budgets // 2)
            chosen = range(low, min(run.moves, low + budgets - 1) + 1)
            plan = [order_totals(inst, prefixes[m])[1] for m in chosen]
            extra.append(prefixes)
        for budget in plan:
            lane_inst.append(inst)
            lane_budget.append(budget)
            lane_owner.append(b)
    phases = {"greedy_seconds": lap()}
    found = run_engine(lane_inst, lane_budget)
    phases["engine_seconds"] = lap()
    found_by = [[] for _ in instances]
    for owner, budget, take in zip(lane_owner, lane_budget, found):
        found_by[owner].append((budget, take))
        exact = _enumerated(instances[owner], budget)
        if exact is not None:
            found_by[owner].append((budget, exact))
    answers = []
    for b, (inst, lim) in enumerate(zip(instances, limits)):
        info = {"batch_phase_seconds": phases}
        if mode == "budget":
            best = _best_budget_take(inst, extra[b] + [t for _, t in found_by[b]], float(lim))
            best = _polished(inst, best, float(lim), polish_moves, deadline)
            if (patterns and bounds_patterns(inst) and order_count(inst) > ENUMERATE_ORDERS
                    and not deadline.passed()):  # (an enumerated order is already optimal)
                best = _pattern_answer(inst, best, float(lim), polish_moves, deadline, info)
            answers.append(_stopped(Answer(best, "feasible", "", info), deadline))
            continue
        cands = list(extra[b])
        for budget, take in found_by[b]:
            best = _best_budget_take(inst, [take], budget)
            if best is not None:
                cands.append(_polished(inst, best, budget, polish_moves, deadline))
        answers.append(_stopped(_pick_target(inst, cands, mode, float(lim), info), deadline))
    phases["polish_seconds"] = lap()
    return answers


def _enumerated(instance: Instance, budget: float):
    """The best order within ``budget`` by visiting every order, for instances with at most
    ``ENUMERATE_ORDERS`` orders (``None`` above)."""
    if order_count(instance) > ENUMERATE_ORDERS:
        return None
    index, reward, _, _ = enumerate_orders(instance, budget=budget)
    return decode(index[[int(np.argmax(reward))]], instance.item_length + 1)[0]


def _pattern_answer(instance: Instance, best, budget: float, moves: int, deadline: Deadline,
                    info: dict):
    """The better (verified) of ``best`` and the polished orders of the best patterns of the
    coarsest groups (:func:`moqlab.heuristics._patterns.best_patterns`); ``info`` gains the
    patterns solved, the largest pattern bound and the stage's seconds."""
    started = time.perf_counter()
    found = best_patterns(instance, budget, order_totals(instance, best)[0], deadline)
    info["patterns_solved"] = found.solved
    info["pattern_bound"] = found.bounds[0] if found.bounds else None
    polished = [polish(instance, take, budget, max(moves, 1), deadline) for take in found.takes]
    best = _best_budget_take(instance, [best] + polished, budget)
    info["pattern_seconds"] = time.perf_counter() - started
    return best


def _polished(instance: Instance, take, budget: float, moves: int, deadline: Deadline):
    """The better (verified) of ``take`` and its :func:`polish`."""
    if not moves:
        return take
    return _best_budget_take(instance, [take, polish(instance, take, budget, moves, deadline)],
                             budget)


def _stopped(answer: Answer, deadline: Deadline) -> Answer:
    if not deadline.stopped:
        return answer
    return answer._replace(status="time_limit", message=deadline.message("the search"))


def _count_of(instance: Instance, run, take) -> int:
    """Number of greedy moves whose prefix equals ``take``."""
    kept = instance.selection_from_take(take)
    taken = run.added_at[kept]
    return int(taken.max()) + 1 if taken.size else 0


def _pick_target(instance: Instance, candidates, mode: str, limit: float, info) -> Answer:
    """Frontier rules over the candidate orders (see the module docstring)."""
    valid = [t for t in candidates if _valid(instance, t, None)]
    row, status, message = pick_candidate([order_totals(instance, t) for t in valid], mode,
                                          limit)
    if row < 0:
        return Answer(np.zeros(instance.n_items, dtype=np.int64), status, message, info)
    return Answer(valid[row], status, message, info)


def solve_search(instance: Instance, mode: str, limit: float, **options) -> Answer:
    """``search`` on one instance (a batch of one)."""
    return solve_search_batch([instance], mode, [limit], **options)[0]
