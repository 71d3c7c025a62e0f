"""Reader for Pisinger's knapsack instance files (see ``datasets/pisinger/README.md``).

Each instance becomes an MOQ instance with one line per item (``reward`` = profit,
``cost`` = weight), no MOQ family, and the capacity as budget. Example::

    >>> import moqlab
    >>> cases = moqlab.read_pisinger(moqlab.dataset_path("pisinger/knapPI_11_20_1000.csv"))
    >>> cases[0].instance.n_items, cases[0].budget, cases[0].optimum
    (20, 970.0, 1428.0)
"""

from __future__ import annotations

import re
import importlib.resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core._errors import MOQInputError
from ..core._instance import Instance

def _datasets_dir() -> Path:
    """The repository's ``datasets/`` folder, installed as the package ``moqlab.datasets``
    (``pyproject.toml``); the folder itself when the source tree is imported without its
    installed mapping (Python started in the repository root over a regular install)."""
    try:
        return Path(str(importlib.resources.files("moqlab.datasets")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "datasets"


DATASETS = _datasets_dir()


class KnapsackCase(NamedTuple):
    name: str
    instance: Instance
    budget: float
    optimum: float


def dataset_path(relative: str) -> Path:
    """Path of a file shipped with moqlab (the repository's ``datasets/`` folder, installed
    as ``moqlab.datasets``), e.g. ``dataset_path("examples/order.csv")``."""
    path = DATASETS / relative
    if not path.exists():
        raise MOQInputError(f"no such dataset file: {path}")
    return path


def read_pisinger(path) -> list[KnapsackCase]:
    """All instances of one Pisinger file, in file order."""
    text = Path(path).read_text()
    cases = []
    for block in re.split(r"^-{5,}", text, flags=re.MULTILINE):
        rows = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not rows:
            continue
        header = {}
        for row in rows[1:5]:
            key, value = row.split()
            header[key] = float(value)
        items = np.array([[float(v) for v in row.split(",")[:3]] for row in rows[5:]])
        if items.shape[0] != int(header["n"]):
            raise MOQInputError(f"{path}: instance {rows[0]!r} declares n={header['n']:g} "
                                f"but lists {items.shape[0]} items")
        inst = Instance.from_arrays(items[:, 0].astype(int).astype(str), items[:, 1],
                                    items[:, 2], name=rows[0])
        cases.append(KnapsackCase(rows[0], inst, header["c"], header["z"]))
    return cases
