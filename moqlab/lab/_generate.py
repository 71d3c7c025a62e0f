"""Instance generators: classic knapsack classes and realistic purchasing orders.

Every generator is a pure function of its arguments and ``seed`` (one
``numpy.random.default_rng(seed)`` stream, drawn in a fixed order), fully vectorised over
items and lines, and returns a :class:`Generated` tuple: the :class:`moqlab.Instance`, the
mode, the drawn limit and the reference the limit was drawn from.

**The unconstrained order and the drawn limit.** For each item, the *unconstrained order*
takes the prefix of its ladder with the largest cumulative reward (the shortest one among
ties; nothing when no prefix has a positive total), ignoring the budget and every MOQ: it is
what a buyer with unlimited money and no minimums would order. Its total cost (budget mode)
or total target (target modes) is the ``reference``; the limit is
``fraction * reference``, so ``fraction`` is the tightness of the budget or target.

Families
--------
:func:`knapsack`
    Pisinger's classes with one line per item, integer weights ``w`` (the cost) and profits
    ``p`` (the reward) in ``[1, R]``: ``uncorrelated`` (``p, w ~ U[1, R]``), ``weak``
    (``p ~ U[w - R/10, w + R/10]``, at least 1), ``strong`` (``p = w + R/10``),
    ``inverse`` (inverse strongly correlated: ``w = p + R/10``) and ``subset`` (subset sum:
    ``p = w``). Optional MOQ families partition the items at random into groups whose
    thresholds are a ``moq_tightness`` share of the group's total contribution.
:func:`stock`
    Purchasing with per-item demand ``D_i`` (Poisson or negative binomial, lognormal means),
    rewards from :func:`stock_reward` summed over the units of each step, lot multipliers
    (a step is ``lot_i`` units), price breaks (all-units "merchant": passing a break
    re-prices every unit, so a step can cost zero or less; incremental "fiscal": only the
    units past a break are cheaper) and MOQ families per SKU (units), per category (units)
    and per supplier (money at list price), all scaled by ``tightness``.

Example::

    >>> import moqlab
    >>> gen = moqlab.generate.knapsack(50, kind="strong", seed=1)
    >>> gen.instance.n_lines, gen.mode, gen.limit == round(0.5 * gen.reference, 2)
    (50, 'budget', True)
    >>> gen = moqlab.generate.stock(100, seed=7, price_breaks="merchant")
    >>> bool((gen.instance.cost <= 0).any())       # a step that passes an all-units break
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._solve import solve
from ..core._errors import MOQInputError
from ..core._instance import Instance

KNAPSACK_KINDS = ("uncorrelated", "weak", "strong", "inverse", "subset")
DEMAND_KINDS = ("poisson", "negbin", "mixed")
PRICE_BREAKS = (None, "merchant", "fiscal", "mixed")
STOCK_MOQ_FAMILIES = ("sku", "category", "supplier")
MODES = ("budget", "min_target", "max_target")
DEFAULT_LOTS = (1, 1, 1, 2, 3, 4, 6, 12)


class Generated(NamedTuple):
    """A generated instance with its drawn limit.

    ``mode`` is ``"budget"``, ``"min_target"`` or ``"max_target"``; ``limit`` =
    ``fraction * reference`` (rounded to cents) where ``reference`` is the cost (budget
    mode) or the target (target modes) of the unconstrained order (module docstring);
    ``params`` are the generator's arguments, enough to regenerate it.
    """

    instance: Instance
    mode: str
    limit: float
    reference: float
    params: dict

    def solve(self, method: str = "auto", **options):
        """Solve this instance at its drawn limit: ``moqlab.solve(instance, mode=limit)``."""
        return solve(self.instance, method=method, **{self.mode: self.limit}, **options)


# ------------------------------------------------------------------ stock reward


def stock_reward(units, *, demand, margin, stockout=0.0, carrying=0.0):
    """One-period stock reward of the ``k``-th unit held (``units`` = k, 1-based):

    ``r(k) = (M - S) * P(D >= k) + C * P(D < k)``

    with ``M`` = ``margin`` (gross margin per unit sold, >= 0), ``S`` = ``stockout``
    (stock-out penalty per unit of unmet demand, <= 0: holding the k-th unit avoids it when
    ``D >= k``), ``C`` = ``carrying`` (cost of holding an unsold unit, <= 0). ``demand``
    is a (frozen, possibly array-valued) scipy distribution over ``0, 1, 2, ...``; only its
    survival function is used: ``P(D >= k) = demand.sf(k - 1)``. Everything broadcasts, so
    one call prices the units of many items at once. The ladder starts near ``M - S`` and
    decreases to ``C`` as ``P(D >= k)`` falls.

    Example (Poisson demand of mean 2, ``P(D >= 1) = 1 - e^-2``)::

        >>> from scipy import stats
        >>> import moqlab
        >>> r = moqlab.stock_reward([1, 2, 3, 8], demand=stats.poisson(2.0), margin=10.0,
        ...                         stockout=-5.0, carrying=-1.0)
        >>> [round(float(x), 4) for x in r]
        [12.8346, 8.5039, 4.1732, -0.9825]
    """
    units = np.asarray(units, dtype=np.float64)
    margin, stockout, carrying = (np.asarray(v, dtype=np.float64)
                                  for v in (margin, stockout, carrying))
    if np.any(units < 1):
        raise MOQInputError("stock_reward: units are counted from 1 (the first unit held)",
                            column="units", value=float(np.min(units)))
    if np.any(stockout > 0) or np.any(carrying > 0):
        raise MOQInputError("stock_reward: stockout and carrying are costs, given as values "
                            "<= 0 (the design note's sign convention)")
    selling = demand.sf(units - 1.0)
    return (margin - stockout) * selling + carrying * (1.0 - selling)


# ------------------------------------------------------------------ helpers


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise MOQInputError(f"{name} must be one of {list(allowed)}", column=name, value=value)


def _check_positive(name: str, value, strict: bool = True) -> None:
    if not np.isfinite(value) or (value <= 0 if strict else value < 0):
        raise MOQInputError(f"{name} must be a finite number {'>' if strict else '>='} 0",
                            column=name, value=value)


def _item_ids(n_items: int, prefix: str) -> np.ndarray:
    width = len(str(max(n_items - 1, 0)))
    return np.char.add(prefix, np.char.zfill(np.arange(n_items).astype(str), width))


def unconstrained_take(line_item: np.ndarray, reward: np.ndarray, n_items: int) -> np.ndarray:
    """Lines per item of the unconstrained order: the shortest prefix with the largest
    cumulative reward (0 lines when no prefix total is positive). ``line_item`` must be
    sorted (lines of an item contiguous, in ladder order)."""
    counts = np.bincount(line_item, minlength=n_items)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = np.cumsum(reward)
    base = np.where(start > 0, total[np.maximum(start - 1, 0)], 0.0)
    prefix = total - base[line_item]
    best = np.full(n_items, -np.inf)
    np.maximum.at(best, line_item, prefix)
    rank = np.arange(line_item.shape[0]) - start[line_item]
    hit = (prefix == best[line_item]) & (best[line_item] > 0)
    first = np.full(n_items, np.iinfo(np.int64).max)
    np.minimum.at(first, line_item[hit], rank[hit])
    return np.where(best > 0, first + 1, 0).astype(np.int64)


def _draw_limit(instance: Instance, mode: str, fraction: float) -> tuple[float, float]:
    take = unconstrained_take(instance.line_item, instance.reward, instance.n_items)
    chosen = instance.selection_from_take(take)
    values = instance.cost if mode == "budget" else instance.target
    reference = float(max(0.0, np.sum(values[chosen])))
    return round(fraction * reference, 2), reference


def _moq_family(rng, n_items: int, n_groups: int, line_item, oq_line, tightness: float,
                prefix: str, integral: bool):
    """A random partition of the items into ``n_groups`` groups, thresholds a
    ``tightness * U(0.5, 1.5)`` share of each group's total contribution (capped by it)."""
    item_group = rng.integers(0, n_groups, size=n_items)
    line_group = item_group[line_item]
    total = np.bincount(line_group, weights=oq_line, minlength=n_groups)
    threshold = tightness * rng.uniform(0.5, 1.5, size=n_groups) * total
    threshold = np.ceil(threshold) if integral else np.round(threshold, 2)
    threshold = np.minimum(threshold, total)
    labels = np.char.add(prefix, np.arange(n_groups).astype(str))
    return labels[line_group], oq_line, threshold[line_group]


# ------------------------------------------------------------------ knapsack


def knapsack(n_items: int, *, kind: str = "uncorrelated", seed: int = 0, R: int = 1000,
             fraction: float = 0.5, mode: str = "budget", moq_groups: Sequence[int] | int = (),
             moq_tightness: float = 0.5, moq_oq: str = "units") -> Generated:
    """A Pisinger-style 0/1 knapsack instance (one line per item), optionally with MOQs.

    ``kind``: one of ``uncorrelated``, ``weak``, ``strong``, ``inverse``, ``subset`` (module
    docstring); weights and profits are integers in ``[1, R]`` (+ ``R/10`` for the
    correlated ones). ``moq_groups``: one int per MOQ family, its number of groups
    (the items are split among them uniformly at random); each group's threshold is
    ``ceil(moq_tightness * U(0.5, 1.5) * total)`` capped by ``total``, the group's total
    contribution, where a line contributes 1 (``moq_oq="units"``: a minimum number of
    items) or its cost (``"money"``). The limit is ``fraction`` of the unconstrained
    order's cost (every item: all profits are positive), or of its target (the target
    of a line is its cost, the table's default).

    Example::

        >>> import moqlab
        >>> gen = moqlab.generate.knapsack(6, kind="subset", seed=3)
        >>> bool((gen.instance.reward == gen.instance.cost).all())
        True
    """
    _check_choice("kind", kind, KNAPSACK_KINDS)
    _check_choice("mode", mode, MODES)
    _check_choice("moq_oq", moq_oq, ("units", "money"))
    if int(n_items) < 1:
        raise MOQInputError("n_items must be >= 1", column="n_items", value=n_items)
    _check_positive("R", R)
    _check_positive("fraction", fraction, strict=False)
    _check_positive("moq_tightness", moq_tightness, strict=False)
    groups = [moq_groups] if np.ndim(moq_groups) == 0 else list(moq_groups)
    params = dict(n_items=int(n_items), kind=kind, R=int(R), fraction=float(fraction),
                  mode=mode, moq_groups=[int(g) for g in groups],
                  moq_tightness=float(moq_tightness), moq_oq=moq_oq)
    n = int(n_items)
    rng = np.random.default_rng(seed)
    span = R // 10
    if kind == "inverse":
        profit = rng.integers(1, R + 1, size=n)
        weight = profit + span
    else:
        weight = rng.integers(1, R + 1, size=n)
        if kind == "uncorrelated":
            profit = rng.integers(1, R + 1, size=n)
        elif kind == "weak":
            profit = np.maximum(1, weight + rng.integers(-span, span + 1, size=n))
        elif kind == "strong":
            profit = weight + span
        else:  # subset
            profit = weight.copy()
    reward, cost = profit.astype(np.float64), weight.astype(np.float64)
    line_item = np.arange(n)
    families = []
    for k, g in enumerate(params["moq_groups"]):
        if g < 1:
            raise MOQInputError("moq_groups entries must be >= 1", column="moq_groups", value=g)
        oq = np.ones(n) if moq_oq == "units" else cost
        families.append(_moq_family(rng, n, g, line_item, oq, moq_tightness, f"f{k}g",
                                    integral=True))
    instance = Instance.from_arrays(_item_ids(n, "k"), reward, cost, min=np.ones(n),
                                    families=families)
    limit, reference = _draw_limit(instance, mode, fraction)
    return Generated(instance, mode, limit, reference, {**params, "seed": seed})


# ------------------------------------------------------------------ stock


def _demand_quantile(kind: np.ndarray, mean: np.ndarray, dispersion: float, q: float):
    """The ``q`` quantile of each item's demand: Poisson where ``kind == 0``, negative
    binomial (mean ``mean``, variance ``mean + mean**2 / dispersion``) where 1."""
    from scipy import stats  # imported when used: it costs a second at start-up

    p = dispersion / (dispersion + mean)
    return np.where(kind == 0, stats.poisson.ppf(q, mean), stats.nbinom.ppf(q, dispersion, p))


class _Subset:
    """The ``sf`` of per-item distributions evaluated on units (index ``owner``)."""

    def __init__(self, kind, mean, dispersion, owner):
        self.kind, self.mean, self.owner = kind[owner], mean[owner], owner
        self.dispersion = dispersion

    def sf(self, k):
        from scipy import stats

        out = np.empty(k.shape)
        poisson = self.kind == 0
        out[poisson] = stats.poisson.sf(k[poisson], self.mean[poisson])
        nb = ~poisson
        p = self.dispersion / (self.dispersion + self.mean[nb])
        out[nb] = stats.nbinom.sf(k[nb], self.dispersion, p)
        return out


def _break_cost(quantity, prices, b1, b2, merchant):
    """Total price of ``quantity`` units with tier unit prices ``prices = (p0, p1, p2)`` and
    breaks ``b1 < b2``: all-units (``merchant``) ``q * p_tier(q)``, else incremental."""
    p0, p1, p2 = prices
    all_units = quantity * np.where(quantity >= b2, p2, np.where(quantity >= b1, p1, p0))
    incremental = (p0 * np.minimum(quantity, b1) + p1 * np.clip(quantity - b1, 0.0, b2 - b1)
                   + p2 * np.maximum(0.0, quantity - b2))
    return np.where(merchant, all_units, incremental)


def stock(n_items: int, *, seed: int = 0, demand: str = "mixed", mean_demand: float = 6.0,
          demand_spread: float = 1.0, dispersion: float = 2.0,
          lots: Sequence[int] = DEFAULT_LOTS, price_breaks: str | None = None,
          moq: Sequence[str] = ("sku", "category", "supplier"), tightness: float = 0.5,
          sku_share: float = 0.5, n_categories: int | None = None,
          n_suppliers: int | None = None, stockout: float = 0.5, carrying: float = 0.3,
          coverage: float = 0.995, max_lines: int | None = None, fraction: float = 0.5,
          mode: str = "budget", containers: float | None = None) -> Generated:
    """A realistic purchase order over ``n_items`` SKUs (the ``stock`` family).

    Per item ``i`` (all drawn from ``seed``):

    * list price ``c_i ~ exp(N(2.5, 0.8))``, gross margin ``M_i = c_i * U(0.2, 0.8)``,
      stock-out penalty ``S_i = -stockout * M_i`` and carrying cost
      ``C_i = -carrying * c_i`` (per unsold unit);
    * demand ``D_i``: Poisson or negative binomial (``demand="mixed"``: half each) with mean
      ``mu_i = mean_demand * exp(N(0, demand_spread))`` (negative binomial variance
      ``mu + mu^2 / dispersion``);
    * lot ``lot_i`` drawn from ``lots``: line ``l`` (1-based) buys units
      ``(l-1) lot_i + 1 .. l lot_i``; the ladder covers the ``coverage`` quantile of
      ``D_i`` (at least one lot and the SKU's MOQ), capped at ``max_lines`` lines;
    * reward of a line: the sum of :func:`stock_reward` over its units; target: its units;
    * cost of a line: ``K(q_end) - K(q_start)`` with ``K`` the total price of ``q`` units.
      Without breaks ``K(q) = c_i q``. With ``price_breaks`` ("merchant", "fiscal" or
      "mixed" = either per item), breaks at ``b1 = lot * max(1, round(mu_i U(0.5, 1.5) /
      lot))`` and ``b2 = 2 b1`` with discounts ``d1 ~ U(0.02, 0.08)``,
      ``d2 = d1 + U(0.02, 0.08)``, i.e. tier prices ``p0 = c``, ``p1 = c (1 - d1)``,
      ``p2 = c (1 - d2)`` (in cents): merchant (all-units) ``K(q) = q p(q)`` where ``p(q)``
      is the price of the highest break ``<= q`` (so the step reaching a break can cost
      zero or less); fiscal (incremental) ``K(q) = p0 min(q, b1) + p1 min((q - b1)^+,
      b2 - b1) + p2 (q - b2)^+``.

    MOQ families, in the order given by ``moq`` (each scaled by ``tightness``; 0 turns
    them into "no minimum"):

    * ``"sku"`` (units): a ``sku_share`` of the items get the threshold
      ``ceil(tightness * U(0.5, 1.5) * mu_i)``, the others 0; one group per item;
    * ``"category"`` (units): items split at random into ``n_categories`` (default
      ``max(1, n_items // 20)``) groups, threshold ``ceil(tightness * U(0.5, 1.5) *
      sum of mu_i)``, capped by the units the group can buy;
    * ``"supplier"`` (money at list price, ``oq`` = units * ``c_i``, so always > 0 even
      when a merchant step is free): ``n_suppliers`` groups (default
      ``max(1, n_items // 50)``), threshold ``tightness * U(0.5, 1.5) * sum of mu_i c_i``,
      capped likewise.

    ``containers`` (a fraction > 0; default ``None``: none) adds one capacity family, a
    container per supplier (the supplier family's groups, or ``n_suppliers`` random groups
    when there is none): a unit of item ``i`` takes ``v_i ~ exp(N(-1, 0.6))`` m3 (to
    0.001), a line its units times that, and a supplier's container holds ``containers``
    times the volume of the supplier's share of the unconstrained order (to 0.01 m3;
    below 1 the containers bind), and at least 1.25 times the volume share its supplier
    MOQ needs (the MOQ over the money of that share), so a container can meet its MOQ. Drawn after everything else: the same seed gives the
    same order with or without containers, the ceilings aside.

    The limit is ``fraction`` of the unconstrained order's cost (budget mode) or units
    (target modes). Rewards are rounded to 4 decimals and costs to cents.

    Example::

        >>> import moqlab
        >>> gen = moqlab.generate.stock(20, seed=1, price_breaks="fiscal")
        >>> gen.instance.n_items, gen.instance.n_families
        (20, 3)
    """
    _check_choice("demand", demand, DEMAND_KINDS)
    _check_choice("price_breaks", price_breaks, PRICE_BREAKS)
    _check_choice("mode", mode, MODES)
    moq = [moq] if isinstance(moq, str) else list(moq)
    for name in moq:
        _check_choice("moq", name, STOCK_MOQ_FAMILIES)
    if int(n_items) < 1:
        raise MOQInputError("n_items must be >= 1", column="n_items", value=n_items)
    for name, value in (("mean_demand", mean_demand), ("dispersion", dispersion)):
        _check_positive(name, value)
    for name, value in (("demand_spread", demand_spread), ("tightness", tightness),
                        ("stockout", stockout), ("carrying", carrying),
                        ("fraction", fraction), ("sku_share", sku_share)):
        _check_positive(name, value, strict=False)
    if not 0 < coverage < 1:
        raise MOQInputError("coverage must be in (0, 1)", column="coverage", value=coverage)
    lots = np.asarray(lots, dtype=np.int64)
    if lots.ndim != 1 or lots.size == 0 or (lots < 1).any():
        raise MOQInputError("lots must be a non-empty list of integers >= 1", column="lots")
    if containers is not None:
        _check_positive("containers", containers)
    if max_lines is not None and int(max_lines) < 1:
        raise MOQInputError("max_lines must be >= 1", column="max_lines", value=max_lines)
    n = int(n_items)
    n_categories = max(1, n // 20) if n_categories is None else int(n_categories)
    n_suppliers = max(1, n // 50) if n_suppliers is None else int(n_suppliers)
    params = dict(n_items=n, demand=demand, mean_demand=float(mean_demand),
                  demand_spread=float(demand_spread), dispersion=float(dispersion),
                  lots=[int(x) for x in lots], price_breaks=price_breaks, moq=moq,
                  tightness=float(tightness), sku_share=float(sku_share),
                  n_categories=n_categories, n_suppliers=n_suppliers,
                  stockout=float(stockout), carrying=float(carrying),
                  coverage=float(coverage),
                  max_lines=None if max_lines is None else int(max_lines),
                  fraction=float(fraction), mode=mode,
                  containers=None if containers is None else float(containers))
    rng = np.random.default_rng(seed)

    # Items: economics, demand, lots, breaks, SKU minimums (drawn in a fixed order).
    price = np.round(np.exp(rng.normal(2.5, 0.8, size=n)), 2) + 0.01
    margin = price * rng.uniform(0.2, 0.8, size=n)
    mean = mean_demand * np.exp(rng.normal(0.0, demand_spread, size=n))
    kind = {"poisson": np.zeros(n, np.int64), "negbin": np.ones(n, np.int64),
            "mixed": rng.integers(0, 2, size=n)}[demand]
    lot = lots[rng.integers(0, lots.size, size=n)]
    b1 = lot * np.maximum(1, np.round(mean * rng.uniform(0.5, 1.5, size=n) / lot))
    b2 = 2 * b1
    d1 = rng.uniform(0.02, 0.08, size=n)
    d2 = d1 + rng.uniform(0.02, 0.08, size=n)
    coin = rng.random(n)  # drawn whatever the flavour, so the streams stay aligned
    merchant_item = coin < 0.5 if price_breaks == "mixed" else np.full(n, price_breaks == "merchant")
    sku_has = rng.random(n) < sku_share
    sku_moq = np.where(sku_has, np.ceil(tightness * rng.uniform(0.5, 1.5, size=n) * mean), 0.0)

    # Ladders: enough lots to cover the demand quantile and the SKU minimum.
    top = np.maximum(_demand_quantile(kind, mean, dispersion, coverage), sku_moq)
    n_lines = np.maximum(1, np.ceil(top / lot)).astype(np.int64)
    if max_lines is not None:
        n_lines = np.minimum(n_lines, int(max_lines))
        sku_moq = np.minimum(sku_moq, n_lines * lot)
    line_item = np.repeat(np.arange(n), n_lines)
    line_start = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    line_number = np.arange(line_item.size) - line_start[line_item] + 1
    line_units = lot[line_item].astype(np.float64)
    q_end = line_number * line_units
    q_start = q_end - line_units

    # Rewards: every unit priced once, summed per line (lines hold >= 1 unit each).
    unit_line = np.repeat(np.arange(line_item.size), lot[line_item])
    unit_item = line_item[unit_line]
    unit_k = q_start[unit_line] + (np.arange(unit_line.size)
                                   - np.repeat(np.cumsum(lot[line_item]) - lot[line_item],
                                               lot[line_item])) + 1
    unit_reward = stock_reward(unit_k, demand=_Subset(kind, mean, dispersion, unit_item),
                               margin=margin[unit_item], stockout=-stockout * margin[unit_item],
                               carrying=-carrying * price[unit_item])
    line_first_unit = np.concatenate([[0], np.cumsum(lot[line_item])[:-1]])
    reward = np.round(np.add.reduceat(unit_reward, line_first_unit), 4)

    # Costs: differences of the total price curve.
    li = line_item
    if price_breaks is None:
        cost = np.round(line_units * price[li], 2)
    else:
        # tier prices in cents, so that every step costs a whole number of cents
        tiers = (price[li], np.round(price * (1 - d1), 2)[li], np.round(price * (1 - d2), 2)[li])
        args = (tiers, b1[li], b2[li], merchant_item[li])
        cost = np.round(_break_cost(q_end, *args) - _break_cost(q_start, *args), 2)

    families = []
    for name in moq:
        if name == "sku":
            families.append((None, line_units, sku_moq[li]))
        elif name == "category":
            families.append(_capped_family(rng, n, n_categories, li, line_units,
                                           tightness * mean, "c", integral=True))
        else:
            families.append(_capped_family(rng, n, n_suppliers, li,
                                           np.round(line_units * price[li], 2),
                                           tightness * mean * price, "s", integral=False))
    ids = _item_ids(n, "i")
    families = [(ids[li] if group is None else group, oq, threshold)
                for group, oq, threshold in families]
    capacities = []
    if containers is not None:
        volume = np.round(line_units * np.round(np.exp(rng.normal(-1.0, 0.6, size=n)),
                                                3)[li], 3)
        wanted = line_number <= unconstrained_take(li, reward, n)[li]
        share = float(containers)
        if "supplier" in moq:
            supplier, money, threshold = families[moq.index("supplier")]
            codes = np.unique(supplier, return_inverse=True)[1]
            spent = np.bincount(codes, weights=np.where(wanted, money, 0.0))
            minimum = np.zeros(spent.size)
            minimum[codes] = threshold
            # room for the supplier's MOQ: its share of the wanted money, and a quarter more
            share = np.maximum(share, 1.25 * minimum / np.maximum(spent, 1e-9))
        else:
            supplier = np.char.add("s", rng.integers(0, n_suppliers, size=n).astype(str))[li]
            codes = np.unique(supplier, return_inverse=True)[1]
        shipped = np.bincount(codes, weights=np.where(wanted, volume, 0.0))
        capacities.append((supplier, volume, np.round(share * shipped, 2)[codes]))
    instance = Instance.from_arrays(ids[li], reward, cost, line_units, min=line_number,
                                    families=families, capacities=capacities)
    limit, reference = _draw_limit(instance, mode, fraction)
    return Generated(instance, mode, limit, reference, {**params, "seed": seed})


def _capped_family(rng, n_items, n_groups, line_item, oq_line, item_scale, prefix, integral):
    """Random groups with threshold ``U(0.5, 1.5) * sum(item_scale)``, capped by the
    group's total contribution (so every group can be opened)."""
    item_group = rng.integers(0, n_groups, size=n_items)
    line_group = item_group[line_item]
    total = np.bincount(line_group, weights=oq_line, minlength=n_groups)
    wanted = rng.uniform(0.5, 1.5, size=n_groups) * np.bincount(
        item_group, weights=item_scale, minlength=n_groups)
    threshold = np.ceil(wanted) if integral else np.round(wanted, 2)
    threshold = np.minimum(threshold, total)
    labels = np.char.add(prefix, np.arange(n_groups).astype(str))
    return labels[line_group], oq_line, threshold[line_group]


FAMILIES = {"knapsack": knapsack, "stock": stock}


def generate(family: str, n_items: int, *, seed: int = 0, **params) -> Generated:
    """Dispatch by family name: ``generate("stock", 100, seed=1, tightness=0.8)``."""
    _check_choice("family", family, tuple(FAMILIES))
    return FAMILIES[family](n_items, seed=seed, **params)
