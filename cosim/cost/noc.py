"""On-chip data movement: wires and network-on-chip hops.

A wire of length L mm moving one bit costs alpha * C_wire * L * Vdd^2 with

* C_wire = 0.2 pF/mm: the capacitance of a minimum-pitch on-chip wire stays near 0.2 fF/um
  across nodes (Ho, Mai and Horowitz, "The future of wires", Proc. IEEE 89(4), 2001);
* alpha = 0.5: random data toggles a bit with probability 1/2 and each 0->1 edge draws
  C*V^2; repeaters roughly double the switched capacitance (0.25 x 2).

At 0.9 V this gives 81 fJ/bit/mm, inside the 18-110 fJ/bit/mm range of the DARPA Exascale
study (2008) for on-chip wires.

A router hop adds the input buffer (one register write and one read per bit, Aladdin's
per-bit register energy) and a crossbar traversal modelled as a wire of `ROUTER_SPAN_MM`.
A systolic neighbour-to-neighbour hop is `noc_hop_energy_j(..., router=False)` with the PE
pitch as `hop_mm`: a register plus a short wire.
"""

from __future__ import annotations

from cosim.cost.logic import register_energy_j
from cosim.cost.nodes import TechNode, get_node
from cosim.errors import SpecError

WIRE_CAP_F_PER_MM = 0.2e-12  # Ho, Mai & Horowitz, Proc. IEEE 2001: ~0.2 fF/um for on-chip wires
WIRE_ACTIVITY = 0.5  # random data (1/4 of bits draw C*V^2) x 2 for repeaters: stated assumption
ROUTER_SPAN_MM = 0.1  # crossbar traversal length of a small mesh router (assumption, ~100 um)


def wire_energy_per_bit_mm_j(node: str | TechNode) -> float:
    """Energy to move one bit over 1 mm of on-chip wire (J)."""
    n = get_node(node)
    return WIRE_ACTIVITY * WIRE_CAP_F_PER_MM * n.vdd_v**2


def noc_hop_energy_j(node: str | TechNode, bits: int, hop_mm: float = 1.0, router: bool = True) -> float:
    """Energy to move `bits` bits across one hop (J): link wire of `hop_mm`, plus the router
    (buffer write + read and a crossbar wire) when `router` is true, or one pipeline register
    when it is false (systolic forwarding).

    Raises:
        SpecError: negative bits or hop length.
    """
    if bits < 0 or hop_mm < 0:
        raise SpecError(f"noc hop: bits and hop_mm must be >= 0, got bits={bits} hop_mm={hop_mm}")
    n = get_node(node)
    link = bits * hop_mm * wire_energy_per_bit_mm_j(n)
    if router:
        return link + 2 * register_energy_j(n, bits) + bits * ROUTER_SPAN_MM * wire_energy_per_bit_mm_j(n)
    return link + register_energy_j(n, bits)


__all__ = ["ROUTER_SPAN_MM", "WIRE_ACTIVITY", "WIRE_CAP_F_PER_MM", "noc_hop_energy_j", "wire_energy_per_bit_mm_j"]
