"""milp is an exact oracle: it agrees with enumeration (and the naive reference) in all three
modes, ties included, reproduces Pisinger's proven optima, and says when a limit stopped it."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moqlab
from brute import answer
from moqlab.exact._milp import build_model, resolution, tie_margin
from strategies import tiny_frames, tiny_problems

PISINGER_FILES = ["knapPI_1_50_1000.csv", "knapPI_9_50_1000.csv", "knapPI_1_50_100000.csv",
                  "knapPI_1_100_100000.csv", "knapPI_11_20_1000.csv"]


def same_answer(res, ref):
    assert res.feasible
    assert res.status == ref.status
    assert res.reward == pytest.approx(ref.reward, abs=1e-9)
    assert res.cost == pytest.approx(ref.cost, abs=1e-9)
    assert res.target == pytest.approx(ref.target, abs=1e-9)


@settings(max_examples=80)
@given(tiny_problems(max_items=5, max_lines=3))
def test_milp_matches_enumerate_in_every_mode(problem):
    # Integer data: ties in reward, cost and target are frequent.
    inst, mode, limit = problem
    res = moqlab.solve(inst, method="milp", **{mode: limit})
    ref = moqlab.solve(inst, method="enumerate", **{mode: limit})
    same_answer(res, ref)
    assert res.info["proven_optimal"] and res.info["highs_version"]


@settings(max_examples=30)
@given(tiny_problems(max_items=4, max_lines=3, max_families=2))
def test_milp_matches_naive_reference(problem):
    inst, mode, limit = problem
    res = moqlab.solve(inst, method="milp", **{mode: limit})
    reward, cost, target, status = answer(inst, mode, limit)
    assert res.status == status
    assert (res.reward, res.cost, res.target) == pytest.approx((reward, cost, target), abs=1e-9)


@settings(max_examples=30)
@given(tiny_frames(max_items=5, max_lines=3, integers=False),
       st.sampled_from(["budget", "min_target", "max_target"]), st.integers(0, 30))
def test_milp_matches_enumerate_with_real_valued_rewards(frame, mode, limit):
    inst = moqlab.Instance.from_frame(frame)
    res = moqlab.solve(inst, method="milp", **{mode: limit})
    ref = moqlab.solve(inst, method="enumerate", **{mode: limit})
    same_answer(res, ref)


def test_ties_prefer_cheaper_then_target_by_mode():
    # Equal rewards; b and c are cheaper than a; c carries more target than b.
    inst = moqlab.Instance.from_arrays(["a", "b", "c"], [5.0, 5.0, 5.0], [7.0, 6.0, 6.0],
                                       target=[1.0, 1.0, 3.0])
    assert moqlab.solve(inst, budget=10, method="milp").quantities == {"a": 0, "b": 0, "c": 1}
    res = moqlab.solve(inst, max_target=2, method="milp")
    assert res.quantities == {"a": 0, "b": 1, "c": 0}


def test_group_minimum_is_enforced_and_can_be_worth_it():
    # Supplier s needs 3 units; the third unit loses money but opens the group.
    inst = moqlab.Instance.from_arrays(
        ["a", "a", "a", "b"], [4.0, 3.0, -1.0, 2.0], [1.0, 1.0, 1.0, 1.0],
        families=[(["s", "s", "s", "t"], 1.0, [3.0, 3.0, 3.0, 0.0])])
    res = moqlab.solve(inst, budget=3, method="milp")
    assert res.quantities == {"a": 3, "b": 0} and res.reward == 6.0
    res = moqlab.solve(inst, budget=2, method="milp")
    assert res.quantities == {"a": 0, "b": 1}


def test_min_target_unreachable_and_max_target_below_first_order():
    inst = moqlab.Instance.from_arrays(["a", "a"], [5.0, -1.0], [1.0, 1.0])
    res = moqlab.solve(inst, min_target=2, method="milp")
    assert res.status == "target_unreachable" and res.quantities == {"a": 1}
    # A free line with target 3 is in q_0, so every frontier order exceeds target 1.
    inst = moqlab.Instance.from_arrays(["a", "b"], [1.0, 2.0], [0.0, 1.0], target=[3.0, 1.0])
    res = moqlab.solve(inst, max_target=1, method="milp")
    assert res.status == "target_unreachable" and not res.selected.any()


def test_model_has_one_column_per_line_and_open_group():
    inst = moqlab.Instance.from_arrays(
        ["a", "a", "b", "c"], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0],
        families=[(["s", "s", "s", "t"], 1.0, [2.0, 2.0, 2.0, 0.0])])
    model = build_model(inst)
    # 4 lines + 1 open group (t has no minimum); rows: cost, reward, 1 prefix,
    # 2 activations (a, b), 1 threshold.
    assert model.n_cols == 5 and model.matrix.shape == (6, 5)


def test_resolution_and_margins():
    assert resolution([1.0, -7.0, 3e5]) == 1.0
    assert resolution([0.5, 0.25]) == 0.01
    assert resolution([np.pi]) is None
    assert tie_margin([2.0, 4.0]) == 0.5
    assert tie_margin([np.pi] * 3) == pytest.approx(1e-6)


def _moq_heavy_knapsack():
    """A strongly correlated knapsack with MOQ groups: not provable in 0.05 s."""
    rng = np.random.default_rng(0)
    n = 3000
    weight = rng.integers(1000, 100000, n).astype(float)
    items = np.repeat([f"i{k}" for k in range(n // 3)], 3)
    groups = np.array([f"g{k % 97}" for k in range(n // 3)]).repeat(3)
    inst = moqlab.Instance.from_arrays(
        items, weight + 10000.0, weight, families=[(groups, weight, 60000.0)])
    return inst, weight.sum() / 5


def test_time_limit_is_reported_with_bound_and_gap():
    inst, budget = _moq_heavy_knapsack()
    res = moqlab.solve(inst, budget=budget, method="milp", time_limit=0.05)
    assert res.feasible
    if res.info["proven_optimal"]:
        pytest.skip("HiGHS proved this instance within the limit on this machine")
    assert res.status == "time_limit"
    assert "bound" in res.message and "gap" in res.message
    assert res.info["bound"] >= res.reward


def test_relative_gap_option_is_not_called_optimal():
    cases = moqlab.read_pisinger(moqlab.dataset_path("pisinger/knapPI_1_100_100000.csv"))
    res = moqlab.solve(cases[0].instance, budget=cases[0].budget, method="milp",
                       mip_rel_gap=0.5)
    assert res.feasible and res.status in ("feasible", "optimal")
    assert res.status == "feasible" or res.reward == cases[0].optimum


def pisinger_cases(per_file):
    out = []
    for name in PISINGER_FILES:
        cases = moqlab.read_pisinger(moqlab.dataset_path(f"pisinger/{name}"))
        out.extend(cases[:per_file] if per_file else cases)
    return out


def check_pisinger(cases):
    for case in cases:
        res = moqlab.solve(case.instance, budget=case.budget, method="milp")
        assert res.feasible and res.status == "optimal", case.name
        assert res.reward == case.optimum, case.name


def test_milp_reproduces_pisinger_sample():
    check_pisinger(pisinger_cases(per_file=10))


@pytest.mark.slow
def test_milp_reproduces_all_500_pisinger_optima():
    cases = pisinger_cases(per_file=None)
    assert len(cases) == 500
    began = time.perf_counter()
    check_pisinger(cases)
    print(f"500 Pisinger instances solved by milp in {time.perf_counter() - began:.1f} s")


@pytest.mark.parametrize("mode", ["min_target", "max_target"])
def test_frontier_walk_on_real_valued_example_matches_enumerate(mode):
    # Four items of the example order: rewards on a 1e-4 grid in the hundreds, merchant
    # price breaks (free or negative steps), three MOQ families; a 12-order frontier.
    # (Guards the integrality-tolerance pitfall: x = 1e-6 on a big-reward line.)
    frame = moqlab.read_lines(moqlab.dataset_path("examples/order.csv")).to_frame()
    first = list(dict.fromkeys(frame["id"]))[:4]
    inst = moqlab.Instance.from_frame(frame[frame["id"].isin(first)])
    for limit in (5.0, 20.0, 48.0):
        res = moqlab.solve(inst, method="milp", **{mode: limit})
        ref = moqlab.solve(inst, method="enumerate", **{mode: limit})
        same_answer(res, ref)


def test_time_limit_keeps_at_least_the_greedy_start():
    inst, budget = _moq_heavy_knapsack()
    with pytest.raises(moqlab.MOQInputError, match="option .start."):
        moqlab.solve(inst, budget=budget, method="milp", start="roundup")
    greedy = moqlab.solve(inst, budget=budget, method="greedy")
    assert greedy.reward > 0
    res = moqlab.solve(inst, budget=budget, method="milp", time_limit=1e-3)
    assert res.feasible and res.reward >= greedy.reward
    if res.info["proven_optimal"]:
        pytest.skip("HiGHS proved this instance within 1 ms on this machine")
    assert res.info["start_reward"] == pytest.approx(greedy.reward)
    assert res.status == "time_limit"
    empty = moqlab.solve(inst, budget=budget, method="milp", time_limit=1e-3, start="empty")
    assert empty.feasible and empty.info["start_reward"] == 0.0


def test_search_start_after_a_probe():
    # probe=0: HiGHS is stopped at once, so search's order is computed and handed to HiGHS,
    # which then proves the optimum from it; the answer is never worse than search's
    inst, budget = _moq_heavy_knapsack()
    exact = moqlab.solve(inst, budget=budget, method="milp")
    res = moqlab.solve(inst, budget=budget, method="milp", start="search", probe=0.0)
    if "search_reward" not in res.info:
        pytest.skip("HiGHS proved this instance within its first millisecond")
    assert res.status == "optimal" and res.reward == pytest.approx(exact.reward)
    assert res.reward >= res.info["search_reward"] > 0
    searched = moqlab.solve(inst, budget=budget, method="search")
    assert res.info["search_reward"] == pytest.approx(searched.reward)
    quick = moqlab.solve(inst, budget=budget, method="milp", start="search", probe=10.0)
    assert quick.status == "optimal" and "search_reward" not in quick.info  # proven alone
    # a limit inside the probe leaves no time for search: greedy's order is the floor
    greedy = moqlab.solve(inst, budget=budget, method="greedy")
    cut = moqlab.solve(inst, budget=budget, method="milp", start="search", time_limit=1e-3)
    assert cut.feasible and cut.reward >= greedy.reward > 0


def test_auto_never_picks_plain_greedy():
    from moqlab._solve import auto_pick
    inst, budget = _moq_heavy_knapsack()
    assert auto_pick(inst, "budget") == "milp"
    assert auto_pick(inst, "min_target") == "search"  # a MILP frontier walk is too slow here
    res = moqlab.solve(inst, budget=budget, time_limit=5)
    assert res.method == "milp" and res.feasible
    greedy = moqlab.solve(inst, budget=budget, method="greedy")
    assert res.reward >= greedy.reward


def test_unknown_options_are_input_errors():
    inst, budget = _moq_heavy_knapsack()
    with pytest.raises(moqlab.MOQInputError, match="takes no option 'seed'"):
        moqlab.solve(inst, budget=budget, method="milp", seed=1)
    with pytest.raises(moqlab.MOQInputError, match="auto picked 'milp'"):
        moqlab.solve(inst, budget=budget, seed=1)
    with pytest.raises(moqlab.MOQInputError, match="takes no option 'steps'"):
        moqlab.solve_batch([inst], budget=budget, method="jax-greedy", steps=3)


def test_a_thread_count_highs_refuses_is_an_error_not_a_time_limit():
    inst = moqlab.read_lines(moqlab.dataset_path("examples/order.csv"))
    moqlab.solve(inst, budget=1500, method="milp")  # HiGHS's thread pool now exists
    try:
        res = moqlab.solve(inst, budget=1500, method="milp", threads=1)
    except moqlab.MOQInputError as exc:
        assert "threads=" in str(exc)
    else:  # a HiGHS that accepts the change must then solve it
        assert res.status == "optimal"


def test_a_stopped_frontier_walk_keeps_greedys_order_when_it_reaches_the_target():
    inst = moqlab.read_lines(moqlab.dataset_path("examples/order.csv"))
    greedy = moqlab.solve(inst, min_target=40, method="greedy")
    res = moqlab.solve(inst, min_target=40, method="milp", time_limit=1e-3)
    assert res.status == "time_limit" and res.feasible
    assert res.target >= 40 and res.reward == greedy.reward
    assert "frontier walk" in res.message
    bare = moqlab.solve(inst, min_target=40, method="milp", time_limit=1e-3, start="empty")
    assert bare.status == "time_limit" and bare.target < 40
