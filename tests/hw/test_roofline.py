"""The roofline model's energy and area against hand computations from cost-library calls."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import cost
from cosim.errors import SpecError
from cosim.graph import OpKind, WorkloadGraph, gemm_op, vector_op
from cosim.hw import roofline
from tests.hw.test_gpu import ROOT


def _spec(**kw) -> roofline.Spec:
    return roofline.Spec(name="r", peak_flops_per_s=2e12, dram_bytes_per_s=1e11, clock_hz=1e9, **kw)


def _graph() -> WorkloadGraph:
    g = WorkloadGraph(name="g")
    g.add_op(gemm_op("a", 64, 128, 256, act_bits=16, weight_bits=16, dtype="float16"))
    g.add_op(vector_op("n", OpKind.NORM, elements=64 * 128, bytes_read=64 * 128 * 2, bytes_written=64 * 128 * 2))
    return g


def test_energy_from_the_cost_library_by_hand() -> None:
    r = roofline.simulate(_spec(static_power_w=2.0), _graph())
    gemm, norm = r.ops
    assert gemm.energy_by_component_j == pytest.approx(
        {
            "mac": 64 * 128 * 256 * cost.mac_energy_j("7nm", "fp", 16),
            "dram": gemm.op.bytes_total * cost.dram_energy_per_byte_j("hbm2"),
            "static": 2.0 * gemm.seconds,
        }
    )
    assert norm.energy_by_component_j["vector"] == pytest.approx(norm.op.flops * cost.add_energy_j("7nm", "fp", 16))
    assert r.energy_j == pytest.approx(math.fsum(r.energy_by_component_j().values()))


def test_spec_overrides_replace_the_library() -> None:
    r = roofline.simulate(_spec(energy_per_flop_j=1e-12, energy_per_dram_byte_j=2e-11), _graph())
    gemm, norm = r.ops
    assert gemm.energy_by_component_j["mac"] == pytest.approx(gemm.op.flops * 1e-12)
    assert norm.energy_by_component_j["vector"] == pytest.approx(norm.op.flops * 1e-12)
    assert gemm.energy_by_component_j["dram"] == pytest.approx(gemm.op.bytes_total * 2e-11)


def test_area_built_up_or_published() -> None:
    # 2e12 FLOP/s at 1 GHz = 1000 MACs of fp16 at 7 nm
    r = roofline.simulate(_spec(), WorkloadGraph(name="empty"))
    assert r.area_by_component_mm2 == pytest.approx({"mac": 1000 * cost.mac_area_mm2("7nm", "fp", 16)})
    assert r.area_mm2 == pytest.approx(1000 * cost.mac_area_mm2("7nm", "fp", 16)) and r.area_mm2 > 0
    pub = roofline.simulate(_spec(area_mm2=826.0), WorkloadGraph(name="empty"))
    assert pub.area_mm2 == 826.0 and pub.area_by_component_mm2 == {"die": 826.0}
    from cosim.hw import load_arch

    assert load_arch(ROOT / "models" / "roofline_a100.yaml").spec.area_mm2 == 826  # A100 whitepaper


@settings(max_examples=30, deadline=None)
@given(st.floats(1e11, 1e15), st.sampled_from(["int8", "float16", "float32"]), st.sampled_from(["28nm", "7nm"]))
def test_area_grows_with_peak(peak, dtype, node) -> None:
    def area(p: float) -> float:
        s = roofline.Spec(name="r", peak_flops_per_s=p, dram_bytes_per_s=1e11, compute_dtype=dtype, tech_node=node)
        return roofline.simulate(s, WorkloadGraph(name="e")).area_mm2

    assert area(2 * peak) > area(peak) > 0


def test_bad_cost_fields() -> None:
    with pytest.raises(SpecError, match="unknown technology node"):
        _spec(tech_node="4nm")
    with pytest.raises(SpecError, match="unknown memory kind"):
        _spec(dram_kind="ddr5x")
    with pytest.raises(SpecError, match="unknown data type"):
        _spec(compute_dtype="posit16")
