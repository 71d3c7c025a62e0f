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

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..core._kernel import allowance, moq_floor
from ..core._dense import to_dense
from ..exact._enumerate import decode
from ..core._errors import MOQSizeError
from ..core._instance import Instance
from ._relax import RelaxConfig, relaxed_selection

Solver = Callable[[jax.Array], jax.Array]

__all__ = ["perturbed", "fenchel_young_loss", "enumeration_solver", "relaxed_layer",
           "normalized_regret", "with_rewards", "valid_orders"]


# ---------------------------------------------------------------------- solvers


def with_rewards(instance: Instance, reward) -> Instance:
    """The same instance with new line rewards (instance line order)."""
    reward = np.asarray(reward, dtype=np.float64).reshape(instance.n_lines)
    reward.setflags(write=False)
    return dataclasses.replace(instance, reward=reward, _cache={})


def valid_orders(instance: Instance, budget: float | None = None,
                 max_orders: int = 1 << 18) -> np.ndarray:
    """Every valid order of ``instance`` (cost ``<= budget`` when given) as a 0/1 matrix
    ``[orders, n_lines]`` (the empty order included). Refuses above ``max_orders``."""
    radix = instance.item_length + 1
    n_orders = math.prod(int(r) for r in radix)
    if n_orders > max_orders:
        raise MOQSizeError(f"{n_orders:,} orders to list, above max_orders={max_orders:,}")
    take = decode(np.arange(n_orders), radix)  # [orders, items]
    selected = instance.line_rank[None, :] < take[:, instance.line_item]
    valid = np.ones(n_orders, dtype=bool)
    for fam in instance.families:
        indicator = np.zeros((instance.n_lines, fam.n_groups))
        indicator[np.arange(instance.n_lines), fam.item_group[instance.line_item]] = 1.0
        total = selected @ (indicator * fam.oq[:, None])
        count = selected @ indicator
        floor = moq_floor(fam.moq)
        valid &= np.all((count == 0) | (total >= floor), axis=1)
    if budget is not None:
        valid &= selected @ instance.cost <= budget + allowance(budget)
    return selected[valid].astype(np.float64)


def enumeration_solver(instance: Instance, budget: float | None = None,
                       max_orders: int = 1 << 18) -> Solver:
    """Exact budget-mode solver in pure JAX for small instances: the valid orders ``Y`` are
    listed once (costs and thresholds are fixed) and ``y*(theta) = Y[argmax Y theta]``
    (ties: the first order listed). Jittable and vmappable."""
    orders = jnp.asarray(valid_orders(instance, budget, max_orders))

    def solver(theta):
        return orders[jnp.argmax(orders @ theta)]

    return solver


# ---------------------------------------------------------------- perturbations


def _samples(solver: Solver, theta, key, sigma, num_samples):
    noise = jax.random.normal(key, (num_samples,) + theta.shape, dtype=theta.dtype)
    decisions = jax.vmap(solver)(theta[None] + sigma * noise)
    return noise, decisions


def perturbed(solver: Solver, *, sigma: float = 0.1, num_samples: int = 32):
    """``f(theta, key)``: Monte-Carlo estimate of ``E[y*(theta + sigma Z)]`` (Gaussian
    ``Z``), differentiable in ``theta`` (see the module docstring). ``key`` is required."""
    sigma = float(sigma)
    num_samples = int(num_samples)

    @jax.custom_vjp
    def layer(theta, key):
        return jnp.mean(_samples(solver, theta, key, sigma, num_samples)[1], axis=0)

    def forward(theta, key):
        noise, decisions = _samples(solver, theta, key, sigma, num_samples)
        return jnp.mean(decisions, axis=0), (noise, decisions)

    def backward(residual, cotangent):
        noise, decisions = residual
        weight = decisions @ cotangent  # <v, y_s> per sample
        # The sample mean as a baseline: E[z] = 0, so subtracting it changes the estimate
        # by O(1/num_samples) and removes most of its variance.
        weight = weight - jnp.mean(weight)
        return jnp.mean(weight[:, None] * noise, axis=0) / sigma, None

    layer.defvjp(forward, backward)

    def perturbed_solver(theta, key):
        _require_key(key)
        return layer(jnp.asarray(theta, dtype=float), key)

    return perturbed_solver


def fenchel_young_loss(solver: Solver, *, sigma: float = 0.1, num_samples: int = 32):
    """``loss(theta, y_target, key)``: the perturbed Fenchel-Young loss
    ``E[max_y <theta + sigma Z, y>] - <theta, y_target>`` (maximisation), with gradient
    ``y_sigma(theta) - y_target`` in ``theta`` (and ``-theta`` in ``y_target``)."""
    sigma = float(sigma)
    num_samples = int(num_samples)

    @jax.custom_vjp
    def loss(theta, target, key):
        return forward(theta, target, key)[0]

    def forward(theta, target, key):
        noise, decisions = _samples(solver, theta, key, sigma, num_samples)
        perturbed_theta = theta[None] + sigma * noise
        value = jnp.mean(jnp.sum(perturbed_theta * decisions, axis=-1)) - theta @ target
        return value, (jnp.mean(decisions, axis=0) - target, theta)

    def backward(residual, cotangent):
        gradient, theta = residual
        return cotangent * gradient, -cotangent * theta, None

    loss.defvjp(forward, backward)

    def fy_loss(theta, target, key):
        _require_key(key)
        return loss(jnp.asarray(theta, dtype=float), jnp.asarray(target, dtype=float), key)

    return fy_loss


def _require_key(key) -> None:
    if key is None:
        raise TypeError("a jax.random key is required (e.g. jax.random.key(0)): the "
                        "perturbed estimate is random and must be reproducible")
    dtype = getattr(key, "dtype", None)
    if dtype is None or not (jnp.issubdtype(dtype, jax.dtypes.prng_key)
                             or (dtype == jnp.uint32 and key.shape[-1:] == (2,))):
        raise TypeError(f"expected a jax.random key, got {type(key).__name__} {dtype}")


# ---------------------------------------------------------- smooth relaxation


def relaxed_layer(instance: Instance, budget: float, *, steps: int = 200, outer: int = 4,
                  tau_end: float = 0.25, learning_rate: float = 0.1, rho: float = 10.0):
    """``x(reward, cost, key)``: the fractional selection (per line, instance order) of the
    relaxation of :mod:`moqlab.relaxations._relax` at a final temperature ``tau_end > 0``, a smooth
    function of the line ``reward`` and ``cost`` differentiated through the unrolled
    optimiser. The key draws the starting point and is required."""
    dense = to_dense(instance, pad=False)
    dense = jax.tree.map(jnp.asarray, dense)
    cfg = RelaxConfig(steps=int(steps), outer=int(outer), learning_rate=float(learning_rate),
                      rho=float(rho), tau_start=1.0, tau_end=float(tau_end))
    rows, cols = jnp.asarray(instance.line_item), jnp.asarray(instance.line_rank)
    shape = dense.reward.shape

    def layer(reward, cost, key):
        _require_key(key)
        reward = jnp.zeros(shape).at[rows, cols].set(jnp.asarray(reward, dtype=float))
        cost = jnp.zeros(shape).at[rows, cols].set(jnp.asarray(cost, dtype=float))
        x = relaxed_selection(reward, cost, dense, jnp.asarray(budget, dtype=float), key, cfg)
        return x[rows, cols]

    return layer


# ----------------------------------------------------------------------- regret


def normalized_regret(true_reward, decision, optimal_value) -> jax.Array:
    """PyEPO's normalised regret ``sum(opt - <r, y>) / sum(|opt|)`` over a batch:
    ``true_reward`` and ``decision`` are ``[batch, n_lines]`` (or one instance ``[n]``),
    ``optimal_value`` the optimum under the true rewards per instance."""
    true_reward = jnp.atleast_2d(jnp.asarray(true_reward, dtype=float))
    decision = jnp.atleast_2d(jnp.asarray(decision, dtype=float))
    optimal_value = jnp.atleast_1d(jnp.asarray(optimal_value, dtype=float))
    realised = jnp.sum(true_reward * decision, axis=-1)
    return jnp.sum(optimal_value - realised) / jnp.sum(jnp.abs(optimal_value))
