"""Integer GEMM, accumulator widths and radix-4 encodings of cosim.golden (the RTL benches' model)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import golden
from cosim.errors import SpecError


@pytest.mark.parametrize("w", [2, 3, 4, 8, 16])
@pytest.mark.parametrize("k", [1, 2, 3, 7, 8, 16, 64, 100, 256, 1000, 1024])
def test_acc_width_formula_is_sufficient_and_tight_at_powers_of_two(w, k):
    """2W + ceil(log2 K) holds every sum (vs the exact extreme sums), and is minimal when K = 2^j."""
    for signed in (True, False):
        need = golden.min_acc_width(w, k, signed=signed)
        assert golden.acc_width(w, k, signed=signed) >= need
        if k & (k - 1) == 0 and signed:
            assert golden.acc_width(w, k) == need


def test_min_acc_width_by_hand():
    # INT8 x INT8, K = 1: (-128)^2 = 16384 needs 16 signed bits; K = 64: 2^20 needs 22.
    assert golden.min_acc_width(8, 1) == 16
    assert golden.min_acc_width(8, 64) == 22
    # Unsigned: 255^2 * 3 = 195075 < 2^18.
    assert golden.min_acc_width(8, 3, signed=False) == 18


def test_wrap_is_twos_complement():
    assert golden.wrap(np.array([4096, -4096, 4095, -4097]), 13).tolist() == [-4096, -4096, 4095, 4095]
    assert golden.wrap(np.array([256, -1]), 8, signed=False).tolist() == [0, 255]


def test_int_gemm_exact_matches_python_ints():
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, size=(5, 33))
    b = rng.integers(-128, 128, size=(33, 7))
    want = [[sum(int(a[i, t]) * int(b[t, j]) for t in range(33)) for j in range(7)] for i in range(5)]
    assert golden.int_gemm(a, b).tolist() == want


def test_int_gemm_all_min_needs_the_derived_width():
    """K all-minimum products: exact at 2W + log2 K bits, wrapped (wrong) one bit below."""
    k = 64
    a = np.full((1, k), -128)
    b = np.full((k, 1), -128)
    exact = int(golden.int_gemm(a, b)[0, 0])
    assert exact == 64 * 16384
    assert int(golden.int_gemm(a, b, acc_bits=golden.acc_width(8, k))[0, 0]) == exact
    assert int(golden.int_gemm(a, b, acc_bits=golden.acc_width(8, k) - 1)[0, 0]) == -exact


def test_int_gemm_wrapping_once_equals_wrapping_every_mac():
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, size=(1, 200))
    b = rng.integers(-128, 128, size=(200, 1))
    acc = 0
    for t in range(200):
        acc = int(golden.wrap(acc + int(a[0, t]) * int(b[t, 0]), 12))
    assert int(golden.int_gemm(a, b, acc_bits=12)[0, 0]) == acc


def test_int_gemm_unsigned():
    a = np.full((1, 4), 255)
    b = np.full((4, 1), 255)
    assert int(golden.int_gemm(a, b, signed=False)[0, 0]) == 4 * 255 * 255


def test_int_gemm_rejects_out_of_range_operands():
    with pytest.raises(SpecError, match=r"a: values must lie in \[-128, 127\]"):
        golden.int_gemm(np.array([[128]]), np.array([[1]]))
    with pytest.raises(SpecError, match="inner dimensions"):
        golden.int_gemm(np.zeros((2, 3), dtype=int), np.zeros((4, 2), dtype=int))
    with pytest.raises(SpecError, match="integer array"):
        golden.int_gemm(np.zeros((1, 1)), np.zeros((1, 1), dtype=int))


@pytest.mark.parametrize("w", [2, 3, 4, 5, 6, 7, 8, 9])
@pytest.mark.parametrize("enc", list(golden.Radix4))
def test_radix4_digits_reconstruct_every_value(w, enc):
    lo, hi = golden.int_range(w)
    x = np.arange(lo, hi + 1)
    d = golden.radix4_digits(x, w, enc)
    assert d.shape == (x.size, golden.radix4_digit_count(w))
    assert np.array_equal(d @ (4 ** np.arange(d.shape[1])), x)
    assert np.abs(d).max() <= 2


def test_mbe_digits_by_hand():
    # 0x7F = 127: digits (LSB first) -1, 0, 0, 2 -> -1 + 2*64; -128: 0, 0, 0, -2.
    assert golden.mbe_digits(127, 8).tolist() == [-1, 0, 0, 2]
    assert golden.mbe_digits(-128, 8).tolist() == [0, 0, 0, -2]
    assert golden.mbe_digits(-2, 8).tolist() == [-2, 0, 0, 0]


def test_ent_digits_by_hand():
    # EN-T (lut-sail-tpe.md §3.4): 127 = 0b01111111 -> -1 (carry), 0 (carry), 0 (carry), 2.
    assert golden.ent_digits(127, 8).tolist() == [-1, 0, 0, 2]
    assert golden.ent_digits(-128, 8).tolist() == [0, 0, 0, -2]
    # 85 = 0b01010101: four +1 digits, no carries; the densest EN-T operand.
    assert golden.ent_digits(85, 8).tolist() == [1, 1, 1, 1]
    assert golden.ent_digits(-85, 8).tolist() == [-1, -1, -1, -1]


def test_nonzero_digit_statistics_match_published_numbers():
    """Uniform INT8: EN-T 2.918 and MBE 3.000 non-zero digits (lut-sail-tpe.md §3.4); 68.4% of INT8
    values have <= 3 non-zero MBE digits (the paper's statistic, §3.2)."""
    x = np.arange(-128, 128)
    assert golden.nonzero_digits(x, 8, "ent").mean() == pytest.approx(2.918, abs=5e-4)
    assert golden.nonzero_digits(x, 8, "mbe").mean() == pytest.approx(3.000, abs=5e-4)
    assert (golden.nonzero_digits(x, 8, "mbe") <= 3).mean() == pytest.approx(0.684, abs=5e-4)


def test_opt3_cycles_count_every_operand_at_least_once():
    a = np.array([0, 0, 85, -128, 127])
    # max(1, nnz): 1, 1, 4, 1, 2
    assert golden.opt3_operand_cycles(a, 8, "ent").tolist() == [1, 1, 4, 1, 2]
    assert golden.opt3_dot_cycles(a, 8, "ent") == 9


def test_same_weight_reduction_width_fixes_the_papers_13_bit_tree():
    """All 16 activations -2 and weights -128: every same-weight partial product is +256, the sum
    4096 needs 14 bits; 13 bits (the public OPT2 RTL) wraps it to -4096."""
    assert golden.same_weight_reduction_width(8, 16) == 14
    pp = golden.mbe_digits(-2, 8)[0] * -128
    assert pp == 256
    assert int(golden.wrap(16 * pp, 13)) == -4096
    assert int(golden.wrap(16 * pp, 14)) == 4096


@given(
    w=st.integers(2, 8),
    lanes=st.integers(1, 32),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_same_weight_reduction_width_holds_every_lane_sum(w, lanes, data):
    lo, hi = golden.int_range(w)
    red = golden.same_weight_reduction_width(w, lanes)
    a = np.array(data.draw(st.lists(st.integers(lo, hi), min_size=lanes, max_size=lanes)))
    b = np.array(data.draw(st.lists(st.integers(lo, hi), min_size=lanes, max_size=lanes)))
    for enc in golden.Radix4:
        d = golden.radix4_digits(a, w, enc)  # (lanes, digits)
        sums = (d * b[:, None]).sum(axis=0)
        assert np.array_equal(golden.wrap(sums, red), sums)


def test_worst_case_same_weight_sum_fits_and_is_tight_for_powers_of_two():
    """Worst case: d = -2 and b = -2^(W-1) in every lane, +lanes * 2^W; one bit fewer must fail."""
    for w, lanes in itertools.product(range(2, 9), [1, 2, 3, 4, 8, 16, 32]):
        red = golden.same_weight_reduction_width(w, lanes)
        worst = lanes * 2 * -golden.int_range(w)[0]
        assert worst <= (1 << (red - 1)) - 1
        if lanes & (lanes - 1) == 0:
            assert worst > (1 << (red - 2)) - 1
