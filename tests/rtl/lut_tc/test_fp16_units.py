"""cocotb bench of the FP16 units (rtl/lut_tc/fp16_*.sv, lut_cell_fp16.sv, mac_dp_fp16.sv) through
fp16_units_tb.sv, bit-exact against the numpy FP16 references in cosim.golden (RNE, DAZ/FTZ).

These units exist to measure the paper's Fig. 12 comparison (LUT W1 x FP16 vs MAC FP16 x FP16)
with yosys on RTL that is known to compute the right thing.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from cosim import golden
from cosim.rtl import bench_params, rtl_sources, run_bench

SOURCES = (
    "lut_tc/fp16_add.sv",
    "lut_tc/fp16_mul.sv",
    "lut_tc/lut_cell_fp16.sv",
    "lut_tc/mac_dp_fp16.sv",
    "lut_tc/fp16_units_tb.sv",
)
PARAMS = {"K": 4, "WB_W": 3}


def _bits(x) -> int:
    return int(np.asarray(x, dtype=np.float16).view(np.uint16))


def _same(rtl: int, want) -> bool:
    """Bit-exact, with +0 == -0 (flush-to-zero keeps no meaningful zero sign)."""
    w = _bits(want)
    return rtl == w or (rtl & 0x7FFF == 0 and w & 0x7FFF == 0)


def _pack16(values) -> int:
    return sum(_bits(v) << (16 * i) for i, v in enumerate(values))


def _normal_fp16(rng: np.random.Generator, n: int, lo_exp: int, hi_exp: int) -> np.ndarray:
    """Random normal FP16 values with exponents in [lo_exp, hi_exp] and random signs."""
    mant = rng.integers(1024, 2048, n) / 1024.0
    return (rng.choice([-1.0, 1.0], n) * mant * 2.0 ** rng.integers(lo_exp, hi_exp + 1, n)).astype(np.float16)


def _operand_pairs(rng: np.random.Generator) -> list[tuple[np.float16, np.float16]]:
    a = _normal_fp16(rng, 3000, -8, 8)
    b = _normal_fp16(rng, 3000, -8, 8)
    pairs = list(zip(a, b))
    f = np.float16
    near = [np.nextafter(x, f(np.inf)) for x in a[:200]]
    pairs += [(x, -x) for x in a[:100]]  # exact cancellation
    pairs += [(x, -y) for x, y in zip(a[:200], near)]  # one-ulp cancellation
    pairs += [(x, x * f(2.0**-12)) for x in a[:100]]  # alignment beyond the guard bits
    pairs += [(f(60000), f(60000)), (f(-65504), f(-32)), (f(300), f(300)), (f(-256), f(512))]  # overflow
    pairs += [(f(1.0), f(2.0**-11)), (f(1.0 + 2.0**-10), f(2.0**-11)), (f(1.0), f(3 * 2.0**-12))]  # ties
    pairs += [(f(0.0), x) for x in a[:20]] + [(x, f(0.0)) for x in a[:20]] + [(f(0.0), f(-0.0))]
    pairs += [(f(2.0**-7), f(2.0**-7)), (f(2.0**-8), f(-(2.0**-7)))]  # products underflow: flushed
    return pairs


@cocotb.test()
async def adder_and_multiplier(dut):
    rng = np.random.default_rng(16)
    bad = []
    for a, b in _operand_pairs(rng):
        dut.op_a.value = _bits(a)
        dut.op_b.value = _bits(b)
        await Timer(1, unit="ns")
        got_add, got_mul = dut.add_y.value.to_unsigned(), dut.mul_y.value.to_unsigned()
        if not _same(got_add, golden.fp16_add_ftz(a, b)):
            bad.append(("add", float(a), float(b), hex(got_add), hex(_bits(golden.fp16_add_ftz(a, b)))))
        if not _same(got_mul, golden.fp16_mul_ftz(a, b)):
            bad.append(("mul", float(a), float(b), hex(got_mul), hex(_bits(golden.fp16_mul_ftz(a, b)))))
    assert not bad, f"{len(bad)} wrong results, first: {bad[:5]}"


async def _clock(dut) -> None:
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.lut_en.value = 0
    dut.mac_en.value = 0
    await RisingEdge(dut.clk)


@cocotb.test()
async def lut_lane_bit_serial(dut):
    """FP16 tables from golden.lut_tables, weights as golden.lut_indices, one output per case."""
    p = bench_params()
    await _clock(dut)
    rng = np.random.default_rng(17)
    k = p["K"]
    for w_bits in (1, 2, 3, 4, 8):
        for groups in (1, 4, 16):
            a = _normal_fp16(rng, k * groups, -3, 3)[None, :]
            q = rng.integers(0, 1 << w_bits, size=(k * groups, 1))
            tables = golden.lut_tables(a, k, symmetric=True)[0]  # (G, E) float16
            index, negate = golden.lut_indices(q, w_bits, k)
            for g in range(groups):
                dut.lut_table.value = _pack16(tables[g])
                for b in range(w_bits):
                    dut.lut_en.value = 1
                    dut.lut_clear.value = int(g == 0 and b == 0)
                    dut.lut_sel.value = int(index[b, g, 0])
                    dut.lut_neg.value = int(negate[b, g, 0])
                    dut.lut_bidx.value = b
                    await RisingEdge(dut.clk)
            dut.lut_en.value = 0
            await ReadOnly()
            want = golden.lut_lane_fp16(tables, index[:, :, 0], negate[:, :, 0])
            got = dut.lut_acc.value.to_unsigned()
            assert _same(got, want), f"W{w_bits} G{groups}: rtl {hex(got)} golden {hex(_bits(want))}"
            exact = (a.astype(np.float64) @ golden.symmetric_codes(q, w_bits).astype(np.float64)).item()
            bound = 2.0**-10 * ((1 << w_bits) * groups * 4 + 1) * float(np.abs(a.astype(np.float64)).sum())
            assert abs(float(want) - exact) <= bound  # the FP16 lane stays within FP16 rounding
            await RisingEdge(dut.clk)


@cocotb.test()
async def mac_dot_products(dut):
    p = bench_params()
    await _clock(dut)
    rng = np.random.default_rng(18)
    k = p["K"]
    for cycles in (1, 3, 16):
        for lo, hi in ((-3, 3), (-7, 7)):
            act = _normal_fp16(rng, cycles * k, lo, hi).reshape(cycles, k)
            wgt = _normal_fp16(rng, cycles * k, lo, hi).reshape(cycles, k)
            for t in range(cycles):
                dut.mac_en.value = 1
                dut.mac_clear.value = int(t == 0)
                dut.mac_act.value = _pack16(act[t])
                dut.mac_wgt.value = _pack16(wgt[t])
                await RisingEdge(dut.clk)
            dut.mac_en.value = 0
            await ReadOnly()
            want = golden.mac_dp_fp16(act, wgt)
            got = dut.mac_acc.value.to_unsigned()
            assert _same(got, want), f"T{cycles}: rtl {hex(got)} golden {hex(_bits(want))}"
            await RisingEdge(dut.clk)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_fp16_units(sim):
    run_bench(
        toplevel="fp16_units_tb",
        sources=rtl_sources(*SOURCES),
        test_module="tests.rtl.lut_tc.test_fp16_units",
        sim=sim,
        parameters=PARAMS,
    )
