"""Relaxations: ``relax`` (a continuous relaxation in JAX + optax, rounded and repaired)
and the differentiable layers behind :mod:`moqlab.diff`.

Example::

    >>> from moqlab import relaxations
    >>> relaxations.RelaxConfig(steps=10, outer=2, learning_rate=0.1, rho=10.0,
    ...                         tau_start=1.0, tau_end=0.1).steps
    10
"""

from ..core._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "solve_relax": "._relax", "solve_relax_batch": "._relax", "RelaxConfig": "._relax",
    "relaxed_selection": "._relax", "lp_bound": "._relax",
    "reward_bound": "._bound", "reward_bounds": "._bound", "dual_bound": "..core._dual",
    "dual_value": "..core._dual", "Multipliers": "..core._dual",
    "perturbed": "._diff", "fenchel_young_loss": "._diff", "enumeration_solver": "._diff",
    "relaxed_layer": "._diff", "normalized_regret": "._diff", "with_rewards": "._diff",
    "valid_orders": "._diff",
})
