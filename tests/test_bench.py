"""The reproducible report (moqlab bench) and the asv suite's data module."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import moqlab
from moqlab.lab import _bench
from moqlab.lab._bench import (BenchCase, _from_pisinger, eligible, fill_reference,
                           markdown_table, relative_gap, run_method, summarise,
                           worse_than_naive)
from moqlab.cli import main


def test_relative_gap_is_zero_at_optimum_and_positive_below():
    assert relative_gap(10.0, 10.0) == 0.0
    assert relative_gap(9.0, 10.0) == pytest.approx(0.1)
    assert relative_gap(-1.0, 0.0) == 1.0          # absolute when the optimum is 0
    assert math.isnan(relative_gap(5.0, None))


@pytest.fixture(scope="module")
def pisinger_cases():
    """One Pisinger file (100 instances of 20 items) as the fallback's 'small' class."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bench, "PISINGER_BY_SIZE", {"small": ("knapPI_11_20_1000.csv",)})
        return _from_pisinger("small")


def test_pisinger_fallback_cases_carry_proven_optima(pisinger_cases):
    assert len(pisinger_cases) == 100
    case = pisinger_cases[0]
    assert case.family == "pisinger-11" and case.size == "small"
    assert case.mode == "budget" and case.proven and case.optimum == 1428.0


def test_run_method_measures_gap_against_the_reference(pisinger_cases):
    cases = pisinger_cases[:3]
    rows = run_method("greedy", cases)
    assert len(rows) == 3
    for row, case in zip(rows, cases):
        res = moqlab.solve(case.instance, budget=case.limit, method="greedy")
        assert row["reward"] == pytest.approx(res.reward)
        assert row["gap"] == pytest.approx(relative_gap(res.reward, case.optimum))
        assert row["feasible"] and row["seconds"] > 0


def test_enumeration_is_only_asked_tiny_instances():
    small = moqlab.Instance.from_arrays(["a", "b"], [1.0, 2.0], [1.0, 1.0])
    big = moqlab.Instance.from_arrays([str(i) for i in range(20)], np.ones(20), np.ones(20))
    assert eligible("enumerate", small) and not eligible("enumerate", big)
    assert eligible("greedy", big)


def _runs():
    return pd.DataFrame([
        {"method": "milp", "case": "c1", "family": "f", "size": "s", "mode": "budget",
         "lines": 10, "items": 5, "reward": 10.0, "optimum": None, "proven": False,
         "gap": math.nan, "feasible": True, "status": "optimal", "seconds": 0.5},
        {"method": "greedy", "case": "c1", "family": "f", "size": "s", "mode": "budget",
         "lines": 10, "items": 5, "reward": 8.0, "optimum": None, "proven": False,
         "gap": math.nan, "feasible": True, "status": "feasible", "seconds": 0.25},
        {"method": "greedy", "case": "c2", "family": "f", "size": "s", "mode": "budget",
         "lines": 30, "items": 5, "reward": 3.0, "optimum": 4.0, "proven": True,
         "gap": 0.25, "feasible": False, "status": "infeasible", "seconds": 0.25},
    ])


def test_fill_reference_uses_this_runs_proven_optima_only():
    runs = fill_reference(_runs())
    greedy = runs[runs.method == "greedy"].set_index("case")
    assert greedy.loc["c1", "gap"] == pytest.approx(0.2)
    assert math.isnan(greedy.loc["c2", "gap"])      # infeasible answers have no gap


def test_an_unproven_reference_is_the_best_known_order():
    # HiGHS stopped without an order (recorded best 0): the gaps are measured against the
    # best verified order of the run, never against 0, and an infeasible answer counts not
    row = {"case": "c3", "family": "f", "size": "s", "mode": "budget", "lines": 10,
           "items": 5, "optimum": 0.0, "proven": False, "gap": math.nan, "seconds": 1.0}
    runs = fill_reference(pd.DataFrame([
        {**row, "method": "milp", "reward": 4.0, "feasible": True, "status": "time_limit"},
        {**row, "method": "search", "reward": 5.0, "feasible": True, "status": "feasible"},
        {**row, "method": "greedy", "reward": 9.0, "feasible": False, "status": "infeasible"},
    ])).set_index("method")
    assert (runs["optimum"] == 5.0).all() and not runs["proven"].any()
    assert runs.loc["milp", "gap"] == pytest.approx(0.2)
    assert runs.loc["search", "gap"] == 0.0


def test_summarise_counts_speed_and_feasibility():
    table = summarise(fill_reference(_runs()), "test machine").set_index("method")
    assert table.loc["greedy", "instances"] == 2
    assert table.loc["greedy", "feasible"] == 0.5
    assert table.loc["greedy", "instances_per_s"] == pytest.approx(4.0)
    assert table.loc["greedy", "lines_per_s"] == pytest.approx(80.0)
    assert table.loc["greedy", "worst_gap"] == pytest.approx(0.2)
    text = markdown_table(table.reset_index())
    assert "| greedy | f | s | 2 | 20.000% |" in text and "test machine" in text


def test_bench_command_writes_the_report(tmp_path):
    code = main(["bench", "--quick", "--no-progress", "--out", str(tmp_path),
                 "--method", "greedy", "--method", "roundup"])
    assert code == 0
    for name in ("runs.csv", "table.csv", "table.md", "summary.csv", "throughput.csv",
                 "machine.json", "gap_vs_time.png", "throughput.png", "highs_time.png"):
        assert (tmp_path / name).stat().st_size > 0
    table = pd.read_csv(tmp_path / "table.csv")
    assert set(table["method"]) == {"greedy", "roundup"}
    assert (table["feasible"] == 1.0).all()
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary["method"]) == ["greedy", "roundup"]
    assert (summary["instances"] == table.groupby("method")["instances"].sum().values).all()
    # a second run never mixes its files with the first's
    before = (tmp_path / "runs.csv").read_bytes()
    assert main(["bench", "--quick", "--no-progress", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "runs.csv").read_bytes() == before


def test_worse_than_naive_lists_the_shortfalls():
    runs = pd.DataFrame({"method": ["roundup", "greedy", "search", "roundup", "greedy"],
                         "case": ["a", "a", "a", "b", "b"], "size": "s", "mode": "budget",
                         "reward": [10.0, 8.0, 12.0, 5.0, 5.0], "feasible": True})
    table = worse_than_naive(runs)
    assert table[["case", "method"]].values.tolist() == [["a", "greedy"]]
    assert table["shortfall"].iloc[0] == pytest.approx(0.2)


def test_bench_command_rejects_unknown_methods(tmp_path, capsys):
    assert main(["bench", "--out", str(tmp_path), "--method", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_asv_data_module_is_deterministic():
    common = pytest.importorskip("benchmarks.common")
    first, second = common.build_cases(), common.build_cases()
    assert list(first) == common.SIZES
    for size in first:
        assert [c.name for c in first[size]] == [c.name for c in second[size]]
        assert all(isinstance(c, BenchCase) for c in first[size])


def test_heuristics_are_not_asked_target_modes_on_container_orders():
    case = next(c for c in moqlab.load_suite("tiny")
                if c.name == "tiny-stock-containers-min_target")
    assert eligible("milp", case.instance, case.mode)
    assert eligible("enumerate", case.instance, case.mode)
    assert not eligible("search", case.instance, case.mode)
    assert eligible("search", case.instance, "budget")
    rows = run_method("greedy", [case])
    assert rows == []


def test_the_batch_sweep_stays_within_its_lines():
    from types import SimpleNamespace

    from moqlab.lab._bench import SWEEP_BATCH_LINES, sweep_batches, sweep_size

    def orders(lines, n=3):
        return [SimpleNamespace(instance=SimpleNamespace(n_lines=lines)) for _ in range(n)]

    cases = {"tiny": orders(12), "medium": orders(1_500), "large": orders(20_000)}
    assert sweep_size(["tiny", "medium", "large"], cases) == "medium"
    assert sweep_size(["large"], cases) == "large"  # nothing smaller: the smallest chosen
    sizes = [1, 4, 16, 64, 256]
    assert sweep_batches(sizes, cases["medium"]) == [1, 4, 16]
    assert sweep_batches(sizes, cases["large"]) == [1]
    assert sweep_batches(sizes, cases["tiny"]) == sizes
    assert all(b * 1_500 <= SWEEP_BATCH_LINES for b in sweep_batches(sizes, cases["medium"]))
