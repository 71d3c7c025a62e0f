"""The Lagrangian engine of ``search``: price, repair, improve (pure JAX, one instance).

Every function here takes one :class:`moqlab.core._layout.Layout` (an order ``t`` is the
prefix length of every item) and is batched by the caller with ``jax.vmap``.

**Price.** For a budget price ``lam >= 0`` each item independently takes the allowed prefix
maximising its *priced profit* ``P_i(t) = R_i(t) - lam C_i(t)`` (per-SKU minimums are already
folded into the allowed prefixes). With every MOQ ignored this is the Lagrangian relaxation
of the budget: its order is optimal for its own cost.

**Repair.** While an open group is below its threshold (the family with the fewest groups
first), every short group of that family (they are disjoint, so all at once) either *raises*
its members, repeatedly taking the prefix extension with the least priced loss per unit of
deficit covered, ``(P_i(t_i) - P_i(t')) / min(Q_i(t') - Q_i(t_i), deficit)``, or *closes*
(every member to 0, the group barred), whichever loses less priced profit. Closing can
leave a group of another family short, so the loop runs until no open group is short; a
last pass closes whatever is still short, so a repaired order always meets every MOQ.
``lam`` is bisected to the smallest price whose repaired order fits the budget.

**Improve.** Orders priced at ``lam* x spread`` are *shed* back into the budget (the move
with the least reward lost per unit of cost saved, among: an item down one allowed step, an
item to 0, a whole group closed; each keeping every other group empty or at its MOQ) and
*filled* (the raise with the best reward per unit of cost that fits and keeps every group
valid). Item steps are taken up to ``SHED_BATCH`` at a time, best first: in a shed, one per
group where their sum would break its MOQ, and no more than the excess over the budget; in
a fill, while their extra cost fits together (a stock order of 13,651 lines: engine 6.4 s
-> 0.8 s, same reward). The best goes through a *group search*: each multi-item group in turn is closed (and
the order repaired and filled) if open, or opened (its members at their priced prefix, the
groups it meets unbarred, repaired without closing it, shed, filled) if closed; a flip is
kept when it raises the reward.

Rewards, costs and contributions are compared with the verifier's relative tolerance
(:mod:`moqlab.core._kernel`); the caller still verifies every answer on the host.

Example::

    >>> import jax, moqlab
    >>> from moqlab.core._layout import prefix_layout
    >>> from moqlab.core._precision import float64
    >>> inst = moqlab.Instance.from_arrays(  # x alone misses the MOQ of 2 units
    ...     ["x", "y", "z"], [5.0, 3.0, 2.0], [3.0, 2.0, 1.0],
    ...     families=[(["s", "s", "s"], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0])])
    >>> lay = prefix_layout(inst, budget=4.0)
    >>> none = jax.numpy.zeros(lay.floor.shape, bool)
    >>> take, closed, ok, lam = float64(jax.jit(solve_pattern))(lay, none, none)
    >>> take[:3].tolist(), bool(ok)
    ([1, 0, 1], True)

The whole engine (these steps, the patterns, the group search and the climb) is
:func:`moqlab.heuristics._engine.engine`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ..core._kernel import allowance

SPREAD = (1.0, 0.97, 0.93, 0.88, 0.8, 0.72, 0.65, 0.55, 0.45, 0.3, 0.15, 0.0)  # times lam*
BISECTIONS = 30
GROUP_PASSES = 2
GROUP_WORK = 1 << 27  # group flips times layout cells [I W]: the group search's work cap
REPAIR_ROUNDS = 64  # family rounds of a repair before the closing pass
CLOSINGS = 8  # group closings a shed step evaluates with their repair cascade
PATTERN_GROUPS = 6  # orders with at most this many coarse groups get the pattern stage
EXCHANGE_MOVES = 64  # pair moves of the exchange step (small orders)
EXCHANGE_CELLS = 1024  # the exchange step runs on layouts of at most this many cells [I W]
SHED_BATCH = 32  # item steps a shed or fill iteration may take together
SHED_STEPS = 24  # closing evaluations a shed may make
SHED_PACE = 2.0  # a shed stops once its steps left, at this many times its pace, cannot fit


# ------------------------------------------------------------------ lookups and totals


def _at(table, t):
    """``table[..., i, t[i]]`` for every item ``i``."""
    index = jnp.broadcast_to(t[:, None], table.shape[:-1] + (1,))
    return jnp.take_along_axis(table, index, axis=-1)[..., 0]


def per_group(values, group, n_groups):
    """``[K, I]`` item values summed per group of each family: ``[K, G]``."""
    return jax.vmap(lambda v, g: jax.ops.segment_sum(v, g, n_groups))(values, group)


def group_state(lay, t):
    """Contribution total and member count of every group, and which are short."""
    n_groups = lay.floor.shape[1]
    total = per_group(_at(lay.contrib, t), lay.group, n_groups)
    taken = jnp.broadcast_to((t > 0).astype(jnp.int32), lay.group.shape)
    count = per_group(taken, lay.group, n_groups)
    return total, count, (count > 0) & (total < lay.floor)


def barred(lay, closed):
    """Items of a closed group (``closed``: ``[K, G]``)."""
    return jnp.take_along_axis(closed, lay.group, axis=1).any(axis=0)


def totals(lay, t):
    """Reward and cost of order ``t``."""
    return _at(lay.reward, t).sum(), _at(lay.cost, t).sum()


def coarse_order(lay):
    """Families by number of groups with a threshold, fewest first."""
    return jnp.argsort((lay.floor > 0).sum(axis=1), stable=True)


def priced(lay, lam):
    """Priced profit ``R - lam C`` of every allowed prefix (``-inf`` elsewhere)."""
    return jnp.where(lay.allowed, lay.reward - lam * lay.cost, -jnp.inf)


def choose(profit, bar):
    """Every item's best prefix (0 for barred items)."""
    return jnp.where(bar, 0, jnp.argmax(profit, axis=1))


def fits_budget(lay, cost):
    return cost <= lay.budget + allowance(lay.budget)


# ------------------------------------------------------------------ repair


def _raise_plan(lay, profit, t, bar, k, short):
    """Raise the members of every ``short`` group of family ``k`` (see the module
    docstring). Returns the raised order, each group's priced loss and whether its deficit
    was covered."""
    n_items, width = profit.shape
    n_groups = lay.floor.shape[1]
    group = lay.group[k]
    contrib = lay.contrib[k]
    total, _, _ = group_state(lay, t)
    items = jnp.arange(n_items)
    positions = jnp.arange(width)[None, :]

    def open_deficit(state):
        _, deficit, _, alive = state
        return short & alive & (deficit > 0)

    def step(state):
        u, deficit, loss, alive = state
        needy = open_deficit(state)
        active = needy[group] & ~bar
        gain = contrib - _at(contrib, u)[:, None]
        lost = _at(profit, u)[:, None] - profit
        ok = active[:, None] & (positions > u[:, None]) & (gain > 0) & jnp.isfinite(profit)
        score = jnp.where(ok, lost / jnp.minimum(gain, deficit[group][:, None]), jnp.inf)
        best_to = jnp.argmin(score, axis=1)
        best = jnp.min(score, axis=1)
        group_best = jax.ops.segment_min(best, group, n_groups)
        first = jax.ops.segment_min(jnp.where((best == group_best[group]) & jnp.isfinite(best),
                                              items, n_items), group, n_groups)
        chosen = items == first[group]
        u = jnp.where(chosen, best_to, u)
        deficit = deficit - jax.ops.segment_sum(jnp.where(chosen, _at(gain, best_to), 0.0),
                                                group, n_groups)
        loss = loss + jax.ops.segment_sum(jnp.where(chosen, _at(lost, best_to), 0.0), group,
                                          n_groups)
        alive = alive & ~(needy & ~jnp.isfinite(group_best))
        return u, deficit, loss, alive

    start = (t, lay.floor[k] - total[k], jnp.zeros(n_groups), jnp.ones(n_groups, bool))
    u, deficit, loss, alive = lax.while_loop(lambda s: open_deficit(s).any(), step, start)
    return u, loss, alive & (deficit <= 0)


def repair(lay, profit, t, closed, protect):
    """Make every open group meet its MOQ by raising or closing (module docstring).
    ``protect`` (``[K, G]``): groups that may only be raised, and are raised from empty when
    no member is in the order. Returns ``(t, closed, ok)``; ``ok`` is False when a
    protected group had to close."""
    order = coarse_order(lay)

    def due(t):  # short groups, and the protected groups still empty
        _, count, short = group_state(lay, t)
        return short | (protect & (count == 0))

    def needs(state):
        t, _, _, rounds = state
        return due(t).any() & (rounds < REPAIR_ROUNDS)

    def round_(state):
        t, closed, ok, rounds = state
        short = due(t)
        k = order[jnp.argmax(short[order].any(axis=1))]
        bar = barred(lay, closed)
        u, loss, covered = _raise_plan(lay, profit, t, bar, k, short[k])
        held = jax.ops.segment_sum(jnp.where(t > 0, _at(profit, t), 0.0), lay.group[k],
                                   lay.floor.shape[1])
        lift = short[k] & covered & ((loss < held) | protect[k])
        shut = short[k] & ~lift
        t = jnp.where(lift[lay.group[k]], u, t)
        closed = closed.at[k].set(closed[k] | shut)
        t = jnp.where(barred(lay, closed), 0, t)
        return t, closed, ok & ~(shut & protect[k]).any(), rounds + 1

    t, closed, ok, _ = lax.while_loop(needs, round_, (t, closed, jnp.array(True), 0))

    def shut_all(state):
        t, closed, ok = state
        short = group_state(lay, t)[2]
        closed = closed | short
        return jnp.where(barred(lay, closed), 0, t), closed, ok & ~(short & protect).any()

    t, closed, ok = lax.while_loop(lambda s: group_state(lay, s[0])[2].any(), shut_all,
                                   (t, closed, ok))
    return t, closed, ok & ~(protect & (group_state(lay, t)[1] == 0)).any()


def build(lay, lam, closed, protect):
    """The repaired priced order at ``lam`` (groups in ``closed`` stay shut, groups in
    ``protect`` may only be raised): ``(t, closed, ok)``."""
    profit = priced(lay, lam)
    t = choose(profit, barred(lay, closed))
    return repair(lay, profit, t, closed, protect)


def bisect_price(lay, closed, protect, halvings=BISECTIONS):
    """Smallest ``lam`` (to ``halvings`` halvings) whose repaired order fits the budget."""
    ratio = jnp.where(lay.cost > 0, lay.reward / jnp.where(lay.cost > 0, lay.cost, 1.0), 0.0)
    high = 1.01 * jnp.maximum(ratio.max(), 1e-12)

    def halve(step, bounds):
        low, high = bounds
        # step 0 tries lam = 0 (a free order needs no price); one build in the compiled loop
        mid = jnp.where(step == 0, 0.0, 0.5 * (low + high))
        fits = fits_budget(lay, totals(lay, build(lay, mid, closed, protect)[0])[1])
        return jnp.where(fits, low, mid), jnp.where(fits, mid, high)

    _, lam = lax.fori_loop(0, halvings + 1, halve, (0.0, high))
    return lam


# ------------------------------------------------------------------ shed and fill


def _keeps(lay, total, count, t, to):
    """Would moving each item ``i`` from ``t[i]`` to ``to[i]`` lines keep its groups
    empty or at their MOQ? (``[I]``)"""
    g_total = jnp.take_along_axis(total, lay.group, axis=1)
    g_count = jnp.take_along_axis(count, lay.group, axis=1)
    floor = jnp.take_along_axis(lay.floor, lay.group, axis=1)
    after = g_total - _at(lay.contrib, t) + _at(lay.contrib, to)
    members = g_count - (t > 0) + (to > 0)
    return ((floor <= 0) | (members == 0) | (after >= floor)).all(axis=0)


def _cheapest_groups(lay, t, protect, n):
    """The ``n`` open groups (flat ``k * G + g``) whose members hold the least reward per
    unit of cost, and whether each can be closed at all (open, with a threshold, not
    protected, holding some cost)."""
    n_fams, n_groups = lay.floor.shape
    _, count, _ = group_state(lay, t)
    held = [jnp.broadcast_to(_at(table, t), lay.group.shape) for table in (lay.reward, lay.cost)]
    lost, saved = (per_group(values, lay.group, n_groups).reshape(-1) for values in held)
    usable = ((count > 0) & (lay.floor > 0) & ~protect).reshape(-1) & (saved > 0)
    own = jnp.where(usable, lost / jnp.where(usable, saved, 1.0), jnp.inf)
    _, picked = lax.top_k(-own, min(n, n_fams * n_groups))
    return picked, usable[picked]


def _close_repaired(lay, profit, t, closed, protect, flat):
    """``t`` with group ``flat = k * G + g`` closed and the order repaired at ``profit``."""
    k, g = jnp.divmod(flat, lay.floor.shape[1])
    shut = closed.at[k, g].set(True)
    return repair(lay, profit, jnp.where(barred(lay, shut), 0, t), shut, protect)


def _closing_outcomes(lay, profit, t, closed, protect):
    """The ``CLOSINGS`` cheapest open groups (:func:`_cheapest_groups`), each closed in turn
    with its repair cascade: reward lost per unit of cost saved (``inf`` where it is not
    possible or saves nothing), and the resulting orders and closures."""
    reward, cost = totals(lay, t)
    picked, usable = _cheapest_groups(lay, t, protect, CLOSINGS)
    us, shuts, oks = jax.vmap(lambda f: _close_repaired(lay, profit, t, closed, protect, f))(
        picked)
    rewards, costs = jax.vmap(lambda u: totals(lay, u))(us)
    saved = cost - costs
    usable = oks & usable & (saved > allowance(cost))
    # a saving beyond the excess over the budget is worth nothing: it would only be filled
    useful = jnp.minimum(saved, jnp.maximum(cost - lay.budget, allowance(cost)))
    ratio = jnp.where(usable, (reward - rewards) / jnp.where(usable, useful, 1.0), jnp.inf)
    return ratio, us, shuts


def _shed_items(lay, t, protect, limit):
    """Item steps down (one allowed step, or to 0) keeping every group empty or at its
    MOQ, least reward lost per unit of cost saved first, while over budget and the best
    step's ratio is at most ``limit``. Up to ``SHED_BATCH`` steps are taken at once: the
    best ones, one per group where their sum would break the group's MOQ (or empty a
    protected group), and no more than the excess over the budget."""
    width = lay.reward.shape[1]
    n_groups = lay.floor.shape[1]
    positions = jnp.arange(width)[None, :]

    def best_steps(t):  # every item's best step down: ratio and target length
        total, count, _ = group_state(lay, t)
        below = lay.allowed & (positions < t[:, None])
        prev = jnp.max(jnp.where(below, positions, -1), axis=1)
        alone = (jnp.take_along_axis(protect, lay.group, axis=1)
                 & (jnp.take_along_axis(count, lay.group, axis=1) == 1)).any(axis=0)
        best_ratio, best_to = jnp.full(t.shape, jnp.inf), t
        for to in (jnp.maximum(prev, 0), jnp.zeros_like(t)):
            saved = _at(lay.cost, t) - _at(lay.cost, to)
            lost = _at(lay.reward, t) - _at(lay.reward, to)
            ok = (prev >= 0) & (saved > 0) & _keeps(lay, total, count, t, to)
            ok = ok & ~((to == 0) & alone)
            ratio = jnp.where(ok, lost / jnp.where(ok, saved, 1.0), jnp.inf)
            better = ratio < best_ratio
            best_ratio = jnp.where(better, ratio, best_ratio)
            best_to = jnp.where(better, to, best_to)
        return best_ratio, best_to

    def batch(t, ratio, to):
        """The steps taken together (``[I]`` bool)."""
        n = min(SHED_BATCH, t.shape[0])
        top_ratio, top = lax.top_k(-ratio, n)
        picked = jnp.zeros(t.shape, bool).at[top].set(jnp.isfinite(top_ratio)
                                                      & (-top_ratio <= limit))
        total, count, _ = group_state(lay, t)
        drop = _at(lay.contrib, t) - _at(lay.contrib, to)  # [K, I]
        leaves = ((t > 0) & (to == 0)).astype(jnp.int32)
        rank = jnp.zeros(t.shape, jnp.int32).at[top].set(jnp.arange(n, dtype=jnp.int32))
        keep = picked
        for k in range(lay.floor.shape[0]):
            grp = lay.group[k]
            after = total[k] - jax.ops.segment_sum(jnp.where(picked, drop[k], 0.0), grp, n_groups)
            members = count[k] - jax.ops.segment_sum(jnp.where(picked, leaves, 0), grp, n_groups)
            fine = ((lay.floor[k] <= 0) | (members == 0) | (after >= lay.floor[k])) \
                & ~(protect[k] & (members == 0))
            first = jax.ops.segment_min(jnp.where(picked, rank, n), grp, n_groups)
            keep = keep & (fine[grp] | (rank == first[grp]))
        # no more than the excess (the best step always): past it the order would be under
        # the budget by more than a single step, and later steps are the worse ones
        saved = jnp.where(keep, _at(lay.cost, t) - _at(lay.cost, to), 0.0)
        before = jnp.zeros(t.shape).at[top].set(jnp.cumsum(saved[top]) - saved[top])
        excess = totals(lay, t)[1] - lay.budget
        return keep & ((before < excess) | (rank == 0))

    def going(state):
        t, ratio, _ = state
        best = ratio.min()
        return ~fits_budget(lay, totals(lay, t)[1]) & (best <= limit) & jnp.isfinite(best)

    def step(state):
        t, ratio, to = state
        t = jnp.where(batch(t, ratio, to), to, t)
        return (t, *best_steps(t))

    return lax.while_loop(going, step, (t, *best_steps(t)))[0]


def shed(lay, profit, t, closed, protect):
    """Lower the order into the budget (module docstring): item steps while they lose less
    reward per unit of cost than the best group closing (with its repair cascade), then
    that closing; ``ok`` is False when nothing is left to shed, or when ``SHED_STEPS``
    closing evaluations did not bring the order into the budget, or once the steps left
    could not at ``SHED_PACE`` times the pace so far (an order that far over it is a poor
    candidate, and each evaluation repairs ``CLOSINGS`` orders).
    ``protect``: groups that must stay open."""

    start_cost = totals(lay, t)[1]

    def over(state):
        t, _, stuck, steps = state
        cost = totals(lay, t)[1]
        # even at SHED_PACE times the pace of its steps so far, the steps left would not
        # shed the excess: a hopeless candidate (stock-i1000-merchant-t1.0: 9 of the 12
        # prices of a pattern solve), dropped early
        pace = (start_cost - cost) / jnp.maximum(steps, 1)
        hopeless = (steps >= 2) & (SHED_PACE * pace * (SHED_STEPS - steps)
                                   < cost - lay.budget)
        return ~fits_budget(lay, cost) & ~stuck & (steps < SHED_STEPS) & ~hopeless

    def step(state):
        t, closed, _, steps = state
        # one closing evaluation per step (each holds a repair: compile time): items are
        # shed while they beat the best closing; when none does, that closing is taken
        ratio, us, shuts = _closing_outcomes(lay, profit, t, closed, protect)
        best = jnp.argmin(ratio)
        # with no closing possible (an infinite best ratio) items are shed whatever their
        # ratio: the same call
        moved = _shed_items(lay, t, protect, ratio[best])
        close = (moved == t).all() & jnp.isfinite(ratio[best])
        stuck = ~close & (moved == t).all()
        t = jnp.where(close, us[best], moved)
        closed = jnp.where(close, shuts[best], closed)
        return t, closed, stuck, steps + 1

    t, closed, stuck, _ = lax.while_loop(over, step, (t, closed, jnp.array(False), 0))
    return t, closed, ~stuck & fits_budget(lay, totals(lay, t)[1])


def fill(lay, t, closed):
    """Raise items by best reward per unit of cost while it fits and keeps every group
    valid (an item of an empty group may only open it at its MOQ); up to ``SHED_BATCH``
    items a step, the best first, while their extra cost fits."""
    width = lay.reward.shape[1]
    positions = jnp.arange(width)[None, :]
    bar = barred(lay, closed)

    def candidates(t):
        total, count, _ = group_state(lay, t)
        room = lay.budget + allowance(lay.budget) - totals(lay, t)[1]
        gain = lay.reward - _at(lay.reward, t)[:, None]
        extra = lay.cost - _at(lay.cost, t)[:, None]
        ok = lay.allowed & (positions > t[:, None]) & ~bar[:, None] & (gain > 0) & (extra <= room)
        g_count = jnp.take_along_axis(count, lay.group, axis=1)
        floor = jnp.take_along_axis(lay.floor, lay.group, axis=1)
        opens = ((floor <= 0)[..., None] | (g_count > 0)[..., None]
                 | (lay.contrib >= floor[..., None])).all(axis=0)
        ok = ok & ((t > 0)[:, None] | opens)
        return jnp.where(ok, jnp.where(extra > 0, gain / jnp.where(extra > 0, extra, 1.0),
                                       jnp.inf), -jnp.inf)

    def step(state):
        # up to SHED_BATCH raises at once, each item's best, best first, while their extra
        # cost fits together (raises never break an MOQ, and each one opening a group
        # reaches its MOQ alone)
        t, score = state
        n = min(SHED_BATCH, t.shape[0])
        best_to = jnp.argmax(score, axis=1)
        top_score, top = lax.top_k(jnp.max(score, axis=1), n)
        extra = jnp.where(top_score > -jnp.inf, _at(lay.cost, best_to)[top] - _at(lay.cost, t)[top], 0.0)
        room = lay.budget + allowance(lay.budget) - totals(lay, t)[1]
        take = (top_score > -jnp.inf) & ((jnp.cumsum(extra) <= room) | (jnp.arange(n) == 0))
        t = t.at[top].set(jnp.where(take, best_to[top], t[top]))
        return t, candidates(t)

    t, _ = lax.while_loop(lambda s: (s[1] > -jnp.inf).any(), step, (t, candidates(t)))
    return t


def settle(lay, profit, t, closed, protect):
    """``t`` repaired, shed into the budget and filled at ``profit``: ``(t, closed, ok)``."""
    t, closed, built = repair(lay, profit, t, closed, protect)
    t, closed, ok = shed(lay, profit, t, closed, protect)
    return fill(lay, t, closed), closed, built & ok


def best_valid(lay, takes, oks):
    """Among candidate orders ``takes`` (``[M, I]``), the index of the most rewarding valid
    one (``oks``, within the budget, no group short) and the validity of each."""
    rewards, costs = jax.vmap(lambda t: totals(lay, t))(takes)
    valid = oks & fits_budget(lay, costs) & ~jax.vmap(lambda t: group_state(lay, t)[2].any())(takes)
    return jnp.argmax(jnp.where(valid, rewards, -jnp.inf)), valid


def solve_pattern(lay, closed, protect, spread=SPREAD):
    """The best settled order (:func:`settle` of each item's priced prefix) at prices
    ``lam* x spread``, ``lam*`` bisected with ``closed`` and ``protect`` held:
    ``(t, closed, ok, lam)``."""
    return price_and_flip(lay, closed, protect, spread, flips=False)


def price_and_flip(lay, closed, protect, spread=SPREAD, flips=True):
    """:func:`solve_pattern`, then (``flips``) the group search from its best order at its
    price (module docstring; visits and work cap: :func:`_flip_slots`), in one loop: each
    step settles one order (the priced prefixes at the next price of the spread, or a flip
    of one group, :func:`_flip_start`), so the repair, shed and fill are compiled once for
    both (two copies cost about 3.5 s of the engine's compile on a medium order). A flip is
    kept when its order is valid and raises the reward. ``(t, closed, ok, lam)``: ``ok`` is
    the spread's best order's."""
    n_groups = lay.floor.shape[1]
    lams = bisect_price(lay, closed, protect) * jnp.asarray(spread)
    n_prices = lams.shape[0]
    slots, n_slots, max_flips = _flip_slots(lay)
    n_flips = jnp.minimum(GROUP_PASSES * n_slots, max_flips) if flips else 0

    def going(state):
        s, since = state[0], state[1]
        return (s < n_prices) | ((s - n_prices < n_flips) & (since < n_slots))

    def step(state):
        s, since, t, shut, ok, reward, lam = state
        pricing = s < n_prices
        k, g = jnp.divmod(slots[jnp.maximum(s - n_prices, 0) % n_slots], n_groups)
        price = jnp.where(pricing, lams[jnp.minimum(s, n_prices - 1)], lam)
        profit = priced(lay, price)
        f_start, f_closed, f_protect, opening = _flip_start(lay, profit, t, shut, k, g)
        start = jnp.where(pricing, choose(profit, barred(lay, closed)), f_start)
        u, u_shut, u_ok = settle(lay, profit, start, jnp.where(pricing, closed, f_closed),
                                 jnp.where(pricing, protect, f_protect))
        u_reward, u_cost = totals(lay, u)
        valid = fits_budget(lay, u_cost) & ~group_state(lay, u)[2].any()
        # the spread keeps its first most rewarding valid order (its first order when none
        # is valid); a flip is kept when it is valid and raises the reward
        spread_better = (s == 0) | (u_ok & valid & (u_reward > reward))
        flip_ok = ~opening | (u_ok & (group_state(lay, u)[1][k, g] > 0))
        t_reward = totals(lay, t)[0]
        flip_better = flip_ok & valid & (u_reward > t_reward + allowance(t_reward))
        better = jnp.where(pricing, spread_better, flip_better)
        kept_reward = jnp.where(pricing & better, jnp.where(u_ok & valid, u_reward, -jnp.inf),
                                reward)
        return (s + 1, jnp.where(pricing, 0, jnp.where(better, 0, since + 1)),
                jnp.where(better, u, t), jnp.where(better, u_shut, shut),
                jnp.where(pricing & better, u_ok & valid, ok), kept_reward,
                jnp.where(pricing & better, price, lam))

    t0 = jnp.zeros_like(choose(lay.reward, barred(lay, closed)))
    state = (0, 0, t0, closed, jnp.array(False), -jnp.inf, lams[0])
    _, _, t, shut, ok, _, lam = lax.while_loop(going, step, state)
    return t, shut, ok, lam


# ------------------------------------------------------------------ group search


def _flip_slots(lay):
    """The group search's order of visits (flat ``k * G + g``, coarsest family first), the
    number of groups with an MOQ, and the flips its work cap allows: up to
    ``GROUP_PASSES`` passes, until a whole pass's worth of flips in a row gains nothing, and
    at most ``GROUP_WORK / (I W)`` flips (a flip repairs, sheds and fills the whole order, so
    on an order of 1,000,000 lines, 7,000 groups, two passes would take the better part of
    an hour; the orders of the suite, up to 65,536 cells, are never capped)."""
    n_fams, n_groups = lay.floor.shape
    ranked = jnp.argsort(jnp.argsort(coarse_order(lay)))  # rank of each family
    key = jnp.where(lay.floor > 0, ranked[:, None] * n_groups + jnp.arange(n_groups), -1)
    slots = jnp.argsort(jnp.where(key >= 0, key, n_fams * n_groups).reshape(-1))
    return slots, (lay.floor > 0).sum(), max(1, GROUP_WORK // lay.reward.size)


def _flip_start(lay, profit, t, closed, k, g):
    """The start of a flip of group ``(k, g)``: closed if open, or opened (its members at
    their priced prefix, the groups it meets unbarred) if not: ``(start, closed, protect,
    opening)``, to be repaired (without closing it), shed and filled."""
    _, count, _ = group_state(lay, t)
    members = lay.group[k] == g
    opening = count[k, g] == 0
    met = jax.vmap(lambda grp: jax.ops.segment_max(members.astype(jnp.int32), grp,
                                                   lay.floor.shape[1]) > 0)(lay.group)
    unbarred = closed & ~met
    opened = jnp.where(members, jnp.maximum(t, choose(profit, barred(lay, unbarred))), t)
    shut = closed.at[k, g].set(True)
    start = jnp.where(opening, opened, jnp.where(barred(lay, shut), 0, t))
    protect = jnp.zeros_like(closed).at[k, g].set(opening)
    return start, jnp.where(opening, unbarred, shut), protect, opening


def exchange(lay, t, closed, max_moves=EXCHANGE_MOVES):
    """Best-improvement pair moves: one item to any allowed prefix and another to any
    allowed prefix (either may stay), kept when the reward rises, the budget holds and
    every group stays empty or at its MOQ. ``[I W]^2`` pairs a step: small orders only."""
    n_items, width = lay.reward.shape
    bar = barred(lay, closed)
    item = jnp.repeat(jnp.arange(n_items), width)
    to = jnp.tile(jnp.arange(width), n_items)
    move_ok = lay.allowed.reshape(-1) & ~(bar[item] & (to > 0))
    same = item[:, None] == item[None, :]

    def best_pair(t):
        total, count, _ = group_state(lay, t)
        d_reward = (lay.reward - _at(lay.reward, t)[:, None]).reshape(-1)
        d_cost = (lay.cost - _at(lay.cost, t)[:, None]).reshape(-1)
        d_contrib = (lay.contrib - _at(lay.contrib, t)[..., None]).reshape(lay.floor.shape[0], -1)
        d_count = ((to > 0).astype(jnp.int32) - (t[item] > 0)).astype(jnp.int32)
        gain = d_reward[:, None] + d_reward[None, :]
        room = lay.budget + allowance(lay.budget) - totals(lay, t)[1]
        ok = move_ok[:, None] & move_ok[None, :] & ~same & (d_cost[:, None] + d_cost[None, :] <= room)
        for k in range(lay.floor.shape[0]):
            g = lay.group[k][item]
            together = g[:, None] == g[None, :]
            new_a = (total[k][g][:, None] + d_contrib[k][:, None]
                     + jnp.where(together, d_contrib[k][None, :], 0.0))
            cnt_a = (count[k][g][:, None] + d_count[:, None]
                     + jnp.where(together, d_count[None, :], 0))
            new_b = (total[k][g][None, :] + d_contrib[k][None, :]
                     + jnp.where(together, d_contrib[k][:, None], 0.0))
            cnt_b = (count[k][g][None, :] + d_count[None, :]
                     + jnp.where(together, d_count[:, None], 0))
            floor_a, floor_b = lay.floor[k][g][:, None], lay.floor[k][g][None, :]
            ok = ok & ((floor_a <= 0) | (cnt_a == 0) | (new_a >= floor_a))
            ok = ok & ((floor_b <= 0) | (cnt_b == 0) | (new_b >= floor_b))
        reward = totals(lay, t)[0]
        score = jnp.where(ok & (gain > allowance(reward) + 1e-12), gain, -jnp.inf)
        flat = jnp.argmax(score)
        return score.reshape(-1)[flat], flat

    def step(state):
        t, _, flat, n = state
        a, b = jnp.divmod(flat, n_items * width)
        t = t.at[item[a]].set(to[a]).at[item[b]].set(to[b])
        return (t, *best_pair(t), n + 1)

    start = (t, *best_pair(t), 0)
    t, _, _, _ = lax.while_loop(lambda s: (s[1] > -jnp.inf) & (s[3] < max_moves), step, start)
    return t


def patterns_of(lay, n_bits):
    """The pattern rows the engine solves. Row 0 holds nothing (the plain priced solve).
    The families are taken coarsest first (:func:`coarse_order`) while their multi-item
    groups number at most ``n_bits`` in all; rows ``1..2^n`` open exactly the groups of one
    subset of those (protected) and close the others of them; groups of the families left
    out are free. Returns ``(closed, protect, distinct)``, each ``[P, ...]``; ``distinct``
    is False for the repeats an order with fewer such groups makes."""
    n_fams, n_groups = lay.floor.shape
    none = jnp.zeros((1, n_fams, n_groups), bool)
    n_bits = min(n_bits, n_fams * n_groups)
    if not n_bits:
        return none, none, jnp.ones(1, bool)
    real = lay.floor > 0
    order = coarse_order(lay)
    rank = jnp.argsort(order)
    covered = (jnp.cumsum(real.sum(axis=1)[order]) <= n_bits)[rank]  # per family
    key = jnp.where(real & covered[:, None], rank[:, None] * n_groups + jnp.arange(n_groups),
                    n_fams * n_groups)
    slots = jnp.argsort(key.reshape(-1), stable=True)[:n_bits]
    usable = key.reshape(-1)[slots] < n_fams * n_groups
    bits = ((jnp.arange(2 ** n_bits)[:, None] >> jnp.arange(n_bits)[None, :]) & 1) > 0
    opened = jnp.zeros((bits.shape[0], n_fams * n_groups), bool)
    opened = jax.vmap(lambda row, bit: row.at[slots].set(bit & usable))(opened, bits)
    closed = (real & covered[:, None]).reshape(-1)[None, :] & ~opened
    distinct = jnp.r_[True, ~(bits & ~usable[None, :]).any(axis=1)]
    shape = (-1, n_fams, n_groups)
    return (jnp.concatenate([none, closed.reshape(shape)]),
            jnp.concatenate([none, opened.reshape(shape)]), distinct)


def may_fit(lay, protect):
    """Can the groups opened by each pattern (``protect``: ``[P, K, G]``) fit the budget
    together? A lower bound on the cost of opening group ``g`` is its threshold times the
    least cost per unit of contribution of any member prefix; the groups of one family
    are disjoint, so their bounds add up."""
    per_unit = jnp.where(lay.contrib > 0, lay.cost[None] / jnp.where(lay.contrib > 0,
                                                                     lay.contrib, 1.0), jnp.inf)
    cheapest = jax.vmap(lambda unit, grp: jax.ops.segment_min(unit.min(axis=1), grp,
                                                              lay.floor.shape[1]))(
        per_unit, lay.group)
    least = jnp.where(lay.floor > 0, lay.floor * cheapest, 0.0)
    need = jnp.where(protect, least[None], 0.0).sum(axis=2).max(axis=1)
    return fits_budget(lay, need)
