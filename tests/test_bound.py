"""The certified bound: never below the optimum (brute force, the suite's proven optima,
Pisinger's), whatever the multipliers, and carried by every budget-mode result."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import moqlab
from moqlab import cli
from moqlab.core._layout import prefix_layout
from moqlab.core._precision import float64
from moqlab.lab._bench import _from_pisinger
from moqlab.relaxations import Multipliers, dual_value, reward_bound, reward_bounds
from moqlab.relaxations._bound import branch_bound

from brute import answer
from strategies import tiny_frames

SLACK = 1e-9  # the verifier's relative tolerance


def below(bound: float, optimum: float) -> bool:
    return bound < optimum - SLACK * max(1.0, abs(optimum))


@st.composite
def budget_problems(draw, **kwargs):
    inst = moqlab.Instance.from_frame(draw(tiny_frames(**kwargs)))
    top = float(np.clip(inst.cost, 0, None).sum())
    return inst, float(draw(st.integers(0, int(top) + 2)))


@given(budget_problems(negative_costs=True))
def test_bound_is_never_below_the_brute_force_optimum(problem):
    inst, budget = problem
    optimum = answer(inst, "budget", budget)[0]
    assert not below(reward_bound(inst, budget), optimum)


@float64
def _dual_value_at(inst, budget, lam, nu_seed):
    lay = prefix_layout(inst, budget)
    nu = np.random.default_rng(nu_seed).exponential(2.0, size=lay.group.shape)
    value, allowance = dual_value(lay, Multipliers(jnp.asarray(lam), jnp.asarray(nu)))
    return float(value + allowance)


@given(budget_problems(), st.floats(0, 20), st.integers(0, 2**31))
@settings(max_examples=40)
def test_any_multipliers_give_a_bound(problem, lam, nu_seed):
    """Weak duality: the dual function is a bound at every ``lam >= 0, nu >= 0``, not only
    at the optimiser's point (so a poorly converged search still returns a valid bound)."""
    inst, budget = problem
    optimum = answer(inst, "budget", budget)[0]
    assert not below(_dual_value_at(inst, budget, lam, nu_seed), optimum)


def test_bound_holds_on_the_suite_and_is_tight_on_loose_orders():
    cases = [c for c in moqlab.load_suite(["tiny", "small"]) if c.mode == "budget"
             and c.proven]
    bounds = reward_bounds([c.instance for c in cases], [c.limit for c in cases])
    for case, bound in zip(cases, bounds):
        assert not below(bound, case.optimum), case.name
    knapsacks = [b / c.optimum - 1 for c, b in zip(cases, bounds)
                 if c.name.startswith("small-knap")]
    assert max(knapsacks) < 0.02  # the LP bound of these knapsacks is within 2 %


def test_bound_holds_on_pisinger_instances():
    cases = _from_pisinger("small")[:40]
    bounds = reward_bounds([c.instance for c in cases], [c.limit for c in cases])
    for case, bound in zip(cases, bounds):
        assert not below(bound, case.optimum), case.name
    assert np.median(bounds / np.array([c.optimum for c in cases])) < 1.05


def test_bound_does_not_depend_on_units():
    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-mixed-t1")
    inst = case.instance
    scaled = moqlab.Instance(**{**{name: getattr(inst, name) for name in (
        "items", "line_item", "line_rank", "line_min", "target", "families", "rows")},
        "reward": inst.reward * 1000.0, "cost": inst.cost / 8.0})
    plain, big = reward_bounds([inst, scaled], [case.limit, case.limit / 8.0])
    assert big == pytest.approx(1000.0 * plain, rel=1e-3)


def test_batched_bounds_equal_single_ones():
    cases = [c for c in moqlab.load_suite("tiny") if c.mode == "budget"][:5]
    together = reward_bounds([c.instance for c in cases], [c.limit for c in cases])
    alone = [reward_bound(c.instance, c.limit) for c in cases]
    np.testing.assert_allclose(together, alone, rtol=1e-12)


def test_a_stopped_dual_search_is_a_looser_bound_still_valid(monkeypatch):
    from moqlab.relaxations import _bound
    from moqlab.relaxations._bound import root_bounds
    monkeypatch.setattr(_bound, "CHUNKED_CELLS", 0)  # small layouts run in chunks too
    cases = [c for c in moqlab.load_suite("small") if c.mode == "budget" and c.proven][:6]
    args = ([c.instance for c in cases], [c.limit for c in cases])
    full = [value for value, _ in root_bounds(*args)]
    stopped = [value for value, _ in root_bounds(*args, seconds=1e-9)]  # one chunk of steps
    for case, loose, tight in zip(cases, stopped, full):
        assert not below(loose, case.optimum), case.name
        assert loose >= tight - SLACK * abs(tight), case.name
    assert any(loose > tight * (1 + 1e-6) for loose, tight in zip(stopped, full))


@given(budget_problems(max_families=2), st.sampled_from(["empty", "greedy"]))
@settings(max_examples=30)
def test_branching_never_cuts_below_the_optimum(problem, incumbent_from):
    """Pruning with a valid order's reward and capping children by their parents keeps the
    bound at or above the brute-force optimum, whatever order the incumbent comes from."""
    inst, budget = problem
    optimum = answer(inst, "budget", budget)[0]
    incumbent = 0.0 if incumbent_from == "empty" else moqlab.solve(
        inst, budget=budget, method="greedy", bound=False).reward
    result = branch_bound(inst, budget, incumbent, seconds=30.0)
    assert not below(result.bound, optimum)
    assert result.bound <= result.root
    if result.closed:  # every branch pruned: the incumbent is proven optimal
        assert result.bound == incumbent and not below(incumbent, optimum)


def test_branching_closes_the_gap_of_tight_orders():
    """The dual bound of a tight order is 31 % above its proven optimum (the LP relaxation's
    gap); branching on its MOQ groups brings it within 1 %."""
    case = next(c for c in moqlab.load_suite("medium") if c.name == "medium-stock-merchant-t1")
    result = branch_bound(case.instance, case.limit, case.optimum, seconds=120.0)
    assert result.root > 1.25 * case.optimum
    assert case.optimum <= result.bound < 1.01 * case.optimum
    assert result.nodes > 0


# ------------------------------------------------------------------ on every result

@pytest.fixture(scope="module")
def order():
    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-mixed-t0.5")
    return case


def test_heuristic_results_carry_a_certified_gap(order):
    for method in ("greedy", "search"):
        res = moqlab.solve(order.instance, budget=order.limit, method=method)
        assert res.bound is not None and res.bound >= order.optimum
        assert res.gap == pytest.approx((res.bound - res.reward) / res.bound)
        assert res.gap >= 0 and res.info["bound_seconds"] > 0
        summary = res.summary()
        assert summary["bound"] == res.bound and summary["gap"] == res.gap


def test_exact_results_bound_is_their_proof(order):
    res = moqlab.solve(order.instance, budget=order.limit, method="milp")
    assert res.status == "optimal" and res.bound == res.reward and res.gap == 0.0
    assert "bound_seconds" not in res.info  # no Lagrangian bound computed for a proof


def test_bound_can_be_turned_off_and_is_absent_in_target_modes(order):
    res = moqlab.solve(order.instance, budget=order.limit, method="greedy", bound=False)
    assert res.bound is None and res.gap is None
    root = moqlab.solve(order.instance, budget=order.limit, method="greedy", bound_time=0)
    assert "bound_nodes" not in root.info and root.bound >= order.optimum
    with pytest.raises(moqlab.MOQInputError, match="bound_time"):
        moqlab.solve(order.instance, budget=order.limit, method="greedy", bound_time=-1)
    res = moqlab.solve(order.instance, min_target=10.0, method="greedy")
    assert res.bound is None and res.gap is None


def test_batches_get_bounds_in_one_call(order):
    cases = [c for c in moqlab.load_suite("tiny") if c.mode == "budget"][:4]
    results = moqlab.solve_batch([c.instance for c in cases], budget=[c.limit for c in cases],
                                 method="jax-greedy")
    for case, res in zip(cases, results):
        assert res.bound >= case.optimum - SLACK * abs(case.optimum)
        assert res.gap >= 0


def test_orders_that_enumerate_are_bounded_by_their_optimum():
    cases = [c for c in moqlab.load_suite("tiny") if c.mode == "budget"]
    for case in cases:
        res = moqlab.solve(case.instance, budget=case.limit, method="greedy")
        assert res.bound == pytest.approx(case.optimum, rel=1e-12, abs=1e-9), case.name
        assert "root_bound" not in res.info and res.info["bound_seconds"] < 1.0


def test_cli_reports_the_bound(tmp_path, capsys):
    path = "datasets/examples/order.csv"
    assert cli.main(["solve", path, "--budget", "1500", "--method", "greedy"]) == 0
    assert "certified gap" in capsys.readouterr().out
    assert cli.main(["solve", path, "--budget", "1500", "--method", "greedy", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bound"] >= summary["reward"] and 0 <= summary["gap"] < 1
    assert cli.main(["solve", path, "--budget", "1500", "--method", "greedy", "--json",
                     "--no-bound"]) == 0
    assert json.loads(capsys.readouterr().out)["bound"] is None
