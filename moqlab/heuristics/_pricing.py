"""Lagrangian pricing of group patterns in JAX: one pattern is a pure function over padded
arrays; many patterns (of one or several instances) are priced at once with
``jax.jit(jax.vmap(...))``. The method is stated in :mod:`moqlab.heuristics._pattern`.

Layout of one row (``I`` items, ``W = L + 1`` ladder positions, ``K`` multi-item families,
``S`` switch slots, all padded to powers of two): cumulative ``reward``, ``cost`` ``[I, W]``
and ``contrib`` ``[K, I, W]``; ``switch`` ``[K, I]`` the slot of each item's group (the last
slot, ``S - 1``, is a dummy, always open, threshold 0, for items without a thresholded
multi-item group); ``floor`` ``[S]``; ``tmin``, ``length`` ``[I]`` (padding items have
length 0, so they never order). Group totals are ``jax.ops.segment_sum`` over ``switch``.

Each while loop of the repair moves one item per iteration and picks it with an ``argmax``
over items, so a loop runs at most as many iterations as the instance has lines.

Runs in float64 (totals are compared with exact solvers), switched on by its callers for
their own calls only (:mod:`moqlab.core._precision`).

Example::

    >>> import numpy as np, moqlab
    >>> from moqlab.heuristics._pattern import tables
    >>> from moqlab.heuristics._pricing import price_rows, stack_rows
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b", "c"], [4.0, 4.0, 5.0], [2.0, 2.0, 3.0],
    ...     families=[(["s", "s", "t"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    >>> rows = stack_rows([tables(inst)], [0, 0], [[True], [False]], [4.0, 4.0])
    >>> score, take, feasible, _, _ = price_rows(rows)
    >>> score[:2].tolist(), take[:2, :3].tolist()
    ([8.0, 5.0], [[1, 1, 0], [0, 0, 1]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..core._kernel import allowance
from ..core._dense import bucket

ITERATIONS = 200  # subgradient steps per pricing
REPAIRS = 10      # repairs per pricing (one every ITERATIONS / REPAIRS steps)


class Row(NamedTuple):
    """One pattern of one instance, padded (see the module docstring)."""

    reward: np.ndarray    # [I, W]
    cost: np.ndarray      # [I, W]
    contrib: np.ndarray   # [K, I, W]
    switch: np.ndarray    # [K, I]
    floor: np.ndarray     # [S]
    real: np.ndarray      # [S] a real switch (not padding, not the dummy)
    tmin: np.ndarray      # [I]
    length: np.ndarray    # [I]
    free: np.ndarray      # [] cost used for free lines in ratios
    budget: np.ndarray    # []
    pattern: np.ndarray   # [S] open switches (the dummy slot is always open)
    lam: np.ndarray       # [] starting budget multiplier
    mu: np.ndarray        # [S] starting threshold multipliers
    start: np.ndarray     # [] iteration count the step sizes continue from (warm starts)


def _gather(table, take):
    """``table[i, take[i]]`` for every item ``i``."""
    return jnp.take_along_axis(table, take[:, None], axis=1)[:, 0]


def _steps(row: Row, take, up: bool):
    """Next (``up``) or previous step of every item: new take, whether it exists, and the
    changes of reward, cost and contributions ``[K, I]``."""
    width = row.reward.shape[1]
    if up:
        wanted = jnp.where(take == 0, row.tmin, take + 1)
        valid = wanted <= row.length
        new = jnp.minimum(wanted, width - 1)
    else:
        new = jnp.where(take <= row.tmin, 0, take - 1)
        valid = take > 0
    d_reward = _gather(row.reward, new) - _gather(row.reward, take)
    d_cost = _gather(row.cost, new) - _gather(row.cost, take)
    d_contrib = jax.vmap(lambda t: _gather(t, new) - _gather(t, take))(row.contrib)
    return new, valid, d_reward, d_cost, d_contrib


def _coverage(row: Row, take):
    slots = row.floor.shape[0]
    parts = jax.vmap(lambda t, s: jax.ops.segment_sum(_gather(t, take), s, num_segments=slots))(
        row.contrib, row.switch)
    return parts.sum(axis=0)


def _lookahead(row: Row, take, start):
    """``max_{start <= b <= length} (R(b) - R(take)) / (C(b) - C(take))`` per item."""
    ends = jnp.arange(row.reward.shape[1])[None, :]
    gain = row.reward - _gather(row.reward, take)[:, None]
    spend = jnp.maximum(row.cost - _gather(row.cost, take)[:, None], row.free)
    inside = (ends >= start[:, None]) & (ends <= row.length[:, None])
    return jnp.where(inside, gain / spend, -jnp.inf).max(axis=1)


def _allowed(row: Row):
    ok = row.tmin <= row.length
    return ok & jnp.all(row.pattern[row.switch], axis=0)


def _item_step(row: Row, take, i, up: bool):
    """:func:`_steps` of item ``i`` alone (scalars, contributions ``[K]``)."""
    new, valid, d_reward, d_cost, d_contrib = _steps(
        _item(row, i), lax.dynamic_slice(take, (i,), (1,)), up)
    return new[0], valid[0], d_reward[0], d_cost[0], d_contrib[:, 0]


def _move(row: Row, take, steps, i, go, up: bool):
    """Apply item ``i``'s step when ``go``; only that item's step is recomputed (the loops
    below are item-at-a-time, so the other items' steps do not change)."""
    new, valid, d_reward, d_cost, d_contrib = steps
    take = take.at[i].set(jnp.where(go, new[i], take[i]))
    n, v, r, c, q = _item_step(row, take, i, up)
    steps = (new.at[i].set(n), valid.at[i].set(v), d_reward.at[i].set(r),
             d_cost.at[i].set(c), d_contrib.at[:, i].set(q))
    return take, steps


def repair(row: Row, take, price):
    """Cover, shed, fill (:mod:`moqlab.heuristics._pattern`); returns ``(take, overspend)`` with
    overspend ``inf`` when an open switch cannot be covered."""
    allowed = _allowed(row)
    take = jnp.where(allowed, take, 0)
    margin = allowance(row.budget)
    limit = row.budget + margin
    scale = jnp.maximum(row.floor, 1e-12)
    open_real = row.pattern & row.real
    deficit = jnp.where(open_real, jnp.maximum(row.floor - _coverage(row, take), 0.0), 0.0)
    spent = _gather(row.cost, take).sum()
    families = jnp.arange(row.switch.shape[0])

    # 1. cover every open switch
    def cover(state):
        take, steps, deficit, spent, _ = state
        _, valid, d_reward, d_cost, d_contrib = steps
        useful = jnp.minimum(d_contrib, deficit[row.switch]) / scale[row.switch]
        gain = useful.sum(axis=0)
        candidate = allowed & valid & (gain > 0)
        net = price * d_cost - d_reward
        safe = jnp.where(candidate, gain, 1.0)
        # a profitable step is better the more it covers, a costly one the less it costs
        # per unit covered
        score = jnp.where(candidate, jnp.where(net > 0, net / safe, net * safe), jnp.inf)
        i = jnp.argmin(score)
        go = candidate.any()
        deficit = deficit.at[row.switch[:, i]].add(-jnp.where(go, d_contrib[families, i], 0.0))
        deficit = jnp.where(open_real, jnp.maximum(deficit, 0.0), 0.0)
        spent = spent + jnp.where(go, d_cost[i], 0.0)
        take, steps = _move(row, take, steps, i, go, up=True)
        return take, steps, deficit, spent, ~go

    state = (take, _steps(row, take, up=True), deficit, spent, jnp.bool_(False))
    take, _, deficit, spent, stuck = lax.while_loop(
        lambda s: (s[2].sum() > 0) & ~s[4], cover, state)

    # 2. shed cost while over budget, keeping every open switch covered
    def shed(state):
        take, steps, covered, spent, _ = state
        _, valid, d_reward, d_cost, d_contrib = steps
        keeps = ~open_real[row.switch] | (covered[row.switch] + d_contrib >= row.floor[row.switch])
        candidate = valid & (d_cost < 0) & jnp.all(keeps, axis=0)
        loss = jnp.where(candidate, d_reward / jnp.where(candidate, d_cost, -1.0), jnp.inf)
        i = jnp.argmin(loss)
        go = candidate.any()
        covered = covered.at[row.switch[:, i]].add(jnp.where(go, d_contrib[families, i], 0.0))
        spent = spent + jnp.where(go, d_cost[i], 0.0)
        take, steps = _move(row, take, steps, i, go, up=False)
        return take, steps, covered, spent, ~go

    state = (take, _steps(row, take, up=False), _coverage(row, take), spent, jnp.bool_(False))
    take, _, _, spent, _ = lax.while_loop(lambda s: (s[3] > limit) & ~s[4], shed, state)
    over = jnp.where(stuck, jnp.inf, jnp.maximum(spent - limit, 0.0))

    # 3. fill by look-ahead ratio while steps fit
    def fill(state):
        take, steps, spent, closed, ratio, _ = state
        _, valid, _, d_cost, _ = steps
        fits = spent + d_cost <= limit
        wanted = ~closed & valid & (ratio > 0)
        closed = closed | (wanted & ~fits)  # a step that does not fit now never will
        candidate = wanted & fits
        i = jnp.argmax(jnp.where(candidate, ratio, -jnp.inf))
        go = candidate.any()
        spent = spent + jnp.where(go, d_cost[i], 0.0)
        take, steps = _move(row, take, steps, i, go, up=True)
        start = jnp.where(take == 0, row.tmin, take + 1)
        fresh = _lookahead(_item(row, i), lax.dynamic_slice(take, (i,), (1,)),
                           lax.dynamic_slice(start, (i,), (1,)))[0]
        ratio = ratio.at[i].set(jnp.where(go, fresh, ratio[i]))
        return take, steps, spent, closed, ratio, go

    ratio = _lookahead(row, take, jnp.where(take == 0, row.tmin, take + 1))
    state = (take, _steps(row, take, up=True), spent, ~allowed, ratio, over == 0)
    take, _, _, _, _, _ = lax.while_loop(lambda s: s[5], fill, state)
    return take, over


def _item(row: Row, i):
    """The one-item view of ``row`` used to recompute item ``i``'s step and look-ahead
    ratio after it moved."""
    def one(x, axis=0):
        return lax.dynamic_slice_in_dim(x, i, 1, axis=axis)
    return row._replace(reward=one(row.reward), cost=one(row.cost), length=one(row.length),
                        tmin=one(row.tmin), contrib=one(row.contrib, axis=1))


def price(row: Row, iterations: int = ITERATIONS, repairs: int = REPAIRS):
    """Price one pattern: ``(score, take, feasible, lam, mu)`` with ``score`` the best
    repaired order's reward, or minus its overspend when none met the budget (``-inf`` when
    an open switch could not be covered)."""
    width = row.reward.shape[1]
    ends = jnp.arange(width)[None, :]
    allowed = _allowed(row)
    choice = (ends == 0) | (allowed[:, None] & (ends >= row.tmin[:, None])
                            & (ends <= row.length[:, None]))
    spread = jnp.maximum(jnp.abs(row.budget), 1.0)
    n_real = jnp.maximum(row.real.sum(), 1)
    lam0 = row.lam
    mu_step = jnp.where(row.real, lam0 * spread / jnp.maximum(row.floor, 1e-9) / n_real, 0.0)
    open_real = row.pattern & row.real

    def choose(lam, mu):
        value = row.reward - lam * row.cost
        value = value + (mu[row.switch][:, :, None] * row.contrib).sum(axis=0)
        return jnp.argmax(jnp.where(choice, value, -jnp.inf), axis=1)

    def subgradient(carry, _):
        lam, mu, it = carry
        take = choose(lam, mu)
        spent = _gather(row.cost, take).sum()
        short = jnp.where(open_real, (row.floor - _coverage(row, take))
                          / jnp.maximum(row.floor, 1e-9), 0.0)
        step = 0.5 / jnp.sqrt(it + 1.0)
        lam = lam * jnp.exp(step * jnp.clip(4.0 * (spent - row.budget) / spread, -1.0, 1.0))
        mu = jnp.maximum(0.0, mu + step * mu_step * short)
        return (lam, mu, it + 1), None

    def chunk(carry, _):
        lam, mu, it, best_score, best_take, best_feasible = carry
        (lam, mu, it), _ = lax.scan(subgradient, (lam, mu, it), None,
                                    length=max(iterations // repairs, 1))
        fixed, over = repair(row, choose(lam, mu), lam)
        score = jnp.where(over == 0, _gather(row.reward, fixed).sum(), -over)
        better = score > best_score
        return (lam, mu, it, jnp.where(better, score, best_score),
                jnp.where(better, fixed, best_take),
                jnp.where(better, over == 0, best_feasible)), None

    init = (row.lam, row.mu, row.start.astype(jnp.float64), jnp.float64(-jnp.inf),
            jnp.zeros(row.reward.shape[0], row.tmin.dtype), jnp.bool_(False))
    (lam, mu, _, score, take, feasible), _ = lax.scan(chunk, init, None, length=repairs)
    return score, take, feasible, lam, mu


_price_rows = jax.jit(jax.vmap(price, in_axes=(0, None, None)), static_argnums=(1, 2))


def price_rows(rows: Row, iterations: int = ITERATIONS, repairs: int = REPAIRS):
    """Price a padded batch of rows; numpy results, one per row."""
    return jax.device_get(_price_rows(rows, iterations, repairs))


ROWS = 64  # most rows per call
MIN_ROWS = 16  # fewest: row counts are powers of two in [MIN_ROWS, ROWS], few compiles
MIN_SIZES = (16, 4, 2, 8)  # items, ladder positions, families, switch slots: small
# instances share one compiled function


def row_sizes(tb) -> tuple[int, int, int, int]:
    """The padded sizes (items, ladder width, families, switch slots) of ``tb``'s rows."""
    return (bucket(tb.reward.shape[0], MIN_SIZES[0]), bucket(tb.reward.shape[1], MIN_SIZES[1]),
            bucket(tb.switch.shape[0], MIN_SIZES[2]), bucket(tb.floor.shape[0] + 1, MIN_SIZES[3]))


def stack_rows(tbs: Sequence, owners, patterns, budgets, warm=None) -> Row:
    """Rows for ``patterns[r]`` of instance ``tbs[owners[r]]`` (``moqlab.heuristics._pattern.Tables``)
    at ``budgets[r]``, padded to common power-of-two sizes, and the rows to a power of two
    between ``MIN_ROWS`` and ``ROWS`` (padding rows repeat the last one). ``warm[r]``: ``None`` (a cold start: ``lam`` = the
    median first-line reward-to-cost ratio, ``mu = 0``) or the ``(lam, mu)`` of a priced
    neighbour, whose step sizes then continue from ``ITERATIONS``."""
    owners = np.asarray(owners, dtype=np.int64)
    n_rows = owners.shape[0]
    warm = [None] * n_rows if warm is None else list(warm)
    items, width, fams, slots = np.max([row_sizes(tb) for tb in tbs], axis=0).tolist()
    dummy = slots - 1

    def widen(table):
        out = np.zeros((items, width))
        n, w = table.shape
        out[:n, :w] = table
        out[:n, w:] = table[:, -1:]  # past an item's ladder its totals stay constant
        return out

    per = {}
    for o in np.unique(owners):
        tb = tbs[o]
        n = tb.reward.shape[0]
        contrib = np.zeros((fams, items, width))
        switch = np.full((fams, items), dummy, np.int64)
        for k in range(tb.switch.shape[0]):
            contrib[k] = widen(tb.contrib[k])
            switch[k, :n] = np.where(tb.switch[k] >= 0, tb.switch[k], dummy)
        floor = np.zeros(slots)
        floor[:tb.floor.shape[0]] = tb.floor
        real = np.zeros(slots, bool)
        real[:tb.floor.shape[0]] = True
        tmin = np.ones(items, np.int64)
        tmin[:n] = tb.tmin
        length = np.zeros(items, np.int64)
        length[:n] = tb.length
        first = tb.cost[:, 1] > 0 if tb.cost.shape[1] > 1 else np.zeros(n, bool)
        lam0 = float(np.median(tb.reward[first, 1] / tb.cost[first, 1])) if first.any() else 1.0
        per[o] = (widen(tb.reward), widen(tb.cost), contrib, switch, floor, real, tmin, length,
                  np.float64(tb.free), max(lam0, 1e-9))
    total = bucket(n_rows, MIN_ROWS) if n_rows <= ROWS else ROWS * -(-n_rows // ROWS)
    index = np.r_[np.arange(n_rows), np.full(total - n_rows, n_rows - 1)]
    pattern = np.zeros((total, slots), bool)
    lam = np.zeros(total)
    mu = np.zeros((total, slots))
    start = np.zeros(total)
    for r, source in enumerate(index):
        p = np.asarray(patterns[source], dtype=bool)
        pattern[r, :p.shape[0]] = p
        if warm[source] is None:
            lam[r] = per[owners[source]][9]
        else:
            lam[r], m = warm[source]
            mu[r, :len(m) - 1] = m[:len(m) - 1]  # the parent's own dummy slot is dropped
            start[r] = ITERATIONS
    pattern[:, dummy] = True
    fields = [np.stack([per[o][f] for o in owners[index]]) for f in range(9)]
    budget = np.asarray(budgets, dtype=np.float64)[index]
    return Row(*fields, budget=budget, pattern=pattern, lam=lam, mu=mu, start=start)
