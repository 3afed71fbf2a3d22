"""Graph IR: builders follow the documented FLOP/byte conventions; JSON round trip is lossless."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from cosim.errors import SpecError
from cosim.graph import (
    ConvShape,
    Op,
    OpKind,
    Phase,
    WorkloadGraph,
    attention_op,
    conv2d_op,
    gemm_op,
    storage_bytes,
    vector_op,
    with_bits,
)


def test_gemm_counts_follow_the_design_convention():
    op = gemm_op("q", 8, 4096, 4096, weight_bits=16, act_bits=16)
    assert op.kind is OpKind.GEMM
    assert op.flops == 2 * 8 * 4096 * 4096
    assert op.weight_bytes == 4096 * 4096 * 2
    assert op.bytes_read == 4096 * 4096 * 2 + 8 * 4096 * 2
    assert op.bytes_written == 8 * 4096 * 2


def test_gemm_with_one_row_is_a_gemv():
    assert gemm_op("v", 1, 11008, 4096).kind is OpKind.GEMV


def test_ternary_weights_are_stored_in_two_bits():
    op = gemm_op("t", 1, 64, 64, weight_bits=1.58, act_bits=8)
    assert op.weight_bytes == 64 * 64 * 2 // 8
    assert storage_bytes(3, 1.58) == 1  # 3 values x 2 bits = 6 bits -> 1 byte


def test_conv_implicit_gemm_view():
    # ResNet-50 conv1: 3x224x224, 64 filters 7x7, stride 2, pad 3 -> 112x112 outputs
    c = ConvShape(
        images=1,
        in_h=224,
        in_w=224,
        in_channels=3,
        out_channels=64,
        kernel_h=7,
        kernel_w=7,
        stride_h=2,
        stride_w=2,
        pad_h=3,
        pad_w=3,
    )
    op = conv2d_op("conv1", c)
    assert (c.out_h, c.out_w) == (112, 112)
    assert (op.M, op.N, op.K, op.batch) == (112 * 112, 64, 3 * 7 * 7, 1)
    assert op.macs == 118_013_952  # 112*112*64*147


def test_depthwise_conv_is_batched_over_groups():
    c = ConvShape(
        images=2, in_h=8, in_w=8, in_channels=32, out_channels=32, kernel_h=3, kernel_w=3, pad_h=1, pad_w=1, groups=32
    )
    op = conv2d_op("dw", c)
    assert (op.M, op.N, op.K, op.batch) == (2 * 64, 1, 9, 32)


def test_gqa_attention_reads_each_kv_head_once():
    # Llama-3-8B decode: 32 heads, 8 KV heads, head_dim 128, batch 4, 1000 keys
    op = attention_op(
        "qk", OpKind.ATTENTION_QK, batch=4, heads=32, kv_heads=8, head_dim=128, q_len=1, kv_len=1000, phase=Phase.DECODE
    )
    assert (op.batch, op.M, op.N, op.K) == (4 * 8, 4, 1000, 128)
    assert op.flops == 2 * 4 * 32 * 1000 * 128
    assert op.kv_bytes == 4 * 8 * 1000 * 128 * 2


def test_attention_rejects_heads_not_multiple_of_kv_heads():
    with pytest.raises(SpecError, match="kv_heads"):
        attention_op("x", OpKind.ATTENTION_QK, batch=1, heads=6, kv_heads=4, head_dim=8, q_len=1, kv_len=8)


def test_op_validation_names_the_field():
    with pytest.raises(SpecError, match="M, N, K, batch >= 1"):
        Op(name="bad", kind=OpKind.GEMM, M=0, N=1, K=1)
    with pytest.raises(SpecError, match="unknown value 'gem'"):
        Op(name="bad", kind="gem")


def test_requantizing_recomputes_bytes():
    op = with_bits(gemm_op("w", 4, 4096, 4096), weight_bits=4, act_bits=16)
    assert op.weight_bytes == 4096 * 4096 // 2
    assert op.weight_bits == 4.0


def _graph() -> WorkloadGraph:
    g = WorkloadGraph(name="t", meta={"model": "x", "batch": 2})
    g.add_op(gemm_op("a", 2, 16, 8, phase=Phase.DECODE))
    g.add_op(
        attention_op("b", OpKind.ATTENTION_QK, batch=2, heads=4, kv_heads=2, head_dim=8, q_len=1, kv_len=9, kv_bits=8),
        ["a"],
    )
    c = ConvShape(1, 9, 9, 3, 4, 3, 3, stride_h=2, stride_w=2, pad_h=1, pad_w=1)
    g.add_op(conv2d_op("c", c, weight_bits=1.58, act_bits=8), ["a"])
    g.add_op(vector_op("d", OpKind.SOFTMAX, elements=18, bytes_read=36, bytes_written=36), ["b", "c"])
    return g


def test_json_round_trip_is_lossless():
    g = _graph()
    g2 = WorkloadGraph.from_json(g.to_json())
    assert g2.ops == g.ops
    assert list(g2.edges) == list(g.edges)
    assert g2.title == "t" and g2.meta == {"model": "x", "batch": 2}
    assert g2.to_json() == g.to_json()


def test_json_has_the_stable_core_fields():
    d = json.loads(_graph().to_json())
    core = {
        "name",
        "kind",
        "M",
        "N",
        "K",
        "batch",
        "flops",
        "weight_bits",
        "act_bits",
        "bytes_read",
        "bytes_written",
        "phase",
    }
    assert all(core <= set(o) for o in d["ops"])
    assert d["ops"][0]["weight_bits"] == 16  # integral widths stay integers in JSON


@settings(max_examples=60, deadline=None)
@given(
    M=st.integers(1, 4096),
    N=st.integers(1, 4096),
    K=st.integers(1, 4096),
    b=st.integers(1, 64),
    wb=st.sampled_from([1, 1.58, 2, 3, 4, 8, 16]),
    ab=st.sampled_from([8, 16, 32]),
)
def test_round_trip_random_gemms(M, N, K, b, wb, ab):
    g = WorkloadGraph(name="r")
    g.add_op(gemm_op("x", M, N, K, b, weight_bits=wb, act_bits=ab))
    assert WorkloadGraph.from_json(g.to_json()).ops == g.ops


def test_bad_graph_json_errors():
    with pytest.raises(SpecError, match="invalid JSON"):
        WorkloadGraph.from_json("{")
    with pytest.raises(SpecError, match="unknown field"):
        WorkloadGraph.from_dict({"ops": [{"name": "a", "kind": "gemm", "M": 1, "N": 1, "K": 1, "colour": 3}]})
    with pytest.raises(SpecError, match="does not join two known ops"):
        WorkloadGraph.from_dict({"ops": [], "edges": [["a", "b"]]})


def test_summary_groups_by_kind():
    s = {r.kind: r for r in _graph().summary()}
    assert set(s) == {OpKind.GEMM, OpKind.ATTENTION_QK, OpKind.CONV2D, OpKind.SOFTMAX}
    assert s[OpKind.GEMM].flops == 2 * 2 * 16 * 8
    assert sum(r.count for r in s.values()) == 4
