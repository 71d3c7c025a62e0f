"""The one independent verifier every answer goes through before it is called feasible.

A selection ``x`` (boolean per line) is feasible when

* **prefix**: for each item the selected lines are its first ``k`` lines;
* **MOQ**: for each family ``k`` and group ``g``: ``sum_{j in g} x_j = 0`` or
  ``sum_{j in g} oq_{k,j} x_j >= moq_{k,g} (1 - tol)``;
* **ceiling**: for each capacity family ``k`` and group ``g``:
  ``sum_{j in g} cq_{k,j} x_j <= cap_{k,g} (1 + tol)``;
* **budget** (when given): ``sum_j cost_j x_j <= C (1 + tol)`` (``C >= 0``).

``tol = 1e-9`` is relative, so the verdict does not depend on the units of the data
(:mod:`moqlab.core._kernel`).

Totals are float64 sums over the selected lines. Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "a"], [2.0, 1.0], [1.0, 1.0])
    >>> moqlab.check(inst, [False, True]).feasible   # line 2 without line 1
    False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernel import TOLERANCE, allowance, capacity_totals, group_totals, over_ceiling
from ._instance import Instance



@dataclass(frozen=True)
class GroupViolation:
    family: int
    group: str
    total: float
    threshold: float

    def __str__(self) -> str:
        return (f"family {self.family} group {self.group!r}: total {self.total:g} below "
                f"threshold {self.threshold:g}")


@dataclass(frozen=True)
class CapacityViolation:
    family: int
    group: str
    total: float
    ceiling: float

    def __str__(self) -> str:
        return (f"capacity family {self.family} group {self.group!r}: total {self.total:g} "
                f"above ceiling {self.ceiling:g}")


@dataclass(frozen=True)
class Check:
    """Feasibility of a selection, with every reason it fails and its totals."""

    feasible: bool
    reward: float
    cost: float
    target: float
    prefix_violations: tuple[str, ...]
    group_violations: tuple[GroupViolation, ...]
    budget: float | None
    budget_ok: bool
    tolerance: float = TOLERANCE
    # problems with the answer itself (set by build_result for a malformed answer)
    answer_violations: tuple[str, ...] = ()
    capacity_violations: tuple[CapacityViolation, ...] = ()

    @property
    def reasons(self) -> list[str]:
        out = list(self.answer_violations)
        out += [f"item {item!r}: selected lines are not a prefix" for item in self.prefix_violations]
        out += [str(v) for v in self.group_violations]
        out += [str(v) for v in self.capacity_violations]
        if not self.budget_ok:
            out.append(f"cost {self.cost:g} exceeds budget {self.budget:g}")
        return out


def _allowance(value: float, tolerance: float) -> float:
    return allowance(value, tolerance)


def check(instance: Instance, selected, budget: float | None = None,
          tolerance: float = TOLERANCE) -> Check:
    """Verify a selection (boolean per line, in instance line order) of ``instance``."""
    selected = np.asarray(selected)
    if selected.shape != (instance.n_lines,):
        raise ValueError(f"selection has shape {selected.shape}, expected ({instance.n_lines},)")
    selected = selected.astype(bool)
    follows = instance.line_rank > 0
    gap = np.zeros(instance.n_lines, dtype=bool)
    gap[1:] = follows[1:] & selected[1:] & ~selected[:-1]
    bad_items = np.unique(instance.line_item[gap])
    prefix_violations = tuple(str(instance.items[i]) for i in bad_items)

    group_violations = []
    for k, (fam, (total, count)) in enumerate(zip(instance.families,
                                                   group_totals(instance, selected))):
        short = (count > 0) & (total < fam.moq - _allowance_array(fam.moq, tolerance))
        for g in np.flatnonzero(short):
            group_violations.append(GroupViolation(k, str(fam.labels[g]), float(total[g]),
                                                   float(fam.moq[g])))

    capacity_violations = []
    for k, (capacity, total) in enumerate(zip(instance.capacities,
                                               capacity_totals(instance, selected))):
        for g in np.flatnonzero(over_ceiling(total, capacity.cap, tolerance)):
            capacity_violations.append(CapacityViolation(
                k, str(capacity.labels[g]), float(total[g]), float(capacity.cap[g])))

    reward = float(np.sum(instance.reward[selected], dtype=np.float64))
    cost = float(np.sum(instance.cost[selected], dtype=np.float64))
    target = float(np.sum(instance.target[selected], dtype=np.float64))
    budget_ok = budget is None or cost <= budget + _allowance(budget, tolerance)
    feasible = (not prefix_violations and not group_violations and not capacity_violations
                and budget_ok)
    return Check(feasible, reward, cost, target, prefix_violations, tuple(group_violations),
                 None if budget is None else float(budget), budget_ok, tolerance,
                 capacity_violations=tuple(capacity_violations))


def _allowance_array(values: np.ndarray, tolerance: float) -> np.ndarray:
    return allowance(values, tolerance)
