"""Yosys-calibrated area: turn a synthesized gate or transistor count into mm^2 at a node.

Where cosim has RTL for a block, ``cosim synth BLOCK --json`` (yosys, see `cosim.rtl`) reports
its cell count and a transistor estimate.  Yosys maps to a generic gate set, not a foundry
library, so we convert through NAND2 equivalents:

    area_mm2 = nand2_equivalents * nand2_um2(node) / utilization * 1e-6
    nand2_equivalents = transistors / 4          (a static CMOS NAND2 has 4 transistors)

with `TechNode.nand2_um2` the NanGate 45 nm NAND2_X1 area (0.798 um^2) scaled by the
Stillmaker & Baas logic-area factor (28 nm: 0.294 um^2, 7 nm: 0.047 um^2), and
`utilization` the placement density of a standard-cell block (0.7 by default: routed
designs typically place 60-80% of the row area).

A model uses this through `SynthArea`: the spec names a synthesis JSON, and the model reports
`area_mm2(node)` instead of the table estimate, with the source recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosim.cost.nodes import TechNode, get_node
from cosim.errors import SpecError

TRANSISTORS_PER_NAND2 = 4
DEFAULT_UTILIZATION = 0.7


@dataclass(frozen=True, slots=True)
class SynthArea:
    """A block's size from a synthesis run: transistors (preferred) or NAND2 equivalents."""

    block: str
    transistors: int = 0
    nand2_equivalents: float = 0.0
    cells: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        if self.transistors < 0 or self.nand2_equivalents < 0 or self.cells < 0:
            raise SpecError(f"synthesis result {self.block!r}: counts must be >= 0")
        if not self.transistors and not self.nand2_equivalents:
            raise SpecError(f"synthesis result {self.block!r}: needs a transistor or NAND2-equivalent count")

    @property
    def gates_nand2(self) -> float:
        return self.nand2_equivalents if self.nand2_equivalents else self.transistors / TRANSISTORS_PER_NAND2

    def area_mm2(self, node: str | TechNode, utilization: float = DEFAULT_UTILIZATION) -> float:
        """Placed area at `node` (mm^2)."""
        return synth_area_mm2(node, nand2_equivalents=self.gates_nand2, utilization=utilization)


def synth_area_mm2(
    node: str | TechNode,
    *,
    transistors: int | None = None,
    nand2_equivalents: float | None = None,
    utilization: float = DEFAULT_UTILIZATION,
) -> float:
    """Area of a synthesized block at `node` (mm^2) from its transistor or NAND2-equivalent count.

    Raises:
        SpecError: neither or both counts given, negative counts, utilization outside (0, 1].
    """
    if (transistors is None) == (nand2_equivalents is None):
        raise SpecError("synth area: give exactly one of transistors or nand2_equivalents")
    if not 0 < utilization <= 1:
        raise SpecError(f"synth area: utilization must be in (0, 1], got {utilization!r}")
    gates = nand2_equivalents if nand2_equivalents is not None else transistors / TRANSISTORS_PER_NAND2
    if gates < 0:
        raise SpecError(f"synth area: counts must be >= 0, got {gates!r}")
    return gates * get_node(node).nand2_um2 / utilization * 1e-6


def load_synth_json(path: str | Path) -> SynthArea:
    """Read the JSON of ``cosim synth --json`` (keys: ``block``/``top``, ``transistors`` and/or
    ``nand2_equivalents``, ``cells``).

    Raises:
        SpecError: missing file, invalid JSON, or no usable count.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    try:
        d: Any = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise SpecError(f"{p}: invalid JSON: {e}") from None
    if not isinstance(d, dict):
        raise SpecError(f"{p}: expected a JSON object")
    t = d.get("transistors", d.get("transistor_count", 0)) or 0
    g = d.get("nand2_equivalents", 0) or 0
    cells = d.get("cells", d.get("cell_count", 0)) or 0
    if isinstance(cells, dict):
        cells = sum(int(v) for v in cells.values())
    return SynthArea(
        block=str(d.get("block", d.get("top", p.stem))),
        transistors=int(t),
        nand2_equivalents=float(g),
        cells=int(cells),
        source=str(p),
    )


__all__ = ["DEFAULT_UTILIZATION", "TRANSISTORS_PER_NAND2", "SynthArea", "load_synth_json", "synth_area_mm2"]
