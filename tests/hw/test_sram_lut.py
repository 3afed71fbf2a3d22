"""SRAM-LUT GEMV model (cosim.hw.sram_lut): closed forms, monotonicity, golden agreement, errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import golden
from cosim.errors import ModelError, SpecError
from cosim.graph import OpKind, WorkloadGraph, attention_op, gemm_op
from cosim.hw import cpu, load_arch
from cosim.hw import sram_lut as sl

ROOT = Path(__file__).resolve().parents[2]


def host(llc_bytes: int) -> cpu.Spec:
    return cpu.Spec(
        name="host",
        cores=2,
        clock_hz=2e9,
        llc_bytes=llc_bytes,
        llc_bytes_per_s=64e9,
        dram_bytes_per_s=20e9,
        price_per_hour_usd=0.5,
    )


def sail(slices: int = 2, per_slice: int = 8, **kw) -> sl.Spec:
    """A small LLC of 256 x 256-bit subarrays; the host's LLC follows the geometry."""
    rows, cols = kw.get("subarray_rows", 256), kw.get("subarray_cols", 256)
    return sl.Spec(
        name="s",
        cpu=host(slices * per_slice * rows * cols // 8),
        llc_slices=slices,
        subarrays_per_slice=per_slice,
        **kw,
    )


def graph(*ops, batch: int | None = None) -> WorkloadGraph:
    g = WorkloadGraph(name="g", meta={"batch": batch} if batch else {})
    prev: list[str] = []
    for o in ops:
        g.add_op(o, prev)
        prev = [o.name]
    return g


# --------------------------------------------------------------------------- tile closed form


def test_tile_cycles_closed_form():
    # 8 groups, 192 columns, 4-bit: 64 table rows, 192*4*8/64 = 96 weight rows, 6144 lookups, 2 drain
    t = sl.tile_cycles(
        n_groups=8, live_groups=8, n_cols=192, weight_bits=4, entries_per_table=8, patterns_per_row=64, latency=2
    )
    assert (t.table_writes, t.weight_reads, t.lookups, t.compute, t.total) == (64, 96, 6144, 6242, 6306)


def test_dead_groups_cost_lookups_not_weight_reads():
    kw = dict(n_groups=8, n_cols=10, weight_bits=3, entries_per_table=8, patterns_per_row=64, latency=2)
    t = sl.tile_cycles(live_groups=3, **kw)
    assert (t.table_writes, t.weight_reads, t.lookups) == (24, 4, 90)  # ceil(240/64) = 4 rows still read
    assert sl.tile_cycles(live_groups=0, **kw).total == 0


@pytest.mark.parametrize(
    "bad",
    [dict(weight_bits=9), dict(weight_bits=0), dict(live_groups=9), dict(n_cols=0), dict(n_groups=0)],
)
def test_tile_cycles_rejects_bad_arguments(bad):
    kw = dict(n_groups=8, live_groups=8, n_cols=4, weight_bits=4, entries_per_table=8, patterns_per_row=64, latency=2)
    kw.update(bad)
    with pytest.raises(ModelError):
        sl.tile_cycles(**kw)


def test_op_schedule_spreads_chunks_then_waves():
    # K = 64: two chunks of 8 groups (quant block 32); N = 10, M = 1, W = 2.
    # One tile per chunk: 64 writes + ceil(10*2*8/64) = 3 reads + 160 lookups + 2 = 229 cycles.
    op = gemm_op("w", 1, 10, 64, weight_bits=2)
    plans = sl.plan_from_statistics(sail(1, 4, pim_fraction=0.5), 1, 64)
    assert sl.lut_op_cycles(sail(1, 4, pim_fraction=0.5), op, plans).lut == 229  # 2 engines, 1 chunk each
    assert sl.lut_op_cycles(sail(1, 4, pim_fraction=0.25), op, plans).lut == 2 * 229  # 1 engine: 2 waves


def test_columns_split_over_engines_of_a_chunk():
    # K = 32: one chunk; 4 engines share N = 100 columns -> 25 each: 64 + ceil(25*4*8/64)=13 + 800 + 2
    op = gemm_op("w", 1, 100, 32, weight_bits=4)
    s = sail(1, 4, pim_fraction=1.0)
    assert sl.lut_op_cycles(s, op, sl.plan_from_statistics(s, 1, 32)).lut == 64 + 13 + 800 + 2


def test_batch_beyond_one_row_of_tables_takes_more_passes():
    op1 = gemm_op("w", 16, 64, 32, weight_bits=4)
    op2 = gemm_op("w", 17, 64, 32, weight_bits=4)
    s = sail(1, 1, pim_fraction=1.0)  # 16 tables per 256-bit row of 16-bit entries
    c1 = sl.lut_op_cycles(s, op1, sl.plan_from_statistics(s, 16, 32)).lut
    c2 = sl.lut_op_cycles(s, op2, sl.plan_from_statistics(s, 17, 32)).lut
    assert c2 == 2 * c1


# --------------------------------------------------------------------------- pattern statistics


def test_measured_plan_counts_live_groups_and_distinct_tokens():
    a = np.ones((3, 64), dtype=np.int64)
    a[:, 0] = [1, 2, 3]  # the three tokens differ over chunk 0
    a[:, 8:12] = 0  # group 2 of chunk 0 is zero for every token
    a[1, 32:] = 0  # token 1 is all-zero over chunk 1
    a[2, 32:] = a[0, 32:]  # tokens 0 and 2 identical over chunk 1
    p = sl.plan_from_activations(sail(), a, 64)
    assert p[0] == sl.ChunkPlan(8, (7.0,), 3.0)
    assert p[1] == sl.ChunkPlan(8, (8.0,), 1.0)
    off = sl.plan_from_activations(sail(pattern_aware=False), a, 64)
    assert off[1] == sl.ChunkPlan(8, (8.0,), 3.0)


def test_statistical_plan_expectation():
    s = sail(act_zero_fraction=0.5)
    p = sl.plan_from_statistics(s, 20, 32)  # passes of 16 and 4 tokens
    assert p[0].live_per_pass == pytest.approx((8 * (1 - 0.5**64), 8 * (1 - 0.5**16)))


def test_float_activations_are_quantised_per_token():
    a = np.array([[0.1, -0.2, 12.7, 0.0]])
    assert sl.quantize_per_token(a, 8).tolist() == [[1, -2, 127, 0]]


@pytest.mark.parametrize("pattern_aware", [True, False])
@pytest.mark.parametrize("bits", range(1, 9))
def test_functional_model_equals_matmul_and_golden(bits, pattern_aware):
    rng = np.random.default_rng(bits)
    a = rng.integers(-128, 128, size=(21, 100))
    a[:, 8:16] = 0
    a[3] = 0
    a[5] = a[7]
    a[10:, 40:72] = 0
    q = rng.integers(0, 1 << bits, size=(100, 9))
    s = sail(pattern_aware=pattern_aware)
    y, plans = sl.functional_gemm(s, a, q, bits)
    assert np.array_equal(y, a @ q)
    assert np.array_equal(y, golden.lut_gemm(a, q, bits))
    assert plans == sl.plan_from_activations(s, a, 100)


def test_measured_zero_groups_cut_lut_cycles():
    rng = np.random.default_rng(0)
    a = rng.integers(-5, 6, size=(1, 256))
    a[0, :128] = 0
    op = gemm_op("fc", 1, 512, 256, weight_bits=4)
    s = sail()
    on = sl.simulate(s, graph(op), activations={"fc": a}).ops[0].extra["lut_cycles"]
    off = sl.simulate(replace(s, pattern_aware=False), graph(op), activations={"fc": a}).ops[0].extra["lut_cycles"]
    assert on < off


# --------------------------------------------------------------------------- monotonicity (hypothesis)

ops_strategy = st.lists(
    st.tuples(st.integers(1, 40), st.integers(16, 1024), st.integers(32, 1024), st.integers(1, 7)),
    min_size=1,
    max_size=3,
)


def _graph(shapes, wbits_delta: int = 0, kv_len: int = 64) -> WorkloadGraph:
    ops = [gemm_op(f"w{i}", m, n, k, weight_bits=min(8, w + wbits_delta)) for i, (m, n, k, w) in enumerate(shapes)]
    m0 = shapes[0][0]
    ops.append(
        attention_op("qk", OpKind.ATTENTION_QK, batch=m0, heads=4, kv_heads=4, head_dim=64, q_len=1, kv_len=kv_len)
    )
    return graph(*ops)


@settings(max_examples=40, deadline=None)
@given(
    shapes=ops_strategy,
    slices=st.integers(1, 3),
    per_slice=st.integers(2, 24),
    more=st.integers(1, 24),
    k=st.sampled_from([1, 2, 4]),
    frac=st.sampled_from([0.5, 1.0]),
    p0=st.floats(0, 0.9),
    more_slices=st.booleans(),
)
def test_more_subarrays_never_slower(shapes, slices, per_slice, more, k, frac, p0, more_slices):
    g = _graph(shapes)
    a = sail(slices, per_slice, pim_fraction=frac, subarrays_per_engine=1, act_zero_fraction=p0)
    a = replace(a, subarrays_per_engine=min(k, a.pim_subarrays))
    b = sail(
        slices + more if more_slices else slices,
        per_slice + (0 if more_slices else more),
        pim_fraction=frac,
        subarrays_per_engine=a.subarrays_per_engine,
        act_zero_fraction=p0,
    )
    ra, rb = sl.simulate(a, g), sl.simulate(b, g)
    assert rb.seconds <= ra.seconds * (1 + 1e-12)
    for x, y in zip(ra.ops, rb.ops):
        if "lut_cycles" in x.extra:
            assert y.extra["lut_cycles"] <= x.extra["lut_cycles"]


@settings(max_examples=40, deadline=None)
@given(
    shapes=ops_strategy,
    delta=st.integers(1, 7),
    per_slice=st.integers(2, 24),
    k=st.sampled_from([1, 2]),
    p0=st.floats(0, 0.9),
    pin=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_higher_precision_never_faster(shapes, delta, per_slice, k, p0, pin):
    s = sail(2, per_slice, subarrays_per_engine=k, act_zero_fraction=p0, pin_fraction=pin)
    lo, hi = sl.simulate(s, _graph(shapes)), sl.simulate(s, _graph(shapes, delta))
    assert hi.seconds >= lo.seconds * (1 - 1e-12)
    for x, y in zip(lo.ops, hi.ops):
        assert y.seconds >= x.seconds * (1 - 1e-12)


# --------------------------------------------------------------------------- residency, cost, area


def test_weights_stream_unless_pinned():
    s = sail(1, 8, pim_fraction=1.0, pin_fraction=0.5)  # 8 subarrays x 192 rows x 32 B x 0.5 = 24,576 B
    small = gemm_op("a", 1, 128, 256, weight_bits=4)  # 16,384 B: pinned
    big = gemm_op("b", 1, 1024, 1024, weight_bits=4)  # 524,288 B: streams
    run = sl.simulate(s, graph(small, big))
    assert s.pinned_capacity_bytes == 24_576
    assert [r.bytes_by_level["dram"] for r in run.ops] == [0, 1024 * 1024 // 2]
    assert run.extra["pinned_weight_bytes"] == 16_384


def test_memory_bound_lut_op_time_is_dram_streaming_plus_serial_steps():
    s = sail(4, 32)
    op = gemm_op("w", 1, 4096, 4096, weight_bits=4)
    r = sl.simulate(s, graph(op)).ops[0]
    assert r.bound.value == "memory"
    serial = (r.extra["convert_cycles"] + r.extra["table_build_cycles"] + r.extra["reduce_cycles"]) / s.pim_clock_hz
    assert r.seconds == pytest.approx(4096 * 4096 / 2 / (20e9 * 0.8) + serial)


def test_cost_uses_the_host_price_plus_overhead_and_energy_adds_up():
    s = sail()
    run = sl.simulate(s, graph(gemm_op("w", 4, 512, 512, weight_bits=3), batch=4))
    assert s.price_usd_per_hour == pytest.approx(0.5 * 1.02)
    assert run.extra["tokens_per_usd"] == pytest.approx(4 / run.seconds * 3600 / 0.51)
    for r in run.ops:
        assert r.energy_j == pytest.approx(sum(r.energy_by_component_j.values()))


def test_host_runs_non_lut_ops_and_wide_weights():
    run = sl.simulate(sail(), graph(gemm_op("fp16", 1, 64, 64, weight_bits=16), gemm_op("q", 1, 64, 64, weight_bits=4)))
    assert [r.unit for r in run.ops] == ["cpu", "sram_lut"]


def test_engine_area_matches_yosys_at_the_reference_engine():
    s = load_arch(ROOT / "models/sail.yaml").spec
    assert sl.engine_gate_estimate(s) == pytest.approx(sl.ENGINE_GATES_YOSYS_REF)
    fr = [sl.area_overhead(replace(s, subarrays_per_engine=k))["fraction_of_llc"] for k in (1, 2, 4, 8)]
    assert fr == sorted(fr, reverse=True)


def test_sail_presets_load_and_run():
    for name in ("sail.yaml", "sail_altra.yaml"):
        a = load_arch(ROOT / "models" / name)
        run = a.simulate(graph(gemm_op("w", 8, 1024, 1024, weight_bits=3), batch=8))
        assert run.seconds > 0 and run.area_mm2 > 0


# --------------------------------------------------------------------------- bad input


def test_llc_geometry_must_match_the_host():
    with pytest.raises(SpecError, match=r"cpu\.llc_bytes"):
        sl.Spec(name="x", cpu=host(1000), llc_slices=1, subarrays_per_slice=1)


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        (dict(table_rows=60), "not a multiple of the 8 entries"),
        (dict(table_rows=256), "leaves no weight rows"),
        (dict(lut_entry_bits=10), "cannot hold a table entry"),
        (dict(subarrays_per_engine=64), "exceeds the 8 lent subarrays"),
        (dict(table_rows=248, subarray_cols=64), "too few weight rows"),
    ],
)
def test_inconsistent_engine_specs_are_rejected(kw, msg):
    with pytest.raises(SpecError, match=msg):
        sail(**kw)


def test_yaml_errors_name_file_and_key(tmp_path):
    text = (ROOT / "models/sail.yaml").read_text().replace("table_rows: 64", "table_rows: 63")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    with pytest.raises(SpecError, match=r"s\.yaml.*table_rows: 63"):
        load_arch(p)


def test_activation_tensor_shape_is_checked():
    op = gemm_op("fc", 1, 64, 64, weight_bits=4)
    with pytest.raises(ModelError, match="K = 64"):
        sl.simulate(sail(), graph(op), activations={"fc": np.zeros((1, 32), dtype=np.int64)})


def test_rtl_parameters_need_a_row_of_whole_fields():
    with pytest.raises(ModelError, match="subarray_cols"):
        sl.rtl_parameters(sail(lut_entry_bits=12))  # 256 is not 21 x 12
