"""LUT Tensor Core cycle/area/energy model against closed forms and the paper's Table 1/2 arithmetic."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from cosim.errors import SpecError
from cosim.graph import OpKind, WorkloadGraph, attention_op, gemm_op, vector_op
from cosim.hw import MODELS, load_arch
from cosim.hw import lut_tc as L

ROOT = Path(__file__).resolve().parents[2]
LUT8X = load_arch(ROOT / "models" / "lut_tensor_core.yaml").spec
LUT4X = load_arch(ROOT / "models" / "lut_tensor_core_4x.yaml").spec
MAC = load_arch(ROOT / "models" / "lut_tensor_core_mac_baseline.yaml").spec


def _one_array(**kw) -> L.Spec:
    """One SM, one tensor core, one array: per-tile cycles are visible directly."""
    base = dict(name="one", num_sms=1, tensor_cores_per_sm=1, tb_m=2, tb_n=64, dram_bytes_per_s=1e30)
    return L.Spec(**{**base, **kw})


def _graph(*ops, edges=()) -> WorkloadGraph:
    g = WorkloadGraph(name="t")
    for o in ops:
        g.add_op(o)
    for u, v in edges:
        g.add_edge(u, v)
    return g


# ----------------------------------------------------------------------------- paper Table 1 arithmetic


def test_peak_throughput_matches_paper_table1():
    # Table 1: A100 FP16 TC 312 TFLOPS; A100-LUT-4X 1248 TOPS and -8X 2496 TOPS (W_INT2 A_INT8)
    assert L.peak_ops_per_s(MAC, 16, 16) == pytest.approx(312e12, rel=2e-3)
    assert L.peak_ops_per_s(MAC, 8, 8) == pytest.approx(624e12, rel=2e-3)
    assert L.peak_ops_per_s(LUT4X, 2, 8) == pytest.approx(1248e12, rel=2e-3)
    assert L.peak_ops_per_s(LUT8X, 2, 8) == pytest.approx(2496e12, rel=2e-3)


def test_lut_peak_scales_inversely_with_weight_bits():
    assert L.peak_ops_per_s(LUT8X, 1, 8) == pytest.approx(4 * L.peak_ops_per_s(LUT8X, 4, 8))
    assert L.peak_ops_per_s(LUT8X, 1.58, 8) == L.peak_ops_per_s(LUT8X, 2, 8)  # ternary stored in 2 bits


def test_tensor_core_density_matches_paper_table1():
    # Table 1: A100 FP16 TC 2.96 TFLOPs/mm²; A100-LUT-8X 61.95 TOPs/mm² with 0.373 mm²/SM.
    # Our LUT area is built bottom-up from Table 2's array (11,991 µm²), so agreement within a few %
    # is a cross-check between the paper's two tables, not a restatement.
    assert L.compute_density_ops_per_s_mm2(MAC, 16, 16, True) == pytest.approx(2.96e12, rel=3e-3)
    assert L.tensor_area_mm2(LUT8X, False) / LUT8X.num_sms == pytest.approx(0.373, rel=0.03)
    assert L.compute_density_ops_per_s_mm2(LUT8X, 2, 8, False) == pytest.approx(61.95e12, rel=0.03)


def test_lut_energy_per_mac_from_table2():
    # Table 2: 16.22 mW at 1 GHz for 256 W2 MACs per cycle -> 63.4 fJ/MAC, 31.6 TOPS/W
    e = L.tensor_energy_per_mac_j(LUT8X, 2, 8, False)
    assert e == pytest.approx(16.22e-12 / 256)
    assert 2 / e == pytest.approx(31.6e12, rel=0.01)


# ----------------------------------------------------------------------------- per-tile cycles


@pytest.mark.parametrize("w_bits", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("k_steps", [1, 5])
def test_one_array_gemm_is_bit_serial(w_bits, k_steps):
    spec = _one_array()
    op = gemm_op("g", 2, 64, 4 * k_steps, weight_bits=w_bits, act_bits=8, dtype="int8")
    t = L.lut_gemm_timing(spec, op)
    assert t.compute_cycles == 1 + k_steps * w_bits  # table load, then one bit plane per cycle
    assert t.instructions == k_steps
    assert t.busy_unit_cycles == k_steps * w_bits


def test_partial_tiles_are_padded():
    spec = _one_array(tb_m=4, tb_n=128)
    op = gemm_op("g", 3, 65, 5, weight_bits=2, act_bits=8, dtype="int8")  # 2 x 2 tiles, 2 k-steps
    t = L.lut_gemm_timing(spec, op)
    assert t.instructions == 2 * 2 * 2
    assert t.compute_cycles == 4 * (1 + 2 * 2)  # 4 sequences on one array, each fill + 2 k-steps x W2


def test_arrays_share_a_tile_and_waves_quantize():
    spec = L.Spec(name="s", num_sms=2, tensor_cores_per_sm=1, arrays_per_tensor_core=2, tb_m=2, tb_n=128)
    # 3 tiles of 2 x 128 over 2 SMs -> 2 waves; each tile = 2 sequences on 2 arrays -> 1 round
    op = gemm_op("g", 2, 384, 8, weight_bits=4, act_bits=8, dtype="int8")
    assert L.lut_gemm_timing(spec, op).compute_cycles == 2 * (1 + 2 * 4)


def test_mac_gemm_waves_and_rate():
    spec = replace(MAC, num_sms=2, tb_m=16, tb_n=8)
    op = gemm_op("g", 16, 24, 256, weight_bits=16, act_bits=16)  # 3 tiles on 2 SMs -> 2 waves
    per_tile = math.ceil(16 * 8 * 256 / (256 * 4))
    assert L.mac_gemm_timing(spec, op).compute_cycles == 2 * per_tile


def test_split_k_spreads_gemv_over_idle_sms():
    op = gemm_op("g", 1, 512, 8192, weight_bits=16, act_bits=16)  # 2 column tiles on 108 SMs
    mp = L.gemm_mapping(MAC, op)
    assert (mp.split, mp.k, mp.waves) == (32, 256, 1)  # K/256 = 32 chunks (< 108 // 2 = 54)
    per_tile = math.ceil(16 * 256 * 256 / (256 * 4))  # M padded to 16, one 256-deep chunk
    assert L.mac_gemm_timing(MAC, op).compute_cycles == per_tile
    big = gemm_op("g", 4096, 4096, 4096, weight_bits=16, act_bits=16)
    assert L.gemm_mapping(MAC, big).split == 1


# ----------------------------------------------------------------------------- whole ops


def test_decode_gemv_is_memory_bound_on_weights_and_tables():
    op = gemm_op("g", 1, 4096, 4096, weight_bits=2, act_bits=8, dtype="int8")
    r = L.simulate(LUT8X, _graph(op)).ops[0]
    tables = math.ceil(4096 // 4 * 8 * 11 / 8)  # 1024 groups x 8 entries x 11 bits (INT8, K=4)
    split = min(108 // 16, 4096 // 256)  # 16 column tiles on 108 SMs: K split 6 ways
    partials = 2 * split * 4096 * 4  # FP32 partial sums written and read back
    assert r.extra["split_k"] == split
    own_bytes = op.weight_bytes + tables + op.bytes_written + partials
    assert r.bound.value == "memory"
    assert r.extra["memory_s"] == pytest.approx(own_bytes / LUT8X.dram_bytes_per_s)
    assert r.extra["table_bytes"] == tables


def test_compute_bound_lut_gemm_scales_with_weight_bits():
    def cycles(w):
        op = gemm_op("g", 4096, 4096, 4096, weight_bits=w, act_bits=8, dtype="int8")
        return L.lut_gemm_timing(LUT8X, op).compute_cycles

    assert cycles(4) / cycles(1) == pytest.approx(4, rel=0.01)


def test_wide_weights_and_attention_leave_the_lut_arrays():
    head = gemm_op("lm_head", 8, 32000, 3200, weight_bits=16, act_bits=8, dtype="int8")
    att = attention_op(
        "qk", OpKind.ATTENTION_QK, batch=1, heads=32, kv_heads=32, head_dim=100, q_len=1, kv_len=512, act_bits=8
    )
    hybrid = L.simulate(LUT8X, _graph(head, att))  # default: MAC tensor cores kept beside the arrays
    assert [r.unit for r in hybrid.ops] == ["mac", "mac"]
    assert hybrid.ops[0].extra["compute_s"] == pytest.approx(L.mac_gemm_timing(LUT8X, head).compute_cycles / 1.41e9)
    assert L.mac_operand_bits(head) == 16  # FP16 weights: 16-bit MACs although activations are INT8
    assert set(hybrid.area_by_component_mm2) == {"lut", "mac"}
    lut_only = L.simulate(replace(LUT8X, other_gemm_unit=L.OtherUnit.VECTOR), _graph(head, att))
    assert [r.unit for r in lut_only.ops] == ["vector", "vector"]
    vec_rate = LUT8X.num_sms * LUT8X.vector_flops_per_sm_cycle * LUT8X.clock_hz
    assert lut_only.ops[0].extra["compute_s"] == pytest.approx(head.flops / vec_rate)
    assert set(lut_only.area_by_component_mm2) == {"lut"}


def test_mac_dequantizes_narrow_weights_on_vector_units():
    w4 = gemm_op("g", 512, 4096, 4096, weight_bits=4, act_bits=16)
    w16 = gemm_op("g", 512, 4096, 4096, weight_bits=16, act_bits=16)
    r4, r16 = L.simulate(MAC, _graph(w4)).ops[0], L.simulate(MAC, _graph(w16)).ops[0]
    dq_ops = 4096 * 4096 * math.ceil(512 / MAC.tb_m) * MAC.dequant_ops_per_weight
    vec_rate = MAC.num_sms * MAC.vector_flops_per_sm_cycle * MAC.clock_hz
    assert r4.extra["dequant_s"] == pytest.approx(dq_ops / vec_rate)
    assert r4.extra["compute_s"] == pytest.approx(r16.extra["compute_s"] + dq_ops / vec_rate)
    assert "dequant_s" not in r16.extra


def test_energy_is_counts_times_table():
    op = gemm_op("g", 256, 1024, 1024, weight_bits=2, act_bits=8, dtype="int8")
    r = L.simulate(replace(LUT8X, precompute=L.Precompute.NONE), _graph(op)).ops[0]
    c = LUT8X.cost
    assert r.energy_by_component_j["lut"] == pytest.approx(r.extra["array_cycles"] * 16.22e-12)
    assert r.extra["array_cycles"] == (256 // 2) * (1024 // 64) * (1024 // 4) * 2
    assert r.energy_by_component_j["dram"] == pytest.approx(r.bytes_by_level["dram"] * c.dram_energy_j_per_byte)
    assert r.energy_j == pytest.approx(sum(r.energy_by_component_j.values()))


# ----------------------------------------------------------------------------- table precompute


def _layer(m: int = 64, d: int = 1024) -> WorkloadGraph:
    """norm -> q/k/v (one input tensor) ; attention output -> o_proj (producer not element-wise)."""
    g = WorkloadGraph(name="layer")
    b = m * d  # INT8 activations: one byte each
    g.add_op(vector_op("norm", OpKind.NORM, elements=b, bytes_read=b, bytes_written=b, act_bits=8, dtype="int8"))
    for p in ("q", "k", "v"):
        g.add_op(gemm_op(p, m, d, d, weight_bits=2, act_bits=8, dtype="int8"), deps=["norm"])
    g.add_op(
        attention_op(
            "av", OpKind.ATTENTION_AV, batch=1, heads=8, kv_heads=8, head_dim=d // 8, q_len=m, kv_len=m, act_bits=8
        ),
        deps=["q", "k", "v"],
    )
    g.add_op(gemm_op("o", m, d, d, weight_bits=2, act_bits=8, dtype="int8"), deps=["av"])
    return g


def test_tables_are_built_once_per_input_tensor():
    ops = {r.op.name: r for r in L.simulate(LUT8X, _layer()).ops}
    assert ops["q"].extra["precompute"] == "fused" and ops["q"].extra["precompute_s"] > 0
    assert ops["k"].extra["precompute"] == "shared" and ops["v"].extra["precompute"] == "shared"
    assert ops["o"].extra["precompute"] == "separate"  # attention output: nothing to fuse into


def test_separate_precompute_is_a_table_writing_kernel():
    m, d = 64, 1024
    spec = replace(LUT8X, precompute=L.Precompute.SEPARATE)
    q = {r.op.name: r for r in L.simulate(spec, _layer(m, d)).ops}["q"]
    tables = m * (d // 4) * 8 * 11 // 8
    adds = m * (d // 4) * (8 + 4 - 2)
    vec_rate = spec.num_sms * spec.vector_flops_per_sm_cycle * spec.clock_hz
    expect = max(adds / vec_rate, (m * d + tables) / spec.dram_bytes_per_s)
    assert q.extra["precompute_s"] == pytest.approx(expect)


def test_fusion_cuts_precompute_time_and_none_removes_it():
    def total(mode):
        return L.simulate(replace(LUT8X, precompute=mode), _layer(1024, 4096)).seconds

    none, fused, separate = (total(m) for m in (L.Precompute.NONE, L.Precompute.FUSED, L.Precompute.SEPARATE))
    assert none < fused < separate


# ----------------------------------------------------------------------------- specs


def test_registered_and_runs_from_the_registry():
    assert MODELS["lut_tensor_core"].spec_type is L.Spec
    d = MODELS["lut_tensor_core"].simulate(LUT8X, _layer()).to_dict()
    mac_area = LUT8X.num_sms * LUT8X.cost.mac_tc_area_mm2_per_sm  # attention runs on kept MAC cores
    assert d["total"]["area_mm2"] == pytest.approx(L.tensor_area_mm2(LUT8X, False) + mac_area)
    assert {o["unit"] for o in d["ops"]} == {"lut", "vector", "mac"}


def test_tile_mismatch_is_a_spec_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("model: lut_tensor_core\nname: bad\ntb_n: 100\n")
    with pytest.raises(SpecError, match=r"bad.yaml.*lut_n"):
        load_arch(p)


def test_unknown_precompute_mode_names_the_choices(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("model: lut_tensor_core\nname: bad\nprecompute: lazy\n")
    with pytest.raises(SpecError, match="fused, separate, none"):
        load_arch(p)


# ----------------------------------------------------------------------------- traced graphs


@pytest.fixture(scope="module")
def bitnet_decode():
    from cosim.trace import trace

    return trace("bitnet_b158_3b", phase="decode", batch=4, kv_len=128, quant="W1.58A8", overrides={"n_layers": 2})


def test_traced_bitnet_runs_ternary_gemms_on_lut_arrays(bitnet_decode):
    res = {r.op.name: r for r in L.simulate(LUT8X, bitnet_decode).ops}
    weight_gemms = [r for r in res.values() if r.op.is_gemm_like and r.op.weight_bits]
    ternary = [r for r in weight_gemms if r.op.weight_bits == 1.58]
    assert len(ternary) == 2 * 7  # q, k, v, o, gate, up, down per layer
    assert all(r.unit == "lut" and r.extra["w_bits"] == 2 for r in ternary)
    assert res["lm_head"].unit == "mac"  # FP16 lm_head: kept MAC tensor cores
    for layer in ("layers.0", "layers.1"):
        qkv = [res[f"{layer}.attn.{p}_proj"].extra["precompute"] for p in "qkv"]
        assert sorted(qkv) == ["fused", "shared", "shared"]  # one table set from the norm, shared
        assert res[f"{layer}.attn.o_proj"].extra["precompute"] == "separate"  # after attention
        assert res[f"{layer}.mlp.down_proj"].extra["precompute"] == "fused"  # after SiLU * up
    for r in ternary:  # INT8 activations: 11-bit entries, 8 per group of 4
        assert r.extra["table_bytes"] == math.ceil(r.op.M * (r.op.K // 4) * 8 * 11 / 8)
        body = max(r.extra["compute_s"], r.extra["memory_s"]) + r.extra["precompute_s"]
        assert r.seconds == pytest.approx(body)


def test_traced_bitnet_totals_are_consistent(bitnet_decode):
    res = L.simulate(LUT8X, bitnet_decode)
    assert res.seconds == pytest.approx(sum(r.seconds for r in res.ops))
    assert res.energy_j == pytest.approx(sum(res.energy_by_component_j().values()))
    assert res.energy_by_component_j()["lut"] == pytest.approx(
        sum(r.extra.get("array_cycles", 0) for r in res.ops) * LUT8X.cost.lut_array_energy_j_per_cycle_int
    )


def test_traced_llama_decode_time_follows_weight_width():
    """Batch-1 decode is memory-bound: W2 weight GEMMs take about half the time of W4 on LUT arrays,
    while the MAC baseline also pays for dequantization on the vector units."""
    from cosim.trace import trace

    def weight_gemm_s(spec, quant):
        g = trace("llama2_7b", phase="decode", batch=1, kv_len=256, quant=quant, overrides={"n_layers": 2})
        rs = [r for r in L.simulate(spec, g).ops if r.op.is_gemm_like and 0 < r.op.weight_bits < 16]
        return sum(r.seconds for r in rs), sum(r.op.weight_bytes for r in rs), rs

    t2, b2, rs2 = weight_gemm_s(LUT8X, "W2A16")
    t4, b4, _ = weight_gemm_s(LUT8X, "W4A16")
    assert b4 == 2 * b2
    assert 1.6 < t4 / t2 < 2.0  # tables and outputs do not shrink with the weights
    assert all(r.bound.value == "memory" and r.unit == "lut" for r in rs2)
    assert all(r.extra["table_bytes"] == r.op.M * (r.op.K // 4) * 8 * 2 for r in rs2)  # FP16 entries
    m2, _, rm2 = weight_gemm_s(MAC, "W2A16")
    assert all("dequant_s" in r.extra for r in rm2)
    assert m2 > t2
