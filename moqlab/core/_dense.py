"""Dense, padded arrays derived from an :class:`Instance`: the one place where the
items x lines layout used by array code (numpy and JAX) is built.

For an instance with ``I`` items, at most ``L`` lines per item and ``K`` families:

* ``reward``, ``cost``, ``target``: ``[I, L]``; ``mask``: ``[I, L]`` (real line or padding);
* ``oq``: ``[K, I, L]`` contributions; ``group``: ``[K, I]`` group of each item;
* ``moq``: ``[K, G]`` thresholds (``G`` the largest number of groups of a family).

Padding lines have zero reward, cost, target and contribution and ``mask=False``; padding
items are in group 0 with no real line; padding groups have threshold 0. Sizes are rounded
up to powers of two (:func:`bucket`) so that jitted functions compile once per bucket.
Group totals are ``jax.ops.segment_sum(per_item_total, group, num_segments=G)``.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "a", "b"], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    >>> d = moqlab.to_dense(inst)
    >>> d.reward.shape, d.mask.sum()
    ((2, 2), np.int64(3))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._instance import Instance


class DenseInstance(NamedTuple):
    reward: np.ndarray
    cost: np.ndarray
    target: np.ndarray
    mask: np.ndarray
    oq: np.ndarray
    group: np.ndarray
    moq: np.ndarray


def bucket(n: int, minimum: int = 1) -> int:
    """Smallest power of two ``>= max(n, minimum)``."""
    n = max(int(n), int(minimum), 1)
    return 1 << (n - 1).bit_length()


def same_shape_groups(shapes) -> dict:
    """Positions grouped by their (padded) shape, in order of first appearance: batches
    padded only within a group give every member the arrays it would get alone, so answers
    do not depend on the rest of the batch."""
    groups: dict = {}
    for position, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(position)
    return groups


def dense_lines(instance: Instance, values, width: int | None = None,
                n_items: int | None = None, fill=0.0) -> np.ndarray:
    """Per-line ``values`` laid out as ``[items, width]`` by (item, rank)."""
    values = np.asarray(values)
    width = int(instance.item_length.max()) if width is None else width
    n_items = instance.n_items if n_items is None else n_items
    out = np.full((n_items, width), fill, dtype=values.dtype)
    out[instance.line_item, instance.line_rank] = values
    return out


def dense_sizes(instance: Instance) -> tuple[int, int, int]:
    """Unpadded ``(items, lines per item, groups per family)`` of an instance."""
    groups = max((fam.n_groups for fam in instance.families), default=1)
    return instance.n_items, int(instance.item_length.max()), groups


def to_dense(instance: Instance, n_items: int | None = None, n_lines: int | None = None,
             n_groups: int | None = None, pad: bool = True) -> DenseInstance:
    """Dense arrays of one instance, padded to the given sizes (default: power-of-two
    buckets of the instance's own sizes; ``pad=False`` keeps the exact sizes)."""
    items, lines, groups = dense_sizes(instance)
    if pad:
        items, lines, groups = bucket(items), bucket(lines), bucket(groups)
    n_items = items if n_items is None else n_items
    n_lines = lines if n_lines is None else n_lines
    n_groups = groups if n_groups is None else n_groups
    if n_items < instance.n_items or n_lines < instance.item_length.max() or n_groups < groups:
        raise ValueError(f"padding ({n_items}, {n_lines}, {n_groups}) smaller than the "
                         f"instance {dense_sizes(instance)}")

    def lay(values, fill=0.0):
        return dense_lines(instance, values, n_lines, n_items, fill)

    n_fam = instance.n_families
    oq = np.zeros((n_fam, n_items, n_lines))
    group = np.zeros((n_fam, n_items), dtype=np.int32)
    moq = np.zeros((n_fam, n_groups))
    for k, fam in enumerate(instance.families):
        oq[k] = lay(fam.oq)
        group[k, :instance.n_items] = fam.item_group
        moq[k, :fam.n_groups] = fam.moq
    return DenseInstance(reward=lay(instance.reward), cost=lay(instance.cost),
                         target=lay(instance.target),
                         mask=lay(np.ones(instance.n_lines, dtype=bool), False),
                         oq=oq, group=group, moq=moq)


def stack_dense(instances: Sequence[Instance], pad: bool = True) -> DenseInstance:
    """One :class:`DenseInstance` with a leading batch axis, all padded to common bucket
    sizes (instances must have the same number of families)."""
    families = {inst.n_families for inst in instances}
    if len(families) != 1:
        raise ValueError(f"a dense batch needs the same number of families, got {families}")
    sizes = np.array([dense_sizes(inst) for inst in instances]).max(axis=0)
    if pad:
        sizes = [bucket(s) for s in sizes]
    dense = [to_dense(inst, *map(int, sizes), pad=False) for inst in instances]
    return DenseInstance(*(np.stack(parts) for parts in zip(*dense)))


def take_from_dense_selection(selected: np.ndarray) -> np.ndarray:
    """Lines taken per item from a dense ``[items, lines]`` prefix selection."""
    return np.asarray(selected).sum(axis=-1).astype(np.int64)
