"""Tracing with torch.export, checked against hand-derived shapes and published figures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from cosim.errors import SpecError
from cosim.graph import OpKind, Phase
from cosim.trace import trace, trace_workload
from cosim.workload import load_workload, load_workload_spec

from .conftest import REPO, WORKLOADS


@pytest.fixture(scope="module")
def llama7b_decode():
    return load_workload(WORKLOADS / "llama2_7b_decode.yaml")


def test_llama2_7b_gemm_shapes_per_layer(llama7b_decode):
    # Touvron et al. 2023, Table 1 / HF config: d_model 4096, d_ff 11008, 32 layers, 32 heads.
    g = llama7b_decode
    B = g.meta["batch"]
    shapes = {
        o.name.split(".", 2)[-1]: (o.M, o.K, o.N)
        for o in g.ops
        if o.name.startswith("layers.5.") and o.kind in (OpKind.GEMM, OpKind.GEMV)
    }
    assert shapes == {
        "attn.q_proj": (B, 4096, 4096),
        "attn.k_proj": (B, 4096, 4096),
        "attn.v_proj": (B, 4096, 4096),
        "attn.o_proj": (B, 4096, 4096),
        "mlp.gate_proj": (B, 4096, 11008),
        "mlp.up_proj": (B, 4096, 11008),
        "mlp.down_proj": (B, 11008, 4096),
    }
    assert sum(o.kind is OpKind.ATTENTION_QK for o in g.ops) == 32
    assert g.op("lm_head").N == 32000


def test_llama2_7b_decode_flops_match_closed_form(llama7b_decode):
    g = llama7b_decode
    B, L = g.meta["batch"], g.meta["kv_len"]
    d, f, layers, vocab = 4096, 11008, 32, 32000
    # non-embedding parameters: per layer 4 d^2 (attention) + 3 d f (SwiGLU MLP) + 2 d (norms);
    # plus the final norm and the untied lm_head (vocab x d).
    non_embedding = layers * (4 * d * d + 3 * d * f + 2 * d) + d + vocab * d
    attention = layers * 2 * (2 * B * L * d)  # QK^T and PV: 2 flops x B x heads x L x head_dim each
    closed = 2 * non_embedding * B + attention
    assert g.total_flops == pytest.approx(closed, rel=0.01)
    # the 6.74B total published for Llama-2-7B = embedding + non-embedding parameters
    assert (non_embedding + vocab * d) == pytest.approx(6.74e9, rel=0.001)


def test_decode_attention_has_query_length_one_and_kv_length_L(llama7b_decode):
    g = llama7b_decode
    qk = g.op("layers.0.attn.qk")
    av = g.op("layers.0.attn.av")
    B, L = g.meta["batch"], g.meta["kv_len"]
    assert (qk.q_len, qk.kv_len, qk.heads, qk.kv_heads, qk.head_dim) == (1, L, 32, 32, 128)
    assert (qk.batch, qk.M, qk.N, qk.K) == (B * 32, 1, L, 128)
    assert (av.M, av.N, av.K) == (1, 128, L)
    assert qk.phase is Phase.DECODE
    # dependency chain inside attention: q_proj -> ... -> qk -> softmax -> av -> o_proj
    assert g.has_edge("layers.0.attn.softmax", "layers.0.attn.av")
    assert "layers.0.attn.cache_write" in set(g.predecessors("layers.0.attn.qk"))


def test_llama3_8b_respects_gqa():
    g = trace("llama3_8b", phase="decode", batch=4, kv_len=512, overrides={"n_layers": 2})
    assert g.op("layers.0.attn.k_proj").N == 8 * 128  # 8 KV heads
    qk = g.op("layers.1.attn.qk")
    assert (qk.heads, qk.kv_heads, qk.batch, qk.M, qk.N) == (32, 8, 4 * 8, 4, 512)
    assert qk.kv_bytes == 4 * 8 * 512 * 128 * 2  # each KV head read once, fp16


def test_prefill_attention_is_square():
    g = trace("gpt2", phase="prefill", batch=2, seq_len=64)
    qk = g.op("layers.0.attn.qk")
    assert (qk.q_len, qk.kv_len, qk.M, qk.N, qk.K, qk.batch) == (64, 64, 64, 64, 64, 2 * 12)
    assert g.op("layers.0.mlp.up_proj").M == 2 * 64
    assert g.op("lm_head").N == 50257  # tied embedding, still a GEMM


@pytest.mark.parametrize(
    ("model", "kw"),
    [
        ("llama3_8b", {"phase": "decode", "kv_len": 16}),
        ("gpt2", {"phase": "prefill", "seq_len": 8}),
        ("bitnet_b158_700m", {"phase": "decode", "kv_len": 8}),
    ],
)
def test_replicated_layers_equal_a_full_trace(model, kw):
    from cosim.spec import parse
    from cosim.workload import WorkloadSpec

    spec = parse(WorkloadSpec, {"name": "x", "model": model, "batch": 2, "overrides": {"n_layers": 5}, **kw}, "t")
    fast, full = trace_workload(spec), trace_workload(spec, replicate=False)
    assert fast.ops == full.ops
    assert sorted(fast.edges) == sorted(full.edges)
    assert fast.meta == full.meta


def test_resnet50_matches_published_shapes_and_macs():
    g = load_workload(WORKLOADS / "resnet50.yaml")
    convs = [o for o in g.ops if o.kind is OpKind.CONV2D]
    assert len(convs) == 53  # 1 stem + 16 blocks x 3 + 4 downsample projections
    # He et al. 2016 Table 1 (50-layer): 3.8e9 FLOPs (multiply-adds) in the paper's v1; torchvision's
    # v1.5 (stride on the 3x3) is 4.09 GMACs.
    macs = sum(o.macs for o in g.ops if o.is_gemm_like)
    assert macs == pytest.approx(4.09e9, rel=0.01)
    c1 = g.op("conv1")
    assert (c1.conv.kernel_h, c1.conv.stride_h, c1.conv.out_h, c1.N) == (7, 2, 112, 64)
    last = convs[-1]
    assert (last.conv.out_h, last.conv.out_channels) == (7, 2048)
    fc = g.op("fc")
    assert (fc.K, fc.N) == (2048, 1000)
    # conv2_x bottleneck: 1x1 64, 3x3 64, 1x1 256
    b = [g.op(f"layer1.0.conv{i}") for i in (1, 2, 3)]
    assert [(o.conv.kernel_h, o.conv.out_channels) for o in b] == [(1, 64), (3, 64), (1, 256)]


def test_bitnet_linears_are_ternary_w_int8_a(tmp_path):
    g = trace("bitnet_b158_3b", phase="decode", batch=1, kv_len=128, overrides={"n_layers": 2})
    q = g.op("layers.0.attn.q_proj")
    assert (q.kind, q.K, q.N, q.weight_bits, q.act_bits, q.dtype) == (OpKind.GEMV, 3200, 3200, 1.58, 8, "int8")
    assert q.weight_bytes == 3200 * 3200 * 2 // 8  # 2-bit packed
    assert g.op("lm_head").weight_bits == 16  # the head stays in 16 bits, as in BitNet b1.58


def test_workload_quantization_applies_to_linears_not_lm_head():
    g = trace("llama2_7b", phase="decode", batch=1, kv_len=64, quant="W4A16", overrides={"n_layers": 2})
    q = g.op("layers.0.attn.q_proj")
    assert (q.weight_bits, q.act_bits, q.weight_bytes) == (4, 16, 4096 * 4096 // 2)
    assert g.op("lm_head").weight_bits == 16
    g8 = trace("llama2_7b", phase="decode", batch=1, kv_len=64, quant="W2A8KV8", overrides={"n_layers": 2})
    qk = g8.op("layers.0.attn.qk")
    assert (qk.act_bits, qk.kv_bits, qk.kv_bytes) == (8, 8, 32 * 64 * 128)
    assert g8.op("layers.0.mlp.up_proj").dtype == "int8"


def test_bitlinear_op_computes_a_ternary_matmul():
    from cosim.zoo.transformer import BitLinear

    torch.manual_seed(0)
    lin = BitLinear(8, 3)
    x = torch.randn(2, 8)
    codes = np.stack([(lin.w_packed.numpy() >> (2 * i)) & 3 for i in range(4)], -1).reshape(3, 8)
    w = codes.astype(np.float64) - 1
    s = 127.0 / np.abs(x.numpy()).max(-1, keepdims=True)
    ref = (np.clip(np.round(x.numpy() * s), -128, 127) @ w.T) / s
    np.testing.assert_allclose(lin(x).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_tiny_decoder_really_runs_on_cpu():
    from cosim import zoo

    b = zoo.build(
        "llama3_8b",
        phase="decode",
        batch=2,
        kv_len=5,
        dtype=torch.float32,
        device="cpu",
        overrides={"n_layers": 1, "d_model": 64, "n_heads": 4, "n_kv_heads": 2, "d_ff": 96, "vocab": 50},
    )
    out = b.module(*b.args)
    assert out.shape == (2, 1, 50) and torch.isfinite(out).all()


def test_unsupported_ops_in_a_user_model_are_listed(tmp_path):
    (tmp_path / "m.py").write_text(
        textwrap.dedent("""
        import torch
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = torch.nn.Linear(16, 16)
            def forward(self, x):
                return torch.special.erfinv(torch.tanh(self.lin(x)))
        def build(spec):
            return M(), (torch.zeros(spec.batch, 16),)
    """)
    )
    (tmp_path / "w.yaml").write_text("name: mine\nmodel: m.py:build\nbatch: 2\n")
    with pytest.raises(SpecError, match=r"unsupported op\(s\).*aten::special_erfinv in <top>"):
        load_workload(tmp_path / "w.yaml")


def test_user_model_traces(tmp_path):
    (tmp_path / "m.py").write_text(
        textwrap.dedent("""
        import torch
        def build(spec):
            return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 8)), \\
                (torch.zeros(spec.batch, 32),)
    """)
    )
    (tmp_path / "w.yaml").write_text("name: mlp\nmodel: m.py:build\nbatch: 4\n")
    g = load_workload(tmp_path / "w.yaml")
    assert [(o.name, o.kind.value, o.M, o.K, o.N) for o in g.ops] == [
        ("0", "gemm", 4, 32, 64),
        ("1", "elementwise", 0, 0, 0),
        ("2", "gemm", 4, 64, 8),
    ]
    assert list(g.edges) == [("0", "1"), ("1", "2")]


@pytest.mark.slow
def test_llama2_70b_traces_without_allocating_weights(tmp_path):
    # 70B fp16 weights are 140 GB: a peak RSS under 2 GB proves they were never allocated.
    spec = tmp_path / "w.yaml"
    spec.write_text("name: l70\nmodel: llama2_70b\nphase: decode\nbatch: 1\nkv_len: 4096\n")
    code = (
        "import resource, sys; from cosim.workload import load_workload; "
        f"g = load_workload({str(spec)!r}); "
        "print(g.number_of_nodes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    n_ops, rss_kb = map(int, out.stdout.split())
    assert n_ops > 80 * 20
    assert rss_kb < 2 * 1024 * 1024


def test_workload_spec_errors(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("name: x\nmodel: llama2_7b\nphase: decode\nbatch: -1\nkv_len: 8\n")
    with pytest.raises(SpecError, match=r"w.yaml: batch: must be >= 1, got -1"):
        load_workload_spec(p)
    p.write_text("name: x\nmodel: llama2_7b\nphase: decode\nkv_len: 8\nbatchsize: 2\n")
    with pytest.raises(SpecError, match=r"unknown key 'batchsize'"):
        load_workload_spec(p)
    p.write_text("name: x\nmodel: llama9_7b\nphase: decode\nkv_len: 8\n")
    with pytest.raises(SpecError, match=r"unknown model 'llama9_7b'"):
        load_workload(p)
    p.write_text("name: x\nmodel: llama2_7b\nphase: decode\n")
    with pytest.raises(SpecError, match=r"decode needs kv_len"):
        load_workload_spec(p)
    p.write_text("name: x\nmodel: llama2_7b\nphase: decode\nkv_len: 8\nquant: W4\n")
    with pytest.raises(SpecError, match=r"not of the form W<bits>A<bits>"):
        load_workload(p)


def test_graph_json_from_the_cli_round_trips(tmp_path, run_cli):
    out = tmp_path / "g.json"
    code, _, err = run_cli("trace", WORKLOADS / "resnet50.yaml", "-o", out)
    assert code == 0, err
    d = json.loads(out.read_text())
    assert d["name"] == "resnet50" and len(d["ops"]) == 174
    code, stdout, _ = run_cli("graph", "summary", out, "--json")
    s = json.loads(stdout)
    assert {k["kind"] for k in s["kinds"]} >= {"conv2d", "norm", "pool", "gemv"}


def test_row_wise_ops_carry_rows_and_row_length():
    g = trace("llama2_7b", phase="decode", batch=2, kv_len=64, overrides={"n_layers": 2})
    sm, norm = g.op("layers.0.attn.softmax"), g.op("layers.0.attn_norm")
    assert (sm.M, sm.N) == (2 * 32, 64)  # one row of 64 scores per (sequence, head)
    assert (norm.M, norm.N) == (2, 4096)  # one row per token
