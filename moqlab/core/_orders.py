"""Every order of a tiny instance, visited in vectorised chunks: the enumeration behind
``enumerate`` (:mod:`moqlab.exact._enumerate`) and the exact step of ``search`` on orders
with few orders.

An order is a vector ``t`` with ``0 <= t_i <= L_i`` (lines taken per item), so there are
``prod_i (L_i + 1)`` orders, numbered in mixed radix (item 0 least significant).

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> index, reward, cost, target = enumerate_orders(inst, budget=2.0)
    >>> decode(index[[reward.argmax()]], inst.item_length + 1).tolist()
    [[1, 0]]
"""

from __future__ import annotations

import math

import numpy as np

from ._clock import Deadline
from ._errors import MOQSizeError
from ._frontier import reduce_candidates
from ._instance import Instance
from ._kernel import allowance, cumulative_table, grid_step, moq_floor, snap


def order_radix(instance: Instance, free=None) -> np.ndarray:
    """Choices per item: ``L_i + 1`` (``1`` for the items outside ``free``, held at 0)."""
    radix = instance.item_length + 1
    return radix if free is None else np.where(np.asarray(free, bool), radix, 1)


def order_count(instance: Instance, free=None) -> int:
    """Number of orders of ``instance``: ``prod_i (L_i + 1)`` over the items of ``free``
    (a boolean mask over items; default all), the others held at 0."""
    return math.prod(int(r) for r in order_radix(instance, free))


DEFAULT_MAX_ORDERS = 1 << 24
ENUMERATE_ORDERS = 1 << 18  # search enumerates orders and patterns with at most this many
CHUNK = 1 << 16


def enumerate_orders(instance: Instance, max_orders: int = DEFAULT_MAX_ORDERS,
                     chunk: int = CHUNK, prefer_larger_target: bool = True,
                     budget: float | None = None, deadline: Deadline | None = None,
                     free=None, held=None):
    """Frontier candidates among all valid orders: ``(index, reward, cost, target)`` arrays,
    ``index`` being the mixed-radix number of the order (decode with :func:`decode` and
    :func:`order_radix`). A passed ``deadline`` stops between chunks (the candidates then
    cover the orders visited; the empty order, number 0, is always among them). ``free``: a
    boolean mask over items; the others are held at ``held`` (a take per item, default 0;
    every item varies by default). Order numbers count the free items' lines only: add
    ``held`` to the decoded takes."""
    radix = order_radix(instance, free)
    n_orders = order_count(instance, free)
    if n_orders > max_orders:
        raise MOQSizeError(
            f"enumerate would visit {n_orders:,} orders (items x lines: {instance.n_items} x "
            f"up to {int(instance.item_length.max())}), above max_orders={max_orders:,}; "
            "use method='milp' or raise max_orders")
    quantities = (instance.reward, instance.cost, instance.target)
    tables = [cumulative_table(instance, values) for values in quantities]
    # totals on the data's grid compare exactly (ties stay ties whatever the units)
    steps = [grid_step(values) for values in quantities]
    families = []
    for fam in instance.families:
        indicator = np.zeros((instance.n_items, fam.n_groups))
        indicator[np.arange(instance.n_items), fam.item_group] = 1.0
        floor = moq_floor(fam.moq)
        families.append((cumulative_table(instance, fam.oq), indicator, floor))
    ceilings = []
    for capacity in instance.capacities:
        indicator = np.zeros((instance.n_items, capacity.n_groups))
        indicator[np.arange(instance.n_items), capacity.item_group] = 1.0
        ceilings.append((cumulative_table(instance, capacity.cq), indicator,
                         capacity.cap + allowance(capacity.cap)))

    # Split the items: the low ones (product of radices <= chunk) are decoded once; each
    # chunk is one assignment of the high items added to every low assignment.
    n_low = 0
    while n_low < instance.n_items and math.prod(int(r) for r in radix[:n_low + 1]) <= chunk:
        n_low += 1
    low = np.arange(n_low)
    low_size = math.prod(int(r) for r in radix[:n_low])
    low_take = decode(np.arange(low_size), radix[:n_low])

    held = np.zeros(instance.n_items, np.int64) if held is None else np.asarray(held, np.int64)
    held = np.where(radix > 1, 0, held)

    def partial(items, take):
        take = take + held[items]
        sums = [table[items, take].sum(axis=-1) for table in tables]
        groups = [(cum[items, take] @ ind[items], (take > 0) @ ind[items])
                  for cum, ind, _ in families]
        used = [cum[items, take] @ ind[items] for cum, ind, _ in ceilings]
        return sums, groups, used

    low_sums, low_groups, low_used = partial(low, low_take)
    high = np.arange(n_low, instance.n_items)
    kept = [[], [], [], []]
    for h in range(n_orders // low_size):
        if h and deadline is not None and deadline.stop_if_passed():
            break
        high_take = decode(np.array([h]), radix[n_low:])[0]
        high_sums, high_groups, high_used = partial(high, high_take)
        reward, cost, target = (snap(lo + hi, step)
                                for lo, hi, step in zip(low_sums, high_sums, steps))
        valid = np.ones(low_size, dtype=bool)
        for (tot_lo, open_lo), (tot_hi, open_hi), (_, _, floor) in zip(
                low_groups, high_groups, families):
            valid &= np.all((open_lo + open_hi == 0) | (tot_lo + tot_hi >= floor), axis=1)
        for used_lo, used_hi, (_, _, ceiling) in zip(low_used, high_used, ceilings):
            valid &= np.all(used_lo + used_hi <= ceiling, axis=1)
        if budget is not None:
            valid &= cost <= budget + allowance(budget)
        sel = np.flatnonzero(valid)
        keep = sel[reduce_candidates(reward[sel], cost[sel], target[sel], prefer_larger_target)]
        index = h * low_size + keep
        for store, values in zip(kept, (index, reward[keep], cost[keep], target[keep])):
            store.append(values)
    return tuple(np.concatenate(store) for store in kept)


def best_order(instance: Instance, budget: float, free=None, held=None) -> np.ndarray | None:
    """The most rewarding valid order within ``budget`` (ties: the lower cost) among the
    orders of the items of ``free``, the others held at ``held`` (default 0), by visiting
    them all: ``take`` per item (``None`` when none is valid)."""
    radix = order_radix(instance, free)
    index, reward, cost, _ = enumerate_orders(instance, max_orders=math.prod(map(int, radix)),
                                              budget=budget, free=free, held=held)
    if not index.size:
        return None
    take = decode(index[[np.lexsort((cost, -reward))[0]]], radix)[0]
    return take if held is None else take + np.where(radix > 1, 0, held)


def decode(index: np.ndarray, radix: np.ndarray) -> np.ndarray:
    """Mixed-radix digits: ``take[:, i]`` for each order index (item 0 is least significant)."""
    index = np.asarray(index, dtype=np.int64).copy()
    take = np.empty((index.shape[0], radix.shape[0]), dtype=np.int64)
    for i, r in enumerate(radix):
        index, take[:, i] = np.divmod(index, int(r))
    return take
