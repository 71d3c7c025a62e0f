"""Lazy re-exports for the subpackages' public faces: a name is imported from its private
module on first use, so that importing, say, the exact solvers does not load JAX."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, names: dict[str, str]):
    """``(__getattr__, __dir__)`` for a package whose public ``names`` map to private
    modules (relative to ``package``)."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name], package), name)
        globals_of(package)[name] = value
        return value

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__


def globals_of(package: str) -> dict:
    return vars(importlib.import_module(package))
