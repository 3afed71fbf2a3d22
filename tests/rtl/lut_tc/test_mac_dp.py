"""cocotb bench of rtl/lut_tc/mac_dp.sv, the MAC dot-product baseline the synthesis compares against."""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from cosim.rtl import bench_params, rtl_sources, run_bench

PARAMS = {"K": 4, "AW": 8, "WW": 8, "ACC_W": 32}


def _pack(values, width: int) -> int:
    return sum((int(v) & ((1 << width) - 1)) << (i * width) for i, v in enumerate(values))


@cocotb.test()
async def accumulates_dot_products(dut):
    p = bench_params()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.en.value = 0
    await RisingEdge(dut.clk)  # first edge is at t=0: let the inputs settle
    k = p["K"]
    alo, ahi = -(1 << (p["AW"] - 1)), (1 << (p["AW"] - 1)) - 1
    wlo, whi = -(1 << (p["WW"] - 1)), (1 << (p["WW"] - 1)) - 1
    rng = np.random.default_rng(5)
    runs = [(rng.integers(alo, ahi + 1, (n, k)), rng.integers(wlo, whi + 1, (n, k))) for n in (1, 2, 7)]
    runs.append((np.full((3, k), alo), np.full((3, k), wlo)))  # largest positive products
    runs.append((np.full((3, k), alo), np.full((3, k), whi)))  # most negative products
    for acts, wgts in runs:
        for i in range(len(acts)):
            dut.en.value = 1
            dut.clear.value = int(i == 0)
            dut.act.value = _pack(acts[i], p["AW"])
            dut.wgt.value = _pack(wgts[i], p["WW"])
            await RisingEdge(dut.clk)
        dut.en.value = 0
        await ReadOnly()
        want = int((acts.astype(np.int64) * wgts).sum())
        assert dut.acc.value.to_signed() == want
        await RisingEdge(dut.clk)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_mac_dp(sim):
    run_bench(
        toplevel="mac_dp",
        sources=rtl_sources("lut_tc/mac_dp.sv"),
        test_module="tests.rtl.lut_tc.test_mac_dp",
        sim=sim,
        parameters=PARAMS,
    )
