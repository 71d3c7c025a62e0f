"""Exact enumeration of every valid order, for tiny instances (the enumeration itself is
:mod:`moqlab.core._orders`, shared with ``search``).

An order is a vector ``t`` with ``0 <= t_i <= L_i`` (lines taken per item), so there are
``prod_i (L_i + 1)`` orders. They are decoded from their mixed-radix index in chunks
(vectorised numpy), their totals read from per-item cumulative tables
``R_i(t) = sum_{l < t} reward_{i,l}``, and group totals obtained as
``(oq-cumulative per item) @ (item-to-group indicator)``. The totals of the first items
(as many as fit in one chunk) are computed once and each chunk adds one assignment of the
remaining items to all of them. Each chunk is reduced to its frontier candidates (see :mod:`moqlab.core._frontier`), so memory stays bounded by the chunk size.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> moqlab.solve(inst, budget=2, method="enumerate").reward
    3.0
"""

from __future__ import annotations

import math

import numpy as np

from ..core._frontier import frontier_indices, pick_target
from ..core._orders import CHUNK, DEFAULT_MAX_ORDERS, decode, enumerate_orders
from ..core._clock import TIME_LIMIT_OPTION, Deadline
from ..core._instance import Instance
from ..core._options import Option
from ..core._result import Answer

OPTIONS = (
    Option("max_orders", int, DEFAULT_MAX_ORDERS, "refuse (MOQSizeError) instances with more orders "
           "than this", minimum=1),
    Option("chunk", int, CHUNK, "orders scored per vectorised chunk (memory vs speed)",
           minimum=1),
    TIME_LIMIT_OPTION,
)

def solve_enumerate(instance: Instance, mode: str, limit: float,
                    max_orders: int = DEFAULT_MAX_ORDERS, chunk: int = CHUNK,
                    time_limit: float | None = None) -> Answer:
    """Exact answer in any mode by visiting every order (refuses above ``max_orders``).
    ``time_limit`` stops between chunks: the answer is then the best among the orders
    visited, status ``time_limit``."""
    deadline = Deadline(time_limit)
    prefer_larger = mode != "max_target"
    budget = limit if mode == "budget" else None
    index, reward, cost, target = enumerate_orders(instance, max_orders, chunk, prefer_larger,
                                                   budget, deadline)
    front = frontier_indices(reward, cost, target, prefer_larger)
    radix = instance.item_length + 1
    info = {"orders": math.prod(int(r) for r in radix), "frontier": int(front.size)}
    stopped = ("time_limit", deadline.message("the enumeration")) if deadline.stopped \
        else None
    if mode == "budget":
        best = front[-1]
        status, message = stopped or ("optimal", "")
        return Answer(decode(index[[best]], radix)[0], status, message, info)
    position, status, message = pick_target(target[front], mode, limit)
    if stopped:
        status, message = stopped
    if position < 0:
        return Answer(np.zeros(instance.n_items, dtype=np.int64), status, message, info)
    return Answer(decode(index[[front[position]]], radix)[0], status, message, info)
