"""Roofline accelerator: each op takes max(compute time, memory time) plus a fixed overhead.

The simplest model that says something true about a workload: an op is compute-bound when
its arithmetic intensity exceeds peak_flops / bandwidth, memory-bound otherwise.  It assumes
every op streams its compulsory traffic (`Op.bytes_read` + `Op.bytes_written`) from DRAM once
and that compute runs at peak; refined models (systolic, GPU, PIM) replace both assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cosim.graph import WorkloadGraph
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.spec import doc_field


@dataclass(frozen=True)
class Spec:
    """A compute peak, a memory bandwidth and per-op overhead."""

    name: str
    peak_flops_per_s: float = doc_field(doc="peak compute, FLOP/s", gt=0)
    dram_bytes_per_s: float = doc_field(doc="sustained DRAM bandwidth, bytes/s", gt=0)
    clock_hz: float = doc_field(1e9, doc="clock used to express times in cycles", gt=0)
    op_overhead_s: float = doc_field(0.0, doc="fixed time per op (launch, sync)", min=0)
    energy_per_flop_j: float = doc_field(0.0, doc="energy per FLOP", min=0)
    energy_per_dram_byte_j: float = doc_field(0.0, doc="energy per DRAM byte", min=0)
    description: str = ""


def simulate_op_seconds(spec: Spec, flops: int, dram_bytes: int) -> tuple[float, Bound]:
    """Roofline time of one op and what bounds it."""
    t_c = flops / spec.peak_flops_per_s
    t_m = dram_bytes / spec.dram_bytes_per_s
    bound = Bound.COMPUTE if t_c >= t_m else Bound.MEMORY
    t = max(t_c, t_m)
    if spec.op_overhead_s > t:
        bound = Bound.LATENCY
    return t + spec.op_overhead_s, bound


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    results = []
    for op in graph.ops:
        t, bound = simulate_op_seconds(spec, op.flops, op.bytes_total)
        e_c = op.flops * spec.energy_per_flop_j
        e_m = op.bytes_total * spec.energy_per_dram_byte_j
        util = (op.flops / spec.peak_flops_per_s) / t if t > 0 else 0.0
        results.append(
            OpResult(
                op=op,
                cycles=math.ceil(t * spec.clock_hz),
                seconds=t,
                energy_j=e_c + e_m,
                utilization=util,
                bound=bound,
                unit="roofline",
                energy_by_component_j={"compute": e_c, "dram": e_m},
                bytes_by_level={"dram": op.bytes_total},
            )
        )
    return RunResult(arch=spec.name, workload=graph.title, ops=tuple(results), clock_hz=spec.clock_hz)
