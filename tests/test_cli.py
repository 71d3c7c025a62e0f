"""The moqlab command line: outputs, summaries, and clean failures on bad input."""

import json
import subprocess
import sys

import pandas as pd

import moqlab
from moqlab.cli import main

EXAMPLE = str(moqlab.dataset_path("examples/order.csv"))


def test_solve_writes_rows_in_input_order_with_selected(tmp_path, capsys):
    out = tmp_path / "chosen.csv"
    assert main(["solve", EXAMPLE, "--budget", "1500", "--method", "greedy",
                 "--out", str(out)]) == 0
    written = pd.read_csv(out)
    original = pd.read_csv(EXAMPLE)
    assert list(written.columns) == list(original.columns) + ["selected"]
    assert written["id"].tolist() == original["id"].tolist()
    inst = moqlab.read_lines(EXAMPLE)
    chosen = written["selected"].to_numpy()[inst.rows]
    verdict = moqlab.check(inst, chosen, budget=1500)
    assert verdict.feasible
    printed = capsys.readouterr().out
    assert "reward" in printed and "feasible True" in printed
    assert f"{verdict.reward:.6g}" in printed


def test_json_summary_per_instance(tmp_path, capsys):
    df = pd.DataFrame({"instance": ["x", "x", "y"], "id": ["a", "b", "a"], "min": [1, 1, 1],
                       "reward": [3.0, 2.0, 4.0], "cost": [2.0, 1.0, 3.0]})
    path = tmp_path / "two.csv"
    df.to_csv(path, index=False)
    assert main(["solve", str(path), "--budget", "2", "--json", "--method", "enumerate"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["instance"] for s in lines] == ["x", "y"]
    assert lines[0]["reward"] == 3.0 and lines[1]["reward"] == 0.0
    assert all(s["feasible"] for s in lines)


def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path):
    bad = pd.read_csv(EXAMPLE)
    bad.loc[4, "moq1"] = 999.0
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    out = tmp_path / "never.csv"
    proc = subprocess.run([sys.executable, "-m", "moqlab.cli", "solve", str(path),
                           "--budget", "100", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "row 5" in proc.stderr and "moq1" in proc.stderr
    assert not out.exists()


def test_missing_file_and_missing_mode(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.csv"), "--budget", "1"]) == 2
    assert "no such file" in capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "moqlab.cli", "solve", EXAMPLE],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--budget" in proc.stderr


def test_an_option_the_method_does_not_take_is_one_clean_error(tmp_path, capsys):
    out = tmp_path / "never.csv"
    code = main(["solve", EXAMPLE, "--budget", "1500", "--method", "greedy",
                 "--seed", "5", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "'greedy' takes no option 'seed'" in err[0]
    assert not out.exists()


def test_the_command_line_keeps_compiled_jax_functions_in_a_persistent_cache(tmp_path):
    cache = tmp_path / "jax-cache"
    env = {**__import__("os").environ, "MOQLAB_JAX_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-m", "moqlab.cli", "solve", EXAMPLE, "--budget",
                           "1500", "--method", "jax-greedy", "--out",
                           str(tmp_path / "out.csv")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert cache.is_dir() and any(cache.iterdir())  # compiled executables were stored
    env["MOQLAB_JAX_CACHE"] = "off"
    done = subprocess.run([sys.executable, "-c",
                           "import jax; from moqlab.cli import compilation_cache;"
                           "print(compilation_cache(), jax.config.jax_compilation_cache_dir)"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.stdout.split() == ["None", "None"]
