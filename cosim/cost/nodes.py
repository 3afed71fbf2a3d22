"""Technology nodes and the rule that scales a sourced constant from its node to another.

Every constant in `cosim.cost` is published at one node and supply voltage (Horowitz's table
at 45 nm / 0.9 V, Aladdin's at 40 nm, our CACTI runs at 45 nm / 1.0 V).  To use it at another
node we apply one stated scaling rule, from

    A. Stillmaker and B. Baas, "Scaling equations for the accurate prediction of CMOS device
    performance from 180 nm to 7 nm", Integration, the VLSI Journal 58 (2017) 74-81.

* **Energy** per operation: their fitted polynomial E(V) = a V^2 + b V + c per node
  (HSPICE on PTM/ITRS models, high-performance devices).  A constant E0 published at node n0
  and supply V0 becomes E0 * E_n(V_n) / E_n0(V0) at node n with supply V_n.
* **Area** (logic): their per-node area factors (row 45 nm of their area table).
* **SRAM bit cells** do not follow logic scaling below 20 nm, so SRAM arrays scale their cell
  part with published 6T bit-cell areas (`TechNode.sram_bitcell_um2`) and their periphery with
  the logic factor; see `cosim.cost.sram`.

Nodes the paper does not tabulate (40, 28, 22, 12 nm) are interpolated log-linearly in the
feature size between the two nearest tabulated nodes, both evaluated at the node's own supply.
The supply voltage of each node is a stated assumption (the paper's polynomials take V as an
input); change it with `dataclasses.replace(node, vdd_v=...)`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from cosim.errors import SpecError

# Stillmaker & Baas 2017, energy-vs-Vdd fit coefficients (a, b, c) of E(V) = aV^2 + bV + c, one row
# per node; high-performance (HP) devices where the paper separates HP and LP.  Transcribed from the
# paper's coefficient table as reproduced in UCLA NanoCAD's nodeScale (github wromaszkan/nodeScale).
_STILLMAKER_ENERGY_ABC: dict[int, tuple[float, float, float]] = {
    65: (3.755, -4.398, 1.975),
    45: (1.018, -0.3107, 0.1539),  # HP45
    32: (0.8367, -0.4341, 0.1701),  # HP32
    20: (0.373, -0.1582, 0.04104),  # HP20
    16: (0.2958, -0.1241, 0.03024),  # HP16
    14: (0.2363, -0.09675, 0.02239),  # HP14
    10: (0.2068, -0.09311, 0.02375),  # HP10
    7: (0.1776, -0.09097, 0.02447),  # HP7
}

# Stillmaker & Baas 2017, area scaling factors from 45 nm to each node (their area table, row 45 nm).
_STILLMAKER_AREA_FROM_45: dict[int, float] = {
    65: 1.5,
    45: 1.0,
    32: 0.46,
    20: 0.21,
    16: 0.19,
    14: 0.17,
    10: 0.10,
    7: 0.059,
}

# Published high-density 6T SRAM bit-cell areas (um^2) of representative processes.  Nodes not listed
# are interpolated log-linearly in feature size like the energy and area factors.
_SRAM_BITCELL_UM2: dict[int, float] = {
    65: 0.570,  # Intel 65 nm (Bai et al., IEDM 2004)
    45: 0.346,  # Intel 45 nm high-k/metal gate (Mistry et al., IEDM 2007)
    32: 0.171,  # Intel 32 nm (Natarajan et al., IEDM 2008)
    22: 0.092,  # Intel 22 nm tri-gate (Auth et al., VLSI 2012)
    14: 0.0588,  # Intel 14 nm (Natarajan et al., IEDM 2014)
    7: 0.027,  # TSMC N7 high-density cell (Wu et al., IEDM 2016)
}

# Supply voltage assumed for each node (V).  45 nm: 1.0 V nominal; 7 nm: 0.7 V; values between follow
# the ITRS-style roadmap used by Stillmaker & Baas.  These are assumptions, not measurements.
_NOMINAL_VDD_V: dict[int, float] = {
    65: 1.1,
    45: 1.0,
    40: 0.9,
    32: 0.9,
    28: 0.9,
    22: 0.9,
    20: 0.9,
    16: 0.85,
    14: 0.8,
    12: 0.8,
    10: 0.75,
    7: 0.7,
}


def _bracket(table: dict[int, float] | dict[int, tuple[float, float, float]], nm: float) -> tuple[int, int, float]:
    """Nearest tabulated nodes around `nm` and the log-linear weight of the smaller one."""
    keys = sorted(table, reverse=True)
    if nm > keys[0] or nm < keys[-1]:
        raise SpecError(f"technology node {nm:g} nm is outside the tabulated range {keys[-1]}..{keys[0]} nm")
    for hi, lo in itertools.pairwise(keys):
        if lo <= nm <= hi:
            if nm == hi:
                return hi, lo, 0.0
            return hi, lo, math.log(hi / nm) / math.log(hi / lo)
    return keys[-1], keys[-1], 0.0


def _loginterp(table: dict[int, float], nm: float) -> float:
    hi, lo, t = _bracket(table, nm)
    return math.exp((1 - t) * math.log(table[hi]) + t * math.log(table[lo]))


def stillmaker_energy(nm: float, vdd_v: float) -> float:
    """Stillmaker & Baas's relative energy per operation at `nm` and supply `vdd_v` (arbitrary unit)."""

    def at(n: int) -> float:
        a, b, c = _STILLMAKER_ENERGY_ABC[n]
        e = a * vdd_v * vdd_v + b * vdd_v + c
        if e <= 0:
            raise SpecError(f"supply {vdd_v:g} V is outside the fitted range of the {n} nm energy equation")
        return e

    hi, lo, t = _bracket(_STILLMAKER_ENERGY_ABC, nm)
    return math.exp((1 - t) * math.log(at(hi)) + t * math.log(at(lo)))


@dataclass(frozen=True, slots=True)
class TechNode:
    """A technology node: feature size, supply, and the factors that scale 45 nm constants to it.

    ``logic_area_from_45nm``: multiply a 45 nm logic area by this.  ``sram_bitcell_um2``: the
    6T bit-cell area used to scale SRAM arrays.  ``nand2_um2``: area of one NAND2-equivalent
    gate (the unit `cosim.cost.synth` turns gate counts into mm^2 with).
    """

    name: str
    feature_nm: float
    vdd_v: float
    logic_area_from_45nm: float
    sram_bitcell_um2: float

    @property
    def nand2_um2(self) -> float:
        """NAND2-equivalent gate area: NanGate 45 nm Open Cell Library NAND2_X1 (0.798 um^2), scaled."""
        return NANGATE45_NAND2_X1_UM2 * self.logic_area_from_45nm

    def energy_from(self, src_nm: float, src_vdd_v: float) -> float:
        """Factor that turns an energy published at (`src_nm`, `src_vdd_v`) into one at this node."""
        return stillmaker_energy(self.feature_nm, self.vdd_v) / stillmaker_energy(src_nm, src_vdd_v)

    def area_from(self, src_nm: float) -> float:
        """Factor that turns a logic area published at `src_nm` into one at this node."""
        return self.logic_area_from_45nm / _loginterp(_STILLMAKER_AREA_FROM_45, src_nm)


# NanGate FreePDK45 Open Cell Library, NAND2_X1 cell area (um^2), from its Liberty file.
NANGATE45_NAND2_X1_UM2 = 0.798


def make_node(feature_nm: float, vdd_v: float | None = None) -> TechNode:
    """Build a `TechNode` for a feature size in [7, 65] nm (supply: the stated nominal, or `vdd_v`).

    Raises:
        SpecError: the feature size is outside [7, 65] nm or the supply outside the fits.
    """
    if not 7 <= feature_nm <= 65:
        raise SpecError(f"technology node {feature_nm:g} nm is outside the supported range 7..65 nm")
    if vdd_v is None:
        vdd_v = _NOMINAL_VDD_V.get(int(feature_nm)) if float(feature_nm).is_integer() else None
        if vdd_v is None:
            vdd_v = _loginterp({k: float(v) for k, v in _NOMINAL_VDD_V.items()}, feature_nm)
    return TechNode(
        name=f"{feature_nm:g}nm",
        feature_nm=float(feature_nm),
        vdd_v=float(vdd_v),
        logic_area_from_45nm=_loginterp(_STILLMAKER_AREA_FROM_45, feature_nm),
        sram_bitcell_um2=_loginterp(_SRAM_BITCELL_UM2, feature_nm),
    )


NODES: dict[str, TechNode] = {f"{nm}nm": make_node(nm) for nm in (65, 45, 40, 32, 28, 22, 20, 16, 14, 12, 10, 7)}
NODE_NAMES: tuple[str, ...] = tuple(NODES)


def get_node(node: str | TechNode) -> TechNode:
    """A node by name (``"28nm"``, also ``"28 nm"``/``"28"``) or a `TechNode` passed through.

    Raises:
        SpecError: the name is not one of `NODE_NAMES`.
    """
    if isinstance(node, TechNode):
        return node
    if not isinstance(node, str):
        raise SpecError(f"tech_node: expected a node name such as '28nm', got {node!r}")
    key = node.strip().lower().replace(" ", "")
    if key and not key.endswith("nm"):
        key += "nm"
    if key not in NODES:
        raise SpecError(f"tech_node: unknown technology node {node!r} (allowed: {', '.join(NODE_NAMES)})")
    return NODES[key]


__all__ = ["NANGATE45_NAND2_X1_UM2", "NODES", "NODE_NAMES", "TechNode", "get_node", "make_node", "stillmaker_energy"]
