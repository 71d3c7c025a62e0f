"""The kernel (moqlab/core/_kernel.py): what several solvers share, tested directly."""

import numpy as np
import pytest
from hypothesis import given, settings

import moqlab
from moqlab.core import _frontier, _kernel as K
from strategies import tiny_frames


def _two_groups():
    # items a (2 lines), b, c (1 line each); family 0: {a, b} threshold 3, {c} threshold 1
    return moqlab.Instance.from_arrays(
        ["a", "a", "b", "c"], [4.0, 1.0, 2.0, 5.0], [2.0, 1.0, 1.0, 3.0],
        target=[1.0, 1.0, 0.0, 2.0],
        families=[(["x", "x", "x", "y"], [1.0, 1.0, 1.0, 1.0], [3.0, 3.0, 3.0, 1.0])])


def test_tolerance_is_relative_and_unit_free():
    assert K.allowance(-2e6) == pytest.approx(2e-3)
    assert K.allowance(0.0) == 0.0
    assert K.moq_floor(3.0) == pytest.approx(3.0 - 3e-9)
    for scale in (1e-9, 1.0, 1e12):  # the same verdict in any units
        assert (3.0 * scale - 1e-10 * 3.0 * scale >= K.moq_floor(3.0 * scale))
        assert not (2.99 * scale >= K.moq_floor(3.0 * scale))


def test_grid_step_and_snap():
    assert K.grid_step([3.0, 12.0]) == 1.0
    assert K.grid_step([0.25, 1.5]) == pytest.approx(0.01)
    assert K.grid_step([2e-9, 1.2e-8]) == pytest.approx(1e-9)
    assert K.grid_step([1 / 3]) is None and K.grid_step([0.0]) is None
    assert K.snap(np.array([0.1 + 0.2]), 0.1)[0] == K.snap(np.array([0.3]), 0.1)[0]
    assert K.snap(np.array([0.1 + 0.2]), None)[0] == 0.1 + 0.2


def test_order_and_group_totals():
    inst = _two_groups()
    assert K.order_totals(inst, [2, 1, 0]) == (7.0, 4.0, 2.0)
    assert (K.full_budget(inst), K.reachable_target(inst)) == (7.0, 4.0)
    rebate = moqlab.Instance.from_arrays(["a", "b"], [1.0, 1.0], [-2.0, 3.0], target=[0.0, 5.0])
    assert (K.full_budget(rebate), K.reachable_target(rebate)) == (3.0, 5.0)
    (total, count), = K.group_totals(inst, inst.selection_from_take([2, 0, 1]))
    assert total.tolist() == [2.0, 1.0] and count.tolist() == [2.0, 1.0]


def test_prefix_sums_and_cumulative_table():
    inst = _two_groups()
    table = K.cumulative_table(inst, inst.reward)
    assert table.tolist() == [[0, 4, 5], [0, 2, 2], [0, 5, 5]]
    padded = K.cumulative_table(inst, inst.reward, 3, 4)
    assert padded.shape == (4, 4) and padded[:3, :3].tolist() == table.tolist()
    assert K.prefix_sums(np.array([[1.0, 2.0]])).tolist() == [[0.0, 1.0, 3.0]]


def test_drop_short_groups_and_lift_group():
    inst = _two_groups()
    assert K.drop_short_groups(inst, np.array([1, 0, 1])).tolist() == [0, 0, 1]
    assert K.drop_short_groups(inst, np.array([2, 1, 1])).tolist() == [2, 1, 1]
    # lifting {a, b} from a's first line, lines in the order given, prefixes respected
    take, added, reached = K.lift_group(inst, np.array([1, 0, 0]), [1, 2, 0], inst.families[0].oq,
                                        1.0, K.moq_floor(3.0))
    assert take.tolist() == [2, 1, 0] and added == [1, 2] and reached == 3.0
    # line 1 (a's second) is skipped while a's first is not taken; the walk stops short
    take, added, reached = K.lift_group(inst, np.zeros(3, int), [1, 2], inst.families[0].oq,
                                        0.0, K.moq_floor(3.0))
    assert take.tolist() == [0, 1, 0] and reached == 1.0


def test_group_lines_and_opening_runs():
    inst = _two_groups()
    order = np.array([3, 0, 2, 1])  # scan order of the lines
    groups = K.GroupLines(inst, order)
    assert groups.lines(0, 0).tolist() == [0, 2, 1] and groups.lines(0, 1).tolist() == [3]
    assert groups.positions_from(0, 0, 2).tolist() == [2, 3]
    runs = K.opening_runs(inst.families[0], groups.members[0], groups.starts[0])
    assert runs.tolist() == [3, 1]
    unreachable = moqlab.Instance.from_arrays(["a"], [1.0], [1.0],
                                              families=[(["x"], [1.0], [5.0])])
    g = K.GroupLines(unreachable, np.array([0]))
    assert K.opening_runs(unreachable.families[0], g.members[0], g.starts[0]).tolist() == [-1]


@pytest.mark.parametrize("mode, limit, expected", [
    ("min_target", 0.0, (0, "feasible")), ("min_target", 2.0, (2, "feasible")),
    ("min_target", 9.0, (3, "target_unreachable")), ("max_target", 2.5, (2, "feasible")),
    ("max_target", 0.5, (0, "feasible")), ("max_target", 9.0, (3, "feasible")),
])
def test_target_cut(mode, limit, expected):
    count, status, _ = K.target_cut([1.0, 1.0, 1.5], mode, limit)
    assert (count, status) == expected


def test_pick_candidate_reads_the_frontier_of_the_candidates():
    totals = [(5.0, 4.0, 3.0), (3.0, 2.0, 1.0), (4.0, 5.0, 9.0)]  # the last one is dominated
    assert _frontier.pick_candidate(totals, "min_target", 2.0)[:2] == (0, "feasible")
    assert _frontier.pick_candidate(totals, "max_target", 2.0)[:2] == (1, "feasible")
    assert _frontier.pick_candidate(totals, "min_target", 5.0)[1] == "target_unreachable"


@settings(max_examples=40)
@given(tiny_frames(max_items=6, max_lines=3))
def test_drop_short_groups_always_leaves_a_valid_order(frame):
    inst = moqlab.Instance.from_frame(frame)
    rng = np.random.default_rng(0)
    take = rng.integers(0, inst.item_length + 1)
    kept = K.drop_short_groups(inst, take)
    assert moqlab.check(inst, inst.selection_from_take(kept)).feasible
    assert np.all(kept <= take)
