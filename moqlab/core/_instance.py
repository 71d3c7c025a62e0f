"""The problem model: lines, items, MOQ families, capacity families; built from the lines
table.

An :class:`Instance` holds one purchase-order problem. Its lines are stored sorted by
item (in order of first appearance in the table) and, inside an item, by increasing
``min``: line ``j`` is step ``line_rank[j]`` (0-based) of item ``line_item[j]``. A
selection is valid when it is a per-item prefix, every MOQ group is either empty or at
least at its threshold, and every capacity group is at most at its ceiling (see
``docs/guide.md``).

Example::

    >>> import pandas as pd, moqlab
    >>> df = pd.DataFrame({"id": ["a", "a", "b"], "min": [1, 2, 1],
    ...                    "reward": [5.0, 1.0, 3.0], "cost": [2.0, 2.0, 1.0],
    ...                    "g0": ["s1", "s1", "s2"], "oq0": [1, 1, 1], "moq0": [2, 2, 0]})
    >>> inst = moqlab.Instance.from_frame(df)
    >>> inst.n_items, inst.n_lines, inst.n_families
    (2, 3, 1)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import MOQInputError

REQUIRED_COLUMNS = ("id", "min", "reward", "cost")
LABEL_COLUMNS = ("id", "instance")
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, "target", "instance")
_FAMILY_COLUMN = re.compile(r"^(g|oq|moq)(0|[1-9]\d*)$")
# what a family column might look like when mistyped: any case, a separator, leading zeros
_FAMILY_LIKE = re.compile(r"^(g|oq|moq|c|cq|cap)[\s_.-]*\d+$", re.IGNORECASE)
_CAPACITY_COLUMN = re.compile(r"^(c|cq|cap)(0|[1-9]\d*)$")


@dataclass(frozen=True, eq=False)
class Family:
    """One MOQ family: a partition of the items into groups with a threshold each.

    ``item_group[i]`` is the group of item ``i``; ``oq[j]`` the contribution of line ``j``
    (units or money); ``moq[g]`` the threshold of group ``g`` (0 = no minimum);
    ``labels[g]`` the group's label in the table.
    """

    item_group: np.ndarray
    oq: np.ndarray
    moq: np.ndarray
    labels: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.moq.shape[0])


@dataclass(frozen=True, eq=False)
class Capacity:
    """One capacity family (containers, shelf space): a partition of the items into groups
    with a ceiling each.

    ``item_group[i]`` is the group of item ``i``; ``cq[j]`` the contribution of line ``j``
    (volume, weight, pallets; >= 0); ``cap[g]`` the ceiling of group ``g``: a valid order
    has ``sum_{j in g} cq_j x_j <= cap_g`` whether the group is used or not; ``labels[g]``
    the group's label in the table.
    """

    item_group: np.ndarray
    cq: np.ndarray
    cap: np.ndarray
    labels: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.cap.shape[0])


@dataclass(frozen=True, eq=False)
class Instance:
    """One MOQ problem instance (see the module docstring for the layout).

    Attributes are read-only numpy arrays over lines (``reward``, ``cost``, ``target``,
    ``line_item``, ``line_rank``, ``line_min``, ``rows``) and over items (``items``), plus a
    tuple of :class:`Family` (MOQ families) and a tuple of :class:`Capacity` (capacity
    families, often empty). ``rows[j]`` is the 0-based position of line ``j`` in the table
    it was read from, so that answers map back to the user's rows.
    """

    items: np.ndarray
    line_item: np.ndarray
    line_rank: np.ndarray
    line_min: np.ndarray
    reward: np.ndarray
    cost: np.ndarray
    target: np.ndarray
    families: tuple[Family, ...]
    rows: np.ndarray
    name: str | None = None
    capacities: tuple[Capacity, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_items(self) -> int:
        return int(self.items.shape[0])

    @property
    def n_lines(self) -> int:
        return int(self.reward.shape[0])

    @property
    def n_families(self) -> int:
        return len(self.families)

    @property
    def n_capacities(self) -> int:
        return len(self.capacities)

    @property
    def item_start(self) -> np.ndarray:
        """Offsets: lines of item ``i`` are ``item_start[i]:item_start[i + 1]``."""
        if "item_start" not in self._cache:
            counts = np.bincount(self.line_item, minlength=self.n_items)
            self._cache["item_start"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return self._cache["item_start"]

    @property
    def item_length(self) -> np.ndarray:
        """Number of lines of each item."""
        return np.diff(self.item_start)

    def __repr__(self) -> str:
        capacities = f", capacities={self.n_capacities}" if self.capacities else ""
        return (f"Instance(name={self.name!r}, items={self.n_items}, lines={self.n_lines}, "
                f"families={self.n_families}{capacities})")

    # ------------------------------------------------------------- selections
    def selection_from_take(self, take) -> np.ndarray:
        """Boolean per line from the number of lines taken per item (a prefix)."""
        take = np.asarray(take, dtype=np.int64)
        return self.line_rank < take[self.line_item]

    def take_from_selection(self, selected) -> np.ndarray:
        """Number of selected lines per item (meaningful when ``selected`` is a prefix)."""
        selected = np.asarray(selected, dtype=bool)
        return np.bincount(self.line_item, weights=selected, minlength=self.n_items).astype(np.int64)

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_arrays(cls, item, reward, cost, target=None, *, min=None, families=(),
                    capacities=(), name=None) -> Instance:
        """Build an instance from arrays over lines, validated like a table.

        ``item``: item id per line; ``min``: rank per line (defaults to order of
        appearance inside the item); ``families``: a sequence of ``(group, oq, moq)`` triples
        of per-line arrays; ``capacities``: a sequence of ``(group, cq, cap)`` triples.
        Example::

            >>> import moqlab
            >>> inst = moqlab.Instance.from_arrays(["a", "b"], [3.0, 2.0], [1.0, 1.0])
            >>> inst.n_items
            2
        """
        item = np.asarray(item)
        n = item.shape[0]
        if min is None:
            min = pd.Series(np.zeros(n)).groupby(pd.Series(item)).cumcount().to_numpy() + 1
        columns = {"id": item, "min": min, "reward": reward, "cost": cost}
        if target is not None:
            columns["target"] = target
        for k, (group, oq, moq) in enumerate(families):
            columns[f"g{k}"] = group
            columns[f"oq{k}"] = oq
            columns[f"moq{k}"] = moq
        for k, (group, cq, cap) in enumerate(capacities):
            columns[f"c{k}"] = group
            columns[f"cq{k}"] = cq
            columns[f"cap{k}"] = cap
        frame = pd.DataFrame({key: np.asarray(value) if np.ndim(value) else np.full(n, value)
                              for key, value in columns.items()})
        return cls.from_frame(frame, name=name)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, name=None, source=None) -> Instance:
        """Build one instance from a lines table (a DataFrame in the CSV layout).

        Raises :class:`MOQInputError` naming row, column and value for any broken rule. A
        table whose ``instance`` column holds several ids is refused: use
        :meth:`Batch.from_frame`.
        """
        batch = Batch.from_frame(frame, source=source)
        if len(batch) != 1:
            raise MOQInputError(
                f"the table holds {len(batch)} instances (column 'instance'); "
                "use moqlab.read_batch / Batch.from_frame to solve them as a batch",
                column="instance", source=source)
        inst = batch[0]
        if name is not None:
            inst = dataclasses.replace(inst, name=name, _cache={})
        return inst

    def to_frame(self) -> pd.DataFrame:
        """The lines table of this instance (lines in instance order)."""
        data = {"id": self.items[self.line_item], "min": self.line_min,
                "reward": self.reward, "cost": self.cost, "target": self.target}
        for k, fam in enumerate(self.families):
            data[f"g{k}"] = fam.labels[fam.item_group[self.line_item]]
            data[f"oq{k}"] = fam.oq
            data[f"moq{k}"] = fam.moq[fam.item_group[self.line_item]]
        for k, capacity in enumerate(self.capacities):
            data[f"c{k}"] = capacity.labels[capacity.item_group[self.line_item]]
            data[f"cq{k}"] = capacity.cq
            data[f"cap{k}"] = capacity.cap[capacity.item_group[self.line_item]]
        frame = pd.DataFrame(data)
        if self.name is not None:
            frame.insert(0, "instance", self.name)
        return frame


class Batch(Sequence):
    """Several instances read from one table (its ``instance`` column), in order of first
    appearance. ``n_rows`` is the length of the table, so per-row answers map back."""

    def __init__(self, instances: Sequence[Instance], n_rows: int):
        self.instances = tuple(instances)
        self.n_rows = int(n_rows)

    def __len__(self) -> int:
        return len(self.instances)

    def __getitem__(self, index):
        return self.instances[index]

    def __repr__(self) -> str:
        lines = sum(inst.n_lines for inst in self.instances)
        return f"Batch(instances={len(self)}, lines={lines})"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source=None) -> Batch:
        """Validate a lines table and split it into instances (see :func:`validate_frame`)."""
        return _build(frame, source)

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([inst.to_frame() for inst in self.instances], ignore_index=True)


# ------------------------------------------------------------------ reading


def read_lines(path, **read_csv_kwargs) -> Instance:
    """Read a lines CSV holding one instance. Errors name the file, row and column.

    Example::

        >>> import moqlab
        >>> inst = moqlab.read_lines("datasets/examples/order.csv")  # doctest: +SKIP
    """
    frame = read_table(path, **read_csv_kwargs)
    return Instance.from_frame(frame, source=str(path))


def read_batch(path, **read_csv_kwargs) -> Batch:
    """Read a lines CSV holding one or several instances (column ``instance``)."""
    frame = read_table(path, **read_csv_kwargs)
    return Batch.from_frame(frame, source=str(path))


def read_table(path, **kwargs) -> pd.DataFrame:
    """A lines CSV as a DataFrame, labels kept as written (no validation: see
    :meth:`Batch.from_frame`); errors name the file."""
    path = Path(path)
    if not path.exists():
        raise MOQInputError(f"no such file: {path}")
    if not path.is_file():
        raise MOQInputError(f"not a file: {path} (a lines table is one CSV file)")
    kwargs.setdefault("keep_default_na", True)
    try:
        if "dtype" not in kwargs:
            # labels are kept exactly as written ('01' and '1' are two groups): read the
            # header first to learn which columns hold labels
            header = pd.read_csv(path, nrows=0, **kwargs).columns
            kwargs["dtype"] = {column: str for column in header if _is_label_column(column)}
        frame = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise MOQInputError("the file is empty: a lines table needs a header and rows",
                            source=str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise MOQInputError(f"not a readable CSV ({exc})", source=str(path)) from None
    return frame


# --------------------------------------------------------------- validation


def _canonical(column) -> str:
    """The name moqlab reads a column by: known names in any case (``Id``, ``MOQ0``) in
    lower case, other columns as written (stripped)."""
    name = str(column).strip()
    lower = name.lower()
    return lower if lower in KNOWN_COLUMNS or _FAMILY_LIKE.match(lower) else name


def _is_label_column(column) -> bool:
    name = _canonical(column)
    return name in LABEL_COLUMNS or re.match(r"^[gc](0|[1-9]\d*)$", name) is not None


def _normalized_columns(columns, source) -> list[str]:
    """Column names as moqlab reads them; refuses duplicates and columns that look like
    family columns but are not spelled ``g{k}``, ``oq{k}``, ``moq{k}``."""
    names = [_canonical(column) for column in columns]
    seen: dict[str, str] = {}
    for original, name in zip(columns, names):
        if name in seen:
            raise MOQInputError(f"column {name!r} appears twice (as {seen[name]!r} and "
                                f"{str(original).strip()!r}); keep one", column=name,
                                source=source)
        seen[name] = str(original).strip()
    for original, name in zip(columns, names):
        base, dot, copy = name.rpartition(".")
        if dot and copy.isdigit() and _canonical(base) in seen and (
                _canonical(base) in KNOWN_COLUMNS or _FAMILY_LIKE.match(_canonical(base))):
            raise MOQInputError(f"column {_canonical(base)!r} appears twice (the CSV reader "
                                f"named the second one {name!r}); keep one", column=name,
                                source=source)
        if (_FAMILY_LIKE.match(name) and not _FAMILY_COLUMN.match(name)
                and not _CAPACITY_COLUMN.match(name)):
            kind = ("a capacity family column but is not spelled c{k}, cq{k} or cap{k}"
                    if name.startswith("c") else "an MOQ family column but is not spelled "
                    "g{k}, oq{k} or moq{k}")
            raise MOQInputError(f"looks like {kind} with k = 0, 1, 2... (no separator, no "
                                "leading zero)", column=str(original), source=source)
    return names




def _family_indices(columns, source, pattern=_FAMILY_COLUMN, prefixes=("g", "oq", "moq"),
                    kind="MOQ") -> int:
    """How many families of one kind (MOQ: ``g/oq/moq``; capacity: ``c/cq/cap``) the
    columns hold, refusing gaps and incomplete triples."""
    found: dict[str, set[int]] = {prefix: set() for prefix in prefixes}
    for column in columns:
        match = pattern.match(str(column))
        if match:
            found[match.group(1)].add(int(match.group(2)))
    every = set().union(*found.values())
    if not every:
        return 0
    n = max(every) + 1
    for k in range(n):
        for prefix in prefixes:
            if k not in found[prefix]:
                present = sorted(every)
                names = ", ".join(f"{p}{k}" for p in prefixes[:-1]) + f" and {prefixes[-1]}{k}"
                raise MOQInputError(
                    f"{kind} families must be numbered from 0 without gaps and each needs "
                    f"{names}; column '{prefix}{k}' is missing (families seen: {present})",
                    column=f"{prefix}{k}", source=source)
    return n


def _numeric(frame: pd.DataFrame, column: str, source) -> np.ndarray:
    """A column of plain real numbers (numbers, or text that reads as one) as float64.
    Booleans, dates, durations and complex numbers are refused, not converted."""
    raw = frame[column]
    kind = raw.dtype.kind
    if kind in "biufO" or pd.api.types.is_string_dtype(raw.dtype):
        not_plain = np.zeros(len(raw), dtype=bool)
        if kind == "b":
            not_plain[:] = True
        elif kind == "O" or pd.api.types.is_string_dtype(raw.dtype):
            not_plain = np.fromiter((not _plain_number(v) for v in raw.to_numpy(dtype=object)),
                                    dtype=bool, count=len(raw))
        _fail_where(not_plain, raw.to_numpy(dtype=object), column,
                    f"is not a plain number; every {column!r} must be a number", source)
    else:  # datetime, timedelta, complex, categorical, ...
        _fail_where(np.ones(len(raw), dtype=bool), raw.to_numpy(dtype=object), column,
                    f"is not a plain number (column type {raw.dtype}); every {column!r} "
                    "must be a number", source)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = raw.iloc[row]
        what = "is missing" if pd.isna(value) else "is not a finite number"
        raise MOQInputError(f"{what}; every {column!r} must be a finite number",
                            row=row + 1, column=column, value=_plain(value), source=source)
    with np.errstate(over="ignore"):
        total = np.abs(values).sum()
    if not np.isfinite(total):
        raise MOQInputError(f"values too large: the total of {column!r} overflows the "
                            "floating-point range; rescale the column", column=column,
                            source=source)
    return values


def _plain_number(value) -> bool:
    """A real number (not a bool), a string, or missing: what a numeric cell may hold."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating, str)):
        return True
    return value is None or value is pd.NA


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _fail_where(mask: np.ndarray, values: np.ndarray, column: str, message: str, source):
    if mask.any():
        row = int(np.flatnonzero(mask)[0])
        raise MOQInputError(message, row=row + 1, column=column, value=_plain(values[row]),
                            source=source)


def _check_labels(frame: pd.DataFrame, column: str, source) -> np.ndarray:
    raw = frame[column]
    missing = raw.isna().to_numpy()
    _fail_where(missing, raw.to_numpy(dtype=object), column,
                f"is missing; every line needs a {column!r}", source)
    return raw.astype(str).to_numpy(dtype=object)


def _first_disagreement(keys: np.ndarray, values: np.ndarray) -> int | None:
    """Row index of the first value differing from the first value of its key, if any."""
    codes, first = pd.factorize(keys)[0], None
    first = np.full(codes.max() + 1, -1, dtype=np.int64)
    order = np.arange(codes.shape[0])[::-1]
    first[codes[order]] = order  # last write wins -> earliest row per key
    differs = values != values[first[codes]]
    if differs.any():
        return int(np.flatnonzero(differs)[0])
    return None


def _pair_key(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """One int64 per (outer, inner) pair of non-negative codes, equal iff both are equal."""
    inner = np.asarray(inner, dtype=np.int64)
    return outer * (int(inner.max(initial=0)) + 1) + inner


def _build(frame: pd.DataFrame, source) -> Batch:
    if not isinstance(frame, pd.DataFrame):
        raise MOQInputError(f"expected a pandas DataFrame, got {type(frame).__name__}",
                            source=source)
    frame = frame.reset_index(drop=True)
    frame.columns = _normalized_columns(list(frame.columns), source)
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            raise MOQInputError(
                f"required column {column!r} is missing (columns present: {list(frame.columns)})",
                column=column, source=source)
    if len(frame) == 0:
        raise MOQInputError("the table has no rows", source=source)
    n_families = _family_indices(frame.columns, source)
    n_capacities = _family_indices(frame.columns, source, _CAPACITY_COLUMN,
                                   ("c", "cq", "cap"), "capacity")

    item = _check_labels(frame, "id", source)
    if "instance" in frame.columns:
        instance = _check_labels(frame, "instance", source)
    else:
        instance = np.full(len(frame), "", dtype=object)
    rank_value = _numeric(frame, "min", source)
    reward = _numeric(frame, "reward", source)
    cost = _numeric(frame, "cost", source)
    if "target" in frame.columns:
        target = _numeric(frame, "target", source)
        _fail_where(target < 0, target, "target", "must be >= 0", source)
    else:
        target = cost.copy()
        _fail_where(target < 0, target, "cost",
                    "is negative and there is no 'target' column (target defaults to cost "
                    "and must be >= 0): add a 'target' column", source)

    # (instance, item) pairs as integer keys: factorize each label once and combine the
    # codes, which identifies the same pairs as joining the strings, at a fraction of the cost
    instance_code = pd.factorize(instance)[0].astype(np.int64)
    item_key = _pair_key(instance_code, pd.factorize(item)[0])
    duplicate = pd.DataFrame({"k": item_key, "m": rank_value}).duplicated(keep="first").to_numpy()
    _fail_where(duplicate, rank_value, "min",
                "is repeated for the same item; 'min' must be unique within an item", source)

    families = [_family_columns(frame, source, item, item_key, instance_code, f"g{k}",
                                f"oq{k}", f"moq{k}", f"family {k}", "thresholds",
                                positive=True) for k in range(n_families)]
    capacities = [_family_columns(frame, source, item, item_key, instance_code, f"c{k}",
                                  f"cq{k}", f"cap{k}", f"capacity family {k}", "ceilings",
                                  positive=False) for k in range(n_capacities)]

    instances = []
    instance_codes, instance_names = pd.factorize(instance)
    for code, inst_name in enumerate(instance_names):
        rows = np.flatnonzero(instance_codes == code)
        instances.append(_make_instance(
            rows, item[rows], rank_value[rows], reward[rows], cost[rows], target[rows],
            [(g[rows], oq[rows], moq[rows]) for g, oq, moq in families],
            None if "instance" not in frame.columns else str(inst_name),
            [(c[rows], cq[rows], cap[rows]) for c, cq, cap in capacities]))
    return Batch(instances, len(frame))


def _partition(group, values, limit, order, first_line):
    """One family in instance line order: each item's group (read on its first line), the
    lines' contributions, each group's threshold or ceiling, and the group labels."""
    codes, labels = pd.factorize(group[order])
    per_group = np.zeros(len(labels))
    per_group[codes] = limit[order]
    return (codes[first_line].astype(np.int64),
            np.ascontiguousarray(values[order], dtype=np.float64), per_group,
            np.asarray(labels, dtype=object))


def _family_columns(frame, source, item, item_key, instance_code, label: str, part: str,
                    limit: str, kind: str, limits: str, positive: bool):
    """One family's three columns, checked: group labels, contributions (``> 0`` for an MOQ
    family, ``>= 0`` for a capacity family), the group's threshold or ceiling (``>= 0``, the
    same on every line of the group), every line of an item in one group."""
    group = _check_labels(frame, label, source)
    values = _numeric(frame, part, source)
    bound = _numeric(frame, limit, source)
    if positive:
        _fail_where(values <= 0, values, part, "must be > 0", source)
    else:
        _fail_where(values < 0, values, part, "must be >= 0", source)
    _fail_where(bound < 0, bound, limit, "must be >= 0", source)
    group_code = pd.factorize(group)[0]
    row = _first_disagreement(item_key, group_code)
    if row is not None:
        raise MOQInputError(
            f"item {item[row]!r} is split across groups of {kind}; all lines of an item "
            f"must be in the same group", row=row + 1, column=label, value=group[row],
            source=source)
    row = _first_disagreement(_pair_key(instance_code, group_code), bound)
    if row is not None:
        raise MOQInputError(
            f"group {group[row]!r} of {kind} has different {limits} on different lines; "
            f"'{limit}' must be identical on every line of a group",
            row=row + 1, column=limit, value=_plain(bound[row]), source=source)
    return group, values, bound


def _make_instance(rows, item, rank_value, reward, cost, target, families, name,
                   capacities=()) -> Instance:
    item_codes, item_ids = pd.factorize(item)
    order = np.lexsort((rank_value, item_codes))
    line_item = item_codes[order].astype(np.int64)
    counts = np.bincount(line_item, minlength=len(item_ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    line_rank = np.arange(line_item.shape[0]) - starts[line_item]
    first_line = starts  # first line (sorted order) of each item, to read its group
    fams = [Family(*_partition(group, oq, moq, order, first_line))
            for group, oq, moq in families]
    caps = [Capacity(*_partition(group, cq, cap, order, first_line))
            for group, cq, cap in capacities]
    arrays = dict(items=np.asarray(item_ids, dtype=object), line_item=line_item,
                  line_rank=line_rank.astype(np.int64),
                  line_min=rank_value[order], reward=reward[order], cost=cost[order],
                  target=target[order], rows=np.asarray(rows)[order].astype(np.int64))
    for value in arrays.values():
        value.setflags(write=False)
    return Instance(**arrays, families=tuple(fams), name=name, capacities=tuple(caps))
