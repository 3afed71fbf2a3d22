"""PIM GEMV golden kernels (cosim.golden.pim_*): against brute force, numpy matmuls and hand-rounded
FP16 cases, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from cosim import golden


@pytest.mark.parametrize("w", [2, 3, 8, 16])
@pytest.mark.parametrize("terms", [1, 2, 3, 5, 16, 100, 512, 1000])
def test_acc_bits_is_the_fewest_that_hold_every_sum(w, terms):
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    smax, smin = terms * lo * lo, terms * lo * hi  # brute-force extremes of the sum
    bits = golden.pim_acc_bits(w, terms)
    assert -(1 << (bits - 1)) <= smin and smax <= (1 << (bits - 1)) - 1
    assert smax > (1 << (bits - 2)) - 1  # one bit fewer cannot hold the largest sum


def test_pim_gemv_equals_segmented_matmul():
    rng = np.random.default_rng(0)
    m = rng.integers(-(1 << 15), 1 << 15, (5, 100))
    x = rng.integers(-(1 << 15), 1 << 15, 100)
    got = golden.pim_gemv(m, x, operand_bits=16, lanes=16, macs_per_result=2)
    # 100 elements = 7 MACs of 16 (last one padded); results after MACs 2, 4, 6, 7
    want = np.stack([m[:, a:b] @ x[a:b] for a, b in ((0, 32), (32, 64), (64, 96), (96, 100))], axis=1)
    assert np.array_equal(got, want)
    assert np.array_equal(golden.pim_gemv(m, x, operand_bits=16, lanes=16)[:, 0], m @ x)


def test_pim_gemv_wraps_like_a_register():
    m = np.full((1, 512), -(1 << 15))
    exact = golden.pim_gemv(m, m[0], operand_bits=16, lanes=16)[0, 0]
    assert exact == 1 << 39  # 512 x 2^30
    assert golden.pim_gemv(m, m[0], operand_bits=16, lanes=16, acc_bits=41)[0, 0] == 1 << 39
    assert golden.pim_gemv(m, m[0], operand_bits=16, lanes=16, acc_bits=40)[0, 0] == -(1 << 39)


def test_pim_gemv_rejects_out_of_range_operands():
    with pytest.raises(ValueError, match=r"\[-128, 127\]"):
        golden.pim_gemv(np.array([[128]]), np.array([1]), operand_bits=8, lanes=1)
    with pytest.raises(ValueError, match="integers"):
        golden.pim_gemv(np.array([[1.5]]), np.array([1]), operand_bits=8, lanes=1)
    with pytest.raises(ValueError, match="shapes"):
        golden.pim_gemv(np.ones((2, 3), dtype=int), np.ones(4, dtype=int), operand_bits=8, lanes=1)


def test_pim_gemv_fp16_rounds_at_every_tree_node():
    # lanes 4: products (1, 2^-11, 2^-11, 0); level 1: 1 + 2^-11 -> 1 (tie to even), 2^-11 + 0;
    # level 2: 1 + 2^-11 -> 1.  Exact float64 would give 1 + 2^-10.
    m = np.array([[1.0, 2.0**-11, 2.0**-11, 0.0]], dtype=np.float16)
    x = np.ones(4, dtype=np.float16)
    assert golden.pim_gemv_fp16(m, x, lanes=4)[0, 0] == np.float16(1.0)
    # small integers are exact in FP16: equals the float64 dot products, per group
    rng = np.random.default_rng(1)
    mi = rng.integers(-4, 5, (3, 64)).astype(np.float16)
    xi = rng.integers(-4, 5, 64).astype(np.float16)
    got = golden.pim_gemv_fp16(mi, xi, lanes=16, macs_per_result=2)
    want = np.stack([mi[:, :32].astype(float) @ xi[:32], mi[:, 32:].astype(float) @ xi[32:]], axis=1)
    assert np.array_equal(got.astype(float), want)


@pytest.mark.parametrize(("w", "terms"), [(1, 4), (8, 0), (True, 4), (8, 2.0)])
def test_acc_bits_rejects_bad_input(w, terms):
    with pytest.raises(ValueError):
        golden.pim_acc_bits(w, terms)


def test_fp16_golden_needs_power_of_two_lanes():
    with pytest.raises(ValueError, match="power of two"):
        golden.pim_gemv_fp16(np.ones((1, 6)), np.ones(6), lanes=3)
