"""The result object every method returns, built only after the verifier has run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._check import Check, check
from ._kernel import capacity_totals, group_totals
from ._instance import Instance

MODES = ("budget", "min_target", "max_target")

# Statuses: what a user can rely on.
#   optimal            proven optimal (exact methods)
#   feasible           verified feasible, optimality not proven (heuristics)
#   time_limit         a time limit stopped the method; the order is the best it held
#   target_unreachable target mode: no budget-optimal order reaches the target (see design)
#   infeasible         the verifier rejected the method's answer (a bug: reported, never hidden)


class Answer(NamedTuple):
    """What a method hands back to :func:`moqlab.solve`: lines taken per item and a claim.

    ``info`` defaults to ``None`` (read as an empty dict) so that no two answers share one
    mutable default."""

    take: np.ndarray
    status: str = "feasible"
    message: str = ""
    info: dict | None = None


@dataclass
class Result:
    """The answer to one solve, verified by :func:`moqlab.check`.

    ``selected`` is a boolean per line in instance line order; ``selected_rows`` the same
    aligned with the rows of the table the instance was read from. ``take[i]`` is the number
    of lines taken for item ``i`` (``quantities`` maps item ids to it). ``info`` holds
    method-specific figures (bounds, gaps, solver versions, compile time).
    """

    method: str
    mode: str
    limit: float
    selected: np.ndarray
    take: np.ndarray
    reward: float
    cost: float
    target: float
    feasible: bool
    status: str
    message: str
    seconds: float
    check: Check
    instance: Instance = field(repr=False)
    info: dict = field(default_factory=dict)
    bound: float | None = None

    @property
    def gap(self) -> float | None:
        """``(bound - reward) / |bound|`` for a feasible answer with a bound (0 when the bound
        is 0: the empty order is then optimal), else ``None``."""
        if self.bound is None or not self.feasible:
            return None
        if self.bound == 0:
            return 0.0
        return (self.bound - self.reward) / abs(self.bound)

    @property
    def quantities(self) -> dict:
        return {str(item): int(k) for item, k in zip(self.instance.items, self.take)}

    def selected_rows(self, n_rows: int | None = None) -> np.ndarray:
        """Boolean per row of the source table (rows of other instances are ``False``)."""
        n_rows = int(self.instance.rows.max()) + 1 if n_rows is None else n_rows
        out = np.zeros(n_rows, dtype=bool)
        out[self.instance.rows] = self.selected
        return out

    def usage(self) -> pd.DataFrame:
        """Per group of every family, what the order uses: one row per MOQ group (``kind``
        ``"moq"``: ``total`` of its contributions, ``limit`` its threshold, met when the
        group is empty or reaches it) and per capacity group (``kind`` ``"capacity"``:
        ``limit`` its ceiling), with the number of ``lines`` selected in it.

        Example::

            >>> import moqlab
            >>> inst = moqlab.Instance.from_arrays(
            ...     ["a", "b"], [3.0, 2.0], [1.0, 1.0],
            ...     capacities=[(["box", "box"], [2.0, 2.0], [3.0, 3.0])])
            >>> res = moqlab.solve(inst, budget=2, method="enumerate", bound=False)
            >>> res.usage()[["kind", "group", "total", "limit", "lines"]].to_dict("records")
            [{'kind': 'capacity', 'group': 'box', 'total': 2.0, 'limit': 3.0, 'lines': 1}]
        """
        inst, rows = self.instance, []
        for k, (fam, (total, count)) in enumerate(zip(inst.families,
                                                      group_totals(inst, self.selected))):
            rows += [{"kind": "moq", "family": k, "group": str(label), "total": float(t),
                      "limit": float(m), "lines": int(c)}
                     for label, t, m, c in zip(fam.labels, total, fam.moq, count)]
        lines_in = [np.bincount(capacity.item_group[inst.line_item], weights=self.selected,
                                minlength=capacity.n_groups) for capacity in inst.capacities]
        for k, (capacity, total, count) in enumerate(zip(
                inst.capacities, capacity_totals(inst, self.selected), lines_in)):
            rows += [{"kind": "capacity", "family": k, "group": str(label), "total": float(t),
                      "limit": float(cap), "lines": int(c)}
                     for label, t, cap, c in zip(capacity.labels, total, capacity.cap, count)]
        return pd.DataFrame(rows, columns=["kind", "family", "group", "total", "limit",
                                           "lines"])

    def summary(self) -> dict:
        """A JSON-ready summary (what the command line prints)."""
        out = {"instance": self.instance.name, "method": self.method, "mode": self.mode,
               "limit": self.limit, "reward": self.reward, "cost": self.cost,
               "target": self.target, "feasible": self.feasible, "status": self.status,
               "lines": int(self.selected.sum()), "seconds": self.seconds}
        if self.message:
            out["message"] = self.message
        for key, value in self.info.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                out[key] = value
        out["bound"], out["gap"] = self.bound, self.gap  # certified, not a method's own figure
        if self.instance.capacities:
            used = self.usage()
            out["ceilings"] = used[used.kind == "capacity"].drop(columns="kind").to_dict(
                "records")
        return out


def malformed_take(instance: Instance, take) -> list[str]:
    """Why ``take`` is not a number of lines per item of ``instance`` (empty when it is):
    wrong shape, not whole numbers, or outside ``0..item_length``."""
    try:
        values = np.asarray(take, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return [f"take is not numeric ({exc})"]
    if values.shape != (instance.n_items,):
        return [f"take has shape {values.shape}, expected ({instance.n_items},)"]
    problems = []
    whole = np.isfinite(values) & (values == np.round(values))
    for i in np.flatnonzero(~whole)[:3]:
        problems.append(f"item {instance.items[i]!r}: take {values[i]!r} is not a whole number")
    outside = whole & ((values < 0) | (values > instance.item_length))
    for i in np.flatnonzero(outside)[:3]:
        problems.append(f"item {instance.items[i]!r}: take {int(values[i])} outside 0.."
                        f"{int(instance.item_length[i])}")
    return problems


def build_result(instance: Instance, answer: Answer, *, method: str, mode: str, limit: float,
                 seconds: float) -> Result:
    """Verify a method's answer and wrap it; an answer that fails the verifier is reported as
    ``infeasible`` with the verifier's reasons, never as feasible. A malformed answer (wrong
    shape, not whole numbers, out of range) is ``infeasible`` too: it is never repaired, and
    the result then holds the empty order."""
    problems = malformed_take(instance, answer.take)
    if problems:
        take = np.zeros(instance.n_items, dtype=np.int64)
    else:
        take = np.asarray(answer.take, dtype=np.float64).astype(np.int64)
    selected = instance.selection_from_take(take)
    verdict = check(instance, selected, budget=limit if mode == "budget" else None)
    status, message = answer.status, answer.message
    if problems:
        verdict = replace(verdict, feasible=False,
                          answer_violations=(f"method {method!r} returned a malformed "
                                             "answer", *problems))
    if not verdict.feasible:
        status = "infeasible"
        reasons = verdict.reasons
        message = "; ".join(reasons[:5]) + ("" if len(reasons) <= 5 else
                                            f"; and {len(reasons) - 5} more")
    info = dict(answer.info or {})
    return Result(method=method, mode=mode, limit=float(limit), selected=selected, take=take,
                  reward=verdict.reward, cost=verdict.cost, target=verdict.target,
                  feasible=verdict.feasible, status=status, message=message,
                  seconds=float(seconds), check=verdict, instance=instance, info=info,
                  bound=_proven_bound(mode, verdict.feasible, status, verdict.reward, info))


def _proven_bound(mode: str, feasible: bool, status: str, reward: float,
                  info: dict) -> float | None:
    """The bound a method's own answer proves: its reward when it is proven optimal, else
    the method's ``info["bound"]`` (HiGHS's best bound), else ``None``. Target modes have
    none."""
    if mode != "budget":
        return None
    if feasible and status == "optimal":
        return float(reward)
    value = info.get("bound")
    if isinstance(value, (int, float)) and np.isfinite(value):
        return float(value)
    return None
