"""The engine of ``search``, one order: price, repair, improve
(:mod:`moqlab.heuristics._lagrange`), the group search, and the climb over patterns solved
with coverage prices (:mod:`moqlab.heuristics._cover`).

Example::

    >>> import jax, moqlab
    >>> from moqlab.core._layout import prefix_layout
    >>> from moqlab.core._precision import float64
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b", "c"], [4.0, 4.0, 5.0], [2.0, 2.0, 3.0],
    ...     families=[(["s", "s", "t"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    >>> take, reward, root = float64(jax.jit(engine))(prefix_layout(inst, budget=4.0))
    >>> take[:3].tolist(), float(reward), bool(root >= reward)
    ([1, 1, 0], 8.0, True)
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from ..core._dual import dual_bound
from ._cover import CLIMB_BOUND_STEPS, pattern_climb
from ._lagrange import EXCHANGE_CELLS, SPREAD, exchange, group_state, price_and_flip, totals

CLIMB_CELLS = 16384  # the climb runs on layouts of at most this many cells [I W]
CLIMB_GAIN = 1e-3  # ... and only where the order's dual bound is this much (relative) above it


def engine(lay, spread=SPREAD):
    """The best valid order the engine finds on ``lay``, its reward, and the order's root
    dual bound (:func:`moqlab.core._dual.dual_bound`, ``CLIMB_BOUND_STEPS`` steps; ``inf``
    where it was not computed: layouts above ``CLIMB_CELLS`` cells) (module docstring):
    the priced, repaired and improved order, its group search, then, on layouts of at most
    ``CLIMB_CELLS`` cells where some group stays empty and the order's dual bound is more
    than ``CLIMB_GAIN`` (relative) above its reward, the climb over patterns solved with
    coverage prices (:func:`moqlab.heuristics._cover.pattern_climb`), and on layouts of at
    most ``EXCHANGE_CELLS`` cells :func:`moqlab.heuristics._lagrange.exchange`. Pure and
    single-instance: batch it with ``jax.vmap``.

    Orders with few coarse groups are not solved pattern by pattern here: ``search``'s
    pattern stage (:mod:`moqlab.heuristics._patterns`) bounds every pattern and solves only
    those that may hold a better order. (The engine solved all ``2^6`` patterns itself until
    that stage landed; removing it left every medium suite order as it was, cut the engine's
    time there by about a third, and ``search``'s time on the small suite from 48 s to 10 s.)"""
    none = jnp.zeros(lay.floor.shape, bool)
    t, closed, _, _ = price_and_flip(lay, none, none, spread)
    root = jnp.inf
    if lay.reward.size <= CLIMB_CELLS:
        # only where some group with an MOQ stays empty (on loose orders every group opens
        # and a climb measured no gain) and the order's dual bound leaves room for one
        # (medium knapsack orders with MOQs: 4.4 s of climbing for nothing, the order
        # within 0.1 % of its bound); a real branch when the lanes are mapped
        shut_out = ((group_state(lay, t)[1] == 0) & (lay.floor > 0)).any()
        reward = totals(lay, t)[0]
        root = dual_bound(lay, CLIMB_BOUND_STEPS)[0]
        room = root > reward + CLIMB_GAIN * jnp.maximum(jnp.abs(reward), 1.0)
        t, closed = lax.cond(shut_out & room, lambda: pattern_climb(lay, t, closed),
                             lambda: (t, closed))
    if lay.reward.size <= EXCHANGE_CELLS:  # its step is [I W]^2
        t = exchange(lay, t, closed)
    return t, totals(lay, t)[0], root
