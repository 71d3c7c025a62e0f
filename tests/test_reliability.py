"""Trustworthy answers (issue 11): the table reader keeps labels and refuses what it does not
understand, nothing reaches a Result without the verifier, statuses are honest, options are
checked, JAX leaves the user's configuration alone, the command line fails cleanly, answers
do not depend on the batch or on the units of the data."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moqlab
from brute import answer
from moqlab import _solve
from moqlab.core._result import Answer
from moqlab.cli import main
from strategies import tiny_frames, tiny_problems

EXAMPLE = str(moqlab.dataset_path("examples/order.csv"))
OPTIONS = ()  # this module doubles as the home of a deliberately broken method


# ----------------------------------------------------------------- 1. the table reader


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


@pytest.mark.parametrize("first, second", [("01", "1"), ("1", "1.0"), ("007", "7")])
def test_group_labels_are_kept_as_written(tmp_path, first, second):
    # Each group alone cannot reach its minimum of 2, so the optimum is the empty order;
    # read as numbers, the two labels merged into one group and reward 9 came back optimal.
    path = _write(tmp_path, f"""
        id,min,reward,cost,g0,oq0,moq0
        a,1,5,1,{first},1,2
        b,1,4,1,{second},1,2
        """)
    inst = moqlab.read_lines(path)
    assert sorted(inst.families[0].labels) == sorted([first, second])
    for method in ("enumerate", "milp", "greedy"):
        assert moqlab.solve(inst, budget=10, method=method).reward == 0.0
    out = tmp_path / "out.csv"
    assert main(["solve", path, "--budget", "10", "--out", str(out)]) == 0
    assert out.read_text().splitlines()[1].split(",")[4] == first  # written back as read


@settings(max_examples=30)
@given(tiny_frames(max_items=5, max_lines=2, max_families=1),
       st.sampled_from([("01", "1"), ("1", "1.0"), ("2", "02.0")]))
def test_numeric_looking_labels_stay_distinct_groups(frame, labels):
    if "g0" not in frame.columns:
        return
    groups = sorted(frame["g0"].unique())
    frame = frame.copy()
    frame["g0"] = frame["g0"].map({g: labels[n % 2] + "x" * (n // 2)
                                   for n, g in enumerate(groups)})
    inst = moqlab.Instance.from_frame(frame)
    assert inst.families[0].n_groups == len(groups)


def test_family_columns_are_read_in_any_case(tmp_path):
    # Upper-case G0/OQ0/MOQ0 used to be ignored: the MOQ was not enforced at all.
    path = _write(tmp_path, """
        Id,Min,Reward,Cost,G0,OQ0,MOQ0
        a,1,5,1,x,1,2
        b,1,4,1,y,1,2
        """)
    inst = moqlab.read_lines(path)
    assert inst.n_families == 1
    assert moqlab.solve(inst, budget=10, method="enumerate").reward == 0.0


@pytest.mark.parametrize("header, row, column", [
    ("id,min,reward,cost,cost", "a,1,5,1,2", "cost"),
    ("id,min,reward,cost,Cost", "a,1,5,1,2", "cost"),
    ("id,min,reward,cost,g_0,oq0,moq0", "a,1,5,1,x,1,1", "g_0"),
    ("id,min,reward,cost,g00,oq00,moq00", "a,1,5,1,x,1,1", "g00"),
    ("id,min,reward,cost,c_0,cq0,cap0", "a,1,5,1,x,1,1", "c_0"),
    ("id,min,reward,cost,c0,cq0,cap0,c1,cq1", "a,1,5,1,x,1,1,y,1", "cap1"),
    ("id,min,reward,cost", "a,1,True,1", "reward"),
    ("id,min,reward,cost", "a,1,2020-01-01,1", "reward"),
    ("id,min,reward,cost", "a,1,1+2j,1", "reward"),
])
def test_columns_and_values_it_does_not_understand_are_refused(tmp_path, header, row, column):
    path = _write(tmp_path, f"{header}\n{row}\n")
    with pytest.raises(moqlab.MOQInputError, match=column):
        moqlab.read_lines(path)


@pytest.mark.parametrize("values", [
    [True, False],
    [pd.Timestamp("2020-01-01")] * 2,
    [pd.Timedelta(1, "D")] * 2,
    [1 + 2j, 3 + 0j],
    [1.0, True],
])
def test_frames_with_values_that_are_not_plain_numbers_are_refused(values):
    frame = pd.DataFrame({"id": ["a", "b"], "min": [1, 1], "reward": values,
                          "cost": [1.0, 1.0]})
    with pytest.raises(moqlab.MOQInputError, match="reward"):
        moqlab.Instance.from_frame(frame)


def test_totals_beyond_the_float_range_are_refused():
    frame = pd.DataFrame({"id": ["a", "b"], "min": [1, 1], "reward": [1e308, 1e308],
                          "cost": [1.0, 1.0]})
    with pytest.raises(moqlab.MOQInputError, match="overflow"):
        moqlab.Instance.from_frame(frame)


def test_a_directory_is_not_a_table(tmp_path):
    with pytest.raises(moqlab.MOQInputError, match="not a file"):
        moqlab.read_lines(tmp_path)


# ------------------------------------------------------------------ 2. the verifier


def solve_broken(instance, mode, limit):
    """A method that claims optimality for an order out of range."""
    take = np.full(instance.n_items, 7, dtype=np.int64)
    take[-1] = -3
    return Answer(take, "optimal", "")


def test_a_broken_method_cannot_be_reported_feasible(monkeypatch):
    monkeypatch.setitem(_solve.METHODS, "broken", (__name__, "solve_broken", None))
    inst = moqlab.Instance.from_arrays(["a", "a", "b"], [2.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    res = moqlab.solve(inst, budget=10, method="broken")
    assert not res.feasible and res.status == "infeasible"
    assert "malformed" in res.message and "outside" in res.message
    assert res.take.tolist() == [0, 0]  # never clipped into a valid-looking order
    assert not res.check.feasible


@pytest.mark.parametrize("take", [[1.5, 0], [np.nan, 0], [1, 0, 0], "xy"])
def test_malformed_answers_are_infeasible_with_a_reason(take):
    inst = moqlab.Instance.from_arrays(["a", "a", "b"], [2.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    res = moqlab.core._result.build_result(inst, Answer(take, "optimal"), method="m",
                                      mode="budget", limit=10.0, seconds=0.0)
    assert not res.feasible and res.status == "infeasible" and res.message


def test_answers_do_not_share_their_info():
    first, second = Answer(np.zeros(1)), Answer(np.zeros(1))
    inst = moqlab.Instance.from_arrays(["a"], [1.0], [1.0])
    one = moqlab.core._result.build_result(inst, first, method="m", mode="budget", limit=1.0,
                                      seconds=0.0)
    one.info["x"] = 1
    assert first.info is None and second.info is None
    two = moqlab.core._result.build_result(inst, second, method="m", mode="budget", limit=1.0,
                                      seconds=0.0)
    assert "x" not in two.info


# -------------------------------------------------------------------- 3. the options


def test_every_method_declares_its_options_with_the_defaults_it_uses():
    import inspect
    for method in moqlab.methods():
        declared = {o.name: o.default for o in _solve.method_options(method)}
        functions = [_solve._load(method), _solve._load(method, batch=True)]
        signature = {}
        for fn in functions:
            if fn is not None:
                for p in list(inspect.signature(fn).parameters.values())[3:]:
                    if p.default is not inspect.Parameter.empty:
                        signature.setdefault(p.name, p.default)
        assert set(signature) <= set(declared), method
        for name, default in signature.items():
            assert declared[name] == default, (method, name)


def test_show_options_lists_every_method():
    text = moqlab.show_options(disp=False)
    for method in moqlab.methods():
        assert text.count(f"{method}:") >= 1
    assert "time_limit" in moqlab.show_options("milp", disp=False)


@pytest.mark.parametrize("method, options, words", [
    ("greedy", {"seed": 5}, "takes no option 'seed'"),
    ("greedy", {"time_limit": 0}, "time_limit"),
    ("milp", {"time_limit": -1}, "time_limit"),
    ("milp", {"time_limit": float("nan")}, "time_limit"),
    ("milp", {"start": "roundup"}, "start"),
    ("relax", {"seed": 1.5}, "seed"),
    ("search", {"seed": 1}, "takes no option 'seed'"),
    ("relax", {"lp": "yes"}, "lp"),
    ("auto", {"seed": 1}, "auto picked 'milp'"),
])
def test_options_are_checked_by_name_type_and_range(method, options, words):
    inst = moqlab.read_lines(EXAMPLE)
    with pytest.raises(moqlab.MOQInputError, match=words):
        moqlab.solve(inst, budget=1500, method=method, **options)


def test_solve_and_solve_batch_share_their_default_method():
    import inspect
    assert (inspect.signature(moqlab.solve).parameters["method"].default
            == inspect.signature(moqlab.solve_batch).parameters["method"].default == "auto")


@pytest.mark.parametrize("call, words", [
    (lambda inst: moqlab.solve(EXAMPLE, budget=3), "read_lines"),
    (lambda inst: moqlab.solve_batch([inst, inst], budget=[1, 2, 3]), "one value per instance"),
    (lambda inst: moqlab.solve(inst, budget=[1, 2]), "scalar"),
    (lambda inst: moqlab.solve(inst, budget=-1), "budget"),
    (lambda inst: moqlab.solve_batch([inst, "x"], budget=1), "not an Instance"),
])
def test_arguments_that_used_to_crash_are_clear_errors(call, words):
    inst = moqlab.read_lines(EXAMPLE)
    with pytest.raises(moqlab.MOQInputError, match=words):
        call(inst)


# ------------------------------------------------------------------- 4. the statuses


def test_an_unreachable_min_target_is_answered_at_once():
    # the example's lines carry 787 units of target in all; the MILP frontier walk used to
    # run its full time limit and answer time_limit
    inst = moqlab.read_lines(EXAMPLE)
    for method in ("auto", "milp", "greedy", "search"):
        res = moqlab.solve(inst, min_target=100000, method=method)
        assert res.status == "target_unreachable" and res.feasible, method
        assert "787" in res.message
    exact = moqlab.solve(inst, min_target=100000, method="milp")
    full = moqlab.solve(inst, budget=float(inst.cost.clip(0).sum()), method="milp")
    assert exact.reward == full.reward  # the frontier's end


@settings(max_examples=60)
@given(tiny_frames(max_items=6, max_lines=3, negative_costs=True), st.floats(0, 40))
def test_heuristics_never_return_an_order_over_the_budget(frame, budget):
    # roundup used to drop groups holding negative costs and end above the budget
    inst = moqlab.Instance.from_frame(frame)
    for method in ("roundup", "greedy"):
        assert moqlab.solve(inst, budget=budget, method=method).feasible, method


# ------------------------------------------------------------------ 6. JAX hygiene


def test_jax_methods_leave_the_users_precision_alone():
    script = textwrap.dedent(f"""
        import jax, jax.numpy as jnp, moqlab
        from moqlab import diff
        inst = moqlab.read_lines({EXAMPLE!r})
        for method, opts in [("jax-greedy", {{}}), ("search", {{}}),
                             ("relax", dict(steps=40, restarts=2, lp=False))]:
            res = moqlab.solve(inst, budget=1500, method=method, **opts)
            assert res.feasible, method
            assert not jax.config.jax_enable_x64, method
        assert jnp.zeros(1).dtype == jnp.float32
        small = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [1.0, 1.0])
        y = diff.callback_solver(small, "greedy", budget=1)(jnp.array([3.0, 2.0]))
        assert y.dtype == jnp.float32 and y.tolist() == [1.0, 0.0]
        print("ok")
        """)
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


# ----------------------------------------------------------- batch independence


def _orders():
    cases = []
    for n, (family, items) in enumerate([("stock", 12), ("knapsack", 20), ("stock", 30),
                                         ("stock", 60)]):
        gen = moqlab.generate.generate(family, items, seed=n)
        cases.append((gen.instance, gen.limit))
    return cases


@pytest.mark.parametrize("method, options", [
    ("search", {}),
    ("relax", dict(steps=100, restarts=3, lp=False, seed=3)),
])
def test_an_order_gets_the_same_answer_alone_and_in_any_batch(method, options):
    cases = _orders()
    alone = [moqlab.solve(inst, budget=lim, method=method, bound=False, **options)
             for inst, lim in cases]
    for order in ([0, 1, 2, 3], [3, 1, 0, 2], [2, 2, 0]):
        batch = moqlab.solve_batch([cases[n][0] for n in order],
                                   budget=[cases[n][1] for n in order], method=method,
                                   bound=False, **options)
        for n, res in zip(order, batch):
            assert res.take.tolist() == alone[n].take.tolist(), (method, order, n)


# -------------------------------------------------------------- 7. the command line


@pytest.mark.parametrize("args, words", [
    (["--budget", "1500", "--time-limit", "-1"], "--time-limit"),
    (["--budget", "1500", "--time-limit", "nan"], "--time-limit"),
    (["--budget", "1500", "--method", "greedy", "--seed", "5"], "seed"),
    (["--budget", "1500", "--method", "relax", "--seed", "-1"], "seed"),
    (["--budget", "-3"], "budget"),
    (["--budget", "nan"], "budget"),
    (["--budget", "1500", "--out", "no-such-folder/x.csv"], "does not exist"),
    (["--budget", "1500", "--out", "."], "directory"),
    (["--budget", "1500", "--method", "nope"], "invalid choice"),
    ([], "required"),
])
def test_bad_command_lines_end_with_one_line_exit_2_and_no_file(tmp_path, args, words):
    before = set(os.listdir(tmp_path))
    done = subprocess.run([sys.executable, "-m", "moqlab.cli", "solve", EXAMPLE, *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr
    assert set(os.listdir(tmp_path)) == before


def test_a_directory_as_input_is_one_clean_error(tmp_path, capsys):
    assert main(["solve", str(tmp_path), "--budget", "3"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_json_output_is_only_json_for_every_method(capsys):
    for method in ("relax", "milp", "greedy"):
        options = ["--seed", "1"] if method == "relax" else []
        assert main(["solve", EXAMPLE, "--budget", "1500", "--method", method, "--json",
                     *options]) == 0
        [line] = capsys.readouterr().out.splitlines()
        assert json.loads(line)["method"] == method


def test_auto_forwards_only_the_options_its_pick_takes(capsys):
    # auto picks milp here, which takes no seed: the seed is not forwarded
    assert main(["solve", EXAMPLE, "--budget", "1500", "--seed", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "milp"


def test_output_files_get_the_users_umask(tmp_path):
    out = tmp_path / "chosen.csv"
    previous = os.umask(0o022)
    try:
        assert main(["solve", EXAMPLE, "--budget", "1500", "--method", "greedy",
                     "--out", str(out)]) == 0
    finally:
        os.umask(previous)
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_sigterm_while_writing_leaves_nothing_behind(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, sys
        import pandas as pd
        from moqlab.cli import main
        real = pd.DataFrame.to_csv
        def to_csv(self, path, *args, **kwargs):
            with open(path, "w") as handle:
                handle.write("half,")
            os.kill(os.getpid(), signal.SIGTERM)
            return real(self, path, *args, **kwargs)
        pd.DataFrame.to_csv = to_csv
        sys.exit(main(["solve", {EXAMPLE!r}, "--budget", "1500", "--method", "greedy",
                       "--out", "chosen.csv"]))
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 143, done.stderr
    assert os.listdir(tmp_path) == []


def test_moqsolv_takes_limits_per_instance_label():
    df = pd.DataFrame({"instance": ["x", "x", "y", "y"], "id": ["a", "b", "a", "b"],
                       "min": [1, 1, 1, 1], "reward": [5.0, 3.0, 5.0, 3.0],
                       "cost": [2.0, 1.0, 2.0, 1.0]})
    by_series = moqlab.moqsolv(df, budget=pd.Series({"y": 1.0, "x": 3.0}), method="enumerate")
    by_dict = moqlab.moqsolv(df, budget={"x": 3.0, "y": 1.0}, method="enumerate")
    assert by_series.tolist() == by_dict.tolist() == [True, True, False, True]
    for bad, words in [({"x": 1.0}, "no value for instance 'y'"),
                       ({"x": 1, "y": 2, "z": 3}, "'z'"), ([1.0, 2.0], "dict")]:
        with pytest.raises(moqlab.MOQInputError, match=words):
            moqlab.moqsolv(df, budget=bad, method="enumerate")


# ------------------------------------------------------------------ 8. extreme scales


def _scaled(inst, factor):
    families = tuple(dataclasses.replace(f, oq=f.oq * factor, moq=f.moq * factor)
                     for f in inst.families)
    return dataclasses.replace(inst, reward=inst.reward * factor, cost=inst.cost * factor,
                               target=inst.target * factor, families=families, _cache={})


def _close(a, b):
    return abs(a - b) <= 1e-7 * max(abs(a), abs(b)) or a == b


@settings(max_examples=40)
@given(tiny_problems(max_items=5, max_lines=3),
       st.sampled_from([1e-9, 1e-6, 1e-3, 1e3, 1e9, 1e12]),
       st.sampled_from(["enumerate", "milp"]))
def test_exact_methods_agree_with_brute_force_in_any_units(problem, factor, method):
    inst, mode, limit = problem
    res = moqlab.solve(_scaled(inst, factor), method=method, **{mode: limit * factor})
    reward, cost, target, status = answer(inst, mode, limit)  # in the original units
    assert res.feasible and res.status == status
    assert _close(res.reward, reward * factor)
    assert _close(res.cost, cost * factor)
    assert _close(res.target, target * factor)


# ------------------------------------------------------------ time limits everywhere


@pytest.mark.parametrize("method", ["enumerate", "greedy", "roundup", "milp", "jax-greedy",
                                    "search", "relax"])
def test_every_method_takes_a_time_limit_and_says_when_it_stopped(method):
    gen = moqlab.generate.stock(6, seed=1)
    options = {"relax": dict(steps=40, restarts=2, lp=False)}
    res = moqlab.solve(gen.instance, budget=gen.limit, method=method, time_limit=1e-9,
                       **options.get(method, {}))
    assert res.feasible  # the best order held when stopped, verified
    # jax-greedy's scan (one compiled call) and roundup's budget-mode pass are never cut
    assert res.status == ("feasible" if method in ("jax-greedy", "roundup") else "time_limit")
    full = moqlab.solve(gen.instance, budget=gen.limit, method=method, time_limit=600,
                        **options.get(method, {}))
    assert full.status != "time_limit"


def test_progress_is_quiet_when_asked_and_for_short_batches(capsys):
    cases = [moqlab.generate.stock(5, seed=n) for n in range(3)]
    for progress in (True, False):
        moqlab.solve_batch([g.instance for g in cases], budget=[g.limit for g in cases],
                           method="greedy", progress=progress)
        assert capsys.readouterr().err == ""  # under two seconds: no bar either way


def test_bad_input_never_truncates_an_existing_output(tmp_path):
    out = tmp_path / "chosen.csv"
    out.write_text("precious\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,min,reward,cost\na,1,True,1\n")
    for args in (["solve", str(bad), "--budget", "3", "--out", str(out)],
                 ["solve", EXAMPLE, "--budget", "-1", "--out", str(out)],
                 ["solve", EXAMPLE, "--budget", "3", "--method", "greedy", "--seed", "1",
                  "--out", str(out)]):
        assert main(args) == 2
        assert out.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["bad.csv", "chosen.csv"]
