"""moqlab.diff: perturbed optimizers, Fenchel-Young loss, smooth relaxation, regret."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import moqlab
from moqlab import diff


def _knapsack():
    # Three single-line items of cost 1, budget 2: the two best lines are chosen.
    return moqlab.Instance.from_arrays(["a", "b", "c"], [3.0, 2.0, 1.0], [1.0, 1.0, 1.0])


def _moq_instance():
    return moqlab.Instance.from_arrays(
        ["a", "a", "b", "b", "c"], [4.0, 1.0, 3.0, -1.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0],
        families=[(["s", "s", "t", "t", "t"], [1, 1, 1, 1, 1], [2, 2, 0, 0, 0])])


def test_enumeration_solver_matches_enumerate():
    inst = _moq_instance()
    solver = jax.jit(diff.enumeration_solver(inst, budget=3))
    rng = np.random.default_rng(0)
    for _ in range(5):
        theta = rng.normal(size=inst.n_lines) * 3
        exact = moqlab.solve(diff.with_rewards(inst, theta), budget=3, method="enumerate")
        assert np.isclose(float(jnp.dot(theta, solver(theta))), exact.reward)


def test_callback_solver_is_verified_and_jit_equals_eager():
    inst = _moq_instance()
    solver = diff.callback_solver(inst, "greedy", budget=3)
    theta = jnp.asarray(inst.reward)
    eager = solver(theta)
    assert np.array_equal(np.asarray(jax.jit(solver)(theta)), np.asarray(eager))
    assert np.array_equal(np.asarray(eager, bool),
                          moqlab.solve(inst, budget=3, method="greedy").selected)
    batch = jax.vmap(solver)(jnp.stack([theta, -theta]))
    assert batch.shape == (2, inst.n_lines) and not np.asarray(batch[1]).any()


@pytest.mark.parametrize("kind", ["enumerate", "greedy"])
def test_perturbed_jit_equals_eager(kind):
    inst = _moq_instance()
    solver = diff.enumeration_solver(inst, 3) if kind == "enumerate" else \
        diff.callback_solver(inst, "greedy", budget=3)
    layer = diff.perturbed(solver, sigma=0.5, num_samples=8)
    theta, key = jnp.asarray(inst.reward), jax.random.key(1)
    w = jnp.arange(inst.n_lines, dtype=jnp.float64)
    f = lambda t: jnp.dot(w, layer(t, key))  # noqa: E731
    np.testing.assert_allclose(jax.jit(layer)(theta, key), layer(theta, key))
    np.testing.assert_allclose(jax.jit(jax.grad(f))(theta), jax.grad(f)(theta), rtol=1e-12)


def test_perturbed_gradient_signs_on_a_hand_made_case():
    inst = _knapsack()
    layer = diff.perturbed(diff.enumeration_solver(inst, budget=2), sigma=0.5, num_samples=4000)
    theta, key = jnp.array([1.4, 1.0, 0.6]), jax.random.key(0)
    jac = jax.jacrev(lambda t: layer(t, key))(theta)
    # Raising line c's reward makes c more likely and the others (competing for the
    # budget) less likely.
    assert jac[2, 2] > 0 and jac[0, 2] < 0 and jac[1, 2] < 0
    assert np.all(np.diag(jac) > 0)
    y = layer(theta, key)
    assert y[0] > y[1] > y[2] and float(y.sum()) <= 2.0  # at most two lines fit


def test_perturbed_gradient_matches_finite_differences_of_the_expectation():
    # For one line and budget 1, y_sigma(theta) = P(theta + sigma z > 0) = Phi(theta / sigma).
    inst = moqlab.Instance.from_arrays(["a"], [1.0], [1.0])
    layer = diff.perturbed(diff.enumeration_solver(inst, 1.0), sigma=1.0, num_samples=20000)
    grad = jax.grad(lambda t: layer(t, jax.random.key(3))[0])(jnp.array([0.3]))
    density = np.exp(-0.3 ** 2 / 2) / np.sqrt(2 * np.pi)
    assert abs(float(grad[0]) - density) < 0.03


def test_fenchel_young_gradient_is_expected_minus_target():
    inst = _moq_instance()
    solver = diff.enumeration_solver(inst, budget=3)
    loss = diff.fenchel_young_loss(solver, sigma=0.5, num_samples=64)
    layer = diff.perturbed(solver, sigma=0.5, num_samples=64)
    theta, key = jnp.asarray(inst.reward), jax.random.key(4)
    target = solver(theta)
    grad = jax.grad(loss)(theta, target, key)
    np.testing.assert_allclose(grad, layer(theta, key) - target, atol=1e-12)
    assert float(loss(theta, target, key)) >= -0.05  # >= 0 up to the Monte-Carlo error
    np.testing.assert_allclose(jax.jit(loss)(theta, target, key), loss(theta, target, key))
    # Moving theta along -grad lowers the loss (convex, smooth in expectation).
    worse = theta.at[0].set(-4.0)
    assert float(loss(worse, target, key)) > float(loss(theta, target, key))


def test_keys_are_required():
    inst = _knapsack()
    solver = diff.enumeration_solver(inst, budget=2)
    with pytest.raises(TypeError):
        diff.perturbed(solver)(jnp.ones(3), None)
    with pytest.raises(TypeError):
        diff.perturbed(solver)(jnp.ones(3), 0)
    with pytest.raises(TypeError):
        diff.fenchel_young_loss(solver)(jnp.ones(3), jnp.ones(3), None)
    with pytest.raises(TypeError):
        diff.relaxed_layer(inst, 2.0, steps=8, outer=2)(jnp.ones(3), jnp.ones(3), None)
    with pytest.raises(TypeError):
        diff.perturbed(solver)(jnp.ones(3))  # noqa  (no key at all)


def test_relaxed_layer_matches_finite_differences_and_jit():
    inst = _moq_instance()
    layer = diff.relaxed_layer(inst, 3.0, steps=24, outer=2, tau_end=0.5)
    key = jax.random.key(0)
    reward, cost = jnp.asarray(inst.reward), jnp.asarray(inst.cost)
    layer_jit = jax.jit(lambda r, c: layer(r, c, key))
    jac_r, jac_c = jax.jit(jax.jacrev(lambda r, c: layer(r, c, key), argnums=(0, 1)))(reward, cost)
    x = layer_jit(reward, cost)
    np.testing.assert_allclose(x, layer(reward, cost, key), rtol=1e-10)  # jit == eager
    assert np.all((x >= 0) & (x <= 1))
    eps = 1e-6
    for j in range(inst.n_lines):
        e = jnp.zeros(inst.n_lines).at[j].set(eps)
        fd_r = (layer_jit(reward + e, cost) - layer_jit(reward - e, cost)) / (2 * eps)
        fd_c = (layer_jit(reward, cost + e) - layer_jit(reward, cost - e)) / (2 * eps)
        np.testing.assert_allclose(jac_r[:, j], fd_r, atol=1e-5)
        np.testing.assert_allclose(jac_c[:, j], fd_c, atol=1e-5)
    # Item c (one line, no MOQ): a higher reward raises its selection, a higher cost lowers it.
    assert jac_r[4, 4] > 0 and jac_c[4, 4] < 0


def test_normalized_regret_as_pyepo_defines_it():
    reward = jnp.array([[3.0, 2.0, 1.0], [1.0, -1.0, 4.0]])
    decision = jnp.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    optimum = jnp.array([5.0, 5.0])
    # (5 - 4) + (5 - 4) over |5| + |5|
    assert np.isclose(float(diff.normalized_regret(reward, decision, optimum)), 0.2)
    assert float(diff.normalized_regret(reward[0], jnp.array([1.0, 1.0, 0.0]), 5.0)) == 0.0
