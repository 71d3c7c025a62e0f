"""greedy and roundup: always verified feasible, never better than the exact optimum."""

import numpy as np
import pytest
from hypothesis import given

import moqlab
from strategies import tiny_problems

HEURISTICS = ["greedy", "roundup"]


@given(tiny_problems())
def test_every_method_is_feasible_and_enumerate_dominates(problem):
    inst, mode, limit = problem
    exact = moqlab.solve(inst, method="enumerate", **{mode: limit})
    assert exact.feasible
    for method in HEURISTICS:
        res = moqlab.solve(inst, method=method, **{mode: limit})
        assert res.feasible, (method, res.message)
        assert res.status in ("feasible", "target_unreachable")
        assert moqlab.check(inst, res.selected, budget=limit if mode == "budget" else None).feasible
        if mode == "budget":
            assert res.cost <= limit + 1e-9
            assert exact.reward >= res.reward - 1e-9, method
        if mode == "max_target" and res.status == "feasible":
            assert res.target <= limit + 1e-9


def test_greedy_opens_a_group_as_one_bundle():
    # Supplier S needs 3 units; each of its lines alone is worth little per unit of cost
    # compared with the lone item "x", but the bundle of 3 beats leaving the budget unused.
    frame = {
        "id": ["a", "b", "c", "x"], "min": [1, 1, 1, 1],
        "reward": [4.0, 4.0, 4.0, 3.0], "cost": [2.0, 2.0, 2.0, 1.0],
        "g0": ["S", "S", "S", "T"], "oq0": [1.0, 1.0, 1.0, 1.0], "moq0": [3.0, 3.0, 3.0, 0.0],
    }
    import pandas as pd
    inst = moqlab.Instance.from_frame(pd.DataFrame(frame))
    res = moqlab.solve(inst, budget=7, method="greedy")
    assert res.feasible
    assert res.reward == 15.0  # x plus the whole bundle a, b, c
    naive = moqlab.solve(inst, budget=5, method="roundup")
    assert naive.feasible  # x, then a+b short of 3 units: rounded up is 7 > 5, dropped
    assert naive.quantities == {"a": 0, "b": 0, "c": 0, "x": 1}


def test_greedy_pools_a_bad_step_with_the_good_one_behind_it():
    # Item a's first step is poor, its second excellent: pooled, a is worth 11/3 per cost.
    inst = moqlab.Instance.from_arrays(["a", "a", "b"], [1.0, 10.0, 3.0], [2.0, 1.0, 1.0])
    keys = moqlab.heuristics._greedy.line_keys(inst)
    assert keys[0] == pytest.approx(11 / 3) and keys[1] == pytest.approx(11 / 3)
    res = moqlab.solve(inst, budget=3, method="greedy")
    assert res.quantities == {"a": 2, "b": 0}


def test_roundup_buys_dead_stock_to_reach_the_moq():
    # Rounding "a" up to its MOQ of 3 units adds two loss-making units.
    inst = moqlab.Instance.from_arrays(
        ["a", "a", "a"], [5.0, -1.0, -1.0], [1.0, 1.0, 1.0],
        families=[(["a", "a", "a"], [1.0, 1.0, 1.0], [3.0, 3.0, 3.0])])
    res = moqlab.solve(inst, budget=10, method="roundup")
    assert res.quantities == {"a": 3} and res.reward == 3.0
    assert moqlab.solve(inst, budget=10, method="enumerate").reward == 3.0
    assert moqlab.solve(inst, budget=2, method="roundup").reward == 0.0


def test_example_order_solves_feasibly_with_every_heuristic():
    inst = moqlab.read_lines(moqlab.dataset_path("examples/order.csv"))
    assert inst.n_families == 3
    for method in HEURISTICS:
        res = moqlab.solve(inst, budget=1500, method=method)
        assert res.feasible and res.cost <= 1500
        assert res.reward > 0
    assert np.isfinite(res.seconds)


@pytest.mark.parametrize("items, seed", [(8, 26), (8, 30), (10, 0), (10, 33)])
def test_greedy_opens_a_group_where_its_scan_ends_empty(items, seed):
    # MOQ-heavy stock orders where the scan's bundles all overrun the budget: the plain
    # scan ends with the empty order although groups can be opened within the budget
    from moqlab.core._kernel import drop_short_groups
    from moqlab.heuristics._greedy import greedy_moves
    gen = moqlab.generate.stock(items, seed=seed, fraction=0.5, price_breaks="mixed")
    inst, budget = gen.instance, gen.limit
    state, _ = greedy_moves(inst, budget)
    assert not drop_short_groups(inst, state.take).any()
    greedy = moqlab.solve(inst, budget=budget, method="greedy")
    assert greedy.feasible and greedy.reward > 0
    assert moqlab.solve(inst, budget=budget, method="jax-greedy").take.tolist() == \
        greedy.take.tolist()
