"""cocotb bench of the systolic arrays (rtl/systolic_os, rtl/systolic_ws): values and cycles.

Driver: a synchronous-SRAM model answering the array's read requests from numpy matrices (zeros
outside them).  Monitor: per-column output queues.  Model: `cosim.golden.int_gemm`.  Checker:
every output bit-exact (padding outputs must be zero), every WS partial sum bit-exact, and the
cycles from `start` to `done` equal to the systolic model's count plus the configuration's
handshake cycles (`cosim.hw.systolic_rtl.RtlConfig.predicted_cycles`), for every GEMM run.

The build is described by COSIM_PARAMS (its HDL parameters) and COSIM_DATAFLOW; the bench rebuilds
the same `RtlConfig` and refuses to run if the parameters differ from the config's.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from cosim import golden
from cosim.hw.systolic import Dataflow
from cosim.hw.systolic_rtl import PeKind, RtlConfig
from cosim.rtl import bench_params, rtl_sources, run_bench
from tests.rtl.benchlib import pack, record, record_env, rng_for, start, unpack_some


def bench_configs(dataflow: Dataflow) -> list[tuple[str, RtlConfig]]:
    """(simulator, array) pairs: 4x4 on both simulators (MAC PEs on Icarus, OPT1 PEs on both);
    8x8 and 16x16 MAC arrays on Verilator.  The OPT1 cell is also checked over all operand pairs
    through rtl/opt1_pe's bench."""
    return [
        ("icarus", RtlConfig(4, 4, dataflow, PeKind.MAC)),
        ("icarus", RtlConfig(4, 4, dataflow, PeKind.OPT1)),
        ("verilator", RtlConfig(4, 4, dataflow, PeKind.OPT1)),
        ("verilator", RtlConfig(8, 8, dataflow, PeKind.MAC)),
        ("verilator", RtlConfig(16, 16, dataflow, PeKind.MAC)),
    ]


def config_id(sim: str, cfg: RtlConfig) -> str:
    return f"{sim}-{cfg.rows}x{cfg.cols}-{cfg.pe.value}"


def run_systolic_bench(sim: str, cfg: RtlConfig) -> None:
    """Pytest side: build the array once and run tests/rtl/<toplevel>'s bench on every tile."""
    run_bench(
        toplevel=cfg.toplevel,
        sources=rtl_sources(*cfg.source_names),
        test_module=f"tests.rtl.{cfg.toplevel}.test_{cfg.toplevel}",
        sim=sim,
        parameters=cfg.hdl_parameters(),
        extra_env={"COSIM_DATAFLOW": cfg.dataflow.value, **record_env(f"{cfg.toplevel}-{config_id(sim, cfg)}")},
    )


# Co-simulated tiles: K in {1, 7, 64} for every array, with shapes of one full fold, several
# partial folds, and a single row / single column (M = 1 is a GEMV).
COSIM_K = (1, 7, 64)


def config_from_env() -> RtlConfig:
    p = bench_params()
    df = Dataflow(os.environ["COSIM_DATAFLOW"])
    cfg = RtlConfig(
        rows=p["ROWS"],
        cols=p["COLS"],
        dataflow=df,
        pe=PeKind.MAC if p["PE"] == 0 else PeKind.OPT1,
        w_bits=p["W"],
        k_max=p.get("K_MAX", 64),
        dim_bits=p["DIM_W"],
    )
    if cfg.hdl_parameters() != p:
        raise AssertionError(f"build parameters {p} differ from the config's {cfg.hdl_parameters()}")
    return cfg


def cosim_shapes(cfg: RtlConfig) -> list[tuple[int, int]]:
    r, c = cfg.rows, cfg.cols
    return [(r, c), (2 * r + 1, c - 1 if c > 1 else 1), (1, 2 * c + 1), (r + 2, 3)]


def _slice(mat: np.ndarray, r0: int, nr: int, c0: int, nc: int) -> np.ndarray:
    """mat[r0:r0+nr, c0:c0+nc], zero-padded to nr x nc."""
    out = np.zeros((nr, nc), dtype=np.int64)
    part = mat[r0 : r0 + nr, c0 : c0 + nc]
    out[: part.shape[0], : part.shape[1]] = part
    return out


async def run_gemm(dut, cfg: RtlConfig, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Run one GEMM through start/done at a falling edge; return (C from the RTL, cycles)."""
    m, k = a.shape
    n = b.shape[1]
    cfg.check_gemm(m, n, k)
    r, c, w, acc = cfg.rows, cfg.cols, cfg.w_bits, cfg.acc_bits
    dut.m_len.value = m
    dut.n_len.value = n
    dut.k_len.value = k
    dut.start.value = 1
    await FallingEdge(dut.clk)  # the rising edge in between sampled start: cycle 0
    dut.start.value = 0
    cols_out: list[list[int]] = [[] for _ in range(c)]
    cycle = 0
    os_df = cfg.dataflow is Dataflow.OS
    limit = cfg.predicted_cycles(m, n, k) + 50
    while True:
        if os_df:
            if int(dut.rd_en.value):
                kk, m0, n0 = int(dut.rd_k.value), int(dut.rd_m0.value), int(dut.rd_n0.value)
                dut.a_vec.value = pack(_slice(a, m0, r, kk, 1)[:, 0], w)
                dut.b_vec.value = pack(_slice(b, kk, 1, n0, c)[0], w)
        else:
            if int(dut.w_rd_en.value):
                kk, n0 = int(dut.rd_k.value), int(dut.rd_n0.value)
                dut.w_vec.value = pack(_slice(b, kk, 1, n0, c)[0], w)
            elif int(dut.a_rd_en.value):
                mm, k0 = int(dut.rd_m.value), int(dut.rd_k.value)
                dut.a_vec.value = pack(_slice(a, mm, 1, k0, r)[0], w)
        ov = int(dut.out_valid.value)
        if ov:
            for j, v in unpack_some(dut.out_data.value, ov, c, acc).items():
                cols_out[j].append(v)
        if int(dut.done.value):
            break
        await FallingEdge(dut.clk)
        cycle += 1
        assert cycle <= limit, f"no done after {cycle} cycles (predicted {cfg.predicted_cycles(m, n, k)})"
    return _assemble(cfg, a, b, cols_out), cycle


def _assemble(cfg: RtlConfig, a: np.ndarray, b: np.ndarray, cols_out: list[list[int]]) -> np.ndarray:
    """Rebuild C from the per-column output streams in the RTL's fold order, checking as it goes."""
    m, k = a.shape
    n = b.shape[1]
    r, c, w, acc = cfg.rows, cfg.cols, cfg.w_bits, cfg.acc_bits
    folds = cfg.folds(m, n, k)
    per_col = r if cfg.dataflow is Dataflow.OS else m
    for j in range(c):
        assert len(cols_out[j]) == per_col * len(folds), (
            f"column {j}: {len(cols_out[j])} outputs, expected {per_col} per fold x {len(folds)} folds"
        )
    out = np.zeros((m, n), dtype=np.int64)
    for f, (o0, n0) in enumerate(folds):
        block = np.array([cols_out[j][f * per_col : (f + 1) * per_col] for j in range(c)], dtype=np.int64).T
        if cfg.dataflow is Dataflow.OS:
            m0 = o0
            want = golden.int_gemm(_slice(a, m0, r, 0, k), _slice(b, 0, k, n0, c), w_bits=w, acc_bits=acc)
            assert np.array_equal(block, want), f"OS fold (m0={m0}, n0={n0}): RTL\n{block}\n!= golden\n{want}"
            out[m0 : m0 + r, n0 : n0 + c] = block[: m - m0, : n - n0]
        else:
            k0 = o0
            want = golden.int_gemm(_slice(a, 0, m, k0, r), _slice(b, k0, r, n0, c), w_bits=w, acc_bits=acc)
            assert np.array_equal(block, want), f"WS partial sums (k0={k0}, n0={n0}): RTL\n{block}\n!= golden\n{want}"
            out[:, n0 : n0 + c] += block[:, : n - n0]
    return out


async def check_gemm(dut, cfg: RtlConfig, a: np.ndarray, b: np.ndarray, what: str) -> None:
    """One GEMM: bit-exact result and predicted cycles; appends a co-simulation record."""
    got, cycles = await run_gemm(dut, cfg, a, b)
    m, k = a.shape
    n = b.shape[1]
    want = golden.int_gemm(a, b, w_bits=cfg.w_bits)
    assert np.array_equal(got, want), f"{what} {m}x{n}x{k}: RTL result differs from golden"
    pred = cfg.predicted_cycles(m, n, k)
    record(
        {
            "block": cfg.toplevel,
            "sim": cocotb.SIM_NAME,
            "test": what,
            "rows": cfg.rows,
            "cols": cfg.cols,
            "dataflow": cfg.dataflow.value,
            "pe": cfg.pe.value,
            "M": m,
            "N": n,
            "K": k,
            "rtl_cycles": cycles,
            "model_cycles": cfg.model_cycles(m, n, k),
            "handshake_cycles": cfg.handshake_cycles,
        }
    )
    assert cycles == pred, (
        f"{what} {m}x{n}x{k}: RTL took {cycles} cycles, model {cfg.model_cycles(m, n, k)} + handshake "
        f"{cfg.handshake_cycles} = {pred}"
    )


async def _setup(dut) -> RtlConfig:
    cfg = config_from_env()
    vecs = ["a_vec", "b_vec"] if cfg.dataflow is Dataflow.OS else ["a_vec", "w_vec"]
    await start(dut, inputs_low=["start", *vecs])
    return cfg


def _rand(rng, cfg: RtlConfig, shape) -> np.ndarray:
    lo, hi = golden.int_range(cfg.w_bits)
    return rng.integers(lo, hi + 1, size=shape)


@cocotb.test()
async def cosim_tiles(dut):
    """Co-simulation: K in {1, 7, 64} x several tile shapes, random operands; cycles == model."""
    cfg = await _setup(dut)
    rng = rng_for("cosim_tiles")
    for k in COSIM_K:
        for m, n in cosim_shapes(cfg):
            a, b = _rand(rng, cfg, (m, k)), _rand(rng, cfg, (k, n))
            await check_gemm(dut, cfg, a, b, "cosim_tiles")


@cocotb.test()
async def directed_corners(dut):
    """All-min, all-max, min x max, zeros, identity, K=1 and the longest K the accumulators allow."""
    cfg = await _setup(dut)
    lo, hi = golden.int_range(cfg.w_bits)
    r, c = cfg.rows, cfg.cols
    # OS: K_MAX products per accumulator; WS: the partial sums of a full R-row block are the limit.
    k_long = cfg.k_max if cfg.dataflow is Dataflow.OS else 2 * r
    m, n = r + 1, c
    for av, bv in ((lo, lo), (hi, hi), (lo, hi), (0, 0)):
        a = np.full((m, k_long), av, dtype=np.int64)
        b = np.full((k_long, n), bv, dtype=np.int64)
        await check_gemm(dut, cfg, a, b, f"corner a={av} b={bv}")
    rng = rng_for("systolic_directed")
    eye = np.eye(r + 2, dtype=np.int64)
    await check_gemm(dut, cfg, eye, _rand(rng, cfg, (r + 2, c + 1)), "identity A")
    await check_gemm(dut, cfg, _rand(rng, cfg, (r, c + 2)), np.eye(c + 2, dtype=np.int64), "identity B")
    await check_gemm(dut, cfg, _rand(rng, cfg, (r, 1)), _rand(rng, cfg, (1, c)), "K=1")
    await check_gemm(dut, cfg, _rand(rng, cfg, (1, 1)), _rand(rng, cfg, (1, 1)), "1x1x1")


@cocotb.test()
async def random_gemms(dut):
    """Random shapes (up to three folds per side) and operands."""
    cfg = await _setup(dut)
    rng = rng_for("systolic_random")
    kmax = cfg.k_max if cfg.dataflow is Dataflow.OS else 3 * cfg.rows
    for _ in range(int(os.environ.get("COSIM_RANDOM_GEMMS", "6"))):
        m = int(rng.integers(1, 3 * cfg.rows + 1))
        n = int(rng.integers(1, 3 * cfg.cols + 1))
        k = int(rng.integers(1, kmax + 1))
        await check_gemm(dut, cfg, _rand(rng, cfg, (m, k)), _rand(rng, cfg, (k, n)), "random")
