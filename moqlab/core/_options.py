"""Options a method declares, in the scipy.optimize style: name, type, default, one line.

Each method module declares a tuple of :class:`Option`; :func:`moqlab.solve` checks every
option given against it (unknown names and values of the wrong type or range are a
:class:`MOQInputError`, never a traceback) and :func:`moqlab.show_options` prints it.

Example::

    >>> from moqlab.core._options import Option, checked
    >>> spec = (Option("time_limit", float, 300.0, "seconds for the whole call", minimum=0,
    ...                strict=True, nullable=True),)
    >>> checked("milp", spec, {"time_limit": 5})
    {'time_limit': 5.0}
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

from ._errors import MOQInputError


class Option(NamedTuple):
    """One keyword option of a method.

    ``type`` is ``float``, ``int``, ``bool`` or ``str``; ``minimum`` bounds numbers from
    below (``strict``: the value must exceed it); ``choices`` lists the allowed strings;
    ``nullable`` lets ``None`` through (meaning: no limit / the method's own choice)."""

    name: str
    type: type
    default: object
    doc: str
    minimum: float | None = None
    strict: bool = False
    choices: tuple = ()
    nullable: bool = False

    def check(self, value, method: str):
        """``value`` converted to the option's type, or :class:`MOQInputError`."""
        if value is None and self.nullable:
            return None
        wrong = MOQInputError(f"method {method!r}: option {self.name!r} takes "
                              f"{self.describe()}, got {value!r}")
        if self.type is bool:
            if not isinstance(value, bool):
                raise wrong
            return value
        if self.type is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise wrong
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise wrong
        if self.type is int:
            if not isinstance(value, numbers.Integral):
                raise wrong
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise wrong
        if self.minimum is not None and (value < self.minimum or
                                         (self.strict and value == self.minimum)):
            raise wrong
        return value

    def describe(self) -> str:
        """What the option accepts, in words."""
        if self.type is str:
            text = "one of " + ", ".join(repr(c) for c in self.choices) if self.choices \
                else "a string"
        elif self.type is bool:
            text = "True or False"
        else:
            text = "an integer" if self.type is int else "a finite number"
            if self.minimum is not None:
                text += f" {'>' if self.strict else '>='} {self.minimum:g}"
        return text + (" or None" if self.nullable else "")


def checked(method: str, spec: tuple[Option, ...], given: dict) -> dict:
    """``given`` with every value checked against ``spec``; unknown names are refused."""
    by_name = {option.name: option for option in spec}
    out = {}
    for name, value in given.items():
        if name not in by_name:
            raise MOQInputError(f"method {method!r} takes no option {name!r} (its options: "
                                f"{', '.join(by_name) or 'none'})")
        out[name] = by_name[name].check(value, method)
    return out


def table(method: str, spec: tuple[Option, ...]) -> str:
    """The options of ``method`` as text, one per line (what ``show_options`` prints)."""
    if not spec:
        return f"{method}: no options"
    lines = [f"{method}:"]
    for option in spec:
        lines.append(f"  {option.name} ({option.describe()}; default {option.default!r})")
        lines.append(f"      {option.doc}")
    return "\n".join(lines)
