"""Hardware models, registered by name; `load_arch` reads a ``models/*.yaml`` spec.

To add a model: write ``cosim/hw/<model>.py`` with a frozen ``Spec`` dataclass and
``simulate(spec, graph) -> RunResult``, add one line to `MODELS`, and one YAML in ``models/``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosim.errors import SpecError
from cosim.graph import WorkloadGraph
from cosim.hw import cpu, gpu, lut_tc, pim, roofline, sram_lut, systolic
from cosim.hw.base import Bound, HardwareModel, OpResult, RunResult
from cosim.spec import load_mapping, parse

MODELS: dict[str, HardwareModel] = {
    "roofline": HardwareModel("roofline", roofline.Spec, roofline.simulate, roofline.__doc__.splitlines()[0]),
    "gpu": HardwareModel("gpu", gpu.Spec, gpu.simulate, gpu.__doc__.splitlines()[0]),
    "cpu": HardwareModel("cpu", cpu.Spec, cpu.simulate, cpu.__doc__.splitlines()[0]),
    "sram_lut": HardwareModel("sram_lut", sram_lut.Spec, sram_lut.simulate, sram_lut.__doc__.splitlines()[0]),
    "lut_tensor_core": HardwareModel("lut_tensor_core", lut_tc.Spec, lut_tc.simulate, lut_tc.__doc__.splitlines()[0]),
    "hbm_pim": HardwareModel("hbm_pim", pim.Spec, pim.simulate, pim.__doc__.splitlines()[0]),
    "systolic": HardwareModel(
        "systolic",
        systolic.Spec,
        systolic.simulate,
        systolic.__doc__.splitlines()[0],
        load_foreign=systolic.load_scalesim_config,
        foreign_suffixes=(".cfg",),
        simulate_totals=systolic.simulate_graph_totals,
    ),
}


@dataclass(frozen=True)
class Arch:
    """A parsed architecture: its model and its spec."""

    model: HardwareModel
    spec: Any

    @property
    def name(self) -> str:
        return self.spec.name

    def simulate(self, graph: WorkloadGraph) -> RunResult:
        return self.model.simulate(self.spec, graph)


def arch_from_mapping(data: dict[str, Any], where: str) -> Arch:
    """Build an `Arch` from a mapping with a ``model:`` key naming a `MODELS` entry."""
    if "model" not in data:
        raise SpecError(f"{where}: missing required key 'model' (one of: {', '.join(MODELS)})")
    body = dict(data)
    key = body.pop("model")
    if key not in MODELS:
        raise SpecError(f"{where}: model: unknown hardware model {key!r} (allowed: {', '.join(MODELS)})")
    m = MODELS[key]
    return Arch(m, parse(m.spec_type, body, where))


def load_arch(path: str | Path) -> Arch:
    """Read an architecture file: ``models/*.yaml``, or a foreign format a model accepts."""
    p = Path(path)
    for m in MODELS.values():
        if m.load_foreign is not None and p.suffix in m.foreign_suffixes:
            if not p.is_file():
                raise SpecError(f"{p}: no such file")
            return Arch(m, m.load_foreign(p))
    if p.suffix not in (".yaml", ".yml"):
        known = sorted({".yaml", *(s for m in MODELS.values() for s in m.foreign_suffixes)})
        raise SpecError(f"{p}: unknown architecture file type {p.suffix!r} (allowed: {', '.join(known)})")
    return arch_from_mapping(load_mapping(p), str(p))


__all__ = ["MODELS", "Arch", "Bound", "HardwareModel", "OpResult", "RunResult", "arch_from_mapping", "load_arch"]


def register_system() -> None:
    """Register the NPU+PIM system model (``npu_pim``).  It lives in cosim/system.py, which
    imports this package, so it registers once that module is complete: here, or from the end
    of cosim/system.py when that module is the one being imported."""
    mod = sys.modules.get("cosim.system")
    if mod is not None and not hasattr(mod, "simulate"):
        return
    from cosim import system

    MODELS["npu_pim"] = HardwareModel("npu_pim", system.Spec, system.simulate, system.__doc__.splitlines()[0])


register_system()
