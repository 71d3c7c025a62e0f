"""``jax-greedy``: the MOQ-aware greedy of :mod:`moqlab._greedy`, run as one compiled JAX
loop and batched over instances with ``jax.vmap``.

It gives the same orders as ``method="greedy"`` (tested with hypothesis and on the example
order); the algorithm is the one described in :mod:`moqlab._greedy`:

1. **Keys** (host, vectorised numpy): the per-item antitonic-regression keys
   ``key_j = min_{a<=j} max_{b>=j} R(a..b)/C(a..b)`` (:func:`moqlab._greedy.line_keys`),
   capped at each group's opening-bundle ratio ``rho_g`` = reward/cost of the shortest run of
   the group's positive-key lines (in key order) whose contributions reach its threshold,
   then made non-increasing per item. :func:`capped_keys` computes these caps for all
   groups at once with sorted segments (the reference loops over groups in Python); both
   agree to the last bit on integer data and up to float summation order otherwise.
2. **Scan** (JAX, ``lax.while_loop`` over the lines sorted by decreasing key, while the key
   is positive). The carry holds the lines taken per item, the open-group totals
   ``sum oq`` and line counts per family and group, the spend, and "closed item" /
   "failed group" flags. A line whose groups are all open is taken if it fits the budget
   (else its item closes). A line that would open closed groups starts a *bundle*: a
   nested ``lax.while_loop`` that walks a stack of groups to open (closure across families)
   and, for each, its member lines in scan order, first the lines that open no further group,
   then any line, until the threshold is reached. Per-step scratch (bundle membership,
   closure) is *stamped* with the step number, so nothing of size ``lines`` is reset per step;
   a nested loop runs zero times when the step is not a bundle, which keeps ``vmap`` cheap.
3. **Modes**: budget mode returns the final order (after the same safeguard that drops a
   short group); the target modes run with an unlimited budget and cut the sequence of
   moves (recorded as the move number of every taken line) exactly as ``greedy`` does.

Batches are padded to power-of-two buckets (lines, items, groups, families; a missing family
is a dummy one with no threshold) so that one compiled function serves many batches.
moqlab's JAX modules enable float64 (``jax_enable_x64``) at import, because totals and
tolerances are float64 by contract.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> moqlab.solve(inst, budget=2, method="jax-greedy").reward
    3.0
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from ._check import TOLERANCE  # noqa: E402
from ._dense import bucket  # noqa: E402
from ._greedy import (FREE_COST, _drop_short_groups, _floor, _running_min_per_item,  # noqa: E402
                      _scan_order, line_keys)
from ._instance import Instance  # noqa: E402
from ._result import Answer  # noqa: E402

# ------------------------------------------------------------------ keys (host)


def _free_cost(instance: Instance) -> np.ndarray:
    scale = max(1.0, float(np.max(np.abs(instance.cost)))) if instance.n_lines else 1.0
    return np.maximum(instance.cost, FREE_COST * scale)


def capped_keys(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """The keys and scan order of :func:`moqlab._greedy.greedy_keys`, vectorised over groups.

    For family ``k``, the lines of thresholded groups are sorted by (group, scan position);
    a segmented cumulative sum of ``oq`` finds, per group, the first line where the total
    reaches the threshold, and ``rho_g`` is the bundle's reward over its cost (``-inf`` when
    the group can never reach its threshold).
    """
    key = line_keys(instance)
    order = _scan_order(instance, key)
    position = np.empty(instance.n_lines, dtype=np.int64)
    position[order] = np.arange(instance.n_lines)
    cost = _free_cost(instance)
    cap = np.full(instance.n_lines, np.inf)
    for fam in instance.families:
        line_group = fam.item_group[instance.line_item]
        rho = np.full(fam.n_groups, -np.inf)
        lines = np.flatnonzero(fam.moq[line_group] > 0)
        if lines.size:
            lines = lines[np.lexsort((position[lines], line_group[lines]))]
            group = line_group[lines]
            first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
            cum = np.cumsum(fam.oq[lines])
            offset = np.repeat(np.r_[0.0, cum[first[1:] - 1]], np.diff(np.r_[first, lines.size]))
            reached = (cum - offset) >= _floor(fam.moq)[group]
            # first reaching line of each group (segment starts are where a new group begins)
            index = np.arange(lines.size)
            cand = np.where(reached, index, lines.size)
            first_reach = np.minimum.reduceat(cand, first)
            seg_end = np.r_[first[1:], lines.size]
            ok = first_reach < seg_end
            starts, stops = first[ok], first_reach[ok] + 1
            reward_sum = np.array([instance.reward[lines[a:b]].sum() for a, b in zip(starts, stops)]) \
                if starts.size < 64 else _segment_sums(instance.reward[lines], starts, stops)
            cost_sum = np.array([cost[lines[a:b]].sum() for a, b in zip(starts, stops)]) \
                if starts.size < 64 else _segment_sums(cost[lines], starts, stops)
            rho[group[starts]] = reward_sum / cost_sum
        thresholded = fam.moq[line_group] > 0
        cap = np.where(thresholded, np.minimum(cap, rho[line_group]), cap)
    capped = _running_min_per_item(instance, np.minimum(key, cap))
    return capped, _scan_order(instance, capped)


def _segment_sums(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``values[a:b].sum()`` for each segment (disjoint, sorted), without a Python loop."""
    cum = np.r_[0.0, np.cumsum(values)]
    return cum[stops] - cum[starts]


# ------------------------------------------------------------ scan arrays (host)


class ScanArrays(NamedTuple):
    """One instance in scan order, padded (``P`` lines, ``I`` items, ``K`` families,
    ``G`` groups). Positions are ranks in the scan order; ``active`` lines have a positive key."""

    item: np.ndarray      # [P] item of the line at each position
    rank: np.ndarray      # [P] rank of that line in its item
    cost: np.ndarray      # [P]
    reward: np.ndarray    # [P]
    oq: np.ndarray        # [K, P]
    active: np.ndarray    # [] number of positive-key positions (a prefix)
    item_group: np.ndarray  # [K, I]
    members: np.ndarray   # [K, P] positions sorted by (group, position)
    starts: np.ndarray    # [K, G + 1] segment starts of each group in ``members``
    floor: np.ndarray     # [K, G] threshold minus tolerance
    thresholded: np.ndarray  # [K, G] moq > 0


def scan_sizes(instance: Instance) -> tuple[int, int, int, int]:
    groups = max((fam.n_groups for fam in instance.families), default=1)
    return instance.n_lines, instance.n_items, max(1, instance.n_families), groups


def scan_arrays(instance: Instance, order: np.ndarray, key: np.ndarray,
                sizes: tuple[int, int, int, int]) -> ScanArrays:
    """Padded scan-order arrays of one instance (``sizes`` = padded P, I, K, G)."""
    P, I, K, G = sizes
    n = instance.n_lines
    item = np.zeros(P, np.int32)
    rank = np.zeros(P, np.int32)
    cost = np.zeros(P)
    oq = np.zeros((K, P))
    item[:n] = instance.line_item[order]
    rank[:n] = instance.line_rank[order]
    cost[:n] = instance.cost[order]
    reward = np.zeros(P)
    reward[:n] = instance.reward[order]
    item_group = np.zeros((K, I), np.int32)
    members = np.tile(np.arange(P, dtype=np.int32), (K, 1))
    starts = np.full((K, G + 1), n, np.int32)
    starts[:, 0] = 0
    floor = np.zeros((K, G))
    thresholded = np.zeros((K, G), bool)
    for k, fam in enumerate(instance.families):
        oq[k, :n] = fam.oq[order]
        item_group[k, :instance.n_items] = fam.item_group
        group_at = fam.item_group[item[:n]]
        members[k, :n] = np.lexsort((np.arange(n), group_at))
        counts = np.bincount(group_at, minlength=fam.n_groups)
        starts[k, :fam.n_groups + 1] = np.r_[0, np.cumsum(counts)]
        floor[k, :fam.n_groups] = _floor(fam.moq)
        thresholded[k, :fam.n_groups] = fam.moq > 0
    if not instance.families:  # a dummy family without thresholds keeps shapes uniform
        starts[0, 1:] = n
    active = np.int32(np.count_nonzero(key[order] > 0))
    return ScanArrays(item, rank, cost, reward, oq, active, item_group, members, starts, floor,
                      thresholded)


# ------------------------------------------------------------------ scan (JAX)


def _scan(arrays: ScanArrays, budget):
    """The greedy scan of one instance: ``(take [I], added_at [P], moves)``; ``added_at``
    is the move number that took the line at each position (``-1``: not taken)."""
    item, rank, cost, reward, oq, active, item_group, members, starts, floor, thresholded = arrays
    P = item.shape[0]
    I = item_group.shape[1]
    K, G = floor.shape
    fams = jnp.arange(K)
    allowance = jnp.where(jnp.isfinite(budget), TOLERANCE * jnp.maximum(1.0, jnp.abs(budget)),
                          0.0)
    limit = budget + allowance

    def groups_of(m):
        return item_group[:, m]  # [K]

    def closed_of(m, gcnt):
        g = groups_of(m)
        return thresholded[fams, g] & (gcnt[fams, g] == 0)

    def usable(m, iclosed, failed):
        return ~iclosed[m] & ~jnp.any(failed[fams, groups_of(m)])

    def bundle(state, scratch, p, stamp):
        """Stack-driven bundle from trigger position ``p``: ``(status, bn, bcost, breward,
        short_k, short_g, scratch)`` with status 1 = built, 2 = group ``(short_k, short_g)``
        cannot reach its threshold. Scratch arrays are stamped with the attempt number
        ``stamp`` so that they never need clearing."""
        take, iclosed, gtot, gcnt, failed = state
        lstamp, blist, btot, bts, cstamp, stack = scratch
        trigger = jnp.bool_(True)
        m0 = item[p]
        g0 = groups_of(m0)
        closed0 = closed_of(m0, gcnt) & trigger
        lstamp = lstamp.at[p].set(jnp.where(trigger, stamp, lstamp[p]))
        blist = blist.at[0].set(p)
        btot = btot.at[fams, g0].set(jnp.where(trigger, oq[:, p], btot[fams, g0]))
        bts = bts.at[fams, g0].set(jnp.where(trigger, stamp, bts[fams, g0]))
        cstamp = cstamp.at[fams, g0].set(jnp.where(closed0, stamp, cstamp[fams, g0]))
        sp = jnp.int32(0)
        for k in range(K):  # push in family order; popped from the end
            stack = stack.at[sp].set(k * G + g0[k])
            sp = sp + closed0[k].astype(jnp.int32)
        # status 0 running / 1 success / 2 failed
        init = dict(sp=sp, stack=stack, k=jnp.int32(0), g=jnp.int32(0), pos=jnp.int32(0),
                    end=jnp.int32(0), second=jnp.bool_(False), pop=jnp.bool_(True),
                    status=jnp.int32(0), bn=jnp.int32(1),
                    bcost=cost[p], breward=reward[p], lstamp=lstamp, blist=blist, btot=btot, bts=bts,
                    cstamp=cstamp)

        def total_of(c, k, g):
            return jnp.where(c["bts"][k, g] == stamp, c["btot"][k, g], 0.0)

        def body(c):
            c = dict(c)
            # -- pop the next group (or finish with success)
            popping = c["pop"]
            empty = c["sp"] == 0
            code = c["stack"][jnp.maximum(c["sp"] - 1, 0)]
            pk, pg = code // G, code % G
            # -- examine the current group's next member
            k, g = c["k"], c["g"]
            reached = total_of(c, k, g) >= floor[k, g]
            at_end = c["pos"] >= c["end"]
            done = reached | (at_end & c["second"])
            restart = at_end & ~c["second"] & ~reached
            examine = ~popping & ~done & ~restart
            q = members[k, jnp.minimum(c["pos"], P - 1)]
            m = item[q]
            gm = groups_of(m)
            new = closed_of(m, gcnt) & (c["cstamp"][fams, gm] != stamp)
            skip = ((c["lstamp"][q] == stamp) | ~usable(m, iclosed, failed)
                    | (jnp.any(new) & ~c["second"]))
            add = examine & ~skip
            # apply an addition
            c["lstamp"] = c["lstamp"].at[q].set(jnp.where(add, stamp, c["lstamp"][q]))
            c["blist"] = c["blist"].at[c["bn"]].set(jnp.where(add, q, c["blist"][c["bn"]]))
            c["bn"] = c["bn"] + add.astype(jnp.int32)
            c["bcost"] = c["bcost"] + jnp.where(add, cost[q], 0.0)
            c["breward"] = c["breward"] + jnp.where(add, reward[q], 0.0)
            old = total_of(c, fams, gm)
            c["btot"] = c["btot"].at[fams, gm].set(jnp.where(add, old + oq[:, q],
                                                             c["btot"][fams, gm]))
            c["bts"] = c["bts"].at[fams, gm].set(jnp.where(add, stamp, c["bts"][fams, gm]))
            push = new & add
            c["cstamp"] = c["cstamp"].at[fams, gm].set(jnp.where(push, stamp,
                                                                 c["cstamp"][fams, gm]))
            stack, sp = c["stack"], c["sp"]
            for kk in range(K):
                stack = stack.at[sp].set(jnp.where(push[kk], kk * G + gm[kk], stack[sp]))
                sp = sp + push[kk].astype(jnp.int32)
            # state machine
            status = jnp.where(popping & empty, 1, 0)
            status = jnp.where(~popping & done & ~reached, 2, status)
            sp = jnp.where(popping & ~empty, sp - 1, sp)
            c["stack"], c["sp"] = stack, sp
            c["k"] = jnp.where(popping, pk, k)
            c["g"] = jnp.where(popping, pg, g)
            c["pos"] = jnp.where(popping, starts[pk, pg],
                                 jnp.where(restart, starts[k, g],
                                           c["pos"] + examine.astype(jnp.int32)))
            c["end"] = jnp.where(popping, starts[pk, pg + 1], c["end"])
            c["second"] = jnp.where(popping, False, c["second"] | restart)
            c["pop"] = jnp.where(popping, False, done & reached)
            c["status"] = status.astype(jnp.int32)
            return c

        out = lax.while_loop(lambda c: c["status"] == 0, body, init)
        scratch = (out["lstamp"], out["blist"], out["btot"], out["bts"], out["cstamp"],
                   out["stack"])
        return (out["status"], out["bn"], out["bcost"], out["breward"], out["k"], out["g"],
                scratch)

    def step(carry):
        p, take, iclosed, gtot, gcnt, failed, spent, moves, added_at, scratch, attempt = carry
        i, r = item[p], rank[p]
        ok = usable(i, iclosed, failed) & (take[i] == r)
        closed = closed_of(i, gcnt)
        simple = ok & ~jnp.any(closed)
        fits = spent + cost[p] <= limit
        g = groups_of(i)
        take_line = simple & fits
        take = take.at[i].set(jnp.where(take_line, r + 1, take[i]))
        gtot = gtot.at[fams, g].add(jnp.where(take_line, oq[:, p], 0.0))
        gcnt = gcnt.at[fams, g].add(take_line.astype(jnp.int32))
        spent = spent + jnp.where(take_line, cost[p], 0.0)
        added_at = added_at.at[p].set(jnp.where(take_line, moves, added_at[p]))
        moves = moves + take_line.astype(jnp.int32)
        iclosed = iclosed.at[i].set(iclosed[i] | (simple & ~fits))

        trigger = ok & jnp.any(closed)

        def rebuild(c):
            # A group that cannot reach its threshold with usable lines never will: retire
            # it and rebuild the bundle without it, while the trigger stays usable.
            scratch, attempt, failed, _ = c
            status, bn, bcost, breward, sk, sg, scratch = bundle(
                (take, iclosed, gtot, gcnt, failed), scratch, p, attempt + 1)
            failed = failed.at[sk, sg].set(failed[sk, sg] | (status == 2))
            go = (status == 2) & usable(i, iclosed, failed)
            return scratch, attempt + 1, failed, (go, status, bn, bcost, breward)

        none = (trigger, jnp.int32(0), jnp.int32(0), jnp.float64(0.0), jnp.float64(0.0))
        scratch, attempt, failed, (_, status, bn, bcost, breward) = lax.while_loop(
            lambda c: c[3][0], rebuild, (scratch, attempt, failed, none))
        built = trigger & (status == 1)
        accept = built & (spent + bcost <= limit) & (breward > 0)
        iclosed = iclosed.at[i].set(iclosed[i] | (built & ~accept))
        blist = scratch[1]

        def apply(t, state):
            take, gtot, gcnt, spent, added_at = state
            q = blist[t]
            m = item[q]
            gm = groups_of(m)
            take = take.at[m].max(rank[q] + 1)
            gtot = gtot.at[fams, gm].add(oq[:, q])
            gcnt = gcnt.at[fams, gm].add(1)
            return take, gtot, gcnt, spent + cost[q], added_at.at[q].set(moves)

        take, gtot, gcnt, spent, added_at = lax.fori_loop(
            0, jnp.where(accept, bn, 0), apply, (take, gtot, gcnt, spent, added_at))
        moves = moves + accept.astype(jnp.int32)
        return p + 1, take, iclosed, gtot, gcnt, failed, spent, moves, added_at, scratch, attempt

    scratch = (jnp.zeros(P, jnp.int32), jnp.zeros(P, jnp.int32), jnp.zeros((K, G)),
               jnp.zeros((K, G), jnp.int32), jnp.zeros((K, G), jnp.int32),
               jnp.zeros(K * G + K, jnp.int32))
    init = (jnp.int32(0), jnp.zeros(I, jnp.int32), jnp.zeros(I, bool), jnp.zeros((K, G)),
            jnp.zeros((K, G), jnp.int32), jnp.zeros((K, G), bool), jnp.float64(0.0),
            jnp.int32(0), jnp.full(P, -1, jnp.int32), scratch, jnp.int32(0))
    out = lax.while_loop(lambda c: c[0] < active, step, init)
    return out[1], out[8], out[7]


_scan_batch = jax.jit(jax.vmap(_scan))
_scan_single = jax.jit(_scan)


# ------------------------------------------------------------------ answers


class GreedyRun(NamedTuple):
    """Raw greedy output of one instance: final ``take`` (budget as given), the move number
    of each line (instance line order, ``-1`` = never taken) and the number of moves."""

    take: np.ndarray
    added_at: np.ndarray
    moves: int


def prepare(instances: Sequence[Instance]):
    """Keys, orders and padded, stacked scan arrays of a batch."""
    keyed = [capped_keys(inst) for inst in instances]
    sizes = np.array([scan_sizes(inst) for inst in instances]).max(axis=0)
    sizes = tuple(bucket(int(s)) for s in sizes)
    arrays = [scan_arrays(inst, order, key, sizes) for inst, (key, order) in zip(instances, keyed)]
    stacked = ScanArrays(*(np.stack(parts) for parts in zip(*arrays)))
    return keyed, stacked


def greedy_runs(instances: Sequence[Instance], budgets) -> tuple[list[GreedyRun], dict]:
    """Run the JAX scan on a batch; returns the runs and timing info
    (``prepare_seconds``, ``scan_seconds`` including compilation when it happens)."""
    began = time.perf_counter()
    keyed, stacked = prepare(instances)
    prepared = time.perf_counter()
    budgets = jnp.asarray(np.asarray(budgets, dtype=np.float64))
    take, added_at, moves = jax.device_get(_scan_batch(stacked, budgets))
    done = time.perf_counter()
    runs = []
    for b, (inst, (_, order)) in enumerate(zip(instances, keyed)):
        line_added = np.full(inst.n_lines, -1, np.int64)
        line_added[order] = added_at[b, :inst.n_lines]
        runs.append(GreedyRun(take[b, :inst.n_items].astype(np.int64), line_added,
                              int(moves[b])))
    return runs, {"prepare_seconds": prepared - began, "scan_seconds": done - prepared}


def cut_moves(instance: Instance, run: GreedyRun, mode: str, limit: float):
    """Target modes: the prefix of the move sequence (as :func:`moqlab._greedy._cut_moves`);
    returns ``(take, status, message)``."""
    taken = run.added_at >= 0
    move_target = np.bincount(run.added_at[taken], weights=instance.target[taken],
                              minlength=run.moves)
    target = np.cumsum(move_target)
    allowance = TOLERANCE * max(1.0, abs(limit))
    status, message = "feasible", ""
    if mode == "min_target":
        reached = np.flatnonzero(target >= limit - allowance)
        if limit <= allowance:
            count = 0
        elif reached.size:
            count = int(reached[0]) + 1
        else:
            count, status = run.moves, "target_unreachable"
            message = (f"the greedy order stops growing at target "
                       f"{target[-1] if run.moves else 0.0:g} < {limit:g}")
    else:
        over = np.flatnonzero(target > limit + allowance)
        count = int(over[0]) if over.size else run.moves
    return take_after(instance, run, count), status, message


def take_after(instance: Instance, run: GreedyRun, count: int) -> np.ndarray:
    """Lines taken per item after the first ``count`` moves."""
    kept = (run.added_at >= 0) & (run.added_at < count)
    return np.bincount(instance.line_item, weights=kept,
                       minlength=instance.n_items).astype(np.int64)


def _answer(instance: Instance, run: GreedyRun, mode: str, limit: float, info: dict) -> Answer:
    info = {"moves": run.moves, **info}
    if mode == "budget":
        return Answer(_drop_short_groups(instance, run.take), "feasible", "", info)
    take, status, message = cut_moves(instance, run, mode, limit)
    return Answer(take, status, message, info)


def solve_jax_greedy_batch(instances: Sequence[Instance], mode: str, limits, **options) -> list[Answer]:
    """``jax-greedy`` on a batch (one compiled, vmapped scan; sharded over local devices when
    ``shard=True`` and more than one device is present, see :mod:`moqlab._sharding`)."""
    if options:
        raise TypeError(f"jax-greedy takes no options, got {sorted(options)}")
    instances = list(instances)
    if not instances:
        return []
    limits = np.broadcast_to(np.asarray(limits, dtype=np.float64), (len(instances),))
    budgets = limits if mode == "budget" else np.full(len(instances), np.inf)
    runs, info = greedy_runs(instances, budgets)
    info = {key: value / len(instances) for key, value in info.items()}
    return [_answer(inst, run, mode, float(lim), info)
            for inst, run, lim in zip(instances, runs, limits)]


def solve_jax_greedy(instance: Instance, mode: str, limit: float, **options) -> Answer:
    """``jax-greedy`` on one instance (a batch of one)."""
    return solve_jax_greedy_batch([instance], mode, [limit], **options)[0]
