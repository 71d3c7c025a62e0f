"""``jax-greedy``: the MOQ-aware greedy of :mod:`moqlab.heuristics._greedy`, run as one compiled JAX
loop, batched over instances and sharded over local devices.

It gives the same orders as ``method="greedy"`` (tested with hypothesis and on the example
order); the algorithm is the one described in :mod:`moqlab.heuristics._greedy`:

1. **Keys** (host, vectorised numpy): the per-item antitonic-regression keys
   ``key_j = min_{a<=j} max_{b>=j} R(a..b)/C(a..b)`` (:func:`moqlab.heuristics._greedy.line_keys`),
   capped at each group's opening-bundle ratio ``rho_g`` = reward/cost of the shortest run of
   the group's lines (in key order) whose contributions reach its threshold,
   then made non-increasing per item (:func:`moqlab.heuristics._greedy.greedy_keys`, shared with
   ``greedy`` so that both scan the same lines in the same order, float data included).
2. **Scan** (JAX). The scan is a state machine run by one ``lax.while_loop`` of
   *micro-steps*: scan the next line (by decreasing key, while the key is positive), examine
   one candidate line of a bundle, or apply one line of an accepted bundle. The carry holds
   the lines taken per item, the group totals ``sum oq`` and line counts per (family,
   group), the spend, and "closed item" / "retired group" flags. A line whose groups are
   all open is taken if it fits the budget (else its item closes). A line that would open
   closed groups starts a *bundle*: a stack of groups to open (closure across families)
   and, for each, its member lines in scan order, first those that open no further group,
   then any, until the threshold is reached. A group that cannot reach its threshold is
   retired and the bundle rebuilt without it; a bundle is taken when it fits the budget and
   its reward is positive, else the triggering item closes. Bundle scratch (membership,
   closure, totals) is *stamped* with the attempt number, so nothing is ever cleared, and
   every read/write uses a scalar index (a dynamic slice or in-place dynamic update:
   XLA:CPU turns scatters into slow loops). As in ``greedy``, a group's walk starts at a
   per-group pointer past the members already known dead (members before the scan
   position belong to closed items, see :class:`moqlab.heuristics._greedy._Scan`), and the second pass
   only visits the lines the first pass deferred.

   *Cost per micro-step.* Each step applies the previous step's writes first and then only
   reads (:class:`Writes`), so that XLA keeps every array update in place (a read of an old
   value that is not an ancestor of the update makes XLA copy the whole array, every
   step); and the loop is compiled as one XLA:CPU kernel (:func:`_as_one_kernel`) instead
   of one kernel per fused operation. A micro-step costs about 0.5 us on a 2-core CPU
   (it was about 40 us, growing with the arrays). The number of micro-steps is the
   algorithm's: one per scanned line, per examined bundle candidate and per applied bundle
   line; where bundles cascade across families and keep failing on the budget, it grows
   quadratically with the instance (``benchmarks/results/scale.md``).
3. **Modes**: budget mode returns the final order (after the same safeguard that drops a
   short group); the target modes run with an unlimited budget and cut the sequence of
   moves (recorded as the move number of every taken line) exactly as ``greedy`` does.

**Batches**: the scan is sequential, so a batch is a ``lax.map`` over instances inside one
compiled program (a ``vmap`` would turn every scalar-indexed update into a scatter), split
over the local devices with ``shard_map`` (:mod:`moqlab.core._sharding`).

Batches are padded to power-of-two buckets (lines, items, groups, families; a missing family
is a dummy one with no threshold) so that one compiled function serves many batches.
moqlab's JAX solvers run in float64, because totals and tolerances are float64 by contract;
they switch it on for their own calls only (:mod:`moqlab.core._precision`).

Example::

    >>> import moqlab
    >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> moqlab.solve(inst, budget=2, method="jax-greedy").reward
    3.0
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental.xla_metadata import set_xla_metadata

from ..core._kernel import allowance, moq_floor, target_cut
from ..core._dense import bucket
from ._greedy import budget_answer, greedy_keys
from ..core._instance import Instance
from ..core._precision import float64
from ..core._result import Answer
from ..core._options import Option

OPTIONS = (Option("time_limit", float, None, "accepted for a uniform interface: the scan is "
                  "one compiled call and is never cut (it is linear in the lines)", minimum=0,
                  strict=True, nullable=True),)
from ..core._sharding import shard_batch, sharded

# ------------------------------------------------------------------ keys (host)


def capped_keys(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """The keys and scan order of :func:`moqlab.heuristics._greedy.greedy_keys` (the same function:
    the group ratios are sums in numpy's own order, so that ``jax-greedy`` scans exactly
    the lines ``greedy`` scans, float data included)."""
    return greedy_keys(instance)


# ------------------------------------------------------------ scan arrays (host)


class ScanArrays(NamedTuple):
    """One instance in scan order, padded (``P`` lines, ``I`` items, ``K`` families,
    ``G`` groups). Positions are ranks in the scan order; ``active`` lines have a positive key."""

    item: np.ndarray      # [P] item of the line at each position
    rank: np.ndarray      # [P] rank of that line in its item
    cost: np.ndarray      # [P]
    reward: np.ndarray    # [P]
    oq: np.ndarray        # [K, P]
    active: np.ndarray    # [] number of positive-key positions (a prefix)
    item_group: np.ndarray  # [K, I]
    members: np.ndarray   # [K, P] positions sorted by (group, position)
    starts: np.ndarray    # [K, G + 1] segment starts of each group in ``members``
    floor: np.ndarray     # [K, G] threshold minus tolerance
    thresholded: np.ndarray  # [K, G] moq > 0


def scan_sizes(instance: Instance) -> tuple[int, int, int, int]:
    groups = max((fam.n_groups for fam in instance.families), default=1)
    return instance.n_lines, instance.n_items, max(1, instance.n_families), groups


def scan_arrays(instance: Instance, order: np.ndarray, key: np.ndarray,
                sizes: tuple[int, int, int, int]) -> ScanArrays:
    """Padded scan-order arrays of one instance (``sizes`` = padded P, I, K, G)."""
    P, I, K, G = sizes
    n = instance.n_lines
    item = np.zeros(P, np.int32)
    rank = np.zeros(P, np.int32)
    cost = np.zeros(P)
    oq = np.zeros((K, P))
    item[:n] = instance.line_item[order]
    rank[:n] = instance.line_rank[order]
    cost[:n] = instance.cost[order]
    reward = np.zeros(P)
    reward[:n] = instance.reward[order]
    item_group = np.zeros((K, I), np.int32)
    members = np.tile(np.arange(P, dtype=np.int32), (K, 1))
    starts = np.full((K, G + 1), n, np.int32)
    starts[:, 0] = 0
    floor = np.zeros((K, G))
    thresholded = np.zeros((K, G), bool)
    for k, fam in enumerate(instance.families):
        oq[k, :n] = fam.oq[order]
        item_group[k, :instance.n_items] = fam.item_group
        group_at = fam.item_group[item[:n]]
        members[k, :n] = np.lexsort((np.arange(n), group_at))
        counts = np.bincount(group_at, minlength=fam.n_groups)
        starts[k, :fam.n_groups + 1] = np.r_[0, np.cumsum(counts)]
        floor[k, :fam.n_groups] = moq_floor(fam.moq)
        thresholded[k, :fam.n_groups] = fam.moq > 0
    if not instance.families:  # a dummy family without thresholds keeps shapes uniform
        starts[0, 1:] = n
    active = np.int32(np.count_nonzero(key[order] > 0))
    return ScanArrays(item, rank, cost, reward, oq, active, item_group, members, starts, floor,
                      thresholded)


# ------------------------------------------------------------------ scan (JAX)


SCAN, BUNDLE, APPLY, DONE = 0, 1, 2, 3


class Writes(NamedTuple):
    """The writes one micro-step asks for, applied at the start of the next one.

    Every written array has one spare slot at its end, and a write that is not wanted goes
    there. Deferring the writes keeps every update in place: XLA:CPU copies a loop-carried
    array when a read of its old value is not an ancestor of the update, and a step reads
    many cells; a step that first applies the previous step's writes and then only reads
    has no such read."""

    take_at: jnp.ndarray      # item, value take_value
    take_value: jnp.ndarray
    closed_at: jnp.ndarray    # item to close
    group_at: jnp.ndarray     # [K] cells of a taken line, values gtot_value, gcnt_value
    gtot_value: jnp.ndarray
    gcnt_value: jnp.ndarray
    failed_at: jnp.ndarray    # cell to retire
    ptr_at: jnp.ndarray       # cell, value ptr_value
    ptr_value: jnp.ndarray
    added_at: jnp.ndarray     # position, value added_value
    added_value: jnp.ndarray
    lstamp_at: jnp.ndarray    # position, value lstamp_value
    lstamp_value: jnp.ndarray
    blist_at: jnp.ndarray     # slot, value blist_value
    blist_value: jnp.ndarray
    bundle_at: jnp.ndarray    # [K] cells, values btot_value, bts_value
    btot_value: jnp.ndarray
    bts_value: jnp.ndarray
    cstamp_at: jnp.ndarray    # [K] cells, value cstamp_value
    cstamp_value: jnp.ndarray
    stack_at: jnp.ndarray     # [K] slots, values stack_value
    stack_value: jnp.ndarray
    dlist_at: jnp.ndarray     # slot, value dlist_value
    dlist_value: jnp.ndarray


class ScanState(NamedTuple):
    """The greedy scan as a state machine (one micro-step: scan a line, take a group from
    the bundle's stack, examine one candidate line, or apply one bundle line). Scratch
    arrays are stamped with the bundle attempt number so that they never need clearing.
    Arrays have one spare slot at the end (see :class:`Writes`); family x group arrays are
    flat (``k * G + g``)."""

    phase: jnp.ndarray
    p: jnp.ndarray         # scan position (the trigger while a bundle is built)
    take: jnp.ndarray      # [I + 1]
    iclosed: jnp.ndarray   # [I + 1] item closed (budget miss, unprofitable bundle)
    gtot: jnp.ndarray      # [KG + 1] contributions of taken lines
    gcnt: jnp.ndarray      # [KG + 1] taken lines
    failed: jnp.ndarray    # [KG + 1] retired groups
    ptr: jnp.ndarray       # [KG + 1] first member that can still be at or after the scan
    spent: jnp.ndarray
    moves: jnp.ndarray
    added_at: jnp.ndarray  # [P + 1] move number per position, -1 = not taken
    attempt: jnp.ndarray
    lstamp: jnp.ndarray    # [P + 1] == attempt: in the bundle
    blist: jnp.ndarray     # [P + 1] bundle lines
    btot: jnp.ndarray      # [KG + 1] bundle contributions (valid where bts == attempt)
    bts: jnp.ndarray
    cstamp: jnp.ndarray    # [KG + 1] == attempt: in the closure
    stack: jnp.ndarray     # [KG + K + 1] pending groups (k * G + g)
    dlist: jnp.ndarray     # [P + 1] lines the first pass deferred
    sp: jnp.ndarray
    cur: jnp.ndarray       # group being filled (k * G + g)
    pos: jnp.ndarray       # first pass: next member index
    end: jnp.ndarray       # first pass: end of the group's members
    second: jnp.ndarray    # second pass (over the deferred lines)
    dn: jnp.ndarray        # deferred lines
    di: jnp.ndarray        # second pass: next deferred line
    pop: jnp.ndarray
    bn: jnp.ndarray
    bcost: jnp.ndarray
    breward: jnp.ndarray
    t: jnp.ndarray
    writes: Writes


def _no_writes(P: int, I: int, K: int, G: int) -> Writes:
    i32 = jnp.int32
    KG = K * G
    cells = jnp.full(K, KG, i32)
    return Writes(
        take_at=i32(I), take_value=i32(0), closed_at=i32(I), group_at=cells,
        gtot_value=jnp.zeros(K), gcnt_value=jnp.zeros(K, i32), failed_at=i32(KG),
        ptr_at=i32(KG), ptr_value=i32(0), added_at=i32(P), added_value=i32(0),
        lstamp_at=i32(P), lstamp_value=i32(0), blist_at=i32(P), blist_value=i32(0),
        bundle_at=cells, btot_value=jnp.zeros(K), bts_value=jnp.zeros(K, i32),
        cstamp_at=cells, cstamp_value=i32(0), stack_at=jnp.full(K, KG + K, i32),
        stack_value=jnp.zeros(K, i32), dlist_at=i32(P), dlist_value=i32(0))


def init_state(arrays: ScanArrays) -> ScanState:
    P = arrays.item.shape[-1]
    I = arrays.item_group.shape[-1]
    K, G = arrays.floor.shape[-2:]
    KG = K * G
    i32, f64 = jnp.int32, jnp.float64
    ptr = jnp.concatenate([jnp.asarray(arrays.starts)[:, :G].reshape(-1), jnp.zeros(1, i32)])
    return ScanState(
        phase=i32(SCAN), p=i32(0), take=jnp.zeros(I + 1, i32), iclosed=jnp.zeros(I + 1, bool),
        gtot=jnp.zeros(KG + 1), gcnt=jnp.zeros(KG + 1, i32), failed=jnp.zeros(KG + 1, bool),
        ptr=ptr.astype(i32), spent=f64(0.0), moves=i32(0), added_at=jnp.full(P + 1, -1, i32),
        attempt=i32(0), lstamp=jnp.zeros(P + 1, i32), blist=jnp.zeros(P + 1, i32),
        btot=jnp.zeros(KG + 1), bts=jnp.zeros(KG + 1, i32), cstamp=jnp.zeros(KG + 1, i32),
        stack=jnp.zeros(KG + K + 1, i32), dlist=jnp.zeros(P + 1, i32), sp=i32(0), cur=i32(0),
        pos=i32(0), end=i32(0), second=jnp.bool_(False), dn=i32(0), di=i32(0),
        pop=jnp.bool_(False), bn=i32(0), bcost=f64(0.0), breward=f64(0.0), t=i32(0),
        writes=_no_writes(P, I, K, G))


def _at(x, i):
    """``x[i]`` for a scalar index as a dynamic slice (no gather on CPU)."""
    return lax.dynamic_index_in_dim(x, i, axis=0, keepdims=False)


def _set(x, i, value):
    """``x[i] = value`` as one in-place dynamic update (no scatter on CPU)."""
    return lax.dynamic_update_index_in_dim(x, jnp.asarray(value, x.dtype), i, axis=0)


def apply_writes(s: ScanState) -> ScanState:
    """Apply the writes the last micro-step asked for (unwanted ones land in spare slots)."""
    w = s.writes
    K = w.group_at.shape[0]
    gtot, gcnt, btot, bts, cstamp, stack = s.gtot, s.gcnt, s.btot, s.bts, s.cstamp, s.stack
    for f in range(K):
        gtot = _set(gtot, w.group_at[f], w.gtot_value[f])
        gcnt = _set(gcnt, w.group_at[f], w.gcnt_value[f])
        btot = _set(btot, w.bundle_at[f], w.btot_value[f])
        bts = _set(bts, w.bundle_at[f], w.bts_value[f])
        cstamp = _set(cstamp, w.cstamp_at[f], w.cstamp_value)
        stack = _set(stack, w.stack_at[f], w.stack_value[f])
    return s._replace(
        take=_set(s.take, w.take_at, w.take_value), iclosed=_set(s.iclosed, w.closed_at, True),
        gtot=gtot, gcnt=gcnt, failed=_set(s.failed, w.failed_at, True),
        ptr=_set(s.ptr, w.ptr_at, w.ptr_value),
        added_at=_set(s.added_at, w.added_at, w.added_value),
        lstamp=_set(s.lstamp, w.lstamp_at, w.lstamp_value),
        blist=_set(s.blist, w.blist_at, w.blist_value), btot=btot, bts=bts, cstamp=cstamp,
        stack=stack, dlist=_set(s.dlist, w.dlist_at, w.dlist_value))


def _micro_step(arrays: ScanArrays, budget, s: ScanState) -> ScanState:
    """One micro-step of the greedy scan of one instance (a no-op once DONE): apply the
    last step's writes, then read (scalar indices only: dynamic slices) and decide, and
    leave this step's writes in the carry."""
    item, rank, cost, reward, oq, active, item_group, members, starts, floor, thresholded = arrays
    s = apply_writes(s)
    P = item.shape[0]
    I = item_group.shape[1]
    K, G = floor.shape
    KG = K * G
    floor, thresholded = floor.reshape(-1), thresholded.reshape(-1)
    members, starts = members.reshape(-1), starts.reshape(-1)
    limit = budget + allowance(budget)
    i32 = jnp.int32

    def cells(m):
        """Flat (family, group) cells of item ``m``, one per family."""
        return jnp.stack([f * G + _at(item_group[f], m) for f in range(K)])

    def get(x, cs):
        return jnp.stack([_at(x, cs[f]) for f in range(K)])

    def line_oq(j):
        return jnp.stack([_at(oq[f], j) for f in range(K)])

    def closed_of(cs):
        return get(thresholded, cs) & (get(s.gcnt, cs) == 0)

    def usable(m, cs):
        return ~_at(s.iclosed, m) & ~jnp.any(get(s.failed, cs))

    scan, bundling, applying = s.phase == SCAN, s.phase == BUNDLE, s.phase == APPLY
    p = jnp.minimum(s.p, P - 1)
    i, r = _at(item, p), _at(rank, p)
    ci = cells(i)
    oq_p = line_oq(p)
    finished = scan & (s.p >= active)

    # ---------------------------------------------------------------- SCAN a line
    ok = scan & ~finished & usable(i, ci) & (_at(s.take, i) == r)
    closed_i = closed_of(ci)
    simple = ok & ~jnp.any(closed_i)
    fits = s.spent + _at(cost, p) <= limit
    take_line = simple & fits
    trigger = ok & jnp.any(closed_i)

    # ---------------------------------------------------------------- BUNDLE micro-step
    stamp = s.attempt
    popping = bundling & s.pop
    empty = s.sp == 0
    code = _at(s.stack, jnp.maximum(s.sp - 1, 0))
    took = popping & ~empty
    walking = bundling & ~s.pop
    total = jnp.where(_at(s.bts, s.cur) == stamp, _at(s.btot, s.cur), 0.0)
    reached = total >= _at(floor, s.cur)
    finish = walking & reached  # group reached: pop the next one
    first_pass = walking & ~reached & ~s.second
    at_end = s.pos >= s.end
    switch = first_pass & at_end  # first pass over: the deferred lines
    examine = first_pass & ~at_end
    second_pass = walking & ~reached & s.second
    short = second_pass & (s.di >= s.dn)
    deferred_add = second_pass & (s.di < s.dn)
    member = _at(members, (s.cur // G) * P + jnp.minimum(s.pos, P - 1))
    q = jnp.where(s.second, _at(s.dlist, jnp.minimum(s.di, P - 1)), member)
    m = _at(item, q)
    cm = cells(m)
    new = closed_of(cm) & (get(s.cstamp, cm) != stamp)
    dead = (_at(s.lstamp, q) == stamp) | ~usable(m, cm)
    defer = examine & ~dead & jnp.any(new)
    add = (examine & ~dead & ~jnp.any(new)) | deferred_add
    # members before the scan position are dead (module docstring): never walk them again
    past = examine & (member < s.p)
    success = popping & empty
    accept = success & (s.spent + s.bcost <= limit) & (s.breward > 0)
    # a short group is retired; rebuild while the trigger stays usable
    retired = (ci == s.cur) & short
    rebuild = short & ~_at(s.iclosed, i) & ~jnp.any(get(s.failed, ci) | retired)
    start_bundle = trigger | rebuild

    # ---------------------------------------------------------------- APPLY one line
    qa = _at(s.blist, jnp.minimum(s.t, P - 1))
    ma = _at(item, qa)
    ca = cells(ma)
    last_apply = applying & (s.t + 1 >= s.bn)

    # ---------------------------------------------------------------- this step's writes
    oq_q, oq_a = line_oq(q), line_oq(qa)
    attempt = s.attempt + start_bundle.astype(i32)
    grow = jnp.where(take_line, ci, ca)
    push = new & add
    closed0 = closed_i & start_bundle
    pushing = push | closed0
    sp = jnp.where(start_bundle, 0, jnp.where(took, s.sp - 1, s.sp))
    slots = (sp + jnp.cumsum(pushing) - pushing).astype(i32)
    old = jnp.where(get(s.bts, cm) == stamp, get(s.btot, cm), 0.0)
    none_i, none_kg, none_p = i32(I), jnp.full(K, KG, i32), i32(P)
    writes = Writes(
        take_at=jnp.where(take_line, i, jnp.where(applying, ma, none_i)),
        take_value=jnp.where(take_line, r + 1,
                             jnp.maximum(_at(s.take, ma), _at(rank, qa) + 1)),
        closed_at=jnp.where((simple & ~fits) | (success & ~accept), i, none_i),
        group_at=jnp.where(take_line | applying, grow, none_kg),
        gtot_value=get(s.gtot, grow) + jnp.where(take_line, oq_p, oq_a),
        gcnt_value=get(s.gcnt, grow) + 1,
        failed_at=jnp.where(short, s.cur, i32(KG)),
        ptr_at=jnp.where(past, s.cur, i32(KG)), ptr_value=s.pos + 1,
        added_at=jnp.where(take_line, p, jnp.where(applying, qa, none_p)),
        added_value=s.moves,
        lstamp_at=jnp.where(add, q, jnp.where(start_bundle, p, none_p)),
        lstamp_value=jnp.where(start_bundle, attempt, stamp),
        blist_at=jnp.where(add, s.bn, jnp.where(start_bundle, 0, none_p)),
        blist_value=jnp.where(start_bundle, p, q),
        bundle_at=jnp.where(add, cm, jnp.where(start_bundle, ci, none_kg)),
        btot_value=jnp.where(start_bundle, oq_p, old + oq_q),
        bts_value=jnp.broadcast_to(jnp.where(start_bundle, attempt, stamp), (K,)),
        cstamp_at=jnp.where(push, cm, jnp.where(closed0, ci, none_kg)),
        cstamp_value=jnp.where(start_bundle, attempt, stamp),
        stack_at=jnp.where(pushing, slots, i32(KG + K)),
        stack_value=jnp.where(start_bundle, ci, cm),
        dlist_at=jnp.where(defer, s.dn, none_p), dlist_value=q)

    # ---------------------------------------------------------------- registers
    spent = (s.spent + jnp.where(take_line, _at(cost, p), 0.0)
             + jnp.where(applying, _at(cost, qa), 0.0))
    moves = s.moves + (take_line | last_apply).astype(i32)
    bn = jnp.where(start_bundle, 1, s.bn + add.astype(i32))
    bcost = jnp.where(start_bundle, _at(cost, p),
                      s.bcost + jnp.where(add, _at(cost, q), 0.0))
    breward = jnp.where(start_bundle, _at(reward, p),
                        s.breward + jnp.where(add, _at(reward, q), 0.0))
    k, g = code // G, code % G
    cur = jnp.where(took, code, s.cur)
    pos = jnp.where(took, _at(s.ptr, code), s.pos + examine.astype(i32))
    end = jnp.where(took, _at(starts, k * (G + 1) + g + 1), s.end)
    second = jnp.where(popping, False, s.second | switch)
    dn = jnp.where(popping, 0, s.dn + defer.astype(i32))
    di = jnp.where(popping, 0, s.di + deferred_add.astype(i32))
    pop = jnp.where(start_bundle, True, jnp.where(popping, False, finish | s.pop))
    t = jnp.where(success, 0, s.t + applying.astype(i32))

    # phase transitions; p advances when a line is fully handled
    leave_bundle = (success & ~accept) | (short & ~rebuild)
    phase = jnp.where(finished, DONE, s.phase)
    phase = jnp.where(trigger, BUNDLE, phase)
    phase = jnp.where(accept, APPLY, phase)
    phase = jnp.where(leave_bundle | last_apply, SCAN, phase)
    advance = (scan & ~finished & ~trigger) | leave_bundle | last_apply
    return s._replace(phase=phase.astype(i32), p=s.p + advance.astype(i32), spent=spent,
                      moves=moves, attempt=attempt, sp=(sp + jnp.sum(pushing)).astype(i32),
                      cur=cur, pos=pos, end=end, second=second, dn=dn, di=di, pop=pop, bn=bn,
                      bcost=bcost, breward=breward, t=t, writes=writes)


def _scan_loop(arrays: ScanArrays, budget) -> ScanState:
    return lax.while_loop(lambda s: s.phase != DONE,
                          lambda s: _micro_step(arrays, budget, s), init_state(arrays))


def _as_one_kernel(fn):
    """``fn`` compiled, on CPU, as one kernel instead of one kernel per operation.

    XLA:CPU runs each fused operation of a loop body as a separate kernel (about 0.2 us
    of dispatch each), and a micro-step has about a hundred of them, while its real work
    is a few dozen scalar reads. A call that XLA may not inline (frontend attribute
    ``inlineable="false"``) and marks ``xla_cpu_small_call="true"`` is emitted by XLA:CPU as
    a single function (the path XLA itself uses for small while loops): the same
    operations, 20-40 times faster per micro-step. Other backends get a plain call."""
    inner = jax.jit(fn)

    def call(*args):
        out = inner(*args)
        if jax.default_backend() != "cpu":
            return out
        return set_xla_metadata(out, inlineable="false", xla_cpu_small_call="true")

    return call


_scan_kernel = _as_one_kernel(_scan_loop)


def _run_one(arrays: ScanArrays, budget):
    """The whole scan of one instance: a ``while_loop`` of micro-steps until DONE."""
    P = arrays.item.shape[-1]
    I = arrays.item_group.shape[-1]
    state = apply_writes(_scan_kernel(arrays, budget))
    return state.take[:I], state.added_at[:P], state.moves


def _run_many(arrays: ScanArrays, budgets):
    """A batch, one instance after another inside one compiled program (``lax.map``): the
    scan is sequential, and per-instance loops keep every index scalar (a ``vmap`` would turn
    each dynamic update into a scatter)."""
    return lax.map(lambda a: _run_one(a[0], a[1]), (arrays, budgets))


_run_batch = jax.jit(_run_many)


def run_scan(arrays: ScanArrays, budgets):
    """Run the scan of a padded batch, split over the local devices (``shard_map``: each
    device maps over its slice); returns ``(take [B, I], added_at [B, P], moves [B])``."""
    return jax.device_get(sharded(_run_many, "greedy")(arrays, budgets))



# ------------------------------------------------------------------ answers


class GreedyRun(NamedTuple):
    """Raw greedy output of one instance: final ``take`` (budget as given), the move number
    of each line (instance line order, ``-1`` = never taken) and the number of moves."""

    take: np.ndarray
    added_at: np.ndarray
    moves: int


MIN_SIZES = (64, 16, 2, 4)  # lines, items, families, groups: tiny instances share a compile


def prepare(instances: Sequence[Instance]):
    """Keys, orders and padded, stacked scan arrays of a batch."""
    keyed = [capped_keys(inst) for inst in instances]
    sizes = np.array([scan_sizes(inst) for inst in instances]).max(axis=0)
    sizes = tuple(bucket(int(s), low) for s, low in zip(sizes, MIN_SIZES))
    arrays = [scan_arrays(inst, order, key, sizes) for inst, (key, order) in zip(instances, keyed)]
    stacked = ScanArrays(*(np.stack(parts) for parts in zip(*arrays)))
    return keyed, stacked


@float64
def greedy_runs(instances: Sequence[Instance], budgets) -> tuple[list[GreedyRun], dict]:
    """Run the JAX scan on a batch; returns the runs and timing info
    (``prepare_seconds``, ``scan_seconds`` including compilation when it happens)."""
    began = time.perf_counter()
    keyed, stacked = prepare(instances)
    prepared = time.perf_counter()
    (stacked, budgets), _ = shard_batch((stacked, np.asarray(budgets, dtype=np.float64)))
    take, added_at, moves = run_scan(stacked, budgets)
    done = time.perf_counter()
    runs = []
    for b, (inst, (_, order)) in enumerate(zip(instances, keyed)):
        line_added = np.full(inst.n_lines, -1, np.int64)
        line_added[order] = added_at[b, :inst.n_lines]
        runs.append(GreedyRun(take[b, :inst.n_items].astype(np.int64), line_added,
                              int(moves[b])))
    return runs, {"prepare_seconds": prepared - began, "scan_seconds": done - prepared}


def cut_moves(instance: Instance, run: GreedyRun, mode: str, limit: float):
    """Target modes: the prefix of the move sequence (:func:`moqlab.core._kernel.target_cut`);
    returns ``(take, status, message)``."""
    taken = run.added_at >= 0
    move_target = np.bincount(run.added_at[taken], weights=instance.target[taken],
                              minlength=run.moves)
    count, status, message = target_cut(move_target, mode, limit)
    return take_after(instance, run, count), status, message


def take_after(instance: Instance, run: GreedyRun, count: int) -> np.ndarray:
    """Lines taken per item after the first ``count`` moves."""
    kept = (run.added_at >= 0) & (run.added_at < count)
    return np.bincount(instance.line_item, weights=kept,
                       minlength=instance.n_items).astype(np.int64)


def _answer(instance: Instance, run: GreedyRun, mode: str, limit: float, info: dict) -> Answer:
    info = {"moves": run.moves, **info}
    if mode == "budget":
        return Answer(budget_answer(instance, run.take, limit), "feasible", "", info)
    take, status, message = cut_moves(instance, run, mode, limit)
    return Answer(take, status, message, info)


@float64
def solve_jax_greedy_batch(instances: Sequence[Instance], mode: str, limits,
                           time_limit: float | None = None, **options) -> list[Answer]:
    """``jax-greedy`` on a batch (one compiled, vmapped scan; sharded over local devices when
    more than one local device is present, see :mod:`moqlab.core._sharding`)."""
    if options:
        raise TypeError(f"jax-greedy takes no options, got {sorted(options)}")
    instances = list(instances)
    if not instances:
        return []
    limits = np.broadcast_to(np.asarray(limits, dtype=np.float64), (len(instances),))
    budgets = limits if mode == "budget" else np.full(len(instances), np.inf)
    runs, info = greedy_runs(instances, budgets)
    info = {key: value / len(instances) for key, value in info.items()}
    return [_answer(inst, run, mode, float(lim), info)
            for inst, run, lim in zip(instances, runs, limits)]


def solve_jax_greedy(instance: Instance, mode: str, limit: float, **options) -> Answer:
    """``jax-greedy`` on one instance (a batch of one)."""
    return solve_jax_greedy_batch([instance], mode, [limit], **options)[0]
