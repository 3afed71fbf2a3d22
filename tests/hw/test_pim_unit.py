"""The in-bank PIM unit (cosim.hw.pim_unit): parameters from a spec, area accounting against hand
computations, the area in the PIM and system models' output, and bad input."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from cosim import cost
from cosim.errors import ModelError, SpecError
from cosim.graph import WorkloadGraph, gemm_op
from cosim.hw import pim, pim_unit
from cosim.hw.pim_unit import UnitParams, UnitSynth
from cosim.rtl import rtl_sources

INT = pim.OperandFormat.INT


def _graph(*ops) -> WorkloadGraph:
    g = WorkloadGraph(name="t")
    for o in ops:
        g.add_op(o)
    return g


# ----------------------------------------------------------------------------- parameters


def test_unit_params_follow_the_spec():
    p = pim_unit.unit_params(pim.Spec())  # NeuPIMs: 16 FP16 multipliers, 1 KB rows
    assert (p.lanes, p.operand_bits, p.buffer_depth, p.adder_tree_cycles, p.fp16, p.acc_bits) == (
        16,
        16,
        32,
        2,
        True,
        16,
    )
    q = pim_unit.unit_params(pim.Spec(operand_format=INT, operand_bits=8, multipliers_per_bank=32, adder_tree_cycles=4))
    # 1024 INT8 elements per row in 32 MACs; the longest reduction is 1024 products: 16 + 10 bits
    assert (q.buffer_depth, q.acc_bits) == (32, 26)
    assert q.rtl_parameters() == {"LANES": 32, "W": 8, "FP16": 0, "BUF_DEPTH": 32, "ADDER_TREE_CYCLES": 4, "ACC_W": 26}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lanes": 12}, "power of two"),
        ({"lanes": 0}, "lanes"),
        ({"fp16": True, "operand_bits": 8}, "fp16 needs operand_bits 16"),
        ({"operand_bits": 1}, "operand_bits"),
        ({"operand_bits": 64}, "operand_bits"),
        ({"buffer_depth": 1}, "buffer_depth"),
        ({"adder_tree_cycles": 0}, "adder_tree_cycles"),
    ],
)
def test_bad_unit_parameters_are_rejected(kwargs, match):
    with pytest.raises(SpecError, match=match):
        UnitParams(**kwargs)


def test_specs_the_rtl_cannot_build_have_no_area_but_still_simulate():
    fp8 = pim.Spec(operand_bits=8, multipliers_per_bank=32)
    with pytest.raises(ModelError, match="FP16 only"):
        pim_unit.unit_params(fp8)
    with pytest.raises(ModelError, match="must divide a row"):
        pim_unit.unit_params(pim.Spec(operand_format=INT, multipliers_per_bank=12))
    r = pim.simulate(fp8, _graph(gemm_op("y", 1, 1024, 1024)))
    assert r.area_mm2 is None and "FP16 only" in r.extra["pim_area_note"] and r.cycles > 0


# ----------------------------------------------------------------------------- area


def test_area_matches_a_hand_computation():
    p = UnitParams(operand_bits=8, fp16=False)
    s = UnitSynth(unit_transistors=1_000_000, buffer_transistors=200_000)
    a = pim_unit.unit_area(p, s, memory="HBM2", bank_bits=1 << 28, banks_per_buffer=32)
    # by hand: NAND2-eq = transistors / 4; NanGate45 NAND2_X1 0.798 um^2 x Stillmaker-Baas 45->20 nm
    # area factor 0.21; / 0.7 placement utilisation; x 10 for the DRAM process
    um2_per_nand2 = 0.798 * 0.21 / 0.7 * 10
    datapath = 800_000 / 4 * um2_per_nand2 * 1e-6
    buffer = 200_000 / 4 * um2_per_nand2 * 1e-6
    bank = 7.75 * 11.87 / 32  # 92 mm^2 per 8 Gb die, 256 Mb per bank
    assert a.datapath_mm2 == pytest.approx(datapath)
    assert a.buffer_mm2 == pytest.approx(buffer)
    assert a.bank_mm2 == pytest.approx(bank)
    assert a.bank_fraction == pytest.approx((datapath + buffer / 32) / bank)
    assert a.private_buffer_fraction == pytest.approx((datapath + buffer) / bank)
    # the DRAM factor and the node scale it as stated
    b = pim_unit.unit_area(p, s, memory="HBM2", bank_bits=1 << 28, banks_per_buffer=32, dram_logic_area_factor=1.0)
    assert a.datapath_mm2 == pytest.approx(10 * b.datapath_mm2)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"dram_logic_area_factor": 0.5}, SpecError, "dram_logic_area_factor"),
        ({"banks_per_buffer": 0}, SpecError, "banks_per_buffer"),
        ({"logic_node": "3nm"}, SpecError, "unknown technology node"),
        ({"memory": "HBM3"}, ModelError, "no sourced die area for 'HBM3'"),
        ({"bank_bits": 0}, ModelError, "bank_bits"),
    ],
)
def test_bad_area_inputs_are_rejected(kwargs, err, match):
    args = {"memory": "HBM2", "bank_bits": 1 << 28, "banks_per_buffer": 32, **kwargs}
    with pytest.raises(err, match=match):
        pim_unit.unit_area(UnitParams(), UnitSynth(100, 10), **args)


def test_buffer_cannot_exceed_the_unit():
    with pytest.raises(SpecError, match="buffer transistors"):
        pim_unit.unit_area(UnitParams(), UnitSynth(100, 100), memory="HBM2", bank_bits=1 << 28, banks_per_buffer=1)


def test_model_reports_area_fraction_of_a_bank():
    spec = pim.Spec()
    a = pim.area(spec)
    syn = pim_unit.RECORDED_SYNTH[pim_unit.unit_params(spec)]
    assert a.datapath_transistors == syn.datapath_transistors
    assert a.banks_per_buffer == 32  # one global vector buffer per channel (the model's assumption)
    g = _graph(gemm_op("y", 1, 4096, 4096))
    r = pim.simulate(spec, g)
    assert r.extra["pim_unit_bank_fraction"] == pytest.approx(a.bank_fraction)
    assert r.area_mm2 == pytest.approx(
        a.datapath_mm2 * 32 * spec.channels + a.buffer_mm2 * spec.channels
    )  # every bank's datapath, one buffer per channel
    assert {p["design"] for p in r.extra["pim_area_published"]} >= {"Samsung HBM-PIM (Aquabolt-XL)"}
    assert r.to_dict()["total"]["pim_unit_bank_fraction"] == pytest.approx(a.bank_fraction)


def test_unit_nobody_synthesised_gets_the_build_up_calibrated_to_a_synthesis():
    spec = pim.Spec(adder_tree_cycles=7)  # a unit nobody synthesised: FP16, 16 lanes, 7-cycle tree
    a = pim.area(spec)
    ref = UnitParams(16, 16, 32, 2, fp16=True)
    syn = pim_unit.RECORDED_SYNTH[ref]
    dp, buf = pim_unit.table_area_mm2(pim_unit.unit_params(spec))
    dp_ref, buf_ref = pim_unit.table_area_mm2(ref)
    # by hand: each part of the synthesised reference scaled by the cost-library build-up ratio
    assert a.buffer_transistors == round(syn.buffer_transistors * buf / buf_ref) == syn.buffer_transistors
    assert a.datapath_transistors == round(syn.datapath_transistors * dp / dp_ref)
    assert a.datapath_transistors > syn.datapath_transistors  # five more pipeline stages
    assert a.source.startswith("yosys-calibrated")
    r = pim.simulate(spec, _graph(gemm_op("y", 1, 1024, 1024)))
    assert r.area_mm2 == pytest.approx(a.datapath_mm2 * 32 * 32 + a.buffer_mm2 * 32)
    assert r.extra["pim_area"]["source"] == a.source


def test_table_area_is_the_cost_library_build_up():
    p = UnitParams(lanes=4, operand_bits=8, buffer_depth=32, adder_tree_cycles=3, fp16=False)
    dp, buf = pim_unit.table_area_mm2(p, "20nm")
    acc = p.acc_bits
    expect_dp = (
        4 * cost.mult_area_mm2("20nm", "int", 8)
        + 4 * cost.add_area_mm2("20nm", "int", acc)
        + cost.register_area_mm2("20nm", acc)
        + 2 * cost.register_area_mm2("20nm", 2 * acc)
    )
    assert dp == pytest.approx(expect_dp)
    assert buf == pytest.approx(cost.regfile_area_mm2("20nm", 32, 32))
    spec = pim.Spec(area_source="table")
    a = pim.area(spec)
    dp16, buf16 = pim_unit.table_area_mm2(pim_unit.unit_params(spec), "20nm")
    assert (
        a.source == "table" and a.datapath_mm2 == pytest.approx(10 * dp16) and a.buffer_mm2 == pytest.approx(10 * buf16)
    )
    # the build-up lands within 25% of the synthesised unit (same RTL structure, different cell data)
    y = pim.area(pim.Spec())
    assert a.datapath_mm2 == pytest.approx(y.datapath_mm2, rel=0.25)
    assert a.buffer_mm2 == pytest.approx(y.buffer_mm2, rel=0.25)


@pytest.mark.parametrize("source", ["yosys", "table"])
def test_pim_area_grows_with_multipliers_per_bank(source):
    areas = [
        pim.area(pim.Spec(multipliers_per_bank=m, area_source=source)).per_bank_mm2 for m in (1, 2, 4, 8, 16, 32, 64)
    ]
    assert all(b > a > 0 for a, b in itertools.pairwise(areas)), areas


def test_system_reports_the_pim_unit_fraction():
    from cosim.hw import load_arch
    from cosim.system import simulate_detailed
    from tests.conftest import MODELS

    arch = load_arch(MODELS / "neupims.yaml")
    g = _graph(gemm_op("y", 8, 1024, 1024))
    res = simulate_detailed(arch.spec, g)
    assert res.pim_unit_bank_fraction == pytest.approx(pim.area(arch.spec.pim).bank_fraction)
    assert res.run.extra["pim_unit_bank_fraction"] == res.pim_unit_bank_fraction
    assert set(res.run.area_by_component_mm2) == {"mac", "sram", "vector", "pim"}
    assert res.run.area_by_component_mm2["pim"] == pytest.approx(pim.area_fields(arch.spec.pim)[0])


@pytest.mark.slow
@pytest.mark.parametrize("params", list(pim_unit.RECORDED_SYNTH), ids=str)
def test_recorded_synthesis_matches_yosys(params):
    """The counts the timing model reports from are what yosys gives for this RTL today."""
    assert pim_unit.synthesize(params) == pim_unit.RECORDED_SYNTH[params]


def test_spec_rejects_an_unknown_operand_format():
    from cosim.spec import parse

    with pytest.raises(SpecError, match="operand_format"):
        parse(pim.Spec, {"operand_format": "bf16"}, "pim")
    assert parse(pim.Spec, {"operand_format": "int"}, "pim").operand_format is INT
    assert replace(pim.Spec(), operand_format=INT).operand_format == "int"


def test_flip_flops_are_the_registers_of_the_rtl():
    """A small unit, 3-cycle tree: buffer 2 x 8 bits, products 2 x 8, one tree register (9 bits,
    after the single level), accumulator and result 10 bits each (2W + log2 4), the 2-bit MAC
    valid pipeline and four flags (acc_full, acc_landed, res_valid, rd_overlap)."""
    p = UnitParams(lanes=2, operand_bits=4, buffer_depth=2, adder_tree_cycles=3)
    st = pim_unit.yosys_stat_noshare(rtl_sources(*pim_unit.UNIT_SOURCES), "pim_gemv", p.rtl_parameters())
    assert p.acc_bits == 10
    assert st.cells["$_DFF_P_"] == 16 + 16 + 9 + 10 + 10 + 2 + 4
    buf = pim_unit.synthesize(p)
    assert 0 < buf.buffer_transistors < buf.unit_transistors == st.transistors
