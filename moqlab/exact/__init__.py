"""Exact methods: ``enumerate`` (every valid order, vectorised) and ``milp`` (HiGHS).

Example::

    >>> import moqlab
    >>> from moqlab import exact
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> exact.solve_enumerate(inst, "budget", 4.0).take.tolist()
    [0, 1, 1]
"""

from ..core._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "solve_enumerate": "._enumerate", "enumerate_orders": "._enumerate",
    "decode": "._enumerate",
    "solve_milp": "._milp", "build_model": "._milp", "normalised": "._milp",
    "quiet_highs": "._milp",
})
