"""The prefix layout: one padded, bucketed table set per instance for the JAX search methods.

An order is ``t``: the number of lines taken from each item, a prefix of its ladder. Every
quantity an order needs is then a lookup in a cumulative table:

* ``reward[i, t]``, ``cost[i, t]``: the reward and cost of item ``i``'s first ``t`` lines
  (``[I, W]``, ``W`` = longest ladder + 1; past an item's ladder the totals stay constant);
* ``contrib[k, i, t]``: its contribution to its group of family ``k`` (``[K, I, W]``), for the
  *multi-item* families only;
* ``group[k, i]`` and ``floor[k, g]``: the group of each item and each group's threshold less
  the tolerance (:func:`moqlab.core._kernel.moq_floor`; 0 for groups without one, groups of a
  single item and padding).

Groups of a single item are folded into ``allowed[i, t]``: item ``i`` may take 0 lines or any
prefix reaching every threshold of its single-item groups (a per-SKU minimum in units is then
no constraint at all, only a gap in the ladder). Padding items allow ``t = 0`` only. Sizes are
rounded up to powers of two (:func:`moqlab.core._dense.bucket`), so instances of similar size
share one compiled function.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "a", "b"], [3.0, 1.0, 2.0], [1.0, 1.0, 1.0],
    ...     families=[(["a", "a", "b"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    >>> lay = prefix_layout(inst)
    >>> lay.allowed[:2, :3].tolist()  # item a: 0 or 2 lines (its SKU minimum is 2 units)
    [[True, False, True], [True, True, False]]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._dense import bucket
from ._instance import Instance
from ._kernel import cumulative_table, moq_floor

MIN_SIZES = (16, 4, 1, 4)  # items, ladder positions, multi-item families, groups


class Layout(NamedTuple):
    """Padded prefix tables of one instance (see the module docstring)."""

    reward: np.ndarray   # [I, W]
    cost: np.ndarray     # [I, W]
    allowed: np.ndarray  # [I, W]
    contrib: np.ndarray  # [K, I, W]
    group: np.ndarray    # [K, I]
    floor: np.ndarray    # [K, G]
    budget: np.ndarray   # []


def layout_sizes(instance: Instance) -> tuple[int, int, int, int]:
    """Bucketed ``(I, W, K, G)`` of ``instance``'s layout."""
    multi = [fam for fam in instance.families if multi_groups(fam).any()]
    groups = max((fam.n_groups for fam in multi), default=1)
    width = int(instance.item_length.max()) + 1 if instance.n_lines else 1
    raw = (instance.n_items, width, max(1, len(multi)), groups)
    return tuple(bucket(n, low) for n, low in zip(raw, MIN_SIZES))


def multi_groups(fam) -> np.ndarray:
    """Groups of ``fam`` with an MOQ and more than one item."""
    size = np.bincount(fam.item_group, minlength=fam.n_groups)
    return (size > 1) & (fam.moq > 0)


def prefix_layout(instance: Instance, budget: float = 0.0, sizes=None) -> Layout:
    """The :class:`Layout` of ``instance`` at ``budget``, padded to ``sizes`` (default
    :func:`layout_sizes`)."""
    I, W, K, G = layout_sizes(instance) if sizes is None else sizes
    n = instance.n_items

    def cumulative(values):
        return cumulative_table(instance, values, W - 1, I)

    allowed = np.arange(W)[None, :] <= np.r_[instance.item_length, np.zeros(I - n, int)][:, None]
    contrib = np.zeros((K, I, W))
    group = np.zeros((K, I), np.int32)
    floor = np.zeros((K, G))
    k = 0
    for fam in instance.families:
        table = cumulative(fam.oq)
        floors = np.where(fam.moq > 0, moq_floor(fam.moq), 0.0)
        size = np.bincount(fam.item_group, minlength=fam.n_groups)
        single = ((size == 1) & (fam.moq > 0))[fam.item_group]
        reaches = table[:n] >= floors[fam.item_group][:, None]
        reaches[:, 0] = True
        allowed[:n] &= np.where(single[:, None], reaches, True)
        multi = multi_groups(fam)
        if not multi.any():
            continue
        contrib[k] = table
        group[k, :n] = fam.item_group
        floor[k, :fam.n_groups] = np.where(multi, floors, 0.0)
        k += 1
    return Layout(cumulative(instance.reward), cumulative(instance.cost), allowed, contrib,
                  group, floor, np.float64(budget))
