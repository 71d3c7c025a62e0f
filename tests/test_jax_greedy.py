"""jax-greedy gives the same orders as the numpy greedy (hypothesis + the example order)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moqlab
from moqlab.core._kernel import moq_floor
from moqlab.heuristics import _greedy, _jax_greedy
from strategies import tiny_problems


def _same(inst, mode, limit):
    ref = moqlab.solve(inst, method="greedy", **{mode: limit})
    got = moqlab.solve(inst, method="jax-greedy", **{mode: limit})
    assert got.feasible, got.message
    assert np.array_equal(ref.take, got.take), (mode, limit, ref.take, got.take)
    assert ref.status == got.status


@settings(max_examples=40)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_jax_greedy_equals_greedy_on_tiny_instances(problem):
    _same(*problem)


def _naive_greedy_keys(inst):
    """The MOQ-aware keys computed group by group, straight from their definition."""
    key = _greedy.line_keys(inst)
    order = np.lexsort((inst.line_rank, inst.line_item, -key))
    position = np.empty(inst.n_lines, dtype=np.int64)
    position[order] = np.arange(inst.n_lines)
    scale = max(1.0, float(np.max(np.abs(inst.cost)))) if inst.n_lines else 1.0
    cost = np.maximum(inst.cost, _greedy.FREE_COST * scale)
    cap = np.full(inst.n_lines, np.inf)
    for fam in inst.families:
        line_group = fam.item_group[inst.line_item]
        for g in np.flatnonzero(fam.moq > 0):
            lines = np.flatnonzero(line_group == g)
            lines = lines[np.argsort(position[lines])]
            reached = np.flatnonzero(np.cumsum(fam.oq[lines]) >= moq_floor(fam.moq)[g])
            rho = -np.inf if reached.size == 0 else (
                inst.reward[lines[:reached[0] + 1]].sum() / cost[lines[:reached[0] + 1]].sum())
            cap[lines] = np.minimum(cap[lines], rho)
    capped = np.minimum(key, cap)
    for i in range(inst.n_items):  # non-increasing along each ladder
        a, b = inst.item_start[i], inst.item_start[i + 1]
        capped[a:b] = np.minimum.accumulate(capped[a:b])
    return capped, np.lexsort((inst.line_rank, inst.line_item, -capped))


@settings(max_examples=25)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_greedy_keys_equal_their_definition(problem):
    inst = problem[0]
    key, order = _greedy.greedy_keys(inst)
    key2, order2 = _naive_greedy_keys(inst)
    np.testing.assert_array_equal(key, key2)
    np.testing.assert_array_equal(order, order2)
    key3, order3 = _jax_greedy.capped_keys(inst)
    np.testing.assert_array_equal(key, key3)
    np.testing.assert_array_equal(order, order3)


def test_greedy_keys_equal_their_definition_on_float_data():
    """Generated purchase orders (money-valued supplier contributions, merchant breaks):
    the batched group ratios are numpy's own sums, to the last bit."""
    inst = moqlab.generate.stock(300, seed=3, price_breaks="mixed", max_lines=8).instance
    key, order = _greedy.greedy_keys(inst)
    key2, order2 = _naive_greedy_keys(inst)
    np.testing.assert_array_equal(key, key2)
    np.testing.assert_array_equal(order, order2)


@pytest.mark.parametrize("mode,limit", [("budget", 1500.0), ("budget", 400.0),
                                        ("min_target", 50.0), ("max_target", 80.0)])
def test_jax_greedy_equals_greedy_on_the_example_order(mode, limit):
    inst = moqlab.read_lines(moqlab.dataset_path("examples/order.csv"))
    _same(inst, mode, limit)


@pytest.mark.slow
@settings(max_examples=5)
@given(st.lists(tiny_problems(max_items=8, max_lines=3, max_families=2), min_size=4,
                max_size=4), st.sampled_from(["budget", "min_target", "max_target"]))
def test_batch_equals_one_by_one(problems, mode):
    instances = [p[0] for p in problems]
    limits = [p[2] for p in problems]
    batch = moqlab.solve_batch(instances, method="jax-greedy", **{mode: limits})
    for inst, lim, res in zip(instances, limits, batch):
        ref = moqlab.solve(inst, method="greedy", **{mode: lim})
        assert np.array_equal(ref.take, res.take)
