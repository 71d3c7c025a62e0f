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
bounded by its own dual function, and the best patterns are enumerated (those whose items
outside their shut groups have at most ``ENUMERATE_ORDERS`` orders) or solved at their own
dual prices and polished. The largest pattern bound is itself an upper bound on the optimum
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

import time
from collections.abc import Sequence

import jax
import numpy as np

from ..core._check import check
from ..core._clock import TIME_LIMIT_OPTION, Deadline
from ..core._dense import same_shape_groups
from ..core._frontier import pick_candidate
from ..core._instance import Instance
from ..core._kernel import allowance, order_totals
from ..core._dual import ceiling_layout
from ..core._layout import Layout, layout_sizes, prefix_layout
from ..core._options import Option
from ..core._orders import ENUMERATE_ORDERS, best_order, order_count
from ..core._precision import float64
from ..core._result import Answer
from ..core._sharding import over_lanes, shard_batch, sharded
from ._greedy import budget_answer
from ._jax_greedy import cut_moves, greedy_runs, take_after
from ._ceilings import first_overflow
from ._engine import engine
from ._patterns import best_patterns, bounds_patterns


OPTIONS = (
    Option("budgets", int, 8, "target modes: budgets tried around greedy's cut", minimum=1),
    Option("polish_moves", int, 500, "host best-improvement moves (0: no polish)", minimum=0),
    Option("patterns", bool, True, "budget mode: bound and solve the patterns of the "
           "coarsest groups (at most 6 of them)"),
    TIME_LIMIT_OPTION,
)


# ------------------------------------------------------------------ the engine, batched


@float64
def run_engine(instances: Sequence[Instance], budgets) -> tuple[list[np.ndarray], list[float]]:
    """The engine's order (``take``) for every lane ``(instances[n], budgets[n])``, and the
    lane's root dual bound (``inf`` where the engine did not compute it). Lanes are stacked
    only with lanes of the same layout sizes, so each answer is the one the lane gets
    alone."""
    shapes = [layout_sizes(inst) for inst in instances]
    out, roots = [None] * len(instances), [np.inf] * len(instances)
    solve = sharded(over_lanes(engine), "search-engine")
    for sizes, members in same_shape_groups(shapes).items():
        lays = [prefix_layout(instances[n], budgets[n], sizes) for n in members]
        stacked, _ = shard_batch(Layout(*(np.stack(parts) for parts in zip(*lays))))
        takes, _, bounds = jax.device_get(solve(stacked))
        for b, n in enumerate(members):
            out[n] = np.asarray(takes[b][:instances[n].n_items], dtype=np.int64)
            roots[n] = float(bounds[b])
    return out, roots


# ------------------------------------------------------------------ host polish

POLISH_MAX_ITEMS = 4096  # pairwise swaps are [I, I]: skipped above this size
WIDE_CELLS = 4096  # trades of any lengths into the budget: layouts of at most [I W] cells


def polish(instance: Instance, take, budget: float, max_moves: int = 500,
           deadline: Deadline | None = None, layout: Layout | None = None) -> np.ndarray:
    """Best-improvement descent on one order (host, numpy) over the allowed prefixes of the
    layout (:mod:`moqlab.core._layout`, per-SKU minimums folded in): raise an item to its
    next allowed prefix, lower it to its previous one (0 included: an item at its SKU
    minimum leaves at once), or trade (lower ``i``, raise ``j``); each move keeps every
    group empty or at its threshold, every container within its ceiling and the budget.
    Stops when no move raises the reward (ties: lower cost). An order over the budget (whose
    groups are valid) is first brought into it by the lowerings and trades that keep every
    group valid, each losing the least reward per unit of cost saved; on layouts of at most
    ``WIDE_CELLS`` cells such an order is also brought into it by trades of any lengths
    (:func:`_wide_move`: where the MOQs leave almost no slack, no single step saves cost
    without breaking one; ``small-stock-mixed-t1``: 22.3 % off -> 8.0 %), and the better
    descent is kept; that descent then also climbs by trades of any lengths where no step
    or pair of steps gains. An order above a ceiling (a method's order that ignored the
    containers) takes the same wide descent, each container first brought within its
    ceiling by trades losing the least reward per unit of volume freed: a repair that, unlike
    :func:`moqlab.heuristics.fit_ceilings`, can trade a bulky item for small ones
    (``medium-stock-mixed-t0.5-containers0.3``: 1.31 % off -> 0.48 %); the non-wide descent
    returns such an order as it is, and the valid one is kept. Pairwise trades are skipped
    for instances above ``POLISH_MAX_ITEMS`` items. Group totals are updated move by move (a
    move costs O(items), not O(lines)); the final order is verified, and the start order is
    returned if it were not valid. ``layout``: the instance's prefix layout, when the caller
    has it."""
    lay = prefix_layout(instance, budget) if layout is None else layout
    start = np.asarray(take, dtype=np.int64)
    found = [_descend(instance, start, budget, max_moves, deadline, lay, wide=False)]
    n = instance.n_items
    over = (lay.cost[np.arange(n), start].sum() > budget + allowance(budget)
            or first_overflow(instance, start) is not None)
    if over and n * lay.allowed.shape[1] <= WIDE_CELLS:
        found.append(_descend(instance, start, budget, max_moves, deadline, lay, wide=True))
    return max(found, key=lambda t: _rank(instance, t, budget))


def _rank(instance: Instance, take, budget: float) -> tuple:
    """Valid orders first, then more reward, then lower cost."""
    reward, cost, _ = order_totals(instance, take)
    return _valid(instance, take, budget), reward, -cost


def _descend(instance: Instance, take, budget: float, max_moves: int,
             deadline: Deadline | None, lay: Layout, wide: bool) -> np.ndarray:
    """:func:`polish`'s descent; ``wide``: over the budget, trades of any lengths."""
    start_take = np.asarray(take, dtype=np.int64)
    take = start_take.copy()
    n = instance.n_items
    reward, cost, allowed = lay.reward[:n], lay.cost[:n], lay.allowed[:n]
    contrib, group = lay.contrib[:, :n], lay.group[:, :n]
    floor, binds = lay.floor, lay.floor > 0
    rows = np.arange(n)
    width = allowed.shape[1]
    position = np.arange(width)
    margin = allowance(budget)
    pairs = n <= POLISH_MAX_ITEMS
    n_fams = floor.shape[0]
    fam_rows = np.arange(n_fams)[:, None]
    total = np.zeros(floor.shape)
    count = np.zeros(floor.shape)
    for k in range(n_fams):
        total[k] = np.bincount(group[k], weights=contrib[k, rows, take], minlength=floor.shape[1])
        count[k] = np.bincount(group[k], weights=take > 0, minlength=floor.shape[1])
    # ceilings that can overflow (the others have zero volume and cap): a raise must fit
    ceil = ceiling_layout(instance, lay.reward.shape)
    volume = np.zeros((0, n, width)) if ceil is None else ceil.volume[:, :n]
    vgroup = np.zeros((0, n), np.int64) if ceil is None else ceil.group[:, :n]
    cap = np.zeros((0, 1)) if ceil is None else ceil.cap
    used = np.array([np.bincount(vgroup[h], weights=volume[h, rows, take], minlength=cap.shape[1])
                     for h in range(cap.shape[0])]).reshape(cap.shape)
    vrows = np.arange(cap.shape[0])[:, None]

    for _ in range(max_moves):
        if deadline is not None and deadline.stop_if_passed():
            break
        above = allowed & (position[None, :] > take[:, None])
        below = allowed & (position[None, :] < take[:, None])
        up = np.where(above.any(axis=1), np.argmax(above, axis=1), take)
        down = np.where(below.any(axis=1), width - 1 - np.argmax(below[:, ::-1], axis=1), take)
        can_add, can_rem = up > take, down < take
        here_r, here_c = reward[rows, take], cost[rows, take]
        add_r = np.where(can_add, reward[rows, up] - here_r, -np.inf)
        add_c = np.where(can_add, cost[rows, up] - here_c, np.inf)
        rem_r = np.where(can_rem, reward[rows, down] - here_r, -np.inf)
        rem_c = np.where(can_rem, cost[rows, down] - here_c, np.inf)
        here_q = contrib[:, rows, take]
        add_q = contrib[:, rows, up] - here_q     # [K, I]
        rem_q = here_q - contrib[:, rows, down]   # [K, I], what a lowering takes away
        g_tot, g_cnt = total[fam_rows, group], count[fam_rows, group]
        g_floor, g_binds = floor[fam_rows, group], binds[fam_rows, group]
        # raising into an open group keeps it valid; a closed group must open at its MOQ
        add_ok = ~g_binds | (g_cnt > 0) | (add_q >= g_floor)
        empties = (g_cnt == 1) & (down == 0)[None, :]
        rem_ok = ~g_binds | empties | (g_tot - rem_q >= g_floor)
        here_v = volume[:, rows, take]
        add_v = volume[:, rows, up] - here_v   # [H, I]
        rem_v = here_v - volume[:, rows, down]
        g_used, g_cap = used[vrows, vgroup], cap[vrows, vgroup]
        fits = g_used + add_v <= g_cap
        ok_add = can_add & add_ok.all(axis=0) & fits.all(axis=0)
        ok_rem = can_rem & rem_ok.all(axis=0)
        fam_state = ([(group[k], total[k], binds[k], floor[k], add_q[k], rem_q[k], add_ok[k],
                       rem_ok[k]) for k in range(n_fams)],
                     [(vgroup[h], used[h], cap[h], add_v[h], rem_v[h], fits[h])
                      for h in range(cap.shape[0])])
        spent = float(here_c.sum())
        full = np.argwhere(used > cap + 1e-9) if wide else ()
        if len(full):  # a container above its ceiling (a start that ignored them)
            move = _wide_move(lay, take, n, total, count, used, ceil, budget + margin - spent,
                              goal=tuple(int(x) for x in full[0]))
        elif spent > budget + margin and wide:
            move = _wide_move(lay, take, n, total, count, used, ceil, budget + margin - spent)
        else:
            if spent > budget + margin:
                move = _cheapest_saving(ok_rem, rem_r, rem_c, fam_state, can_rem, can_add,
                                        add_r, add_c, pairs)
            else:
                move = _best_gain(ok_add, ok_rem, add_r, add_c, rem_r, rem_c, fam_state,
                                  can_rem, can_add, pairs, budget + margin - spent)
            if move is not None:
                move = [(i, up[i] if raise_it else down[i]) for i, raise_it in move]
            elif wide and spent <= budget + margin:
                move = _wide_move(lay, take, n, total, count, used, ceil,
                                  budget + margin - spent, goal="gain")
        if move is None:
            break
        for i, new in move:
            for k in range(n_fams):
                g = group[k, i]
                total[k, g] += contrib[k, i, new] - contrib[k, i, take[i]]
                count[k, g] += float(new > 0) - float(take[i] > 0)
            for h in range(cap.shape[0]):
                used[h, vgroup[h, i]] += volume[h, i, new] - volume[h, i, take[i]]
            take[i] = new
    return take if _valid(instance, take, budget) else start_take


def _wide_move(lay: Layout, take, n: int, total, count, used, ceil, room, goal="cost"):
    """A trade of any lengths: an item of the order lowered to any shorter allowed prefix (0
    included) and another item, or none, raised to any longer one, keeping every group
    empty or at its threshold. ``[L, H]`` pairs of (lowering, raise) cells: small orders
    only. ``room``: the budget left (negative: the excess over it). ``goal``:

    - ``"cost"``: a trade that saves cost (every container within its ceiling); the one
      that fits ``room`` with the most reward, else the one losing the least reward per
      unit of cost saved;
    - ``"gain"``: the trade that fits ``room`` and every ceiling with the largest reward
      gain (a move no single step or pair of next steps can make);
    - ``(h, g)``: group ``g`` of capacity family ``h`` is above its ceiling: a trade that
      frees its volume and costs at most what the budget leaves (nothing when it is over);
      the one that frees the whole excess with the most reward, else the one losing the
      least reward per unit of volume freed.

    ``None`` when no trade does it."""
    width = lay.allowed.shape[1]
    position = np.arange(width)[None, :]
    allowed = lay.allowed[:n]
    low_i, low_t = np.nonzero(allowed & (position < take[:, None]))
    up_i, up_t = np.nonzero(allowed & (position > take[:, None]))
    up_i, up_t = np.r_[up_i, 0], np.r_[up_t, take[0]]  # the last raise: none (item 0 stays)
    stays = np.arange(up_i.shape[0]) == up_i.shape[0] - 1

    def change(table, i, t):  # table[i, t] - table[i, take[i]]
        return table[i, t] - table[i, take[i]]

    def paired(table):  # [L, H]: the trade's change of a per-cell table
        return (change(table, low_i, low_t)[:, None]
                + np.where(stays, 0.0, change(table, up_i, up_t))[None, :])

    d_reward, d_cost = paired(lay.reward), paired(lay.cost)
    valid = (low_i[:, None] != up_i[None, :]) | stays[None, :]
    if goal == "cost":
        valid &= d_cost < 0
        saved, need = -d_cost, -room
    elif goal == "gain":
        valid &= (d_reward > 1e-9) & (d_cost <= room)
    else:
        h, g = goal
        in_g = ceil.group[h, :n] == g
        vol = np.where(in_g[:, None], ceil.volume[h, :n], 0.0)
        saved, need = -paired(vol), used[h][g] - ceil.cap[h][g]
        valid &= (saved > 0) & (d_cost <= max(room, 0.0))
    for k in range(lay.floor.shape[0]):
        group, floor = lay.group[k, :n], lay.floor[k]
        g_low, g_up = group[low_i], group[up_i]
        q_low = change(lay.contrib[k], low_i, low_t)
        q_up = np.where(stays, 0.0, change(lay.contrib[k], up_i, up_t))
        n_low = (low_t > 0).astype(int) - 1
        n_up = np.where(stays, 0, (take[up_i] == 0).astype(int))
        same = (g_low[:, None] == g_up[None, :]) & ~stays[None, :]
        for g_of, q, c, q_other, c_other, side in ((g_low, q_low, n_low, q_up, n_up, 0),
                                                   (g_up, q_up, n_up, q_low, n_low, 1)):
            own = (lambda a: a[:, None]) if side == 0 else (lambda a: a[None, :])
            other = (lambda a: a[None, :]) if side == 0 else (lambda a: a[:, None])
            after = total[k][own(g_of)] + own(q) + np.where(same, other(q_other), 0.0)
            members = count[k][own(g_of)] + own(c) + np.where(same, other(c_other), 0)
            bound = floor[own(g_of)]
            valid &= (bound <= 0) | (members == 0) | (after >= bound)
    if ceil is not None:  # the raise must fit its container (a lowering only frees room)
        for h in range(ceil.cap.shape[0]):
            group, volume = ceil.group[h, :n], ceil.volume[h, :n]
            same = (group[low_i][:, None] == group[up_i][None, :])
            after = (used[h][group[up_i]][None, :]
                     + np.where(stays, 0.0, change(volume, up_i, up_t))[None, :]
                     + np.where(same, change(volume, low_i, low_t)[:, None], 0.0))
            fits = after <= ceil.cap[h][group[up_i]][None, :]
            if goal not in ("cost", "gain") and h == goal[0]:  # the full one only empties
                fits |= (group[up_i] == goal[1])[None, :] & same
            valid &= stays[None, :] | fits
    if not valid.any():
        return None
    if goal == "gain":
        a, b = np.unravel_index(np.argmax(np.where(valid, d_reward, -np.inf)), d_reward.shape)
    else:
        enough = valid & (saved >= need)
        if enough.any():
            a, b = np.unravel_index(np.argmax(np.where(enough, d_reward, -np.inf)),
                                    d_reward.shape)
        else:
            ratio = np.where(valid, -d_reward / np.where(valid, saved, 1.0), np.inf)
            a, b = np.unravel_index(np.argmin(ratio), ratio.shape)
    move = [(int(low_i[a]), int(low_t[a]))]
    return move if stays[b] else move + [(int(up_i[b]), int(up_t[b]))]


def _best_gain(ok_add, ok_rem, add_r, add_c, rem_r, rem_c, fam_state, can_rem, can_add,
               pairs, room):
    """The raise, lowering or trade that keeps every group valid and fits ``room`` (the
    budget left) with the largest reward gain (ties: the lower cost); ``None`` when no move
    gains."""
    best, best_key = None, (0.0, 0.0)
    gain = np.where(ok_add & (add_c <= room), add_r, -np.inf)
    i = int(np.argmax(gain))
    if gain[i] > best_key[0]:
        best, best_key = [(i, True)], (gain[i], -add_c[i])
    gain = np.where(ok_rem, rem_r, -np.inf)
    i = int(np.argmax(gain))
    if gain[i] > best_key[0]:
        best, best_key = [(i, False)], (gain[i], -rem_c[i])
    if pairs:
        valid = _trades(can_rem, can_add, fam_state)
        pair_c = rem_c[:, None] + add_c[None, :]
        pair_r = np.where(valid & (pair_c <= room), rem_r[:, None] + add_r[None, :], -np.inf)
        flat = int(np.argmax(pair_r))
        if pair_r.flat[flat] > best_key[0] + 1e-12:
            i, j = divmod(flat, pair_r.shape[1])
            best = [(i, False), (j, True)]
    return best


def _trades(can_rem, can_add, fam_state) -> np.ndarray:
    """``[I, I]``: may ``i`` be lowered and ``j`` raised, every group staying empty or at its
    threshold? In a group that holds both, only the total after the trade counts (a
    lowering that alone would break the group's MOQ may be traded)."""
    valid = can_rem[:, None] & can_add[None, :]
    families, ceilings = fam_state
    for g, tot, thr, floor, add_q, rem_q, add_ok, rem_ok in families:
        same = g[:, None] == g[None, :]
        after = tot[g][:, None] - rem_q[:, None] + add_q[None, :]
        same_ok = ~thr[g][:, None] | (after >= floor[g][:, None])
        valid &= np.where(same, same_ok, rem_ok[:, None] & add_ok[None, :])
    for g, used, cap, add_v, rem_v, fits in ceilings:  # the raise must fit its container
        same = g[:, None] == g[None, :]
        after = used[g][:, None] - rem_v[:, None] + add_v[None, :]
        valid &= np.where(same, after <= cap[g][None, :], fits[None, :])
    np.fill_diagonal(valid, False)
    return valid


def _cheapest_saving(ok_rem, rem_r, rem_c, fam_state, can_rem, can_add, add_r, add_c, pairs):
    """The lowering or trade (``[(item, raised), ...]``) that saves cost, keeps every group
    valid and loses the least reward per unit of cost saved; ``None`` when there is none."""
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
    found, roots = run_engine(lane_inst, lane_budget)
    phases["engine_seconds"] = lap()
    found_by = [[] for _ in instances]
    root_of = [np.inf] * len(instances)  # budget mode: one lane per order
    for owner, budget, take, root in zip(lane_owner, lane_budget, found, roots):
        found_by[owner].append((budget, take))
        root_of[owner] = root
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
                best = _pattern_answer(inst, best, float(lim), polish_moves, deadline, info,
                                       root_of[b])
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
    return best_order(instance, budget)


def _pattern_answer(instance: Instance, best, budget: float, moves: int, deadline: Deadline,
                    info: dict, root: float = np.inf):
    """The better (verified) of ``best`` and the polished orders of the best patterns of the
    coarsest groups (:func:`moqlab.heuristics._patterns.best_patterns`; ``root``: the
    engine's root dual bound of the order, ``inf`` where it has none); ``info`` gains the
    patterns solved, the largest pattern bound and the stage's seconds."""
    started = time.perf_counter()
    layout = prefix_layout(instance, budget)  # one for the patterns and every polish
    found = best_patterns(instance, budget, order_totals(instance, best)[0], deadline, layout,
                          root=root if np.isfinite(root) else None)
    info["patterns_solved"] = found.solved
    info["pattern_bound"] = found.bound
    polished = [polish(instance, take, budget, max(moves, 1), deadline, layout)
                for take in found.takes]
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
