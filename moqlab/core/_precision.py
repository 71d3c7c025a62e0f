"""float64 inside moqlab's own JAX calls, the user's JAX configuration left alone.

Totals are compared with the verifier's relative tolerance of 1e-9, which float32 cannot
meet, so moqlab's JAX solvers run in float64. They switch it on only for the duration of
their own calls (``jax.enable_x64`` is a thread-local context), never with
``jax.config.update``: importing or using moqlab does not change the precision of the
user's own JAX code.

Example::

    >>> import jax
    >>> from moqlab.core._precision import float64
    >>> @float64
    ... def zeros():
    ...     return jax.numpy.zeros(2).dtype
    >>> str(zeros()), jax.config.jax_enable_x64   # the user's setting is unchanged
    ('float64', False)
"""

from __future__ import annotations

import functools

import jax

try:  # jax >= 0.5 exposes the context manager at the top level
    _enable_x64 = jax.enable_x64
except AttributeError:  # pragma: no cover - older jax
    from jax.experimental import enable_x64 as _enable_x64


def float64(fn):
    """``fn`` run with JAX's float64 switched on for the duration of the call."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper
