"""cocotb bench of rtl/lut_tc/lut_array.sv: bit-exact against cosim.golden, cycles against cosim.hw.lut_tc.

Driver: writes the operand buffers (activations per k-step; weight bit planes already in the
offline symmetric form of `golden.lut_indices`).  Monitor: counts `busy` cycles, reads the
result at `done`.  Model: `golden.lut_gemm_symmetric_raw` and, independently, a @ q' in numpy
(q' = 2q - (2^W - 1)).  Cycle model: `lut_tc.lut_gemm_timing` on a one-array spec of the RTL's tile.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from cosim import golden
from cosim.graph import gemm_op
from cosim.hw import lut_tc
from cosim.rtl import bench_params, rtl_sources, run_bench

SOURCES = ("lut_tc/lut_table_gen.sv", "lut_tc/lut_cell.sv", "lut_tc/lut_array_core.sv", "lut_tc/lut_array.sv")
INT8_K4 = {"M": 2, "N": 4, "K": 4, "AW": 8, "TW": golden.table_entry_bits(8, 4), "WMAX": 8, "GMAX": 8, "ACC_W": 32}


def _pack(values, width: int) -> int:
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & ((1 << width) - 1)) << (i * width)
    return out


def _unpack_signed(word: int, count: int, width: int) -> list[int]:
    vals = []
    for i in range(count):
        v = (word >> (i * width)) & ((1 << width) - 1)
        vals.append(v - (1 << width) if v >> (width - 1) else v)
    return vals


def model_cycles(p: dict[str, int], w_bits: int, n_groups: int) -> int:
    """The cycle model's prediction for one output tile on one array of the RTL's shape."""
    spec = lut_tc.Spec(
        name="rtl_tile",
        num_sms=1,
        tensor_cores_per_sm=1,
        lut_m=p["M"],
        lut_n=p["N"],
        lut_k=p["K"],
        tb_m=p["M"],
        tb_n=p["N"],
    )
    op = gemm_op("tile", p["M"], p["N"], p["K"] * n_groups, weight_bits=w_bits, act_bits=p["AW"], dtype="int8")
    return lut_tc.lut_gemm_timing(spec, op).compute_cycles


class LutArrayBench:
    def __init__(self, dut):
        self.dut = dut
        self.p = bench_params()

    async def start(self) -> None:
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        d = self.dut
        d.rst.value = 1
        d.start.value = 0
        d.act_we.value = 0
        d.w_we.value = 0
        await RisingEdge(d.clk)
        await RisingEdge(d.clk)
        d.rst.value = 0

    async def run(self, a: np.ndarray, q: np.ndarray, w_bits: int) -> tuple[np.ndarray, int]:
        """Load a (M x K*G) and codes q (K*G x N), run, return (result M x N, busy cycles)."""
        p, d = self.p, self.dut
        M, N, K = p["M"], p["N"], p["K"]
        groups = a.shape[1] // K
        index, negate = golden.lut_indices(q, w_bits, K, symmetric=True)  # offline transform, Eq. 6
        for g in range(groups):
            d.act_we.value = 1
            d.act_waddr.value = g
            d.act_wdata.value = _pack(a[:, g * K : (g + 1) * K].reshape(-1), p["AW"])
            await RisingEdge(d.clk)
        d.act_we.value = 0
        wb_w = max(1, (p["WMAX"] - 1).bit_length())
        for g in range(groups):
            for b in range(w_bits):
                cols = [int(index[b, g, n]) | (int(negate[b, g, n]) << (K - 1)) for n in range(N)]
                d.w_we.value = 1
                d.w_waddr.value = (g << wb_w) | b
                d.w_wdata.value = _pack(cols, K)
                await RisingEdge(d.clk)
        d.w_we.value = 0
        d.w_bits.value = w_bits
        d.n_groups.value = groups
        d.start.value = 1
        await RisingEdge(d.clk)
        d.start.value = 0
        busy = 0
        for _ in range(4 * (1 + groups * w_bits) + 8):
            await ReadOnly()
            if d.done.value == 1:
                break
            busy += int(d.busy.value == 1)
            await RisingEdge(d.clk)
        else:
            raise AssertionError("lut_array never asserted done")
        res = _unpack_signed(d.result.value.to_unsigned(), M * N, p["ACC_W"])
        await RisingEdge(d.clk)
        return np.array(res, dtype=np.int64).reshape(M, N), busy


def mismatches(a: np.ndarray, q: np.ndarray, w_bits: int, got: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(m, n, rtl, expected) for every wrong output; expected = a @ q' (numpy, independent of the LUT path)."""
    want = a.astype(np.int64) @ golden.symmetric_codes(q, w_bits)
    return [(m, n, int(got[m, n]), int(want[m, n])) for m, n in zip(*np.nonzero(got != want))]


async def _check(bench: LutArrayBench, a: np.ndarray, q: np.ndarray, w_bits: int) -> None:
    p = bench.p
    got, busy = await bench.run(a, q, w_bits)
    groups = a.shape[1] // p["K"]
    golden_raw, _ = golden.lut_gemm_symmetric_raw(a, q, w_bits, p["K"])
    assert np.array_equal(got, golden_raw), f"W{w_bits} G{groups}: rtl {got.tolist()} golden {golden_raw.tolist()}"
    bad = mismatches(a, q, w_bits, got)
    assert not bad, f"W{w_bits} G{groups}: wrong outputs (m, n, rtl, expected): {bad}"
    assert busy == model_cycles(p, w_bits, groups), f"W{w_bits} G{groups}: {busy} busy cycles"


def _acts(rng: np.random.Generator, p: dict[str, int], groups: int) -> np.ndarray:
    lo, hi = -(1 << (p["AW"] - 1)), (1 << (p["AW"] - 1)) - 1
    return rng.integers(lo, hi + 1, size=(p["M"], p["K"] * groups))


@cocotb.test()
async def random_tiles(dut):
    bench = LutArrayBench(dut)
    await bench.start()
    p = bench.p
    rng = np.random.default_rng(6)
    for w_bits in range(1, p["WMAX"] + 1):
        for groups in sorted({1, 2, p["GMAX"]}):
            a = _acts(rng, p, groups)
            q = rng.integers(0, 1 << w_bits, size=(p["K"] * groups, p["N"]))
            await _check(bench, a, q, w_bits)


@cocotb.test()
async def all_weight_codes(dut):
    """Every W-bit code at every weight position, for every supported W."""
    bench = LutArrayBench(dut)
    await bench.start()
    p = bench.p
    rng = np.random.default_rng(7)
    groups = 2
    kk = p["K"] * groups
    for w_bits in range(1, p["WMAX"] + 1):
        codes = 1 << w_bits
        for offset in range(0, codes, max(1, codes // 8)):
            q = (np.arange(kk)[:, None] * p["N"] + np.arange(p["N"])[None, :] + offset) % codes
            await _check(bench, _acts(rng, p, groups), q, w_bits)
        if codes <= kk * p["N"]:
            continue
        for start in range(0, codes, kk * p["N"]):  # wider W: sweep all codes in blocks
            q = (start + np.arange(kk * p["N"]).reshape(kk, p["N"])) % codes
            await _check(bench, _acts(rng, p, groups), q, w_bits)


@cocotb.test()
async def extreme_activations(dut):
    """All-minimum activations make the stored all-minus entry K * 2^(AW-1) (+512 for INT8, K=4)."""
    bench = LutArrayBench(dut)
    await bench.start()
    p = bench.p
    lo, hi = -(1 << (p["AW"] - 1)), (1 << (p["AW"] - 1)) - 1
    groups = p["GMAX"]
    for w_bits in (1, 2, 4, p["WMAX"]):
        top = (1 << w_bits) - 1
        for value in (lo, hi):
            a = np.full((p["M"], p["K"] * groups), value)
            for q in (np.zeros((p["K"] * groups, p["N"]), dtype=np.int64), np.full((p["K"] * groups, p["N"]), top)):
                await _check(bench, a, q, w_bits)


@cocotb.test()
async def narrow_table_is_caught(dut):
    """Run on a build whose TW is one bit short: the checker must report wrong outputs."""
    bench = LutArrayBench(dut)
    await bench.start()
    p = bench.p
    assert p["TW"] < golden.table_entry_bits(p["AW"], p["K"]), "this test needs an undersized table entry"
    a = np.full((p["M"], p["K"]), -(1 << (p["AW"] - 1)))
    q = np.zeros((p["K"], p["N"]), dtype=np.int64)  # every lane reads the all-minus entry
    got, _ = await bench.run(a, q, 1)
    bad = mismatches(a, q, 1, got)
    assert len(bad) == p["M"] * p["N"], f"expected every output wrong with TW={p['TW']}, got {bad}"
    assert all(rtl - want == -(1 << p["TW"]) for _, _, rtl, want in bad)  # +512 wrapped to -512


def _run(sim: str, params: dict[str, int], tests: list[str]) -> None:
    run_bench(
        toplevel="lut_array",
        sources=rtl_sources(*SOURCES),
        test_module="tests.rtl.lut_tc.test_lut_array",
        sim=sim,
        parameters=params,
        testcase=tests,
    )


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_lut_array_int8_k4(sim):
    _run(sim, INT8_K4, ["random_tiles", "all_weight_codes", "extreme_activations"])


@pytest.mark.rtl
def test_lut_array_other_shape_icarus():
    """Other parameters: K=3 tables (4 entries), 6-bit activations, 3 x 3 lanes, up to 4-bit weights."""
    params = {"M": 3, "N": 3, "K": 3, "AW": 6, "TW": golden.table_entry_bits(6, 3), "WMAX": 4, "GMAX": 4, "ACC_W": 24}
    _run("icarus", params, ["random_tiles", "all_weight_codes", "extreme_activations"])


@pytest.mark.rtl
def test_ten_bit_table_entries_are_caught_icarus():
    """The real bug of a 10-bit entry for K=4 INT8 (the sum of four -128s, negated, is +512)."""
    _run("icarus", {**INT8_K4, "TW": 10}, ["narrow_table_is_caught"])
