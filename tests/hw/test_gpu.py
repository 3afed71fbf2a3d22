"""The GPU model against hand-computed rooflines (every expected number is derived in the test).

A toy GPU with 4 SMs, 4 TFLOP/s bf16 (1 TFLOP/s per SM), 1 TB/s DRAM and one 128 x 128 tile keeps
the arithmetic checkable by hand; efficiencies are set to 1 and fixed costs to 0 unless a test
says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from cosim.errors import ModelError, SpecError
from cosim.graph import Op, OpKind, WorkloadGraph, attention_op, gemm_op, vector_op
from cosim.hw import MODELS, gpu, load_arch
from cosim.hw.base import Bound

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def toy(**eff: object) -> gpu.Spec:
    e = gpu.Efficiency(
        compute={"bfloat16": 1.0, "float16": 1.0, "int8": 1.0, "float32": 1.0},
        tile_overhead=0.0,
        tile_latency_s=0.0,
        epilogue_bytes_per_s=1e30,
        wave_quant=1.0,
        dram=1.0,
        sm_bytes_per_s=1e30,
        overlap=50.0,
        unaligned=0.5,
        energy_per_flop_j={"bfloat16": 1e-12},
        launch_s=0.0,
        gemm_latency_s=0.0,
        attn_dram=1.0,
        attn_dram_waves=0.5,
        attn_cta_bytes_per_s=1e30,
        attn_latency_s=0.0,
        prefill=1.0,
        prefill_softmax_dim=0.0,
        prefill_chain=1e-9,
        prefill_cta_s=0.0,
        prefill_latency_s=0.0,
        vector={"elementwise": 0.5, "norm": 1.0},
        vector_latency_s={"elementwise": 1e-6, "norm": 0.0},
        row_bytes_per_s={"norm": 1e9},
        row_latency_s={"norm": 0.0},
    )
    e = replace(e, **eff)
    return gpu.Spec(
        name="toy",
        sm_count=4,
        clock_hz=1e9,
        dram_bytes_per_s=1e12,
        peak_flops_per_s={"bfloat16": 4e12, "float16": 4e12, "int8": 8e12, "float32": 1e12},
        tiles=((128, 128),),
        split_k={"default": (1,)},
        attn_ctas_per_sm=2,
        row_ctas_per_sm=1,
        efficiency=e,
    )


def t(spec: gpu.Spec, op: Op) -> gpu.OpTime:
    return gpu.predict(spec, [op])[0]


def test_compute_bound_gemm_is_one_wave_of_tiles() -> None:
    # 256 x 256 output = 4 tiles of 128 x 128 = one wave on 4 SMs; a tile is 2*128*128*1024 FLOP at 1 TFLOP/s
    op = gemm_op("g", 256, 256, 1024, dtype="bfloat16")
    r = t(toy(), op)
    assert r.seconds == pytest.approx(2 * 128 * 128 * 1024 / 1e12, rel=1e-9)
    assert r.bound is Bound.COMPUTE
    assert (r.extra["tile_m"], r.extra["tile_n"], r.extra["waves"]) == (128, 128, 1)


def test_partial_wave_costs_a_full_wave_or_its_fraction() -> None:
    # 6 tiles on 4 SMs: 2 waves when quantized, 1.5 when spread evenly (stream-K)
    tile_s = 2 * 128 * 128 * 1024 / 1e12
    op = gemm_op("g", 256, 384, 1024, dtype="bfloat16")
    assert t(toy(wave_quant=1.0), op).seconds == pytest.approx(2 * tile_s, rel=1e-9)
    assert t(toy(wave_quant=0.0), op).seconds == pytest.approx(1.5 * tile_s, rel=1e-9)


def test_partial_tile_costs_a_full_tile() -> None:
    # M = 129 needs two 128-row tiles: the same 4 tiles as M = 256
    assert t(toy(), gemm_op("g", 129, 256, 1024)).seconds == pytest.approx(2 * 128 * 128 * 1024 / 1e12, rel=1e-9)


def test_gemv_is_weight_streaming_plus_fixed_costs() -> None:
    spec = toy(launch_s=1e-6, gemm_latency_s=2e-6)
    op = gemm_op("v", 1, 4096, 4096, dtype="bfloat16")
    compulsory = 4096 * 4096 * 2 + 4096 * 2 + 4096 * 2  # weights + x + y, once
    r = t(spec, op)
    assert r.seconds == pytest.approx(compulsory / 1e12 + 3e-6, rel=1e-9)
    assert r.bound is Bound.MEMORY
    assert (r.extra["tile_m"], r.extra["tile_n"]) == (1, 1)  # the GEMV kernel, no 128-row padding


def test_split_k_spreads_a_single_tile_over_the_sms() -> None:
    spec = replace(toy(), split_k={"default": (1, 2, 4)})
    op = gemm_op("g", 128, 128, 65536)
    r = t(spec, op)
    assert r.extra["split_k"] == 4
    assert r.seconds == pytest.approx(2 * 128 * 128 * 16384 / 1e12, rel=1e-6)  # each SM a quarter of K
    no_split = t(toy(), op)
    assert no_split.seconds == pytest.approx(4 * r.seconds, rel=1e-6)


def test_power_roofline_bounds_dense_gemms() -> None:
    # 300 W cap, 100 W idle, 100 pJ/FLOP: 2 * 1024^3 FLOP need 0.215 J / 200 W = 1.07 ms, above the
    # 16 waves x 33.6 us = 0.54 ms the SMs need at full clock
    spec = replace(toy(energy_per_flop_j={"bfloat16": 1e-10}), power_cap_w=300.0, idle_power_w=100.0)
    r = t(spec, gemm_op("g", 1024, 1024, 1024, dtype="bfloat16"))
    assert r.seconds == pytest.approx(2 * 1024**3 * 1e-10 / 200.0, rel=1e-9)
    assert r.seconds > t(toy(), gemm_op("g", 1024, 1024, 1024, dtype="bfloat16")).seconds


def test_unaligned_rows_run_at_the_unaligned_factor() -> None:
    # K = 1001 bf16 rows (2002 bytes) are not 16-byte multiples: the tile runs at half speed; K rounds
    # up to 1008 (MMA k = 16)
    r = t(toy(), gemm_op("g", 256, 256, 1001))
    assert r.seconds == pytest.approx(2 * 128 * 128 * 1008 / (1e12 * 0.5), rel=1e-9)


def test_int8_gemm_writes_int32_outputs() -> None:
    op = gemm_op("i", 64, 4096, 4096, weight_bits=8, act_bits=8, dtype="int8")
    r = t(toy(), op)
    assert r.memory_s == pytest.approx((64 * 4096 + 4096 * 4096 + 64 * 4096 * 4) / 1e12, rel=1e-9)


def test_weight_only_quantized_gemv_reads_packed_weights() -> None:
    op = gemm_op("w4", 1, 4096, 4096, weight_bits=4, act_bits=16, dtype="float16")
    r = t(toy(), op)
    assert r.memory_s == pytest.approx((4096 * 4096 // 2 + 4096 * 2 + 4096 * 2) / 1e12, rel=1e-9)


@pytest.mark.parametrize(
    ("ctas", "slots", "blocks", "expected"),
    [
        (2, 264, 170, 85),  # eff 2s/264 peaks at s = 85 (the only eligible split near 128 blocks of 2)
        (32, 264, 64, 7),  # s = 7 reaches 224/264 = 0.85 of the best (s = 8: 256/264)
        (8, 264, 64, 32),  # s = 32: 256/264, the first eligible one above 0.85 x best
        (300, 264, 64, 1),  # already >= 80% of the slots: no split
        (1, 264, 1, 1),  # one block cannot be split
    ],
)
def test_flash_attention_split_heuristic(ctas: int, slots: int, blocks: int, expected: int) -> None:
    got = gpu.fa_num_splits(np.array([ctas]), float(slots), np.array([blocks]))
    assert int(got[0]) == expected


def test_decode_attention_over_several_waves_streams_kv_at_the_waves_bandwidth() -> None:
    # 64 x 32 CTAs >> 8 slots: no split, several waves at attn_dram_waves = 0.5 of 1 TB/s
    spec = toy(launch_s=1e-6)
    op = attention_op("a", OpKind.ATTENTION_DECODE, batch=64, heads=32, kv_heads=32, head_dim=128, q_len=1, kv_len=4096)
    traffic = 2 * 64 * 32 * 4096 * 128 * 2 + 2 * 64 * 32 * 128 * 2  # K and V once, Q in and O out
    assert t(spec, op).seconds == pytest.approx(traffic / 0.5e12 + 1e-6, rel=1e-9)


def test_decode_attention_gqa_split_kv_counts_its_kernels() -> None:
    # 1 x 2 KV heads = 2 CTAs < 0.8 x 8 slots: split 4 (32 blocks of 128 keys), one wave at attn_dram = 1;
    # kernels: attention + split combine + two GQA layout copies = 4 launches
    spec = toy(launch_s=1e-6)
    op = attention_op("a", OpKind.ATTENTION_DECODE, batch=1, heads=8, kv_heads=2, head_dim=128, q_len=1, kv_len=4096)
    traffic = 2 * 1 * 2 * 4096 * 128 * 2 + 2 * 1 * 8 * 128 * 2
    assert t(spec, op).seconds == pytest.approx(traffic / 1e12 + 4e-6, rel=1e-9)


def test_prefill_attention_counts_causal_key_blocks() -> None:
    # q = kv = 256: query block 0 sees 1 key block, block 1 sees 2 -> 3 blocks per head, 4 heads,
    # each 4 * 128 * 128 * 128 FLOP on one 1-TFLOP/s SM, spread over 4 SMs
    op = attention_op("p", OpKind.ATTENTION_PREFILL, batch=1, heads=4, kv_heads=4, head_dim=128, q_len=256, kv_len=256)
    assert t(toy(), op).seconds == pytest.approx(12 * 4 * 128**3 / 1e12 / 4, rel=1e-9)


@pytest.mark.parametrize(("q", "L"), [(128, 128), (300, 300), (64, 4096), (512, 2048), (1000, 1000), (129, 5000)])
def test_prefill_block_count_matches_a_loop(q: int, L: int) -> None:
    nm, nb = math.ceil(q / 128), math.ceil(L / 128)
    off = nb - nm
    loop = sum(min(nb, off + i + 1) for i in range(nm))
    spec = toy()
    op = attention_op("p", OpKind.ATTENTION_PREFILL, batch=1, heads=4, kv_heads=4, head_dim=128, q_len=q, kv_len=L)
    t_work = loop * 4 * 4 * 128**3 / 1e12 / 4
    t_chain = min(nb, off + nm) * 4 * 128**3 / 1e12 * 1e-9
    traffic = (2 * 4 * q * 128 + 2 * 4 * L * 128) * 2
    assert t(spec, op).seconds == pytest.approx(max(t_work, t_chain, traffic / 1e12), rel=1e-9)


def test_elementwise_is_bytes_at_its_efficiency_plus_latency() -> None:
    op = vector_op("add", OpKind.ELEMENTWISE, elements=1 << 20, bytes_read=2 * 2 << 20, bytes_written=2 << 20)
    assert t(toy(), op).seconds == pytest.approx((3 * 2 << 20) / 0.5e12 + 1e-6, rel=1e-9)


def test_norm_with_few_long_rows_is_bound_by_one_cta_per_row() -> None:
    # 1 row of 65536 bf16 on one CTA at 1 GB/s: 131 us, far above its 262 KB / 1 TB/s
    n = 65536
    op = vector_op("n", OpKind.NORM, elements=n, bytes_read=2 * n, bytes_written=2 * n, M=1, N=n)
    assert t(toy(), op).seconds == pytest.approx(2 * n / 1e9, rel=1e-9)
    unknown = vector_op("n", OpKind.NORM, elements=n, bytes_read=2 * n, bytes_written=2 * n)
    assert t(toy(), unknown).seconds == pytest.approx(4 * n / 1e12, rel=1e-9)  # rows unknown: bandwidth only


def test_unfused_attention_gemms_use_the_gemm_path() -> None:
    qk = attention_op("qk", OpKind.ATTENTION_QK, batch=4, heads=8, kv_heads=2, head_dim=128, q_len=1, kv_len=4096)
    as_gemm = gemm_op("g", qk.M, qk.N, qk.K, qk.batch)
    assert t(toy(), qk).seconds == pytest.approx(t(toy(), as_gemm).seconds, rel=1e-12)


def test_simulate_reports_cycles_bounds_and_tiles() -> None:
    g = WorkloadGraph(name="w")
    g.add_op(gemm_op("big", 256, 256, 1024))
    g.add_op(gemm_op("gemv", 1, 4096, 4096), ["big"])
    g.add_op(vector_op("tiny", OpKind.ELEMENTWISE, elements=8, bytes_read=32, bytes_written=16), ["gemv"])
    res = gpu.simulate(toy(), g)
    big, gemv, tiny = res.ops
    assert big.bound is Bound.COMPUTE and gemv.bound is Bound.MEMORY and tiny.bound is Bound.LATENCY
    assert big.cycles == math.ceil(big.seconds * 1e9)
    assert big.utilization == pytest.approx(2 * 256 * 256 * 1024 / 4e12 / big.seconds)
    d = res.to_dict()
    assert d["ops"][0]["tile_m"] == 128 and d["total"]["seconds"] == pytest.approx(sum(r.seconds for r in res.ops))


def test_unmodelled_dtype_is_a_model_error() -> None:
    op = gemm_op("g", 8, 64, 64, weight_bits=4, act_bits=4, dtype="int4")
    with pytest.raises(ModelError, match="int4"):
        gpu.predict(toy(), [op])


def test_dtype_without_a_peak_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="tf32"):
        gpu.predict(toy(), [gemm_op("g", 8, 64, 64, weight_bits=32, act_bits=32, dtype="tf32")])


def test_fused_attention_without_geometry_is_a_model_error() -> None:
    op = Op(name="a", kind=OpKind.ATTENTION_DECODE, M=1, N=1, K=1, batch=1)
    with pytest.raises(ModelError, match="heads"):
        gpu.predict(toy(), [op])


def test_spec_rejects_bad_tables() -> None:
    with pytest.raises(SpecError, match="split_k"):
        replace(toy(), split_k={"default": (2, 4)})
    with pytest.raises(SpecError, match="peak_flops_per_s"):
        replace(toy(), peak_flops_per_s={"int3": 1.0})
    with pytest.raises(SpecError, match=r"efficiency\.vector"):
        gpu.Efficiency(vector={"gemm": 0.5})
    with pytest.raises(SpecError, match="power_cap_w"):
        replace(toy(), power_cap_w=100.0, idle_power_w=200.0)


def test_presets_load_through_the_registry() -> None:
    assert "gpu" in MODELS
    for name in ("gpu_h100.yaml", "gpu_a100.yaml"):
        arch = load_arch(ROOT / "models" / name)
        assert arch.model.name == "gpu"
    h100 = load_arch(ROOT / "models" / "gpu_h100.yaml").spec
    assert h100.sm_count == 132 and h100.peak_flops_per_s["bfloat16"] == pytest.approx(989.4e12)


def test_bad_preset_key_names_the_file(tmp_path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text((ROOT / "models" / "gpu_h100.yaml").read_text().replace("sm_count:", "sm_counts:"))
    with pytest.raises(SpecError, match=r"bad\.yaml.*sm_counts"):
        load_arch(p)
