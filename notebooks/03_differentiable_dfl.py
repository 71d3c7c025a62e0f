# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Differentiable MOQ layers and decision-focused learning
#
# An MOQ solver maps line rewards `theta` to a 0/1 order `y*(theta)`: piecewise constant,
# so its gradient is zero almost everywhere. `moqlab.diff` offers three ways to learn
# through it:
#
# * the **perturbed optimizer** `E[y*(theta + sigma Z)]` (smooth, Monte-Carlo gradient);
# * the **Fenchel-Young loss** built on it (convex in `theta`, gradient
#   `y_sigma(theta) - y`, no Jacobian needed);
# * the **relaxed layer**: the continuous relaxation behind `method="relax"` kept at a
#   positive temperature and differentiated through its unrolled optimiser.
#
# `MOQLAB_SMALL=1` (CI) shrinks the learning experiment at the end.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import moqlab
from moqlab import diff

SMALL = os.environ.get("MOQLAB_SMALL") == "1"

# %% [markdown]
# ## A tiny order with a supplier minimum
#
# Two items (two lines each) from supplier `s1` with a money MOQ of 4 (the group must reach
# a cost of 4 or be left out), one item `c` from supplier `s2`, a budget of 5: the order is
# either the whole `s1` group (reward 6.5) or `c` alone (reward 6) -- a close call.

# %%
inst = moqlab.Instance.from_arrays(
    ["a", "a", "b", "b", "c"], [3.0, 1.0, 2.0, 0.5, 6.0], [1.0, 1.0, 1.5, 1.5, 2.0],
    families=[(["s1", "s1", "s1", "s1", "s2"], [1.0, 1.0, 1.5, 1.5, 2.0], [4.0, 4.0, 4.0, 4.0, 0.0])])
theta = jnp.asarray(inst.reward)
solver = diff.enumeration_solver(inst, budget=5.0)
print("exact order y*(theta):", solver(theta))
print("verified:", moqlab.check(inst, np.asarray(solver(theta)) > 0.5, budget=5.0).feasible)

# %% [markdown]
# ## Perturbed optimizer: a smooth order and its Jacobian
#
# `diff.perturbed(solver, sigma, num_samples)` returns `f(theta, key)`; the key makes the
# Monte-Carlo estimate reproducible. The Jacobian column of line `c` shows how raising its
# reward pulls the supplier group out of the order (MOQ coupling).

# %%
layer = diff.perturbed(solver, sigma=0.5, num_samples=256)
key = jax.random.key(0)
print("smoothed order:", np.round(layer(theta, key), 2))
jacobian = jax.jacobian(lambda t: layer(t, key))(theta)
pd.DataFrame(np.asarray(jacobian), index=[f"y[{j}]" for j in range(5)],
             columns=[f"d theta[{j}]" for j in range(5)]).round(2)

# %% [markdown]
# ## Fenchel-Young loss
#
# For a target order `y`, `L(theta; y) = F(theta) - <theta, y>` with gradient
# `y_sigma(theta) - y`: gradient descent on `theta` moves the smoothed order towards `y`.

# %%
fy = diff.fenchel_young_loss(solver, sigma=0.5, num_samples=64)
target = 1.0 - solver(theta)     # "order the other side of the close call"
t = theta
losses = []
for step in range(40):
    loss, grad = jax.value_and_grad(fy)(t, target, jax.random.key(step))
    losses.append(float(loss))
    t = t - 0.5 * grad
print("final order:", solver(t), " target:", target)
plt.figure(figsize=(5, 2.8))
plt.plot(losses)
plt.xlabel("gradient step")
plt.ylabel("Fenchel-Young loss")
plt.show()

# %% [markdown]
# ## The relaxed layer: gradients with respect to costs too
#
# The relaxation is smooth in rewards *and* costs; here the fractional order and how the
# total selected reward responds to each line's cost.

# %%
relaxed = diff.relaxed_layer(inst, budget=5.0, steps=40 if SMALL else 200)
x = relaxed(theta, jnp.asarray(inst.cost), jax.random.key(1))
print("fractional order:", np.round(x, 3))
dcost = jax.grad(lambda c: jnp.sum(theta * relaxed(theta, c, jax.random.key(1))))(
    jnp.asarray(inst.cost))
print("d(selected reward)/d(cost):", np.round(dcost, 3))

# %% [markdown]
# ## Decision-focused learning
#
# `moqlab.lab._dfl` (also `benchmarks/dfl_experiment.py`) runs a PyEPO-style experiment: item
# features drive true line rewards through a degree-4 polynomial; a linear model predicts
# rewards and is trained either by mean squared error (**two-stage**) or by the
# Fenchel-Young loss through the exact solver (**fy**, decision-focused). The measure is
# the normalised regret of the orders the predictions lead to, on held-out instances.

# %%
from moqlab.lab._dfl import run_experiment

if SMALL:
    table = run_experiment(seeds=range(1), degrees=(4,), n_train=30, n_test=60, steps=40)
else:
    table = run_experiment(small=True)
table

# %%
summary = table.groupby("method")["regret"].agg(["mean", "std", "count"])
ax = summary["mean"].plot.bar(yerr=summary["std"].fillna(0), figsize=(4, 3), rot=0)
ax.set_ylabel("held-out normalised regret")
plt.show()
summary
