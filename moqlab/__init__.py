"""moqlab: the general MOQ problem (minimal order quantities), solved exactly, greedily,
through differentiable relaxations and with batched accelerated heuristics.

Read ``docs/guide.md`` (in the repository) for the problem, the lines table, the modes and
the methods; start with :func:`solve`::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> moqlab.solve(inst, budget=2, method="enumerate").reward
    3.0
"""

from .core._check import CapacityViolation, Check, GroupViolation, check
from .core._dense import DenseInstance, bucket, stack_dense, to_dense
from .core._errors import MOQInputError, MOQSizeError
from .core._instance import Batch, Capacity, Family, Instance, read_batch, read_lines
from .lab._pisinger import KnapsackCase, dataset_path, read_pisinger
from .core._result import Result
from ._solve import methods, moqsolv, show_options, solve, solve_batch
from . import generate
from .lab._generate import stock_reward
from .lab._suite import SuiteCase, load_suite

__version__ = "0.1.0"

__all__ = [
    "Batch", "Capacity", "CapacityViolation", "Check", "KnapsackCase", "dataset_path",
    "read_pisinger", "DenseInstance", "Family", "GroupViolation", "Instance", "MOQInputError",
    "MOQSizeError", "Result", "bucket", "check", "methods", "moqsolv", "read_batch",
    "read_lines", "show_options", "solve", "solve_batch", "stack_dense", "to_dense",
    "generate", "stock_reward", "SuiteCase", "load_suite",
]
