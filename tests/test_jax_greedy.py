"""jax-greedy gives the same orders as the numpy greedy (hypothesis + the example order)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moqlab
from moqlab import _greedy, _jax_greedy
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


@settings(max_examples=25)
@given(tiny_problems(max_items=8, max_lines=3, max_families=2))
def test_capped_keys_equal_reference(problem):
    inst = problem[0]
    key, order = _greedy.greedy_keys(inst)
    key2, order2 = _jax_greedy.capped_keys(inst)
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
