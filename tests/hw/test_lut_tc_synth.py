"""Yosys area proxy of the LUT Tensor Core RTL: structural facts the netlist must show."""

from __future__ import annotations

import pytest

from cosim import synth
from cosim.errors import ModelError
from cosim.rtl import rtl_sources


def test_flip_flops_are_the_registers_of_the_rtl():
    """lut_cell holds only its accumulator; lut_unit adds a 2^(K-1) x TW table register, less
    2^(K-1) - 1 bits: all entries differ by even numbers (2 a_j), so they share one parity bit
    and yosys merges those flip-flops."""
    k, tw, acc = 3, 6, 10
    cell = synth.cell_stat(rtl_sources("lut_tc/lut_cell.sv"), "lut_cell", {"K": k, "TW": tw, "WB_W": 2, "ACC_W": acc})
    unit = synth.cell_stat(
        rtl_sources("lut_tc/lut_table_gen.sv", "lut_tc/lut_cell.sv", "lut_tc/lut_unit.sv"),
        "lut_unit",
        {"K": k, "AW": 4, "TW": tw, "WB_W": 2, "ACC_W": acc},
    )
    assert cell.cells["$_DFF_P_"] == acc
    entries = 1 << (k - 1)
    assert unit.cells["$_DFF_P_"] == acc + entries * tw - (entries - 1)
    assert cell.transistors == sum(synth.TRANSISTORS[c] * n for c, n in cell.cells.items())
    assert unit.transistors > cell.transistors


def test_mac_area_grows_with_operand_width():
    def t(aw):
        return synth.cell_stat(rtl_sources("lut_tc/mac_dp.sv"), "mac_dp", {"K": 2, "AW": aw, "WW": aw, "ACC_W": 16})

    small, big = t(4), t(6)
    assert small.cells["$_DFF_P_"] == big.cells["$_DFF_P_"] == 16
    assert big.transistors > 1.5 * small.transistors  # array multipliers grow ~ quadratically


def test_parse_stat_reads_cells_and_marks_inexact_estimates():
    text = "   Number of cells: 3\n     $_NAND_   2\n     $_DFFE_PP_   1\n   Estimated number of transistors: 8+\n"
    cells, est = synth.parse_stat(text)
    assert cells == {"$_NAND_": 2, "$_DFFE_PP_": 1} and est is None


def test_unknown_top_is_a_model_error():
    with pytest.raises(ModelError, match="nonexistent"):
        synth.cell_stat(rtl_sources("lut_tc/lut_cell.sv"), "nonexistent", cache=False)
