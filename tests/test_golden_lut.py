"""LUT mixed-precision GEMM golden kernels against independent references.

References: explicit loops over patterns (tables, paper Eq. 4-5), the dequantize-then-matmul
product (integer numpy matmul, exact), and the FP16 rounding bound for float activations.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim import golden as g

RNG = np.random.default_rng(1234)


def _rand_acts(rng: np.random.Generator, m: int, k: int, act_bits: int = 8) -> np.ndarray:
    lo, hi = -(1 << (act_bits - 1)), (1 << (act_bits - 1)) - 1
    return rng.integers(lo, hi + 1, size=(m, k)).astype(np.int8 if act_bits <= 8 else np.int32)


def _rand_codes(rng: np.random.Generator, k: int, n: int, bits: int) -> np.ndarray:
    return rng.integers(0, 1 << bits, size=(k, n))


def _full_pm1_table(a_group: np.ndarray) -> dict[int, int]:
    """T[w] = sum_k (2 w_k - 1) a_k for every pattern, by explicit loop (paper Eq. 4)."""
    k = len(a_group)
    return {w: sum((2 * ((w >> i) & 1) - 1) * int(a_group[i]) for i in range(k)) for w in range(1 << k)}


# ----------------------------------------------------------------------------- tables


@pytest.mark.parametrize("group_k", [1, 2, 3, 4, 5])
def test_plain_table_holds_every_subset_sum(group_k):
    a = _rand_acts(RNG, 3, 2 * group_k)
    t = g.lut_tables(a, group_k, symmetric=False)
    assert t.shape == (3, 2, 1 << group_k)
    for m, grp, w in itertools.product(range(3), range(2), range(1 << group_k)):
        members = a[m, grp * group_k : (grp + 1) * group_k]
        assert t[m, grp, w] == sum(int(members[i]) for i in range(group_k) if (w >> i) & 1)


@pytest.mark.parametrize("group_k", [1, 2, 4, 6])
def test_symmetric_table_is_half_of_an_antisymmetric_table(group_k):
    a = _rand_acts(RNG, 2, group_k)
    full = [_full_pm1_table(a[m]) for m in range(2)]
    mask = (1 << group_k) - 1
    for m in range(2):
        assert all(full[m][w] == -full[m][w ^ mask] for w in range(1 << group_k))  # Eq. 5
    t = g.lut_tables(a, group_k, symmetric=True)
    assert t.shape == (2, 1, 1 << (group_k - 1))
    for m, e in itertools.product(range(2), range(1 << (group_k - 1))):
        assert t[m, 0, e] == full[m][e]  # stored entries: top bit 0


@pytest.mark.parametrize("group_k", [2, 4, 5])
def test_symmetric_lookup_recovers_every_pattern(group_k):
    """One activation group, one column per weight pattern: +-stored[index] == T[pattern]."""
    a = _rand_acts(RNG, 1, group_k)
    full = _full_pm1_table(a[0])
    patterns = np.arange(1 << group_k)
    q = ((patterns[None, :] >> np.arange(group_k)[:, None]) & 1).astype(np.int64)  # K x N, bits=1
    index, negate = g.lut_indices(q, 1, group_k, symmetric=True)
    tables = g.lut_tables(a, group_k, symmetric=True)
    got = g.lut_lookup_planes(tables, index, negate)[0, 0]
    assert got.tolist() == [full[int(w)] for w in patterns]
    assert negate[0, 0].tolist() == [bool(w >> (group_k - 1)) for w in patterns]  # sign = top bit


def test_bitplanes_rebuild_codes_for_every_width():
    for bits in range(1, 9):
        q = _rand_codes(RNG, 7, 5, bits)
        planes = g.weight_bitplanes(q, bits)
        assert planes.shape == (bits, 7, 5)
        assert set(np.unique(planes)) <= {0, 1}
        assert np.array_equal(sum(planes[b].astype(np.int64) << b for b in range(bits)), q)


def test_symmetric_codes_are_odd_and_centred():
    for bits in range(1, 9):
        qs = g.symmetric_codes(np.arange(1 << bits)[:, None], bits)[:, 0]
        assert qs.tolist() == list(range(-(1 << bits) + 1, 1 << bits, 2))


def test_symmetric_zero_point_preserves_dequantized_weight():
    for bits in range(1, 9):
        q = np.arange(1 << bits)[:, None]
        for z in range(1 << bits):
            lhs = 2 * (q - z)  # 2 s (q - z) with s = 1
            rhs = g.symmetric_codes(q, bits) - g.symmetric_zero_point(z, bits)  # (2 s') (q' - z')
            assert np.array_equal(lhs, rhs)


# ----------------------------------------------------------------------------- GEMM, integer


@settings(max_examples=120, deadline=None)
@given(
    m=st.integers(1, 5),
    k=st.integers(1, 40),
    n=st.integers(1, 9),
    bits=st.integers(1, 8),
    group_k=st.integers(1, 6),
    symmetric=st.booleans(),
    act_bits=st.sampled_from([4, 8, 16]),
    seed=st.integers(0, 2**32 - 1),
)
def test_lut_gemm_bit_exact_vs_dequant_matmul(m, k, n, bits, group_k, symmetric, act_bits, seed):
    rng = np.random.default_rng(seed)
    a = _rand_acts(rng, m, k, act_bits)
    q = _rand_codes(rng, k, n, bits)
    got = g.lut_gemm(a, q, bits, group_k, symmetric)
    assert got.dtype == np.int64
    assert np.array_equal(got, g.dequant_matmul_reference(a, q))


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("symmetric", [True, False])
def test_lut_gemm_bit_exact_llm_shape(bits, symmetric):
    a = _rand_acts(RNG, 4, 256)
    q = _rand_codes(RNG, 256, 64, bits)
    assert np.array_equal(g.lut_gemm(a, q, bits, symmetric=symmetric), a.astype(np.int64) @ q)


def test_all_min_activations_with_all_weight_codes():
    """INT8 corner: a = -128 everywhere makes the stored all-minus entry +512 (needs 11 bits)."""
    for bits in (1, 2, 3, 4, 8):
        a = np.full((2, 16), -128, dtype=np.int8)
        q = np.tile(np.arange(1 << bits), (16, 1))  # every code in every row
        assert np.array_equal(g.lut_gemm(a, q, bits), a.astype(np.int64) @ q)
    assert g.lut_tables(np.full((1, 4), -128, dtype=np.int8))[0, 0, 0] == 512


def test_table_entry_width_rule():
    assert g.table_entry_bits(8, 4, symmetric=True) == 11  # +512 = 4 * 128 needs 11 signed bits
    assert g.table_entry_bits(8, 4, symmetric=False) == 10  # subset sums lie in [-512, 508]
    assert g.table_entry_bits(4, 4) == 7
    assert g.table_entry_bits(8, 1) == 9  # -(-128) = 128


def test_ten_bit_table_entries_break_int8_k4():
    """Wrapping symmetric entries to 10 bits (the bug the RTL bench must catch) gives wrong sums."""
    a = np.full((1, 4), -128, dtype=np.int8)
    q = np.zeros((4, 1), dtype=np.int64)  # all-zero pattern: q' = -1 each, reads stored[0] = +512
    t = g.lut_tables(a)
    wrapped = ((t + 512) % 1024) - 512  # 10-bit two's complement storage
    idx, neg = g.lut_indices(q, 1)
    good = g.lut_lookup_planes(t, idx, neg)[0, 0, 0]
    bad = g.lut_lookup_planes(wrapped, idx, neg)[0, 0, 0]
    assert good == 512 and bad == -512  # off by 1024


def test_lut_gemv_matches_matrix_vector_product():
    a = _rand_acts(RNG, 1, 100)[0]
    q = _rand_codes(RNG, 100, 33, 3)
    assert np.array_equal(g.lut_gemv(a, q, 3), a.astype(np.int64) @ q)


# ----------------------------------------------------------------------------- ternary


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 4),
    k=st.integers(1, 64),
    n=st.integers(1, 8),
    symmetric=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_ternary_gemm_bit_exact(m, k, n, symmetric, seed):
    rng = np.random.default_rng(seed)
    a = _rand_acts(rng, m, k)
    w = rng.integers(-1, 2, size=(k, n))
    assert np.array_equal(g.lut_gemm_ternary(a, w, symmetric=symmetric), a.astype(np.int64) @ w)


def test_ternary_through_mpgemm_with_absmean_scale():
    """BitNet b1.58: W = gamma * w_ternary, applied after the integer LUT accumulation."""
    a = _rand_acts(RNG, 3, 128)
    w = RNG.integers(-1, 2, size=(128, 16))
    q, bits, zero = g.ternary_codes(w)
    assert (bits, zero) == (2, 1) and q.min() >= 0 and q.max() <= 2
    gamma = 0.0625  # dyadic: the float64 reference is exact
    got = g.lut_mpgemm(a, q, bits, gamma, zero)
    assert np.array_equal(got, (a.astype(np.int64) @ w) * gamma)
    assert np.array_equal(got, g.dequant_matmul_reference(a, q, gamma, zero))


# ----------------------------------------------------------------------------- scales, zero points


def _dyadic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(1, 1 << 10, size=shape) * 2.0 ** -rng.integers(8, 20, size=shape)


@settings(max_examples=80, deadline=None)
@given(
    m=st.integers(1, 4),
    k=st.integers(1, 70),
    n=st.integers(1, 8),
    bits=st.integers(1, 8),
    group_size=st.sampled_from([None, 8, 16, 32]),
    symmetric=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_mpgemm_bit_exact_with_dyadic_scales_and_zero_points(m, k, n, bits, group_size, symmetric, seed):
    rng = np.random.default_rng(seed)
    a = _rand_acts(rng, m, k)
    q = _rand_codes(rng, k, n, bits)
    shape = (n,) if group_size is None else (g.num_groups(k, group_size), n)
    s = _dyadic(rng, shape)
    z = rng.integers(0, 1 << bits, size=shape)
    got = g.lut_mpgemm(a, q, bits, s, z, group_size, symmetric=symmetric)
    assert np.array_equal(got, g.dequant_matmul_reference(a, q, s, z, group_size))


def test_mpgemm_close_with_arbitrary_scales():
    a = _rand_acts(RNG, 4, 512)
    q = _rand_codes(RNG, 512, 32, 4)
    s = RNG.uniform(1e-3, 1e-1, size=(4, 32))
    z = RNG.integers(0, 16, size=(4, 32))
    got = g.lut_mpgemm(a, q, 4, s, z, group_size=128)
    ref = g.dequant_matmul_reference(a, q, s, z, group_size=128)
    scale = np.abs(a).astype(np.float64) @ np.repeat(s, 128, axis=0) * 15
    assert np.all(np.abs(got - ref) <= 1e-13 * scale)


# ----------------------------------------------------------------------------- FP16 activations


def _fp16_bound(a: np.ndarray, bits: int, group_k: int) -> np.ndarray:
    """Per-row error bound: one FP16 rounding (2^-11 relative) per table entry, each entry used
    with weight 2^b in plane b (sum_b 2^b = 2^B - 1), for the LUT sum and the table rowsum;
    plus float32 accumulation of G*B terms."""
    groups = g.num_groups(a.shape[1], group_k)
    u = 2.0**-11 + groups * bits * 2.0**-23
    return 1.01 * u * ((1 << bits) - 1) * np.abs(a.astype(np.float64)).sum(axis=1) + 1e-30


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 4),
    k=st.integers(1, 64),
    n=st.integers(1, 8),
    bits=st.integers(1, 8),
    group_k=st.integers(2, 5),
    symmetric=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_lut_gemm_fp16_within_fp16_rounding(m, k, n, bits, group_k, symmetric, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 3, size=(m, k)).astype(np.float16)
    q = _rand_codes(rng, k, n, bits)
    got = g.lut_gemm(a, q, bits, group_k, symmetric)
    assert got.dtype == np.float32
    ref = g.dequant_matmul_reference(a, q)
    assert np.all(np.abs(got - ref) <= _fp16_bound(a, bits, group_k)[:, None])


def test_fp16_tables_round_but_fp32_tables_do_not():
    """The FP16 bound is tight enough to matter: FP32 tables are ~2^13 times more accurate."""
    a = RNG.normal(0, 1, size=(8, 1024)).astype(np.float16)
    q = _rand_codes(RNG, 1024, 16, 4)
    ref = g.dequant_matmul_reference(a, q)
    err16 = np.abs(g.lut_gemm(a, q, 4) - ref).max()
    err32 = np.abs(g.lut_gemm(a, q, 4, table_dtype=np.float32) - ref).max()
    assert err16 > 0
    assert err32 < err16 / 16


def test_mpgemm_fp16_per_group():
    a = RNG.normal(0, 1, size=(3, 256)).astype(np.float16)
    q = _rand_codes(RNG, 256, 8, 2)
    s = RNG.uniform(0.01, 0.1, size=(2, 8))
    z = RNG.integers(0, 4, size=(2, 8))
    got = g.lut_mpgemm(a, q, 2, s, z, group_size=128)
    ref = g.dequant_matmul_reference(a, q, s, z, group_size=128)
    # |q' - z'| <= 2(2^B-1); each group's integer part is within the FP16 bound, times s'.
    bound = _fp16_bound(a, 2, 4)[:, None] * 2 * s.max() * 2
    assert np.all(np.abs(got - ref) <= bound)


def test_quantized_tables_error_is_half_a_step():
    t = g.lut_tables(RNG.normal(0, 1, size=(4, 64)).astype(np.float16), table_dtype=np.float64)
    qt, scale = g.quantize_tables(t, 8)
    assert qt.min() >= -127 and qt.max() <= 127
    assert np.all(np.abs(qt * scale[..., None] - t) <= scale[..., None] / 2 + 1e-12)


# ----------------------------------------------------------------------------- bad input


def test_bad_inputs_raise():
    a = np.zeros((2, 8), dtype=np.int8)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        g.lut_gemm(a, np.full((8, 2), 4), 2)
    with pytest.raises(ValueError, match="K must match"):
        g.lut_gemm(a, np.zeros((7, 2), dtype=np.int64), 2)
    with pytest.raises(ValueError, match="bits"):
        g.lut_gemm(a, np.zeros((8, 2), dtype=np.int64), 9)
    with pytest.raises(ValueError, match="group_k"):
        g.lut_tables(a, group_k=0)
    with pytest.raises(ValueError, match="ternary"):
        g.ternary_codes(np.array([[2]]))
    with pytest.raises(ValueError, match="shape"):
        g.lut_mpgemm(a, np.zeros((8, 2), dtype=np.int64), 2, np.ones(3))


# ----------------------------------------------------------------------------- FP16 datapath references


def _struct_fp16_bits(x: float) -> int:
    """Python's own IEEE binary16 conversion (round to nearest even), an independent reference."""
    import struct

    return struct.unpack("<H", struct.pack("<e", x))[0]


def test_fp16_add_and_mul_are_correctly_rounded_in_the_normal_range():
    rng = np.random.default_rng(99)
    a = (rng.choice([-1, 1], 4000) * rng.uniform(1, 2, 4000) * 2.0 ** rng.integers(-6, 7, 4000)).astype(np.float16)
    b = (rng.choice([-1, 1], 4000) * rng.uniform(1, 2, 4000) * 2.0 ** rng.integers(-6, 7, 4000)).astype(np.float16)
    for op, fn in ((np.add, g.fp16_add_ftz), (np.multiply, g.fp16_mul_ftz)):
        exact = op(a.astype(np.float64), b.astype(np.float64))  # exact for two FP16 operands
        got = fn(a, b).view(np.uint16)
        normal = np.abs(exact) >= 2.0**-14
        want = np.array([_struct_fp16_bits(float(x)) for x in exact[normal]], dtype=np.uint16)
        assert np.array_equal(got[normal], want)
        assert np.all(np.abs(fn(a, b)[~normal].astype(np.float64)) == 0)  # the rest flush to zero


def test_fp16_overflow_and_flush_rules():
    f = np.float16
    assert np.isinf(g.fp16_add_ftz(f(60000), f(60000)))
    assert np.isinf(g.fp16_mul_ftz(f(-256), f(256))) and g.fp16_mul_ftz(f(-256), f(256)) < 0
    # tininess after rounding with unbounded exponent: 2^-14 (1 - 2^-11) has an exact 11-bit
    # significand, so it stays below 2^-14 and flushes, where a float16 cast would round it up
    tiny = g.fp16_mul_ftz(f(0.007808685302734375), f(-0.0078125))
    assert tiny == 0 and _struct_fp16_bits(0.007808685302734375 * -0.0078125) == 0x8400
    assert g.fp16_add_ftz(f(2.0**-20), f(1.0)) == 1.0  # subnormal input read as zero


def test_fp16_lut_lane_tracks_the_exact_dot_product():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, size=(1, 64)).astype(np.float16)
    q = rng.integers(0, 4, size=(64, 1))
    idx, neg = g.lut_indices(q, 2)
    got = float(g.lut_lane_fp16(g.lut_tables(a)[0], idx[:, :, 0], neg[:, :, 0]))
    exact = (a.astype(np.float64) @ g.symmetric_codes(q, 2)).item()
    assert abs(got - exact) <= 2.0**-9 * 3 * np.abs(a.astype(np.float64)).sum()


def test_fp16_mac_dot_product_matches_sequential_fp16_rounding():
    a = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, -1.0, 8.0]], dtype=np.float16)
    w = np.array([[1.0, 1.0, 1.0, 1.0], [2.0, 4.0, 1.0, 0.5]], dtype=np.float16)
    assert float(g.mac_dp_fp16(a, w)) == 10.0 + (1.0 + 1.0 - 1.0 + 4.0)
