"""Area and energy cost library: per-component constants with sources, at any technology node.

Hardware models turn event counts into energy and component counts into area through this
package, so every model uses the same sourced numbers::

    from cosim import cost
    t = cost.cost_table("28nm")           # what a model spec names with `tech_node: 28nm`
    e_mac = t.mac_energy_j("int", 8)      # J per 8-bit integer MAC
    e_buf = t.sram_access_energy_j(256 * 1024, width_bits=128)
    a_pe = t.pe_area_mm2("fp", 16)

or the plain functions with the node as first argument (``cost.mac_energy_j("7nm", "fp", 16)``).

Modules and their sources:

* `nodes`: technology nodes 65..7 nm; Stillmaker & Baas 2017 scaling of energy and area;
  published SRAM bit-cell areas; the NAND2 area for synthesis calibration.
* `logic`: adders, multipliers (Horowitz ISSCC 2014, 45 nm), registers and muxes (Aladdin,
  40 nm), MAC, PE, register file, LUT unit (composed from those).
* `sram`: CACTI 7.0 runs at 45 nm, by capacity, width and ports.
* `dram`: DRAM/HBM energy per bit by kind (Horowitz 2014; O'Connor et al. MICRO 2017), and
  per-command energies from IDD currents (DRAMsim3's model; the HBM2 device NeuPIMs uses).
* `noc`: wire energy per bit-mm (0.2 pF/mm wires) and NoC hops.
* `synth`: yosys-calibrated area: synthesized transistor/gate counts -> mm^2 at a node.
* `components`: the component names (``mac``, ``sram``, ``dram``, ``static``, ...) every
  hardware model reports energy and area under.

Energy is in joules and area in mm^2 everywhere (suffixes ``_j``, ``_mm2``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cosim.cost import logic, sram
from cosim.cost.components import COMPONENT_NAMES, Component
from cosim.cost.dram import DramKind, dram_energy_per_bit_j, dram_energy_per_byte_j
from cosim.cost.logic import (
    FP_BITS_RANGE,
    INT_BITS_RANGE,
    NumFormat,
    add_area_mm2,
    add_energy_j,
    default_acc_bits,
    dtype_format,
    lut_lookup_energy_j,
    lut_table_fill_energy_j,
    lut_unit_area_mm2,
    mac_area_mm2,
    mac_energy_j,
    mult_area_mm2,
    mult_energy_j,
    mux2_area_mm2,
    mux2_energy_j,
    op_format,
    pe_area_mm2,
    pe_energy_j,
    regfile_area_mm2,
    regfile_read_energy_j,
    regfile_write_energy_j,
    register_area_mm2,
    register_energy_j,
)
from cosim.cost.noc import noc_hop_energy_j, wire_energy_per_bit_mm_j
from cosim.cost.nodes import NODE_NAMES, NODES, TechNode, get_node, make_node
from cosim.cost.sram import (
    SramCost,
    SramPorts,
    sram_access_energy_j,
    sram_area_mm2,
    sram_cost,
    sram_energy_per_bit_j,
    sram_leakage_w,
)
from cosim.cost.synth import SynthArea, load_synth_json, synth_area_mm2


@dataclass(frozen=True, slots=True)
class CostTable:
    """All cost functions bound to one technology node (what ``tech_node: 28nm`` names)."""

    node: TechNode

    @property
    def name(self) -> str:
        return self.node.name

    # logic
    def add_energy_j(self, dtype: str, bits: float | None = None) -> float:
        return logic.add_energy_j(self.node, dtype, bits)

    def mult_energy_j(self, dtype: str, bits: float | None = None) -> float:
        return logic.mult_energy_j(self.node, dtype, bits)

    def mac_energy_j(self, dtype: str, bits: float | None = None, acc_bits: int | None = None) -> float:
        return logic.mac_energy_j(self.node, dtype, bits, acc_bits)

    def mac_area_mm2(self, dtype: str, bits: float | None = None, acc_bits: int | None = None) -> float:
        return logic.mac_area_mm2(self.node, dtype, bits, acc_bits)

    def pe_energy_j(self, dtype: str, bits: float | None = None, acc_bits: int | None = None) -> float:
        return logic.pe_energy_j(self.node, dtype, bits, acc_bits)

    def pe_area_mm2(self, dtype: str, bits: float | None = None, acc_bits: int | None = None) -> float:
        return logic.pe_area_mm2(self.node, dtype, bits, acc_bits)

    def register_energy_j(self, bits: int) -> float:
        return logic.register_energy_j(self.node, bits)

    def register_area_mm2(self, bits: int) -> float:
        return logic.register_area_mm2(self.node, bits)

    def regfile_read_energy_j(self, entries: int, width_bits: int) -> float:
        return logic.regfile_read_energy_j(self.node, entries, width_bits)

    def regfile_write_energy_j(self, entries: int, width_bits: int) -> float:
        return logic.regfile_write_energy_j(self.node, entries, width_bits)

    def regfile_area_mm2(self, entries: int, width_bits: int, read_ports: int = 1) -> float:
        return logic.regfile_area_mm2(self.node, entries, width_bits, read_ports)

    def lut_lookup_energy_j(self, k: int, entry_bits: int, acc_bits: int) -> float:
        return logic.lut_lookup_energy_j(self.node, k, entry_bits, acc_bits)

    def lut_table_fill_energy_j(self, k: int, entry_bits: int) -> float:
        return logic.lut_table_fill_energy_j(self.node, k, entry_bits)

    def lut_unit_area_mm2(self, k: int, entry_bits: int, acc_bits: int, *, shared_table: bool = False) -> float:
        return logic.lut_unit_area_mm2(self.node, k, entry_bits, acc_bits, shared_table=shared_table)

    # memories
    def sram(self, capacity_bytes: int, width_bits: int = 64, ports: str | int = "1rw") -> SramCost:
        return sram.sram_cost(self.node, capacity_bytes, width_bits, ports)

    def sram_access_energy_j(
        self, capacity_bytes: int, width_bits: int = 64, ports: str | int = "1rw", *, write: bool = False
    ) -> float:
        return sram.sram_access_energy_j(self.node, capacity_bytes, width_bits, ports, write=write)

    def sram_area_mm2(self, capacity_bytes: int, width_bits: int = 64, ports: str | int = "1rw") -> float:
        return sram.sram_area_mm2(self.node, capacity_bytes, width_bits, ports)

    def sram_leakage_w(self, capacity_bytes: int, width_bits: int = 64, ports: str | int = "1rw") -> float:
        return sram.sram_leakage_w(self.node, capacity_bytes, width_bits, ports)

    @staticmethod
    def dram_energy_per_bit_j(kind: str) -> float:
        return dram_energy_per_bit_j(kind)

    # movement, synthesis
    def noc_hop_energy_j(self, bits: int, hop_mm: float = 1.0, router: bool = True) -> float:
        return noc_hop_energy_j(self.node, bits, hop_mm, router)

    def synth_area_mm2(
        self, *, transistors: int | None = None, nand2_equivalents: float | None = None, utilization: float = 0.7
    ) -> float:
        return synth_area_mm2(
            self.node, transistors=transistors, nand2_equivalents=nand2_equivalents, utilization=utilization
        )


def cost_table(node: str | TechNode) -> CostTable:
    """The `CostTable` of a node name (``"28nm"``) or `TechNode`.

    Raises:
        SpecError: unknown node name.
    """
    return CostTable(get_node(node))


__all__ = [
    "COMPONENT_NAMES",
    "FP_BITS_RANGE",
    "INT_BITS_RANGE",
    "NODES",
    "NODE_NAMES",
    "Component",
    "CostTable",
    "DramKind",
    "NumFormat",
    "SramCost",
    "SramPorts",
    "SynthArea",
    "TechNode",
    "add_area_mm2",
    "add_energy_j",
    "cost_table",
    "default_acc_bits",
    "dram_energy_per_bit_j",
    "dram_energy_per_byte_j",
    "dtype_format",
    "get_node",
    "load_synth_json",
    "lut_lookup_energy_j",
    "lut_table_fill_energy_j",
    "lut_unit_area_mm2",
    "mac_area_mm2",
    "mac_energy_j",
    "make_node",
    "mult_area_mm2",
    "mult_energy_j",
    "mux2_area_mm2",
    "mux2_energy_j",
    "noc_hop_energy_j",
    "op_format",
    "pe_area_mm2",
    "pe_energy_j",
    "regfile_area_mm2",
    "regfile_read_energy_j",
    "regfile_write_energy_j",
    "register_area_mm2",
    "register_energy_j",
    "sram_access_energy_j",
    "sram_area_mm2",
    "sram_cost",
    "sram_energy_per_bit_j",
    "sram_leakage_w",
    "synth_area_mm2",
    "wire_energy_per_bit_mm_j",
]
