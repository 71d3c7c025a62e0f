"""Public namespace of the instance generators: ``moqlab.generate.knapsack(...)``,
``moqlab.generate.stock(...)`` (see :mod:`moqlab.lab._generate` for the families).

Example::

    >>> import moqlab
    >>> gen = moqlab.generate.stock(10, seed=0)
    >>> gen.instance.n_items
    10
"""

from .lab._generate import (DEMAND_KINDS, KNAPSACK_KINDS, PRICE_BREAKS, STOCK_MOQ_FAMILIES,
                        Generated, generate, knapsack, stock, stock_reward, unconstrained_take)

__all__ = ["DEMAND_KINDS", "KNAPSACK_KINDS", "PRICE_BREAKS", "STOCK_MOQ_FAMILIES", "Generated",
           "generate", "knapsack", "stock", "stock_reward", "unconstrained_take"]
