"""The laboratory: instance generators, the benchmark suite with known optima, the Pisinger
reader, the benchmark report and the decision-focused-learning experiment. It sits above the
methods and may use :func:`moqlab.solve`.

Example::

    >>> from moqlab import lab
    >>> lab.generate("stock", 5, seed=0).instance.n_items
    5
"""

from ..core._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "generate": "._generate", "knapsack": "._generate", "stock": "._generate",
    "stock_reward": "._generate", "Generated": "._generate", "FAMILIES": "._generate",
    "load_suite": "._suite", "SuiteCase": "._suite", "SIZES": "._suite",
    "read_pisinger": "._pisinger", "dataset_path": "._pisinger", "KnapsackCase": "._pisinger",
    "run_bench": "._bench", "run_experiment": "._dfl",
})
