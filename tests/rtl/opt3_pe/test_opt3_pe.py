"""Bench of rtl/opt3_pe: the OPT3 zero-digit-skipping PE, values and data-dependent cycles.

Every dot product's result is checked bit-exactly against `cosim.golden.int_gemm`, and the cycles
from accepting its first operand to out_valid against the prediction from the operands' non-zero
radix-4 digits (`cosim.hw.systolic_rtl.opt3_predicted_cycles`).  Verilator runs the 8-bit PE in
both encodings (EN-T and modified Booth) exhaustively over all 65,536 operand pairs; Icarus runs
the 8-bit PE on corners and a few random dot products, and 4-bit PEs in both encodings
exhaustively.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge

from cosim import golden
from cosim.hw.systolic_rtl import OPT3_HANDSHAKE_CYCLES, opt3_predicted_cycles
from cosim.rtl import bench_params, rtl_sources, run_bench
from tests.rtl.benchlib import record, record_env, rng_for, start

LIB = ("tpe_lib/csa_tree.sv", "tpe_lib/r4_digits.sv", "tpe_lib/r4_pp.sv")
ENCODINGS = {0: golden.Radix4.MBE, 1: golden.Radix4.ENT}


async def run_stream(dut, dots: list[tuple[np.ndarray, np.ndarray]], bubbles: bool = False, rng=None):
    """Drive the dot products through valid/ready; return (results, cycles per dot).

    cycles[d] counts rising edges from the one accepting dot d's first operand to the one raising
    its out_valid (meaningful when bubbles is False: the operands are then offered every cycle).
    """
    p = bench_params()
    w, acc = p["W"], p["ACC_W"]
    mask = (1 << w) - 1
    items = [(a[t], b[t], t == 0, t == len(a) - 1) for a, b in dots for t in range(len(a))]
    first_accept: list[int] = []
    results: list[int] = []
    out_cycles: list[int] = []
    idx, cycle, presented, accepted = 0, 0, False, False
    ports = (dut.a, dut.b, dut.first, dut.last)
    shown: tuple = (None, None, None, None)
    limit = 6 * len(items) + 100
    while len(results) < len(dots):
        # At a falling edge: decide this cycle's offer, then look at what the last edge produced.
        if int(dut.out_valid.value):
            results.append(dut.result.value.to_signed())
            out_cycles.append(cycle)
        if presented and accepted:
            idx += 1
            presented = False
        if idx < len(items) and not presented and not (bubbles and rng.random() < 0.2):
            item = items[idx]
            for port, v, old in zip(ports, item, shown):  # write only what changed: fewer VPI calls
                if v != old:
                    port.value = int(v) & mask
            shown = item
            dut.in_valid.value = 1
            presented = True
        elif not presented:
            dut.in_valid.value = 0
        # in_ready depends only on state, so it is settled now and holds until the next edge.
        accepted = presented and bool(int(dut.in_ready.value))
        if accepted and items[idx][2]:
            first_accept.append(cycle + 1)
        await FallingEdge(dut.clk)
        cycle += 1
        assert cycle < limit + acc, f"only {len(results)} of {len(dots)} results after {cycle} cycles"
    dut.in_valid.value = 0
    return results, [o - f for o, f in zip(out_cycles, first_accept)]


def check(dots, results, cycles, *, check_cycles: bool, what: str) -> None:
    p = bench_params()
    w, acc, enc = p["W"], p["ACC_W"], ENCODINGS[p["ENC"]]
    assert len(results) == len(dots)
    bad, slow = [], []
    for i, ((a, b), got) in enumerate(zip(dots, results)):
        exp = int(golden.int_gemm(a, b, w_bits=w, acc_bits=acc))
        if got != exp:
            bad.append((i, a.tolist()[:4], b.tolist()[:4], got, exp))
        if check_cycles:
            pred = opt3_predicted_cycles(a, w, enc)
            if cycles[i] != pred:
                slow.append((i, a.tolist()[:8], cycles[i], pred))
    assert not bad, f"{what}: {len(bad)} wrong results, first {bad[:3]}"
    assert not slow, f"{what}: {len(slow)} dot products off the predicted cycles, first {slow[:3]}"
    if check_cycles:
        rtl = int(sum(cycles))
        record(
            {
                "block": "opt3_pe",
                "sim": cocotb.SIM_NAME,
                "what": what,
                "W": w,
                "encoding": enc.value,
                "dots": len(dots),
                "macs": int(sum(len(a) for a, _ in dots)),
                "rtl_cycles": rtl,
                "model_cycles": int(sum(golden.opt3_dot_cycles(a, w, enc) for a, _ in dots)),
                "handshake_cycles": OPT3_HANDSHAKE_CYCLES * len(dots),
            }
        )


@cocotb.test()
async def exhaustive_pairs(dut):
    """Every (a, b) pair as a K=1 dot product: value, and cycles = max(1, nnz(a)) + 1."""
    p = bench_params()
    await start(dut, inputs_low=["in_valid", "first", "last"])
    lo, hi = golden.int_range(p["W"])
    vals = np.arange(lo, hi + 1)
    dots = [(np.array([x]), np.array([y])) for x in vals for y in vals]
    results, cycles = await run_stream(dut, dots)
    check(dots, results, cycles, check_cycles=True, what="exhaustive pairs")


@cocotb.test()
async def directed_corners(dut):
    """All-min, all-max, zeros, dense-digit operands, identity rows, K=1 and K=K_MAX."""
    p = bench_params()
    await start(dut, inputs_low=["in_valid", "first", "last"])
    w, kmax = p["W"], p["K_MAX"]
    lo, hi = golden.int_range(w)
    enc = ENCODINGS[p["ENC"]]
    vals = np.arange(lo, hi + 1)
    dense = int(vals[np.argmax(golden.nonzero_digits(vals, w, enc))])  # most non-zero digits

    def const(k, av, bv):
        return np.full(k, av, dtype=np.int64), np.full(k, bv, dtype=np.int64)

    dots = [const(kmax, lo, lo), const(kmax, lo, hi), const(kmax, hi, hi), const(kmax, 0, 0)]
    dots += [const(kmax, dense, lo), const(1, lo, lo), const(1, 0, hi), const(1, dense, hi)]
    rng = rng_for("opt3_directed")
    for r in range(8):
        a = np.zeros(8, dtype=np.int64)
        a[r] = 1
        dots.append((a, rng.integers(lo, hi + 1, size=8)))
    for a, b in dots:
        assert golden.int_gemm(a, b, w_bits=w) == golden.int_gemm(a, b, w_bits=w, acc_bits=p["ACC_W"])
    results, cycles = await run_stream(dut, dots)
    check(dots, results, cycles, check_cycles=True, what="directed corners")


@cocotb.test()
async def random_dots(dut):
    """Random operands and lengths; cycles checked; then again with random idle cycles (values only)."""
    p = bench_params()
    await start(dut, inputs_low=["in_valid", "first", "last"])
    lo, hi = golden.int_range(p["W"])
    rng = rng_for("opt3_random")
    n = int(os.environ.get("COSIM_RANDOM_DOTS", "40"))
    dots = []
    for i in range(n):
        k = int(rng.integers(1, p["K_MAX"] + 1))
        if i % 2:  # normal-ish activations, as in the paper's statistics (sigma = 30)
            a = np.clip(np.rint(rng.normal(0, 30, size=k)), lo, hi).astype(np.int64)
        else:
            a = rng.integers(lo, hi + 1, size=k)
        dots.append((a, rng.integers(lo, hi + 1, size=k)))
    results, cycles = await run_stream(dut, dots)
    check(dots, results, cycles, check_cycles=True, what="random dot products")
    results, cycles = await run_stream(dut, dots, bubbles=True, rng=rng)
    check(dots, results, cycles, check_cycles=False, what="random dot products with bubbles")


def params(w: int, enc: int, k_max: int = 64) -> dict:
    return {"W": w, "K_MAX": k_max, "ENC": enc, "ACC_W": golden.acc_width(w, k_max)}


ALL = ["exhaustive_pairs", "directed_corners", "random_dots"]


@pytest.mark.rtl
@pytest.mark.parametrize(
    ("sim", "p", "tests", "n_random"),
    [
        ("verilator", params(8, 1), ALL, 40),
        ("verilator", params(8, 0), ALL, 40),
        ("icarus", params(8, 1), ["directed_corners", "random_dots"], 6),
        ("icarus", params(4, 1), ALL, 20),
        ("icarus", params(4, 0), ALL, 20),
    ],
    ids=["verilator-w8-ent", "verilator-w8-mbe", "icarus-w8-ent", "icarus-w4-ent", "icarus-w4-mbe"],
)
def test_opt3_pe(sim, p, tests, n_random):
    run_bench(
        toplevel="opt3_pe",
        sources=rtl_sources(*LIB, "opt3_pe/opt3_pe.sv"),
        test_module="tests.rtl.opt3_pe.test_opt3_pe",
        sim=sim,
        parameters=p,
        extra_env={"COSIM_RANDOM_DOTS": str(n_random), **record_env(f"opt3_pe-{sim}-w{p['W']}-enc{p['ENC']}")},
        testcase=tests,
    )
