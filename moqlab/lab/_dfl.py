"""Decision-focused learning for MOQ orders, end to end: features -> predicted line rewards
-> the MOQ solver -> reward realised under the true rewards.

**Data** (:func:`make_dataset`, PyEPO-style, known ground truth). One fixed order template
(costs, ladders, MOQs and budget): ``n_items`` items with ``n_lines`` steps each, line
costs ``c_il ~ U(1, 3)`` per item, a per-item MOQ of two steps on every other item and a
budget of ``budget_share`` of the total cost. Each instance draws item features
``f_i ~ N(0, I_p)``; the true reward of step ``l`` of item ``i`` is

``r_il = [((B f_i) / sqrt(p) + 3)^deg / 3^(deg - 1) - 1] * decay^l * eps_il - carry * l``

with a fixed random ``B in {0, 1}^p`` (Bernoulli 1/2), multiplicative noise
``eps ~ U(1 - noise, 1 + noise)``: the value of an item is a degree-``deg`` polynomial of its
features, later steps are worth less and can turn negative.

**Models** (:func:`fit`). A linear model on per-line features ``[f_i (x) e_l, e_l]``
(``e_l`` the one-hot step): ``theta_il = <w_l, f_i> + b_l`` -- misspecified as soon as
``deg > 1``. Trained

* ``"two-stage"``: by mean squared error between ``theta`` and the true rewards;
* ``"fy"`` (decision-focused): by the perturbed Fenchel-Young loss of :mod:`moqlab.diff`
  with the true optimal order ``y*(r)`` as the label;

with Adam, full batch, from zero weights. The solver is exact
(:func:`moqlab.diff.enumeration_solver`: every valid order of the template listed once).

**Evaluation** (:func:`run_experiment`): normalised regret (PyEPO) of the decisions
``y*(theta_hat)`` on held-out instances, for several seeds.

Example (a fast run)::

    >>> from moqlab.lab._dfl import run_experiment
    >>> table = run_experiment(small=True)          # doctest: +SKIP
    >>> sorted(table["method"].unique())            # doctest: +SKIP
    ['fy', 'two-stage']
"""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from ..core._instance import Instance
from ..core._precision import float64
from ..relaxations._diff import enumeration_solver, fenchel_young_loss, normalized_regret


class Dataset(NamedTuple):
    """Instances sharing one template: features ``[N, n_lines, d]`` (the model's per-line
    inputs), true rewards ``[N, n_lines]``, optimal decisions and values under them."""

    template: Instance
    budget: float
    features: np.ndarray
    reward: np.ndarray
    optimal_decision: np.ndarray
    optimal_value: np.ndarray


def make_template(n_items: int, n_lines: int, rng: np.random.Generator,
                  budget_share: float = 0.4) -> tuple[Instance, float]:
    """The fixed order structure: costs, per-item MOQs (two steps, every other item), budget."""
    item = np.repeat([f"i{i}" for i in range(n_items)], n_lines)
    cost = np.round(np.repeat(rng.uniform(1.0, 3.0, n_items), n_lines), 2)
    moq = np.repeat(np.where(np.arange(n_items) % 2 == 0, 2.0, 0.0), n_lines)
    template = Instance.from_arrays(item, np.zeros(n_items * n_lines), cost,
                                    families=[(item, np.ones(n_items * n_lines), moq)])
    return template, float(np.round(budget_share * cost.sum(), 2))


def true_rewards(item_features: np.ndarray, n_lines: int, mixing: np.ndarray, degree: int,
                 noise: float, rng: np.random.Generator, decay: float = 0.6,
                 carry: float = 0.3) -> np.ndarray:
    """``[N, items * n_lines]`` true rewards from ``[N, items, p]`` item features."""
    p = item_features.shape[-1]
    score = item_features @ mixing / np.sqrt(p) + 3.0
    value = score ** degree / 3.0 ** (degree - 1) - 1.0  # [N, items]
    steps = np.arange(n_lines)
    eps = rng.uniform(1.0 - noise, 1.0 + noise, value.shape + (n_lines,))
    reward = value[..., None] * decay ** steps * eps - carry * steps
    return reward.reshape(reward.shape[0], -1)


def line_features(item_features: np.ndarray, n_lines: int) -> np.ndarray:
    """Per-line inputs ``[f_i (x) e_l, e_l]``: ``[N, items * n_lines, (p + 1) * n_lines]``."""
    n, items, p = item_features.shape
    eye = np.eye(n_lines)
    with_bias = np.concatenate([item_features, np.ones((n, items, 1))], axis=-1)
    per_line = with_bias[:, :, None, None, :] * eye[None, None, :, :, None]
    return per_line.reshape(n, items * n_lines, n_lines * (p + 1))


def make_dataset(n_instances: int, *, n_items: int = 6, n_lines: int = 3, n_features: int = 5,
                 degree: int = 4, noise: float = 0.5, seed: int = 0,
                 template_seed: int = 0) -> Dataset:
    """Generated instances with known true rewards (see the module docstring). The
    template and the mixing matrix depend on ``template_seed`` only, so training and
    test sets drawn with different ``seed`` share them."""
    structure = np.random.default_rng(template_seed)
    template, budget = make_template(n_items, n_lines, structure)
    mixing = structure.binomial(1, 0.5, n_features).astype(np.float64)
    rng = np.random.default_rng([template_seed, seed])
    item_features = rng.normal(size=(n_instances, n_items, n_features))
    reward = true_rewards(item_features, n_lines, mixing, degree, noise, rng)
    solver = jax.jit(jax.vmap(enumeration_solver(template, budget)))
    decision = np.asarray(solver(jnp.asarray(reward)))
    return Dataset(template, budget, line_features(item_features, n_lines), reward, decision,
                   np.sum(reward * decision, axis=1))


def predict(weights, features):
    """Linear model: ``theta = features @ weights``."""
    return features @ weights


@float64
def fit(data: Dataset, method: str, *, steps: int = 300, learning_rate: float = 0.05,
        sigma: float = 0.5, num_samples: int = 16, seed: int = 0) -> np.ndarray:
    """Weights of the linear model trained by ``"two-stage"`` (MSE) or ``"fy"``
    (Fenchel-Young through the perturbed exact solver); ``seed`` feeds the perturbations."""
    features = jnp.asarray(data.features)
    reward = jnp.asarray(data.reward)
    target = jnp.asarray(data.optimal_decision)
    if method == "two-stage":
        def loss(w, key):
            return jnp.mean((predict(w, features) - reward) ** 2)
    elif method == "fy":
        fy = jax.vmap(fenchel_young_loss(enumeration_solver(data.template, data.budget),
                                         sigma=sigma, num_samples=num_samples))

        def loss(w, key):
            keys = jax.random.split(key, features.shape[0])
            return jnp.mean(fy(predict(w, features), target, keys))
    else:
        raise ValueError(f"unknown method {method!r}: 'two-stage' or 'fy'")
    optimiser = optax.adam(learning_rate)

    @jax.jit
    def train(w, key):
        def step(carry, step_key):
            w, state = carry
            updates, state = optimiser.update(jax.grad(loss)(w, step_key), state, w)
            return (optax.apply_updates(w, updates), state), None

        (w, _), _ = jax.lax.scan(step, (w, optimiser.init(w)), jax.random.split(key, steps))
        return w

    w0 = jnp.zeros(features.shape[-1])
    return np.asarray(train(w0, jax.random.key(seed)))


@float64
def evaluate(weights, data: Dataset) -> float:
    """Normalised regret of the decisions ``y*(features @ weights)`` on ``data``."""
    solver = jax.jit(jax.vmap(enumeration_solver(data.template, data.budget)))
    decision = solver(predict(jnp.asarray(weights), jnp.asarray(data.features)))
    return float(normalized_regret(data.reward, decision, data.optimal_value))


@float64
def run_experiment(*, small: bool = False, seeds=None, degrees=None, n_train: int | None = None,
                   n_test: int | None = None, steps: int | None = None,
                   methods=("two-stage", "fy")) -> pd.DataFrame:
    """Train every method for every (degree, seed) and measure held-out normalised regret.

    ``small=True``: one degree (4), 2 seeds, 100 training instances, 150 steps (seconds);
    default: degrees 1, 2, 4, 6, 5 seeds, 300 training / 500 test instances, 300 steps.
    Returns one row per (degree, seed, method): ``regret``, ``train_regret``, ``seconds``.
    """
    seeds = (range(2) if small else range(5)) if seeds is None else seeds
    degrees = ((4,) if small else (1, 2, 4, 6)) if degrees is None else degrees
    n_train = (100 if small else 300) if n_train is None else n_train
    n_test = (200 if small else 500) if n_test is None else n_test
    steps = (150 if small else 300) if steps is None else steps
    rows = []
    for degree in degrees:
        for seed in seeds:
            train = make_dataset(n_train, degree=degree, seed=2 * seed, template_seed=seed)
            test = make_dataset(n_test, degree=degree, seed=2 * seed + 1, template_seed=seed)
            for method in methods:
                start = time.perf_counter()
                weights = fit(train, method, steps=steps, seed=seed)
                seconds = time.perf_counter() - start
                rows.append({"degree": degree, "seed": seed, "method": method,
                             "regret": evaluate(weights, test),
                             "train_regret": evaluate(weights, train), "seconds": seconds})
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of held-out regret per (degree, method), and how often
    (over seeds) each method beats the other."""
    summary = table.groupby(["degree", "method"])["regret"].agg(["mean", "std", "count"])
    wide = table.pivot_table(index=["degree", "seed"], columns="method", values="regret")
    if {"fy", "two-stage"} <= set(wide.columns):
        wins = (wide["fy"] < wide["two-stage"]).groupby(level="degree").mean()
        summary = summary.join(wins.rename("fy_wins_share"), on="degree")
    return summary.reset_index()
