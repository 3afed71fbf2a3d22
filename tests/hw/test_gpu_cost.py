"""The GPU model's energy and area: per-op components against hand computations from cost-library
calls (cost model) and from the calibrated energy per FLOP, the published die area, monotonicity."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import cost
from cosim.errors import SpecError
from cosim.graph import OpKind, WorkloadGraph, gemm_op, vector_op
from cosim.hw import gpu, load_arch
from tests.hw.test_gpu import ROOT, toy

# the toy GPU of tests/hw/test_gpu.py (one 128 x 128 tile, no split-K) with memories and power
L2, SMEM = 4 << 20, 64 << 10


def spec(**kw) -> gpu.Spec:
    base = {"l2_bytes": L2, "smem_bytes_per_sm": SMEM, "idle_power_w": 50.0, "die_area_mm2": 100.0}
    return replace(toy(), **{**base, **kw})


def _graph(*ops) -> WorkloadGraph:
    g = WorkloadGraph(name="g")
    for o in ops:
        g.add_op(o)
    return g


def test_gemm_energy_by_hand_cost_model() -> None:
    s = spec()
    r = gpu.simulate(s, _graph(gemm_op("a", 256, 384, 512, act_bits=16, weight_bits=16, dtype="bfloat16")))
    op = r.ops[0]
    assert (op.extra["tile_m"], op.extra["tile_n"], op.extra["split_k"]) == (128, 128, 1)
    # A (256 x 512) re-read by 3 tile columns, B (512 x 384) by 2 tile rows, 2 bytes each; C written once
    panels = 2 * (256 * 512 * 3 + 512 * 384 * 2)
    out = 2 * 256 * 384
    l2 = cost.sram_access_energy_j("7nm", L2, 1024) / 128
    smem = cost.sram_access_energy_j("7nm", SMEM, 1024) / 128
    expect = {
        "mac": 256 * 384 * 512 * cost.mac_energy_j("7nm", "fp", 16),
        "sram": (panels + out) * l2 + 2 * panels * smem,
        "dram": op.op.bytes_total * cost.dram_energy_per_byte_j("hbm2"),
        "static": 50.0 * op.seconds,
    }
    assert op.energy_by_component_j == pytest.approx(expect, rel=1e-12)
    assert op.energy_j == pytest.approx(math.fsum(expect.values()), rel=1e-12)


def test_vector_op_and_calibrated_model() -> None:
    v = vector_op("add", OpKind.ELEMENTWISE, elements=1 << 20, bytes_read=4 << 20, bytes_written=2 << 20)
    g = _graph(v, gemm_op("a", 256, 256, 256, act_bits=16, weight_bits=16, dtype="bfloat16"))
    r = gpu.simulate(spec(), g)
    e = r.ops[0].energy_by_component_j
    assert e["vector"] == pytest.approx(v.flops * cost.add_energy_j("7nm", "fp", 32))
    assert e["sram"] == pytest.approx((6 << 20) * cost.sram_access_energy_j("7nm", L2, 1024) / 128)
    assert set(e) == {"vector", "sram", "dram", "static"}
    cal = gpu.simulate(spec(energy_model="calibrated"), g)
    # calibrated: the fitted whole-board energy per FLOP (toy: 1 pJ) replaces MAC + on-chip movement
    assert cal.ops[1].energy_by_component_j["mac"] == pytest.approx(2 * 256**3 * 1e-12)
    assert "sram" not in cal.ops[1].energy_by_component_j
    assert cal.ops[1].energy_by_component_j["dram"] == r.ops[1].energy_by_component_j["dram"]


def test_area_is_the_published_die_area() -> None:
    r = gpu.simulate(spec(die_area_mm2=826.0), WorkloadGraph(name="empty"))
    assert r.area_mm2 == 826.0 and r.area_by_component_mm2 == {"die": 826.0}
    assert gpu.simulate(spec(die_area_mm2=0.0), WorkloadGraph(name="empty")).area_mm2 is None
    a100 = load_arch(ROOT / "models" / "gpu_a100.yaml").spec
    h100 = load_arch(ROOT / "models" / "gpu_h100.yaml").spec
    assert (a100.die_area_mm2, h100.die_area_mm2) == (826, 814)  # whitepapers, Table 3


def test_presets_report_every_component() -> None:
    g = _graph(
        gemm_op("a", 8, 4096, 4096, act_bits=16, weight_bits=16, dtype="float16"),
        vector_op("n", OpKind.NORM, elements=8 * 4096, bytes_read=8 * 4096 * 2, bytes_written=8 * 4096 * 2),
    )
    for name in ("gpu_a100", "gpu_h100"):
        r = load_arch(ROOT / "models" / f"{name}.yaml").simulate(g)
        comps = r.energy_by_component_j()
        assert set(comps) == {"mac", "vector", "sram", "dram", "static"}
        assert all(v > 0 for v in comps.values()), (name, comps)
        assert r.energy_j == pytest.approx(math.fsum(comps.values()))


def test_bad_energy_fields() -> None:
    with pytest.raises(SpecError, match="energy_model: unknown value"):
        spec(energy_model="guess")
    with pytest.raises(SpecError, match="unknown memory kind"):
        spec(dram_kind="hbm9")
    with pytest.raises(SpecError, match="unknown technology node"):
        spec(tech_node="1nm")


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 512), st.integers(8, 256).map(lambda x: 8 * x), st.sampled_from(["cost", "calibrated"]))
def test_energy_grows_with_the_reduction_and_idle_power(m, k, model) -> None:
    # K a multiple of 8 keeps rows 16-byte aligned (an unaligned GEMM is slower: more static energy)
    def energy(s: gpu.Spec, kk: int) -> float:
        return gpu.simulate(s, _graph(gemm_op("a", m, 256, kk, act_bits=16, weight_bits=16, dtype="bfloat16"))).energy_j

    s = spec(energy_model=model)
    e0 = energy(s, k)
    assert e0 > 0
    assert energy(s, 2 * k) > e0
    assert energy(replace(s, idle_power_w=100.0), k) > e0
