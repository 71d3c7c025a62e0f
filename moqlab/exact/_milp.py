"""``milp``: the exact oracle, a mixed-integer program solved by HiGHS (through ``highspy``).

The model (one instance, lines ``j``, items ``i``, MOQ families ``k`` with groups ``g``)::

    x_j in {0, 1}                          line j is ordered
    y_g in {0, 1}                          group g is open (only groups with moq_g > 0)
    x_j <= x_{j-1}                         prefix: inside an item, line j needs line j-1
    x_{first(i)} <= y_{g(i)}               an item of a group with a minimum opens the group
                                           (the prefix rows carry this to the item's other lines)
    sum_{j in g} oq_j x_j >= moq_g y_g     an open group reaches its threshold
    sum_{j in h} cq_j x_j <= cap_h         a capacity group h stays within its ceiling
    sum_j cost_j x_j <= C                  budget (row "cost")
    sum_j reward_j x_j >= R_floor          used by the tie and frontier stages (row "reward")

built in one call from numpy arrays (a CSR matrix), so 100k-line models build in well under
a second. HiGHS runs with ``mip_rel_gap = 0`` and an absolute gap below the resolution of the
data (see :func:`resolution`), so an ``optimal`` status is a proof.

**Numerics.** Data on a decimal grid (integers, cents, 4-decimal rewards: step ``s``) is exact:
two different totals differ by at least ``s``, so the absolute gap ``0.495 s`` and the tie
margins ``s / 2`` separate ties from improvements. Real data without a grid uses margins
``max(1e-6, 1e-9 * sum |values|)``. HiGHS's integrality tolerance is lowered to 1e-8 (its
default 1e-6 lets ``x = 1e-6`` on a line of reward 100 move a row by 1e-4, more than a
margin), every solution is rounded to 0/1 and re-checked against the rows and MOQs (and
re-solved at 1e-11 if it fails), and the budget row sits half a grid step above the largest
grid total within the verifier's allowance. A time limit covers the whole call; HiGHS checks
it between phases, so a run can overshoot it (presolve and root LP of very large models).

**Budget mode, ties.** The design note's ``q_C`` is lexicographic: (1) maximise reward;
(2) among orders of reward ``R*``, minimise cost; (3) among those of cost ``c*``, maximise
target (minimise it in max-target mode). Stage 2 adds ``reward >= R* - delta_R`` and
stage 3 ``cost <= c* + delta_C``, each warm-started from the previous incumbent, where
``delta`` is half the data's grid step (integer data: 0.5), so only exact ties are admitted.
A stage is skipped when it provably cannot change the answer: stage 3 when ``target`` equals
``cost`` on every line (the default target) or is zero, stage 2 when every cost is zero.
When the tie stages are not wanted, ``ties=False`` runs stage 1 only (the reward is still
proven optimal; cost and target ties are then HiGHS's choice).

**Target modes: walking the frontier.** Frontier orders have strictly increasing reward and
cost. The walk starts at ``q_0`` (the budget-mode answer for ``C = 0``, ties as the mode
says). From a frontier order of reward ``R`` the next one is ``q_{c'}`` with
``c' = min{cost(o) : reward(o) > R}`` -- the budget-optimal order changes exactly when the
budget first affords a better reward. Each step is: (a) minimise cost subject to
``reward >= R + delta_R`` (strict improvement on the data grid; infeasible means the walk is
over); (b) maximise reward subject to ``cost <= c' + delta_C``, ``reward >= R + delta_R``
(every such order costs exactly ``c'``, so stage 2 is skipped); (c) the target tie stage.
min-target stops at the first order with target ``>= T`` (or at the last frontier order,
``target_unreachable``); max-target at the first one with target ``> T`` and returns the one
before (the empty order if ``q_0`` already exceeds ``T``). Both read the walked prefix with
:func:`moqlab.core._frontier.pick_target`, the rule shared by every exact method. Cost: up to
three MILPs per frontier order visited; the walk stops as soon as the answer is known.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> res = moqlab.solve(inst, budget=4, method="milp")
    >>> res.reward, res.status, res.info["proven_optimal"]
    (9.0, 'optimal', True)
"""

from __future__ import annotations

import math
import os
import sys
import time
import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import highspy
import numpy as np
import scipy.sparse as sp

from ..core._kernel import allowance, group_totals, without_ceilings
from ..core._check import TOLERANCE, check
from ..core._errors import MOQInputError
from ..core._frontier import pick_target
from ..heuristics._ceilings import fit_ceilings
from ..heuristics._greedy import solve_greedy
from ..core._instance import Instance
from ..core._options import Option
from ..core._result import Answer

MILP_STARTS = ("greedy", "search", "empty")
OPTIONS = (
    Option("time_limit", float, 300.0, "seconds for the whole call (all stages); None: no "
           "limit; a stopped run keeps its best order, status time_limit", minimum=0,
           strict=True, nullable=True),
    Option("mip_rel_gap", float, 0.0, "HiGHS's relative gap; > 0 makes the oracle a "
           "heuristic (status feasible unless the gap closed)", minimum=0),
    Option("threads", int, None, "HiGHS's thread count (None: HiGHS's default); fixed for "
           "the process by the first solve", minimum=1, nullable=True),
    Option("ties", bool, True, "break reward ties by cost (and target) in extra stages"),
    Option("start", str, "greedy", "budget mode: the order kept when a limit stops HiGHS "
           "before it holds a better one; 'search': search's order, also handed to HiGHS "
           "as its incumbent once the probe is over", choices=MILP_STARTS),
    Option("probe", float, 10.0, "start='search': seconds HiGHS runs alone before "
           "search's order is computed (an order proven within them needs no search)",
           minimum=0),
)

HIGHS_VERSION = (f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}."
                 f"{highspy.HIGHS_VERSION_PATCH}")
COST_ROW, REWARD_ROW = 0, 1
_INF = highspy.kHighsInf
MAX_GRID_DIGITS = 6
# HiGHS's integrality tolerance (its default 1e-6 lets x = 1e-6 on a line of reward 100 add
# 1e-4 to a row, more than the half-step margins below); solutions are also re-checked. Not
# 1e-9: HiGHS 1.16.0 at 1e-9 ran medium-stock-supplier (1,996 lines) past its 20 s time limit
# for over 25 minutes, deaf to cancelSolve() and to interrupt callbacks; at 1e-8 (and 1e-7)
# it stops at 20 s.
INTEGRALITY_TOLERANCE = 1e-8


# ----------------------------------------------------------------- data grid


def resolution(values) -> float | None:
    """Largest step ``10**-d`` (``d <= 6``) such that every value is a multiple of it, or
    ``None`` (real data). Sums of such values are multiples of the step, so two different
    totals differ by at least the step: half of it separates ties from improvements.

    >>> resolution([3.0, -2.0, 10.0]), resolution([0.25, 1.5]), resolution([1 / 3])
    (1.0, 0.01, None)
    """
    values = np.asarray(values, dtype=np.float64)
    for digits in range(MAX_GRID_DIGITS + 1):
        scaled = values * 10.0 ** digits
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return 10.0 ** -digits
    return None


def tie_margin(values) -> float:
    """Margin ``delta`` below which two totals of ``values`` count as equal: half the grid
    step, or for real data ``max(1e-6, 1e-9 * sum |values|)`` (above HiGHS's 1e-7 row
    feasibility tolerance, so a required improvement is a real one)."""
    step = resolution(values)
    if step is not None:
        return 0.5 * step
    return max(1e-6, TOLERANCE * float(np.abs(values).sum()))


# ------------------------------------------------------------- normalisation


def _power_of_two_scale(values) -> float:
    """The power of two at or below the largest ``|value|`` (1 when all are zero)."""
    top = float(np.max(np.abs(values), initial=0.0))
    return 2.0 ** math.floor(math.log2(top)) if top > 0 else 1.0


def normalised(instance: Instance) -> tuple[Instance, dict]:
    """``instance`` with rewards, costs, targets and each family's contributions and
    threshold divided by a power of two that brings their largest magnitude into [1, 2),
    and those units (``{"reward", "cost", "target"}``). HiGHS's tolerances are absolute;
    data at 1e-9 or 1e12 would fall below or far above them. A power of two is exact in
    floating point and the verifier's tolerance is relative, so every order is valid, and
    every comparison of totals comes out, exactly as in the user's units."""
    units = {name: _power_of_two_scale(getattr(instance, name))
             for name in ("reward", "cost", "target")}
    families = []
    for fam in instance.families:
        unit = _power_of_two_scale(np.concatenate([fam.oq, fam.moq]))
        families.append(dataclasses.replace(fam, oq=fam.oq / unit, moq=fam.moq / unit))
    capacities = []
    for capacity in instance.capacities:
        unit = _power_of_two_scale(np.concatenate([capacity.cq, capacity.cap]))
        capacities.append(dataclasses.replace(capacity, cq=capacity.cq / unit,
                                              cap=capacity.cap / unit))
    work = dataclasses.replace(instance, reward=instance.reward / units["reward"],
                               cost=instance.cost / units["cost"],
                               target=instance.target / units["target"],
                               families=tuple(families), capacities=tuple(capacities),
                               _cache={})
    return work, units


# --------------------------------------------------------------------- model


class Model(NamedTuple):
    """Column layout and matrix of the MILP (see the module docstring)."""

    n_lines: int
    n_cols: int
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sp.csr_matrix
    open_columns: list  # per family: (group ids with moq > 0, their y columns)


def build_model(instance: Instance) -> Model:
    """The MILP's arrays for ``instance`` (no Python loop over lines or groups)."""
    n = instance.n_lines
    starts = instance.item_start[:-1]
    first_line = starts[instance.item_length > 0]
    rows, cols, vals = [], [], []
    row_lower, row_upper = [], []
    n_rows = 0

    def add_rows(r, c, v, lower, upper):
        nonlocal n_rows
        rows.append(np.asarray(r, dtype=np.int64) + n_rows)
        cols.append(np.asarray(c, dtype=np.int64))
        vals.append(np.asarray(v, dtype=np.float64))
        count = len(lower)
        row_lower.append(np.asarray(lower, dtype=np.float64))
        row_upper.append(np.asarray(upper, dtype=np.float64))
        n_rows += count

    # Row 0: cost (budget); row 1: reward (floor, used by tie and frontier stages).
    lines = np.arange(n)
    add_rows(np.zeros(n), lines, instance.cost, [-_INF], [_INF])
    add_rows(np.zeros(n), lines, instance.reward, [-_INF], [_INF])

    # Prefix: x_j - x_{j-1} <= 0 for every line that is not its item's first.
    follow = np.flatnonzero(instance.line_rank > 0)
    m = follow.size
    add_rows(np.concatenate([np.arange(m), np.arange(m)]),
             np.concatenate([follow, follow - 1]),
             np.concatenate([np.ones(m), -np.ones(m)]), np.full(m, -_INF), np.zeros(m))

    n_cols = n
    open_columns = []
    for fam in instance.families:
        with_minimum = np.flatnonzero(fam.moq > 0)
        y = np.full(fam.n_groups, -1, dtype=np.int64)
        y[with_minimum] = n_cols + np.arange(with_minimum.size)
        n_cols += with_minimum.size
        open_columns.append((with_minimum, y[with_minimum]))
        if with_minimum.size == 0:
            continue
        # Activation: x_first(i) - y_g(i) <= 0 for the items of groups with a minimum.
        item_of_first = instance.line_item[first_line]
        gated = first_line[fam.moq[fam.item_group[item_of_first]] > 0]
        g_of = fam.item_group[instance.line_item[gated]]
        a = gated.size
        add_rows(np.concatenate([np.arange(a), np.arange(a)]),
                 np.concatenate([gated, y[g_of]]),
                 np.concatenate([np.ones(a), -np.ones(a)]), np.full(a, -_INF), np.zeros(a))
        # Threshold: sum_{j in g} oq_j x_j - moq_g y_g >= 0, one row per group with a minimum.
        row_of_group = np.full(fam.n_groups, -1, dtype=np.int64)
        row_of_group[with_minimum] = np.arange(with_minimum.size)
        line_group = fam.item_group[instance.line_item]
        member = np.flatnonzero(row_of_group[line_group] >= 0)
        add_rows(np.concatenate([row_of_group[line_group[member]], np.arange(with_minimum.size)]),
                 np.concatenate([member, y[with_minimum]]),
                 np.concatenate([fam.oq[member], -fam.moq[with_minimum]]),
                 np.zeros(with_minimum.size), np.full(with_minimum.size, _INF))

    for capacity in instance.capacities:
        # Ceiling: sum_{j in h} cq_j x_j <= cap_h for every group its lines can overflow
        line_group = capacity.item_group[instance.line_item]
        full = np.bincount(line_group, weights=capacity.cq, minlength=capacity.n_groups)
        binding = np.flatnonzero(full > capacity.cap)
        row_of_group = np.full(capacity.n_groups, -1, dtype=np.int64)
        row_of_group[binding] = np.arange(binding.size)
        member = np.flatnonzero((row_of_group[line_group] >= 0) & (capacity.cq > 0))
        add_rows(row_of_group[line_group[member]], member, capacity.cq[member],
                 np.full(binding.size, -_INF),
                 [_row_limit(capacity.cq, cap) for cap in capacity.cap[binding]])

    matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(n_rows, n_cols))
    return Model(n, n_cols, np.zeros(n_cols), np.ones(n_cols), np.concatenate(row_lower),
                 np.concatenate(row_upper), matrix, open_columns)


_banner_shown = False


def quiet_highs() -> highspy.Highs:
    """A new HiGHS object. HiGHS prints a copyright banner on stdout once per process, at the
    first construction, before any option can be set; that first construction runs with file
    descriptor 1 pointed at /dev/null so JSON printed by the command line stays clean."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    _banner_shown = True
    return highs


def load_model(model: Model, *, threads: int | None = None) -> highspy.Highs:
    """A silent HiGHS object holding ``model`` (binary columns, zero objective)."""
    highs = quiet_highs()
    highs.setOptionValue("output_flag", False)
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    matrix = model.matrix
    status = highs.passModel(
        model.n_cols, matrix.shape[0], matrix.nnz, int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize), 0.0, np.zeros(model.n_cols), model.col_lower,
        model.col_upper, model.row_lower, model.row_upper,
        matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
        matrix.data.astype(np.float64), np.ones(model.n_cols, dtype=np.int32))
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the MOQ model")
    return highs


# -------------------------------------------------------------------- stages


class Stage(NamedTuple):
    """One HiGHS run: ``take`` (lines per item, ``None`` if no solution), ``proven``;
    ``goal`` says what it optimised (for messages)."""

    goal: str
    take: np.ndarray | None
    proven: bool
    infeasible: bool
    objective: float
    bound: float
    gap: float
    nodes: int
    seconds: float


@dataclass
class Run:
    """One instance's HiGHS object, data margins and running statistics."""

    instance: Instance
    model: Model
    highs: highspy.Highs
    deadline: float
    delta_reward: float
    delta_cost: float
    ties: bool
    units: dict  # user units per normalised unit of reward, cost, target (see normalised)
    nodes: int = 0
    mip_seconds: float = 0.0
    solves: int = 0
    proven: bool = True
    first: Stage | None = None
    stopped: Stage | None = None
    notes: list = field(default_factory=list)

    def columns_of(self, take: np.ndarray) -> np.ndarray:
        """Full column vector (x and y) of the order ``take``."""
        inst = self.instance
        selected = inst.selection_from_take(take)
        values = np.zeros(self.model.n_cols)
        values[:inst.n_lines] = selected
        for (groups, y_cols), (_, used) in zip(self.model.open_columns,
                                               group_totals(inst, selected)):
            if groups.size:
                values[y_cols] = used[groups] > 0
        return values

    def totals(self, take: np.ndarray) -> tuple[float, float, float]:
        selected = self.instance.selection_from_take(take)
        inst = self.instance
        return (float(inst.reward[selected].sum()), float(inst.cost[selected].sum()),
                float(inst.target[selected].sum()))

    def stage(self, goal: str, objective: np.ndarray, maximise: bool, *, cost_upper=_INF,
              reward_lower=-_INF, start: np.ndarray | None = None, unit: float = 1.0) -> Stage:
        """Optimise ``objective . x`` under the given cost/reward rows (warm-started);
        ``unit`` converts the objective's value and bound back to the user's units."""
        highs = self.highs
        costs = np.zeros(self.model.n_cols)
        costs[:self.model.n_lines] = objective
        highs.changeColsCost(self.model.n_cols, np.arange(self.model.n_cols, dtype=np.int32),
                             costs)
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise
                                   else highspy.ObjSense.kMinimize)
        highs.changeRowBounds(COST_ROW, -_INF, float(cost_upper))
        highs.changeRowBounds(REWARD_ROW, float(reward_lower), _INF)
        highs.setOptionValue("mip_abs_gap", 0.99 * tie_margin(objective))
        if start is not None:
            highs.setSolution(self.model.n_cols, np.arange(self.model.n_cols, dtype=np.int32),
                              self.columns_of(start))
        take, status, info, seconds = self._run_checked(cost_upper, reward_lower, objective)
        proven = status == highspy.HighsModelStatus.kOptimal
        infeasible = status in (highspy.HighsModelStatus.kInfeasible,
                                highspy.HighsModelStatus.kUnboundedOrInfeasible)
        if take is None and status == highspy.HighsModelStatus.kOptimal:
            proven = False  # HiGHS's optimum did not survive rounding (see _run_checked)
            self.notes.append(f"{goal}: HiGHS's solution breaks a constraint once rounded "
                              "to 0/1, even at integrality tolerance 1e-11")
        result = Stage(goal, take, proven, infeasible,
                       float(info.objective_function_value) * unit,
                       float(info.mip_dual_bound) * unit, float(info.mip_gap),
                       int(info.mip_node_count), seconds)
        if not (proven or infeasible):
            self.proven = False
            self.stopped = self.stopped or result
        if self.first is None:
            self.first = result
        return result

    def _run_checked(self, cost_upper: float, reward_lower: float, objective: np.ndarray):
        """Run HiGHS and round its solution to a take; a rounded order that breaks the
        cost/reward rows or an MOQ (possible when HiGHS exploits its integrality tolerance,
        e.g. ``x = 1e-9`` on a line of reward 1e4) is re-solved once at a tolerance 1000x
        smaller, then given up (``take = None``). A solution whose objective is not the value
        HiGHS reports is stale: HiGHS 1.16, given a start by ``setSolution``, was seen to
        report the optimum's value (and ``optimal``) while returning the start's columns;
        the solve is then run again from scratch."""
        highs = self.highs
        result = None, None, None, 0.0
        attempts = [INTEGRALITY_TOLERANCE, INTEGRALITY_TOLERANCE * 1e-3]
        fresh = False
        while attempts:
            tolerance = attempts[0]
            highs.setOptionValue("mip_feasibility_tolerance", tolerance)
            remaining = self.deadline - time.perf_counter()
            highs.setOptionValue("time_limit", max(remaining, 1e-3))
            began = time.perf_counter()
            ran = highs.run()
            seconds = time.perf_counter() - began
            status, info = highs.getModelStatus(), highs.getInfo()
            if ran == highspy.HighsStatus.kError and status == highspy.HighsModelStatus.kNotset:
                # HiGHS refused to start (seen: a threads= different from the count its
                # thread pool was created with earlier in this process); never a time limit
                raise MOQInputError(
                    "HiGHS refused to run this model; its thread pool is created once per "
                    "process, so every milp call of a process must use the same threads= "
                    "(or none)")
            self.solves += 1
            self.nodes += int(info.mip_node_count)
            self.mip_seconds += seconds
            result = None, status, info, seconds
            if info.primal_solution_status != highspy.kSolutionStatusFeasible:
                break
            x = np.asarray(highs.getSolution().col_value)[:self.model.n_lines]
            take = np.bincount(self.instance.line_item, weights=x > 0.5,
                               minlength=self.instance.n_items).astype(np.int64)
            value = float(objective[self.instance.selection_from_take(take)].sum())
            consistent = abs(value - info.objective_function_value) <= tie_margin(objective)
            if not consistent and not fresh:
                fresh = True
                highs.clearSolver()  # drop the start and every trace of it, same tolerance
                continue
            if consistent and self.rounded_ok(take, cost_upper, reward_lower):
                result = take, status, info, seconds
                break
            attempts.pop(0)
        highs.setOptionValue("mip_feasibility_tolerance", INTEGRALITY_TOLERANCE)
        return result

    def rounded_ok(self, take: np.ndarray, cost_upper: float, reward_lower: float) -> bool:
        reward, cost, _ = self.totals(take)
        slack = allowance(cost_upper) if np.isfinite(cost_upper) else 0.0
        return (cost <= cost_upper + slack and reward >= reward_lower
                and check(self.instance, self.instance.selection_from_take(take)).feasible)


def best_order(run: Run, budget: float, prefer_larger_target: bool, *,
               reward_floor: float = -_INF, known_min_cost: bool = False,
               start: np.ndarray | None = None,
               first_deadline: float | None = None) -> np.ndarray | None:
    """``q_C`` by the tie rules (lexicographic stages), among orders with
    ``reward >= reward_floor``; ``None`` when no valid order satisfies the floor.
    ``known_min_cost``: every admissible order costs the same (stage 2 skipped);
    ``first_deadline``: an earlier deadline for the reward stage alone."""
    inst = run.instance
    empty = np.zeros(inst.n_items, dtype=np.int64)
    if start is None and reward_floor == -_INF and budget >= 0:
        start = empty  # always feasible: a time limit still leaves an incumbent
    deadline = run.deadline
    if first_deadline is not None:
        run.deadline = min(deadline, first_deadline)
    first = run.stage("max reward", inst.reward, True, cost_upper=budget,
                      reward_lower=reward_floor, start=start, unit=run.units["reward"])
    run.deadline = deadline
    if first.take is None:
        if first.infeasible:
            return None
        run.notes.append("no valid order found before the time limit")
        return None
    take = first.take
    if not (run.ties and first.proven):
        return take
    reward, cost, target = run.totals(take)
    floor = reward - run.delta_reward
    if not known_min_cost and np.any(inst.cost != 0):
        second = run.stage("min cost among reward ties", inst.cost, False, cost_upper=budget,
                           reward_lower=floor, start=take, unit=run.units["cost"])
        if second.take is None or not second.proven:
            return take if second.take is None else second.take
        take = second.take
        reward, cost, target = run.totals(take)
    if np.array_equal(inst.target, inst.cost) or not np.any(inst.target != 0):
        return take
    third = run.stage("target among reward and cost ties", inst.target, prefer_larger_target,
                      cost_upper=min(budget, cost + run.delta_cost), reward_lower=floor,
                      start=take, unit=run.units["target"])
    return take if third.take is None else third.take


# ------------------------------------------------------------------- answers


def solve_milp(instance: Instance, mode: str, limit: float, time_limit: float | None = 300.0,
               mip_rel_gap: float = 0.0, threads: int | None = None,
               ties: bool = True, start: str = "greedy", probe: float = 10.0) -> Answer:
    """Exact answer by HiGHS in any mode (see the module docstring for the method).

    ``time_limit`` (seconds) bounds the whole call (all stages); ``mip_rel_gap`` > 0 turns
    the oracle into a heuristic (the status is then ``feasible`` unless the gap closed);
    ``threads`` is HiGHS's thread count; ``ties=False`` skips the cost/target tie stages.
    ``start``: the order kept when a time limit stops HiGHS before it holds a
    better one (in target modes: before the first frontier order is known) (then computed, after HiGHS, and its reward is ``info["start_reward"]``). ``"greedy"`` (default) is the ``greedy`` method's order (status
    ``time_limit``), so a limit never returns the empty order when greedy found one;
    ``"empty"`` keeps the empty order. ``"search"`` runs HiGHS alone for ``probe`` seconds;
    when that does not prove the order, ``search``'s order is computed and HiGHS runs again,
    from it, for the rest of ``time_limit`` (``info["search_reward"]``,
    ``info["search_seconds"]``); the answer is never worse than search's. This is what
    ``auto`` runs in budget mode: exact where HiGHS is fast, search's order (improved and
    bounded by HiGHS) where it is not.

    ``info``: ``highs_version``, ``proven_optimal``, ``bound`` and ``gap`` (of the HiGHS
    run a limit stopped, else of the first reward stage: in budget mode, the optimum), ``nodes`` (all stages), ``mip_seconds`` (time inside
    HiGHS), ``reward_seconds`` and ``reward_proven`` (the first reward stage alone: in budget
    mode, whether the optimal reward is proven even when a tie stage ran out of time), ``solves`` (HiGHS runs), ``build_seconds``; in target modes ``frontier``
    (frontier orders walked).
    """
    if start not in MILP_STARTS:
        raise MOQInputError(f"milp: unknown start {start!r}; choose one of "
                            f"{', '.join(map(repr, MILP_STARTS))}")
    began = time.perf_counter()
    instance, units = normalised(instance)
    limit = float(limit) / units["cost" if mode == "budget" else "target"]
    model = build_model(instance)
    highs = load_model(model, threads=threads)
    highs.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    deadline = math.inf if time_limit is None else began + float(time_limit)
    run = Run(instance, model, highs, deadline,
              tie_margin(instance.reward), tie_margin(instance.cost), ties, units)
    build_seconds = time.perf_counter() - began
    prefer_larger = mode != "max_target"
    empty = np.zeros(instance.n_items, dtype=np.int64)

    if mode == "budget":
        budget = _budget_row(instance, float(limit))
        probing = start == "search"
        take = best_order(run, budget, prefer_larger,
                          first_deadline=began + float(probe) if probing else None)
        searched = None
        if probing and not (run.first is not None and run.first.proven) \
                and time.perf_counter() < deadline:
            run, take, searched = _from_search(run, instance, float(limit), budget,
                                               deadline, prefer_larger, take)
        info = _info(run, build_seconds, run.first)  # bound and gap of the reward stage
        if searched is not None:
            info.update(searched)
        elif run.first is None or not run.first.proven:
            # The fallback is computed only when the reward stage stopped short (a proven
            # reward is at least greedy's). Not handed to HiGHS as a start: HiGHS 1.16 was seen to report
            # a start of reward 1 as "optimal" with objective 3.
            # start="search" lands here only when no time was left for search: greedy then
            first = _start_order(instance, float(limit)) if start != "empty" else empty
            start_reward = run.totals(first)[0]
            info["start_reward"] = start_reward * units["reward"]
            if take is None or run.totals(take)[0] < start_reward:
                take = first
        status, message = _status(run, mip_rel_gap)
        return Answer(take, status, message, info)
    if mode not in ("min_target", "max_target"):
        raise ValueError(f"unknown mode {mode!r}")

    frontier, targets = _walk(run, mode, float(limit), prefer_larger)
    info = _info(run, build_seconds)
    info["frontier"] = len(frontier)
    if not run.proven:
        return _stopped_walk(run, mode, float(limit), frontier, targets, start, info)
    if not frontier:  # HiGHS proved nothing wrong but returned no order (see run.notes)
        status, message = _status(run, mip_rel_gap)
        return Answer(empty, status, message, info)
    position, status, message = pick_target(targets, mode, float(limit))
    if status == "optimal" and mip_rel_gap > 0:
        status = "feasible"
    return Answer(empty if position < 0 else frontier[position], status, message, info)


def _stopped_walk(run: Run, mode: str, limit: float, frontier, targets, start: str,
                  info: dict) -> Answer:
    """The answer when a time limit stopped the frontier walk: the walked prefix read by the
    mode's rule; in min-target mode, when the walk stopped before reaching the target,
    greedy's order if it reaches it (``start="greedy"``, or ``"search"``, which has no
    frontier walk of its own), since the walked orders do not."""
    stopped = run.stopped.goal if run.stopped is not None else "HiGHS"
    message = (f"the time limit stopped the frontier walk after {len(frontier)} orders "
               f"({stopped})")
    empty = np.zeros(run.instance.n_items, dtype=np.int64)
    take = empty
    if frontier:
        position, _, _ = pick_target(targets, mode, limit)
        take = empty if position < 0 else frontier[position]
        if mode == "max_target" or targets[position] >= limit - allowance(limit):
            return Answer(take, "time_limit", message + "; the order is the last walked one "
                          "the mode allows", info)
    if start in ("greedy", "search") and not run.instance.capacities:
        # (greedy's target-mode order ignores capacity families: not a fallback there)
        greedy = np.asarray(solve_greedy(run.instance, mode, limit).take, np.int64)
        reaches = run.totals(greedy)[2] >= limit - allowance(limit)
        if not frontier or (mode == "min_target" and reaches):
            return Answer(greedy, "time_limit", message + "; the order is greedy's", info)
    return Answer(take, "time_limit", message + ("; the order is the last walked one" if
                                                  frontier else "; the empty order"), info)


def _walk(run: Run, mode: str, limit: float, prefer_larger: bool):
    """Frontier orders from ``q_0`` until the answer of ``mode`` is known."""
    margin = allowance(limit)
    frontier, targets = [], []
    take = best_order(run, _budget_row(run.instance, 0.0), prefer_larger)
    while take is not None:
        reward, cost, target = run.totals(take)
        frontier.append(take)
        targets.append(target)
        if mode == "min_target" and target >= limit - margin:
            break
        if mode == "max_target" and target > limit + margin:
            break
        floor = reward + run.delta_reward
        cheapest = run.stage("next frontier cost", run.instance.cost, False,
                             unit=run.units["cost"],
                             reward_lower=floor)
        if cheapest.take is None or not cheapest.proven:
            break  # no better order exists (infeasible) or the time limit stopped it
        _, next_cost, _ = run.totals(cheapest.take)
        take = best_order(run, next_cost + run.delta_cost, prefer_larger, reward_floor=floor,
                          known_min_cost=True, start=cheapest.take)
    return frontier, targets




def _from_search(probe: Run, instance: Instance, limit: float, budget: float,
                 deadline: float, prefer_larger: bool, take: np.ndarray | None):
    """After a probe that proved nothing: ``search``'s order (within the time left), then
    HiGHS again from it until ``deadline``; returns the second run, the better order and
    the info entries. HiGHS keeps nothing of the probe's tree, so the probe's time is the
    price of not running search on orders HiGHS proves at once."""
    from ..heuristics._search import solve_search  # JAX only when a probe falls short

    began = time.perf_counter()
    found = solve_search(without_ceilings(instance), "budget", limit,
                         time_limit=max(deadline - began, 1e-3)).take
    found, _ = fit_ceilings(instance, np.asarray(found, dtype=np.int64), limit)
    if not check(instance, instance.selection_from_take(found), budget=limit).feasible:
        found = np.zeros(instance.n_items, dtype=np.int64)  # search verifies; kept honest
    searched = {"search_reward": probe.totals(found)[0] * probe.units["reward"],
                "search_seconds": time.perf_counter() - began,
                "probe_seconds": probe.mip_seconds}
    probe.highs.clearSolver()
    run = dataclasses.replace(probe, deadline=deadline, proven=True, first=None,
                              stopped=None, notes=list(probe.notes))
    better = best_order(run, budget, prefer_larger, start=found)
    candidates = [t for t in (better, take, found) if t is not None]
    return run, max(candidates, key=lambda t: run.totals(t)[0]), searched


def _start_order(instance: Instance, budget: float) -> np.ndarray:
    """The greedy order for ``budget`` if the verifier accepts it, else the empty order."""
    # greedy's order is repaired to fit the capacity families (its scan alone respects them)
    take = np.asarray(solve_greedy(instance, "budget", budget).take, dtype=np.int64)
    take, _ = fit_ceilings(instance, take, budget)
    if check(instance, instance.selection_from_take(take), budget=budget).feasible:
        return take
    return np.zeros(instance.n_items, dtype=np.int64)


def _budget_row(instance: Instance, budget: float) -> float:
    """Row bound for ``cost <= budget`` (see :func:`_row_limit`)."""
    return _row_limit(instance.cost, budget)


def _row_limit(values: np.ndarray, limit: float) -> float:
    """Row bound for ``sum values_j x_j <= limit`` (the budget, a ceiling): on a grid the
    bound is moved half a step past the largest grid total within the verifier's allowance,
    so HiGHS's feasibility tolerance can neither admit a total above the limit nor cut one
    at it."""
    allowed = limit + allowance(limit)
    step = resolution(values)
    if step is None:
        return limit
    return math.floor(allowed / step + 1e-9) * step + 0.5 * step


def _status(run: Run, mip_rel_gap: float) -> tuple[str, str]:
    first = run.stopped or run.first
    if run.proven:
        if mip_rel_gap > 0:
            return "feasible", f"HiGHS stopped within mip_rel_gap={mip_rel_gap:g}"
        return "optimal", ""
    notes = "; ".join(run.notes)
    if run.first is not None and run.first.proven and first is not run.first:
        return ("time_limit",
                f"the reward {run.first.objective:g} is proven optimal, but the time limit "
                f"stopped the tie stage ({first.goal}) before it proved that no order of "
                f"this reward is cheaper" + (f"; {notes}" if notes else ""))
    return ("time_limit",
            f"HiGHS time limit reached before proving optimality ({first.goal}): best "
            f"bound {first.bound:g}, incumbent {first.objective:g}, relative gap "
            f"{first.gap:.3g}" + (f"; {notes}" if notes else ""))


def _info(run: Run, build_seconds: float, stage: Stage | None = None) -> dict:
    """Run statistics; ``bound`` and ``gap`` are those of ``stage`` (default: the run a
    limit stopped, else the first)."""
    first = stage or run.stopped or run.first
    return {"highs_version": HIGHS_VERSION, "proven_optimal": bool(run.proven),
            "bound": None if first is None else first.bound,
            "gap": None if first is None else first.gap, "nodes": run.nodes,
            "mip_seconds": run.mip_seconds,
            "reward_seconds": None if run.first is None else run.first.seconds,
            "reward_proven": None if run.first is None else bool(run.first.proven),
            "solves": run.solves,
            "build_seconds": build_seconds}
