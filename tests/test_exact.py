"""enumerate is exact in all three modes: checked against a naive reference and Pisinger."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moqlab
from brute import answer
from strategies import tiny_frames, tiny_problems


@given(tiny_problems(max_items=5, max_lines=3))
def test_enumerate_matches_naive_reference(problem):
    inst, mode, limit = problem
    res = moqlab.solve(inst, method="enumerate", **{mode: limit})
    reward, cost, target, status = answer(inst, mode, limit)
    assert res.feasible
    assert res.status == status
    assert res.reward == pytest.approx(reward, abs=1e-9)
    assert res.cost == pytest.approx(cost, abs=1e-9)
    assert res.target == pytest.approx(target, abs=1e-9)


@settings(max_examples=30)
@given(tiny_frames(max_items=5, max_lines=3, integers=False), st.integers(0, 40))
def test_enumerate_budget_optimum_with_real_valued_rewards(frame, budget):
    inst = moqlab.Instance.from_frame(frame)
    res = moqlab.solve(inst, method="enumerate", budget=budget)
    reward, _, _, _ = answer(inst, "budget", budget)
    assert res.reward == pytest.approx(reward, abs=1e-9)


def test_ties_prefer_cheaper_then_target_by_mode():
    # Two single-line items with equal reward: b is cheaper; c equals b in cost but
    # carries more target. Budget 10 affords one line only.
    inst = moqlab.Instance.from_arrays(["a", "b", "c"], [5.0, 5.0, 5.0], [7.0, 6.0, 6.0],
                                       target=[1.0, 1.0, 3.0])
    res = moqlab.solve(inst, budget=10, method="enumerate")
    assert res.quantities == {"a": 0, "b": 0, "c": 1}
    # max-target prefers the smaller target among equal reward and cost.
    res = moqlab.solve(inst, max_target=2, method="enumerate")
    assert res.quantities == {"a": 0, "b": 1, "c": 0}


def test_empty_order_when_budget_below_every_order():
    inst = moqlab.Instance.from_arrays(["a", "b"], [5.0, 4.0], [10.0, 12.0])
    res = moqlab.solve(inst, budget=3, method="enumerate")
    assert res.status == "optimal" and res.reward == 0.0 and not res.selected.any()


def test_unreachable_min_target_is_reported():
    # The second line of "a" loses money, so no budget-optimal order reaches target 2.
    inst = moqlab.Instance.from_arrays(["a", "a"], [5.0, -1.0], [1.0, 1.0])
    res = moqlab.solve(inst, min_target=2, method="enumerate")
    assert res.status == "target_unreachable"
    assert res.quantities == {"a": 1}
    assert "target" in res.message


def test_enumerate_refuses_large_instances_clearly():
    inst = moqlab.Instance.from_arrays([f"i{k}" for k in range(30)], np.ones(30), np.ones(30))
    with pytest.raises(moqlab.MOQSizeError, match="max_orders"):
        moqlab.solve(inst, budget=3, method="enumerate")


def test_enumerate_reproduces_pisinger_optima():
    cases = moqlab.read_pisinger(moqlab.dataset_path("pisinger/knapPI_11_20_1000.csv"))
    assert len(cases) == 100
    for case in cases:
        res = moqlab.solve(case.instance, budget=case.budget, method="enumerate")
        assert res.feasible and res.status == "optimal"
        assert res.reward == case.optimum, case.name


@settings(max_examples=40)
@given(tiny_frames(max_items=5, max_lines=3), st.integers(0, 40), st.integers(0, 31),
       st.integers(0, 1000))
def test_best_order_over_free_items_matches_naive_reference(frame, budget, mask, seed):
    # search's exact step on a pattern (or a neighbourhood): the items outside ``free`` are
    # held at a given take, the others vary; the best valid order within the budget is the
    # naive reference's best among the orders that agree with the held items
    from brute import valid_orders
    from moqlab.core._orders import best_order
    inst = moqlab.Instance.from_frame(frame)
    free = np.array([(mask >> i) & 1 for i in range(inst.n_items)], bool)
    held = np.random.default_rng(seed).integers(0, inst.item_length + 1)
    take = best_order(inst, budget, free, held)
    fits = [(r, -c) for t, r, c, _ in valid_orders(inst)
            if c <= budget + 1e-9 and np.array_equal(t[~free], held[~free])]
    if not fits:
        assert take is None
        return
    reward, neg_cost = max(fits)
    assert take is not None and np.array_equal(take[~free], held[~free])
    sel = inst.selection_from_take(take)
    assert moqlab.check(inst, sel, budget=budget).feasible
    assert inst.reward[sel].sum() == pytest.approx(reward, abs=1e-9)
    assert inst.cost[sel].sum() == pytest.approx(-neg_cost, abs=1e-9)
