"""The contract between workloads and hardware models.

A hardware model is a module exporting a frozen-dataclass ``Spec`` and a plain function
``simulate(spec, graph) -> RunResult`` (SimPy-style: functions over data, no god objects).
It is registered by one line in `cosim.hw.MODELS` and described by a YAML file in
``models/`` whose ``model:`` key names the registry entry.

Results are frozen dataclasses with SI units in the field names.  `RunResult.to_dict` is
the simulation JSON of DESIGN.md, which other tools read: keep its keys stable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cosim.graph import Op, WorkloadGraph

if TYPE_CHECKING:
    import pandas as pd


class Bound(StrEnum):
    """What limits an op's time on a unit."""

    COMPUTE = "compute"
    MEMORY = "memory"
    LATENCY = "latency"  # neither: pipeline fill, launch overhead, command timing


@dataclass(frozen=True, slots=True)
class OpResult:
    """One op on one unit.

    ``utilization`` is a fraction of the unit's peak compute in [0, 1].
    ``energy_by_component_j`` and ``bytes_by_level`` are free-form per model (e.g.
    ``{"mac": ..., "sram": ..., "dram": ...}``); their sum must equal ``energy_j``.
    ``extra`` carries model-specific fields (e.g. SCALE-Sim's compute-report names) that
    the simulation JSON flattens into the op's entry.
    """

    op: Op
    cycles: int
    seconds: float
    energy_j: float = 0.0
    utilization: float = 0.0
    bound: Bound = Bound.COMPUTE
    unit: str = ""
    energy_by_component_j: Mapping[str, float] = field(default_factory=dict)
    bytes_by_level: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        o = self.op
        d: dict[str, Any] = {
            "name": o.name,
            "kind": o.kind.value,
            "M": o.M,
            "N": o.N,
            "K": o.K,
            "batch": o.batch,
            "cycles": self.cycles,
            "seconds": self.seconds,
            "energy_j": self.energy_j,
            "utilization": self.utilization,
            "bound": self.bound.value,
        }
        if self.unit:
            d["unit"] = self.unit
        for level, b in self.bytes_by_level.items():
            d[f"{level}_bytes"] = b
        for comp, e in self.energy_by_component_j.items():
            d[f"energy_{comp}_j"] = e
        d.update(self.extra)
        return d


@dataclass(frozen=True, slots=True)
class RunResult:
    """A workload on an architecture: per-op results and totals.

    ``total_cycles``/``total_seconds`` default to the sums over ops (ops run back to back);
    a model that overlaps ops (e.g. NPU and PIM concurrently) passes its own totals.
    ``area_mm2`` defaults to the sum of ``area_by_component_mm2``.
    """

    arch: str
    workload: str
    ops: tuple[OpResult, ...]
    clock_hz: float
    area_mm2: float | None = None
    area_by_component_mm2: Mapping[str, float] = field(default_factory=dict)
    total_cycles: int | None = None
    total_seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the total area is the sum of the components unless the model states it
        if self.area_mm2 is None and self.area_by_component_mm2:
            object.__setattr__(self, "area_mm2", math.fsum(dict(self.area_by_component_mm2).values()))

    @property
    def cycles(self) -> int:
        return self.total_cycles if self.total_cycles is not None else sum(r.cycles for r in self.ops)

    @property
    def seconds(self) -> float:
        return self.total_seconds if self.total_seconds is not None else math.fsum(r.seconds for r in self.ops)

    @property
    def energy_j(self) -> float:
        return math.fsum(r.energy_j for r in self.ops) + float(self.extra.get("static_energy_j", 0.0))

    def energy_by_component_j(self) -> dict[str, float]:
        acc: dict[str, float] = {}
        for r in self.ops:
            for k, v in r.energy_by_component_j.items():
                acc[k] = acc.get(k, 0.0) + v
        if "static_energy_j" in self.extra:
            acc["static"] = acc.get("static", 0.0) + float(self.extra["static_energy_j"])
        return acc

    def to_dict(self) -> dict[str, Any]:
        """The simulation JSON of DESIGN.md."""
        total: dict[str, Any] = {
            "cycles": self.cycles,
            "seconds": self.seconds,
            "energy_j": self.energy_j,
            "area_mm2": self.area_mm2,
        }
        if self.area_by_component_mm2:
            total["area_by_component_mm2"] = dict(self.area_by_component_mm2)
        comps = self.energy_by_component_j()
        if comps:
            total["energy_by_component_j"] = comps
        total.update(self.extra)
        return {
            "arch": self.arch,
            "workload": self.workload,
            "clock_hz": self.clock_hz,
            "ops": [r.to_dict() for r in self.ops],
            "total": total,
        }

    def to_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.ops])


@dataclass(frozen=True)
class HardwareModel:
    """A registry entry: how to parse a spec and how to simulate a graph on it.

    ``load_foreign`` optionally reads a non-YAML architecture file (e.g. SCALE-Sim's
    ``.cfg``) into ``spec_type``; ``foreign_suffixes`` says which file suffixes it takes.

    ``simulate_totals`` optionally gives whole-workload totals without per-op records, for
    design sweeps that evaluate thousands of architectures on one graph (cosim.dse uses it
    when present and `simulate` otherwise).  It returns an object with attributes ``cycles``,
    ``seconds``, ``energy_j`` and, where the model knows them, ``area_mm2`` and
    ``energy_by_component_j``; each must equal the same quantity of ``simulate(spec, graph)``.
    It may cache per-graph preprocessing keyed on the graph object.
    """

    name: str
    spec_type: type
    simulate: Callable[[Any, WorkloadGraph], RunResult]
    summary: str
    load_foreign: Callable[[Any], Any] | None = None
    foreign_suffixes: tuple[str, ...] = ()
    simulate_totals: Callable[[Any, WorkloadGraph], Any] | None = None
