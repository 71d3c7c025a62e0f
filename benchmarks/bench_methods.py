"""Time, peak memory and solution quality of every method, per size class.

``track_*`` benchmarks are written so that lower is better: the gap to the reference
optimum (mean and worst), the certified gap (``Result.gap``: how far the answer may be from
the optimum, as a user without the reference knows it; budget mode) and the share of
answers the verifier rejects.
"""

from __future__ import annotations

import math

import numpy as np

from . import common


class Methods:
    params = (common.METHODS, common.SIZES)
    param_names = ("method", "size")
    timeout = 900

    def setup_cache(self):
        return common.build_cases()

    def setup(self, cache, method, size):
        self.cases = common.cases_for(cache, method, size)
        if method in common.BATCH_METHODS:
            # Compile outside the measurement: JAX's jit cache then holds these shapes.
            common.solve_all(method, self.cases)

    def time_solve(self, cache, method, size):
        common.solve_all(method, self.cases)

    def peakmem_solve(self, cache, method, size):
        common.solve_all(method, self.cases)

    def track_gap_mean(self, cache, method, size):
        gaps = common.gaps(self.cases, common.solve_all(method, self.cases))
        gaps = gaps[~np.isnan(gaps)]
        return float(gaps.mean()) if gaps.size else math.nan

    track_gap_mean.unit = "relative gap"

    def track_gap_worst(self, cache, method, size):
        gaps = common.gaps(self.cases, common.solve_all(method, self.cases))
        gaps = gaps[~np.isnan(gaps)]
        return float(gaps.max()) if gaps.size else math.nan

    track_gap_worst.unit = "relative gap"

    def track_infeasible_rate(self, cache, method, size):
        results = common.solve_all(method, self.cases)
        return float(np.mean([not r.feasible for r in results]))

    track_infeasible_rate.unit = "share of instances"

    def track_certified_gap_mean(self, cache, method, size):
        certified = [r.gap for r in common.solve_all(method, self.cases) if r.gap is not None]
        return float(np.mean(certified)) if certified else math.nan

    track_certified_gap_mean.unit = "relative gap"
