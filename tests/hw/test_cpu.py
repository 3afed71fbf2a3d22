"""CPU baseline (cosim.hw.cpu) against hand-computed rooflines and NEON instruction counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosim import cost
from cosim.cli import main
from cosim.errors import ModelError, SpecError
from cosim.graph import OpKind, WorkloadGraph, attention_op, gemm_op
from cosim.hw import cpu, load_arch

ROOT = Path(__file__).resolve().parents[2]


def spec(**kw) -> cpu.Spec:
    """4 cores x 2 pipes x 2 GHz = 16e9 vector instr/s; 10 GB/s DRAM at 50% = 5e9 B/s sustained."""
    base = dict(
        name="t",
        cores=4,
        clock_hz=2e9,
        llc_bytes=1 << 20,
        llc_bytes_per_s=100e9,
        dram_bytes_per_s=10e9,
        dram_efficiency=0.5,
        price_per_hour_usd=0.36,
    )
    base.update(kw)
    return cpu.Spec(**base)


def graph(*ops, batch: int | None = None) -> WorkloadGraph:
    g = WorkloadGraph(name="g", meta={"batch": batch} if batch else {})
    prev: list[str] = []
    for o in ops:
        g.add_op(o, prev)
        prev = [o.name]
    return g


W4_4096 = 4096 * 4096 * 4 // 8  # 8,388,608 weight bytes of a 4096 x 4096 W4 matrix


def test_memory_bound_gemv_takes_weight_bytes_over_sustained_bandwidth():
    op = gemm_op("w", 1, 4096, 4096, weight_bits=4, act_bits=16)
    r = cpu.simulate(spec(), graph(op)).ops[0]
    # vector work: 1,048,576 INT8 vectors x (3 unpack + 6 FP16 convert) + 2,097,152 FMLA = 11,534,336 instr
    assert r.extra["vector_ops"] == 11_534_336
    assert r.seconds == pytest.approx(W4_4096 / 5e9)  # 1.678 ms > 11.5M / 16e9 = 0.72 ms
    assert r.bound.value == "memory"
    assert r.bytes_by_level["dram"] == W4_4096


def test_compute_bound_batched_gemm_takes_instructions_over_issue_rate():
    op = gemm_op("w", 32, 4096, 4096, weight_bits=4, act_bits=16)
    r = cpu.simulate(spec(), graph(op)).ops[0]
    # unpack+convert once per 4 tokens: 1,048,576 x 9 x 8 = 75,497,472; FMLA: 32 x 2,097,152 = 67,108,864
    assert r.extra["dequant_ops"] == 75_497_472
    assert r.extra["mac_ops"] == 67_108_864
    assert r.seconds == pytest.approx((75_497_472 + 67_108_864) / 16e9)
    assert r.bound.value == "compute"


def test_int8_activation_path_counts_sdot_rescale_and_activation_quantisation():
    op = gemm_op("w", 1, 4096, 4096, weight_bits=4, act_bits=8)
    w = cpu.gemm_work(spec(), op)
    assert w.dequant_ops == 1_048_576 * 3  # USHR/AND + SUB per INT8 vector, no FP conversion
    assert w.mac_ops == 1_048_576 + 2 * (4096 * 4096 // 32)  # one SDOT per vector + SCVTF/FMLA per block
    assert w.act_quant_ops == pytest.approx(4096 * 4.5 / 4)


@pytest.mark.parametrize(("bits", "ops"), [(1, 3), (2, 3), (3, 7), (4, 3), (5, 7), (6, 7), (7, 11), (8, 0)])
def test_unpack_cost_follows_storage_planes(bits, ops):
    # planes: 3 = 2+1, 5 = 4+1, 6 = 4+2, 7 = 4+2+1 -> 2 per plane + 2 per merge + 1 zero-point SUB
    assert cpu.unpack_ops_per_vector(bits) == ops


def test_decode_roofline_is_dram_bytes_over_bandwidth():
    b = 8
    ops = [
        gemm_op("q", b, 4096, 4096, weight_bits=4),
        gemm_op("o", b, 4096, 4096, weight_bits=4),
        attention_op("qk", OpKind.ATTENTION_QK, batch=b, heads=32, kv_heads=32, head_dim=128, q_len=1, kv_len=128),
        attention_op("av", OpKind.ATTENTION_AV, batch=b, heads=32, kv_heads=32, head_dim=128, q_len=1, kv_len=128),
    ]
    g = graph(*ops, batch=b)
    kv = 8 * 32 * 128 * 128 * 2  # batch x heads x kv_len x head_dim x FP16 bytes, per K or V
    roof = cpu.decode_roofline(spec(), g)
    assert roof.dram_bytes == 2 * W4_4096 + 2 * kv
    assert roof.seconds == pytest.approx((2 * W4_4096 + 2 * kv) / 5e9)
    assert roof.tokens_per_s == pytest.approx(8 * 5e9 / (2 * W4_4096 + 2 * kv))


def test_memory_bound_step_runs_at_the_roofline_and_reports_cost():
    ops = [
        gemm_op("q", 1, 4096, 4096, weight_bits=4),
        attention_op("qk", OpKind.ATTENTION_QK, batch=1, heads=32, kv_heads=32, head_dim=128, q_len=1, kv_len=512),
    ]
    g = graph(*ops, batch=1)
    run = cpu.simulate(spec(), g)
    roof = cpu.decode_roofline(spec(), g)
    assert run.seconds == pytest.approx(roof.seconds)
    assert run.extra["tokens_per_s"] == pytest.approx(1 / run.seconds)
    assert run.extra["tokens_per_usd"] == pytest.approx(3600 / run.seconds / 0.36)


def test_weights_that_fit_the_llc_do_not_touch_dram():
    op = gemm_op("w", 1, 256, 256, weight_bits=4)  # 32 KB <= half of a 1 MB LLC
    r = cpu.simulate(spec(), graph(op)).ops[0]
    assert r.bytes_by_level["dram"] == 0
    assert r.bytes_by_level["llc"] == 256 * 256 // 2 + 256 * 2 * 2
    assert cpu.simulate(spec(llc_bytes=1 << 14), graph(op)).ops[0].bytes_by_level["dram"] == 256 * 256 // 2


def test_energy_components_sum_to_the_op_energy():
    r = cpu.simulate(spec(llc_bytes=1 << 16), graph(gemm_op("w", 4, 1024, 1024, weight_bits=3))).ops[0]
    assert r.energy_j == pytest.approx(sum(r.energy_by_component_j.values()))
    assert r.energy_by_component_j["dram"] == pytest.approx(1024 * 1024 * 3 / 8 * cost.dram_energy_per_byte_j("ddr3"))


def test_tokens_per_step_comes_from_meta_or_gemv_rows():
    assert cpu.tokens_per_step(graph(gemm_op("w", 6, 64, 64, weight_bits=4))) == 6
    assert cpu.tokens_per_step(graph(gemm_op("w", 6, 64, 64, weight_bits=4), batch=3)) == 3


def test_quantised_kernel_rejects_widths_above_eight_bits():
    with pytest.raises(ModelError, match="weight_bits"):
        cpu.storage_planes(9)


def test_neoverse_presets_load():
    sdp = load_arch(ROOT / "models/neoverse_n1.yaml").spec
    altra = load_arch(ROOT / "models/neoverse_n1_altra.yaml").spec
    assert (sdp.cores, sdp.vector_bits, sdp.vector_pipes, sdp.llc_bytes) == (4, 128, 2, 8 << 20)
    assert (altra.cores, altra.clock_hz, altra.dram_bytes_per_s) == (80, 3.0e9, 204.8e9)


def test_bad_spec_values_name_the_key(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "model: cpu\nname: x\ncores: 4\nclock_hz: 2e9\nllc_bytes: 8\nllc_bytes_per_s: 1e9\n"
        "dram_bytes_per_s: 1e9\nvector_bits: 100\n"
    )
    with pytest.raises(SpecError, match=r"vector_bits.*128"):
        load_arch(p)
    p.write_text(
        "model: cpu\nname: x\ncores: 0\nclock_hz: 2e9\nllc_bytes: 8\nllc_bytes_per_s: 1e9\ndram_bytes_per_s: 1e9\n"
    )
    with pytest.raises(SpecError, match="cores: must be >= 1"):
        load_arch(p)
    p.write_text("model: cpu\nname: x\ncors: 4\n")
    with pytest.raises(SpecError, match="unknown key 'cors'"):
        load_arch(p)


def test_cli_exits_2_on_a_bad_cpu_spec(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "model: cpu\nname: x\ncores: 4\nclock_hz: -1\nllc_bytes: 8\nllc_bytes_per_s: 1e9\ndram_bytes_per_s: 1e9\n"
    )
    w = tmp_path / "w.csv"
    w.write_text("name,kind,dtype,M,N,K,batch,heads,head_dim,kv_len,weight_bits,act_bits\nfc,gemv,,1,64,64,1,,,,4,16\n")
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--arch", str(p), "--workload", str(w)])
    assert e.value.code == 2
    assert "clock_hz" in capsys.readouterr().err
