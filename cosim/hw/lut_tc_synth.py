"""Yosys area proxy for the LUT Tensor Core RTL (``rtl/lut_tc``) and its MAC baseline.

`cosim.synth.cell_stat` synthesises each module with yosys 0.23 (generic gates: ``synth -flatten``,
enables legalised into plain D flip-flops, ``abc -g cmos2`` maps to NAND/NOR/NOT) and counts
transistors with yosys's own CMOS cost table (``kernel/cost.h``: NOT 2, NAND 4, NOR 4, ...;
``stat -tech cmos`` counts a D flip-flop as 16).  Transistors are a technology-free area proxy:
they rank designs, they are not µm².

`lut_vs_mac_units` compares, at equal throughput (K MACs per cycle at 1-bit weights):

* the LUT lane (``lut_cell``: mux, conditional negate, shift-accumulate) plus its share of one
  table (``lut_table_gen`` + table register), shared by ``n_share`` lanes as in an M x N array
  (the paper's N = 64);
* the MAC dot-product unit (``mac_dp``: K multipliers AW x WW, adder chain, accumulator), with
  weights dequantized to the activation width (WW = AW), the paper's MAC baseline.

A W-bit weight takes W cycles on the LUT lane, so the area ratio at equal throughput is the
1-bit ratio divided by W.

`lut_vs_mac_fp16_units` is the paper's Fig. 12 comparison on our FP16 RTL: the FP16 LUT lane
(``lut_cell_fp16``: mux, sign flip, exponent add for x 2^b, FP16 accumulate) plus its share of an
FP16 table register (``table_reg``; FP16 tables are precomputed outside the array), against the
FP16 MAC DP4 (``mac_dp_fp16``: four FP16 multipliers, three FP16 adds, FP16 accumulate).
"""

from __future__ import annotations

from dataclasses import dataclass

from cosim.golden import table_entry_bits
from cosim.rtl import rtl_sources
from cosim.synth import SynthStat, cell_stat


@dataclass(frozen=True)
class UnitComparison:
    """Transistor counts of the LUT lane, its table, and the MAC dot-product unit."""

    k: int
    act_bits: int
    table_bits: int
    acc_bits: int
    n_share: int
    lut_lane: SynthStat
    lut_unit: SynthStat  # lane + its own table (a conventional, unshared LUT unit)
    mac_dp: SynthStat

    @property
    def table_transistors(self) -> int:
        """Table precompute + storage: the unit minus its lane."""
        return self.lut_unit.transistors - self.lut_lane.transistors

    @property
    def lut_lane_shared_transistors(self) -> float:
        """A lane plus 1/n_share of a table, as in an array whose tables feed n_share lanes."""
        return self.lut_lane.transistors + self.table_transistors / self.n_share

    def mac_over_lut(self, weight_bits: int = 1, shared: bool = True) -> float:
        """MAC area / LUT area at equal throughput for `weight_bits`-bit weights."""
        lut = self.lut_lane_shared_transistors if shared else self.lut_unit.transistors
        return self.mac_dp.transistors / lut / weight_bits


def lut_vs_mac_units(
    k: int = 4, act_bits: int = 8, acc_bits: int = 32, max_weight_bits: int = 8, n_share: int = 64
) -> UnitComparison:
    """Synthesise the LUT lane, the LUT unit and the MAC DP-k unit (see the module docstring)."""
    tw = table_entry_bits(act_bits, k)
    wb_w = max(1, (max_weight_bits - 1).bit_length())
    lane = cell_stat(rtl_sources("lut_tc/lut_cell.sv"), "lut_cell", {"K": k, "TW": tw, "WB_W": wb_w, "ACC_W": acc_bits})
    unit = cell_stat(
        rtl_sources("lut_tc/lut_table_gen.sv", "lut_tc/lut_cell.sv", "lut_tc/lut_unit.sv"),
        "lut_unit",
        {"K": k, "AW": act_bits, "TW": tw, "WB_W": wb_w, "ACC_W": acc_bits},
    )
    mac = cell_stat(
        rtl_sources("lut_tc/mac_dp.sv"), "mac_dp", {"K": k, "AW": act_bits, "WW": act_bits, "ACC_W": acc_bits}
    )
    return UnitComparison(k, act_bits, tw, acc_bits, n_share, lane, unit, mac)


@dataclass(frozen=True)
class Fp16UnitComparison:
    """Transistor counts of the FP16 LUT lane, its table register and the FP16 MAC DP-k unit."""

    k: int
    n_share: int
    lut_lane: SynthStat
    table: SynthStat
    mac_dp: SynthStat

    @property
    def lut_lane_shared_transistors(self) -> float:
        return self.lut_lane.transistors + self.table.transistors / self.n_share

    def mac_over_lut(self, weight_bits: int = 1) -> float:
        """MAC area / LUT area at equal throughput for `weight_bits`-bit weights."""
        return self.mac_dp.transistors / self.lut_lane_shared_transistors / weight_bits


def lut_vs_mac_fp16_units(k: int = 4, max_weight_bits: int = 8, n_share: int = 64) -> Fp16UnitComparison:
    """Synthesise the FP16 LUT lane, an FP16 table register and the FP16 MAC DP-k unit."""
    wb_w = max(1, (max_weight_bits - 1).bit_length())
    lane = cell_stat(
        rtl_sources("lut_tc/fp16_add.sv", "lut_tc/lut_cell_fp16.sv"), "lut_cell_fp16", {"K": k, "WB_W": wb_w}
    )
    table = cell_stat(rtl_sources("lut_tc/table_reg.sv"), "table_reg", {"W": (1 << (k - 1)) * 16})
    mac = cell_stat(
        rtl_sources("lut_tc/fp16_add.sv", "lut_tc/fp16_mul.sv", "lut_tc/mac_dp_fp16.sv"), "mac_dp_fp16", {"K": k}
    )
    return Fp16UnitComparison(k, n_share, lane, table, mac)


__all__ = [
    "Fp16UnitComparison",
    "SynthStat",
    "UnitComparison",
    "lut_vs_mac_fp16_units",
    "lut_vs_mac_units",
]
