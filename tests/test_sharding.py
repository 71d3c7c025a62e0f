"""Sharding the batch over 4 (simulated) CPU devices does not change the answers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, sys
import jax
import moqlab
gen = [moqlab.generate.knapsack(8, kind="weak", seed=s, moq_groups=2) for s in range(5)]
insts = [g.instance for g in gen]
limits = [g.limit for g in gen]
out = {"devices": jax.device_count()}
for method, opts in [("jax-greedy", {}), ("search", {})]:
    res = moqlab.solve_batch(insts, method=method, budget=limits, **opts)
    out[method] = [[int(t) for t in r.take] for r in res]
    out[method + "-feasible"] = all(r.feasible for r in res)
print(json.dumps(out))
"""


def _run(devices: int) -> dict:
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # two fresh processes, each compiling both kernels (~150 s on 2 cores)
def test_four_devices_give_the_same_answers_as_one():
    one, four = _run(1), _run(4)
    assert one["devices"] == 1 and four["devices"] == 4
    for method in ("jax-greedy", "search"):
        assert four[method + "-feasible"] and one[method + "-feasible"]
        assert np.array_equal(np.array(one[method]), np.array(four[method])), method
