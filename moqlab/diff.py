"""Differentiable MOQ layers: gradients of the solver's decision with respect to line rewards.

A solver maps line rewards ``theta`` (costs, thresholds and the budget held fixed) to a
0/1 selection ``y*(theta)`` in ``argmax_{y valid} <theta, y>``: piecewise constant, so its
derivative is zero almost everywhere. This module offers three ways around that:

**Perturbed optimizer** (Berthet et al. 2020, "Learning with differentiable perturbed
optimizers"): ``y_sigma(theta) = E_Z[y*(theta + sigma Z)]``, ``Z ~ N(0, I)``, is smooth, with
Jacobian ``J = E[y*(theta + sigma Z) Z^T] / sigma``. :func:`perturbed` returns
``f(theta, key)``: a Monte-Carlo estimate of ``y_sigma`` over ``num_samples`` draws whose
vector-Jacobian product uses the same draws,
``v^T J ~ mean_s (<v, y_s> - mean_t <v, y_t>) z_s / sigma`` (the sample mean is a baseline)
(a ``jax.custom_vjp``; the random ``key`` is a required argument so that the estimate is
reproducible and jit-compatible). ``optax.perturbations.make_perturbed_fun`` (optax 0.2.8)
implements the same estimator through a score-function "magic box"; it is written out here
so that one set of solver calls serves both the value and the gradient, and so that the
Fenchel-Young loss below can reuse it.

**Fenchel-Young loss** (same paper): with ``F(theta) = E_Z[max_y <theta + sigma Z, y>]``,
``L(theta; y) = F(theta) - <theta, y>`` is convex in ``theta``, ``>= 0`` up to the
Monte-Carlo error, and ``grad_theta L = y_sigma(theta) - y``: no Jacobian needed.

**Smooth relaxation** :func:`relaxed_layer`: the continuous relaxation of
:mod:`moqlab.relaxations._relax` kept at a positive final temperature, differentiated through its
unrolled optimisation; smooth in both the rewards and the costs.

Solvers are JAX functions ``theta [n_lines] -> y [n_lines]`` (floats in {0, 1}):
:func:`callback_solver` wraps any moqlab method (``"greedy"``, ``"search"``, ``"milp"``, ...)
with ``jax.pure_callback`` (every answer verified by :func:`moqlab.check`), and
:func:`enumeration_solver` is an exact, pure-JAX solver for small instances (all valid
orders listed once, the decision is an ``argmax`` of a matrix product), fast enough to
train through.

:func:`normalized_regret` is PyEPO's measure:
``sum_n (opt_n - <r_n, y_n>) / sum_n |opt_n|`` with ``r_n`` the true rewards,
``y_n`` the decision taken and ``opt_n`` the optimal value under ``r_n``.

Example::

    >>> import jax, jax.numpy as jnp, moqlab
    >>> from moqlab import diff
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [3.0, 2.0, 1.0], [1.0, 1.0, 1.0])
    >>> solver = diff.enumeration_solver(inst, budget=2)
    >>> [float(v) for v in solver(jnp.array([3.0, 2.0, 1.0]))]
    [1.0, 1.0, 0.0]
    >>> layer = diff.perturbed(solver, sigma=0.5, num_samples=64)
    >>> g = jax.grad(lambda t: layer(t, jax.random.key(0))[2])(jnp.array([3.0, 2.0, 1.0]))
    >>> bool(g[2] > 0)     # raising line c's reward makes choosing it more likely
    True

The layers compute in the caller's JAX precision (float32 unless the caller enabled
``jax_enable_x64``); moqlab never changes that setting. The solvers behind
:func:`callback_solver` verify every answer in float64 on the host whatever the precision.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._solve import solve
from .core._instance import Instance
from .relaxations._diff import (Solver, enumeration_solver, fenchel_young_loss,
                                normalized_regret, perturbed, relaxed_layer, valid_orders,
                                with_rewards)

__all__ = ["perturbed", "fenchel_young_loss", "callback_solver", "enumeration_solver",
           "relaxed_layer", "normalized_regret", "with_rewards", "valid_orders"]


def callback_solver(instance: Instance, method: str = "greedy", *, budget=None,
                    min_target=None, max_target=None, **options) -> Solver:
    """A JAX-callable solver ``theta -> y`` running a moqlab method on ``instance`` with
    line rewards ``theta`` (``jax.pure_callback``; works under ``jit`` and ``vmap``).

    Every answer goes through :func:`moqlab.solve` and hence the verifier; an infeasible
    answer raises ``RuntimeError``.
    """
    limits = {"budget": budget, "min_target": min_target, "max_target": max_target}
    limits = {k: v for k, v in limits.items() if v is not None}

    def host(theta):
        result = solve(with_rewards(instance, theta), method=method, **limits, **options)
        if not result.feasible:
            raise RuntimeError(f"{method} returned an infeasible order: {result.message}")
        return result.selected.astype(np.float64)

    def solver(theta):
        theta = jnp.asarray(theta, dtype=float)
        shape = jax.ShapeDtypeStruct((instance.n_lines,), theta.dtype)
        return jax.pure_callback(lambda t: host(t).astype(shape.dtype), shape, theta,
                                 vmap_method="sequential")

    return solver
