"""Generators: stock_reward hand values, determinism, sizes, the classes' defining relations,
validity of the generated tables, the drawn limit, and the ``moqlab generate`` command."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import moqlab
from moqlab.cli import main
from moqlab.generate import KNAPSACK_KINDS, knapsack, stock, stock_reward, unconstrained_take


# ------------------------------------------------------------------ stock reward


def test_stock_reward_poisson_hand_values():
    # D ~ Poisson(2): P(D >= 1) = 1 - e^-2, P(D >= 2) = 1 - 3 e^-2, P(D >= 3) = 1 - 5 e^-2.
    # M = 10, S = -5, C = -1: r(k) = 15 P(D >= k) - (1 - P(D >= k)) = 16 P(D >= k) - 1.
    e = math.exp(-2.0)
    expected = [16 * (1 - e) - 1, 16 * (1 - 3 * e) - 1, 16 * (1 - 5 * e) - 1]
    got = stock_reward([1, 2, 3], demand=stats.poisson(2.0), margin=10.0, stockout=-5.0,
                       carrying=-1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert [round(x, 4) for x in expected] == [12.8346, 8.5039, 4.1732]


def test_stock_reward_geometric_hand_values():
    # nbinom(n=1, p=1/2) is geometric on {0, 1, ...}: P(D >= k) = 2^-k.
    # M = 4, S = 0, C = -2: r(k) = 4 * 2^-k - 2 (1 - 2^-k) = 6 * 2^-k - 2 -> 1, -0.5, -1.25.
    got = stock_reward(np.array([1, 2, 3]), demand=stats.nbinom(1, 0.5), margin=4.0,
                       carrying=-2.0)
    np.testing.assert_allclose(got, [1.0, -0.5, -1.25], rtol=1e-12)


def test_stock_reward_broadcasts_per_item_and_decreases():
    means = np.array([1.0, 5.0, 20.0])
    units = np.arange(1, 41)[:, None]
    r = stock_reward(units, demand=stats.poisson(means), margin=np.array([3.0, 2.0, 1.0]),
                     stockout=-1.0, carrying=-0.5)
    assert r.shape == (40, 3)
    assert (np.diff(r, axis=0) <= 1e-12).all()          # the ladder never goes up
    np.testing.assert_allclose(r[-1], -0.5, atol=1e-3)  # deep units: only the carrying cost
    assert (r[0] > 0).all()


@pytest.mark.parametrize("kwargs", [dict(stockout=1.0), dict(carrying=0.5)])
def test_stock_reward_rejects_positive_costs(kwargs):
    with pytest.raises(moqlab.MOQInputError):
        stock_reward([1], demand=stats.poisson(1.0), margin=1.0, **kwargs)


def test_stock_reward_units_start_at_one():
    with pytest.raises(moqlab.MOQInputError, match="units"):
        stock_reward([0, 1], demand=stats.poisson(1.0), margin=1.0)


# ------------------------------------------------------------------ knapsack


@pytest.mark.parametrize("kind", KNAPSACK_KINDS)
def test_knapsack_classes(kind):
    gen = knapsack(400, kind=kind, seed=5, R=1000)
    inst = gen.instance
    p, w = inst.reward, inst.cost
    assert inst.n_items == inst.n_lines == 400 and inst.n_families == 0
    assert (p == np.round(p)).all() and (w == np.round(w)).all() and (p >= 1).all()
    if kind == "uncorrelated":
        assert p.max() <= 1000 and w.max() <= 1000
        assert abs(np.corrcoef(p, w)[0, 1]) < 0.2
    elif kind == "weak":
        assert (np.abs(p - w) <= 100).all() and np.corrcoef(p, w)[0, 1] > 0.9
    elif kind == "strong":
        np.testing.assert_array_equal(p, w + 100)
    elif kind == "inverse":
        np.testing.assert_array_equal(w, p + 100)
    else:
        np.testing.assert_array_equal(p, w)
    # every profit is positive: the unconstrained order takes all items
    assert gen.reference == w.sum() and gen.limit == round(0.5 * w.sum(), 2)


def test_knapsack_moq_families_are_openable():
    gen = knapsack(200, kind="weak", seed=2, moq_groups=[7, 3], moq_tightness=0.8,
                   moq_oq="money")
    inst = gen.instance
    assert inst.n_families == 2
    assert [f.n_groups for f in inst.families] == [7, 3]
    np.testing.assert_array_equal(inst.families[1].oq, inst.cost)
    for fam in inst.families:
        total = np.bincount(fam.item_group[inst.line_item], weights=fam.oq,
                            minlength=fam.n_groups)
        assert (fam.moq <= total).all() and (fam.moq > 0).any()
    assert moqlab.check(inst, np.ones(inst.n_lines, bool)).feasible


def test_determinism_and_seed_sensitivity():
    a = stock(60, seed=11, price_breaks="mixed").instance.to_frame()
    b = stock(60, seed=11, price_breaks="mixed").instance.to_frame()
    c = stock(60, seed=12, price_breaks="mixed").instance.to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert not a[["reward", "cost"]].equals(c[["reward", "cost"]])
    k1 = knapsack(50, kind="strong", seed=3, moq_groups=[4]).instance.to_frame()
    k2 = knapsack(50, kind="strong", seed=3, moq_groups=[4]).instance.to_frame()
    pd.testing.assert_frame_equal(k1, k2)


# ------------------------------------------------------------------ stock


@pytest.mark.parametrize("breaks", [None, "merchant", "fiscal", "mixed"])
def test_stock_tables_are_valid(breaks):
    gen = stock(120, seed=4, price_breaks=breaks, max_lines=10, tightness=0.7)
    inst = gen.instance
    again = moqlab.Instance.from_frame(inst.to_frame())   # validates every rule again
    assert again.n_lines == inst.n_lines and inst.n_items == 120
    assert inst.item_length.max() <= 10 and inst.item_length.min() >= 1
    assert [f.n_groups for f in inst.families] == [120, 6, 2]
    # ordering everything meets every minimum: each group can be opened
    assert moqlab.check(inst, np.ones(inst.n_lines, bool)).feasible
    # the target is the units of the step; the SKU family counts units too
    np.testing.assert_array_equal(inst.families[0].oq, inst.target)
    assert (inst.families[2].oq > 0).all()
    if breaks is None or breaks == "fiscal":
        assert (inst.cost > 0).all()
    if breaks is not None:
        assert (inst.cost < inst.target * _list_price(inst) - 1e-9).any()   # discounts bite


def _list_price(inst):
    """Unit price of each item's first line (breaks sit at one lot or more)."""
    return (inst.cost / inst.target)[inst.item_start[:-1]][inst.line_item]


def test_merchant_steps_can_cost_nothing_or_less():
    inst = stock(100, seed=7, price_breaks="merchant").instance
    assert (inst.cost <= 0).any()   # all-units breaks: the step reaching a break


def test_stock_unit_rewards_decrease_along_each_ladder():
    inst = stock(300, seed=8, lots=[1, 3, 12]).instance
    per_unit = inst.reward / inst.target
    same_item = inst.line_item[1:] == inst.line_item[:-1]
    assert (np.diff(per_unit)[same_item] <= 1e-3).all()
    first = inst.line_rank == 0
    assert (per_unit[first] > per_unit[inst.item_start[1:] - 1] - 1e-9).all()
    assert (inst.reward < 0).any() and (inst.reward > 0).any()


def test_fiscal_unit_prices_never_rise():
    inst = stock(200, seed=9, price_breaks="fiscal", lots=[1, 2]).instance
    unit_price = inst.cost / inst.target
    same_item = inst.line_item[1:] == inst.line_item[:-1]
    assert (np.diff(unit_price)[same_item] <= 1e-9).all()


def test_merchant_cumulative_cost_is_the_all_units_price():
    gen = stock(100, seed=10, price_breaks="merchant", lots=[1], max_lines=40)
    inst = gen.instance
    # K(q) / q takes at most three values per item (list price and two discounts)
    cum = np.cumsum(inst.cost) - np.repeat(
        np.concatenate([[0], np.cumsum(inst.cost)[inst.item_start[1:-1] - 1]]),
        inst.item_length)
    unit = np.round(cum / (inst.line_rank + 1), 6)
    levels = pd.Series(unit).groupby(inst.line_item).nunique()
    assert levels.max() <= 3 and levels.max() >= 2


def test_tightness_zero_means_no_minimum():
    inst = stock(50, seed=1, tightness=0.0).instance
    assert all((fam.moq == 0).all() for fam in inst.families)


def test_moq_family_selection_and_order():
    inst = stock(80, seed=2, moq=["supplier"]).instance
    assert inst.n_families == 1 and str(inst.families[0].labels[0]).startswith("s")
    assert stock(10, seed=2, moq=[]).instance.n_families == 0


@pytest.mark.parametrize("bad", [dict(demand="normal"), dict(price_breaks="both"),
                                 dict(moq=["warehouse"]), dict(coverage=1.0),
                                 dict(lots=[0, 2]), dict(mode="cheapest")])
def test_stock_rejects_bad_parameters(bad):
    with pytest.raises(moqlab.MOQInputError):
        stock(5, seed=0, **bad)


def test_knapsack_rejects_bad_kind():
    with pytest.raises(moqlab.MOQInputError, match="kind"):
        knapsack(5, kind="hard")


# ------------------------------------------------------------------ limits


def test_unconstrained_take_by_hand():
    # item 0: rewards 3, -1, 2 -> prefix totals 3, 2, 4: take 3 lines
    # item 1: rewards -2, 1    -> totals -2, -1: take nothing
    # item 2: rewards 1, 0     -> totals 1, 1: the shortest best prefix, 1 line
    line_item = np.array([0, 0, 0, 1, 1, 2, 2])
    reward = np.array([3.0, -1.0, 2.0, -2.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(unconstrained_take(line_item, reward, 3), [3, 0, 1])


@pytest.mark.parametrize("mode", ["budget", "min_target", "max_target"])
def test_limit_is_a_fraction_of_the_unconstrained_order(mode):
    gen = stock(70, seed=6, mode=mode, fraction=0.4, price_breaks="mixed")
    inst = gen.instance
    take = unconstrained_take(inst.line_item, inst.reward, inst.n_items)
    chosen = inst.selection_from_take(take)
    values = inst.cost if mode == "budget" else inst.target
    assert gen.mode == mode
    assert gen.reference == pytest.approx(values[chosen].sum())
    assert gen.limit == round(0.4 * gen.reference, 2)
    res = gen.solve(method="greedy")
    assert res.feasible and res.mode == mode


# ------------------------------------------------------------------ command line


def test_cli_generate_writes_a_valid_table(tmp_path, capsys):
    out = tmp_path / "order.csv"
    assert main(["generate", "stock", "--items", "30", "--seed", "4", "--param",
                 'price_breaks="mixed"', "--param", "tightness=0.8", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    gen = stock(30, seed=4, price_breaks="mixed", tightness=0.8)
    assert printed.startswith(f"budget {gen.limit:g} ")
    inst = moqlab.read_lines(out)
    assert inst.n_lines == gen.instance.n_lines and inst.n_families == 3
    np.testing.assert_allclose(inst.reward, gen.instance.reward)


def test_cli_generate_knapsack_json(tmp_path, capsys):
    import json
    out = tmp_path / "k.csv"
    assert main(["generate", "knapsack", "--items", "25", "--kind", "inverse", "--seed", "2",
                 "--fraction", "0.3", "--json", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["lines"] == 25 and summary["limit"] == round(0.3 * summary["reference"], 2)
    assert main(["solve", str(out), "--budget", str(summary["limit"]),
                 "--method", "greedy"]) == 0


def test_cli_generate_unknown_parameter_is_a_clean_error(tmp_path, capsys):
    assert main(["generate", "stock", "--items", "3", "--param", "bogus=1",
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "bogus" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


# ------------------------------------------------------------------ scale


@pytest.mark.slow
def test_one_million_lines():
    gen = knapsack(1_000_000, kind="weak", seed=1, moq_groups=[1000])
    assert gen.instance.n_lines == 1_000_000
    big = stock(62_500, seed=1, price_breaks="mixed")
    assert 900_000 < big.instance.n_lines < 1_100_000
    assert moqlab.check(big.instance, np.ones(big.instance.n_lines, bool)).feasible
