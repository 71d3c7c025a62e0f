"""Group patterns: every order they return is valid, never beats the optimum, and they open
the supplier groups that the greedy scan leaves shut on MOQ-heavy orders."""

import numpy as np
from hypothesis import given, settings

import moqlab
from moqlab.heuristics._pattern import search_patterns, search_patterns_batch, tables
from moqlab.heuristics._pricing import price_rows, stack_rows
from strategies import tiny_problems

QUICK = {"iterations": 40, "repairs": 4}


@settings(max_examples=15, deadline=None)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_pattern_orders_are_valid_and_bounded_by_enumerate(problem):
    inst, _, _ = problem
    budget = 0.5 * float(np.clip(inst.cost, 0, None).sum())
    found = search_patterns(inst, budget, random_starts=2, **QUICK)
    if found.take is None:
        return
    chosen = inst.selection_from_take(found.take)
    verdict = moqlab.check(inst, chosen, budget=budget)
    assert verdict.feasible, verdict
    assert np.isclose(inst.reward[chosen].sum(), found.reward)
    exact = moqlab.solve(inst, method="enumerate", budget=budget)
    assert found.reward <= exact.reward + 1e-9


@settings(max_examples=15, deadline=None)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_every_priced_pattern_claimed_feasible_is_valid(problem):
    inst, _, _ = problem
    budget = 0.5 * float(np.clip(inst.cost, 0, None).sum())
    tb = tables(inst)
    count = tb.floor.shape[0]
    patterns = [np.ones(count, bool), np.zeros(count, bool)]
    score, take, feasible, _, _ = price_rows(
        stack_rows([tb, tb], [0, 1], patterns, [budget, budget]), **QUICK)
    for r, pattern in enumerate(patterns):
        if not feasible[r]:
            continue
        order = take[r, :inst.n_items]
        chosen = inst.selection_from_take(order)
        assert moqlab.check(inst, chosen, budget=budget).feasible
        assert np.isclose(inst.reward[chosen].sum(), score[r])
        opened = tables(inst).switch
        for switch in opened:  # a closed switch orders nothing
            inside = switch >= 0
            assert not np.any((order > 0) & inside & ~pattern[np.maximum(switch, 0)])


def test_closed_pattern_orders_nothing_in_its_groups():
    inst = moqlab.Instance.from_arrays(
        ["a", "b", "c"], [4.0, 4.0, 5.0], [2.0, 2.0, 3.0],
        families=[(["s", "s", "t"], [1.0, 1.0, 1.0], [2.0, 2.0, 0.0])])
    tb = tables(inst)
    score, take, feasible, _, _ = price_rows(stack_rows([tb], [0], [[False]], [10.0]))
    assert feasible[0] and take[0, :3].tolist() == [0, 0, 1] and score[0] == 5.0


def test_a_batch_of_lanes_matches_lanes_alone():
    cases = [c for c in moqlab.load_suite("tiny") if c.family == "stock"][:2]
    alone = [search_patterns(c.instance, c.limit, **QUICK) for c in cases]
    together = search_patterns_batch([c.instance for c in cases], [c.limit for c in cases],
                                     **QUICK)
    for a, b in zip(alone, together):
        assert a.reward == b.reward


def test_patterns_open_what_greedy_leaves_shut():
    # a small stock order with tight supplier / category thresholds: the greedy scan finds
    # barely half of the optimum, the pattern search opens the right groups
    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-fiscal-t0.5")
    greedy = moqlab.solve(case.instance, budget=case.limit, method="greedy")
    found = search_patterns(case.instance, case.limit, seeds=[greedy.take])
    assert greedy.reward < 0.6 * case.optimum
    assert found.reward >= 0.99 * case.optimum
    assert found.reward <= case.optimum + 1e-6
