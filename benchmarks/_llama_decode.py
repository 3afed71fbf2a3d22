"""Llama-2-7B decode-step graph from the `cosim.graph` builders (used until `cosim.trace` lands).

Shapes from the Llama-2-7B config (Touvron et al. 2023; HF ``config.json``): hidden 4096,
intermediate 11008, 32 layers, 32 heads (no GQA), head_dim 128, vocab 32000.  One decode
step of ``batch`` sequences at KV length ``kv_len``: every linear layer is a GEMM with
M = batch (quantised as ``quant``), attention reads the FP16 KV cache.
"""

from __future__ import annotations

from cosim.graph import OpKind, Phase, WorkloadGraph, attention_op, gemm_op, storage_bytes, vector_op
from cosim.workload import Quant

HIDDEN, INTER, LAYERS, HEADS, HEAD_DIM, VOCAB = 4096, 11008, 32, 32, 128, 32000


def llama2_7b_decode(batch: int, kv_len: int, quant: str, layers: int = LAYERS) -> WorkloadGraph:
    """One decode step of Llama-2-7B for `batch` sequences; `quant` like ``W4A16`` or ``W2A8``."""
    q = Quant.parse(quant, "quant")
    wb, ab = q.weight_bits, q.act_bits
    g = WorkloadGraph(
        name=f"llama2_7b_decode_{quant}_b{batch}",
        meta={"model": "llama2_7b", "phase": "decode", "batch": batch, "kv_len": kv_len, "quant": quant},
    )
    d = Phase.DECODE
    prev: list[str] = []

    def add(op):  # chain ops in execution order
        g.add_op(op, prev)
        prev[:] = [op.name]

    def vec(name, kind, elements, flops=None):
        nbytes = storage_bytes(elements, 16)
        add(vector_op(name, kind, elements=elements, bytes_read=nbytes, bytes_written=nbytes, flops=flops, phase=d))

    def lin(name, n, k):
        add(gemm_op(name, batch, n, k, weight_bits=wb, act_bits=ab, phase=d))

    emb_bytes = storage_bytes(batch * HIDDEN, 16)
    add(vector_op("embed", OpKind.EMBEDDING, elements=batch * HIDDEN, bytes_read=emb_bytes, bytes_written=emb_bytes))
    for i in range(layers):
        p = f"layers.{i}."
        vec(p + "attn_norm", OpKind.NORM, batch * HIDDEN)
        lin(p + "q_proj", HIDDEN, HIDDEN)
        lin(p + "k_proj", HIDDEN, HIDDEN)
        lin(p + "v_proj", HIDDEN, HIDDEN)
        vec(p + "rope", OpKind.ELEMENTWISE, 2 * batch * HIDDEN, flops=6 * batch * HIDDEN)
        kv_new = storage_bytes(2 * batch * HIDDEN, 16)
        add(
            vector_op(p + "kv_write", OpKind.COPY, elements=2 * batch * HIDDEN, bytes_read=kv_new, bytes_written=kv_new)
        )
        geo = {"batch": batch, "heads": HEADS, "kv_heads": HEADS, "head_dim": HEAD_DIM, "q_len": 1, "kv_len": kv_len}
        add(attention_op(p + "qk", OpKind.ATTENTION_QK, phase=d, **geo))
        vec(p + "softmax", OpKind.SOFTMAX, batch * HEADS * kv_len)
        add(attention_op(p + "av", OpKind.ATTENTION_AV, phase=d, **geo))
        lin(p + "o_proj", HIDDEN, HIDDEN)
        vec(p + "attn_residual", OpKind.ELEMENTWISE, batch * HIDDEN)
        vec(p + "ffn_norm", OpKind.NORM, batch * HIDDEN)
        lin(p + "gate_proj", INTER, HIDDEN)
        lin(p + "up_proj", INTER, HIDDEN)
        vec(p + "silu_mul", OpKind.ELEMENTWISE, batch * INTER, flops=5 * batch * INTER)
        lin(p + "down_proj", HIDDEN, INTER)
        vec(p + "ffn_residual", OpKind.ELEMENTWISE, batch * HIDDEN)
    vec("final_norm", OpKind.NORM, batch * HIDDEN)
    lin("lm_head", VOCAB, HIDDEN)
    return g
