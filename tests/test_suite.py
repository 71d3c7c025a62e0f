"""The benchmark suite: manifest shape, regeneration (fingerprints), the loader API, the
recorded optima against enumeration and the verifier, and the ``moqlab suite`` command."""

import json
import math

import numpy as np
import pandas as pd
import pytest

import moqlab
from moqlab.lab._suite import MANIFEST_COLUMNS, SIZES, fingerprint, read_manifest
from moqlab.lab._suite_build import check_suite, suite_spec
from moqlab.cli import main

MANIFEST = read_manifest()


def test_manifest_matches_the_spec():
    assert list(MANIFEST.columns) == list(MANIFEST_COLUMNS)
    spec = suite_spec()
    assert MANIFEST["name"].tolist() == [s["name"] for s in spec]
    assert MANIFEST["name"].is_unique
    for row, s in zip(MANIFEST.itertuples(), spec):
        assert json.loads(row.params) == s["params"] and row.seed == s["seed"]
        assert row.size == s["size"] and row.family == s["family"]


def test_suite_composition():
    counts = MANIFEST["size"].value_counts()
    assert set(counts.index) == set(SIZES)
    assert counts["tiny"] >= 10 and counts["small"] >= 10 and counts["medium"] >= 30
    medium = MANIFEST[MANIFEST["size"] == "medium"]
    assert medium["n_items"].min() >= 100
    assert MANIFEST[MANIFEST["size"] == "large"]["n_lines"].min() >= 10_000
    tiny = MANIFEST[MANIFEST["size"] == "tiny"]
    assert set(tiny["mode"]) == {"budget", "min_target", "max_target"}
    assert set(MANIFEST["family"]) == {"knapsack", "stock"}


def test_every_case_has_an_oracle_answer():
    assert MANIFEST["highs_version"].notna().all()
    assert MANIFEST["highs_seconds"].notna().all()
    proven = MANIFEST["proven"].astype(bool)
    # tiny and small are always proven; a proven optimum never exceeds its bound
    assert proven[MANIFEST["size"].isin(["tiny", "small"])].all()
    both = proven & MANIFEST["bound"].notna()
    assert (MANIFEST["optimum"][both] <= MANIFEST["bound"][both] * (1 + 1e-9) + 1e-9).all()


def test_load_suite_api():
    cases = moqlab.load_suite("tiny")
    assert len(cases) == (MANIFEST["size"] == "tiny").sum()
    case = cases[0]
    assert isinstance(case, moqlab.SuiteCase)
    assert case._fields[:9] == ("name", "family", "size", "instance", "mode", "limit",
                                "optimum", "proven", "highs_seconds")
    assert case.instance.name == case.name and case.size == "tiny"
    two = moqlab.load_suite(["tiny", "small"])
    assert [c.size for c in two] == ["tiny"] * len(cases) + ["small"] * (len(two) - len(cases))
    with pytest.raises(moqlab.MOQInputError, match="size"):
        moqlab.load_suite("huge")


def test_regenerated_instances_match_the_manifest():
    assert check_suite(sizes=["tiny", "small", "medium"], progress=lambda _: None) == []


def test_check_detects_drift(tmp_path):
    frame = MANIFEST[MANIFEST["size"] == "tiny"].copy()
    frame.loc[frame.index[0], "fingerprint"] = "0" * 16
    frame.loc[frame.index[1], "limit"] = frame["limit"].iloc[1] + 1.0
    path = tmp_path / "manifest.csv"
    frame.to_csv(path, index=False)
    problems = check_suite(path, progress=lambda _: None)
    assert len(problems) == 2
    assert "fingerprint" in problems[0] and "limit" in problems[1]


def test_tiny_optima_are_the_enumeration_optima():
    for case in moqlab.load_suite("tiny"):
        exact = moqlab.solve(case.instance, method="enumerate", **{case.mode: case.limit})
        assert case.proven
        assert exact.reward == pytest.approx(case.optimum, rel=1e-9, abs=1e-9), case.name


def test_heuristics_never_beat_a_proven_budget_optimum():
    for case in moqlab.load_suite(["tiny", "small"]):
        if case.mode != "budget":
            continue
        res = moqlab.solve(case.instance, method="greedy", budget=case.limit)
        assert res.feasible
        assert res.reward <= case.optimum + 1e-9 * max(1.0, abs(case.optimum)), case.name


def test_small_optima_reproduce_with_milp():
    cases = [c for c in moqlab.load_suite("small") if c.highs_seconds is not None
             and c.highs_seconds < 2.0][:3]
    assert cases
    for case in cases:
        options = {"ties": False} if case.mode == "budget" else {}
        res = moqlab.solve(case.instance, method="milp", time_limit=60,
                           **{case.mode: case.limit}, **options)
        assert res.status in ("optimal", "target_unreachable")
        assert res.reward == pytest.approx(case.optimum, rel=1e-9, abs=1e-9), case.name


def test_fingerprint_sees_a_changed_cost():
    case = moqlab.load_suite("tiny")[0]
    frame = case.instance.to_frame()
    frame.loc[0, "cost"] += 1.0
    assert fingerprint(moqlab.Instance.from_frame(frame)) != fingerprint(case.instance)


def test_cli_suite_check_tiny(capsys):
    assert main(["suite", "--check", "--size", "tiny"]) == 0
    assert "suite check: OK" in capsys.readouterr().out


@pytest.mark.slow
def test_whole_suite_check_and_fast_resolves():
    assert check_suite(solve=True, max_seconds=5.0, progress=lambda _: None) == []


def test_manifest_is_small():
    size = moqlab.dataset_path("suite/manifest.csv").stat().st_size
    assert size < 100_000
    assert not math.isnan(MANIFEST["limit"].sum())
    assert isinstance(MANIFEST, pd.DataFrame) and np.isfinite(MANIFEST["reference"]).all()
