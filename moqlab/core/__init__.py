"""The model and its guarantees: lines tables and instances, errors, the one verifier, the
result, the frontier rules, the shared kernel (tolerance, data grid), the padded layout of
the JAX methods, options, precision and sharding. Imports nothing above it.

Example::

    >>> from moqlab import core
    >>> inst = core.Instance.from_arrays(["a", "b"], [3.0, 2.0], [2.0, 2.0])
    >>> core.check(inst, [True, False], budget=2).feasible
    True
"""

from ._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "MOQInputError": "._errors", "MOQSizeError": "._errors",
    "Instance": "._instance", "Batch": "._instance", "Family": "._instance", "Capacity": "._instance",
    "read_lines": "._instance", "read_batch": "._instance",
    "check": "._check", "Check": "._check", "GroupViolation": "._check",
    "CapacityViolation": "._check", "capacity_totals": "._kernel",
    "without_ceilings": "._kernel",
    "Answer": "._result", "Result": "._result", "build_result": "._result", "MODES": "._result",
    "frontier_indices": "._frontier", "pick_target": "._frontier",
    "reduce_candidates": "._frontier",
    "TOLERANCE": "._kernel", "allowance": "._kernel", "moq_floor": "._kernel",
    "grid_step": "._kernel", "snap": "._kernel", "group_totals": "._kernel",
    "order_totals": "._kernel", "cumulative_table": "._kernel", "prefix_sums": "._kernel",
    "drop_short_groups": "._kernel", "lift_group": "._kernel",
    "DenseInstance": "._dense", "bucket": "._dense", "to_dense": "._dense",
    "stack_dense": "._dense", "same_shape_groups": "._dense",
    "Option": "._options", "float64": "._precision",
    "shard_batch": "._sharding", "device_count": "._sharding",
    "check_output_path": "._output", "write_atomic": "._output",
})
