"""LUT Tensor Core energy and area through the cost library: node scaling of the paper's 28 nm
figures, the shared component names, area that is a property of the hardware, monotonicity."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import cost
from cosim.errors import SpecError
from cosim.graph import OpKind, WorkloadGraph, gemm_op, vector_op
from cosim.hw import lut_tc as L
from tests.hw.test_lut_tc import LUT8X, MAC, _graph


def test_the_papers_node_is_the_identity() -> None:
    assert L.costs(LUT8X) is LUT8X.cost  # 28 nm: Table 1/2 figures as published
    assert LUT8X.cost.lut_array_energy_j_per_cycle_int == 16.22e-12


def test_another_node_scales_every_figure_but_dram() -> None:
    c = L.costs(replace(LUT8X, tech_node="7nm"))
    n7 = cost.get_node("7nm")
    e, a = n7.energy_from(28, cost.get_node("28nm").vdd_v), n7.area_from(28)
    assert c.node == "7nm"
    assert c.lut_array_energy_j_per_cycle_int == pytest.approx(16.22e-12 * e)
    assert c.lut_array_area_um2_int == pytest.approx(11_991.29 * a)
    assert c.mac_tc_area_mm2_per_sm == pytest.approx(0.975 * a)
    # the library-derived defaults land on the library's own value at the new node
    assert c.mac_energy_j_16bit == pytest.approx(cost.mac_energy_j("7nm", "fp", 16, acc_bits=16), rel=1e-12)
    assert c.vector_energy_j_per_op == pytest.approx(cost.add_energy_j("7nm", "fp", 32), rel=1e-12)
    assert c.dram_energy_j_per_byte == LUT8X.cost.dram_energy_j_per_byte
    assert c.unit_density_lut_dp4_w1_fp16_flops_per_mm2 == pytest.approx(61.55e12 / a)
    with pytest.raises(SpecError, match="unknown technology node"):
        replace(LUT8X, tech_node="3nm")


def test_energy_by_component_sums_and_uses_shared_names() -> None:
    g = _graph(
        vector_op("norm", OpKind.NORM, elements=8 * 4096, bytes_read=8 * 4096 * 2, bytes_written=8 * 4096 * 2),
        gemm_op("q", 8, 4096, 4096, weight_bits=2, act_bits=8, dtype="int8"),
        edges=[("norm", "q")],
    )
    for spec in (LUT8X, MAC, replace(LUT8X, tech_node="7nm")):
        r = L.simulate(spec, g)
        comps = r.energy_by_component_j()
        assert set(comps) <= {"lut", "mac", "vector", "dram"}
        assert r.energy_j == pytest.approx(math.fsum(comps.values()))
    lut = L.simulate(LUT8X, g).ops[1]
    assert lut.energy_by_component_j["lut"] == pytest.approx(lut.extra["array_cycles"] * 16.22e-12)


def test_area_is_the_hardware_not_the_workload() -> None:
    empty = L.simulate(LUT8X, WorkloadGraph(name="empty"))
    # 108 SMs x 4 TCs x 8 arrays of 11,991.29 um^2 (Table 2) + the kept MAC tensor cores (Table 1)
    assert empty.area_by_component_mm2 == pytest.approx({"lut": 3456 * 11_991.29e-6, "mac": 108 * 0.975})
    r = L.simulate(LUT8X, _graph(gemm_op("q", 8, 4096, 4096, weight_bits=2, act_bits=8, dtype="int8")))
    assert r.area_mm2 == pytest.approx(empty.area_mm2)
    assert L.simulate(MAC, WorkloadGraph(name="e")).area_by_component_mm2 == pytest.approx({"mac": 108 * 0.975})


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 16), st.integers(1, 200), st.sampled_from(["28nm", "7nm"]), st.booleans())
def test_area_grows_with_arrays_and_sms(arrays, sms, node, keep_mac) -> None:
    other = L.OtherUnit.MAC if keep_mac else L.OtherUnit.VECTOR
    spec = replace(LUT8X, arrays_per_tensor_core=arrays, num_sms=sms, tech_node=node, other_gemm_unit=other)

    def area(s: L.Spec) -> float:
        return L.simulate(s, WorkloadGraph(name="e")).area_mm2

    a0 = area(spec)
    assert a0 > 0
    assert area(replace(spec, arrays_per_tensor_core=arrays + 1)) > a0
    assert area(replace(spec, num_sms=sms + 1)) > a0


def test_die_area_replaces_the_mac_tensor_cores_and_static_power_adds_up() -> None:
    spec = replace(LUT8X, tech_node="7nm", die_area_mm2=826.0, static_power_w=68.6)
    c = L.costs(spec)
    mac_tcs = 108 * c.mac_tc_area_mm2_per_sm
    r = L.simulate(spec, _graph(gemm_op("q", 8, 4096, 4096, weight_bits=2, act_bits=8, dtype="int8")))
    # the A100 die without its MAC tensor cores, plus the LUT arrays, plus the kept MAC tensor cores
    assert r.area_by_component_mm2 == pytest.approx(
        {"die": 826.0 - mac_tcs, "lut": 3456 * c.lut_array_area_um2_int * 1e-6, "mac": mac_tcs}
    )
    assert r.ops[0].energy_by_component_j["static"] == pytest.approx(68.6 * r.ops[0].seconds)
    mac = L.simulate(replace(MAC, tech_node="7nm", die_area_mm2=826.0), WorkloadGraph(name="e"))
    assert mac.area_mm2 == pytest.approx(826.0)  # the MAC design is the published die
    with pytest.raises(SpecError, match="does not exceed the MAC tensor cores"):
        replace(LUT8X, die_area_mm2=50.0)  # 105 mm^2 of tensor cores at 28 nm
