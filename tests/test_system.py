"""The NPU + PIM system model: NPU GEMM timing, graph sharding and segmentation, the NeuPIMs
switches, lower bounds, energy accounting, event vs fast mode, and `cosim compare`."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from cosim import system
from cosim.errors import SpecError
from cosim.graph import OpKind
from cosim.hw import load_arch, memory, pim
from cosim.hw.timing_check import check_trace
from cosim.system import (
    Balancing,
    KvSpread,
    NpuSpec,
    Spec,
    gpt3_decode_graph,
    kv_lengths,
    npu_gemm_cycles,
    segments,
    shard_graph,
    simulate_detailed,
)
from cosim.workload import load_workload_spec
from tests.conftest import MODELS, WORKLOADS


def graph_7b(batch=256, layers=2, kv=300):
    return gpt3_decode_graph("gpt3_7b", d_model=4096, n_heads=32, n_layers=layers, batch=batch, kv_len=kv)


NEUPIMS = Spec("neupims", pim=pim.Spec(), tensor_parallel=4)
NAIVE = Spec(
    "naive",
    pim=pim.Spec(dual_row_buffer=False),
    sub_batch_interleaving=False,
    channel_balancing=Balancing.ROUND_ROBIN,
    tensor_parallel=4,
)
NPU_ONLY = Spec("npu_only", tensor_parallel=4)


def test_kv_lengths_have_the_mean_and_spread_of_the_traces():
    L = kv_lengths(300, 256)
    assert np.mean(L) == pytest.approx(300, rel=0.03)
    assert 0.85 < np.std(L) / np.mean(L) < 1.1  # artifact traces: 316 / 300
    assert max(L) <= 2048 and min(L) >= 1
    assert L == kv_lengths(300, 256)  # deterministic
    assert L != sorted(L)  # arrival order, not sorted (round robin would be unfairly balanced)
    assert kv_lengths(300, 8, KvSpread.NONE) == [300] * 8
    assert max(kv_lengths(3000, 64, max_len=2048)) == 2048


def test_npu_gemm_cycles_serial_and_pipelined():
    # WS on 128x128: folds = ceil(K/128) ceil(N/128) = 32 x 24 = 768, 96 per array on 8 arrays;
    # SCALE-Sim WS fold: 2R + C + M - 2 = 256 + 128 + 256 - 2 = 638
    serial = NpuSpec(fold_pipelining=False)
    assert npu_gemm_cycles(serial, 256, 3072, 4096) == 96 * 638
    # pipelined: one whole fold, then max(T = M, R) per further fold
    assert npu_gemm_cycles(NpuSpec(), 256, 3072, 4096) == 638 + 95 * 256
    assert npu_gemm_cycles(NpuSpec(), 64, 3072, 4096) == (256 + 128 + 64 - 2) + 95 * 128
    # OS: folds over M and N, R + C + K - 2 per fold
    os_ = NpuSpec(dataflow=system.Dataflow.OS, fold_pipelining=False, arrays=1)
    assert npu_gemm_cycles(os_, 300, 200, 50) == 3 * 2 * (128 + 128 + 50 - 2)
    assert system.array_gemm_cycles(128, 128, "ws", 256, 128, 128, convention="native") == 638


def test_shard_graph_splits_gemms_heads_and_layers():
    g = graph_7b(layers=2)
    s = shard_graph(g, tp=4)
    gemm = {o.name: o for o in s.ops if o.kind is OpKind.GEMM}
    assert gemm["layers.0.attn.q_proj"].N == 1024 and gemm["layers.0.attn.q_proj"].K == 4096  # column-parallel
    assert gemm["layers.0.attn.o_proj"].K == 1024 and gemm["layers.0.attn.o_proj"].N == 4096  # row-parallel
    assert sum(o.flops for o in s.ops if o.kind is OpKind.GEMM) * 4 == sum(
        o.flops for o in g.ops if o.kind is OpKind.GEMM
    )
    qk = s.op("layers.0.attn.qk")
    assert qk.heads == 8 and qk.batch == 256 * 8
    assert s.op("layers.0.attn_norm") == g.op("layers.0.attn_norm")  # replicated
    assert s.op("layers.0.mlp.gelu").elements * 4 == g.op("layers.0.mlp.gelu").elements
    p = shard_graph(g, tp=1, pp=2)
    assert {o.name.split(".")[1] for o in p.ops} == {"0"}
    with pytest.raises(SpecError, match="not divisible by tp=5"):
        shard_graph(g, tp=5)


def test_segments_alternate_npu_and_mha():
    s = shard_graph(graph_7b(layers=2), tp=4)
    segs = segments(NEUPIMS, s)
    assert [x.kind for x in segs] == ["npu", "mha", "npu", "mha", "npu"]
    assert [o.name.rsplit(".", 1)[-1] for o in segs[1].ops] == ["qk", "mul", "softmax", "av"]
    assert [x.kind for x in segments(NPU_ONLY, s)] == ["npu"]


def test_system_time_respects_compute_and_bandwidth_bounds():
    g = graph_7b()
    for spec in (NPU_ONLY, NAIVE, NEUPIMS):
        r = simulate_detailed(spec, g)
        s = shard_graph(g, 4)
        npu_macs = sum(o.macs for o in s.ops if o.kind is OpKind.GEMM)
        assert r.seconds >= npu_macs / (spec.npu.peak_macs_per_cycle * spec.npu.clock_hz)
        # the NPU's weights alone cross the bus at no more than the channels' peak
        weights = sum(o.weight_bytes for o in s.ops)
        assert r.seconds >= weights / (memory.PRESETS["HBM2"].peak_bytes_per_s * spec.channels)
        assert 0 < r.npu_utilization <= 1 and 0 <= r.pim_utilization <= 1
    # NPU-only: every byte of the KV cache also crosses the bus
    r = simulate_detailed(NPU_ONLY, g)
    assert r.seconds >= shard_graph(g, 4).total_bytes / (32 * memory.PRESETS["HBM2"].peak_bytes_per_s)


def test_neupims_switches_order_the_designs():
    g = graph_7b()
    t_npu = simulate_detailed(NPU_ONLY, g).seconds
    t_naive = simulate_detailed(NAIVE, g).seconds
    r = simulate_detailed(NEUPIMS, g)
    assert r.sub_batched and len(r.stages) == 2 * 2 + 2
    assert r.seconds < t_naive < t_npu
    # greedy min-load packing never leaves a slower MHA than round robin
    greedy = simulate_detailed(replace(NAIVE, channel_balancing=Balancing.GREEDY), g)
    rr = simulate_detailed(NAIVE, g)
    assert greedy.pim_segments[0].cycles <= rr.pim_segments[0].cycles
    # sub-batch interleaving only from sbi_min_batch, and never without dual row buffers
    assert not simulate_detailed(NEUPIMS, graph_7b(batch=128)).sub_batched
    assert not simulate_detailed(replace(NEUPIMS, pim=pim.Spec(dual_row_buffer=False)), g).sub_batched


def test_dual_buffers_overlap_softmax_with_pim_but_blocked_mode_adds_it():
    g = graph_7b(batch=64)
    common = {"sub_batch_interleaving": False, "channel_balancing": Balancing.ROUND_ROBIN, "tensor_parallel": 4}
    d = simulate_detailed(Spec("d", pim=pim.Spec(), **common), g)
    b = simulate_detailed(Spec("b", pim=pim.Spec(dual_row_buffer=False), **common), g)
    mha_d = [s for s in d.stages if s.label == "mha"]
    mha_b = [s for s in b.stages if s.label == "mha"]
    for x, y in zip(mha_d, mha_b):
        assert x.seconds == pytest.approx(max(x.npu_seconds, x.pim_seconds))
        assert y.seconds == pytest.approx(y.npu_seconds + y.pim_seconds)


def test_energy_is_the_sum_of_its_counted_components():
    r = simulate_detailed(NEUPIMS, graph_7b())
    e = r.energy_by_component_j
    assert r.run.energy_j == pytest.approx(math.fsum(e.values()))
    en = memory.ENERGY_PRESETS["HBM2"]
    mac_ops = sum(ps.counts.mac_bank_ops for ps in r.pim_segments)
    assert e["pim_mac"] == pytest.approx(mac_ops * en.mac_pj_per_bank * 1e-12)
    assert e["dram_background"] == pytest.approx(en.background_mw * 1e-3 * r.seconds * 32)
    assert e["pim_background"] > 0 and simulate_detailed(NPU_ONLY, graph_7b()).energy_by_component_j["pim_mac"] == 0


def test_event_and_fast_mode_agree_on_a_decode_step():
    g = graph_7b(batch=64, layers=2, kv=200)
    fast = simulate_detailed(replace(NEUPIMS, sbi_min_batch=32), g)
    ev = simulate_detailed(replace(NEUPIMS, sbi_min_batch=32, pim=pim.Spec(mode=pim.SimMode.EVENT)), g)
    assert ev.seconds == pytest.approx(fast.seconds, rel=0.05)
    for a, b in zip(ev.pim_segments, fast.pim_segments):
        assert a.cycles == pytest.approx(b.cycles, rel=0.05)


@pytest.mark.parametrize("dual", [True, False])
def test_a_full_decode_step_has_no_timing_violations(dual):
    # every distinct MHA segment of a 2-layer decode step, simulated command by command
    g = gpt3_decode_graph("small", d_model=1024, n_heads=8, n_layers=2, batch=64, kv_len=160)
    spec = Spec(
        "t",
        pim=pim.Spec(mode=pim.SimMode.EVENT, dual_row_buffer=dual),
        sbi_min_batch=32,
        channel_balancing=Balancing.GREEDY,
    )
    r = simulate_detailed(spec, g, record_traces=True)
    assert r.pim_segments and all(ps.trace for ps in r.pim_segments)
    table = pim.timing_table(spec.pim)
    for ps in {id(p): p for p in r.pim_segments}.values():
        rep = check_trace(ps.trace, table)
        assert rep.ok, str(rep)
        assert any(c.cmd is pim.Cmd.REF for c in ps.trace)


def test_specs_load_and_are_checked():
    for name in ("neupims", "npu_pim_naive", "npu_only"):
        a = load_arch(MODELS / f"{name}.yaml")
        assert a.spec.name == name
    assert load_arch(MODELS / "neupims.yaml").spec.pim.dual_row_buffer
    assert load_arch(MODELS / "npu_only.yaml").spec.pim is None
    with pytest.raises(SpecError, match="must equal the system"):
        Spec("x", memory="HBM3", pim=pim.Spec())
    for m in ("gpt3_6_7b", "gpt3_13b", "gpt3_30b", "gpt3_175b"):
        w = load_workload_spec(WORKLOADS / f"gpt3_{m.split('_', 1)[1]}_decode.yaml")
        assert (w.model, w.batch, w.kv_len, w.phase.value) == (m, 256, 300, "decode")


def test_compare_cli(run_cli, tmp_path):
    g = graph_7b(batch=128, layers=1)
    path = tmp_path / "g.json"
    g.save(path)
    code, out, err = run_cli(
        "compare", "--arch", MODELS / "npu_only.yaml", "--arch", MODELS / "neupims.yaml", "--workload", path, "--json"
    )
    assert code == 0, err
    d = json.loads(out)
    assert [a["arch"] for a in d["archs"]] == ["npu_only", "neupims"]
    assert d["archs"][0]["speedup"] == 1.0 and d["archs"][1]["speedup"] > 1.0
    npu = d["archs"][0]
    assert npu["tokens_per_s"] == pytest.approx(128 / npu["seconds"])
    code, out, _ = run_cli(
        "compare", "-a", MODELS / "roofline_a100.yaml", "-a", MODELS / "npu_pim_naive.yaml", "-w", path
    )
    assert code == 0 and "speedup" in out
    code, _, err = run_cli("compare", "--arch", MODELS / "neupims.yaml", "--workload", path)
    assert code == 2 and "at least two" in err
