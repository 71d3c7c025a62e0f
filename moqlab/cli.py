"""The ``moqlab`` command line.

``moqlab solve LINES.csv (--budget C | --min-target T | --max-target T) [--method M]
[--out OUT.csv] [--json]`` solves every instance of a lines table, writes the input rows in
input order with an added boolean column ``selected`` (``--out -`` writes them to standard
output, the summary then going to standard error) and prints a summary per instance.

Invalid input exits with code 2 and one line on standard error; no output file is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from ._errors import MOQInputError, MOQSizeError
from ._instance import _read_csv, Batch
from ._solve import _METHODS, solve


def _add_mode(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--budget", type=float, help="maximise reward with total cost <= C")
    mode.add_argument("--min-target", type=float, dest="min_target",
                      help="grow the budget-optimal order until its target reaches T")
    mode.add_argument("--max-target", type=float, dest="max_target",
                      help="the last budget-optimal order whose target stays <= T")


def _write_atomic(path: str, frame) -> None:
    target = Path(path)
    handle, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.",
                                   suffix=".tmp")
    os.close(handle)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _format(summary: dict) -> str:
    name = f"[{summary['instance']}] " if summary.get("instance") is not None else ""
    text = (f"{name}reward {summary['reward']:.6g}  cost {summary['cost']:.6g}  "
            f"target {summary['target']:.6g}  feasible {summary['feasible']}  "
            f"status {summary['status']}  lines {summary['lines']}  "
            f"method {summary['method']}  seconds {summary['seconds']:.4f}")
    if summary.get("message"):
        text += f"\n  {summary['message']}"
    return text


def _cmd_solve(args) -> int:
    frame = _read_csv(args.lines)
    batch = Batch.from_frame(frame, source=args.lines)
    options = {}
    if args.time_limit is not None:
        options["time_limit"] = args.time_limit
    if args.seed is not None:
        options["seed"] = args.seed
    mode = {"budget": args.budget, "min_target": args.min_target, "max_target": args.max_target}
    results = solve(batch, method=args.method, **mode, **options)
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
        _write_atomic(args.out, out)
    for res in results:
        summary = res.summary()
        print(json.dumps(summary) if args.json else _format(summary), file=report)
    return 1 if any(res.status == "infeasible" for res in results) else 0


def _cmd_bench(args) -> int:
    from ._bench import run_bench  # matplotlib is imported only for this command

    for path in run_bench(args.out, quick=args.quick, sizes=args.sizes,
                          method_names=args.methods, progress=not args.no_progress):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moqlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve a lines CSV (one or several instances)")
    p.add_argument("lines", help="lines table (CSV): id, min, reward, cost[, target], g0, oq0, moq0...")
    _add_mode(p)
    p.add_argument("--method", default="auto", choices=["auto", *_METHODS],
                   help="solver (default: auto = enumerate if tiny, else milp (at least greedy's order) "
                   "with a 50 s time limit; target modes above 2,000 lines: search)")
    p.add_argument("--out", help="write the rows with a 'selected' column here ('-': stdout)")
    p.add_argument("--json", action="store_true", help="print one JSON object per instance")
    p.add_argument("--time-limit", type=float, dest="time_limit",
                   help="seconds, for methods that take one (milp; auto's default: 50)")
    p.add_argument("--seed", type=int, help="random seed, for randomised methods")
    p.set_defaults(handler=_cmd_solve)

    b = sub.add_parser("bench", help="run the methods on the benchmark suite; write tables "
                       "and figures (see moqlab._bench)")
    b.add_argument("--out", default="paper/results", help="results folder (default: %(default)s)")
    b.add_argument("--quick", action="store_true", help="smallest size, 3 cases per family")
    b.add_argument("--size", action="append", dest="sizes", help="size class (repeatable)")
    b.add_argument("--method", action="append", dest="methods", help="method (repeatable)")
    b.add_argument("--no-progress", action="store_true", dest="no_progress")
    b.set_defaults(handler=_cmd_bench)

    from ._cli_data import add_data_commands  # generate, suite
    add_data_commands(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (MOQInputError, MOQSizeError) as exc:
        print(f"moqlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("moqlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
