"""The differentiable layers behind :mod:`moqlab.diff` (perturbed optimizer, Fenchel-Young
loss, exact enumeration solver, smooth relaxation layer, normalized regret): the math, the
references and a runnable example are in :mod:`moqlab.diff`, the public face that also
holds :func:`moqlab.diff.callback_solver` (it calls :func:`moqlab.solve`, a layer above this
one). The layers compute in the caller's JAX precision; moqlab never changes it.
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
