# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Batched and accelerated solving
#
# moqlab's JAX methods (`jax-greedy`, `search`, `relax`) solve **many instances in one
# compiled call**: instances are padded into dense `[items, lines]` arrays bucketed to powers
# of two (`moqlab.stack_dense`), and a single-instance function is mapped over the batch with
# `jax.jit(jax.vmap(...))`. The same code runs on a CPU, a GPU or a TPU.
#
# This notebook times throughput against batch size (compile time kept apart), reads the
# report of `moqlab bench`, and shows how to use a GPU or several devices.
#
# Set `MOQLAB_DEMO_DEVICES=2` to have XLA simulate two CPU devices (before JAX starts) and
# watch the batched methods shard over them; on a machine with accelerators, leave it unset.

# %%
import os

if os.environ.get("MOQLAB_DEMO_DEVICES"):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count="
                               + os.environ["MOQLAB_DEMO_DEVICES"])

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import pandas as pd

import moqlab
from moqlab.lab._bench import (BATCH_METHODS, bench_cases, draw_throughput, suite_sizes, throughput,
                               throughput_cases)

SMALL = os.environ.get("MOQLAB_SMALL") == "1"
ROOT = Path(moqlab.__file__).resolve().parent.parent
print("JAX backend:", jax.default_backend(), "devices:", jax.devices())
batched = [m for m in moqlab.methods() if m in BATCH_METHODS]
print("batched methods here:", batched)

# %% [markdown]
# ## One call, many instances

# %%
size = suite_sizes()[0] if SMALL else suite_sizes()[min(1, len(suite_sizes()) - 1)]
cases = throughput_cases(bench_cases(size))
instances = [c.instance for c in cases]
budgets = [c.limit for c in cases]
method = "jax-greedy" if "jax-greedy" in batched else "greedy"

start = time.perf_counter()
first = moqlab.solve_batch(instances, budget=budgets, method=method)
compile_and_run = time.perf_counter() - start
start = time.perf_counter()
results = moqlab.solve_batch(instances, budget=budgets, method=method)
run = time.perf_counter() - start
print(f"{method}: {len(instances)} {size} instances; first call {compile_and_run:.2f}s "
      f"(compiles), second call {run:.4f}s; all verified feasible: "
      f"{all(r.feasible for r in results)}")

# %% [markdown]
# ## Throughput against batch size
#
# Each batch size is a new shape, so it is compiled once by a warm-up call; the best of the
# timed calls is kept. Compile time is reported apart (`compile_seconds`).

# %%
sizes = [1, 4] if SMALL else [1, 4, 16, 64, 256]
timed = ("greedy", "jax-greedy") if SMALL else ("greedy", "jax-greedy", "search")
rows = []
for m in [m for m in timed if m in moqlab.methods()]:
    rows += throughput(m, cases, sizes, repeats=1 if SMALL else 3)
live = pd.DataFrame(rows)
live.round(4)

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.5))
draw_throughput(ax, live)
ax.set_title(f"{size} instances, {jax.default_backend()}")
plt.show()

# %% [markdown]
# The report's measurements (`paper/results/throughput.csv`, written by `moqlab bench` on
# the machine it names):

# %%
recorded = ROOT / "paper" / "results" / "throughput.csv"
if recorded.exists():
    display(pd.read_csv(recorded).round(4))
else:
    print("no recorded report yet: run `moqlab bench`")

# %% [markdown]
# ## Using a GPU
#
# Install the JAX build for your accelerator in the same environment, e.g.
# `pip install -U "jax[cuda12]"` (NVIDIA) -- moqlab itself needs no change: its JAX code
# runs on `jax.default_backend()`, and `jax.devices()` lists the GPU. The batched methods
# then place the padded batch on the default device. Two rules of thumb:
#
# * batch **many** instances per call (thousands): a GPU pays off when the batch keeps it
#   busy; the bucketing to powers of two keeps the number of compiled shapes small;
# * keep instances of a batch of **similar size**: the batch is padded to its largest member.
#
# `JAX_PLATFORMS=cpu` forces the CPU, to compare.
#
# ## Several devices
#
# Nothing to do on one host: the batched methods (`jax-greedy`, `search`) shard the batch
# axis over every device `jax.local_devices()` reports (`moqlab.core._sharding`: the batch is
# padded to a multiple of the device count and placed with a `NamedSharding`; lanes never
# interact, so the answers do not depend on the number of devices). Several hosts: start
# one process per host, call `jax.distributed.initialize(...)` before importing moqlab,
# give each process its share of the instances (`instances[r::N]`) and gather the results
# with your own I/O.
#
# To pin work to one device instead (e.g. two independent job streams on two GPUs), solve
# under `jax.default_device(d)`, one thread per device; here on the devices this kernel has.

# %%
def solve_on_devices(instances, budgets, method, devices):
    chunks = [(instances[k::len(devices)], budgets[k::len(devices)]) for k in range(len(devices))]

    def one(args):
        device, (insts, lims) = args
        with jax.default_device(device):
            return moqlab.solve_batch(insts, budget=lims, method=method)

    with ThreadPoolExecutor(len(devices)) as pool:
        parts = list(pool.map(one, zip(devices, chunks)))
    out = [None] * len(instances)          # back in input order
    for k, part in enumerate(parts):
        out[k::len(devices)] = part
    return out


many = (instances * 16)[: 8 if SMALL else 64]
many_budgets = (budgets * 16)[: len(many)]
together = moqlab.solve_batch(many, budget=many_budgets, method=method)
pinned = solve_on_devices(many, many_budgets, method, jax.local_devices())
print(f"{len(many)} instances, {len(jax.local_devices())} local device(s); same answers "
      f"either way: {[a.reward for a in pinned] == [r.reward for r in together]}")
