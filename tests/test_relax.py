"""relax: relax-round-repair is always verified feasible, never beats the exact optimum, and
reports its relaxation value, the LP bound and the rounded value consistently."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import moqlab
from moqlab.relaxations._relax import lp_bound, repair, solve_relax_batch
from strategies import tiny_frames, tiny_problems

# Small settings; every batch below has 3 or 4 instances of one bucket so that the file
# compiles the relaxation twice (budget mode, and the budget grid of the target modes).
FAST = dict(restarts=4, steps=400, outer=8, budgets=8)


def _instances(n, seed, families=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        items = rng.integers(3, 8)
        length = rng.integers(1, 4, items)
        item = np.repeat([f"i{i}" for i in range(items)], length)
        lines = item.size
        group = np.repeat(rng.integers(0, 3, items), length).astype(str)
        moq = np.array([0.0, 3.0, 5.0])[group.astype(int)]
        out.append(moqlab.Instance.from_arrays(
            item, rng.integers(-2, 10, lines).astype(float), rng.integers(1, 6, lines).astype(float),
            rng.integers(0, 4, lines).astype(float), families=[(group, np.ones(lines), moq)]))
    return out


def test_batch_budget_feasible_bounded_and_reported():
    instances = _instances(4, seed=1)
    budgets = [float(0.4 * inst.cost.sum()) for inst in instances]
    results = moqlab.solve_batch(instances, budget=budgets, method="relax", **FAST)
    for inst, budget, res in zip(instances, budgets, results):
        exact = moqlab.solve(inst, budget=budget, method="enumerate")
        assert res.feasible and res.status == "feasible", res.message
        assert res.reward <= exact.reward + 1e-9
        assert res.info["rounded_value"] == res.reward
        assert res.info["lp_bound"] >= exact.reward - 1e-7  # the LP relaxes the MILP
        assert res.info["lp_budget"] == budget
        assert res.info["compile_seconds"] >= 0 and res.info["run_seconds"] > 0
        assert np.isfinite(res.info["relax_value"]) and res.info["relax_violation"] >= 0


def test_relax_finds_the_optimum_of_an_easy_instance():
    inst = moqlab.Instance.from_arrays(["a", "a", "b", "c"], [5.0, 4.0, 3.0, 1.0],
                                       [1.0, 1.0, 1.0, 1.0],
                                       families=[(["s", "s", "t", "t"], [1, 1, 1, 1],
                                                  [2, 2, 0, 0])])
    batch = [inst] + _instances(3, seed=1)  # the bucket of the other budget-mode tests
    res = moqlab.solve_batch(batch, budget=3, method="relax", **FAST)[0]
    assert res.feasible and res.reward == 12.0
    assert res.take.tolist() == [2, 1, 0]


def test_seed_makes_runs_reproducible():
    instances = _instances(3, seed=2)
    one = solve_relax_batch(instances, "budget", [5.0] * 3, seed=3, **FAST)
    two = solve_relax_batch(instances, "budget", [5.0] * 3, seed=3, **FAST)
    for a, b in zip(one, two):
        assert np.array_equal(a.take, b.take) and a.info["relax_value"] == b.info["relax_value"]


def test_target_modes_are_feasible_and_follow_the_target_rules():
    instances = _instances(4, seed=3)
    for mode in ("min_target", "max_target"):
        limits = [float(0.5 * inst.target.sum()) for inst in instances]
        results = moqlab.solve_batch(instances, method="relax", **{mode: limits}, **FAST)
        for res, limit in zip(results, limits):
            assert res.feasible and res.status in ("feasible", "target_unreachable")
            if mode == "min_target" and res.status == "feasible":
                assert res.target >= limit - 1e-9
            if mode == "max_target" and res.status == "feasible":
                assert res.target <= limit + 1e-9


@settings(max_examples=80)
@given(tiny_problems(), st.data())
def test_repair_turns_any_rounding_into_a_valid_order(problem, data):
    inst, _, _ = problem
    budget = data.draw(st.floats(0, float(np.clip(inst.cost, 0, None).sum())))
    take = np.array([data.draw(st.integers(0, int(n))) for n in inst.item_length])
    repaired = repair(inst, take, budget)
    verdict = moqlab.check(inst, inst.selection_from_take(repaired), budget=budget)
    assert verdict.feasible, verdict.reasons


@settings(max_examples=30)
@given(tiny_frames(max_items=6))
def test_lp_bound_is_an_upper_bound(frame):
    inst = moqlab.Instance.from_frame(frame)
    budget = float(0.5 * np.clip(inst.cost, 0, None).sum())
    exact = moqlab.solve(inst, budget=budget, method="enumerate")
    assert lp_bound(inst, budget) >= exact.reward - 1e-7
