"""The dual function of a budget-mode order and the search of its minimum (pure JAX, one
instance), shared by the certified bound (:mod:`moqlab.relaxations._bound`) and ``search``'s
pattern stage (:mod:`moqlab.heuristics._patterns`).

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

**Capacity families.** A ceiling row ``sum_{i in h} V[k, i, t_i] <= cap[k, h]`` (``V`` the
cumulative contributions ``cq``) is priced by ``rho[k, h] >= 0``: ``L`` gains
``sum_k,h rho[k, h] cap[k, h]`` and each item's term loses ``sum_k rho[k, h(i)] V[k, i, t]``;
for a valid order the added terms sum to ``rho (cap - sum V) >= 0``, so the same argument
holds. Without capacity families there is no ``rho`` and nothing changes.

So ``L(lam, nu)`` is an upper bound on the optimum for **every** ``lam >= 0, nu >= 0``
(and ``rho >= 0``) (weak duality): no convergence is needed for the number to be valid,
only for it to be tight. Its minimum over ``(lam, nu)`` equals the LP relaxation of the
MILP of :mod:`moqlab.exact._milp` where the per-SKU minimums do not bind, and can be lower
(tighter) where they do, since each item's inner choice keeps the gaps of its ladder. The
search below does not always reach that minimum: on the median medium stock order it ends
0.5 % above the LP's value (``benchmarks/bound_vs_lp.py``).

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

    >>> import jax.numpy as jnp, moqlab
    >>> from moqlab.core._layout import prefix_layout
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> lay = prefix_layout(inst, budget=2.0)
    >>> value, _ = dual_value(lay, Multipliers(jnp.asarray(1.0), jnp.zeros(lay.group.shape)))
    >>> round(float(value), 6)  # lam B + (3 - 2) + (2 - 2): at least the optimum, 3
    3.0
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._dense import bucket
from ._instance import Instance
from ._kernel import allowance, cumulative_table
from ._layout import Layout

BOUND_STEPS = 500
LEARNING_RATE = 0.3
TEMPERATURE = (1e-2, 1e-4)  # of the largest item reward, first and last step
ROUNDING = 1e-9  # relative allowance for float64 round-off in the dual value
BISECTION_STEPS = 80
PRICE_RANGE = 1e6  # the budget price is bisected in [0, PRICE_RANGE] reward per cost unit
NODE_TEMPERATURE = (1e-3, 1e-4)  # a search warm-started from a nearby point (a parent branch)


class Multipliers(NamedTuple):
    """A dual point: the budget price ``lam``, the split MOQ prices ``nu[k, i]`` and, for an
    order with capacity families, the ceiling prices ``rho[k, h]``."""

    lam: jax.Array  # []
    nu: jax.Array   # [K, I]
    rho: jax.Array | None = None  # [H, G]


class Ceilings(NamedTuple):
    """The capacity families of one instance, padded: ``volume[k, i, t]`` the cumulative
    contribution of item ``i``'s first ``t`` lines to its group ``group[k, i]`` of capacity
    family ``k``, ``cap[k, h]`` each group's ceiling plus the verifier's allowance (0 on
    padding, whose volumes are 0)."""

    volume: np.ndarray  # [H, I, W]
    group: np.ndarray   # [H, I]
    cap: np.ndarray     # [H, G]


def ceiling_sizes(instance: Instance) -> tuple[int, int]:
    """Bucketed ``(H, G)`` of :func:`ceiling_layout`; ``(0, 0)`` without capacity families."""
    if not instance.capacities:
        return (0, 0)
    groups = max(capacity.n_groups for capacity in instance.capacities)
    return bucket(len(instance.capacities), 1), bucket(groups, 1)


def ceiling_layout(instance: Instance, sizes) -> Ceilings | None:
    """The :class:`Ceilings` of ``instance`` padded like its prefix layout ``sizes``
    (``(I, W, K, G)``), or ``None`` without capacity families."""
    if not instance.capacities:
        return None
    I, W = sizes[0], sizes[1]
    H, G = ceiling_sizes(instance)
    volume, group, cap = np.zeros((H, I, W)), np.zeros((H, I), np.int32), np.zeros((H, G))
    for k, capacity in enumerate(instance.capacities):
        # a ceiling that every order meets is no row at all (its price would only add
        # rho * cap to the bound until the search drove it to 0)
        full = np.bincount(capacity.item_group[instance.line_item], weights=capacity.cq,
                           minlength=capacity.n_groups)
        binds = full > capacity.cap + allowance(capacity.cap)
        volume[k] = cumulative_table(instance, capacity.cq, W - 1, I)
        volume[k, :instance.n_items][~binds[capacity.item_group]] = 0.0
        group[k, :instance.n_items] = capacity.item_group
        cap[k, :capacity.n_groups] = np.where(binds, capacity.cap + allowance(capacity.cap),
                                              0.0)
    return Ceilings(volume, group, cap)


def _ceiling_charge(ceil: Ceilings, rho) -> jax.Array:
    """``[I, W]``: ``sum_k rho[k, h(i)] V[k, i, t]``, what each prefix pays for its volume."""
    member_price = jnp.take_along_axis(rho, ceil.group, axis=1)
    return (member_price[:, :, None] * ceil.volume).sum(0)


def splittable(lay: Layout) -> jax.Array:
    """``[K, I]``: the (family, item) pairs that carry a price share: a real item in a group
    with an MOQ (padding items and items that can take no line carry none)."""
    threshold = jnp.take_along_axis(lay.floor, lay.group, axis=1)
    return (threshold > 0) & lay.allowed[:, 1:].any(axis=1)[None, :]


def priced_profit(lay: Layout, dual: Multipliers, settled=None,
                  ceil: Ceilings | None = None) -> jax.Array:
    """``[I, W]``: ``R - lam C + sum_k mu Q - [t > 0] sum_k m nu`` (``-inf`` where a prefix is
    not allowed), the term each item maximises in the dual function. ``settled[k, i]`` marks
    the members of groups a branch has settled open: their group's threshold binds whether
    or not they take a line, so their share of ``mu m`` is paid at every ``t``, ``t = 0``
    included (:func:`branch_layout`)."""
    nu = jnp.where(splittable(lay), dual.nu, 0.0)
    n_groups = lay.floor.shape[1]
    mu = jax.vmap(lambda share, group: jax.ops.segment_sum(share, group, n_groups))(nu, lay.group)
    member_price = jnp.take_along_axis(mu, lay.group, axis=1)
    shares = jnp.take_along_axis(lay.floor, lay.group, axis=1) * nu
    settled = jnp.zeros(shares.shape, bool) if settled is None else settled
    charge = jnp.where(settled, 0.0, shares).sum(axis=0)
    fixed = jnp.where(settled, shares, 0.0).sum(axis=0)
    started = jnp.arange(lay.reward.shape[1]) > 0
    value = (lay.reward - dual.lam * lay.cost + (member_price[:, :, None] * lay.contrib).sum(0)
             - started[None, :] * charge[:, None] - fixed[:, None])
    if ceil is not None:
        value = value - _ceiling_charge(ceil, dual.rho)
    return jnp.where(lay.allowed, value, -jnp.inf)


def _ceiling_credit(dual: Multipliers, ceil: Ceilings | None):
    """``sum rho cap``, the dual function's credit for the ceilings (0 without them)."""
    return 0.0 if ceil is None else (dual.rho * ceil.cap).sum()


def dual_value(lay: Layout, dual: Multipliers, settled=None,
               ceil: Ceilings | None = None) -> tuple[jax.Array, jax.Array]:
    """``L(lam, nu, rho)`` of the module docstring and its rounding allowance (``ROUNDING``
    times the sum of the magnitudes of its terms). ``L + allowance`` is an upper bound on
    the optimum for every ``lam >= 0, nu >= 0, rho >= 0``."""
    best = priced_profit(lay, dual, settled, ceil).max(axis=1)
    credit = _ceiling_credit(dual, ceil)
    value = dual.lam * lay.budget + credit + best.sum()
    slack = ROUNDING * (jnp.abs(dual.lam * lay.budget) + jnp.abs(credit) + jnp.abs(best).sum()
                        + jnp.abs(lay.reward).max(axis=1).sum())
    return value, slack


def _smoothed_value(lay: Layout, dual: Multipliers, tau, settled, ceil=None):
    """The smoothed dual function (``max`` replaced by ``tau * logsumexp(./tau)``, which is
    never below it) and, from the same priced profits, the exact one."""
    profit = priced_profit(lay, dual, settled, ceil)
    fixed = dual.lam * lay.budget + _ceiling_credit(dual, ceil)
    exact = fixed + profit.max(axis=1).sum()
    return fixed + (tau * jax.nn.logsumexp(profit / tau, axis=1)).sum(), exact


def branch_layout(lay: Layout, state) -> tuple[Layout, jax.Array, jax.Array]:
    """The layout of a branch and its settled-open members. ``state[k, g]`` is ``-1`` (group
    closed: its members take no line), ``+1`` (open: its threshold must be met) or ``0``
    (free). Returns ``(layout, settled, possible)``; ``possible`` is false when an open
    group cannot reach its threshold even with every member at its longest allowed prefix
    (the branch holds no valid order)."""
    member_state = jnp.take_along_axis(state, lay.group, axis=1)
    threshold = jnp.take_along_axis(lay.floor, lay.group, axis=1)
    closed = ((member_state < 0) & (threshold > 0)).any(axis=0)
    first = jnp.arange(lay.reward.shape[1]) == 0
    allowed = lay.allowed & (~closed[:, None] | first[None, :])
    settled = (member_state > 0) & (threshold > 0)
    longest = jnp.where(allowed[None], lay.contrib, 0.0).max(axis=2)
    n_groups = lay.floor.shape[1]
    reach = jax.vmap(lambda c, g: jax.ops.segment_sum(c, g, n_groups))(longest, lay.group)
    possible = ~((state > 0) & (lay.floor > 0) & (reach < lay.floor)).any()
    return lay._replace(allowed=allowed), settled, possible


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
    ``L`` scales with the reward unit when ``lam`` and ``nu`` are converted (and ``rho``,
    by :func:`_scaled_ceilings`)."""
    reward_unit = jnp.maximum(jnp.abs(lay.reward).max(), 1e-300)
    cost_unit = jnp.maximum(jnp.abs(lay.cost).max(), 1e-300)
    contrib_unit = jnp.maximum(jnp.abs(lay.contrib).max(axis=(1, 2)), 1e-300)
    scaled = lay._replace(reward=lay.reward / reward_unit, cost=lay.cost / cost_unit,
                          contrib=lay.contrib / contrib_unit[:, None, None],
                          floor=lay.floor / contrib_unit[:, None],
                          budget=lay.budget / cost_unit)
    return scaled, reward_unit, cost_unit, contrib_unit


def _scaled_ceilings(ceil: Ceilings | None):
    """The ceilings with each family's volumes O(1), and those units (1 without ceilings)."""
    if ceil is None:
        return None, 1.0
    unit = jnp.maximum(jnp.abs(ceil.volume).max(axis=(1, 2)), 1e-300)
    return ceil._replace(volume=ceil.volume / unit[:, None, None],
                         cap=ceil.cap / unit[:, None]), unit


def search_begin(lay: Layout, start: Multipliers | None, settled, ceil: Ceilings | None):
    """The search's first carry: Adam's parameters and state, the best exact ``L`` so far
    and the point that gives it (in the scaled units of :func:`_scaled`)."""
    scaled, reward_unit, cost_unit, contrib_unit = _scaled(lay)
    scaled_ceil, volume_unit = _scaled_ceilings(ceil)
    if start is None:
        start = Multipliers(_budget_price(scaled), jnp.zeros(lay.group.shape),
                            None if ceil is None else jnp.zeros(ceil.cap.shape))
    else:
        start = Multipliers(start.lam * cost_unit / reward_unit,
                            start.nu * contrib_unit[:, None] / reward_unit,
                            None if ceil is None else
                            start.rho * volume_unit[:, None] / reward_unit)
    params = {"lam": jnp.log(jnp.expm1(jnp.maximum(start.lam, 1e-9))),
              "nu": jnp.log(jnp.expm1(jnp.maximum(start.nu, jnp.exp(-5.0))))}
    if ceil is not None:
        params["rho"] = jnp.log(jnp.expm1(jnp.maximum(start.rho, jnp.exp(-5.0))))
    return (params, optax.adam(LEARNING_RATE).init(params),
            dual_value(scaled, start, settled, scaled_ceil)[0], start)


def _point(p) -> Multipliers:
    return Multipliers(jax.nn.softplus(p["lam"]), jax.nn.softplus(p["nu"]),
                       jax.nn.softplus(p["rho"]) if "rho" in p else None)


def search_steps(lay: Layout, carry, first, count: int, steps: int, settled,
                  ceil: Ceilings | None, temperature: tuple[float, float] = TEMPERATURE):
    """Steps ``first .. first + count - 1`` of a ``steps``-step search (the temperature
    follows the whole schedule, so running it in pieces changes nothing)."""
    scaled = _scaled(lay)[0]
    scaled_ceil = _scaled_ceilings(ceil)[0]
    optimiser = optax.adam(LEARNING_RATE)
    hot, cold = temperature

    def step(carry, i):
        p, state, best, best_point = carry
        tau = hot * (cold / hot) ** (i / steps)
        here = _point(p)
        grads, value = jax.grad(lambda q: _smoothed_value(scaled, _point(q), tau, settled,
                                                          scaled_ceil), has_aux=True)(p)
        better = value < best
        best_point = jax.tree_util.tree_map(lambda new, old: jnp.where(better, new, old),
                                            here, best_point)
        updates, state = optimiser.update(grads, state, p)
        return (optax.apply_updates(p, updates), state, jnp.minimum(value, best),
                best_point), None

    return jax.lax.scan(step, carry, first + jnp.arange(count))[0]


def search_end(lay: Layout, carry, settled, possible, ceil: Ceilings | None):
    """The bound (exact ``L`` in the layout's own units, plus the rounding allowance) of
    the best point met, and that point."""
    _, reward_unit, cost_unit, contrib_unit = _scaled(lay)
    volume_unit = _scaled_ceilings(ceil)[1]
    best_point = carry[3]
    dual = Multipliers(best_point.lam * reward_unit / cost_unit,
                       best_point.nu * reward_unit / contrib_unit[:, None],
                       None if ceil is None else
                       best_point.rho * reward_unit / volume_unit[:, None])
    value, slack = dual_value(lay, dual, settled, ceil)
    return jnp.where(possible, value + slack, -jnp.inf), dual


def dual_bound(lay: Layout, steps: int = BOUND_STEPS, state=None,
               start: Multipliers | None = None,
               temperature: tuple[float, float] = TEMPERATURE,
               ceil: Ceilings | None = None) -> tuple[jax.Array, Multipliers]:
    """The bound of one layout (see the module docstring) and the multipliers that give it,
    in the layout's own units; with ``state`` (:func:`branch_layout`), the bound of that
    branch (``-inf`` when it holds no valid order); ``start`` warm-starts the search (a
    parent branch's multipliers); ``ceil`` (:func:`ceiling_layout`) prices the capacity
    families too. A pure function of one instance: batch it with ``jax.vmap``."""
    settled, possible = None, jnp.asarray(True)
    if state is not None:
        lay, settled, possible = branch_layout(lay, state)
    carry = search_begin(lay, start, settled, ceil)
    carry = search_steps(lay, carry, 0, steps, steps, settled, ceil, temperature)
    return search_end(lay, carry, settled, possible, ceil)
