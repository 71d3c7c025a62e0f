"""The benchmark suite: generated instances with their optima (``datasets/suite/``).

The suite is a fixed manifest, ``datasets/suite/manifest.csv``: one row per case giving
its generator family, parameters (JSON) and seed -- the instance is regenerated from them
in milliseconds, so no instance file is stored -- with the mode and limit, the sizes, a
fingerprint of the generated lines (to detect drift), and the oracle's answer: ``optimum``
(the best reward the MILP found), ``bound`` (its best bound), ``proven`` (HiGHS proved
``optimum`` optimal with ``mip_rel_gap = 0``), ``highs_seconds`` and ``highs_version``.

Size classes: ``tiny`` (enumerable: at most 65,536 orders; cross-checked against
``enumerate``), ``small`` (tens of items), ``medium`` (hundreds of items, thousands of
lines), ``large`` (tens of thousands of lines; the MILP may stop at its limit, then
``proven`` is false and ``bound`` is the honest upper bound).

Example::

    >>> import moqlab
    >>> cases = moqlab.load_suite("tiny")                      # doctest: +SKIP
    >>> case = cases[0]                                       # doctest: +SKIP
    >>> moqlab.solve(case.instance, **{case.mode: case.limit}, method="greedy")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..core._errors import MOQInputError
from ._generate import generate
from ._pisinger import DATASETS
from ..core._instance import Instance

SUITE_DIR = DATASETS / "suite"
MANIFEST = SUITE_DIR / "manifest.csv"
SIZES = ("tiny", "small", "medium", "large")
MANIFEST_COLUMNS = ("name", "family", "params", "seed", "size", "n_items", "n_lines",
                    "n_families", "mode", "limit", "reference", "fingerprint", "optimum",
                    "bound", "proven", "highs_seconds", "highs_version")


class SuiteCase(NamedTuple):
    """One case of the suite.

    ``optimum``: the best reward the MILP oracle found at ``limit`` (``None`` before the
    oracle ran); it is the optimum when ``proven`` is true, else a lower bound and
    ``bound`` an upper bound (compare heuristics against ``bound`` for a conservative gap).
    ``highs_seconds``: the oracle's wall time. ``params`` and ``seed`` regenerate the
    instance with ``moqlab.generate.generate(family, **params, seed=seed)``.
    """

    name: str
    family: str
    size: str
    instance: Instance
    mode: str
    limit: float
    optimum: float | None
    proven: bool
    highs_seconds: float | None
    bound: float | None = None
    params: dict = {}
    seed: int = 0


def fingerprint(instance: Instance) -> str:
    """A short hash of the lines (ids, ranks, rewards, costs, targets, families), rounded to
    6 decimals so that the last bits of a library's special functions do not matter."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, instance.items)).encode())
    for values in (instance.line_item, instance.line_min, instance.reward, instance.cost,
                   instance.target):
        digest.update(np.round(np.asarray(values, dtype=np.float64), 6).tobytes())
    for fam in instance.families:
        digest.update(fam.item_group.astype(np.int64).tobytes())
        digest.update(np.round(fam.oq, 6).tobytes())
        digest.update(np.round(fam.moq, 6).tobytes())
    for capacity in instance.capacities:  # none on older cases: their hashes are unchanged
        digest.update(b"capacity")
        digest.update(capacity.item_group.astype(np.int64).tobytes())
        digest.update(np.round(capacity.cq, 6).tobytes())
        digest.update(np.round(capacity.cap, 6).tobytes())
    return digest.hexdigest()[:16]


def read_manifest(path=None) -> pd.DataFrame:
    """The manifest as a DataFrame (one row per case, in suite order)."""
    path = MANIFEST if path is None else Path(path)
    if not path.exists():
        raise MOQInputError(f"no suite manifest at {path}; build it with "
                            "'moqlab suite --build'")
    frame = pd.read_csv(path, dtype={"name": str, "family": str, "params": str, "size": str,
                                     "mode": str, "fingerprint": str, "highs_version": str},
                        keep_default_na=True)
    missing = [c for c in MANIFEST_COLUMNS if c not in frame.columns]
    if missing:
        raise MOQInputError(f"suite manifest {path} lacks columns {missing}", source=str(path))
    return frame


def _optional(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def case_from_row(row) -> SuiteCase:
    """Regenerate the instance of one manifest row (a mapping or a pandas row)."""
    params = json.loads(row["params"])
    seed = int(row["seed"])
    gen = generate(row["family"], seed=seed, **params)
    instance = dataclasses.replace(gen.instance, name=str(row["name"]), _cache={})
    proven = row["proven"]
    proven = False if pd.isna(proven) else bool(proven) if not isinstance(proven, str) \
        else proven.strip().lower() == "true"
    return SuiteCase(str(row["name"]), str(row["family"]), str(row["size"]), instance,
                     str(row["mode"]), float(row["limit"]), _optional(row["optimum"]), proven,
                     _optional(row["highs_seconds"]), _optional(row["bound"]), params, seed)


def load_suite(size=None, *, path=None) -> list[SuiteCase]:
    """The suite's cases in manifest order, instances regenerated from their seeds.

    ``size``: ``None`` (all), one of ``"tiny"``, ``"small"``, ``"medium"``, ``"large"``,
    or a list of them.
    """
    frame = read_manifest(path)
    if size is not None:
        wanted = [size] if isinstance(size, str) else list(size)
        for s in wanted:
            if s not in SIZES:
                raise MOQInputError(f"unknown suite size {s!r}; sizes: {list(SIZES)}",
                                    column="size", value=s)
        frame = frame[frame["size"].isin(wanted)]
    return [case_from_row(row) for _, row in frame.iterrows()]
