"""One entry point, ``solve(instance, budget= | min_target= | max_target=, method=)``.

Methods are pure functions ``fn(instance, mode, limit, **options) -> Answer`` registered by
name below; a method may also offer a batch function
``fn_batch(instances, mode, limits, **options) -> list[Answer]`` that solves many instances
at once (JAX methods use ``jax.vmap``). :func:`solve` times the method, verifies the answer
with :func:`moqlab.check` and returns a :class:`moqlab.Result`.

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b", "c"], [6.0, 5.0, 4.0], [3.0, 2.0, 2.0])
    >>> res = moqlab.solve(inst, budget=4, method="enumerate")
    >>> res.reward, res.status
    (9.0, 'optimal')
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .core._kernel import allowance, full_budget, reachable_target, without_ceilings
from .core._errors import MOQInputError
from .core._instance import Batch, Instance
from .core._layout import prefix_layout
from .core._options import Option, checked as checked_options, table as options_table
from .core._check import check
from .core._result import MODES, Answer, Result, build_result, malformed_take

# name -> (module, single-instance function, batch function or None)
METHODS: dict[str, tuple[str, str, str | None]] = {
    "enumerate": ("moqlab.exact._enumerate", "solve_enumerate", None),
    "greedy": ("moqlab.heuristics._greedy", "solve_greedy", None),
    "roundup": ("moqlab.heuristics._greedy", "solve_roundup", None),
    "milp": ("moqlab.exact._milp", "solve_milp", None),
    "jax-greedy": ("moqlab.heuristics._jax_greedy", "solve_jax_greedy", "solve_jax_greedy_batch"),
    "search": ("moqlab.heuristics._search", "solve_search", "solve_search_batch"),
    "relax": ("moqlab.relaxations._relax", "solve_relax", "solve_relax_batch"),
}

# the methods that model capacity families (ceilings) themselves, exactly; the other
# methods solve the order without them (without_ceilings); where their budget-mode answer
# overflows a ceiling, they solve it again with the ceilings priced into the rewards and
# each order is repaired (moqlab.heuristics.priced_ceilings, fit_ceilings); they refuse
# target modes on orders with capacity families
CAPACITY_METHODS = ("enumerate", "milp")

AUTO_ENUMERATE_ORDERS = 1 << 16
AUTO_MILP_LINES = 2000  # target modes: above this, a MILP frontier walk is too slow
# seconds given to milp when auto picks it and no time_limit is set: a minute in all, with
# HiGHS's overshoot between phases, the greedy start and reading the table
AUTO_TIME_LIMIT = 50.0
# the certified bound: branch and bound only where the dual bound is more than 0.1 % above
# the answer (on loose orders the rest of the gap is the items' own, which branching on MOQ
# groups does not close); 5 s per order for the dual search and the branching together unless
# bound_time= says otherwise
BRANCH_FROM = 1e-3
BOUND_TIME = 5.0


def _available(method: str) -> bool:
    try:
        importlib.import_module(METHODS[method][0])
    except ImportError:
        return False
    return True


def methods() -> list[str]:
    """Names of the methods available in this installation."""
    return [name for name in METHODS if _available(name)]


def _load(method: str, batch: bool = False):
    if method not in METHODS:
        raise MOQInputError(f"unknown method {method!r}; available: {', '.join(methods())}")
    module_name, single, batched = METHODS[method]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MOQInputError(f"method {method!r} is not available here ({exc})") from None
    name = batched if batch else single
    return None if name is None else getattr(module, name)


def parse_mode(budget=None, min_target=None, max_target=None) -> tuple[str, float]:
    """Exactly one of the three modes, checked; returns ``(mode, limit)``."""
    given = [(m, v) for m, v in zip(MODES, (budget, min_target, max_target)) if v is not None]
    if len(given) != 1:
        raise MOQInputError("give exactly one of budget=, min_target=, max_target= "
                            f"(got {', '.join(m for m, _ in given) or 'none'})")
    mode, limit = given[0]
    values = np.atleast_1d(np.asarray(limit, dtype=np.float64))
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        value = np.asarray(limit).ravel()[int(np.flatnonzero(bad)[0])].item()
        raise MOQInputError(f"{mode} must be a finite number >= 0, got {value!r}")
    return mode, limit


def enumerable(instance: Instance) -> bool:
    """Whether the instance has at most :data:`AUTO_ENUMERATE_ORDERS` prefix orders (valid
    or not), so that enumeration solves it exactly in milliseconds."""
    return math.prod(int(n) + 1 for n in instance.item_length) <= AUTO_ENUMERATE_ORDERS


def auto_pick(instance: Instance, mode: str = "budget") -> str:
    """The method ``auto`` picks: enumeration when at most 65,536 orders exist; else the
    MILP in budget mode (time-limited, ``start="search"``: HiGHS alone for ten seconds,
    then from ``search``'s order, which is kept if HiGHS finds nothing better), and in
    target modes up to 2,000 lines (at any size on orders with capacity families, which
    only the exact methods solve in target modes); else ``search``."""
    if enumerable(instance):
        return "enumerate"
    if _available("milp") and (mode == "budget" or instance.n_lines <= AUTO_MILP_LINES
                               or instance.capacities):
        return "milp"
    return "search"


def method_options(method: str) -> tuple[Option, ...]:
    """The options ``method`` declares (its module's ``OPTIONS``)."""
    _load(method)
    return tuple(importlib.import_module(METHODS[method][0]).OPTIONS)


def option_names(method: str) -> tuple[str, ...]:
    """Names of the keyword options ``method`` takes."""
    return tuple(option.name for option in method_options(method))


def show_options(method: str | None = None, disp: bool = True) -> str:
    """The options of ``method`` (of every method when ``None``): name, what it accepts,
    default and one line each, as in :func:`scipy.optimize.show_options`. Printed unless
    ``disp=False``; the text is returned.

    Example::

        >>> import moqlab
        >>> print(moqlab.show_options("greedy", disp=False))
        greedy: no options
    """
    names = methods() if method is None else [method]
    text = "\n".join(options_table(name, method_options(name)) for name in names)
    if disp:
        print(text)
    return text


def _checked_options(method: str, options: dict, picked_by_auto: bool = False) -> dict:
    """``options`` checked against what ``method`` declares (unknown names, wrong types or
    ranges are a :class:`MOQInputError`); auto gives ``milp`` a default ``time_limit``
    (:data:`AUTO_TIME_LIMIT`) and ``start="search"`` (used in budget mode only)."""
    try:
        options = checked_options(method, method_options(method), options)
    except MOQInputError as exc:
        if picked_by_auto:
            raise MOQInputError(f"auto picked {method!r}: {exc}") from None
        raise
    if picked_by_auto and method == "milp":
        options = {"time_limit": AUTO_TIME_LIMIT, "start": "search", **options}
    return options


def _seconds(name: str, value) -> float:
    """A number of seconds >= 0, or a :class:`MOQInputError` naming ``name``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise MOQInputError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def _refuse_ceilings(instance: Instance, method: str, mode: str, index: int | None = None):
    """A method that does not model capacity families cannot walk a target mode's frontier
    on an order that has them: refused, naming the methods that can."""
    if instance.capacities and mode != "budget" and method not in CAPACITY_METHODS:
        where = "" if index is None else f"instance {index} of the batch: "
        raise MOQInputError(
            f"{where}method {method!r} does not model capacity families (columns c{{k}}, "
            f"cq{{k}}, cap{{k}}) in {mode} mode; use {' or '.join(CAPACITY_METHODS)} "
            "(or auto), or budget mode, where its order is repaired to fit the ceilings")


def _fitted(instance: Instance, method: str, budget: float, answer: Answer, solve_order,
            ) -> Answer:
    """A budget-mode answer of a method that does not model capacity families, made to fit
    every ceiling: kept as it is when it fits, else the best of up to
    :data:`moqlab.heuristics._ceilings.PRICE_ROUNDS` more solves of the method with the
    ceilings priced into the rewards, each repaired
    (:func:`moqlab.heuristics.priced_ceilings`; for ``search``, each repaired order is then
    polished with the ceilings in view), stopping once an order is within 0.1 % of the
    ceilings' dual bound. ``solve_order(instance)`` returns the method's take on an
    instance, or ``None`` once the call's ``time_limit`` is spent (:func:`_order_of`; the
    result then has status ``time_limit``). ``info["ceiling_rounds"]`` counts the solves,
    ``info["ceiling_shed"]`` the lines the kept repair took off. A claim of optimality does
    not survive a change."""
    if (not instance.capacities or method in CAPACITY_METHODS
            or malformed_take(instance, answer.take)):
        return answer
    from .heuristics._ceilings import priced_ceilings
    from .relaxations._bound import root_bounds

    before = np.asarray(answer.take, dtype=np.float64).astype(np.int64)
    info = dict(answer.info or {})
    if check(instance, instance.selection_from_take(before), budget=budget).feasible:
        return answer._replace(info={**info, "ceiling_rounds": 1, "ceiling_shed": 0})
    bound, dual = root_bounds([instance], [budget])[0]
    start = None if dual.rho is None else list(np.asarray(dual.rho))
    finish = None
    if method == "search":  # its polish keeps the ceilings: each repaired order is polished
        from .heuristics._search import polish
        finish = functools.partial(polish, instance, budget=budget,
                                   layout=prefix_layout(instance, budget))  # built once
    take, rounds, shed, stopped = priced_ceilings(instance, budget, solve_order,
                                                  first_take=before, start=start,
                                                  good_enough=bound - 1e-3 * abs(bound),
                                                  finish=finish)
    status = "feasible" if answer.status == "optimal" else answer.status
    message = answer.message
    if stopped:
        status = "time_limit"
        message = (f"the time limit stopped the ceiling prices after {rounds} solves; the "
                   "order is the best repaired one")
    return answer._replace(take=take, status=status, message=message,
                           info={**info, "ceiling_rounds": rounds, "ceiling_shed": shed})


def _order_of(method: str, budget: float, options: dict, started: float):
    """``instance -> take`` of ``method`` in budget mode (the solves of the ceiling prices),
    each within what is left of the call's ``time_limit`` (counted from ``started``);
    ``None`` once it is spent."""
    fn = _load(method)
    seconds = options.get("time_limit")

    def solve_order(instance):
        if seconds is None:
            return fn(instance, "budget", budget, **options).take
        left = seconds - (time.perf_counter() - started)
        if left <= 0:
            return None
        return fn(instance, "budget", budget, **{**options, "time_limit": left}).take

    return solve_order


def _unreachable(instance: Instance, mode: str, limit: float) -> bool:
    """Min-target mode with a target above the total target of all lines of positive
    target: no order reaches it, whatever the method (decided without solving)."""
    if mode != "min_target":
        return False
    return reachable_target(instance) < limit - allowance(limit)


def _as_unreachable(instance: Instance, answer: Answer, limit: float) -> Answer:
    """The frontier's end (the budget-mode answer at the full budget), reported as
    ``target_unreachable``."""
    message = (f"target {limit:g} is above {reachable_target(instance):g}, the total target of all lines: no "
               "order reaches it; the order is the frontier's end (the budget-mode answer at "
               f"the full budget, status there {answer.status!r})")
    return answer._replace(status="target_unreachable", message=message)


def solve(instance, *, budget=None, min_target=None, max_target=None, method: str = "auto",
          progress: bool = True, bound: bool = True, bound_time: float = BOUND_TIME,
          **options):
    """Solve one instance (or every instance of a :class:`Batch`) in one mode.

    Parameters
    ----------
    instance : Instance or Batch (or a sequence of instances)
    budget, min_target, max_target : exactly one; for a batch, a scalar or one per instance.
    method : ``"enumerate"``, ``"greedy"``, ``"roundup"``, ``"milp"``, ``"jax-greedy"``,
        ``"search"``, ``"relax"`` or ``"auto"`` (enumeration when at most 65,536 orders
        exist; else, in budget mode, the MILP with a 50 s ``time_limit`` unless one is
        given, HiGHS alone for 10 s, then started from ``search``'s order: ``optimal`` when
        HiGHS proves it, else ``time_limit`` with HiGHS's bound and gap in ``info`` and an
        order never worse than search's; in target modes the MILP up to 2,000 lines, else
        ``search``).
    progress : for a batch solved instance by instance, a progress bar (tqdm, on standard
        error) once the batch has run for two seconds; ``False`` turns it off.
    bound : in budget mode, give every result a certified upper bound on the optimal
        reward (``Result.bound``, ``Result.gap``): the reward of a proven optimum, HiGHS's
        bound, or else the Lagrangian bound of :func:`moqlab.relaxations.reward_bounds`
        (computed after the method, its time in ``info["bound_seconds"]``, not in
        ``seconds``). ``bound_time`` (default 5) is its time per order: the dual search
        stops once it is spent (a looser bound, still valid; on orders of about 20,000
        lines and more), and branch and bound over the MOQ groups uses what is left where
        the bound is more than 0.1 % above the answer. ``bound_time=0``: the dual search run
        to its end, no branching. ``False`` skips the Lagrangian bound.
    **options : passed to the method (``time_limit`` for every method, ``seed`` for the
        randomised ones, see :func:`show_options`); an option the method does not take is a
        :class:`MOQInputError`.

    Returns
    -------
    Result (or a list of them, one per instance of a batch).
    """
    mode, limit = parse_mode(budget, min_target, max_target)
    bound_time = _seconds("bound_time", bound_time)
    if isinstance(instance, (str, bytes, os.PathLike)):
        raise MOQInputError(f"solve takes an Instance or a Batch, not the path {instance!r}; "
                            "read the table first: moqlab.read_lines(path)")
    if isinstance(instance, (Batch, Sequence)) and not isinstance(instance, Instance):
        return solve_batch(list(instance), method=method, **{mode: limit}, progress=progress,
                           bound=bound, bound_time=bound_time, **options)
    if not isinstance(instance, Instance):
        raise MOQInputError(f"expected an Instance or Batch, got {type(instance).__name__}")
    if np.ndim(limit) != 0:
        raise MOQInputError(f"{mode} must be a scalar for a single instance")
    name = auto_pick(instance, mode) if method == "auto" else method
    fn = _load(name)
    options = _checked_options(name, options, picked_by_auto=method == "auto")
    _refuse_ceilings(instance, name, mode)
    work = instance if name in CAPACITY_METHODS else without_ceilings(instance)
    start = time.perf_counter()
    if _unreachable(instance, mode, float(limit)):
        budget = full_budget(instance)
        answer = _as_unreachable(instance, _fitted(
            instance, name, budget, fn(work, "budget", budget, **options),
            _order_of(name, budget, options, start)), float(limit))
    else:
        answer = fn(work, mode, float(limit), **options)
        if mode == "budget":
            answer = _fitted(instance, name, float(limit), answer,
                             _order_of(name, float(limit), options, start))
    seconds = time.perf_counter() - start
    result = build_result(instance, answer, method=name, mode=mode, limit=float(limit),
                          seconds=seconds)
    if bound:
        attach_bounds([result], bound_time)
    return result


def attach_bounds(results: Sequence[Result], bound_time: float = BOUND_TIME) -> None:
    """Give every budget-mode result without a bound a certified one
    (:mod:`moqlab.relaxations._bound`): the dual bound of every order in one batched call
    (stopped once ``bound_time`` seconds per order are spent; 0: run to its end), then,
    where it is more than :data:`BRANCH_FROM` above the reward, branch and bound over the
    MOQ groups for what is left of ``bound_time`` per order, pruning with the result's own
    reward. Where the method found the bounds of every pattern of the coarsest groups
    (``info["pattern_bound"]``, :mod:`moqlab.heuristics._patterns`), the smaller of the two
    bounds is kept. An order with few enough prefix orders (:func:`enumerable`) is bounded by its
    enumerated optimum instead: exact, and faster than the dual. Times go to
    ``info["bound_seconds"]``, branching figures to ``info["bound_nodes"]`` and
    ``info["root_bound"]``."""
    missing = [res for res in results if res.mode == "budget" and res.bound is None]
    for res in [res for res in missing if enumerable(res.instance)]:
        exact = solve(res.instance, method="enumerate", budget=res.limit, bound=False)
        if exact.status == "optimal":
            res.bound = float(exact.reward)
            res.info["bound_seconds"] = exact.seconds
            missing.remove(res)
    if not missing:
        return
    from .relaxations._bound import branch_bound, root_bounds

    start = time.perf_counter()
    roots = root_bounds([res.instance for res in missing], [res.limit for res in missing],
                        seconds=bound_time or None)
    shared = (time.perf_counter() - start) / len(missing)
    for res, (value, dual) in zip(missing, roots):
        started = time.perf_counter()
        incumbent = res.reward if res.feasible else 0.0  # the empty order is always valid
        pattern_bound = res.info.get("pattern_bound")  # search's, as valid and often tighter
        if pattern_bound is not None and pattern_bound < value:
            value = pattern_bound
        if (np.isfinite(value) and bound_time > shared
                and value - incumbent > BRANCH_FROM * max(abs(value), abs(incumbent))):
            branching = branch_bound(res.instance, res.limit, incumbent, bound_time - shared,
                                     root=(value, dual))
            value = branching.bound
            res.info["root_bound"], res.info["bound_nodes"] = branching.root, branching.nodes
        res.bound = float(value) if np.isfinite(value) else None
        res.info["bound_seconds"] = shared + time.perf_counter() - started


def solve_batch(instances: Sequence[Instance], *, budget=None, min_target=None,
                max_target=None, method: str = "auto", progress: bool = True,
                bound: bool = True, bound_time: float = BOUND_TIME,
                **options) -> list[Result]:
    """Solve many instances; batched methods (JAX) solve them in one compiled call.

    The limit is a scalar (for every instance) or one per instance. ``seconds`` of each
    result is the batch's wall time divided by its size. Defaults are :func:`solve`'s.
    ``bound`` is :func:`solve`'s (the Lagrangian bounds of a batch are one batched call).
    Instance-by-instance batches (``auto`` and the methods without a batch function) show a
    progress bar after two seconds unless ``progress=False``; a ``time_limit`` applies to
    each instance there, and to the whole call of a batched method.
    """
    mode, limit = parse_mode(budget, min_target, max_target)
    bound_time = _seconds("bound_time", bound_time)
    instances = list(instances)
    for n, inst in enumerate(instances):
        if not isinstance(inst, Instance):
            raise MOQInputError(f"instance {n} of the batch is a {type(inst).__name__}, "
                                "not an Instance")
    limit = np.asarray(limit, dtype=np.float64)
    if limit.ndim > 1 or (limit.ndim == 1 and limit.shape[0] != len(instances)):
        raise MOQInputError(f"{mode} takes a scalar or one value per instance: got "
                            f"{limit.size} values for {len(instances)} instances")
    limits = np.broadcast_to(limit, (len(instances),))
    fn_batch = None if method == "auto" else _load(method, batch=True)
    if method != "auto":
        options = _checked_options(method, options)
        for n, inst in enumerate(instances):
            _refuse_ceilings(inst, method, mode, n if len(instances) > 1 else None)
    if fn_batch is None:
        bar = tqdm(total=len(instances), desc=f"moqlab {method}", unit="order", delay=2.0,
                   disable=not progress or len(instances) < 2, file=sys.stderr)
        results = []
        with bar:
            for inst, lim in zip(instances, limits):
                results.append(solve(inst, method=method, **{mode: float(lim)}, bound=False,
                                     **options))
                bar.update()
        if bound:
            attach_bounds(results, bound_time)
        return results
    start = time.perf_counter()
    answers: list[Answer | None] = [None] * len(instances)
    lost = [n for n, (inst, lim) in enumerate(zip(instances, limits))
            if _unreachable(inst, mode, float(lim))]
    rest = [n for n in range(len(instances)) if n not in set(lost)]
    for members, members_mode, members_limits in (
            (rest, mode, [limits[n] for n in rest]),
            (lost, "budget", [full_budget(instances[n]) for n in lost])):
        if members:
            part = fn_batch([without_ceilings(instances[n]) for n in members], members_mode,
                            np.asarray(members_limits, dtype=np.float64), **options)
            for n, answer, member_limit in zip(members, part, members_limits):
                if members_mode == "budget":
                    answer = _fitted(instances[n], method, float(member_limit), answer,
                                     _order_of(method, float(member_limit), options, start))
                answers[n] = answer if members_mode == mode else \
                    _as_unreachable(instances[n], answer, float(limits[n]))
    seconds = (time.perf_counter() - start) / max(1, len(instances))
    results = [build_result(inst, ans, method=method, mode=mode, limit=float(lim),
                            seconds=seconds)
               for inst, ans, lim in zip(instances, answers, limits)]
    if bound:
        attach_bounds(results, bound_time)
    return results


def _per_instance(batch: Batch, mode: str, value):
    """A limit per instance of ``batch``: a scalar as is, a dict or Series by label."""
    if isinstance(value, pd.Series):
        value = value.to_dict()
    if not isinstance(value, dict):
        if np.ndim(value) != 0:
            raise MOQInputError(f"{mode}: give a scalar, or a dict / pd.Series keyed by "
                                "instance label")
        return value
    labels = [inst.name for inst in batch]
    by_text = {str(key): v for key, v in value.items()}
    unknown = sorted(set(by_text) - {str(label) for label in labels})
    if unknown:
        raise MOQInputError(f"{mode}: no instance labelled {unknown[0]!r} in the table "
                            f"(instances: {', '.join(map(str, labels[:10]))})",
                            column="instance", value=unknown[0])
    missing = [label for label in labels if str(label) not in by_text]
    if missing:
        raise MOQInputError(f"{mode}: no value for instance {missing[0]!r}",
                            column="instance", value=missing[0])
    return [by_text[str(label)] for label in labels]


def moqsolv(frame: pd.DataFrame, *, budget=None, min_target=None, max_target=None,
            method: str = "auto", progress: bool = True, **options) -> pd.Series:
    """The pandas front, after Lokad's ``moqsolv``: a boolean Series aligned with ``frame``
    saying which rows (lines) are ordered. A table with an ``instance`` column is solved per
    instance: a scalar limit applies to each; a ``dict`` or ``pd.Series`` keyed by instance
    label gives one limit per instance (every instance needs one; unknown labels are refused).

    Example::

        >>> import pandas as pd, moqlab
        >>> df = pd.DataFrame({"id": ["a", "a", "b"], "min": [1, 2, 1],
        ...                    "reward": [5.0, 1.0, 3.0], "cost": [2.0, 2.0, 1.0]})
        >>> moqlab.moqsolv(df, budget=3).tolist()
        [True, False, True]
    """
    batch = Batch.from_frame(frame)
    limits = {"budget": budget, "min_target": min_target, "max_target": max_target}
    limits = {mode: _per_instance(batch, mode, value) for mode, value in limits.items()
              if value is not None}
    results = solve(batch, method=method, **limits, progress=progress, bound=False,
                    **options)  # a selection only: no bound to report
    selected = np.zeros(len(frame), dtype=bool)
    for res in results:
        selected[res.instance.rows] = res.selected
    return pd.Series(selected, index=frame.index, name="selected")
