"""Building and checking the benchmark suite (``moqlab suite --build`` / ``--check``).

:func:`suite_spec` is the fixed list of cases (family, parameters, seed, size class, time
limit of the oracle). :func:`build_suite` generates each case, solves it with the exact
oracle ``moqlab.solve(..., method="milp")`` (HiGHS, ``mip_rel_gap = 0``; budget mode with
``ties=False``: the optimal *reward* is what the suite records, cost/target ties do not
change it), cross-checks tiny cases against ``enumerate`` (any disagreement aborts the
build), and writes ``datasets/suite/manifest.csv``. :func:`check_suite` regenerates every
case from the manifest and compares sizes, limit and fingerprint; with ``solve=True`` it
also re-solves the cases whose recorded HiGHS time is at most ``max_seconds`` and compares
the optimum (and the enumeration optimum for tiny cases).

Example::

    >>> from moqlab.lab._suite_build import suite_spec
    >>> sorted({case["size"] for case in suite_spec()})
    ['large', 'medium', 'small', 'tiny']
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from .._solve import solve
from ..core._result import MODES
from ._generate import generate
from ._suite import MANIFEST, MANIFEST_COLUMNS, SIZES, case_from_row, fingerprint, read_manifest

TIME_LIMIT = {"tiny": 10.0, "small": 30.0, "medium": 60.0, "large": 240.0}
KINDS = ("uncorrelated", "weak", "strong", "inverse", "subset")
RELATIVE_TOLERANCE = 1e-9


def _case(name, size, family, seed, **params) -> dict:
    return {"name": name, "size": size, "family": family, "seed": seed, "params": params}


def suite_spec() -> list[dict]:
    """The suite's cases (name, size, family, seed, generator parameters), in order."""
    cases = []
    # tiny: enumerable (at most 65,536 orders)
    for i, kind in enumerate(KINDS):
        cases.append(_case(f"tiny-knap-{kind}", "tiny", "knapsack", 100 + i, n_items=10,
                           kind=kind, R=100))
        cases.append(_case(f"tiny-knap-{kind}-moq", "tiny", "knapsack", 110 + i, n_items=10,
                           kind=kind, R=100, moq_groups=[3], moq_tightness=0.5))
    tiny_stock = dict(n_items=5, mean_demand=3.0, demand_spread=0.5, max_lines=3,
                      lots=[1, 2], n_categories=2, n_suppliers=2)
    for i, breaks in enumerate((None, "merchant", "fiscal", "mixed")):
        cases.append(_case(f"tiny-stock-{breaks or 'flat'}", "tiny", "stock", 120 + i,
                           price_breaks=breaks, tightness=0.3, **tiny_stock))
    for i, mode in enumerate(("min_target", "max_target")):
        for j, breaks in enumerate((None, "merchant", "mixed")):
            cases.append(_case(f"tiny-stock-{breaks or 'flat'}-{mode}", "tiny", "stock",
                               130 + 3 * i + j, price_breaks=breaks, tightness=0.3,
                               mode=mode, **tiny_stock))
    # containers (a capacity family per supplier) in all three modes
    for i, mode in enumerate(MODES):
        cases.append(_case(f"tiny-stock-containers-{mode}", "tiny", "stock", 140 + i,
                           price_breaks="mixed", tightness=0.3, containers=0.4, mode=mode,
                           **tiny_stock))

    # small: tens of items (budget mode only: walking the frontier of the target modes
    # with the MILP takes minutes at this size; the target modes are covered by tiny)
    for i, kind in enumerate(KINDS):
        cases.append(_case(f"small-knap-{kind}", "small", "knapsack", 200 + i, n_items=40,
                           kind=kind))
        cases.append(_case(f"small-knap-{kind}-moq", "small", "knapsack", 210 + i, n_items=40,
                           kind=kind, moq_groups=[4], moq_tightness=0.5))
    small_stock = dict(n_items=20, mean_demand=4.0, demand_spread=0.6, max_lines=8,
                       n_categories=4, n_suppliers=2)
    for i, breaks in enumerate((None, "merchant", "fiscal", "mixed")):
        for j, tight in enumerate((0.5, 1.0)):
            cases.append(_case(f"small-stock-{breaks or 'flat'}-t{tight:g}", "small", "stock",
                               220 + 2 * i + j, price_breaks=breaks, tightness=tight,
                               **small_stock))
    for i, (breaks, containers) in enumerate(((None, 0.3), ("mixed", 0.3), ("mixed", 0.5),
                                              ("merchant", 0.5))):
        cases.append(_case(f"small-stock-{breaks or 'flat'}-containers{containers:g}", "small",
                           "stock", 230 + i, price_breaks=breaks, tightness=0.5,
                           containers=containers, **small_stock))

    # medium: hundreds of items (the quality bar)
    for i, kind in enumerate(KINDS):
        cases.append(_case(f"medium-knap-{kind}", "medium", "knapsack", 300 + i, n_items=300,
                           kind=kind))
        cases.append(_case(f"medium-knap-{kind}-moq", "medium", "knapsack", 310 + i,
                           n_items=300, kind=kind, moq_groups=[10], moq_tightness=0.5))
        cases.append(_case(f"medium-knap-{kind}-moq2", "medium", "knapsack", 320 + i,
                           n_items=300, kind=kind, moq_groups=[12, 4], moq_tightness=0.3,
                           moq_oq="money"))
    medium_stock = dict(n_items=150, mean_demand=4.0, demand_spread=0.6, max_lines=12)
    for i, breaks in enumerate((None, "merchant", "fiscal", "mixed")):
        for j, tight in enumerate((0.25, 0.5, 1.0)):
            cases.append(_case(f"medium-stock-{breaks or 'flat'}-t{tight:g}", "medium",
                               "stock", 330 + 3 * i + j, price_breaks=breaks, tightness=tight,
                               **medium_stock))
    for i, demand in enumerate(("poisson", "negbin")):
        cases.append(_case(f"medium-stock-{demand}", "medium", "stock", 350 + i,
                           demand=demand, price_breaks="mixed", tightness=0.5, **medium_stock))
    for i, fraction in enumerate((0.2, 0.8)):
        cases.append(_case(f"medium-stock-f{fraction:g}", "medium", "stock", 355 + i,
                           fraction=fraction, price_breaks="mixed", tightness=0.5,
                           **medium_stock))
    for i, moq in enumerate((["sku"], ["supplier"], ["category", "supplier"])):
        cases.append(_case(f"medium-stock-{'-'.join(moq)}", "medium", "stock", 360 + i,
                           moq=moq, price_breaks="mixed", tightness=1.0,
                           **{**medium_stock, "n_items": 300}))
    for i, (breaks, containers, tight) in enumerate((("mixed", 0.3, 0.5), ("mixed", 0.5, 0.5),
                                                     ("fiscal", 0.3, 0.25))):
        cases.append(_case(f"medium-stock-{breaks}-t{tight:g}-containers{containers:g}",
                           "medium", "stock", 365 + i, price_breaks=breaks, tightness=tight,
                           containers=containers, **medium_stock))

    # large: tens of thousands of lines
    for i, kind in enumerate(("uncorrelated", "weak", "strong")):
        cases.append(_case(f"large-knap-{kind}-moq", "large", "knapsack", 400 + i,
                           n_items=20000, kind=kind, moq_groups=[200], moq_tightness=0.5))
    large_stock = dict(n_items=3000, mean_demand=4.0, demand_spread=0.6, max_lines=12)
    for i, (breaks, tight) in enumerate(((None, 0.5), ("mixed", 0.5), ("mixed", 1.0))):
        cases.append(_case(f"large-stock-{breaks or 'flat'}-t{tight:g}", "large", "stock",
                           410 + i, price_breaks=breaks, tightness=tight, **large_stock))
    cases.append(_case("large-stock-mixed-t0.5-containers0.3", "large", "stock", 413,
                       price_breaks="mixed", tightness=0.5, containers=0.3, **large_stock))
    return cases


def _row_of(spec: dict) -> tuple[dict, object]:
    gen = generate(spec["family"], seed=spec["seed"], **spec["params"])
    inst = gen.instance
    row = {"name": spec["name"], "family": spec["family"],
           "params": json.dumps(spec["params"], sort_keys=True), "seed": spec["seed"],
           "size": spec["size"], "n_items": inst.n_items, "n_lines": inst.n_lines,
           "n_families": inst.n_families, "mode": gen.mode, "limit": gen.limit,
           "reference": gen.reference, "fingerprint": fingerprint(inst), "optimum": math.nan,
           "bound": math.nan, "proven": False, "highs_seconds": math.nan, "highs_version": ""}
    return row, gen


def _oracle(instance, mode, limit, time_limit):
    options = {"ties": False} if mode == "budget" else {}
    start = time.perf_counter()
    res = solve(instance, method="milp", time_limit=time_limit, **{mode: limit}, **options)
    seconds = time.perf_counter() - start
    if not res.feasible:
        raise RuntimeError(f"{instance.name}: the MILP answer failed the verifier: "
                           f"{res.message}")
    proven = bool(res.info.get("proven_optimal")) and res.status in (
        "optimal", "target_unreachable")
    bound = res.info.get("bound")
    if mode != "budget":  # the reward of a frontier order has no separate bound
        bound = res.reward if proven else math.nan
    elif proven:
        bound = res.reward
    return res, proven, (math.nan if bound is None else float(bound)), seconds


def _enumerated(instance, mode, limit) -> float:
    return solve(instance, method="enumerate", **{mode: limit}).reward


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RELATIVE_TOLERANCE * max(1.0, abs(a), abs(b))


def _solve_row(spec: dict) -> dict:
    row, gen = _row_of(spec)
    inst = gen.instance
    res, proven, bound, seconds = _oracle(inst, gen.mode, gen.limit, TIME_LIMIT[spec["size"]])
    if spec["size"] == "tiny":
        exact = _enumerated(inst, gen.mode, gen.limit)
        if not proven or not _close(exact, res.reward):
            raise RuntimeError(f"{spec['name']}: milp reward {res.reward!r} (proven {proven}) "
                               f"!= enumerate {exact!r}")
    row.update(optimum=res.reward, bound=bound, proven=proven, highs_seconds=round(seconds, 3),
               highs_version=str(res.info.get("highs_version", "")))
    return row


def build_suite(path=None, *, solve: bool = True, workers: int = 2, sizes=None, names=None,
                progress=print, _only=None) -> pd.DataFrame:
    """Generate every case of :func:`suite_spec`, solve it with the oracle (unless
    ``solve=False``: sizes and fingerprints only) and write the manifest.

    ``names``: rebuild only these cases and keep the other rows of the existing manifest
    (which must then exist)."""
    path = MANIFEST if path is None else Path(path)
    if names is not None:
        kept = read_manifest(path).set_index("name")
        unknown = set(names) - {s["name"] for s in suite_spec()}
        if unknown:
            raise ValueError(f"not in the suite: {sorted(unknown)}")
        fresh = build_suite(path.with_suffix(".part.csv"), solve=solve, workers=workers,
                            sizes=sizes, progress=progress,
                            _only=set(names)).set_index("name")
        path.with_suffix(".part.csv").unlink()
        rows = [fresh.loc[s["name"]] if s["name"] in fresh.index else kept.loc[s["name"]]
                for s in suite_spec()]
        frame = pd.DataFrame(rows).rename_axis("name").reset_index()[list(MANIFEST_COLUMNS)]
        frame.to_csv(path, index=False)
        return frame
    specs = [s for s in suite_spec() if (sizes is None or s["size"] in sizes)
             and (_only is None or s["name"] in _only)]
    if not solve:
        rows = [_row_of(s)[0] for s in specs]
    else:
        rows = []
        # longest first, so that the pool is not left waiting on a large case at the end
        order = sorted(range(len(specs)), key=lambda i: -SIZES.index(specs[i]["size"]))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = {}
            for i, row in zip(order, pool.map(_solve_row, [specs[i] for i in order])):
                done[i] = row
                progress(f"{row['name']:40s} lines {row['n_lines']:6d}  optimum "
                         f"{row['optimum']:.6g}  proven {row['proven']}  "
                         f"{row['highs_seconds']:.2f}s")
        rows = [done[i] for i in range(len(specs))]
    frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def check_suite(path=None, *, solve: bool = False, max_seconds: float = 5.0, sizes=None,
                progress=print) -> list[str]:
    """Regenerate every manifest case and compare; returns the problems found (empty = ok).

    Always compared: ``n_items``, ``n_lines``, ``n_families``, ``limit``, ``reference``,
    ``fingerprint``. With ``solve``: the cases whose recorded ``highs_seconds`` is at most
    ``max_seconds`` are re-solved by the oracle (and tiny ones by ``enumerate``); a proven
    optimum must be reproduced. ``sizes``: only these size classes.
    """
    frame = read_manifest(path)
    if sizes is not None:
        frame = frame[frame["size"].isin(list(sizes))]
    problems = []
    for _, row in frame.iterrows():
        case = case_from_row(row)
        inst = case.instance
        found = {"n_items": inst.n_items, "n_lines": inst.n_lines,
                 "n_families": inst.n_families, "fingerprint": fingerprint(inst)}
        for key, value in found.items():
            if str(value) != str(row[key]):
                problems.append(f"{case.name}: {key} is {value}, the manifest says {row[key]}")
        gen = generate(case.family, seed=case.seed, **case.params)
        for key, value in (("limit", gen.limit), ("reference", gen.reference)):
            if not _close(float(value), float(row[key])):
                problems.append(f"{case.name}: {key} is {value}, the manifest says {row[key]}")
        if solve and case.optimum is not None and (case.highs_seconds or 0) <= max_seconds:
            res, proven, bound, seconds = _oracle(inst, case.mode, case.limit,
                                                  TIME_LIMIT[case.size])
            if case.proven and not (proven and _close(res.reward, case.optimum)):
                problems.append(f"{case.name}: milp now gives {res.reward!r} (proven {proven}),"
                                f" the manifest's proven optimum is {case.optimum!r}")
            if case.size == "tiny":
                exact = _enumerated(inst, case.mode, case.limit)
                if not _close(exact, case.optimum):
                    problems.append(f"{case.name}: enumerate gives {exact!r}, the manifest "
                                    f"says {case.optimum!r}")
            progress(f"{case.name:40s} re-solved in {seconds:.2f}s: {res.reward:.6g}")
    return problems


def suite_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Composition of a manifest by size class: cases, proven, lines, HiGHS seconds."""
    frame = frame.assign(proven=frame["proven"].astype(str).str.lower() == "true")
    return frame.groupby("size", sort=False).agg(
        cases=("name", "size"), proven=("proven", "sum"),
        items_min=("n_items", "min"), items_max=("n_items", "max"),
        lines_min=("n_lines", "min"), lines_max=("n_lines", "max"),
        highs_seconds_median=("highs_seconds", "median"),
        highs_seconds_max=("highs_seconds", "max"))

