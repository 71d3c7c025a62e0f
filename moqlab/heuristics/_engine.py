"""The engine of ``search``, one order: price, repair, improve
(:mod:`moqlab.heuristics._lagrange`), patterns of the coarsest groups, the group search, and
the climb over patterns solved with coverage prices (:mod:`moqlab.heuristics._cover`).

Example::

    >>> import jax, moqlab
    >>> from moqlab.core._layout import prefix_layout
    >>> from moqlab.core._precision import float64
    >>> inst = moqlab.Instance.from_arrays(
    ...     ["a", "b", "c"], [4.0, 4.0, 5.0], [2.0, 2.0, 3.0],
    ...     families=[(["s", "s", "t"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    >>> take, reward = float64(jax.jit(engine))(prefix_layout(inst, budget=4.0))
    >>> take[:3].tolist(), float(reward)
    ([1, 1, 0], 8.0)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ._cover import pattern_climb
from ._lagrange import (EXCHANGE_CELLS, PATTERN_CELLS, PATTERN_GROUPS, SPREAD, exchange,
                        group_search, group_state, may_fit, patterns_of, solve_pattern,
                        totals)

CLIMB_CELLS = 16384  # the climb runs on layouts of at most this many cells [I W]


def engine(lay, patterns=False, spread=SPREAD):
    """The best valid order the engine finds on ``lay`` and its reward (module docstring).
    ``patterns`` (static): also try every pattern of the multi-item groups
    (:func:`moqlab.heuristics._lagrange.patterns_of`; for orders with at most ``PATTERN_GROUPS`` of them, on
    layouts of at most ``PATTERN_CELLS`` cells); on those and on layouts of at most
    ``CLIMB_CELLS`` cells where some group stays empty, climb from the best order over
    patterns solved with coverage prices (:func:`moqlab.heuristics._cover.pattern_climb`);
    on layouts of at most
    ``EXCHANGE_CELLS`` cells, :func:`moqlab.heuristics._lagrange.exchange`. Pure
    and single-instance: batch it with ``jax.vmap``."""
    patterns = patterns and lay.reward.size <= PATTERN_CELLS  # 2^6 priced solves each
    if patterns:
        closed, protect, distinct = patterns_of(lay, PATTERN_GROUPS)
        wanted = distinct & may_fit(lay, protect)

        def row(args):  # in sequence, and only the patterns worth a solve (a real branch
            c, p, w = args  # when the lanes are mapped, not vmapped)
            solve = lambda: solve_pattern(lay, c, p, spread)  # noqa: E731
            skip = lambda: jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype),  # noqa: E731
                                        jax.eval_shape(solve))
            return lax.cond(w, solve, skip)

        takes, shuts, oks, lams = lax.map(row, (closed, protect, wanted))
        rewards = jax.vmap(lambda t: totals(lay, t)[0])(takes)
        best = jnp.argmax(jnp.where((oks & wanted).at[0].set(True), rewards, -jnp.inf))
        t, closed, lam = takes[best], shuts[best], lams[best]
    else:  # unbatched: a vmapped while loop compiles to a larger program
        none = jnp.zeros(lay.floor.shape, bool)
        t, closed, _, lam = solve_pattern(lay, none, none, spread)
    t, closed = group_search(lay, lam, t, closed)
    if patterns or lay.reward.size <= CLIMB_CELLS:
        # only where some group with an MOQ stays empty: on loose orders every group opens
        # and a climb measured no gain (a real branch when the lanes are mapped)
        shut_out = ((group_state(lay, t)[1] == 0) & (lay.floor > 0)).any()
        t, closed = lax.cond(shut_out, lambda: pattern_climb(lay, t, closed),
                             lambda: (t, closed))
    if patterns and lay.reward.size <= EXCHANGE_CELLS:  # its step is [I W]^2
        t = exchange(lay, t, closed)
    return t, totals(lay, t)[0]
