"""A certified upper bound on the optimal reward of a budget-mode order, in JAX, batched.

Notation (the prefix layout of :mod:`moqlab.core._layout`): item ``i`` takes ``t`` lines,
``R[i, t]``, ``C[i, t]`` its reward and cost, ``Q[k, i, t]`` its contribution to its group
``g = group[k, i]`` of the multi-item MOQ family ``k``, ``m[k, g]`` that group's threshold;
per-SKU minimums are folded into the allowed prefixes ``A[i]``. The problem is

    max  sum_i R[i, t_i]   over t_i in A[i]
    s.t. sum_i C[i, t_i] <= B
         sum_{i in g} Q[k, i, t_i] >= m[k, g] * y[k, g],   y[k, g] = max_{i in g} [t_i > 0].

**The dual function.** Price the budget with ``lam >= 0`` and each MOQ row with
``mu[k, g] >= 0``; split each ``mu[k, g]`` over the group's members, ``nu[k, i] >= 0`` with
``sum_{i in g} nu[k, i] = mu[k, g]``. For every valid order (``sum_i nu[k, i] [t_i > 0] <=
mu[k, g] y[k, g]`` because the split sums to ``mu``)

    sum_i R[i, t_i] <= lam B + sum_k,g mu[k, g] (sum_{i in g} Q[k, i, t_i] - m[k, g] y[k, g])
                       + sum_i (R[i, t_i] - lam C[i, t_i])
                    <= lam B + sum_i max_{t in A[i]} ( R[i, t] - lam C[i, t]
                                                     + sum_k mu[k, group[k, i]] Q[k, i, t]
                                                     - [t > 0] sum_k m[k, group[k, i]] nu[k, i] )
                    =: L(lam, nu).

So ``L(lam, nu)`` is an upper bound on the optimum for **every** ``lam >= 0, nu >= 0``
(weak duality): no convergence is needed for the number to be valid, only for it to be
tight. Its minimum over ``(lam, nu)`` equals the LP relaxation of the MILP of
:mod:`moqlab.exact._milp` where the per-SKU minimums do not bind, and can be lower (tighter)
where they do, since each item's inner choice keeps the gaps of its ladder.

**The search.** ``lam`` starts at the budget price (bisected with ``nu = 0``); then Adam
minimises a smoothed ``L`` (``max`` replaced by ``tau * logsumexp(./tau)``, an upper bound of
the max, ``tau`` annealed from 1 % to 0.01 % of the largest item reward) for
:data:`BOUND_STEPS` steps, and the bound is the smallest **exact** ``L`` met on the way,
re-evaluated in float64 in the instance's own units and raised by a rounding allowance
(``1e-9`` times the sum of the magnitudes of its terms), so float64 round-off cannot push it
below the optimum.

The bound is the certified half of :attr:`moqlab.Result.gap`: for any valid order of reward
``r``, the optimum lies in ``[r, bound]``.

Example::

    >>> import moqlab
    >>> from moqlab.relaxations import reward_bound
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0],
    ...     families=[(["a", "a", "b"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    >>> best = moqlab.solve(inst, budget=4, method="enumerate").reward
    >>> bound = reward_bound(inst, 4.0)
    >>> best, bound >= best, round(bound, 2)
    (4.0, True, 8.8)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..core._dense import same_shape_groups
from ..core._instance import Instance
from ..core._layout import Layout, layout_sizes, prefix_layout
from ..core._precision import float64
from ..core._sharding import shard_batch, sharded

BOUND_STEPS = 500
LEARNING_RATE = 0.3
TEMPERATURE = (1e-2, 1e-4)  # of the largest item reward, first and last step
ROUNDING = 1e-9  # relative allowance for float64 round-off in the dual value
BISECTION_STEPS = 80
PRICE_RANGE = 1e6  # the budget price is bisected in [0, PRICE_RANGE] reward per cost unit


class Multipliers(NamedTuple):
    """A dual point: the budget price ``lam`` and the split MOQ prices ``nu[k, i]``."""

    lam: jax.Array  # []
    nu: jax.Array   # [K, I]


def splittable(lay: Layout) -> jax.Array:
    """``[K, I]``: the (family, item) pairs that carry a price share: a real item in a group
    with an MOQ (padding items and items that can take no line carry none)."""
    threshold = jnp.take_along_axis(lay.floor, lay.group, axis=1)
    return (threshold > 0) & lay.allowed[:, 1:].any(axis=1)[None, :]


def priced_profit(lay: Layout, dual: Multipliers) -> jax.Array:
    """``[I, W]``: ``R - lam C + sum_k mu Q - [t > 0] sum_k m nu`` (``-inf`` where a prefix is
    not allowed), the term each item maximises in the dual function."""
    nu = jnp.where(splittable(lay), dual.nu, 0.0)
    n_groups = lay.floor.shape[1]
    mu = jax.vmap(lambda share, group: jax.ops.segment_sum(share, group, n_groups))(nu, lay.group)
    member_price = jnp.take_along_axis(mu, lay.group, axis=1)
    charge = (jnp.take_along_axis(lay.floor, lay.group, axis=1) * nu).sum(axis=0)
    started = jnp.arange(lay.reward.shape[1]) > 0
    value = (lay.reward - dual.lam * lay.cost + (member_price[:, :, None] * lay.contrib).sum(0)
             - started[None, :] * charge[:, None])
    return jnp.where(lay.allowed, value, -jnp.inf)


def dual_value(lay: Layout, dual: Multipliers) -> tuple[jax.Array, jax.Array]:
    """``L(lam, nu)`` of the module docstring and its rounding allowance (``ROUNDING`` times
    the sum of the magnitudes of its terms). ``L + allowance`` is an upper bound on the
    optimum for every ``lam >= 0, nu >= 0``."""
    best = priced_profit(lay, dual).max(axis=1)
    value = dual.lam * lay.budget + best.sum()
    allowance = ROUNDING * (jnp.abs(dual.lam * lay.budget) + jnp.abs(best).sum()
                            + jnp.abs(lay.reward).max(axis=1).sum())
    return value, allowance


def _smoothed_value(lay: Layout, dual: Multipliers, tau):
    """The smoothed dual function (``max`` replaced by ``tau * logsumexp(./tau)``, which is
    never below it) and, from the same priced profits, the exact one."""
    profit = priced_profit(lay, dual)
    exact = dual.lam * lay.budget + profit.max(axis=1).sum()
    return dual.lam * lay.budget + (tau * jax.nn.logsumexp(profit / tau, axis=1)).sum(), exact


def _budget_price(lay: Layout) -> jax.Array:
    """The smallest ``lam`` (to within a relative ``2**-BISECTION_STEPS`` of the range) at
    which the items' unpriced best prefixes fit the budget: the minimiser of ``L(., 0)``."""
    no_split = jnp.zeros_like(lay.group, dtype=lay.reward.dtype)

    def spent(lam):
        choice = priced_profit(lay, Multipliers(lam, no_split)).argmax(axis=1)
        return jnp.take_along_axis(lay.cost, choice[:, None], axis=1).sum()

    def halve(_, bracket):
        low, high = bracket
        mid = 0.5 * (low + high)
        fits = spent(mid) <= lay.budget
        return jnp.where(fits, low, mid), jnp.where(fits, mid, high)

    _, high = jax.lax.fori_loop(0, BISECTION_STEPS, halve,
                                (jnp.zeros(()), jnp.asarray(PRICE_RANGE)))
    return jnp.where(spent(0.0) <= lay.budget, 0.0, high)


def _scaled(lay: Layout):
    """The layout in units where rewards, costs and each family's contributions are O(1),
    and the units (reward, cost, contribution per family). The dual function is invariant:
    ``L`` scales with the reward unit when ``lam`` and ``nu`` are converted."""
    reward_unit = jnp.maximum(jnp.abs(lay.reward).max(), 1e-300)
    cost_unit = jnp.maximum(jnp.abs(lay.cost).max(), 1e-300)
    contrib_unit = jnp.maximum(jnp.abs(lay.contrib).max(axis=(1, 2)), 1e-300)
    scaled = lay._replace(reward=lay.reward / reward_unit, cost=lay.cost / cost_unit,
                          contrib=lay.contrib / contrib_unit[:, None, None],
                          floor=lay.floor / contrib_unit[:, None],
                          budget=lay.budget / cost_unit)
    return scaled, reward_unit, cost_unit, contrib_unit


def dual_bound(lay: Layout, steps: int = BOUND_STEPS) -> tuple[jax.Array, Multipliers]:
    """The bound of one layout (see the module docstring) and the multipliers that give it,
    in the layout's own units. A pure function of one instance: batch it with ``jax.vmap``."""
    scaled, reward_unit, cost_unit, contrib_unit = _scaled(lay)
    lam_start = _budget_price(scaled)
    params = {"lam": jnp.log(jnp.expm1(jnp.maximum(lam_start, 1e-9))),
              "nu": jnp.full(lay.group.shape, -5.0)}

    def point(p):
        return Multipliers(jax.nn.softplus(p["lam"]), jax.nn.softplus(p["nu"]))

    optimiser = optax.adam(LEARNING_RATE)
    start = Multipliers(lam_start, jnp.zeros(lay.group.shape))
    first, last = TEMPERATURE

    def step(carry, i):
        p, state, best, best_point = carry
        tau = first * (last / first) ** (i / steps)
        here = point(p)
        grads, value = jax.grad(lambda q: _smoothed_value(scaled, point(q), tau),
                                has_aux=True)(p)
        better = value < best
        best_point = jax.tree_util.tree_map(lambda new, old: jnp.where(better, new, old),
                                            here, best_point)
        updates, state = optimiser.update(grads, state, p)
        return (optax.apply_updates(p, updates), state, jnp.minimum(value, best),
                best_point), None

    begin = (params, optimiser.init(params), dual_value(scaled, start)[0], start)
    (_, _, _, best_point), _ = jax.lax.scan(step, begin, jnp.arange(steps))
    dual = Multipliers(best_point.lam * reward_unit / cost_unit,
                       best_point.nu * reward_unit / contrib_unit[:, None])
    value, allowance = dual_value(lay, dual)
    return value + allowance, dual


@float64
def reward_bounds(instances: Sequence[Instance], budgets) -> np.ndarray:
    """An upper bound on the optimal budget-mode reward of every ``(instances[n],
    budgets[n])`` (the module docstring says why it is one). Lanes of the same layout sizes
    run as one ``jax.vmap``-ed, sharded call; the bound of a lane does not depend on the
    others. ``nan`` only where the bound is not finite (a budget below every order's cost)."""
    budgets = np.broadcast_to(np.asarray(budgets, dtype=np.float64), (len(instances),))
    out = np.full(len(instances), np.nan)
    shapes = [layout_sizes(inst) for inst in instances]
    for sizes, members in same_shape_groups(shapes).items():
        bound_of = sharded(jax.vmap(lambda lay: dual_bound(lay)[0]), "reward-bound")
        lays = [prefix_layout(instances[n], budgets[n], sizes) for n in members]
        stacked, _ = shard_batch(Layout(*(np.stack(parts) for parts in zip(*lays))))
        values = np.asarray(jax.device_get(bound_of(stacked)))
        for b, n in enumerate(members):
            out[n] = values[b] if np.isfinite(values[b]) else np.nan
    return out


def reward_bound(instance: Instance, budget: float) -> float:
    """:func:`reward_bounds` of one instance."""
    return float(reward_bounds([instance], [budget])[0])
