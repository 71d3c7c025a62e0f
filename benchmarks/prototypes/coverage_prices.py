"""Prototype (issue 10): coverage prices for a fixed pattern of open groups.

Not part of the library: a measuring harness for the next step of ``search``'s engine
(``moqlab/heuristics/_lagrange.py``). For a *pattern* (groups of the multi-item families
protected = must open, the others of those families closed), the engine's pattern solve
prices items at ``R - lam C`` only; here each group ``g`` also gets a coverage price
``mu_g >= 0`` (a multiplier of its MOQ row), so an item's priced profit is
``R_i(t) - lam C_i(t) + sum_k mu_{k, g_k(i)} Q_{k,i}(t)``. ``(lam, mu)`` follow a projected
subgradient path (``iters`` steps, step ``eta / sqrt(n + 1)`` scaled by ``lam*`` and each
family's cost per unit of contribution; a free group opens in the primal step only when its
members' priced value exceeds ``mu_g moq_g``); every ``STRIDE``-th iterate is repaired, shed
and filled with the engine's own functions and the best valid order is kept.

Measured (2-core CPU, 2026-12-02):

* ``stock-i200-merchant-t1.0`` (1,260 lines, optimum 3675.51; ``search`` 3597.84, 2.11 %):
  the optimum's open set solved by the engine's ``solve_pattern`` ends invalid (cost 12,742
  over the budget 11,599); with coverage prices it gives 3663.99 (0.31 %). Climbing over
  patterns (single flips, each evaluated by this solve) from ``search``'s open set finds
  that set in 29 evaluations (10 s with compiles): 0.31 %.
* ``medium-stock-mixed-t1`` (optimum 2594.88; ``search`` 2535.72, 2.28 %): the optimum's
  open set gives only 2536.90 (2.2 %); flips from ``search``'s set find nothing, flips and
  swaps reach 2566.15 (1.1 %).
* The LP relaxation does not point at the open set on these tight orders: on
  ``stock-i200-merchant-t1.0`` it is 5039 (37 % above the optimum) with every category's
  ``y`` at 0.598.

So coverage prices fix the budget fit of a given pattern, but neither they nor the LP pick
the pattern; the within-pattern solve is still 2 % off on ``medium-stock-mixed-t1``.

Usage::

    python benchmarks/prototypes/coverage_prices.py ORDER CATS SUPPLIERS [ITERS] [ETA]

``ORDER``: a fresh stock order name (``benchmarks/stock_orders.py``) or a suite case name;
``CATS``/``SUPPLIERS``: comma-separated open groups of the two multi-item families, ``free``
(no pattern on that family) or ``none``; or ``search`` / ``milp`` in place of both (the
open set of that method's answer). Environment: ``PATH_MODE=1`` evaluates the subgradient
path's iterates, ``CLIMB=1`` climbs over patterns (``SWAP=1`` adds swaps), ``TWO=1`` re-solves
with the first solve's open set protected, ``STRIDE`` (default 50).
"""
import sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
import numpy as np, jax, jax.numpy as jnp, moqlab
from benchmarks.stock_orders import orders
from moqlab.core._layout import prefix_layout
from moqlab.core._precision import float64
from moqlab.heuristics import _lagrange as L
from jax import lax
name = sys.argv[1]
def _parse(a): return None if a == "free" else ([] if a == "none" else [int(x) for x in a.split(",")])
import os; TWO = os.environ.get('TWO') == '1'
iters = int(sys.argv[4]) if len(sys.argv) > 4 else 300
eta0 = float(sys.argv[5]) if len(sys.argv) > 5 else 0.5
if name.startswith(("medium", "small", "large")):
    _c = {c.name: c for c in moqlab.load_suite(name.split("-")[0])}[name]
    from types import SimpleNamespace
    g = SimpleNamespace(instance=_c.instance, limit=_c.limit)
else:
    g = dict(orders(100000))[name]
inst = g.instance
if sys.argv[2] in ("search", "milp"):
    _r = moqlab.solve(inst, method=sys.argv[2], budget=g.limit)
    _sel = np.asarray(_r.selected, bool)
    print("search reward", _r.reward)
    _multi = [k for k, f in enumerate(inst.families) if (np.bincount(f.item_group) > 1).any()]
    _open = []
    for k in _multi:
        f = inst.families[k]
        u = np.bincount(f.item_group[inst.line_item[_sel]], minlength=f.n_groups)
        _open.append(",".join(str(x) for x in np.flatnonzero(u > 0)) or "none")
    sys.argv[2:4] = _open
opencat, opensup = _parse(sys.argv[2]), _parse(sys.argv[3])
lay = prefix_layout(inst, budget=g.limit)
K, G = lay.floor.shape
closed = np.zeros((K, G), bool); protect = np.zeros((K, G), bool)
for k, opn in ((0, opencat), (1, opensup)):
    if opn is None: continue
    n = inst.families[k+1].n_groups
    for gi in range(n):
        if gi in opn: protect[k, gi] = True
        else: closed[k, gi] = True
closed, protect = jnp.asarray(closed), jnp.asarray(protect)

def mu_profit(lay, lam, mu):
    bonus = jnp.take_along_axis(mu, lay.group, axis=1)[..., None] * lay.contrib  # [K,I,W]
    return jnp.where(lay.allowed, lay.reward - lam * lay.cost + bonus.sum(0), -jnp.inf)

def primal(lay, lam, mu, closed, protect):
    profit = mu_profit(lay, lam, mu)
    bar = L.barred(lay, closed)
    value = jnp.where(bar, 0.0, jnp.maximum(profit.max(1), 0.0))
    held = L.per_group(jnp.broadcast_to(value, lay.group.shape), lay.group, G)
    free = (lay.floor > 0) & ~protect & ~closed
    shut = closed | (free & (held <= mu * lay.floor))
    return L.choose(profit, L.barred(lay, shut))

def dual(lay, closed, protect, lam0):
    # scale: cost per unit of contribution over the whole table
    full = lay.allowed
    unit = jnp.stack([(jnp.where(full, lay.cost, 0).max(1).sum()) / jnp.maximum(jnp.where(full, lay.contrib[k], 0).max(1).sum(), 1e-12) for k in range(K)])
    def body(n, s):
        lam, mu, best = s
        t = primal(lay, lam, mu, closed, protect)
        total, count, _ = L.group_state(lay, t)
        active = (protect | (count > 0)) & (lay.floor > 0)
        short = jnp.where(active, (lay.floor - total) / jnp.where(lay.floor > 0, lay.floor, 1), 0.0)
        eta = eta0 / jnp.sqrt(n + 1.0)
        mu = jnp.maximum(0.0, mu + eta * lam0 * unit[:, None] * short)
        cost = L.totals(lay, t)[1]
        lam = jnp.maximum(0.0, lam + eta * lam0 * (cost - lay.budget) / lay.budget)
        return lam, mu, best
    lam, mu, _ = lax.fori_loop(0, iters, body, (lam0, jnp.zeros((K, G)), 0.0))
    return lam, mu

STRIDE = int(os.environ.get("STRIDE", "50"))
def dual_path(lay, closed, protect, lam0):
    full = lay.allowed
    unit = jnp.stack([(jnp.where(full, lay.cost, 0).max(1).sum()) / jnp.maximum(jnp.where(full, lay.contrib[k], 0).max(1).sum(), 1e-12) for k in range(K)])
    def body(s, n):
        lam, mu = s
        t = primal(lay, lam, mu, closed, protect)
        total, count, _ = L.group_state(lay, t)
        active = (protect | (count > 0)) & (lay.floor > 0)
        short = jnp.where(active, (lay.floor - total) / jnp.where(lay.floor > 0, lay.floor, 1), 0.0)
        eta = eta0 / jnp.sqrt(n + 1.0)
        mu = jnp.maximum(0.0, mu + eta * lam0 * unit[:, None] * short)
        cost = L.totals(lay, t)[1]
        lam = jnp.maximum(0.0, lam + eta * lam0 * (cost - lay.budget) / lay.budget)
        return (lam, mu), (lam, mu)
    _, (lams, mus) = lax.scan(body, (lam0, jnp.zeros((K, G))), jnp.arange(iters))
    return lams[STRIDE - 1::STRIDE], mus[STRIDE - 1::STRIDE]

def cand(lay, lam, mu, closed, protect):
    profit = mu_profit(lay, lam, mu)
    t = primal(lay, lam, mu, closed, protect)
    t, shut, ok = L.repair(lay, profit, t, closed, protect)
    t, shut, fits = L.shed(lay, profit, t, shut, protect)
    t = L.fill(lay, t, shut)
    valid = ok & fits & L.fits_budget(lay, L.totals(lay, t)[1]) & ~L.group_state(lay, t)[2].any()
    return t, valid

def run_path(lay, closed, protect):
    lam0 = L.bisect_price(lay, closed, protect)
    lams, mus = dual_path(lay, closed, protect, lam0)
    ts, valid = lax.map(lambda a: cand(lay, a[0], a[1], closed, protect), (lams, mus))
    rewards = jax.vmap(lambda t: L.totals(lay, t)[0])(ts)
    return jnp.where(valid, rewards, -1.0)

def run(lay, closed, protect):
    lam0 = L.bisect_price(lay, closed, protect)
    lam, mu = dual(lay, closed, protect, lam0)
    if TWO:
        t = primal(lay, lam, mu, closed, protect)
        _, count, _ = L.group_state(lay, t)
        real = lay.floor > 0
        protect = real & (count > 0) | protect
        closed = real & ~protect
        lam0 = L.bisect_price(lay, closed, protect)
        lam, mu = dual(lay, closed, protect, lam0)
    profit = mu_profit(lay, lam, mu)
    t = primal(lay, lam, mu, closed, protect)
    raw = L.totals(lay, t)
    t, shut, ok = L.repair(lay, profit, t, closed, protect)
    rep = L.totals(lay, t)
    t, shut, fits = L.shed(lay, profit, t, shut, protect)
    t = L.fill(lay, t, shut)
    return t, ok & fits, lam0, lam, mu, raw, rep
if os.environ.get("CLIMB"):
    fp = float64(jax.jit(run_path))
    real = np.asarray(lay.floor) > 0
    prot = np.asarray(protect).copy()
    t0 = time.time()
    best = float(fp(lay, jnp.asarray(real & ~prot), jnp.asarray(prot)).max())
    print("start", best, prot[0].nonzero()[0].tolist(), prot[1].nonzero()[0].tolist())
    evals = 1
    for sweep in range(3):
        improved = False
        for k in range(K):
            for gi in np.flatnonzero(real[k]):
                trial = prot.copy(); trial[k, gi] = ~trial[k, gi]
                r = float(fp(lay, jnp.asarray(real & ~trial), jnp.asarray(trial)).max()); evals += 1
                if r > best + 1e-9:
                    best, prot, improved = r, trial, True
                    print(f"  flip k{k} g{gi} -> {best:.2f}", prot[0].nonzero()[0].tolist(), prot[1].nonzero()[0].tolist(), flush=True)
        if not improved and os.environ.get("SWAP"):
            for k in range(K):
                for ga in np.flatnonzero(real[k] & prot[k]):
                    for gb in np.flatnonzero(real[k] & ~prot[k]):
                        trial = prot.copy(); trial[k, ga] = False; trial[k, gb] = True
                        r = float(fp(lay, jnp.asarray(real & ~trial), jnp.asarray(trial)).max()); evals += 1
                        if r > best + 1e-9:
                            best, prot, improved = r, trial, True
                            print(f"  swap k{k} g{ga}->g{gb} -> {best:.2f}", prot[0].nonzero()[0].tolist(), prot[1].nonzero()[0].tolist(), flush=True)
                            break
                    if improved: break
                if improved: break
        if not improved: break
    print("climb best", best, "evals", evals, f"{time.time()-t0:.1f}s"); sys.exit()
if os.environ.get("PATH_MODE"):
    t0=time.time(); r = float64(jax.jit(run_path))(lay, closed, protect); print("path rewards", np.round(np.asarray(r),1), f"best {float(r.max()):.2f} {time.time()-t0:.1f}s"); sys.exit()
f = float64(jax.jit(run))
t0 = time.time()
t, ok, lam0, lam, mu, raw, rep = f(lay, closed, protect)
r, c = float64(jax.jit(L.totals))(lay, t)
print(f"reward {float(r):.2f} cost {float(c):.1f} ok {bool(ok)} budget {g.limit} lam0 {float(lam0):.4f} lam {float(lam):.4f} raw {float(raw[0]):.1f}/{float(raw[1]):.1f} repaired {float(rep[0]):.1f}/{float(rep[1]):.1f}  {time.time()-t0:.1f}s")
print("open", [np.flatnonzero(np.asarray(L.group_state(lay, t)[1][k]) > 0).tolist() for k in range(K)]); print("mu", np.round(np.asarray(mu), 4))
