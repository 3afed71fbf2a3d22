"""Energy and area of the CPU baseline and of the SAIL-like SRAM-LUT system built on it: hand
computations from cost-library calls, the shared component names, monotonicity in the knobs."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import cost
from cosim.graph import gemm_op
from cosim.hw import cpu
from cosim.hw import sram_lut as sl
from tests.hw.test_cpu import graph, spec
from tests.hw.test_sram_lut import sail


def _caches(s: cpu.Spec) -> list[cost.SramCost]:
    # by hand: L1D and L2 per core and the LLC, each a CACTI array read 512 bits (a line) at a time
    per_core = [cost.sram_cost("7nm", s.l1d_bytes, 512), cost.sram_cost("7nm", s.l2_bytes, 512)]
    return per_core * s.cores + [cost.sram_cost("7nm", s.llc_bytes, 512)]


def test_cpu_gemv_energy_by_hand() -> None:
    s = spec()
    r = cpu.simulate(s, graph(gemm_op("w", 1, 4096, 4096, weight_bits=4, act_bits=16))).ops[0]
    instr = 70e-12 * cost.get_node("7nm").energy_from(45, 0.9)  # Horowitz's ADD instruction, scaled
    llc_byte = cost.sram_access_energy_j("7nm", 1 << 20, 512) / 64
    leak = math.fsum(c.leakage_w for c in _caches(s))
    expect = {
        "mac": r.extra["mac_ops"] * instr,
        "vector": (r.extra["dequant_ops"] + r.extra["act_quant_ops"]) * instr,
        "sram": r.bytes_by_level["llc"] * llc_byte,
        "dram": r.bytes_by_level["dram"] * cost.dram_energy_per_byte_j("ddr3"),
        "static": leak * r.seconds,
    }
    assert r.energy_by_component_j == pytest.approx(expect, rel=1e-12)
    assert r.energy_j == pytest.approx(math.fsum(expect.values()), rel=1e-12)
    given_static = cpu.simulate(replace(s, static_power_w=5.0), graph(gemm_op("w", 1, 64, 64, weight_bits=4)))
    assert given_static.ops[0].energy_by_component_j["static"] == pytest.approx(5.0 * given_static.ops[0].seconds)


def test_cpu_area_by_hand() -> None:
    s = spec()
    area = cpu.simulate(s, graph()).area_by_component_mm2
    assert area == pytest.approx(
        {
            "sram": math.fsum(c.area_mm2 for c in _caches(s)),
            "vector": 4 * 2 * 8 * cost.mac_area_mm2("7nm", "fp", 16),  # 4 cores x 2 pipes x 8 FP16 lanes
        }
    )
    with_core = cpu.simulate(replace(s, core_logic_area_mm2=1.5), graph())
    assert with_core.area_by_component_mm2["core"] == 4 * 1.5
    assert with_core.area_mm2 == pytest.approx(math.fsum(area.values()) + 6.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 64), st.sampled_from([1 << 20, 8 << 20, 32 << 20]), st.sampled_from([128, 256, 512]))
def test_cpu_area_and_static_power_grow_with_cores_and_cache(cores, llc, bits) -> None:
    s = spec(cores=cores, llc_bytes=llc, vector_bits=bits)
    a0 = cpu.simulate(s, graph()).area_mm2
    assert a0 > 0
    assert cpu.simulate(replace(s, cores=cores + 1), graph()).area_mm2 > a0
    assert cpu.simulate(replace(s, llc_bytes=2 * llc), graph()).area_mm2 > a0
    assert replace(s, llc_bytes=2 * llc).energy().static_w > s.energy().static_w


def test_sail_components_and_area_by_hand() -> None:
    s = sail()
    run = sl.simulate(s, graph(gemm_op("w", 4, 512, 512, weight_bits=3), batch=4))
    lut_op = run.ops[0]
    assert set(lut_op.energy_by_component_j) == {"sram", "lut", "vector", "dram", "static"}
    d = lut_op.extra["energy_detail_j"]
    assert lut_op.energy_by_component_j["lut"] == pytest.approx(d["lookup_accumulate"] + d["table_build"])
    assert lut_op.energy_by_component_j["vector"] == pytest.approx(d["reduce_fma"])
    assert lut_op.energy_by_component_j["static"] == pytest.approx(s.cpu.energy().static_w * lut_op.seconds)
    assert lut_op.energy_j == pytest.approx(math.fsum(lut_op.energy_by_component_j.values()))
    # area: the host CPU's plus the added LUT logic (engines + near-slice builders and lanes)
    assert run.area_by_component_mm2 == pytest.approx(
        {**s.cpu.area_by_component_mm2(), "lut": sl.area_overhead(s)["added_mm2"]}
    )
    assert run.area_mm2 == pytest.approx(cpu.simulate(s.cpu, graph()).area_mm2 + sl.area_overhead(s)["added_mm2"])


@pytest.mark.parametrize("frac", [0.125, 0.25, 0.5, 0.75])
def test_sail_area_grows_with_the_lent_share(frac: float) -> None:
    s = replace(sail(slices=4, per_slice=16), subarrays_per_engine=2)
    lo = sl.simulate(replace(s, pim_fraction=frac), graph()).area_mm2
    hi = sl.simulate(replace(s, pim_fraction=frac + 0.25), graph()).area_mm2
    assert hi > lo > 0
