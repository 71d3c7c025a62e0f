"""Command-line subcommands for data: ``moqlab generate`` and ``moqlab suite``.

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

import json
import sys

from ._errors import MOQInputError
from ._generate import FAMILIES, generate
from ._output import check_output_path, write_atomic


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
    from ._suite_build import build_suite, check_suite, suite_table
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

