"""The op-list CSV of DESIGN.md: parsing, defaults and errors."""

from __future__ import annotations

import pytest

from cosim.errors import SpecError
from cosim.graph import OpKind
from cosim.workload import CSV_COLUMNS, load_op_csv, load_workload

HEADER = ",".join(CSV_COLUMNS)


def _csv(tmp_path, *rows: str, header: str = HEADER):
    p = tmp_path / "ops.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


def test_rows_become_ops_in_a_chain(tmp_path):
    p = _csv(
        tmp_path,
        "q,gemm,bfloat16,16,4096,4096,,,,,,",
        "dec,attention_decode,float16,,,,8,32,128,2048,,",
        "pre,attention_prefill,float16,,,,2,32,128,512,,",
        "w4,gemv,,1,11008,4096,,,,,4,16",
        "sm,softmax,float16,8,2048,,,,,,,",
    )
    g = load_op_csv(p)
    assert [o.name for o in g.ops] == ["q", "dec", "pre", "w4", "sm"]
    assert list(g.edges) == [("q", "dec"), ("dec", "pre"), ("pre", "w4"), ("w4", "sm")]
    q, dec, pre, w4, sm = g.ops
    assert (q.M, q.N, q.K, q.dtype, q.weight_bits) == (16, 4096, 4096, "bfloat16", 16)
    assert (dec.kind, dec.q_len, dec.kv_len, dec.heads) == (OpKind.ATTENTION_DECODE, 1, 2048, 32)
    assert dec.flops == 4 * 8 * 32 * 2048 * 128 + 5 * 8 * 32 * 2048
    assert dec.kv_bytes == 2 * 8 * 32 * 2048 * 128 * 2
    assert pre.q_len == 512
    assert (w4.weight_bits, w4.weight_bytes) == (4, 11008 * 4096 // 2)
    assert sm.elements == 8 * 2048


def test_load_workload_dispatches_on_suffix(tmp_path):
    assert load_workload(_csv(tmp_path, "a,gemm,float16,2,2,2,,,,,,")).ops[0].flops == 16


@pytest.mark.parametrize(
    ("rows", "header", "needle"),
    [
        (["a,conv3d,float16,1,1,1,,,,,,"], HEADER, "ops.csv:2: kind 'conv3d' is not allowed"),
        (["a,gemm,float16,0,1,1,,,,,,"], HEADER, "ops.csv:2: column 'M': expected a positive integer, got '0'"),
        (["a,gemm,float16,x,1,1,,,,,,"], HEADER, "column 'M': expected an integer, got 'x'"),
        (["a,gemm,float9,1,1,1,,,,,,"], HEADER, "dtype 'float9' is unknown"),
        (["a,gemv,float16,2,1,1,,,,,,"], HEADER, "a gemv has M = 1"),
        (["a,attention_decode,float16,,,,1,,128,64,,"], HEADER, "column 'heads' is required"),
        ([], HEADER, "no op rows"),
        (["a,gemm,float16,1,1,1"], "name,kind,dtype,M,N,K", "header lacks column(s) batch"),
        (["a,gemm,float16,1,1,1,,,,,,,1"], HEADER + ",colour", "unknown column(s) colour"),
    ],
)
def test_bad_rows_are_named(tmp_path, rows, header, needle):
    with pytest.raises(SpecError) as e:
        load_op_csv(_csv(tmp_path, *rows, header=header))
    assert needle in str(e.value)
