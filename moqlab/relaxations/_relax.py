"""``relax``: a continuous relaxation of the MOQ problem solved with JAX + optax, then
rounded and repaired into a verified order.

**Parameterisation** (dense padded layout of :mod:`moqlab.core._dense`, items ``i``, ladder
positions ``l``, families ``k``, groups ``g``). Free logits ``theta[i, l]`` and ``phi[k, g]``;
at temperature ``tau``

* ``s[i, l] = prod_{l' <= l} sigmoid(theta[i, l'] / tau)`` -- a fractional selection that is a
  monotone prefix by construction (``s[i, l] <= s[i, l - 1]``);
* ``a[k, g] = sigmoid(phi[k, g] / tau)`` for groups with a threshold (1 otherwise): the
  group's *activation*;
* ``x[i, l] = s[i, l] * prod_k a[k, group_k(i)]`` -- a line is bought only as far as every
  group of its item is open.

**Problem** (budget ``C``): maximise ``R(x) = sum r x`` subject to
``g_C = (sum c x - C) / S_C <= 0`` and, for every group with ``moq > 0``,
``g_kg = (moq_kg a_kg - sum_{i in g, l} oq x) / moq_kg <= 0`` ("zero or at least the
threshold": with ``a = 0`` the group is closed and the constraint is void). Constraints are
handled by an augmented Lagrangian: the loss is
``-R(x) / S_R + sum psi(g, lambda)`` with ``psi(g, lambda) = (max(0, lambda + rho g)^2 -
lambda^2) / (2 rho)``, minimised by Adam for ``steps // outer`` steps per outer round; after
each round the multipliers take the dual-ascent step ``lambda <- max(0, lambda + rho g)`` and
the temperature is lowered geometrically from ``tau_start`` to ``tau_end`` so that ``x``
is driven toward 0/1. Everything is one jitted function, vmapped over random restarts,
budgets and instances (power-of-two buckets: one compile per bucket and configuration).

**Rounding and repair** (numpy, per restart): take the lines with ``s >= 1/2`` of items
whose groups have ``a >= 1/2``. Two repairs are tried and the better kept: *drop first*
(lift the short groups the budget can complete, drop the other short groups) and *lift
first* (round every short group up whatever the cost); both then remove the worst moves
until the budget holds (the last line of an item, by reward-to-cost ratio, or a whole group
when removing the line would break its threshold) and fill greedily with the MOQ-aware scan
of :mod:`moqlab.heuristics._greedy` started from the repaired order. In budget mode the relaxation
also runs at ``BACKOFF`` shares of the budget (0.85, 0.7: the dual ascent can end slightly
over budget, and a rounding of a cheaper relaxation keeps its groups open), every rounding
being repaired at the true budget; the repair of the empty rounding (the greedy order from
scratch) is a candidate too, so ``info["from_relaxation"]`` says whether the answer came
from a relaxation. The best candidate is returned; :func:`moqlab.check` verifies it in
:func:`moqlab.solve`.

**Target modes.** The budget relaxation is solved on a grid of budgets
``0 .. sum max(c, 0)`` and again on a finer grid inside the bracket where the target is
crossed; every repaired order is a candidate, and the answer is read from the candidates by
the frontier rules of :mod:`moqlab.core._frontier` (the frontier of the candidates, then
:func:`moqlab.core._frontier.pick_target`). The result is a heuristic reading of the mode: the
status is ``feasible`` (or ``target_unreachable``), never ``optimal``.

**Reported** in ``Answer.info``: ``relax_value`` (``R(x)`` of the chosen restart's final
fractional ``x``, with ``relax_violation`` its largest normalised constraint violation and
``relax_budget`` the budget it ran at; ``nan`` for the greedy floor),
``lp_bound`` (the LP relaxation of the MILP, HiGHS, at ``lp_budget``), ``rounded_value``
(reward of the repaired order), ``compile_seconds`` / ``run_seconds`` of the JAX part.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> res = moqlab.solve(inst, budget=4, method="relax", restarts=4, steps=200)
    >>> res.reward, res.feasible
    (9.0, True)

The solve runs in float64 (the verifier's tolerance is relative 1e-9 and float32 totals
would not meet it), switched on for the call only (:mod:`moqlab.core._precision`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..core._kernel import (allowance, drop_short_groups, full_budget, group_totals, lift_group,
                            moq_floor, order_totals)
from ..core._dense import DenseInstance, bucket, dense_sizes, same_shape_groups, stack_dense
from ..core._frontier import pick_candidate
from ..heuristics._greedy import greedy_keys, greedy_moves
from ..core._clock import TIME_LIMIT_OPTION, Deadline
from ..core._instance import Instance
from ..core._precision import float64
from ..core._result import Answer
from ..core._options import Option

OPTIONS = (
    Option("seed", int, 0, "random seed of the restarts", minimum=0),
    Option("restarts", int, 8, "random starts per instance", minimum=1),
    Option("steps", int, 1600, "Adam steps in all", minimum=1),
    Option("outer", int, 16, "dual-ascent / temperature rounds", minimum=1),
    Option("learning_rate", float, 0.1, "Adam's learning rate", minimum=0, strict=True),
    Option("rho", float, 10.0, "augmented-Lagrangian penalty", minimum=0, strict=True),
    Option("tau_start", float, 1.0, "first temperature", minimum=0, strict=True),
    Option("tau_end", float, 0.02, "last temperature", minimum=0, strict=True),
    Option("budgets", int, 16, "target modes: budgets on the grid", minimum=2),
    Option("lp", bool, True, "also solve HiGHS's LP relaxation (info['lp_bound'])"),
    TIME_LIMIT_OPTION,
)


BACKOFF = (1.0, 0.85, 0.7)  # budget mode: shares of the budget the relaxation runs at


class RelaxConfig(NamedTuple):
    """Static settings of the relaxation (one compile per distinct value)."""

    steps: int = 1600
    outer: int = 16
    learning_rate: float = 0.1
    rho: float = 10.0
    tau_start: float = 1.0
    tau_end: float = 0.02
    init_scale: float = 1.0


# ------------------------------------------------------------------ the relaxation


def _forward(theta, phi, dense: DenseInstance, tau):
    """Fractional prefix ``s``, activations ``a`` and gated selection ``x``."""
    s = jnp.cumprod(jax.nn.sigmoid(theta / tau), axis=-1) * dense.mask
    a = jnp.where(dense.moq > 0, jax.nn.sigmoid(phi / tau), 1.0)
    gate = jnp.prod(jnp.take_along_axis(a, dense.group, axis=1), axis=0) \
        if dense.moq.shape[0] else jnp.ones(theta.shape[0])
    return s, a, s * gate[:, None]


def _group_totals(x, dense: DenseInstance):
    """``[K, G]``: sum of contributions of ``x`` per group of each family."""
    n_groups = dense.moq.shape[1]
    per_item = jnp.sum(dense.oq * x[None], axis=-1)  # [K, I]
    return jax.vmap(lambda v, g: jax.ops.segment_sum(v, g, num_segments=n_groups))(
        per_item, dense.group)


def _scales(dense: DenseInstance, budget):
    reward_scale = jnp.maximum(jnp.sum(jnp.maximum(dense.reward, 0.0)), 1e-12)
    cost_scale = jnp.maximum(jnp.maximum(jnp.abs(budget), jnp.max(jnp.abs(dense.cost))), 1e-12)
    return reward_scale, cost_scale


def _constraints(x, a, dense: DenseInstance, budget, cost_scale):
    """Normalised constraint values (``<= 0`` when satisfied): budget, then groups."""
    g_budget = (jnp.sum(dense.cost * x) - budget) / cost_scale
    safe = jnp.where(dense.moq > 0, dense.moq, 1.0)
    g_groups = jnp.where(dense.moq > 0,
                         (dense.moq * a - _group_totals(x, dense)) / safe, -1.0)
    return g_budget, g_groups


def _psi(g, lam, rho):
    """Augmented-Lagrangian term of an inequality ``g <= 0`` with multiplier ``lam``."""
    return (jnp.maximum(0.0, lam + rho * g) ** 2 - lam ** 2) / (2.0 * rho)


def _anneal(dense: DenseInstance, budget, key, cfg: RelaxConfig, scales):
    """The annealed augmented-Lagrangian run from a random start drawn from ``key``;
    returns ``(s, a, x)`` at the final temperature."""
    n_items, n_lines = dense.reward.shape
    key_theta, key_phi = jax.random.split(key)
    params = {
        "theta": cfg.init_scale * jax.random.normal(key_theta, (n_items, n_lines)),
        "phi": 1.0 + cfg.init_scale * jax.random.normal(key_phi, dense.moq.shape),
    }
    reward_scale, cost_scale = scales
    # eps_root keeps Adam differentiable where a gradient is exactly zero (sqrt at 0).
    optimiser = optax.adam(cfg.learning_rate, eps_root=1e-16)
    inner = max(1, cfg.steps // cfg.outer)
    taus = cfg.tau_start * (cfg.tau_end / cfg.tau_start) ** (
        jnp.arange(cfg.outer) / max(1, cfg.outer - 1))

    def loss(p, lam_budget, lam_groups, tau):
        _, a, x = _forward(p["theta"], p["phi"], dense, tau)
        g_budget, g_groups = _constraints(x, a, dense, budget, cost_scale)
        return (-jnp.sum(dense.reward * x) / reward_scale
                + _psi(g_budget, lam_budget, cfg.rho)
                + jnp.sum(_psi(g_groups, lam_groups, cfg.rho)))

    grad = jax.grad(loss)

    def outer_round(carry, tau):
        p, state, lam_budget, lam_groups = carry

        def step(inner_carry, _):
            p, state = inner_carry
            updates, state = optimiser.update(grad(p, lam_budget, lam_groups, tau), state, p)
            return (optax.apply_updates(p, updates), state), None

        (p, state), _ = jax.lax.scan(step, (p, state), None, length=inner)
        _, a, x = _forward(p["theta"], p["phi"], dense, tau)
        g_budget, g_groups = _constraints(x, a, dense, budget, cost_scale)
        lam_budget = jnp.maximum(0.0, lam_budget + cfg.rho * g_budget)
        lam_groups = jnp.maximum(0.0, lam_groups + cfg.rho * g_groups)
        return (p, state, lam_budget, lam_groups), None

    carry = (params, optimiser.init(params), jnp.zeros(()), jnp.zeros(dense.moq.shape))
    (params, _, _, _), _ = jax.lax.scan(outer_round, carry, taus)
    return _forward(params["theta"], params["phi"], dense, taus[-1])


def _relax_one(dense: DenseInstance, budget, key, cfg: RelaxConfig):
    """One restart on one instance at one budget. Returns the rounded ``take`` [I], the
    fractional relaxation value, its fractional cost and largest normalised violation."""
    scales = _scales(dense, budget)
    s, a, x = _anneal(dense, budget, key, cfg, scales)
    g_budget, g_groups = _constraints(x, a, dense, budget, scales[1])
    violation = jnp.maximum(jnp.maximum(g_budget, jnp.max(g_groups, initial=-1.0)), 0.0)
    open_item = jnp.all(jnp.take_along_axis(a >= 0.5, dense.group, axis=1), axis=0) \
        if dense.moq.shape[0] else jnp.ones(s.shape[0], dtype=bool)
    prefix = jnp.cumprod((s >= 0.5) & dense.mask, axis=-1)
    take = jnp.where(open_item, jnp.sum(prefix, axis=-1), 0)
    return take, jnp.sum(dense.reward * x), jnp.sum(dense.cost * x), violation


def relaxed_selection(reward, cost, dense: DenseInstance, budget, key, cfg: RelaxConfig):
    """The fractional selection ``x`` [I, L] after the annealed augmented-Lagrangian run,
    with ``reward`` and ``cost`` ([I, L]) as explicit (differentiable) inputs.

    Unlike the solver, this keeps ``x`` fractional (the last temperature) so that it is a
    smooth function of ``reward`` and ``cost`` (differentiated through the unrolled Adam
    steps); :mod:`moqlab.diff` builds on it. The normalising scales are constants read
    from ``dense`` (the instance's own rewards and costs), not from the inputs.
    """
    scales = _scales(dense, budget)
    dense = dense._replace(reward=reward * dense.mask, cost=cost * dense.mask)
    return _anneal(dense, budget, key, cfg, scales)[2]


def _batched(cfg: RelaxConfig):
    """jit(vmap instances (vmap budgets (vmap restarts)))."""
    one = lambda dense, budget, key: _relax_one(dense, budget, key, cfg)  # noqa: E731
    over_keys = jax.vmap(one, in_axes=(None, None, 0))
    over_budgets = jax.vmap(over_keys, in_axes=(None, 0, None))
    return jax.jit(jax.vmap(over_budgets, in_axes=(0, 0, 0)))


_COMPILED: dict = {}


def run_relaxation(dense: DenseInstance, budgets, keys, cfg: RelaxConfig):
    """Run the compiled relaxation. ``dense`` has a leading instance axis ``N``,
    ``budgets`` is ``[N, B]``, ``keys`` ``[N, R]``. Returns numpy arrays
    ``take [N, B, R, I]``, ``value``, ``cost``, ``violation`` ``[N, B, R]`` and the
    ``(compile_seconds, run_seconds)`` of this call (compile is 0 when cached)."""
    args = (jax.tree.map(jnp.asarray, dense), jnp.asarray(budgets, dtype=jnp.float64), keys)
    signature = (cfg, tuple((a.shape, str(a.dtype)) for a in jax.tree.leaves(args[:2])),
                 keys.shape)
    compile_seconds = 0.0
    if signature not in _COMPILED:
        start = time.perf_counter()
        _COMPILED[signature] = _batched(cfg).lower(*args).compile()
        compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(_COMPILED[signature](*args))
    run_seconds = time.perf_counter() - start
    return tuple(np.asarray(o) for o in out), (compile_seconds, run_seconds)


# ------------------------------------------------------------------ repair


def _cost_of(instance: Instance, take) -> float:
    return float(instance.cost[instance.selection_from_take(take)].sum())


def _group_members(instance: Instance):
    """Per family: boolean [groups, items] membership."""
    out = []
    for fam in instance.families:
        member = np.zeros((fam.n_groups, instance.n_items), dtype=bool)
        member[fam.item_group, np.arange(instance.n_items)] = True
        out.append(member)
    return out


def _trim_to_budget(instance: Instance, take: np.ndarray, budget: float) -> np.ndarray:
    """Remove the worst moves until the order fits ``budget``. A move is the last line of
    an item (ratio reward / cost) or, when that line is needed for a threshold, the whole
    group(s) it would break. Only positive-cost moves are considered."""
    take = take.copy()
    margin = allowance(budget)
    members = _group_members(instance)
    start = instance.item_start
    while _cost_of(instance, take) > budget + margin:
        selected = instance.selection_from_take(take)
        best = None
        for i in np.flatnonzero(take > 0):
            j = start[i] + take[i] - 1
            lines = [j]
            drop_items = None
            for k, fam in enumerate(instance.families):
                g = fam.item_group[i]
                if fam.moq[g] <= 0:
                    continue
                in_group = members[k][g][instance.line_item] & selected
                total = fam.oq[in_group].sum()
                if total - fam.oq[j] < moq_floor(fam.moq[g]):
                    drop_items = members[k][g] if drop_items is None else \
                        drop_items | members[k][g]
            if drop_items is not None:
                lines = np.flatnonzero(selected & drop_items[instance.line_item])
            cost = instance.cost[lines].sum()
            if cost <= 0:
                continue
            ratio = instance.reward[lines].sum() / cost
            if best is None or ratio < best[0]:
                best = (ratio, i, drop_items)
        if best is None:  # nothing with a positive cost left: cannot happen when budget >= 0
            return np.zeros_like(take)
        _, i, drop_items = best
        if drop_items is None:
            take[i] -= 1
        else:
            take[drop_items] = 0
        take = drop_short_groups(instance, take)
    return take


def _fill(instance: Instance, take: np.ndarray, budget: float, keys=None) -> np.ndarray:
    """Grow a valid order with the MOQ-aware greedy scan (lines and group-opening bundles
    that fit the remaining budget, positive keys only), starting from ``take``."""
    state, _ = greedy_moves(instance, budget, start_take=take, keys=keys)
    return state.take


def _top_up(instance: Instance, take: np.ndarray, budget: float, keys) -> np.ndarray:
    """Lift every group left below its threshold by adding its next lines in greedy-key
    order (the cheapest way the relaxation's half-open group can be completed) when the
    budget allows; groups that cannot be lifted are left for :func:`drop_short_groups`."""
    key, order = keys
    position = np.empty(instance.n_lines, dtype=np.int64)
    position[order] = np.arange(instance.n_lines)
    margin = allowance(budget)
    take = take.copy()
    for k, fam in enumerate(instance.families):
        line_group = fam.item_group[instance.line_item]
        total, count = group_totals(instance, instance.selection_from_take(take))[k]
        floor = moq_floor(fam.moq)
        for g in np.flatnonzero((count > 0) & (total < floor)):
            lines = sorted(np.flatnonzero(line_group == g), key=lambda j: position[j])
            trial, _, reached = lift_group(instance, take, lines, fam.oq, total[g], floor[g])
            if reached >= floor[g] and _cost_of(instance, trial) <= budget + margin:
                take = trial
    return take


def repair(instance: Instance, take, budget: float, keys=None) -> np.ndarray:
    """A valid order of cost ``<= budget`` from a rounded ``take``. Two repairs are run and
    the better (reward, then cost) is kept:

    * *drop first*: lift the short groups the budget can complete, drop the other short
      groups, trim to the budget;
    * *lift first*: lift every short group whatever the cost (round up), then trim to the
      budget (the trim removes single lines while thresholds hold, whole groups otherwise):
      this keeps the groups the relaxation opened when it ran slightly over budget;

    each then filled greedily."""
    keys = greedy_keys(instance) if keys is None else keys
    take = np.clip(np.asarray(take, dtype=np.int64), 0, instance.item_length)
    best, best_score = None, None
    for lift_budget in (budget, np.inf):
        trial = drop_short_groups(instance, _top_up(instance, take, lift_budget, keys))
        trial = _fill(instance, _trim_to_budget(instance, trial, budget), budget, keys)
        selected = instance.selection_from_take(trial)
        score = (float(instance.reward[selected].sum()), -float(instance.cost[selected].sum()))
        if best_score is None or score > best_score:
            best, best_score = trial, score
    return best


# ------------------------------------------------------------------ LP bound


def lp_bound(instance: Instance, budget: float) -> float:
    """Optimal value of the LP relaxation (integrality dropped) of the MILP of
    :mod:`moqlab.exact._milp` (its :func:`~moqlab.exact._milp.build_model`: prefix rows, activation
    ``x_first(i) <= y_g``, thresholds ``sum oq x >= moq y``, cost row) at ``budget``:
    an upper bound on the reward of every valid order of cost ``<= budget``. ``nan`` when
    HiGHS does not report an optimal LP."""
    import highspy

    from ..exact._milp import build_model, quiet_highs

    model = build_model(instance)
    row_upper = model.row_upper.copy()
    row_upper[0] = float(budget)  # row 0 is the cost row
    objective = np.zeros(model.n_cols)
    objective[:model.n_lines] = instance.reward
    matrix = model.matrix
    highs = quiet_highs()  # no banner on stdout: it would corrupt the CLI's --json
    highs.setOptionValue("output_flag", False)
    highs.passModel(model.n_cols, matrix.shape[0], matrix.nnz,
                    int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMaximize), 0.0,
                    objective, model.col_lower, model.col_upper, model.row_lower, row_upper,
                    matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
                    matrix.data.astype(np.float64),
                    np.zeros(model.n_cols, dtype=np.int32))  # 0 = continuous: the LP
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return float("nan")
    return float(highs.getInfo().objective_function_value)


# ------------------------------------------------------------------ the method


def _budget_grid(instance: Instance, n: int) -> np.ndarray:
    top = full_budget(instance)
    return np.linspace(0.0, top, n)


def _candidates(instance: Instance, takes, values, violations, budgets, keys,
                repair_budget: float | None = None, deadline: Deadline | None = None):
    """Repair every rounded restart (deduplicated) at its budget (or at ``repair_budget``
    when given); returns a list of ``(take, relax_value, violation, relax_budget,
    repair_budget)``. A passed ``deadline`` stops the repairs (the first is always made)."""
    out, seen = [], {}
    for b, budget in enumerate(budgets):
        target = float(budget) if repair_budget is None else float(repair_budget)
        for r in range(takes.shape[1]):
            if out and deadline is not None and deadline.stop_if_passed():
                return out
            raw = takes[b, r, :instance.n_items]
            signature = (target, raw.tobytes())
            if signature not in seen:
                seen[signature] = repair(instance, raw, target, keys)
            out.append((seen[signature], float(values[b, r]), float(violations[b, r]),
                        float(budget), target))
    return out


def _pick(instance: Instance, mode: str, limit: float, candidates):
    """Index of the chosen candidate, status and message."""
    totals = np.array([order_totals(instance, c[0]) for c in candidates])
    if mode == "budget":
        score = np.lexsort((totals[:, 1], -totals[:, 0]))  # best reward, then cheaper
        return int(score[0]), "feasible", ""
    empty = len(candidates)
    totals = np.vstack([totals, [0.0, 0.0, 0.0]])  # the empty order is always a candidate
    row, status, message = pick_candidate(totals, mode, limit)
    return (empty if row < 0 else row), status, message


def _refined_budgets(instance: Instance, mode: str, limit: float, candidates, n: int):
    """A finer budget grid inside the bracket where the candidates cross the target."""
    budgets = np.array(sorted({c[3] for c in candidates}))
    target_at = {b: max(order_totals(instance, c[0])[2] for c in candidates if c[3] == b)
                 for b in budgets}
    crossed = [b for b in budgets if target_at[b] >= limit] if mode == "min_target" else \
        [b for b in budgets if target_at[b] > limit]
    if not crossed:
        return None
    hi = crossed[0]
    below = budgets[budgets < hi]
    lo = below[-1] if below.size else 0.0
    return np.linspace(lo, hi, n)


def _solve_group(instances: Sequence[Instance], mode: str, limits, seed: int, restarts: int,
                 budgets: int, cfg: RelaxConfig, with_bound: bool,
                 deadline: Deadline) -> list[Answer]:
    # The batch axis is padded to a power of two (copies of the first instance, results
    # discarded) so that batches of similar sizes share one compiled function.
    padding = [instances[0]] * (bucket(len(instances)) - len(instances))
    dense = stack_dense(list(instances) + padding)
    key = jax.random.key(seed)
    # the same restart keys for every instance: its answer must not depend on its position
    keys = jnp.broadcast_to(jax.random.split(key, restarts),
                            (len(instances) + len(padding), restarts))
    if mode == "budget":
        # Back-off: the relaxation also runs at shrunk budgets (its dual ascent may end
        # slightly over budget); every rounding is repaired at the true budget.
        grids = np.asarray(list(limits) + [limits[0]] * len(padding),
                           dtype=np.float64)[:, None] * np.asarray(BACKOFF)[None, :]
    else:
        grids = np.stack([_budget_grid(inst, budgets) for inst in list(instances) + padding])
    (takes, values, _, violations), (comp, run) = run_relaxation(dense, grids, keys, cfg)
    greedy = [greedy_keys(inst) for inst in instances]
    all_candidates = [_candidates(inst, takes[n], values[n], violations[n], grids[n], greedy[n],
                                  limits[n] if mode == "budget" else None, deadline)
                      for n, inst in enumerate(instances)]
    if mode == "budget":  # the repair of the empty rounding (greedy from scratch) as a floor
        for n, inst in enumerate(instances):
            all_candidates[n].append((repair(inst, np.zeros(inst.n_items, np.int64),
                                             float(limits[n]), greedy[n]),
                                      float("nan"), float("nan"), float("nan"), float(limits[n])))
    if mode != "budget":
        fine = [_refined_budgets(inst, mode, lim, cands, budgets)
                for inst, lim, cands in zip(instances, limits, all_candidates)]
        todo = [n for n, f in enumerate(fine) if f is not None]
        if todo and not deadline.stop_if_passed():
            grids2 = np.stack([fine[n] if n < len(fine) and fine[n] is not None else grids[n]
                               for n in range(grids.shape[0])])
            keys2 = jnp.broadcast_to(jax.random.split(jax.random.fold_in(key, 1), restarts),
                                     keys.shape)
            (takes2, values2, _, viol2), (c2, r2) = run_relaxation(dense, grids2, keys2, cfg)
            comp, run = comp + c2, run + r2
            for n in todo:
                all_candidates[n] += _candidates(instances[n], takes2[n], values2[n], viol2[n],
                                                 grids2[n], greedy[n], deadline=deadline)
    answers = []
    for inst, lim, cands in zip(instances, limits, all_candidates):
        index, status, message = _pick(inst, mode, float(lim), cands)
        if index == len(cands):  # the empty order
            take, value, violation, relax_budget, budget = \
                np.zeros(inst.n_items, np.int64), 0.0, 0.0, 0.0, 0.0
        else:
            take, value, violation, relax_budget, budget = cands[index]
        info = {"relax_value": value, "relax_violation": violation, "relax_budget": relax_budget,
                "from_relaxation": bool(np.isfinite(value)),
                "rounded_value": order_totals(inst, take)[0],
                "lp_budget": budget, "restarts": restarts, "steps": cfg.steps,
                "compile_seconds": comp, "run_seconds": run / len(instances)}
        if with_bound:
            info["lp_bound"] = lp_bound(inst, budget)
        if deadline.stopped:
            status, message = "time_limit", deadline.message("the repairs")
        answers.append(Answer(take, status, message, info))
    return answers


@float64
def solve_relax_batch(instances: Sequence[Instance], mode: str, limits, seed: int = 0,
                      restarts: int = 8, steps: int = 1600, outer: int = 16,
                      learning_rate: float = 0.1, rho: float = 10.0, tau_start: float = 1.0,
                      tau_end: float = 0.02, budgets: int = 16, lp: bool = True,
                      time_limit: float | None = None) -> list[Answer]:
    """Relax-round-repair on many instances in one compiled call per family count.

    ``restarts`` random starts per instance (keys from ``seed``), ``steps`` Adam steps in
    ``outer`` dual-ascent / temperature rounds; target modes use grids of ``budgets``
    budgets (see the module docstring); ``lp=False`` skips the HiGHS LP bound.
    ``time_limit`` bounds the whole call: the compiled relaxations are not cut, the repairs
    and the target modes' refinement stop once it has passed (status ``time_limit``).
    """
    deadline = Deadline(time_limit)
    cfg = RelaxConfig(int(steps), int(outer), float(learning_rate), float(rho),
                      float(tau_start), float(tau_end))
    limits = np.broadcast_to(np.asarray(limits, dtype=np.float64), (len(instances),))
    answers: list[Answer | None] = [None] * len(instances)
    # instances are stacked only with instances of the same padded shape (and every
    # instance draws the same restart keys), so an answer does not depend on the batch
    shapes = [(inst.n_families, *(bucket(s) for s in dense_sizes(inst))) for inst in instances]
    for members in same_shape_groups(shapes).values():
        group = [instances[n] for n in members]
        for n, ans in zip(members, _solve_group(group, mode, limits[members], int(seed),
                                                int(restarts), int(budgets), cfg, lp,
                                                deadline)):
            answers[n] = ans
    return answers


def solve_relax(instance: Instance, mode: str, limit: float, seed: int = 0, **options) -> Answer:
    """Relax-round-repair on one instance (see :func:`solve_relax_batch` for options)."""
    return solve_relax_batch([instance], mode, [limit], seed=seed, **options)[0]
