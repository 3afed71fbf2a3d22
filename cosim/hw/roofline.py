"""Roofline accelerator: each op takes max(compute time, memory time) plus a fixed overhead.

The simplest model that says something true about a workload: an op is compute-bound when
its arithmetic intensity exceeds peak_flops / bandwidth, memory-bound otherwise.  It assumes
every op streams its compulsory traffic (`Op.bytes_read` + `Op.bytes_written`) from DRAM once
and that compute runs at peak; refined models (systolic, GPU, PIM) replace both assumptions.

Energy per op, under the shared component names (`cosim.cost.Component`): ``mac`` = FLOPs of
GEMM-like and attention ops x ``energy_per_flop_j``, or, when that is 0, half a MAC of the op's
dtype from the cost library at ``tech_node``; ``vector`` = other FLOPs x the same override or an
add of the op's dtype; ``dram`` = compulsory bytes x ``energy_per_dram_byte_j`` or the cost
library's ``dram_kind``; ``static`` = ``static_power_w`` x time (0 by default: not modelled).
Area: ``area_mm2`` when given (a published figure), else the MAC array the peak implies,
peak_flops / (2 x clock) MACs of ``compute_dtype`` (cost library), with nothing else on chip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cosim import cost
from cosim.graph import FUSED_ATTENTION_KINDS, Op, WorkloadGraph
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
    energy_per_flop_j: float = doc_field(0.0, doc="energy per FLOP; 0: the cost library's MAC/add at tech_node", min=0)
    energy_per_dram_byte_j: float = doc_field(0.0, doc="energy per DRAM byte; 0: the cost library's dram_kind", min=0)
    tech_node: str = doc_field("7nm", doc="cost-library node for energy and built-up area (A100 preset: TSMC N7)")
    dram_kind: str = doc_field("hbm2", doc="memory kind for DRAM energy (cosim.cost.DramKind)")
    compute_dtype: str = doc_field("float16", doc="MAC type of the built-up area (torch name)")
    static_power_w: float = doc_field(0.0, doc="static power added over the run time (0: not modelled)", min=0)
    area_mm2: float | None = doc_field(None, doc="published area (mm^2); none: the MAC array the peak implies", gt=0)
    description: str = ""

    def __post_init__(self) -> None:
        cost.get_node(self.tech_node)  # SpecError naming the allowed nodes
        cost.dram_energy_per_bit_j(self.dram_kind)
        cost.dtype_format(self.compute_dtype)

    @property
    def macs_per_cycle(self) -> float:
        """MAC units the peak implies: peak FLOP/s / (2 FLOP per MAC x clock)."""
        return self.peak_flops_per_s / (2 * self.clock_hz)


def simulate_op_seconds(spec: Spec, flops: int, dram_bytes: int) -> tuple[float, Bound]:
    """Roofline time of one op and what bounds it."""
    t_c = flops / spec.peak_flops_per_s
    t_m = dram_bytes / spec.dram_bytes_per_s
    bound = Bound.COMPUTE if t_c >= t_m else Bound.MEMORY
    t = max(t_c, t_m)
    if spec.op_overhead_s > t:
        bound = Bound.LATENCY
    return t + spec.op_overhead_s, bound


def op_energy(spec: Spec, op: Op, seconds: float) -> dict[str, float]:
    """Energy of one op by component (module docstring)."""
    fmt, bits = cost.op_format(op.dtype, max(op.act_bits, op.weight_bits))
    if op.is_gemm_like or op.kind in FUSED_ATTENTION_KINDS:
        per_flop = spec.energy_per_flop_j or cost.mac_energy_j(spec.tech_node, fmt, bits) / 2
        e = {"mac": op.flops * per_flop}
    else:
        e = {"vector": op.flops * (spec.energy_per_flop_j or cost.add_energy_j(spec.tech_node, fmt, bits))}
    e["dram"] = op.bytes_total * (spec.energy_per_dram_byte_j or cost.dram_energy_per_byte_j(spec.dram_kind))
    e["static"] = spec.static_power_w * seconds
    return e


def area_by_component_mm2(spec: Spec) -> dict[str, float]:
    """``{"die": area_mm2}`` when published, else ``{"mac": MAC units x MAC area}``."""
    if spec.area_mm2 is not None:
        return {"die": float(spec.area_mm2)}
    fmt, bits = cost.dtype_format(spec.compute_dtype)
    return {"mac": spec.macs_per_cycle * cost.mac_area_mm2(spec.tech_node, fmt, bits)}


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    results = []
    for op in graph.ops:
        t, bound = simulate_op_seconds(spec, op.flops, op.bytes_total)
        e = op_energy(spec, op, t)
        util = (op.flops / spec.peak_flops_per_s) / t if t > 0 else 0.0
        results.append(
            OpResult(
                op=op,
                cycles=math.ceil(t * spec.clock_hz),
                seconds=t,
                energy_j=math.fsum(e.values()),
                utilization=util,
                bound=bound,
                unit="roofline",
                energy_by_component_j=e,
                bytes_by_level={"dram": op.bytes_total},
            )
        )
    area = area_by_component_mm2(spec)
    return RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=tuple(results),
        clock_hz=spec.clock_hz,
        area_by_component_mm2=area,
    )
