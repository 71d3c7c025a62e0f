"""search: verified feasible, never below greedy in budget mode, deterministic; the engine's
parts keep their promises."""

import numpy as np
from hypothesis import given, settings

import moqlab
from moqlab.core._kernel import order_totals
from moqlab.heuristics._patterns import best_patterns, bounds_patterns
from moqlab.heuristics._search import polish
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


def test_polish_trades_an_order_over_the_budget_into_it():
    # a and b share an MOQ of 2 units: dropping either line alone breaks it, trading a's line
    # for b's second line keeps it and fits the budget
    inst = moqlab.Instance.from_arrays(
        ["a", "b", "b"], [5.0, 2.0, 1.0], [3.0, 1.0, 1.0],
        families=[(["s", "s", "s"], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0])])
    assert polish(inst, np.array([1, 1]), budget=3.0).tolist() == [0, 2]
    # within a budget of 1 only the empty order is valid: no single-line move reaches it,
    # trades of any lengths do (a for both of b's lines, then b out)
    assert polish(inst, np.array([1, 1]), budget=1.0).tolist() == [0, 0]


def test_pattern_bounds_hold_and_their_orders_are_good():
    # every valid order opens some of the coarsest groups and shuts the rest, so the largest
    # pattern bound is never below the optimum, nor is the stage's bound (enumerated
    # patterns give way to their best order); the patterns' polished orders alone come
    # within 1 % of it on most small stock orders (measured: median 99.9 %)
    cases = [c for c in moqlab.load_suite("small") if c.mode == "budget" and c.proven
             and "stock" in c.name and not c.instance.capacities
             and bounds_patterns(c.instance)]
    assert len(cases) >= 5
    ratios = []
    for case in cases:
        found = best_patterns(case.instance, case.limit, incumbent=0.0)
        assert found.bounds[0] >= case.optimum * (1 - 1e-9), case.name
        assert found.bound >= case.optimum * (1 - 1e-9), case.name
        assert found.bounds == sorted(found.bounds, reverse=True)
        valid = [t for t in (polish(case.instance, take, case.limit) for take in found.takes)
                 if moqlab.check(case.instance, case.instance.selection_from_take(t),
                                 budget=case.limit).feasible]
        ratios.append(max((order_totals(case.instance, t)[0] for t in valid), default=0.0)
                      / case.optimum)
    assert np.median(ratios) >= 0.99, ratios


def test_enumerated_patterns_prove_the_optimum():
    # small-stock-fiscal-t1: the optimum's pattern (one supplier and one category open)
    # leaves 5 items and 4,320 orders; visiting them finds the optimum the pattern's priced
    # orders missed (20.5 % off before), and no pattern left unvisited may beat it
    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-fiscal-t1")
    found = moqlab.solve(case.instance, budget=case.limit, method="search")
    assert found.feasible and case.proven
    assert abs(found.reward - case.optimum) <= 1e-6 * case.optimum
    assert found.info["pattern_bound"] >= case.optimum * (1 - 1e-9)


def test_climb_skips_only_patterns_that_cannot_gain():
    # the climb skips a move whose pattern's dual bound is at most the order's reward; that
    # is lossless only if no valid order the pattern solve returns earns more than the bound
    import jax
    import jax.numpy as jnp
    from moqlab.core._dual import dual_bound
    from moqlab.core._layout import prefix_layout
    from moqlab.core._precision import float64
    from moqlab.heuristics._cover import solve_cover
    from moqlab.heuristics._lagrange import group_state, totals

    case = next(c for c in moqlab.load_suite("small") if c.name == "small-stock-mixed-t0.5")
    lay = jax.tree_util.tree_map(jnp.asarray, prefix_layout(case.instance, case.limit))
    real = np.asarray(lay.floor > 0)

    @float64
    @jax.jit
    def solved_and_bound(state):
        t, _, ok = solve_cover(lay, state < 0, state > 0)
        valid = ok & ~group_state(lay, t)[2].any() & (totals(lay, t)[1] <= lay.budget + 1e-9)
        return totals(lay, t)[0], valid, dual_bound(lay, 200, state)[0]

    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(12):
        state = np.where(real, np.where(rng.random(real.shape) < 0.5, 1, -1), 0).astype(np.int8)
        reward, valid, bound = map(float, solved_and_bound(jnp.asarray(state)))
        if valid:
            assert reward <= bound * (1 + 1e-9) + 1e-9
            checked += 1
    assert checked >= 3


def test_polish_trades_any_lengths_into_the_budget():
    # a's 4 lines just meet the MOQ of 4 units; no single step saves cost and keeps it
    # (a down one line breaks it, with b's first line it costs as much), but a down two
    # lines for both of b's (the second one at a discount) does, within the budget
    from moqlab.core._layout import prefix_layout
    from moqlab.heuristics._search import _descend
    inst = moqlab.Instance.from_arrays(
        ["a"] * 4 + ["b"] * 2, [1.0] * 4 + [0.5, 0.5], [1.0] * 4 + [1.0, 0.2],
        families=[(["s"] * 6, [1.0] * 6, [4.0] * 6)])
    lay = prefix_layout(inst, 3.5)
    assert _descend(inst, np.array([4, 0]), 3.5, 500, None, lay, wide=False).tolist() == [4, 0]
    assert polish(inst, np.array([4, 0]), budget=3.5).tolist() == [2, 2]


def test_search_polishes_the_orders_fitted_to_the_containers():
    # the ceiling prices' orders are repaired to fit the containers, then polished with
    # the containers in view: this order's optimum (0.55 % off before)
    case = next(c for c in moqlab.load_suite("small")
                if c.name == "small-stock-mixed-containers0.3")
    found = moqlab.solve(case.instance, budget=case.limit, method="search", bound=False)
    assert found.feasible and case.proven
    assert abs(found.reward - case.optimum) <= 1e-6 * case.optimum
