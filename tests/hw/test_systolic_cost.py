"""The systolic model's energy and area: hand computations from cost-library calls, the yosys
option against a fresh synthesis, monotonicity in the design knobs, fast path == per-op path."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import cost
from cosim.errors import SpecError
from cosim.graph import OpKind, WorkloadGraph, gemm_op, vector_op
from cosim.hw import load_arch
from cosim.hw.systolic import (
    PE_SYNTH_TRANSISTORS,
    AreaSource,
    Dataflow,
    Layer,
    Spec,
    VectorUnit,
    costs,
    graph_arrays,
    native_layer,
    scalesim_layer,
    simulate,
    simulate_totals,
    synthesize_pe_mac,
)
from tests.hw.resnet50_graph import resnet50_graph

MODELS = Path(__file__).parents[2] / "models"


def _spec(rows: int = 8, cols: int = 8, df: str = "os", **kw) -> Spec:
    return Spec(name="t", rows=rows, cols=cols, dataflow=Dataflow(df), **kw)


def test_gemm_energy_is_counts_times_cost_library_calls() -> None:
    # 8 x 8 OS array, int8 words, 1024 KiB SRAMs (defaults), 28 nm, DDR3; 256-bit ports = 32 words
    spec = _spec()
    g = WorkloadGraph(name="g")
    g.add_op(gemm_op("a", 20, 13, 11, weight_bits=8, act_bits=8))
    r = simulate(spec, g).ops[0]
    lc = scalesim_layer(spec, Layer(20, 13, 11))
    sram = cost.sram_cost("28nm", 1024 * 1024, 256)
    word_rd, word_wr = sram.read_j / 32, sram.write_j / 32
    expect = {
        "mac": 20 * 13 * 11 * cost.pe_energy_j("28nm", "int", 8),
        "sram": (lc.sram_ifmap_reads + lc.sram_filter_reads) * word_rd + lc.sram_ofmap_writes * word_wr,
        "dram": (lc.dram_ifmap_reads + lc.dram_filter_reads + lc.dram_ofmap_writes)
        * cost.dram_energy_per_byte_j("ddr3"),
        "static": 3 * sram.leakage_w * lc.total_cycles / 1e9,
    }
    assert r.energy_by_component_j.keys() == expect.keys()
    for k, v in expect.items():
        assert r.energy_by_component_j[k] == pytest.approx(v, rel=1e-12), k
    assert r.energy_j == pytest.approx(math.fsum(expect.values()), rel=1e-12)


def test_native_partial_sum_reads_and_fp16_words_are_priced() -> None:
    # WS native: partial sums read back between row folds at the ofmap read energy; fp16 words
    spec = _spec(4, 4, "ws", convention="native", word_bytes=2, ofmap_sram_kib=64)
    g = WorkloadGraph(name="g")
    g.add_op(gemm_op("a", 5, 6, 9, weight_bits=16, act_bits=16))
    r = simulate(spec, g).ops[0]
    lc = native_layer(spec, Layer(5, 6, 9))
    assert lc.sram_ofmap_reads == 5 * 6 * 2  # ceil(9/4) = 3 row folds: two read-backs
    if_sram = cost.sram_cost("28nm", 1024 * 1024, 256)  # 16 fp16 words per 256-bit access
    of_sram = cost.sram_cost("28nm", 64 * 1024, 256)
    sram = (
        (lc.sram_ifmap_reads + lc.sram_filter_reads) * if_sram.read_j / 16
        + lc.sram_ofmap_writes * of_sram.write_j / 16
        + lc.sram_ofmap_reads * of_sram.read_j / 16
    )
    assert r.energy_by_component_j["sram"] == pytest.approx(sram, rel=1e-12)
    assert r.energy_by_component_j["mac"] == pytest.approx(5 * 6 * 9 * cost.pe_energy_j("28nm", "fp", 16))
    assert r.energy_by_component_j["dram"] == pytest.approx(
        (lc.dram_ifmap_reads + lc.dram_filter_reads + lc.dram_ofmap_writes) * 2 * cost.dram_energy_per_byte_j("ddr3")
    )


def test_vector_op_energy() -> None:
    spec = _spec(tech_node="7nm", dram_kind="hbm2")
    g = WorkloadGraph(name="g")
    g.add_op(vector_op("sm", OpKind.SOFTMAX, elements=1000, bytes_read=1000, bytes_written=1000))
    r = simulate(spec, g).ops[0]
    assert r.energy_by_component_j["vector"] == pytest.approx(5000 * cost.add_energy_j("7nm", "int", 8))
    assert r.energy_by_component_j["dram"] == pytest.approx(2000 * cost.dram_energy_per_byte_j("hbm2"))
    assert set(r.energy_by_component_j) == {"vector", "dram", "static"}


def test_area_is_pes_plus_buffers_plus_vector_lanes() -> None:
    # 16 x 8 int8 array, 64/128/32 KiB buffers with 128-bit ports, 8 vector lanes, 28 nm
    spec = _spec(
        16, 8, ifmap_sram_kib=64, filter_sram_kib=128, ofmap_sram_kib=32, vector=VectorUnit(lanes=8), sram_port_bits=128
    )
    pe = cost.pe_area_mm2("28nm", "int", 8)
    srams = (
        cost.sram_area_mm2("28nm", 64 * 1024, 128)
        + cost.sram_area_mm2("28nm", 128 * 1024, 128)
        + cost.sram_area_mm2("28nm", 32 * 1024, 128)
    )
    vec = 8 * cost.mac_area_mm2("28nm", "int", 8)
    run = simulate(spec, WorkloadGraph(name="empty"))
    assert run.area_by_component_mm2 == pytest.approx({"mac": 128 * pe, "sram": srams, "vector": vec})
    assert run.area_mm2 == pytest.approx(128 * pe + srams + vec)
    assert run.area_mm2 > 0


def test_published_area_replaces_the_built_up_one() -> None:
    run = simulate(_spec(area_mm2=331.0), WorkloadGraph(name="empty"))
    assert run.area_mm2 == 331.0 and run.area_by_component_mm2 == {"die": 331.0}


def test_yosys_pe_area_is_the_synthesised_mac_plus_forwarding_registers() -> None:
    spec = _spec(pe_area_source="yosys", tech_node="45nm")
    # 6280 transistors + 16 flops x 16 = 6536 -> 1634 NAND2 x 0.798 um^2 (NanGate45) / 0.7 utilisation
    assert costs(spec).area_by_component_mm2[0] == ("mac", pytest.approx(64 * 6536 / 4 * 0.798e-6 / 0.7))
    with pytest.raises(SpecError, match="no synthesised MAC for fp32"):
        _spec(pe_area_source="yosys", word_bytes=4)


@pytest.mark.parametrize("key", sorted(PE_SYNTH_TRANSISTORS))
def test_recorded_pe_synthesis_matches_a_fresh_yosys_run(key: tuple[str, int]) -> None:
    assert synthesize_pe_mac(*key) == PE_SYNTH_TRANSISTORS[key]


def test_bad_cost_fields_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="unknown technology node"):
        _spec(tech_node="3nm")
    with pytest.raises(SpecError, match="unknown memory kind"):
        _spec(dram_kind="ddr9")
    with pytest.raises(SpecError, match="unknown data type"):
        _spec(mac_dtype="posit8")
    with pytest.raises(SpecError, match="pe_area_source: unknown value"):
        _spec(pe_area_source="magic")


_KIB = st.sampled_from([16, 64, 256, 1024, 4096])


def _area(lanes: int = 128, **kw) -> float:
    s = Spec(name="t", **kw)
    return costs(dataclasses.replace(s, vector=VectorUnit(lanes=lanes))).area_mm2


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 256),
    st.integers(1, 256),
    _KIB,
    _KIB,
    _KIB,
    st.integers(1, 256),
    st.sampled_from(["28nm", "7nm"]),
    st.sampled_from([AreaSource.TABLE, AreaSource.YOSYS]),
)
def test_area_grows_with_every_knob(rows, cols, if_kib, fl_kib, of_kib, lanes, node, source) -> None:
    base = {
        "rows": rows,
        "cols": cols,
        "ifmap_sram_kib": if_kib,
        "filter_sram_kib": fl_kib,
        "ofmap_sram_kib": of_kib,
        "tech_node": node,
        "pe_area_source": source,
    }
    a0 = _area(lanes, **base)
    assert a0 > 0
    assert _area(lanes + 1, **base) > a0
    for knob, bigger in (
        ("rows", rows + 1),
        ("cols", cols + 1),
        ("ifmap_sram_kib", 2 * if_kib),
        ("filter_sram_kib", 2 * fl_kib),
        ("ofmap_sram_kib", 2 * of_kib),
    ):
        assert _area(lanes, **{**base, knob: bigger}) > a0, knob


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["os", "ws", "is"]), st.sampled_from([8, 32, 128]), _KIB, st.sampled_from(["scalesim", "native"])
)
def test_energy_grows_with_sram_size_when_traffic_is_unchanged(df, size, kib, conv) -> None:
    # operands of a 64 x 64 x 64 GEMM (4 KiB each) fit half of every size here: the same DRAM and
    # SRAM counts, so only per-access energy and leakage change, and both grow with capacity
    g = WorkloadGraph(name="g")
    g.add_op(gemm_op("a", 64, 64, 64, weight_bits=8, act_bits=8))
    kw = {"rows": size, "cols": size, "dataflow": Dataflow(df), "convention": conv}
    small = simulate(Spec(name="s", ifmap_sram_kib=kib, filter_sram_kib=kib, ofmap_sram_kib=kib, **kw), g)
    big = simulate(Spec(name="b", ifmap_sram_kib=4 * kib, filter_sram_kib=4 * kib, ofmap_sram_kib=4 * kib, **kw), g)
    assert big.ops[0].extra["dram_ifmap_reads"] == small.ops[0].extra["dram_ifmap_reads"]
    assert big.energy_by_component_j()["sram"] >= small.energy_by_component_j()["sram"]
    assert big.energy_by_component_j()["static"] > small.energy_by_component_j()["static"]
    assert big.energy_j > small.energy_j
    assert big.energy_by_component_j()["mac"] == small.energy_by_component_j()["mac"]


@pytest.mark.parametrize(
    "model", ["systolic_128_os", "systolic_tpu_v1_256_ws", "systolic_edge_32", "systolic_128_ws_native"]
)
def test_fast_path_energy_and_area_equal_the_per_op_path(model: str) -> None:
    spec = load_arch(MODELS / f"{model}.yaml").spec
    g = resnet50_graph()
    full = simulate(spec, g)
    tot = simulate_totals(spec, graph_arrays(g))
    assert tot.area_mm2 == full.area_mm2 and tot.area_mm2 > 0
    comps = full.energy_by_component_j()
    assert set(comps) == {"mac", "sram", "dram", "vector", "static"} == set(tot.energy_by_component_j)
    for k, v in comps.items():
        assert tot.energy_by_component_j[k] == pytest.approx(v, rel=1e-12), k
    assert tot.energy_j == pytest.approx(math.fsum(comps.values()), rel=1e-12)
