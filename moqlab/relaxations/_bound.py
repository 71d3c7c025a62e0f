"""A certified upper bound on the optimal reward of a budget-mode order, in JAX, batched:
the dual function of :mod:`moqlab.core._dual` (which says why every point of it is a bound)
minimised for every order of a batch (:func:`root_bounds`), then, where that leaves a gap,
branch and bound over the MOQ groups (:func:`branch_bound`).

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

from ..core._dense import same_shape_groups
from ..core._dual import (BOUND_STEPS, NODE_TEMPERATURE, Ceilings, Multipliers, ceiling_layout,
                          ceiling_sizes, dual_bound, search_begin, search_end, search_steps)
from ..core._instance import Instance
from ..core._layout import Layout, layout_sizes, prefix_layout
from ..core._precision import float64
from ..core._sharding import shard_batch, sharded

ROOT_CHUNK = 50  # root search steps per compiled call (the clock is read between calls)
CHUNKED_CELLS = 1 << 16  # ... on layouts of at least this many cells [I W] (~20,000 lines)


def _root(lay: Layout, ceil: Ceilings | None = None):
    return dual_bound(lay, ceil=ceil)


def _root_begin(lay: Layout, ceil: Ceilings | None = None):
    return search_begin(lay, None, None, ceil)


def _root_steps(lay: Layout, carry, first, ceil: Ceilings | None = None):
    return search_steps(lay, carry, first, ROOT_CHUNK, BOUND_STEPS, None, ceil)


def _root_end(lay: Layout, carry, ceil: Ceilings | None = None):
    return search_end(lay, carry, None, jnp.asarray(True), ceil)


@float64
def root_bounds(instances: Sequence[Instance], budgets,
                seconds: float | None = None) -> list[tuple[float, Multipliers]]:
    """The bound of every ``(instances[n], budgets[n])`` with no branch taken, and its
    multipliers. Lanes of the same layout sizes run as one ``jax.vmap``-ed, sharded call;
    the bound of a lane does not depend on the others.

    With ``seconds``, on layouts of at least :data:`CHUNKED_CELLS` cells, the search runs
    :data:`ROOT_CHUNK` steps per compiled call, and a group of lanes stops after the call
    that passes ``seconds`` times its number of lanes (compile included), keeping the best
    point met so far: still a bound, by weak duality, only a looser one. On an order of
    104,405 lines the whole search takes about 45 s on 2 CPU cores; smaller layouts run it
    in one compiled call (three would add compile time: 8 small orders' first bounds took
    5.9 s against 4.6 s)."""
    import time

    budgets = np.broadcast_to(np.asarray(budgets, dtype=np.float64), (len(instances),))
    out = [None] * len(instances)
    shapes = [(*layout_sizes(inst), *ceiling_sizes(inst)) for inst in instances]
    whole = sharded(jax.vmap(_root), "reward-bound")
    begin = sharded(jax.vmap(_root_begin), "reward-bound-begin")
    advance = sharded(jax.vmap(_root_steps), "reward-bound-steps")
    end = sharded(jax.vmap(_root_end), "reward-bound-end")
    for sizes, members in same_shape_groups(shapes).items():
        started = time.perf_counter()
        lays = [prefix_layout(instances[n], budgets[n], sizes[:4]) for n in members]
        ceils = [ceiling_layout(instances[n], sizes) for n in members]
        stacked = (Layout(*(np.stack(parts) for parts in zip(*lays))),
                   None if ceils[0] is None else
                   Ceilings(*(np.stack(parts) for parts in zip(*ceils))))
        (lay, ceil), _ = shard_batch(stacked)
        lanes = lay.reward.shape[0]
        if seconds is None or lay.reward[0].size < CHUNKED_CELLS:  # one compiled call
            values, duals = jax.device_get(whole(lay, ceil))
        else:
            carry = begin(lay, ceil)
            for first in range(0, BOUND_STEPS, ROOT_CHUNK):
                carry = jax.block_until_ready(advance(lay, carry, np.full(lanes, first), ceil))
                if time.perf_counter() - started > seconds * len(members):
                    break
            values, duals = jax.device_get(end(lay, carry, ceil))
        for b, n in enumerate(members):
            out[n] = (float(values[b]), jax.tree_util.tree_map(lambda part: np.asarray(part[b]),
                                                               duals))
    return out


def reward_bounds(instances: Sequence[Instance], budgets) -> np.ndarray:
    """An upper bound on the optimal budget-mode reward of every ``(instances[n],
    budgets[n])`` (the module docstring says why it is one), from :func:`root_bounds`."""
    return np.array([value for value, _ in root_bounds(instances, budgets)])


def reward_bound(instance: Instance, budget: float) -> float:
    """:func:`reward_bounds` of one instance."""
    return float(reward_bounds([instance], [budget])[0])


# ------------------------------------------------------------------ branching

NODE_BATCH = 16   # branches bounded per compiled call
NODE_STEPS = 200  # Adam steps per branch, warm-started from its parent's multipliers


class Branching(NamedTuple):
    """What :func:`branch_bound` found: ``bound`` (certified), ``root`` (before branching),
    ``nodes`` bounded, ``open`` branches left when it stopped, and ``closed`` (true when every
    branch was pruned or fathomed: ``bound`` is then the incumbent's reward, proven optimal)."""

    bound: float
    root: float
    nodes: int
    open: int
    closed: bool


def branching_group(lay, state: np.ndarray, dual: Multipliers) -> tuple[int, int] | None:
    """The MOQ group a branch splits on: among its free groups with a threshold, the one
    whose threshold the branch's multipliers price highest (``mu[k, g] * m[k, g]``, the
    reward the dual function credits for the group's coverage; the most binding MOQ);
    ``None`` when every such group is settled."""
    floor, group = np.asarray(lay.floor), np.asarray(lay.group)
    free = (state == 0) & (floor > 0)
    if not free.any():
        return None
    price = np.zeros(floor.shape)
    for k in range(floor.shape[0]):
        price[k] = np.bincount(group[k], weights=np.asarray(dual.nu[k]),
                               minlength=floor.shape[1])
    score = np.where(free, price * floor, -np.inf)
    k, g = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(k), int(g)


def _node_bounds(lay, states, starts, ceil=None):
    return jax.vmap(lambda state, start: dual_bound(lay, NODE_STEPS, state, start,
                                                    NODE_TEMPERATURE, ceil))(states, starts)


_NODE_BOUNDS = jax.jit(_node_bounds)


@float64
def branch_bound(instance: Instance, budget: float, incumbent: float, seconds: float,
                 root: tuple[float, Multipliers] | None = None,
                 stop_gap: float = 1e-4) -> Branching:
    """A tighter bound by branch and bound over the MOQ groups (open: threshold met, or
    closed: no line), each branch bounded by its own dual function (closed groups' members
    fixed at 0, open groups' thresholds binding), best branch first, batches of
    :data:`NODE_BATCH` branches per compiled call.

    ``incumbent`` is the reward of a valid order: a branch whose bound is at most that holds
    nothing better and is pruned. At any moment the optimum is at most ``max(incumbent,
    the largest bound of an open branch)``, so stopping early (``seconds``, or once that is
    within ``stop_gap`` of the incumbent) still returns a certified bound. A child's bound is
    also capped by its parent's, since a child's orders are a subset of its parent's."""
    import heapq
    import itertools
    import time

    start_time = time.perf_counter()
    lay = prefix_layout(instance, budget)
    ceil = ceiling_layout(instance, lay.reward.shape)
    if ceil is not None:
        ceil = Ceilings(*(jnp.asarray(part) for part in ceil))
    if root is None:
        root = root_bounds([instance], [budget])[0]
    root_value, root_dual = root
    host = lay
    lay = Layout(*(jnp.asarray(part) for part in lay))
    tick = itertools.count()
    K, G = lay.floor.shape

    def entry(value, state, dual):
        return (-value, next(tick), state, dual, branching_group(host, state, dual))

    heap = [entry(root_value, np.zeros((K, G), np.int8), root_dual)]
    nodes = 0

    def settled() -> bool:
        top = -heap[0][0] if heap else -np.inf
        return top <= incumbent + stop_gap * max(abs(incumbent), abs(top))

    while heap and not settled() and heap[0][4] is not None:
        if time.perf_counter() - start_time > seconds:
            break
        parents = []
        while heap and len(parents) < NODE_BATCH // 2 and heap[0][4] is not None:
            parents.append(heapq.heappop(heap))
        children, states, starts = [], [], []
        for neg_bound, _, state, dual, (k, g) in parents:
            for side in (-1, 1):
                child = state.copy()
                child[k, g] = side
                children.append((-neg_bound, child))
                states.append(child)
                starts.append(dual)
        padding = NODE_BATCH - len(states)
        states += [states[-1]] * padding
        starts += [starts[-1]] * padding
        stacked = jax.tree_util.tree_map(lambda *parts: jnp.asarray(np.stack(parts)), *starts)
        values, duals = jax.device_get(_NODE_BOUNDS(lay, jnp.asarray(np.stack(states)),
                                                    stacked, ceil))
        nodes += len(children)
        for c, (parent_bound, state) in enumerate(children):
            value = min(float(values[c]), parent_bound)
            if value > incumbent:
                heapq.heappush(heap, entry(value, state, jax.tree_util.tree_map(
                    lambda part: part[c], duals)))
    top = -heap[0][0] if heap else -np.inf
    return Branching(bound=max(incumbent, top), root=root_value, nodes=nodes,
                     open=len(heap), closed=not heap)
