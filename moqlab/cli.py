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
import math
import signal
import sys

import numpy as np

from ._errors import MOQInputError, MOQSizeError
from ._instance import _read_csv, Batch
from ._output import check_output_path, write_atomic
from ._solve import _METHODS, _auto, option_names, show_options, solve


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
    if args.out:
        check_output_path(args.out)
    frame = _read_csv(args.lines)
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
        for inst in batch:
            takes = option_names(_auto(inst, picked_mode))
            results.append(solve(inst, method="auto", **mode,
                                 **{k: v for k, v in options.items() if k in takes}))
    else:
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
        write_atomic(args.out, out)
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
    parser = _Parser(prog="moqlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve a lines CSV (one or several instances)",
                       more_help=_options_help,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lines", help="lines table (CSV): id, min, reward, cost[, target], g0, oq0, moq0...")
    _add_mode(p)
    p.add_argument("--method", default="auto", choices=["auto", *_METHODS],
                   help="solver (default: auto = enumerate if tiny, else milp (at least greedy's order) "
                   "with a 50 s time limit; target modes above 2,000 lines: search)")
    p.add_argument("--out", help="write the rows with a 'selected' column here ('-': stdout)")
    p.add_argument("--json", action="store_true", help="print one JSON object per instance")
    p.add_argument("--time-limit", type=_seconds, dest="time_limit",
                   help="seconds, for methods that take one (milp; auto's default: 50)")
    p.add_argument("--seed", type=int, help="random seed, for randomised methods (search, relax)")
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
