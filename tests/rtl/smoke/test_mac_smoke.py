import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from cosim.rtl import bench_params, rtl_sources, run_bench


@cocotb.test()
async def accumulates(dut):
    p = bench_params()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.en.value = 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    total = 0
    lo, hi = -(1 << (p["W"] - 1)), (1 << (p["W"] - 1)) - 1
    for a, b in [(lo, lo), (hi, lo), (3, -5), (hi, hi)]:
        dut.a.value = a
        dut.b.value = b
        dut.en.value = 1
        await RisingEdge(dut.clk)
        total += a * b
    dut.en.value = 0
    await RisingEdge(dut.clk)
    assert dut.acc.value.to_signed() == total


@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_mac_smoke(sim):
    run_bench(
        toplevel="mac_smoke",
        sources=rtl_sources("smoke/mac_smoke.sv"),
        test_module="tests.rtl.smoke.test_mac_smoke",
        sim=sim,
        parameters={"W": 8, "ACC_W": 20},
    )
