"""The ``moqlab`` command line.

``moqlab solve LINES.csv (--budget C | --min-target T | --max-target T) [--method M]
[--out OUT.csv] [--json]`` solves every instance of a lines table, writes the input rows in
input order with an added boolean column ``selected`` (``--out -`` writes them to standard
output, the summary then going to standard error) and prints a summary per instance.

Invalid input exits with code 2 and one line on standard error; no output file is written.

Command-line subcommands for data: ``moqlab generate`` and ``moqlab suite``.

``moqlab generate FAMILY --items N --seed S [--param KEY=VALUE ...] [--mode M]
[--fraction F] --out FILE.csv`` writes the generated lines table (columns ``id, min, reward,
cost, target, g0, oq0, moq0, ...``) and prints the drawn limit, e.g.
``budget 1234.5 (fraction 0.5 of the unconstrained order's cost 2469)``; ``--json`` prints
it as JSON (with every generator parameter, to regenerate the instance).

``moqlab suite --build`` regenerates every case of the benchmark suite, solves it with the
MILP oracle and writes ``datasets/suite/manifest.csv``; ``moqlab suite --check`` regenerates
the cases and compares them with the manifest (``--solve`` also re-solves the fast ones).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time

import numpy as np
from tqdm.auto import tqdm

from .core._errors import MOQInputError, MOQSizeError
from .core._instance import read_table, Batch
from .core._output import check_output_path, write_atomic
from ._solve import METHODS, attach_bounds, auto_pick, option_names, show_options, solve
from .lab._generate import FAMILIES, generate


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``moqlab: error: ...``, exit 2), like every other
    input error of the command line; ``more_help`` adds text computed only when asked."""

    def __init__(self, *args, more_help=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.more_help = more_help

    def error(self, message):
        self.exit(2, f"moqlab: error: {message}\n")

    def format_help(self):
        text = super().format_help()
        return text if self.more_help is None else f"{text}\n{self.more_help()}\n"


class _Terminated(BaseException):
    """SIGTERM, raised so that a write in progress removes its temporary file."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def _seconds(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {text!r}")
    return value


def _seconds_or_zero(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, got {text!r}")
    return value


def _add_mode(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--budget", type=float, help="maximise reward with total cost <= C")
    mode.add_argument("--min-target", type=float, dest="min_target",
                      help="grow the budget-optimal order until its target reaches T")
    mode.add_argument("--max-target", type=float, dest="max_target",
                      help="the last budget-optimal order whose target stays <= T")


def _options_help() -> str:
    return ("options of each method (--time-limit and --seed are passed to the methods that "
            "take them; with --method auto, to the method auto picks if it takes them):\n"
            + show_options(disp=False))


CEILINGS_SHOWN = 8  # capacity groups listed in the text output (all of them in --json)


def _format(summary: dict) -> str:
    name = f"[{summary['instance']}] " if summary.get("instance") is not None else ""
    text = (f"{name}reward {summary['reward']:.6g}  cost {summary['cost']:.6g}  "
            f"target {summary['target']:.6g}  feasible {summary['feasible']}  "
            f"status {summary['status']}  lines {summary['lines']}  "
            f"method {summary['method']}  seconds {summary['seconds']:.4f}")
    if summary.get("bound") is not None:
        gap = summary["gap"]
        text += (f"\n  optimum at most {summary['bound']:.6g}" +
                 ("" if gap is None else f" (certified gap {100 * gap:.3g} %)"))
    shown = summary.get("ceilings", [])[:CEILINGS_SHOWN]
    for family in sorted({row["family"] for row in shown}):
        text += f"\n  capacity family {family}: " + ", ".join(
            f"{row['group']} {row['total']:.4g} of {row['limit']:.4g}"
            for row in shown if row["family"] == family)
    if len(summary.get("ceilings", [])) > CEILINGS_SHOWN:
        text += f" ... (--json for all {len(summary['ceilings'])} groups)"
    if summary.get("message"):
        text += f"\n  {summary['message']}"
    return text


def _cmd_solve(args) -> int:
    if args.out:
        check_output_path(args.out)
    frame = read_table(args.lines)
    batch = Batch.from_frame(frame, source=args.lines)
    options = {}
    if args.time_limit is not None:
        options["time_limit"] = args.time_limit
    if args.seed is not None:
        options["seed"] = args.seed
    mode = {"budget": args.budget, "min_target": args.min_target, "max_target": args.max_target}
    if args.method == "auto":  # each instance gets the options its picked method takes
        picked_mode = next(name for name, value in mode.items() if value is not None)
        results = []
        with tqdm(total=len(batch), desc="moqlab auto", unit="order", delay=2.0,
                  disable=args.no_progress or len(batch) < 2, file=sys.stderr) as bar:
            for inst in batch:
                takes = option_names(auto_pick(inst, picked_mode))
                results.append(solve(inst, method="auto", **mode, bound=False,
                                     **{k: v for k, v in options.items() if k in takes}))
                bar.update()
        if args.bound:
            attach_bounds(results, args.bound_time)
    else:
        results = solve(batch, method=args.method, **mode, progress=not args.no_progress,
                        bound=args.bound, bound_time=args.bound_time, **options)
    selected = np.zeros(len(frame), dtype=bool)
    for res in results:
        selected[res.instance.rows] = res.selected
    out = frame.copy()
    out["selected"] = selected
    report = sys.stdout
    if args.out == "-":
        out.to_csv(sys.stdout, index=False)
        report = sys.stderr
    elif args.out:
        write_atomic(args.out, out)
    for res in results:
        summary = res.summary()
        print(json.dumps(summary) if args.json else _format(summary), file=report)
    return 1 if any(res.status == "infeasible" for res in results) else 0


def _cmd_bench(args) -> int:
    from .lab._bench import run_bench  # matplotlib is imported only for this command

    out = args.out or f"moqlab-bench-{time.strftime('%Y%m%d-%H%M%S')}"
    for path in run_bench(out, quick=args.quick, sizes=args.sizes, method_names=args.methods,
                          progress=not args.no_progress, dfl=args.dfl,
                          skip=args.skip or (), milp_time=args.milp_time):
        print(path)
    return 0


def _value(text: str):
    """A ``--param`` value: JSON when it parses (numbers, lists, null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _cmd_generate(args) -> int:
    params = {}
    for item in args.param or ():
        if "=" not in item:
            raise MOQInputError("--param takes KEY=VALUE", column="--param", value=item)
        key, text = item.split("=", 1)
        params[key.strip()] = _value(text)
    for key in ("mode", "fraction", "kind"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    check_output_path(args.out)
    try:
        gen = generate(args.family, args.items, seed=args.seed, **params)
    except TypeError as exc:  # an unknown parameter name
        raise MOQInputError(f"moqlab generate {args.family}: {exc}") from None
    frame = gen.instance.to_frame()
    if args.out == "-":
        frame.to_csv(sys.stdout, index=False)
        report = sys.stderr
    else:
        write_atomic(args.out, frame)
        report = sys.stdout
    summary = {"family": args.family, "seed": args.seed, "mode": gen.mode, "limit": gen.limit,
               "reference": gen.reference, "items": gen.instance.n_items,
               "lines": gen.instance.n_lines, "families": gen.instance.n_families,
               "params": gen.params}
    if args.json:
        print(json.dumps(summary), file=report)
    else:
        what = "cost" if gen.mode == "budget" else "target"
        print(f"{gen.mode} {gen.limit:g} (fraction {gen.params['fraction']:g} of the "
              f"unconstrained order's {what} {gen.reference:g}); items {gen.instance.n_items}"
              f"  lines {gen.instance.n_lines}  families {gen.instance.n_families}",
              file=report)
    return 0


def _cmd_suite(args) -> int:
    from .lab._suite_build import build_suite, check_suite, suite_table
    if args.build:
        frame = build_suite(args.manifest, solve=not args.no_solve, workers=args.workers,
                            sizes=args.size, names=args.case)
        print(suite_table(frame).to_string())
        return 0
    problems = check_suite(args.manifest, solve=args.solve, max_seconds=args.max_seconds,
                           sizes=args.size)
    for problem in problems:
        print(f"moqlab suite: {problem}", file=sys.stderr)
    print(f"suite check: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


def add_data_commands(sub) -> None:
    """Register ``generate`` and ``suite`` on the ``moqlab`` subparsers."""
    g = sub.add_parser("generate", help="generate an instance (lines CSV) from a seed")
    g.add_argument("family", choices=sorted(FAMILIES))
    g.add_argument("--items", type=int, required=True, help="number of items (SKUs)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--kind", help="knapsack class: uncorrelated, weak, strong, inverse, subset")
    g.add_argument("--mode", choices=["budget", "min_target", "max_target"])
    g.add_argument("--fraction", type=float,
                   help="limit as a fraction of the unconstrained order (default 0.5)")
    g.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="any generator parameter, value as JSON (e.g. price_breaks=\"mixed\", "
                        "moq_groups=[10], tightness=0.8); repeatable")
    g.add_argument("--out", required=True, help="lines CSV to write ('-': stdout)")
    g.add_argument("--json", action="store_true", help="print the drawn limit as JSON")
    g.set_defaults(handler=_cmd_generate)

    s = sub.add_parser("suite", help="build or check the benchmark suite (datasets/suite)")
    action = s.add_mutually_exclusive_group(required=True)
    action.add_argument("--build", action="store_true",
                        help="regenerate every case, solve it with milp, write the manifest")
    action.add_argument("--check", action="store_true",
                        help="regenerate every case and compare it with the manifest")
    s.add_argument("--manifest", help="manifest path (default datasets/suite/manifest.csv)")
    s.add_argument("--no-solve", action="store_true", dest="no_solve",
                   help="--build: sizes and fingerprints only, no optima")
    s.add_argument("--size", action="append", choices=["tiny", "small", "medium", "large"],
                   help="only these size classes (repeatable)")
    s.add_argument("--case", action="append",
                   help="--build: rebuild only this case (repeatable), keep the other rows")
    s.add_argument("--workers", type=int, default=2, help="--build: parallel oracle runs")
    s.add_argument("--solve", action="store_true",
                   help="--check: also re-solve the cases that took at most --max-seconds")
    s.add_argument("--max-seconds", type=float, default=5.0, dest="max_seconds")
    s.set_defaults(handler=_cmd_suite)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="moqlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve a lines CSV (one or several instances)",
                       more_help=_options_help,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lines", help="lines table (CSV): id, min, reward, cost[, target], g0, oq0, moq0...")
    _add_mode(p)
    p.add_argument("--method", default="auto", choices=["auto", *METHODS],
                   help="solver (default: auto = enumerate if tiny, else milp with a 50 s time limit, "
                   "started from search's order when HiGHS has not proven it in 10 s; target "
                   "modes above 2,000 lines: search)")
    p.add_argument("--out", help="write the rows with a 'selected' column here ('-': stdout)")
    p.add_argument("--json", action="store_true", help="print one JSON object per instance")
    p.add_argument("--time-limit", type=_seconds, dest="time_limit",
                   help="seconds; every method stops at it with the best order it holds, status "
                   "time_limit (compiled JAX calls are not cut; auto's milp default: 50)")
    p.add_argument("--seed", type=int, help="random seed, for randomised methods (search, relax)")
    p.add_argument("--no-progress", action="store_true", dest="no_progress",
                   help="no progress bar on standard error for long batches")
    p.add_argument("--no-bound", action="store_false", dest="bound",
                   help="budget mode: skip the certified bound on the optimum (bound, gap) "
                   "where the method does not prove one itself")
    p.add_argument("--bound-time", type=_seconds_or_zero, dest="bound_time", default=5.0,
                   help="seconds per order for the certified bound: the dual search, then "
                   "branch and bound where the bound is more than 0.1%% above the answer "
                   "(default 5; 0: the whole dual search, no branching)")
    p.set_defaults(handler=_cmd_solve)

    b = sub.add_parser("bench", help="run the methods on the benchmark suite; write tables "
                       "and figures (see moqlab.lab._bench)")
    b.add_argument("--out", help="results folder without an earlier report (default: a fresh "
                   "moqlab-bench-<date>-<time> here; the paper reads paper/results, which "
                   "changes only when named: benchmarks/full.py --paper)")
    b.add_argument("--quick", action="store_true", help="smallest size, 3 cases per family")
    b.add_argument("--size", action="append", dest="sizes", help="size class (repeatable)")
    b.add_argument("--method", action="append", dest="methods", help="method (repeatable)")
    b.add_argument("--no-progress", action="store_true", dest="no_progress")
    b.add_argument("--milp-time", type=_seconds, dest="milp_time",
                   help="milp's time limit per case (default 10 s with --quick, else 60 s)")
    b.add_argument("--skip", action="append", metavar="METHOD:SIZE",
                   help="leave a method out on one size class (repeatable; recorded in "
                   "machine.json)")
    b.add_argument("--dfl", choices=["none", "small", "full"],
                   help="the decision-focused-learning experiment: none, small (one degree, "
                   "two seeds) or full (four degrees, five seeds, about 16 min on 2 cores); "
                   "default: none with --quick, else small")
    b.set_defaults(handler=_cmd_bench)

    add_data_commands(sub)
    return parser


def compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache for this command (an application: the
    library itself never changes JAX's configuration), so the batched methods compile once
    per machine, not once per call: ``$MOQLAB_JAX_CACHE``, else
    ``$XDG_CACHE_HOME/moqlab/jax`` (``~/.cache/moqlab/jax``); ``MOQLAB_JAX_CACHE=off``
    turns it off, and a cache the user already configured is left alone. Returns the
    folder used."""
    import os
    from pathlib import Path

    import jax

    where = os.environ.get("MOQLAB_JAX_CACHE")
    if where == "off" or jax.config.jax_compilation_cache_dir:
        return None
    if not where:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        where = str(Path(base) / "moqlab" / "jax")
    try:
        Path(where).mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: compile every time, as without the cache
        return None
    jax.config.update("jax_compilation_cache_dir", where)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return where


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    compilation_cache()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.handler(args)
    except (MOQInputError, MOQSizeError) as exc:
        print(f"moqlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("moqlab: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("moqlab: terminated", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
