"""Malformed lines tables give MOQInputError (naming row, column, value) and nothing else."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import moqlab
from strategies import tiny_frames


def corrupt(frame: pd.DataFrame, how: str, row: int) -> tuple[pd.DataFrame, str]:
    """Break one rule; returns the table and the column the error must name."""
    frame = frame.copy()
    row = row % len(frame)
    if how == "missing_column":
        return frame.drop(columns=["cost"]), "cost"
    if how == "nan":
        frame.loc[row, "reward"] = np.nan
        return frame, "reward"
    if how == "inf":
        frame.loc[row, "cost"] = np.inf
        return frame, "cost"
    if how == "text":
        frame["min"] = frame["min"].astype(object)
        frame.loc[row, "min"] = "three"
        return frame, "min"
    if how == "duplicate_min":
        extra = frame.iloc[[row]]
        return pd.concat([frame, extra], ignore_index=True), "min"
    if how == "negative_target":
        frame.loc[row, "target"] = -1.0
        return frame, "target"
    if "g0" not in frame.columns:
        frame["g0"], frame["oq0"], frame["moq0"] = "all", 1.0, 0.0
    if how == "varying_moq":
        frame.loc[row, "moq0"] = frame.loc[row, "moq0"] + 1.0
        group = frame.loc[row, "g0"]
        if (frame["g0"] == group).sum() == 1:  # need a second line in the group
            extra = frame.iloc[[row]].copy()
            extra["id"], extra["moq0"] = "extra-item", frame.loc[row, "moq0"] - 1.0
            frame = pd.concat([frame, extra], ignore_index=True)
        return frame, "moq0"
    if how == "split_item":
        item = frame.loc[row, "id"]
        extra = frame.iloc[[row]].copy()
        extra["min"], extra["g0"] = 99, "another-group"
        extra["moq0"] = 0.0
        frame = pd.concat([frame, extra], ignore_index=True)
        frame.loc[frame["g0"] == "another-group", "id"] = item
        return frame, "g0"
    if how == "bad_oq":
        frame.loc[row, "oq0"] = 0.0
        return frame, "oq0"
    if how == "negative_moq":
        frame["moq0"] = -2.0
        return frame, "moq0"
    if how == "family_gap":  # with a family 1 already there, renaming duplicates g1
        return (frame.rename(columns={"g0": "g1", "oq0": "oq1", "moq0": "moq1"}),
                "g1" if "g1" in frame.columns else "0")
    if how == "missing_group":
        frame["g0"] = frame["g0"].astype(object)
        frame.loc[row, "g0"] = None
        return frame, "g0"
    if how == "empty":
        return frame.iloc[0:0], None
    raise AssertionError(how)


HOW = ["missing_column", "nan", "inf", "text", "duplicate_min", "negative_target",
       "varying_moq", "split_item", "bad_oq", "negative_moq", "family_gap", "missing_group",
       "empty"]


@given(tiny_frames(), st.sampled_from(HOW), st.integers(0, 100))
def test_malformed_tables_raise_only_moq_input_error(frame, how, row):
    bad, column = corrupt(frame, how, row)
    with pytest.raises(moqlab.MOQInputError) as info:
        moqlab.Batch.from_frame(bad)
    if column is not None:
        assert column in str(info.value)


def test_message_names_row_column_and_value():
    df = pd.DataFrame({"id": ["a", "b", "c"], "min": [1, 1, 1], "reward": [1.0, 2.0, 3.0],
                       "cost": [1.0, np.nan, 1.0]})
    with pytest.raises(moqlab.MOQInputError) as info:
        moqlab.Instance.from_frame(df)
    err = info.value
    assert (err.row, err.column) == (2, "cost")
    assert "row 2" in str(err) and "'cost'" in str(err)


def test_split_item_names_the_row_that_disagrees():
    df = pd.DataFrame({"id": ["a", "a"], "min": [1, 2], "reward": [1.0, 2.0],
                       "cost": [1.0, 1.0], "g0": ["s1", "s2"], "oq0": [1, 1], "moq0": [0, 0]})
    with pytest.raises(moqlab.MOQInputError, match=r"row 2, column 'g0', value 's2'"):
        moqlab.Instance.from_frame(df)


def test_several_instances_need_a_batch():
    df = pd.DataFrame({"instance": ["x", "y"], "id": ["a", "a"], "min": [1, 1],
                       "reward": [1.0, 2.0], "cost": [1.0, 1.0]})
    with pytest.raises(moqlab.MOQInputError, match="read_batch"):
        moqlab.Instance.from_frame(df)
    batch = moqlab.Batch.from_frame(df)
    assert [inst.name for inst in batch] == ["x", "y"]


def test_bad_mode_arguments_are_refused():
    inst = moqlab.Instance.from_arrays(["a"], [1.0], [1.0])
    with pytest.raises(moqlab.MOQInputError, match="exactly one"):
        moqlab.solve(inst, budget=1, min_target=1)
    with pytest.raises(moqlab.MOQInputError, match="budget"):
        moqlab.solve(inst, budget=float("nan"))
    with pytest.raises(moqlab.MOQInputError, match="unknown method"):
        moqlab.solve(inst, budget=1, method="magic")


def test_table_order_does_not_matter_and_rows_map_back():
    df = pd.DataFrame({"id": ["b", "a", "a"], "min": [1, 2, 1], "reward": [3.0, 1.0, 5.0],
                       "cost": [1.0, 2.0, 2.0]})
    inst = moqlab.Instance.from_frame(df)
    assert list(inst.items) == ["b", "a"]
    assert list(inst.rows) == [0, 2, 1]
    chosen = moqlab.moqsolv(df, budget=3, method="enumerate")
    assert chosen.tolist() == [True, False, True]
