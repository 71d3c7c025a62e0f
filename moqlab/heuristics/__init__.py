"""Heuristics: ``greedy`` and ``roundup`` (numpy), ``jax-greedy`` and ``search`` (JAX,
batched with ``vmap``, sharded over devices; JAX is imported only when they are used).

Example::

    >>> import moqlab
    >>> from moqlab import heuristics
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> heuristics.solve_greedy(inst, "budget", 4.0).take.tolist()
    [0, 1, 1]
"""

from ..core._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "solve_greedy": "._greedy", "solve_roundup": "._greedy", "greedy_keys": "._greedy",
    "shed_to_budget": "._greedy",
    "solve_jax_greedy": "._jax_greedy", "solve_jax_greedy_batch": "._jax_greedy",
    "solve_search": "._search", "solve_search_batch": "._search",
    "engine": "._engine", "fit_ceilings": "._ceilings",
})
