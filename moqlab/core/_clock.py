"""Time limits for every method: a deadline that loops check between steps.

A method given ``time_limit`` stops at the first check after the deadline and returns the
best order it holds (verified like any answer) with status ``time_limit``; work that runs
as one compiled call is not interrupted, only the steps between such calls.

Example::

    >>> from moqlab.core._clock import Deadline
    >>> Deadline(None).passed(), Deadline(0.0).passed()
    (False, True)
"""

from __future__ import annotations

import math
import time

from ._options import Option

TIME_LIMIT_OPTION = Option(
    "time_limit", float, None, "seconds; None: no limit. A stopped run returns the best "
    "order it holds, status time_limit", minimum=0, strict=True, nullable=True)


class Deadline:
    """``passed()`` once ``seconds`` (``None``: never) have gone by since creation."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.at = math.inf if seconds is None else time.perf_counter() + float(seconds)
        self.stopped = False  # set by the loop that gave up because of it

    def passed(self) -> bool:
        return time.perf_counter() >= self.at

    def stop_if_passed(self) -> bool:
        """``passed()``, remembering that a loop stopped because of it."""
        if self.passed():
            self.stopped = True
        return self.stopped

    def message(self, what: str) -> str:
        return (f"the time limit ({self.seconds:g} s) stopped {what}; the order is the best "
                "found so far")
