"""Data shipped with moqlab, importable as ``moqlab.datasets`` (``pyproject.toml`` maps this
folder into the package, so a regular ``pip install .`` carries it): the example order
(``examples/``), the benchmark suite's manifest (``suite/``) and Pisinger's knapsack instances
(``pisinger/``, source in its README). The library finds them with ``importlib.resources``
(:func:`moqlab.dataset_path`)."""
