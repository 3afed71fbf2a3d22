"""Design-space exploration: sweep specs, search, executors, a resumable store, Pareto reports.

``cosim sweep SPEC.yaml`` reads a sweep (`cosim.dse.spec`), traces its workloads once, picks
designs (grid, random, or NSGA-II), evaluates the ones not yet stored on local processes, Ray
or Dask (`cosim.dse.executors`), and writes every result to DuckDB (`cosim.dse.store`).
``cosim report RESULTS.duckdb -o DIR`` draws Pareto fronts and per-op breakdowns and writes a
self-contained HTML report and the front as CSV (`cosim.dse.report`).

Every hardware model joins through its registry entry (`cosim.hw.MODELS`): axes are checked
against the model's spec dataclass, designs are built with `dataclasses.replace`, and a model
that offers `HardwareModel.simulate_totals` is evaluated through that fast path.
"""

from __future__ import annotations

from cosim.dse.pareto import pareto_mask
from cosim.dse.run import SweepSummary, run_sweep
from cosim.dse.spec import Objective, SweepSpec, load_sweep, sweep_from_mapping
from cosim.dse.store import Store

__all__ = [
    "Objective",
    "Store",
    "SweepSpec",
    "SweepSummary",
    "load_sweep",
    "pareto_mask",
    "run_sweep",
    "sweep_from_mapping",
]
