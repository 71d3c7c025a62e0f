"""Every experiment of the paper from one command, into a fresh folder.

    .venv/bin/python benchmarks/full.py                 # -> results/full-<date>-<commit>/
    .venv/bin/python benchmarks/full.py --paper         # ... then make it the paper's inputs
    .venv/bin/python benchmarks/full.py --only quality,scale --out results/try

Steps, each a subprocess whose output goes to its own file or sub-folder and whose log goes
to ``logs/<step>.log``:

========== ===================================================================================
quality    ``moqlab bench`` on every size class of the suite, every method but ``relax`` from
           the medium size up (gaps to the proven optima, certified gaps, feasibility,
           seconds, JAX compile time apart), the batch-size sweep and the small
           decision-focused-learning experiment (``--dfl small``; ``--dfl full`` takes 16 more
           minutes): ``table.csv``, ``summary.csv``, ``runs.csv``, ``throughput.csv``,
           ``dfl.csv``, the figures
suite      the suite's optima re-proven: every case ``milp`` proved in the quality step is
           compared with the optimum recorded in the manifest (``suite_optima.csv``)
highs      ``benchmarks/throughput.py`` on the medium suite: ``greedy``, ``jax-greedy``,
           ``search`` against plain ``highspy`` (10 s an order) side by side in one process
           (``highs/``)
scale      ``benchmarks/scale.py``: one order of about 1,000,000 lines, ``search`` on one of
           104,405 (on 1,000,000 it takes over 15 minutes) (``scale.csv``)
milp       ``benchmarks/milp_scaling.py``: how long HiGHS takes to prove optimality by size and
           MOQ families, 30 s per solve (``milp_scaling.csv``)
paper      ``paper/build.py`` on this folder (``paper.pdf``)
========== ===================================================================================

``full.json`` stamps the run: commit (and whether the tree had uncommitted changes), date,
machine, library versions, and each step's command, exit status and seconds. The paper's
inputs (``paper/results/``) change only with ``--paper``, which copies the folder there once
every step has passed.

Time limits are set for the 90-minute budget on the 2-core CI-like machine: ``milp`` gets 10 s
a case in the quality step (its proofs are the suite's, re-checked by the ``suite`` step),
``highspy`` 10 s an order, the MILP-scaling solves 30 s. Timed end to end at 405adc0 (the
machine to itself): quality 2,520 s, suite 1 s, highs 551 s, scale 138 s, milp 71 s, paper
1 s (54.7 minutes). Earlier tries: at a036e09, scale was stopped by hand after 955 s:
``search`` on the 1,000,000-line order was still inside its compiled engine call after 15
minutes, so ``scale`` now times ``search`` on 104,405 lines. One was
held for over 25 minutes by a HiGHS run that ignored its time limit (``medium-stock-supplier``
at ``mip_feasibility_tolerance = 1e-9``; see :mod:`moqlab.exact._milp`); one ran its batch
sweep over every batch size up to 256 on the large orders with the certified bound (the sweep
now draws its orders from the largest size of at most 5,000 lines an order, keeps batches
under 40,000 lines and times the method without its bound).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PAPER_RESULTS = ROOT / "paper" / "results"
PACKAGES = ("moqlab", "jax", "jaxlib", "optax", "numpy", "pandas", "highspy", "typst")


def _commit() -> tuple[str, bool]:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        return git("rev-parse", "--short", "HEAD"), bool(git("status", "--porcelain",
                                                             "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def _versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def steps(out: Path) -> dict[str, list[str]]:
    """The command of each step (run from the repository root)."""
    python = sys.executable
    moqlab = [python, "-m", "moqlab.cli"]
    return {
        # relax costs 15-80 s an order from the medium size up (a penalty method:
        # benchmarks/results/relax_quality_medium.md) and would take most of the run alone
        "quality": [*moqlab, "bench", "--out", str(out), "--no-progress", "--dfl", "small",
                    "--milp-time", "10", "--skip", "relax:medium", "--skip", "relax:large"],
        "suite": [python, str(Path(__file__)), "--suite-optima", str(out)],
        "highs": [python, "benchmarks/throughput.py", "--size", "medium",
                  "--methods", "highspy,greedy,jax-greedy,search", "--sweep", "",
                  "--milp-limit", "10",
                  "--out", str(out / "highs")],
        # search on 1M lines takes over 15 minutes (issue 10): timed on 104,405 lines
        "scale": [python, "benchmarks/scale.py", "--search-items", "10000",
                  "--out", str(out / "scale.md")],
        "milp": [python, "benchmarks/milp_scaling.py", "--time-limit", "30",
                 "--items", "10,30,100,300,1000", "--out", str(out / "milp_scaling.csv")],
        "paper": [python, "paper/build.py", "--results", str(out), "--out",
                  str(out / "paper.pdf")],
    }


def suite_optima(out: Path) -> pd.DataFrame:
    """Every case ``milp`` proved optimal in ``out/runs.csv`` against the recorded optimum;
    writes ``suite_optima.csv`` and fails (``SystemExit``) when one differs."""
    runs = pd.read_csv(out / "runs.csv")
    proved = runs[(runs["method"] == "milp") & (runs["status"] == "optimal")
                  & runs["optimum"].notna()].copy()
    scale = proved["optimum"].abs().clip(lower=1.0)
    proved["reproduced"] = (proved["reward"] - proved["optimum"]).abs() <= 1e-6 * scale
    table = proved[["case", "size", "mode", "lines", "optimum", "proven", "reward", "seconds",
                    "reproduced"]]
    table.to_csv(out / "suite_optima.csv", index=False)
    cases = runs["case"].nunique()
    print(f"milp proved {len(table)} of {cases} cases within its time limit; "
          f"{int(table['reproduced'].sum())} reproduce the recorded optimum")
    wrong = table[~table["reproduced"] & table["proven"]]
    if len(wrong):
        raise SystemExit(f"recorded optima not reproduced: {', '.join(wrong['case'])}")
    return table


def requality(out: Path) -> None:
    """Derive the quality step's tables and figures in ``out`` again from its ``runs.csv``
    (:func:`moqlab.lab._bench.write_quality`) and stamp ``full.json`` with the commit that
    did it: the measurements stay those of the run, the references and gaps are this
    commit's."""
    from moqlab.lab._bench import write_quality

    write_quality(pd.read_csv(out / "runs.csv"), out)
    stamp_path = out / "full.json"
    if stamp_path.exists():
        stamp = json.loads(stamp_path.read_text())
        commit, dirty = _commit()
        stamp.setdefault("requality", []).append(
            {"commit": commit, "uncommitted_changes": dirty,
             "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="results folder (default: a fresh "
                        "results/full-<date>-<commit>/); must be empty or new")
    parser.add_argument("--only", type=lambda s: s.split(","),
                        help="comma-separated steps (default: all, in order)")
    parser.add_argument("--paper", action="store_true",
                        help="when every step passed, copy the folder to paper/results/")
    parser.add_argument("--suite-optima", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--requality", type=Path, metavar="FOLDER",
                        help="derive a run's quality tables and figures again from its "
                             "runs.csv (after a change of the reference rule); solves nothing")
    args = parser.parse_args(argv)
    if args.requality:
        requality(args.requality)
        return 0
    if args.suite_optima:
        suite_optima(args.suite_optima)
        return 0

    commit, dirty = _commit()
    began = dt.datetime.now(dt.timezone.utc)
    out = args.out or ROOT / "results" / f"full-{began:%Y%m%d-%H%M}-{commit}"
    if out.exists() and any(out.iterdir()) and not args.only:
        parser.error(f"{out} is not empty: results go to a fresh folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    commands = steps(out)
    chosen = args.only or list(commands)
    unknown = [s for s in chosen if s not in commands]
    if unknown:
        parser.error(f"unknown steps {unknown}; steps: {', '.join(commands)}")

    stamp = {"commit": commit, "uncommitted_changes": dirty,
             "started": began.isoformat(timespec="seconds"), "versions": _versions(),
             "python": sys.version.split()[0], "steps": {}}
    from moqlab.lab._bench import machine_info
    stamp["machine"] = machine_info()
    failed = []
    for name in chosen:
        start = time.perf_counter()
        print(f"[{dt.datetime.now():%H:%M:%S}] {name}: {' '.join(commands[name])}", flush=True)
        with (out / "logs" / f"{name}.log").open("w") as log:
            rc = subprocess.run(commands[name], cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - start
        stamp["steps"][name] = {"command": commands[name][1:], "returncode": rc,
                                "seconds": round(seconds, 1)}
        print(f"    {'ok' if rc == 0 else f'FAILED ({rc})'} in {seconds:.0f} s", flush=True)
        if rc:
            failed.append(name)
        (out / "full.json").write_text(json.dumps(stamp, indent=2) + "\n")
    stamp["seconds"] = round(sum(s["seconds"] for s in stamp["steps"].values()), 1)
    (out / "full.json").write_text(json.dumps(stamp, indent=2) + "\n")
    print(f"{out}: {len(chosen) - len(failed)} of {len(chosen)} steps passed in "
          f"{stamp['seconds'] / 60:.1f} min")
    if failed:
        print(f"failed: {', '.join(failed)} (see {out / 'logs'})", file=sys.stderr)
        return 1
    if args.paper:
        if PAPER_RESULTS.exists():
            shutil.rmtree(PAPER_RESULTS)
        shutil.copytree(out, PAPER_RESULTS, ignore=shutil.ignore_patterns("paper.pdf"))
        print(f"copied to {PAPER_RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
