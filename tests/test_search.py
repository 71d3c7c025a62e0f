"""search: verified feasible, never below greedy in budget mode, deterministic; the engine's
parts keep their promises."""

import numpy as np
from hypothesis import given, settings

import moqlab
from strategies import tiny_problems

FAST = {"budgets": 4}


@settings(max_examples=10)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_search_is_feasible_and_bounded_by_enumerate(problem):
    inst, mode, limit = problem
    res = moqlab.solve(inst, method="search", **{mode: limit}, **FAST)
    assert res.feasible, res.message
    assert res.status in ("feasible", "target_unreachable")
    if mode == "budget":
        exact = moqlab.solve(inst, method="enumerate", budget=limit)
        greedy = moqlab.solve(inst, method="greedy", budget=limit, bound=False)
        assert res.cost <= limit + 1e-9
        assert greedy.reward - 1e-9 <= res.reward <= exact.reward + 1e-9
        assert res.bound >= exact.reward - 1e-9 * max(1.0, abs(exact.reward))
    if mode == "max_target" and res.status == "feasible":
        assert res.target <= limit + 1e-9
    if mode == "min_target" and res.status == "feasible":
        assert res.target >= limit - 1e-9


def test_search_is_deterministic():
    # small enough to share the compiled shapes of the hypothesis test above
    inst = moqlab.Instance.from_arrays(
        ["a", "a", "b", "b", "c", "d", "e"], [5.0, 3.0, 4.0, 1.0, 3.0, 2.5, 2.0],
        [2.0, 2.0, 3.0, 1.0, 2.0, 2.0, 1.0],
        families=[(["s", "s", "s", "s", "t", "t", "u"], [1.0] * 7, [3.0] * 4 + [2.0] * 2 + [0.0])])
    runs = [moqlab.solve(inst, budget=7, method="search", **FAST) for _ in range(2)]
    assert np.array_equal(runs[0].take, runs[1].take)
    assert runs[0].feasible
    greedy = moqlab.solve(inst, budget=7, method="greedy")
    assert runs[0].reward >= greedy.reward - 1e-9


def test_search_opens_the_groups_greedy_leaves_shut():
    # MOQ-heavy stock order: greedy stops at under half the optimum; the engine's repair and
    # group search find the groups to open, and the answer stays verified
    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-mixed-t0.5")
    greedy = moqlab.solve(case.instance, budget=case.limit, method="greedy")
    found = moqlab.solve(case.instance, budget=case.limit, method="search", polish_moves=0)
    assert greedy.reward < 0.5 * case.optimum
    assert found.feasible and found.reward >= 0.97 * case.optimum
    assert found.reward <= case.optimum + 1e-6
