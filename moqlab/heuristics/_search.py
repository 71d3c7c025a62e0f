"""``search``: a batched improvement heuristic started from the greedy order.

**State and moves.** An order is ``t`` (lines taken per item). Each restart runs simulated
annealing on the penalised objective

``f(t) = R(t) - lam * rho * (max(0, C(t) - budget) + sum_k cbar_k * short_k(t))``

where ``R, C`` are total reward and cost (read from per-item cumulative tables),
``short_k(t) = sum_g [count_g > 0] * max(0, floor_g - total_g)`` is the contribution missing in
the open groups of family ``k``, ``cbar_k`` converts contributions to cost, ``rho`` is the best
reward-to-cost ratio and ``lam`` grows from 0.5 to 20 over the run (so late states are
feasible). Moves, drawn at random each step:

* add or remove the last line of a random item (``t_i +- 1``);
* trade budget between items: ``t_i - 1`` and ``t_j + 1``;
* every 8th step one group move: *close* a random group (every item of it to 0) or *open*
  it at its threshold (its items raised to their share of the group's opening bundle: the
  group's lines in greedy-key order until the threshold is reached).

Group totals and counts are kept per family and group (``[K, G]``) and updated with scatters
of the changed items; group moves recompute them with ``jax.ops.segment_sum``. Metropolis
acceptance at a geometrically cooling temperature; each restart keeps the best *feasible*
order it visits (budget respected, every open group at its threshold). Restarts are
``vmap``-ed (restart 0 starts at the greedy order, the others too but with their own random
stream); lanes (instance x budget) are ``vmap``-ed and sharded over devices
(:mod:`moqlab.core._sharding`). The best candidate of each instance is re-verified on the host by
exact float64 sums; the greedy order is always a candidate, so ``search`` is never worse than
``jax-greedy`` in budget mode.

**Group patterns** (:mod:`moqlab.heuristics._pattern`). Annealing moves one line or one
group at a time, which cannot reach the orders of MOQ-heavy instances where opening a
supplier means opening several categories at once inside a tight budget. Each lane therefore
also searches over *patterns* (which multi-item groups are open), pricing each pattern by a
Lagrangian heuristic (subgradient on the budget and threshold multipliers, with a cover /
shed / fill repair), starting from all groups open, from the greedy order's pattern and from
each group of the coarsest family alone, then from random patterns; its best order joins the
candidates. The pricing is JAX, vmapped over all the patterns of all the lanes a round of
the search asks for (:mod:`moqlab.heuristics._pricing`). ``patterns`` caps the patterns priced per lane
and phase (0 turns the phase off); lanes above ``PATTERN_MAX_LINES`` lines skip it, and lanes
above ``ANNEAL_MAX_LINES`` skip the annealing (both cost time linear in the instance per
step). Finally
:func:`polish` (host, numpy, vectorised over items and
item pairs) runs a best-improvement descent over add / remove / trade moves that keep the
order valid, until no move raises the reward.

**Target modes** ("better" under the design note): the answer should be the budget-optimal
order ``q_C`` at the smallest budget reaching the target (min-target) or the last one
staying within it (max-target). ``search`` approximates the frontier: it takes the costs of
the greedy move sequence around the greedy cut as budgets, improves the order at each of
these budgets (budget mode, all lanes in the same batch), and applies the frontier rules
(:mod:`moqlab.core._frontier`: ``frontier_indices`` + ``pick_target``) to all candidates found
(improved orders and greedy prefixes). Status ``target_unreachable`` when no candidate
reaches a min-target.

**Determinism**: all randomness comes from ``jax.random.PRNGKey(seed)`` folded with the
lane's index among its instance's budgets, and lanes are padded only with lanes of the same
bucket sizes, so an answer depends on the instance and ``seed`` only: solved alone or in
any batch, on any number of devices, it is the same.

Options: ``seed`` (0), ``restarts`` (16), ``steps`` (2000), ``budgets`` (8, target modes),
``polish_moves`` (500; 0 turns the polish off), ``patterns`` (150; 0 turns the pattern phase
off).

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> moqlab.solve(inst, budget=4, method="search", steps=200, restarts=2).reward
    9.0
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..core._kernel import (GroupLines, allowance, cumulative_table, group_totals, moq_floor,
                            opening_runs, order_totals)
from ..core._dense import bucket, same_shape_groups
from ..core._check import check
from ..core._frontier import pick_candidate
from ..core._clock import TIME_LIMIT_OPTION, Deadline
from ..core._instance import Instance
from ..core._precision import float64
from ._jax_greedy import capped_keys, greedy_runs, take_after, cut_moves
from ._greedy import budget_answer
from ._pattern import search_patterns_batch
from ..core._result import Answer
from ..core._options import Option

OPTIONS = (
    Option("seed", int, 0, "random seed (answers depend on it only)", minimum=0),
    Option("restarts", int, 16, "annealing restarts per instance", minimum=1),
    Option("steps", int, 2000, "annealing steps per restart (0: no annealing)", minimum=0),
    Option("budgets", int, 8, "target modes: budgets tried around greedy's cut", minimum=1),
    Option("polish_moves", int, 500, "host best-improvement moves (0: no polish)", minimum=0),
    Option("patterns", int, 150, "group patterns priced per lane and phase (0: no pattern "
           "phase)", minimum=0),
    TIME_LIMIT_OPTION,
)
from ..core._sharding import shard_batch

MIN_SIZES = (16, 4, 2, 4)  # items, lines per item, families, groups
MIN_LANES = 8  # lanes (instance x budget) per batch: small batches share one compile


class Lane(NamedTuple):
    """Dense arrays of one (instance, budget) lane, padded: ``I`` items, ``L`` lines per item,
    ``K`` families, ``G`` groups."""

    cum_reward: np.ndarray  # [I, L + 1]
    cum_cost: np.ndarray    # [I, L + 1]
    cum_oq: np.ndarray      # [K, I, L + 1]
    length: np.ndarray      # [I]
    n_items: np.ndarray     # []
    group: np.ndarray       # [K, I]
    floor: np.ndarray       # [K, G] (0 where there is no threshold)
    open_take: np.ndarray   # [K, I] lines of the item in its group's opening bundle
    n_groups: np.ndarray    # [K]
    weight: np.ndarray      # [K] cost per unit of contribution
    rho: np.ndarray         # [] reward-to-cost scale
    budget: np.ndarray      # []
    start: np.ndarray       # [I] starting order
    n_families: np.ndarray  # [] families of the instance (the others are padding)
    lane: np.ndarray        # [] the lane's random stream: its budget's index in its instance


def lane_sizes(instance: Instance):
    groups = max((fam.n_groups for fam in instance.families), default=1)
    return (instance.n_items, int(instance.item_length.max()), max(1, instance.n_families),
            groups)


def opening_takes(instance: Instance, order: np.ndarray) -> list[np.ndarray]:
    """Per family, lines of each item inside its group's opening bundle (the group's
    opening run in scan ``order``, :func:`moqlab.core._kernel.opening_runs`; every line of
    a group that cannot reach its threshold; 0 for groups without threshold)."""
    groups = GroupLines(instance, order)
    out = []
    for k, fam in enumerate(instance.families):
        members, starts = groups.members[k], groups.starts[k]
        runs = opening_runs(fam, members, starts)
        sizes = np.diff(starts)
        length = np.where(runs < 0, sizes, runs)  # out of reach: the whole group
        group = groups.line_group[k][members]
        inside = np.arange(members.size) - starts[group] < length[group]
        take = np.bincount(instance.line_item[members[inside]], minlength=instance.n_items)
        out.append(take.astype(np.int64))
    return out


def build_lane(instance: Instance, order, budget: float, start, lane: int, sizes) -> Lane:
    I, L, K, G = sizes
    n = instance.n_items

    def cum(values):
        return cumulative_table(instance, values, L, I)

    cum_oq = np.zeros((K, I, L + 1))
    group = np.zeros((K, I), np.int32)
    floor = np.zeros((K, G))
    open_take = np.zeros((K, I), np.int32)
    n_groups = np.ones(K, np.int32)
    weight = np.zeros(K)
    for k, (fam, ot) in enumerate(zip(instance.families, opening_takes(instance, order))):
        cum_oq[k] = cum(fam.oq)
        group[k, :n] = fam.item_group
        floor[k, :fam.n_groups] = np.where(fam.moq > 0, moq_floor(fam.moq), 0.0)
        open_take[k, :n] = ot
        n_groups[k] = fam.n_groups
        weight[k] = np.abs(instance.cost).sum() / max(fam.oq.sum(), 1e-12)
    positive = instance.cost > 0
    ratio = instance.reward[positive] / instance.cost[positive]
    rho = max(float(ratio.max()) if ratio.size else 1.0, 1e-9)
    length = np.zeros(I, np.int32)
    length[:n] = instance.item_length
    start_pad = np.zeros(I, np.int32)
    start_pad[:n] = start
    return Lane(cum(instance.reward), cum(instance.cost), cum_oq, length, np.int32(n), group,
                floor, open_take, n_groups, weight, np.float64(rho), np.float64(budget),
                start_pad, np.int32(max(1, instance.n_families)), np.int32(lane))


# ------------------------------------------------------------------ kernel (JAX)


def _anneal(lane: Lane, key, steps: int):
    """One restart: returns ``(best_take, best_reward, found)``."""
    I = lane.length.shape[0]
    K, G = lane.floor.shape
    fams = jnp.arange(K)
    margin = allowance(lane.budget)
    items = jnp.arange(I)

    def item_values(take):
        r = lane.cum_reward[items, take].sum()
        c = lane.cum_cost[items, take].sum()
        return r, c

    def group_state(take):
        contrib = lane.cum_oq[:, items, take]  # [K, I]
        tot = jax.vmap(lambda v, g: jax.ops.segment_sum(v, g, num_segments=G))(contrib,
                                                                              lane.group)
        cnt = jax.vmap(lambda v, g: jax.ops.segment_sum(v, g, num_segments=G))(
            (take > 0).astype(jnp.int32)[None, :].repeat(K, 0), lane.group)
        return tot, cnt

    def shortfall(tot, cnt):
        return jnp.where(cnt > 0, jnp.maximum(lane.floor - tot, 0.0), 0.0)

    def penalty(cost, short, lam):
        over = jnp.maximum(cost - lane.budget, 0.0)
        return lam * lane.rho * (over + (lane.weight * short.sum(axis=1)).sum())

    def change(state, i, new):
        """Set ``t_i = new``: updates reward, cost, group totals and counts."""
        take, tot, cnt, reward, cost = state
        old = take[i]
        g = lane.group[:, i]
        reward = reward + lane.cum_reward[i, new] - lane.cum_reward[i, old]
        cost = cost + lane.cum_cost[i, new] - lane.cum_cost[i, old]
        tot = tot.at[fams, g].add(lane.cum_oq[:, i, new] - lane.cum_oq[:, i, old])
        cnt = cnt.at[fams, g].add((new > 0).astype(jnp.int32) - (old > 0).astype(jnp.int32))
        return take.at[i].set(new), tot, cnt, reward, cost

    def feasible(state):
        take, tot, cnt, reward, cost = state
        return (cost <= lane.budget + margin) & ~jnp.any((cnt > 0) & (tot < lane.floor))

    def full(take):
        tot, cnt = group_state(take)
        r, c = item_values(take)
        return take, tot, cnt, r, c

    start = full(lane.start)
    n_items = jnp.maximum(lane.n_items, 1)
    scale = jnp.maximum(jnp.abs(lane.cum_reward[items, lane.length]).max(), 1e-9)
    t0, t1 = 0.05 * scale, 1e-4 * scale

    def body(s, carry):
        state, best_take, best_reward, found, key = carry
        frac = s / steps
        temp = t0 * (t1 / t0) ** frac
        lam = 0.5 + 20.0 * frac
        # one key per draw: the acceptance must not be tied to the move's direction
        key, k_i, k_j, k_kind, k_up, k_family, k_group, k_close, k_accept = \
            jax.random.split(key, 9)
        take = state[0]
        i = jax.random.randint(k_i, (), 0, n_items)
        j = jax.random.randint(k_j, (), 0, n_items)
        kind = jax.random.randint(k_kind, (), 0, 3)
        up = jax.random.bernoulli(k_up)
        # item moves: +-1 on i; trade: i - 1, j + 1
        delta_i = jnp.where(kind == 0, jnp.where(up, 1, -1), -1)
        new_i = jnp.clip(take[i] + delta_i, 0, lane.length[i])
        prop = change(state, i, new_i)
        new_j = jnp.clip(prop[0][j] + 1, 0, lane.length[j])
        prop = lax.cond(kind >= 1, lambda p: change(p, j, new_j), lambda p: p, prop)

        def group_move(_):
            # drawn among the instance's own families, so padding does not move the draws
            k = jax.random.randint(k_family, (), 0, lane.n_families)
            g = jax.random.randint(k_group, (), 0, lane.n_groups[k])
            members = lane.group[k] == g
            close = jax.random.bernoulli(k_close)
            opened = jnp.where(members, jnp.maximum(take, lane.open_take[k]), take)
            new_take = jnp.where(close, jnp.where(members, 0, take), opened)
            return full(new_take)

        prop = lax.cond((s % 8) == 7, group_move, lambda _: prop, None)
        score_old = state[3] - penalty(state[4], shortfall(state[1], state[2]), lam)
        score_new = prop[3] - penalty(prop[4], shortfall(prop[1], prop[2]), lam)
        accept = (score_new >= score_old) | (
            jax.random.uniform(k_accept) < jnp.exp((score_new - score_old) / temp))
        state = jax.tree_util.tree_map(lambda a, b: jnp.where(accept, a, b), prop, state)
        better = feasible(state) & (state[3] > best_reward)
        best_take = jnp.where(better, state[0], best_take)
        best_reward = jnp.where(better, state[3], best_reward)
        return state, best_take, best_reward, found | better, key

    init = (start, lane.start, jnp.where(feasible(start), start[3], -jnp.inf),
            feasible(start), key)
    _, best_take, best_reward, found, _ = lax.fori_loop(0, steps, body, init)
    return best_take, best_reward, found


def _lane_search(lane: Lane, seed, restarts: int, steps: int):
    key = jax.random.fold_in(jax.random.PRNGKey(seed), lane.lane)
    keys = jax.random.split(key, restarts)
    takes, rewards, found = jax.vmap(lambda k: _anneal(lane, k, steps))(keys)
    return takes, rewards, found


_search_lanes = jax.jit(jax.vmap(_lane_search, in_axes=(0, None, None, None)),
                        static_argnums=(2, 3))


# ------------------------------------------------------------------ host polish

POLISH_MAX_ITEMS = 4096  # pairwise swaps are [I, I]: skipped above this size


def polish(instance: Instance, take, budget: float, max_moves: int = 500,
           deadline: Deadline | None = None) -> np.ndarray:
    """Best-improvement descent on one order (host, numpy): add the next line of an item,
    remove the last line of an item, or trade (remove the last line of ``i``, add the next
    line of ``j``); each move keeps every group empty or at its threshold and the budget.
    Stops when no move raises the reward (ties: lower cost). Pairwise trades are skipped for
    instances above ``POLISH_MAX_ITEMS`` items. Spend and group totals are updated move by
    move (a move costs O(items), not O(lines)); the final order is verified, and the start
    order is returned if it were not valid."""
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
            ok_add &= ~thr[g] | (cnt[g] > 0) | (oq_add >= floor[g])
            empties = (cnt[g] == 1) & (take == 1)
            ok_rem &= ~thr[g] | empties | (tot[g] - oq_rem >= floor[g])
            fam_state.append((g, tot, cnt, thr, floor, oq_add, oq_rem))
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
            valid = ok_rem[:, None] & can_add[None, :]
            for g, tot, cnt, thr, floor, oq_add, oq_rem in fam_state:
                same = g[:, None] == g[None, :]
                after = tot[g][:, None] - oq_rem[:, None] + oq_add[None, :]
                same_ok = ~thr[g][:, None] | (after >= floor[g][:, None])
                add_ok = ~thr[g] | (cnt[g] > 0) | (oq_add >= floor[g])
                valid &= np.where(same, same_ok, add_ok[None, :])
            np.fill_diagonal(valid, False)
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


# ------------------------------------------------------------------ answers


@float64
def run_lanes(instances: Sequence[Instance], orders, budgets, starts, seed: int,
              restarts: int, steps: int, streams=None):
    """Search every lane; returns per lane the ``[restarts, I]`` takes (unpadded).
    ``streams``: each lane's random stream (default ``0, 1, ...``). Lanes are padded only
    with lanes of the same own bucket sizes, so a lane's answer depends on its instance,
    budget, start, stream and ``seed``, not on the batch it came in."""
    streams = range(len(instances)) if streams is None else streams
    shapes = [tuple(bucket(int(s), low) for s, low in zip(lane_sizes(inst), MIN_SIZES))
              for inst in instances]
    out = [None] * len(instances)
    for sizes, members in same_shape_groups(shapes).items():
        lanes = [build_lane(instances[n], orders[n], budgets[n], starts[n], streams[n], sizes)
                 for n in members]
        stacked = Lane(*(np.stack(parts) for parts in zip(*lanes)))
        stacked, _ = shard_batch(stacked, minimum=MIN_LANES)
        takes, _, found = jax.device_get(_search_lanes(stacked, np.int64(seed), restarts,
                                                       steps))
        for b, n in enumerate(members):
            out[n] = (takes[b][:, :instances[n].n_items].astype(np.int64), found[b])
    return out


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
def solve_search_batch(instances: Sequence[Instance], mode: str, limits, seed: int = 0,
                       restarts: int = 16, steps: int = 2000, budgets: int = 8,
                       polish_moves: int = 500, patterns: int = 150,
                       time_limit: float | None = None) -> list[Answer]:
    """``search`` on a batch (see the module docstring). ``time_limit`` bounds the whole
    call: a passed deadline skips the phases left (the compiled greedy and annealing calls
    are not cut) and stops the pattern search and the polish between steps; the answers
    are then the best orders found so far, status ``time_limit``."""
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
    orders = [capped_keys(inst)[1] for inst in instances]
    lane_inst, lane_order, lane_budget, lane_start, lane_owner, extra = [], [], [], [], [], []
    lane_stream = []  # a lane's random stream: its budget's index within its instance
    for b, (inst, run, lim, order) in enumerate(zip(instances, runs, limits, orders)):
        if mode == "budget":
            start = budget_answer(inst, run.take, float(lim))
            plan = [(float(lim), start)]
            extra.append([start])
        else:
            cut_take, _, _ = cut_moves(inst, run, mode, float(lim))
            cut = int(_count_of(inst, run, cut_take))
            prefixes = [take_after(inst, run, m) for m in range(run.moves + 1)]
            low = max(0, cut - budgets // 2)
            chosen = range(low, min(run.moves, low + budgets - 1) + 1)
            plan = [(order_totals(inst, prefixes[m])[1], prefixes[m]) for m in chosen]
            extra.append(prefixes)
        for stream, (budget, start) in enumerate(plan):
            lane_stream.append(stream)
            lane_inst.append(inst)
            lane_order.append(order)
            lane_budget.append(budget)
            lane_start.append(start)
            lane_owner.append(b)
    phases = {"greedy_seconds": lap()}
    live = not deadline.stop_if_passed()
    results = _anneal_phase(lane_inst, lane_order, lane_budget, lane_start, lane_stream, seed,
                            restarts, steps if live else 0)
    phases["anneal_seconds"] = lap()
    found_by = [[] for _ in instances]
    live = not deadline.stop_if_passed()
    by_pattern = _pattern_phase(lane_inst, lane_budget, lane_start, lane_stream,
                                patterns if live else 0, seed, deadline)
    phases["pattern_seconds"] = lap()
    for owner, budget, (takes, found), extra_take in zip(lane_owner, lane_budget, results,
                                                          by_pattern):
        kept = [t for t, f in zip(takes, found) if f]
        kept += [] if extra_take is None else [extra_take]
        found_by[owner].append((budget, kept))
    answers = []
    for b, (inst, lim) in enumerate(zip(instances, limits)):
        info = {"restarts": restarts, "steps": steps, "seed": seed, "patterns": patterns,
                "batch_phase_seconds": phases}
        if mode == "budget":
            cands = extra[b] + [t for _, takes in found_by[b] for t in takes]
            best = _best_budget_take(inst, cands, float(lim))
            if polish_moves:
                best = _best_budget_take(inst, [best, polish(inst, best, float(lim),
                                                              polish_moves, deadline)],
                                         float(lim))
            answers.append(_stopped(Answer(best, "feasible", "", info), deadline))
            continue
        cands = list(extra[b])
        for budget, takes in found_by[b]:
            best = _best_budget_take(inst, takes, budget)
            if best is not None and polish_moves:
                best = _best_budget_take(
                    inst, [best, polish(inst, best, budget, polish_moves, deadline)], budget)
            if best is not None:
                cands.append(best)
        answers.append(_stopped(_pick_target(inst, cands, mode, float(lim), info), deadline))
    phases["polish_seconds"] = lap()
    return answers


def _stopped(answer: Answer, deadline: Deadline) -> Answer:
    if not deadline.stopped:
        return answer
    return answer._replace(status="time_limit", message=deadline.message("the search"))


ANNEAL_MAX_LINES = 50_000  # an annealing step costs O(items + groups) on a CPU
PATTERN_MAX_LINES = 20_000  # the pattern phase's repair loops are linear in the lines


def _anneal_phase(instances, orders, budgets, starts, streams, seed: int, restarts: int,
                  steps: int):
    """:func:`run_lanes` on the lanes of at most ``ANNEAL_MAX_LINES`` lines (the others get
    no annealed candidates: on them the greedy order and the polish carry the answer)."""
    chosen = [n for n, inst in enumerate(instances)
              if restarts and steps and inst.n_lines <= ANNEAL_MAX_LINES]
    out = [(np.zeros((0, inst.n_items), np.int64), np.zeros(0, bool)) for inst in instances]
    if chosen:
        pick = [[values[n] for n in chosen] for values in (instances, orders, budgets, starts)]
        for n, result in zip(chosen, run_lanes(*pick, seed, restarts, steps,
                                               streams=[streams[n] for n in chosen])):
            out[n] = result
    return out


def _pattern_phase(instances, budgets, starts, streams, max_priced: int, seed: int,
                   deadline: Deadline | None = None):
    """Best order of the pattern search (:mod:`moqlab.heuristics._pattern`) for every lane, ``None``
    where it found none or the phase does not apply (off, or above ``PATTERN_MAX_LINES``)."""
    chosen = [n for n, inst in enumerate(instances)
              if max_priced and inst.n_lines <= PATTERN_MAX_LINES]
    out = [None] * len(instances)
    if chosen:
        found = search_patterns_batch([instances[n] for n in chosen],
                                      [budgets[n] for n in chosen],
                                      [[starts[n]] for n in chosen], max_priced=max_priced,
                                      random_priced=max_priced, seed=seed,
                                      streams=[streams[n] for n in chosen],
                                      deadline=deadline)
        for n, result in zip(chosen, found):
            out[n] = result.take
    return out


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
