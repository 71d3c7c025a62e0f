"""Error types of moqlab."""

from __future__ import annotations


class MOQInputError(ValueError):
    """A lines table (or a solve request) breaks a rule of the design note.

    The message names the row (1-based data row, as in the file), the column and the
    offending value, so that a user can fix the input without reading a traceback.
    ``row``, ``column`` and ``value`` are also kept as attributes (``None`` when the
    problem is not tied to one cell, e.g. a missing column).
    """

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None,
                 value=None, source: str | None = None):
        where = []
        if source:
            where.append(str(source))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None or row is not None:
            where.append(f"value {value!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.row = row
        self.column = column
        self.value = value
        self.source = source


class MOQSizeError(ValueError):
    """A method refuses an instance that is too large for it (e.g. ``enumerate``)."""
