"""cocotb bench of rtl/lut_tc/lut_unit.sv (table precompute + symmetric storage + one lookup lane).

The bench streams k-steps back to back: the next group's table is loaded in the last bit cycle
of the current one.  Model: a . q' in numpy (q' = 2q - (2^W - 1)), with the weight patterns in
the offline symmetric form of `golden.lut_indices`.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from cosim import golden
from cosim.rtl import bench_params, rtl_sources, run_bench

SOURCES = ("lut_tc/lut_table_gen.sv", "lut_tc/lut_cell.sv", "lut_tc/lut_unit.sv")
PARAMS = {"K": 4, "AW": 8, "TW": golden.table_entry_bits(8, 4), "WB_W": 3, "ACC_W": 32}


def _pack(values, width: int) -> int:
    return sum((int(v) & ((1 << width) - 1)) << (i * width) for i, v in enumerate(values))


async def _dot(dut, p: dict[str, int], a: np.ndarray, q: np.ndarray, w_bits: int) -> int:
    """Stream groups of K activations and their weight planes; return the accumulator."""
    k = p["K"]
    groups = len(a) // k
    index, negate = golden.lut_indices(q[:, None], w_bits, k)
    dut.load.value = 1
    dut.en.value = 0
    dut.act.value = _pack(a[:k], p["AW"])
    await RisingEdge(dut.clk)
    for g in range(groups):
        for b in range(w_bits):
            dut.en.value = 1
            dut.clear.value = int(g == 0 and b == 0)
            dut.sel.value = int(index[b, g, 0])
            dut.neg.value = int(negate[b, g, 0])
            dut.bidx.value = b
            last = b == w_bits - 1 and g + 1 < groups
            dut.load.value = int(last)
            if last:
                dut.act.value = _pack(a[(g + 1) * k : (g + 2) * k], p["AW"])
            await RisingEdge(dut.clk)
    dut.en.value = 0
    dut.load.value = 0
    await ReadOnly()
    acc = dut.acc.value.to_signed()
    await RisingEdge(dut.clk)
    return acc


@cocotb.test()
async def dot_products(dut):
    p = bench_params()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.en.value = 0
    await RisingEdge(dut.clk)  # first edge is at t=0: let the inputs settle
    dut.clear.value = 0
    rng = np.random.default_rng(11)
    lo, hi = -(1 << (p["AW"] - 1)), (1 << (p["AW"] - 1)) - 1
    cases = []
    for w_bits in range(1, (1 << p["WB_W"]) + 1):
        for groups in (1, 3):
            n = p["K"] * groups
            cases.append((rng.integers(lo, hi + 1, size=n), rng.integers(0, 1 << w_bits, size=n), w_bits))
        top = (1 << w_bits) - 1
        cases.append((np.full(p["K"] * 2, lo), np.zeros(p["K"] * 2, dtype=np.int64), w_bits))  # reads +K*2^(AW-1)
        cases.append((np.full(p["K"] * 2, lo), np.full(p["K"] * 2, top), w_bits))
        cases.append((np.full(p["K"] * 2, hi), np.arange(p["K"] * 2) % (top + 1), w_bits))
    for a, q, w_bits in cases:
        want = int(a.astype(np.int64) @ golden.symmetric_codes(q[:, None], w_bits)[:, 0])
        got = await _dot(dut, p, a, q, w_bits)
        assert got == want, f"W{w_bits} a={a.tolist()} q={q.tolist()}: rtl {got}, expected {want}"


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_lut_unit(sim):
    run_bench(
        toplevel="lut_unit",
        sources=rtl_sources(*SOURCES),
        test_module="tests.rtl.lut_tc.test_lut_unit",
        sim=sim,
        parameters=PARAMS,
    )
