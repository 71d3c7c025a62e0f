"""What every solver shares, written once: the feasibility tolerance.

Feasibility tolerances are relative (the design note): a total ``s`` meets a budget ``C``
when ``s <= C + allowance(C)`` and a group's contribution meets its threshold ``m`` when it
is at least ``moq_floor(m) = m - allowance(m)``, with ``allowance(x) = 1e-9 |x|``. Being
purely relative, the rule does not depend on the units: scaling every cost (or every
contribution and threshold of a family) by any factor keeps the same orders valid. The
functions work on Python floats, numpy arrays and JAX arrays alike.

Example::

    >>> from moqlab._kernel import allowance, moq_floor
    >>> allowance(-2e6), float(moq_floor(3.0))
    (0.002, 2.999999997)
"""

from __future__ import annotations

TOLERANCE = 1e-9


def allowance(value, tolerance: float = TOLERANCE):
    """How far a total may pass ``value`` and still meet it: ``tolerance * |value|``."""
    return tolerance * abs(value)


def moq_floor(moq, tolerance: float = TOLERANCE):
    """The least contribution that meets threshold ``moq``: ``moq - tolerance * |moq|``."""
    return moq - allowance(moq, tolerance)
