"""What every solver shares, written once: the feasibility tolerance and the data grid.

Feasibility tolerances are relative (the design note): a total ``s`` meets a budget ``C``
when ``s <= C + allowance(C)`` and a group's contribution meets its threshold ``m`` when it
is at least ``moq_floor(m) = m - allowance(m)``, with ``allowance(x) = 1e-9 |x|``. Being
purely relative, the rule does not depend on the units: scaling every cost (or every
contribution and threshold of a family) by any factor keeps the same orders valid. The
functions work on Python floats, numpy arrays and JAX arrays alike.

Example::

    >>> from moqlab.core._kernel import allowance, moq_floor
    >>> allowance(-2e6), float(moq_floor(3.0))
    (0.002, 2.999999997)
"""

from __future__ import annotations

import math

import numpy as np

TOLERANCE = 1e-9
GRID_DIGITS = 8  # significant decimal digits a grid may have below the largest value


def allowance(value, tolerance: float = TOLERANCE):
    """How far a total may pass ``value`` and still meet it: ``tolerance * |value|``."""
    return tolerance * abs(value)


def moq_floor(moq, tolerance: float = TOLERANCE):
    """The least contribution that meets threshold ``moq``: ``moq - tolerance * |moq|``."""
    return moq - allowance(moq, tolerance)


def grid_step(values) -> float | None:
    """The coarsest step ``10**p`` of which every value is a multiple, looking at most
    ``GRID_DIGITS`` decimal digits below the largest ``|value|``; ``None`` for real data.
    Totals of such values are multiples of the step up to rounding noise, so snapping them
    to the grid (:func:`snap`) makes equal totals compare equal whatever the units
    (``0.1 + 0.2`` and ``0.3``; integers scaled by 1e-9).

    >>> grid_step([3.0, 12.0]), grid_step([2e-9, 1.2e-8]), grid_step([1 / 3])
    (1.0, 1e-09, None)
    """
    values = np.asarray(values, dtype=np.float64)
    nonzero = np.abs(values[values != 0])
    if nonzero.size == 0:
        return None
    top = math.floor(math.log10(float(nonzero.max())))
    for power in range(top, top - GRID_DIGITS - 1, -1):
        multiples = values / 10.0 ** power
        if np.all(np.abs(multiples - np.round(multiples)) <= 1e-6):
            return 10.0 ** power
    return None


def snap(totals, step: float | None):
    """``totals`` rounded to the nearest multiple of ``step`` (unchanged when ``None``)."""
    if step is None:
        return totals
    return np.round(np.asarray(totals) / step) * step
