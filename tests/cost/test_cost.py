"""The cost library against its sources' numbers, its scaling rule, and its errors.

References used here are the published figures themselves (Horowitz ISSCC 2014, Aladdin's
40 nm tables, Stillmaker & Baas 2017, FGDRAM/AttAcc, NanGate45) and an independent CACTI 7.0
run at 22 nm that the library does not contain.
"""

from __future__ import annotations

import itertools
import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cosim import cost
from cosim.cost.nodes import make_node
from cosim.errors import SpecError

HOROWITZ = make_node(45, 0.9)  # Horowitz's table: 45 nm, 0.9 V
ALADDIN = make_node(40, 0.9)
CACTI45 = make_node(45, 1.0)  # our CACTI runs: 45 nm, Vdd 1.0 V
PJ = 1e-12
UM2 = 1e-6


# --------------------------------------------------------------------------- source tables


@pytest.mark.parametrize(
    ("fn", "fmt", "bits", "expected_pj"),
    [
        (cost.add_energy_j, "int", 8, 0.03),
        (cost.add_energy_j, "int", 32, 0.1),
        (cost.mult_energy_j, "int", 8, 0.2),
        (cost.mult_energy_j, "int", 32, 3.1),
        (cost.add_energy_j, "fp", 16, 0.4),
        (cost.add_energy_j, "fp", 32, 0.9),
        (cost.mult_energy_j, "fp", 16, 1.1),
        (cost.mult_energy_j, "fp", 32, 3.7),
    ],
)
def test_arithmetic_energy_equals_horowitz_at_45nm_0v9(fn, fmt, bits, expected_pj):
    assert fn(HOROWITZ, fmt, bits) == pytest.approx(expected_pj * PJ, rel=1e-12)


@pytest.mark.parametrize(
    ("fn", "fmt", "bits", "expected_um2"),
    [
        (cost.add_area_mm2, "int", 8, 36),
        (cost.add_area_mm2, "int", 16, 67),
        (cost.add_area_mm2, "int", 32, 137),
        (cost.mult_area_mm2, "int", 8, 282),
        (cost.mult_area_mm2, "int", 32, 3495),
        (cost.add_area_mm2, "fp", 16, 1360),
        (cost.add_area_mm2, "fp", 32, 4184),
        (cost.mult_area_mm2, "fp", 16, 1640),
        (cost.mult_area_mm2, "fp", 32, 7700),
    ],
)
def test_arithmetic_area_equals_horowitz_at_45nm(fn, fmt, bits, expected_um2):
    assert fn(HOROWITZ, fmt, bits) == pytest.approx(expected_um2 * UM2, rel=1e-12)


def test_mac_is_multiply_plus_accumulator_add():
    # int8 MAC with a 32-bit accumulator: 0.2 + 0.1 pJ; fp16 with fp32 accumulation: 1.1 + 0.9 pJ
    assert cost.mac_energy_j(HOROWITZ, "int", 8) == pytest.approx(0.3 * PJ)
    assert cost.mac_energy_j(HOROWITZ, "float16") == pytest.approx(2.0 * PJ)
    assert cost.mac_area_mm2(HOROWITZ, "int8") == pytest.approx((282 + 137) * UM2)
    assert cost.default_acc_bits("int", 8) == 32


def test_pe_adds_pipeline_registers_to_the_mac():
    # int8 PE: MAC (282 + 137 um^2 at 45 nm) + 2*8 + 32 register bits (Aladdin 5.98 um^2/bit at 40 nm)
    reg = cost.register_area_mm2(HOROWITZ, 48)
    assert cost.pe_area_mm2(HOROWITZ, "int", 8) == pytest.approx((282 + 137) * UM2 + reg)


def test_register_and_mux_equal_aladdin_40nm():
    assert cost.register_energy_j(ALADDIN, 1) == pytest.approx(0.009 * PJ)
    assert cost.register_area_mm2(ALADDIN, 32) == pytest.approx(32 * 5.98 * UM2)
    assert cost.mux2_area_mm2(ALADDIN, 32) == pytest.approx(50.4 * UM2)


def test_interpolated_width_follows_power_law_through_published_points():
    # int multiply: 0.2 pJ at 8 b, 3.1 pJ at 32 b -> exponent log(15.5)/log(4); at 16 b: 0.2 * 2^k
    k = math.log(3.1 / 0.2) / math.log(4)
    assert cost.mult_energy_j(HOROWITZ, "int", 16) == pytest.approx(0.2 * 2**k * PJ)


def test_sram_grid_points_equal_cacti_run():
    # rows of cosim/cost/_cacti45.py, read back at the source node
    c = cost.sram_cost(CACTI45, 32768, 64)
    assert c.read_j == pytest.approx(12.63 * PJ, rel=1e-3)
    assert c.write_j == pytest.approx(11.74 * PJ, rel=1e-3)
    assert c.area_mm2 == pytest.approx(0.1119, rel=1e-3)
    assert c.leakage_w == pytest.approx(6.287e-3, rel=1e-3)


@pytest.mark.parametrize(("capacity", "horowitz_pj"), [(8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0)])
def test_sram_agrees_with_horowitz_cache_energies_within_2x(capacity, horowitz_pj):
    # Horowitz's 64-bit cache accesses at 45 nm include a tag array; a scratchpad costs less, not 2x less
    e = cost.sram_access_energy_j(HOROWITZ, capacity, 64)
    assert horowitz_pj * PJ / 2 <= e <= horowitz_pj * PJ


# An independent CACTI 7.0 run at 22 nm (same configuration as the 45 nm table): capacity -> (read pJ, area mm^2).
CACTI_22NM_64B = {
    4096: (1.091, 0.003518),
    32768: (3.11, 0.0317),
    262144: (9.266, 0.2362),
    2097152: (25.21, 1.601),
    16777216: (69.62, 12.46),
}


@pytest.mark.parametrize("capacity", sorted(CACTI_22NM_64B))
def test_scaling_rule_predicts_cacti_22nm_within_30pct(capacity):
    node22 = make_node(22, 0.9)  # CACTI's 22 nm HP periphery runs at 0.9 V
    c = cost.sram_cost(node22, capacity, 64)
    rd_pj, area = CACTI_22NM_64B[capacity]
    assert c.read_j == pytest.approx(rd_pj * PJ, rel=0.3)
    assert c.area_mm2 == pytest.approx(area, rel=0.3)


def test_stillmaker_area_and_energy_factors():
    n7 = cost.get_node("7nm")
    assert n7.logic_area_from_45nm == pytest.approx(0.059)  # their area table, 45 -> 7 nm
    assert cost.get_node("32nm").logic_area_from_45nm == pytest.approx(0.46)
    # energy: E7(0.7 V) / E45(1.0 V) with the HP coefficients of the paper
    e7 = 0.1776 * 0.49 - 0.09097 * 0.7 + 0.02447
    e45 = 1.018 - 0.3107 + 0.1539
    assert n7.energy_from(45, 1.0) == pytest.approx(e7 / e45)


def test_28nm_is_interpolated_between_32_and_20nm():
    t = math.log(32 / 28) / math.log(32 / 20)
    expected = math.exp((1 - t) * math.log(0.46) + t * math.log(0.21))
    assert cost.get_node("28nm").logic_area_from_45nm == pytest.approx(expected)
    assert 0.21 < expected < 0.46


def test_nand2_area_is_nangate45_scaled():
    assert cost.get_node("45nm").nand2_um2 == pytest.approx(0.798)
    assert cost.get_node("7nm").nand2_um2 == pytest.approx(0.798 * 0.059)


def test_dram_energies_equal_their_sources():
    assert cost.dram_energy_per_bit_j("hbm2") == pytest.approx(3.59 * PJ)
    assert cost.dram_energy_per_bit_j("HBM2_PIM_BANK") == pytest.approx(0.55 * PJ)
    assert cost.dram_energy_per_bit_j("ddr3") == pytest.approx(1950 / 64 * PJ)
    assert cost.dram_energy_per_byte_j("hbm2") == pytest.approx(8 * 3.59 * PJ)


def test_idd_command_energies_of_the_hbm2_device():
    # DRAMsim3's IDD model on HBM2_8Gb_x128.ini at tCK 1 ns (tRC 48, tRAS 34, tRP 14, BL4 = 2 cycles, tRFC 260)
    from cosim.cost.dram import HBM2_8GB_X128_IDD, idd_command_energy

    e = idd_command_energy(HBM2_8GB_X128_IDD, tck_ns=1.0, tRC=48, tRAS=34, tRP=14, burst_cycles=2, tRFC=260)
    assert e.act_pj == pytest.approx(1.2 * (65 * 48 - (55 * 34 + 40 * 14)))  # 828 pJ
    assert e.rd_pj == pytest.approx(1.2 * (390 - 55) * 2)  # 804 pJ per 64 B burst
    assert e.wr_pj == pytest.approx(1.2 * (500 - 55) * 2)  # 1068 pJ
    assert e.ref_pj == pytest.approx(1.2 * (250 - 55) * 260)  # 60.8 nJ
    assert e.background_mw == pytest.approx(66.0)


@pytest.mark.parametrize("node", ["45nm", "28nm", "14nm", "7nm"])
def test_wire_energy_inside_darpa_exascale_range(node):
    e = cost.wire_energy_per_bit_mm_j(node)
    assert 18e-15 <= e <= 110e-15


def test_noc_hop_composition():
    t = cost.cost_table("28nm")
    wire = cost.wire_energy_per_bit_mm_j("28nm")
    assert t.noc_hop_energy_j(64, hop_mm=0.5, router=False) == pytest.approx(64 * 0.5 * wire + t.register_energy_j(64))
    assert t.noc_hop_energy_j(64, 1.0) > t.noc_hop_energy_j(64, 1.0, router=False)


def test_synth_area_from_transistors(tmp_path):
    # 40,000 transistors = 10,000 NAND2 at 0.798 um^2 (45 nm), 70% utilization
    assert cost.synth_area_mm2("45nm", transistors=40_000) == pytest.approx(10_000 * 0.798e-6 / 0.7)
    p = tmp_path / "pe.json"
    p.write_text(json.dumps({"block": "pe", "transistors": 40_000, "cells": {"NAND": 3, "DFF": 2}}))
    s = cost.load_synth_json(p)
    assert (s.block, s.cells) == ("pe", 5)
    assert s.area_mm2("7nm", utilization=1.0) == pytest.approx(10_000 * 0.798 * 0.059e-6)


def test_lut_unit_composition():
    t = cost.cost_table("28nm")
    full = t.lut_unit_area_mm2(4, 11, 32)
    shared = t.lut_unit_area_mm2(4, 11, 32, shared_table=True)
    assert full - shared == pytest.approx(t.register_area_mm2(8 * 11))
    fill = t.lut_table_fill_energy_j(4, 11)
    assert fill == pytest.approx(8 * (t.add_energy_j("int", 11) + t.register_energy_j(11)))


# --------------------------------------------------------------------------- monotonicity


_ORDER = ["65nm", "45nm", "40nm", "32nm", "28nm", "22nm", "20nm", "16nm", "14nm", "12nm", "10nm", "7nm"]


def test_node_list_is_ordered_largest_first():
    assert list(cost.NODE_NAMES) == _ORDER


@pytest.mark.parametrize(
    "measure",
    [
        lambda n: cost.mac_energy_j(n, "int", 8),
        lambda n: cost.mac_area_mm2(n, "fp", 16),
        lambda n: cost.pe_energy_j(n, "bfloat16"),
        lambda n: cost.sram_access_energy_j(n, 64 * 1024, 128),
        lambda n: cost.sram_area_mm2(n, 1 << 20, 256, 2),
        lambda n: cost.sram_leakage_w(n, 1 << 20),
        lambda n: cost.regfile_area_mm2(n, 32, 16),
        lambda n: cost.lut_lookup_energy_j(n, 4, 11, 32),
        lambda n: cost.get_node(n).nand2_um2,
    ],
)
def test_smaller_nodes_never_cost_more(measure):
    values = [measure(n) for n in _ORDER]
    assert all(b < a for a, b in itertools.pairwise(values)), values


@given(st.sampled_from(["int", "fp"]), st.integers(1, 31), st.sampled_from(_ORDER))
def test_wider_operands_never_cost_less(fmt, bits, node):
    lo = cost.FP_BITS_RANGE[0] if fmt == "fp" else 1
    b = max(bits, lo)
    for fn in (cost.mult_energy_j, cost.add_energy_j, cost.mult_area_mm2, cost.add_area_mm2, cost.mac_energy_j):
        assert fn(node, fmt, b + 1) > fn(node, fmt, b)


@given(st.integers(6, 27), st.sampled_from([32, 64, 128, 256, 512, 1024]), st.sampled_from(["1rw", "1r1w", "2rw"]))
@example(6, 128, "1r1w")  # below the smallest grid capacity: the two-port extrapolation once fell with capacity
def test_sram_larger_capacity_never_cheaper(log2_cap, width, ports):
    cap = 2**log2_cap
    if width > 8 * cap:
        return
    a, b = cost.sram_cost("28nm", cap, width, ports), cost.sram_cost("28nm", 2 * cap, width, ports)
    assert b.read_j >= a.read_j and b.area_mm2 > a.area_mm2 and b.leakage_w > a.leakage_w


@pytest.mark.parametrize("node", ["65nm", "45nm", "28nm", "7nm"])
@pytest.mark.parametrize("ports", ["1rw", "1r1w", "2rw"])
def test_sram_cost_never_falls_with_capacity_off_the_grid(node, ports):
    # every width, including ones off the CACTI grid (16, 48, 96, 2048 bits), from 2 B to 256 MB
    for width in (16, 32, 48, 64, 96, 128, 256, 512, 1024, 2048):
        prev = None
        for cap in (2**k for k in range(1, 29)):
            if width > 8 * cap:
                continue
            c = cost.sram_cost(node, cap, width, ports)
            now = (c.read_j, c.write_j, c.area_mm2, c.leakage_w)
            if prev is not None:
                assert all(b >= a for a, b in zip(prev, now)), (width, cap, prev, now)
            prev = now


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cost.get_node("5nm"), "unknown technology node '5nm'"),
        (lambda: cost.cost_table("28 nmm"), "unknown technology node"),
        (lambda: cost.mac_energy_j("28nm", "posit", 8), "unknown data type 'posit'"),
        (lambda: cost.mac_energy_j("28nm", "int", 33), "int width must be in 1..32"),
        (lambda: cost.mac_energy_j("28nm", "fp", 3), "fp width must be in 4..32"),
        (lambda: cost.mac_energy_j("28nm", "int"), "give the width in bits"),
        (lambda: cost.mac_energy_j("28nm", "int", 16, acc_bits=8), "at least as wide"),
        (lambda: cost.sram_cost("28nm", 1024, 64, "3rw"), "unknown port configuration"),
        (lambda: cost.sram_cost("28nm", 1024, 64, 4), "1 or 2 ports"),
        (lambda: cost.sram_cost("28nm", 0, 64), "must be > 0"),
        (lambda: cost.sram_cost("28nm", 4, 64), "exceeds the array"),
        (lambda: cost.dram_energy_per_bit_j("ddr9"), "unknown memory kind 'ddr9'"),
        (lambda: cost.synth_area_mm2("7nm"), "exactly one"),
        (lambda: cost.synth_area_mm2("7nm", transistors=4, utilization=1.5), "utilization"),
        (lambda: make_node(3), "outside the supported range"),
        (lambda: cost.lut_lookup_energy_j("7nm", 9, 8, 16), "group size k"),
    ],
)
def test_bad_input_raises_spec_error(call, message):
    with pytest.raises(SpecError, match=message):
        call()
