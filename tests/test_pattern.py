"""Group patterns: every order they return is valid, never beats the optimum, and they open
the supplier groups that the greedy scan leaves shut on MOQ-heavy orders."""

import numpy as np
from hypothesis import given, settings

import moqlab
from moqlab._pattern import price_pattern, repair, search_patterns, tables
from strategies import tiny_problems


@settings(max_examples=40, deadline=None)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_pattern_orders_are_valid_and_bounded_by_enumerate(problem):
    inst, _, _ = problem
    budget = 0.5 * float(np.clip(inst.cost, 0, None).sum())
    found = search_patterns(inst, budget, iterations=40, repair_every=10)
    if found.take is None:
        return
    verdict = moqlab.check(inst, inst.selection_from_take(found.take), budget=budget)
    assert verdict.feasible, verdict
    chosen = inst.selection_from_take(found.take)
    assert np.isclose(inst.reward[chosen].sum(), found.reward)
    exact = moqlab.solve(inst, method="enumerate", budget=budget)
    assert found.reward <= exact.reward + 1e-9


@settings(max_examples=40, deadline=None)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_repair_covers_open_groups_or_says_it_cannot(problem):
    inst, _, _ = problem
    budget = 0.5 * float(np.clip(inst.cost, 0, None).sum())
    tb = tables(inst)
    pattern = np.ones(tb.floor.shape[0], bool)
    take, over = repair(tb, pattern, budget, np.zeros(inst.n_items, np.int64), 1.0)
    if take is None or over > 0:
        return
    verdict = moqlab.check(inst, inst.selection_from_take(take), budget=budget)
    assert verdict.feasible, verdict


def test_closed_pattern_orders_nothing_in_its_groups():
    inst = moqlab.Instance.from_arrays(
        ["a", "b", "c"], [4.0, 4.0, 5.0], [2.0, 2.0, 3.0],
        families=[(["s", "s", "t"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    tb = tables(inst)
    priced = price_pattern(tb, np.array([False]), budget=10.0)
    assert priced.feasible and list(priced.take) == [0, 0, 1]
    assert priced.score == 5.0


def test_patterns_open_what_greedy_leaves_shut():
    # a small stock order with tight supplier / category thresholds: the greedy scan finds
    # barely half of the optimum, the pattern search opens the right groups
    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-fiscal-t0.5")
    greedy = moqlab.solve(case.instance, budget=case.limit, method="greedy")
    found = search_patterns(case.instance, case.limit, seeds=[greedy.take])
    assert greedy.reward < 0.6 * case.optimum
    assert found.reward >= 0.99 * case.optimum
    assert found.reward <= case.optimum + 1e-6
