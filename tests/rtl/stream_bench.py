"""cocotb bench for the streaming TPE units: mac_pe, opt1_pe (scalar) and dot_tree, opt2_tree (vector).

They share one interface (rtl/mac_pe/mac_pe.sv): per cycle an operand set with in_valid/first/last,
and one result per dot product on out_valid after a fixed latency.  Driver, monitor, model and
checker are one coroutine (`run_dots`); the model is `cosim.golden.int_gemm` at the build's
accumulator width, which equals the exact sum whenever the width is sufficient (asserted).

The bench reads the build from the environment: COSIM_TOP (module name) and COSIM_PARAMS (its HDL
parameters, all explicit: see each test_<block>.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from cosim import golden
from cosim.rtl import bench_params, rtl_sources, run_bench
from tests.rtl.benchlib import pack, rng_for, start, unpack

# Rising edges from the one accepting a dot product's last operands to the one raising out_valid
# (rtl/<top>/<top>.sv headers): 0 where the accumulating edge itself raises it, 1 for OPT1's
# final-add stage.
LATENCY_CYCLES = {"mac_pe": 0, "opt1_pe": 1, "dot_tree": 0, "opt2_tree": 0}


PE_K_MAX = 256  # longest dot product a PE bench builds for (cycles)
ALL_TESTS = ["exhaustive_pairs", "directed_corners", "random_dots"]


def pe_params(w: int, acc_w: int | None = None) -> dict:
    """Parameters of a PE build (mac_pe, opt1_pe): the accumulator is 2W + ceil(log2 K_MAX) wide
    unless `acc_w` is given (`unit_from_env` reads them back)."""
    return {"W": w, "K_MAX": PE_K_MAX, "ACC_W": acc_w or golden.acc_width(w, PE_K_MAX)}


def tree_params(w: int, kp: int, ncol: int, kt_max: int = 16, **extra: int) -> dict:
    """Parameters of a multiplier-adder tree build (dot_tree, opt2_tree): `kp` lanes, `ncol`
    columns, up to `kt_max` cycles per dot product, plus the tree's own `extra` parameters."""
    return {"W": w, "KP": kp, "NCOL": ncol, "KT_MAX": kt_max, "ACC_W": golden.acc_width(w, kp * kt_max), **extra}


def run_stream_bench(
    top: str, sim: str, parameters: dict, testcase, random_dots: int, lib: tuple[str, ...] = ()
) -> None:
    """Pytest side: build rtl/<top>/<top>.sv (after the `lib` files) and run tests/rtl/<top>'s bench."""
    run_bench(
        toplevel=top,
        sources=rtl_sources(*lib, f"{top}/{top}.sv"),
        test_module=f"tests.rtl.{top}.test_{top}",
        sim=sim,
        parameters=parameters,
        extra_env={"COSIM_TOP": top, "COSIM_RANDOM_DOTS": str(random_dots)},
        testcase=testcase,
    )


@dataclass(frozen=True)
class Unit:
    top: str
    w_bits: int
    acc_bits: int
    k_max: int  # longest dot product in cycles (K_MAX for PEs, KT_MAX for trees)
    lanes: int  # activations per cycle (1 for PEs)
    ncol: int  # results per dot product (1 for PEs)

    @property
    def vector(self) -> bool:
        return self.top in ("dot_tree", "opt2_tree")

    @property
    def lo(self) -> int:
        return golden.int_range(self.w_bits)[0]

    @property
    def hi(self) -> int:
        return golden.int_range(self.w_bits)[1]

    def expected(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Golden result of one dot product: a (K, lanes), b (K, lanes, ncol) -> (ncol,)."""
        k = a.shape[0]
        return golden.int_gemm(
            a.reshape(1, k * self.lanes),
            b.reshape(k * self.lanes, self.ncol),
            w_bits=self.w_bits,
            acc_bits=self.acc_bits,
        )[0]

    def exact(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        k = a.shape[0]
        return golden.int_gemm(a.reshape(1, k * self.lanes), b.reshape(k * self.lanes, self.ncol), w_bits=self.w_bits)[
            0
        ]


def unit_from_env() -> Unit:
    p = bench_params()
    top = os.environ["COSIM_TOP"]
    if top in ("mac_pe", "opt1_pe"):
        return Unit(top, p["W"], p["ACC_W"], p["K_MAX"], 1, 1)
    return Unit(top, p["W"], p["ACC_W"], p["KT_MAX"], p["KP"], p["NCOL"])


def width_is_sufficient(u: Unit) -> bool:
    """Whether ACC_W holds every k_max-cycle sum exactly (the derived width always does)."""
    return u.acc_bits >= golden.min_acc_width(u.w_bits, u.k_max * u.lanes)


async def run_dots(dut, u: Unit, dots: list[tuple[np.ndarray, np.ndarray]], bubbles: np.ndarray | None = None):
    """Stream the dot products back to back (with optional idle cycles), return RTL results.

    Args:
        dots: (a, b) per dot product, a of shape (K, lanes), b of shape (K, lanes, ncol).
        bubbles: bubbles[i] idle cycles inserted before the i-th operand set (flattened order).

    Returns:
        (results, latencies): the RTL's result vectors in order, and for each dot the cycles from
        the edge accepting its last operands to the edge raising out_valid.
    """
    a_mask = (1 << u.w_bits) - 1
    items = []  # (a_row, b_mat_row, first, last)
    for a, b in dots:
        k = a.shape[0]
        for t in range(k):
            items.append((a[t], b[t], t == 0, t == k - 1))
    results: list[list[int]] = []
    out_cycles: list[int] = []
    last_accept: list[int] = []
    idx = 0
    cycle = 0  # rising edges since this loop's first one
    bubble_left = int(bubbles[0]) if bubbles is not None and len(items) else 0
    prev = (None, None)
    while idx < len(items) or len(results) < len(dots):
        # We are at a falling edge: outputs are those registered by the previous rising edge.
        if int(dut.out_valid.value):
            word = dut.result.value.to_unsigned()
            results.append(unpack(word, u.ncol, u.acc_bits))
            out_cycles.append(cycle)
        if idx < len(items) and bubble_left == 0:
            a_row, b_row, first, last = items[idx]
            if u.vector:
                dut.a_vec.value = pack(a_row, u.w_bits)
                dut.b_mat.value = pack(b_row.T.reshape(-1), u.w_bits)  # column-major: (n, k)
            else:
                dut.a.value = int(a_row[0]) & a_mask
                dut.b.value = int(b_row[0, 0]) & a_mask
            if prev != (first, last):
                dut.first.value = int(first)
                dut.last.value = int(last)
                prev = (first, last)
            dut.in_valid.value = 1
            if last:
                last_accept.append(cycle + 1)
            idx += 1
            if bubbles is not None and idx < len(items):
                bubble_left = int(bubbles[idx])
        else:
            dut.in_valid.value = 0
            bubble_left = max(0, bubble_left - 1)
        if cycle > len(items) * 4 + 100 + (0 if bubbles is None else int(bubbles.sum())):
            raise AssertionError(f"{u.top}: only {len(results)} of {len(dots)} results after {cycle} cycles")
        await FallingEdge(dut.clk)
        cycle += 1
    dut.in_valid.value = 0
    lat = [o - acc for o, acc in zip(out_cycles, last_accept)]
    return results, lat


def check(u: Unit, dots, results, latencies, what: str) -> None:
    """Bit-exact comparison with the golden model, and the fixed latency."""
    assert len(results) == len(dots), f"{what}: {len(results)} results for {len(dots)} dot products"
    bad = []
    for i, ((a, b), got) in enumerate(zip(dots, results)):
        exp = [int(x) for x in u.expected(a, b)]
        if got != exp:
            bad.append((i, a.shape[0], got, exp))
    assert not bad, f"{what}: {len(bad)} mismatches, first {bad[:3]}"
    want = LATENCY_CYCLES[u.top]
    assert all(x == want for x in latencies), f"{what}: latency {sorted(set(latencies))} != {want}"


def scalar_dot(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K,) operands as a one-lane, one-column dot product."""
    return a.reshape(-1, 1), b.reshape(-1, 1, 1)


@cocotb.test()
async def exhaustive_pairs(dut):
    """Every (a, b) operand pair once, each as its own K=1 dot product, checked individually.

    PEs: 2^(2W) cycles.  Trees: one live lane per cycle (rotating over the lanes, the others hold
    a = 0 and random weights), NCOL pairs with the same a per cycle.
    """
    u = unit_from_env()
    await start(dut, inputs_low=["in_valid", "first", "last"])
    if u.w_bits > 8:
        return  # exhaustive only where it is cheap (<= 8-bit operands); random tests cover the rest
    rng = rng_for("exhaustive_pairs")
    vals = np.arange(u.lo, u.hi + 1)
    dots = []
    if not u.vector:
        aa, bb = np.meshgrid(vals, vals, indexing="ij")
        dots = [scalar_dot(np.array([x]), np.array([y])) for x, y in zip(aa.ravel(), bb.ravel())]
    else:
        t = 0
        for x in vals:
            for n0 in range(0, len(vals), u.ncol):
                a = np.zeros((1, u.lanes), dtype=np.int64)
                b = rng.integers(u.lo, u.hi + 1, size=(1, u.lanes, u.ncol))
                lane = t % u.lanes
                a[0, lane] = x
                cols = vals[n0 : n0 + u.ncol]
                b[0, lane, : len(cols)] = cols
                dots.append((a, b))
                t += 1
    results, lat = await run_dots(dut, u, dots)
    check(u, dots, results, lat, "exhaustive pairs")


@cocotb.test()
async def directed_corners(dut):
    """All-min, all-max, min*max, zeros, identity rows, K=1 and K=k_max dot products."""
    u = unit_from_env()
    assert width_is_sufficient(u), f"ACC_W={u.acc_bits} is below the derived width; run the wrap test instead"
    await start(dut, inputs_low=["in_valid", "first", "last"])
    lo, hi, K = u.lo, u.hi, u.k_max
    shp = (u.lanes,)

    def const(k, av, bv):
        return np.full((k, *shp), av, dtype=np.int64), np.full((k, *shp, u.ncol), bv, dtype=np.int64)

    dots = [
        const(K, lo, lo),  # the largest positive sum: K*lanes*2^(2W-2) needs exactly the derived width
        const(K, lo, hi),  # the most negative sum
        const(K, hi, hi),
        const(K, hi, lo),
        const(K, 0, 0),
        const(1, lo, lo),  # K = 1
        const(1, 0, hi),
        const(1, -1, -1),
    ]
    # Identity: dot products of identity-matrix rows with a weight vector pick single weights.
    rng = rng_for("directed_corners")
    kk = min(K, 8)
    for r in range(kk):
        a = np.zeros((kk, *shp), dtype=np.int64)
        a[r] = 1
        dots.append((a, rng.integers(lo, hi + 1, size=(kk, *shp, u.ncol))))
    if u.vector:
        # OPT2's narrow same-bit-weight trees: all activations -2, all weights -128 (W=8) gives
        # 16 * 256 = 4096 in bit-weight 0, which overflows the paper's 13-bit reduction.
        dots.append(const(1, -2, lo))
        dots.append(const(K, -2, lo))
    results, lat = await run_dots(dut, u, dots)
    for a, b in dots:
        assert [int(x) for x in u.exact(a, b)] == [int(x) for x in u.expected(a, b)]  # width suffices
    check(u, dots, results, lat, "directed corners")


@cocotb.test()
async def random_dots(dut):
    """Random lengths 1..k_max and operands, with random idle cycles between operand sets.

    $COSIM_RANDOM_DOTS dot products (default 60; the pytest side lowers it on Icarus).
    """
    u = unit_from_env()
    await start(dut, inputs_low=["in_valid", "first", "last"])
    rng = rng_for("random_dots")
    dots = []
    for _ in range(int(os.environ.get("COSIM_RANDOM_DOTS", "60"))):
        k = int(rng.integers(1, u.k_max + 1))
        a = rng.integers(u.lo, u.hi + 1, size=(k, u.lanes))
        b = rng.integers(u.lo, u.hi + 1, size=(k, u.lanes, u.ncol))
        dots.append((a, b))
    n_items = sum(a.shape[0] for a, _ in dots)
    bubbles = rng.integers(0, 3, size=n_items) * (rng.random(n_items) < 0.2)
    results, lat = await run_dots(dut, u, dots, bubbles)
    check(u, dots, results, lat, "random dot products")


@cocotb.test()
async def narrow_width_wraps(dut):
    """Builds with a deliberately undersized width: the RTL must hold the wrapped, not the exact sum.

    Runs only when the build's width is below the derived one (a pytest parameter set made for it);
    it shows the corner tests above would catch an accumulator or same-bit-weight tree one bit short.
    """
    u = unit_from_env()
    p = bench_params()
    await start(dut, inputs_low=["in_valid", "first", "last"])
    red = p.get("RED_W")
    if red is not None and red < golden.same_weight_reduction_width(u.w_bits, u.lanes):
        # The paper's 13-bit OPT2 bug: all a = -2, b = -128 gives 4096 per column, RTL -4096.
        a = np.full((1, u.lanes), -2, dtype=np.int64)
        b = np.full((1, u.lanes, u.ncol), u.lo, dtype=np.int64)
        results, _ = await run_dots(dut, u, [(a, b)])
        exact = [int(x) for x in u.exact(a, b)]
        wrapped_bw0 = [int(x) for x in golden.wrap(np.array(exact), red)]
        assert results[0] == wrapped_bw0 != exact, f"expected the 13-bit wrap {wrapped_bw0}, got {results[0]}"
        return
    if width_is_sufficient(u):
        return  # nothing to show on a correctly sized build
    a = np.full((u.k_max, u.lanes), u.lo, dtype=np.int64)
    b = np.full((u.k_max, u.lanes, u.ncol), u.lo, dtype=np.int64)
    results, _ = await run_dots(dut, u, [(a, b)])
    exact = [int(x) for x in u.exact(a, b)]
    wrapped = [int(x) for x in u.expected(a, b)]
    assert wrapped != exact
    assert results[0] == wrapped, f"RTL {results[0]} != wrapped golden {wrapped}"
