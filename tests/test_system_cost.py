"""The NPU + PIM system's energy and area: hand computations from cost-library calls, the per-op
split summing to the detailed total, and monotonicity in the design knobs."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import cost
from cosim.errors import SpecError
from cosim.graph import WorkloadGraph, gemm_op
from cosim.hw import memory, pim
from cosim.hw.systolic import native_sram_words
from cosim.system import NpuSpec, Spec, gpt3_decode_graph, npu_costs, simulate_detailed, system_area

SMALL_NPU = NpuSpec(arrays=2, rows=16, cols=16, vector_units=2, vector_lanes=16, spad_kib=64, accum_spad_kib=32)


def test_npu_area_is_pes_scratchpads_and_vector_lanes() -> None:
    total, comp, _ = system_area(Spec("s", npu=SMALL_NPU))
    pe = cost.pe_area_mm2("22nm", "fp", 16)
    spads = cost.sram_area_mm2("22nm", 64 * 1024, 256) + cost.sram_area_mm2("22nm", 32 * 1024, 256)
    lanes = 32 * cost.mac_area_mm2("22nm", "fp", 16)
    assert comp == pytest.approx({"mac": 2 * 16 * 16 * pe, "sram": spads, "vector": lanes})
    assert total == pytest.approx(2 * 16 * 16 * pe + spads + lanes) and total > 0


def test_system_area_adds_the_pim_units() -> None:
    spec = Spec("s", npu=SMALL_NPU, pim=pim.Spec())
    total, comp, extra = system_area(spec)
    npu_only, _, _ = system_area(Spec("n", npu=SMALL_NPU))
    pim_total, _, _ = pim.area_fields(spec.pim)
    a = pim.area(spec.pim)
    assert pim_total == pytest.approx(a.datapath_mm2 * 32 * 32 + a.buffer_mm2 * 32)
    assert comp["pim"] == pytest.approx(pim_total)
    assert total == pytest.approx(npu_only + pim_total)
    assert extra["pim_unit_bank_fraction"] == pytest.approx(a.bank_fraction)


def test_gemm_energy_by_hand_on_an_npu_only_system() -> None:
    spec = Spec("s", npu=SMALL_NPU)
    g = WorkloadGraph(name="g")
    g.add_op(gemm_op("a", 40, 48, 64, act_bits=16, weight_bits=16))
    r = simulate_detailed(spec, g)
    op = r.run.ops[0]
    c = npu_costs(SMALL_NPU)
    ifr, flr, ofw, ofr = native_sram_words("ws", 16, 16, 40, 48, 64)
    spad, acc = cost.sram_cost("22nm", 64 * 1024, 256), cost.sram_cost("22nm", 32 * 1024, 256)
    tm, en = memory.PRESETS["HBM2"], memory.ENERGY_PRESETS["HBM2"]
    rd, wr = op.op.bytes_read, op.op.bytes_written
    expect = {
        "mac": 40 * 48 * 64 * cost.pe_energy_j("22nm", "fp", 16),
        "sram": (ifr + flr) * spad.read_j / 16 + ofw * acc.write_j / 16 + ofr * acc.read_j / 16,
        "dram": ((rd + wr) / tm.row_bytes * en.act_pj + rd / tm.burst_bytes * en.rd_pj + wr / tm.burst_bytes * en.wr_pj)
        * 1e-12,
    }
    assert op.energy_by_component_j == pytest.approx(expect, rel=1e-12)
    assert c.mac_j == cost.pe_energy_j("22nm", "fp", 16)
    # time-based energy: 32 channels' background power and the scratchpads' leakage over the run
    static = (en.background_mw * 1e-3 * 32 + spad.leakage_w + acc.leakage_w) * r.seconds
    assert r.run.extra["static_energy_j"] == pytest.approx(static, rel=1e-12)
    assert r.run.energy_by_component_j() == pytest.approx({**expect, "static": static}, rel=1e-12)


@pytest.mark.parametrize("with_pim", [False, True])
def test_per_op_components_sum_to_the_detailed_total(with_pim: bool) -> None:
    spec = Spec("s", pim=pim.Spec() if with_pim else None, tensor_parallel=4)
    g = gpt3_decode_graph("g", d_model=4096, n_heads=32, n_layers=2, batch=64, kv_len=300)
    r = simulate_detailed(spec, g)
    comps = r.run.energy_by_component_j()
    assert set(comps) <= {"mac", "sram", "vector", "dram", "pim", "static"}
    assert ("pim" in comps) == with_pim
    for o in r.run.ops:
        assert o.energy_j == pytest.approx(math.fsum(o.energy_by_component_j.values()), rel=1e-12)
    assert r.run.energy_j == pytest.approx(math.fsum(comps.values()), rel=1e-12)
    assert r.run.energy_j == pytest.approx(math.fsum(r.energy_by_component_j.values()), rel=1e-9)
    assert comps["mac"] == pytest.approx(r.energy_by_component_j["npu_mac"], rel=1e-9)
    if with_pim:
        assert comps["pim"] == pytest.approx(r.energy_by_component_j["pim_mac"], rel=1e-9)
    assert r.run.to_dict()["total"]["energy_by_component_j"]["static"] > 0


def test_energy_grows_with_scratchpad_size() -> None:
    # the traffic does not depend on the scratchpad size in this model: only access energy and leakage
    g = WorkloadGraph(name="g")
    g.add_op(gemm_op("a", 64, 256, 256, act_bits=16, weight_bits=16))
    small = simulate_detailed(Spec("s", npu=SMALL_NPU), g).run
    big = simulate_detailed(Spec("b", npu=replace(SMALL_NPU, spad_kib=256, accum_spad_kib=256)), g).run
    assert big.seconds == small.seconds
    assert big.energy_by_component_j()["sram"] > small.energy_by_component_j()["sram"]
    assert big.energy_j > small.energy_j


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 16),
    st.sampled_from([8, 32, 128]),
    st.sampled_from([64, 256, 1024, 4096]),
    st.sampled_from([1, 8, 128]),
    st.sampled_from([4, 8, 16, 32]),
)
def test_area_grows_with_every_knob(arrays, size, spad, lanes, mults) -> None:
    npu = NpuSpec(arrays=arrays, rows=size, cols=size, spad_kib=spad, accum_spad_kib=spad, vector_lanes=lanes)
    base = Spec("s", npu=npu, pim=pim.Spec(multipliers_per_bank=mults))

    def area(spec: Spec) -> float:
        total = system_area(spec)[0]
        assert total is not None and total > 0
        return total

    a0 = area(base)
    for bigger in (
        replace(npu, arrays=arrays + 1),
        replace(npu, rows=size + 1),
        replace(npu, cols=size + 1),
        replace(npu, spad_kib=2 * spad),
        replace(npu, accum_spad_kib=2 * spad),
        replace(npu, vector_lanes=lanes + 1),
    ):
        assert area(replace(base, npu=bigger)) > a0, bigger
    assert area(replace(base, pim=pim.Spec(multipliers_per_bank=2 * mults))) > a0


def test_yosys_pe_option_and_bad_input() -> None:
    y = NpuSpec(arrays=1, rows=4, cols=4, pe_area_source="yosys")
    pe = cost.synth_area_mm2("22nm", transistors=12486 + 2 * 16 * 16)  # synthesised FP16 MAC + 2 x 16 flops
    assert dict(npu_costs(y).area_by_component_mm2)["mac"] == pytest.approx(16 * pe)
    with pytest.raises(SpecError, match="no synthesised MAC for fp32"):
        NpuSpec(operand_bits=32, pe_area_source="yosys")
    with pytest.raises(SpecError, match="unknown technology node"):
        NpuSpec(tech_node="2nm")
