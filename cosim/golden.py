"""Numpy reference kernels shared by the Python hardware models, the tests and the cocotb benches.

Each section below belongs to one family of kernels; add new kernels as new functions in their own
section rather than changing the behaviour of existing ones (benches in ``tests/rtl`` compare RTL
outputs bit-exactly against these functions).
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from cosim.errors import SpecError

# =====================================================================================================
# Integer GEMM with exact accumulator widths, and radix-4 digit encodings
# (systolic array / bit-weight TPE RTL benches: rtl/systolic_*, rtl/tpe/*, tests/rtl/*)
#
# Conventions: operands are two's-complement `w_bits`-bit integers (or unsigned `w_bits`-bit
# integers where `signed=False`); GEMM is C[M,N] = A[M,K] @ B[K,N]; an accumulator of `acc_bits`
# bits wraps modulo 2**acc_bits exactly as a hardware register does (two's complement when signed).
# =====================================================================================================


def int_range(bits: int, *, signed: bool = True) -> tuple[int, int]:
    """Smallest and largest value of a `bits`-bit integer."""
    if bits < 1:
        raise SpecError(f"bits: must be >= 1, got {bits}")
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def acc_width(w_bits: int, k: int, *, signed: bool = True) -> int:
    """Accumulator bits for a K-long sum of products of two `w_bits`-bit operands: 2W + ceil(log2 K).

    A product of two W-bit numbers needs 2W bits (signed: the largest magnitude is
    (-2^(W-1))^2 = 2^(2W-2), which needs the sign bit on top of 2W-1 magnitude bits; unsigned:
    (2^W-1)^2 < 2^(2W)); summing K of them grows the magnitude by at most a factor K, i.e.
    ceil(log2 K) more bits.  The bound is tight (equal to `min_acc_width`) when K is a power of two,
    where K all-minimum products reach exactly 2^(2W-2+log2 K).
    """
    if w_bits < 1:
        raise SpecError(f"w_bits: must be >= 1, got {w_bits}")
    if k < 1:
        raise SpecError(f"k: reduction length must be >= 1, got {k}")
    del signed  # same formula for both; kept so callers state what they mean
    return 2 * w_bits + math.ceil(math.log2(k)) if k > 1 else 2 * w_bits


def min_acc_width(w_bits: int, k: int, *, signed: bool = True) -> int:
    """The fewest accumulator bits that hold every K-long sum of `w_bits`-bit products exactly.

    Computed from the extreme sums themselves (not from a formula), so tests can prove that
    `acc_width` is sufficient and, for powers of two, minimal.
    """
    lo, hi = int_range(w_bits, signed=signed)
    products = [lo * lo, lo * hi, hi * hi]
    pmax, pmin = max(products), min(products)
    smax, smin = k * pmax, k * pmin
    if not signed:
        return max(1, smax.bit_length())
    bits = 1
    while not (-(1 << (bits - 1)) <= smin and smax <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def wrap(x: np.ndarray | int, bits: int, *, signed: bool = True) -> np.ndarray:
    """`x` reduced modulo 2**bits, as a `bits`-bit register would hold it (two's complement if signed)."""
    arr = np.asarray(x, dtype=object if bits > 62 else np.int64)
    mask = (1 << bits) - 1
    u = arr & mask
    if signed:
        half = 1 << (bits - 1)
        u = np.where(u >= half, u - (1 << bits), u)
    return np.asarray(u)


def check_operands(x: np.ndarray, w_bits: int, *, signed: bool = True, name: str = "operand") -> np.ndarray:
    """`x` as an int64 array, after checking every element fits in `w_bits` bits."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise SpecError(f"{name}: must be an integer array, got dtype {arr.dtype}")
    lo, hi = int_range(w_bits, signed=signed)
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        raise SpecError(
            f"{name}: values must lie in [{lo}, {hi}] for {w_bits}-bit {'signed' if signed else 'unsigned'} "
            f"operands, got [{int(arr.min())}, {int(arr.max())}]"
        )
    return arr.astype(np.int64)


def int_gemm(
    a: np.ndarray,
    b: np.ndarray,
    *,
    w_bits: int = 8,
    acc_bits: int | None = None,
    signed: bool = True,
) -> np.ndarray:
    """C = A @ B over `w_bits`-bit integers, exact, or as an `acc_bits`-bit accumulator holds it.

    Args:
        a: M x K integer matrix (or a K-vector).
        b: K x N integer matrix (or a K-vector).
        w_bits: operand width; every element must fit (SpecError otherwise).
        acc_bits: accumulator width; None returns the exact sum.  Because two's-complement
            addition is modular, wrapping once at the end equals wrapping after every MAC, so this
            is bit-exactly what a hardware accumulator of that width holds.
        signed: two's-complement (True) or unsigned operands and accumulator.

    Returns:
        int64 array (object dtype if the exact sum could exceed 62 bits).
    """
    a64 = check_operands(a, w_bits, signed=signed, name="a")
    b64 = check_operands(b, w_bits, signed=signed, name="b")
    k = a64.shape[-1]
    if b64.shape[0] != k:
        raise SpecError(f"int_gemm: inner dimensions differ: a has K={k}, b has K={b64.shape[0]}")
    if acc_width(w_bits, max(k, 1), signed=signed) <= 62:
        exact = a64 @ b64
    else:  # Python ints: exact at any width
        exact = np.asarray(a64.astype(object) @ b64.astype(object))
    return exact if acc_bits is None else wrap(exact, acc_bits, signed=signed)


class Radix4(StrEnum):
    """Radix-4 signed-digit encodings of a multiplier operand (digits in {-2,-1,0,1,2})."""

    MBE = "mbe"  # modified Booth: d_i = -2 x[2i+1] + x[2i] + x[2i-1] on the two's-complement bits
    ENT = "ent"  # EN-T (HPCA'25 TPE paper): sign-magnitude, then carry-propagating pairs (lut-sail-tpe.md §3.4)


def radix4_digit_count(w_bits: int) -> int:
    """Number of radix-4 digits of a `w_bits`-bit operand (both encodings): ceil(W/2)."""
    return (w_bits + 1) // 2


def mbe_digits(x: np.ndarray | int, w_bits: int) -> np.ndarray:
    """Modified-Booth radix-4 digits of two's-complement `w_bits`-bit values, least significant first.

    Returns an int64 array of shape ``x.shape + (ceil(W/2),)``; sum(d_i * 4**i) == x.
    """
    xs = check_operands(np.asarray(x), w_bits, signed=True, name="x")
    nd = radix4_digit_count(w_bits)
    u = xs & ((1 << (2 * nd)) - 1)  # sign-extended to an even width by the mask of the int64
    out = np.empty((*xs.shape, nd), dtype=np.int64)
    for i in range(nd):
        hi = (u >> (2 * i + 1)) & 1
        mid = (u >> (2 * i)) & 1
        lo = (u >> (2 * i - 1)) & 1 if i > 0 else np.zeros_like(u)
        out[..., i] = -2 * hi + mid + lo
    return out


def ent_digits(x: np.ndarray | int, w_bits: int) -> np.ndarray:
    """EN-T radix-4 digits (with the operand's sign applied) of `w_bits`-bit signed values.

    EN-T (lut-sail-tpe.md §3.4, read from the paper's RTL): m = |x|; from the least significant
    bit pair A_i upwards, v = A_i + c_i; digit = v, or v - 4 with carry-out 1 when v >= 3;
    the digit is then multiplied by sign(x).  Returns shape ``x.shape + (ceil(W/2),)``.
    """
    xs = check_operands(np.asarray(x), w_bits, signed=True, name="x")
    nd = radix4_digit_count(w_bits)
    sign = np.where(xs < 0, -1, 1)
    m = np.abs(xs)
    carry = np.zeros_like(m)
    out = np.empty((*xs.shape, nd), dtype=np.int64)
    for i in range(nd):
        v = ((m >> (2 * i)) & 3) + carry
        carry = (v >= 3).astype(np.int64)
        out[..., i] = sign * (v - 4 * carry)
    if np.any(carry):  # cannot happen for |x| <= 2^(W-1); guard the derivation
        raise AssertionError("EN-T: carry out of the top digit")
    return out


def radix4_digits(x: np.ndarray | int, w_bits: int, encoding: Radix4 | str) -> np.ndarray:
    """Radix-4 digits of `x` in the given encoding (see `Radix4`)."""
    enc = Radix4(encoding)
    return mbe_digits(x, w_bits) if enc is Radix4.MBE else ent_digits(x, w_bits)


def nonzero_digits(x: np.ndarray | int, w_bits: int, encoding: Radix4 | str) -> np.ndarray:
    """Count of non-zero radix-4 digits per value: the partial products a digit-serial PE must add."""
    return np.count_nonzero(radix4_digits(x, w_bits, encoding), axis=-1)


def opt3_operand_cycles(a: np.ndarray | int, w_bits: int, encoding: Radix4 | str = Radix4.ENT) -> np.ndarray:
    """Cycles an OPT3 (zero-digit-skipping) PE spends per multiplier operand: max(1, non-zero digits).

    One partial product per cycle; an operand without non-zero digits still takes the one
    cycle in which it is consumed (paper's sparse encoder: cal_cycle, lut-sail-tpe.md §3.5).
    """
    return np.maximum(1, nonzero_digits(a, w_bits, encoding))


def opt3_dot_cycles(a: np.ndarray, w_bits: int, encoding: Radix4 | str = Radix4.ENT) -> int:
    """Cycles for an OPT3 PE to consume a whole operand vector `a` (one dot product)."""
    return int(np.sum(opt3_operand_cycles(np.asarray(a), w_bits, encoding)))


def same_weight_reduction_width(w_bits: int, lanes: int) -> int:
    """Bits for the sum over `lanes` radix-4 partial products of equal bit-weight (OPT2's narrow trees).

    A partial product d*b with |d| <= 2 and a W-bit signed b lies in [-2^W, 2^W] (e.g.
    d = -2, b = -2^(W-1) gives +2^W), so it needs W+2 bits; `lanes` of them need
    ceil(log2 lanes) more.  For W = 8 and 16 lanes that is 14 bits: the paper's public RTL uses 13
    and overflows on all activations -2 and weights -128 (16 * 256 = 4096; lut-sail-tpe.md §3.6).
    """
    if lanes < 1:
        raise SpecError(f"lanes: must be >= 1, got {lanes}")
    return w_bits + 2 + (math.ceil(math.log2(lanes)) if lanes > 1 else 0)
