"""Numpy reference kernels shared by the hardware models, the tests and the cocotb benches.

Each section is one family of kernels, written for clarity and exactness rather than speed.
Hardware models import them to check what they claim to compute, and the RTL benches compare
the Verilog bit for bit against them.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from cosim.errors import SpecError

# =====================================================================================
# LUT-based mixed-precision GEMM (LUT Tensor Core, ISCA'25 arXiv 2408.06003; T-MAC; SAIL)
# =====================================================================================
#
# Notation (GEMM convention of cosim.graph): activations ``a`` are M x K, weights are K x N,
# the output is M x N.  Weights are B-bit *unsigned codes* ``q`` in [0, 2^B) with a scale ``s``
# and an integer zero point ``z``: the real weight is ``s * (q - z)``.  Signed B-bit weights
# w_s map to codes by ``q = w_s + 2^(B-1)`` with ``z = 2^(B-1)``; ternary weights (BitNet
# b1.58) are 2-bit codes ``q = w + 1`` with ``z = 1`` (see `ternary_codes`).
#
# Algorithm (paper §3.1, Eq. 1-6):
#
# * Bit-serial: q = sum_b 2^b q_b with bit planes q_b in {0, 1}.  One table of the 2^K
#   subset sums of a group of K activations serves every bit plane (``K`` is ``group_k``
#   here, not the GEMM's K).
# * Weight reinterpretation (Eq. 2): q' = 2q - (2^B - 1) = sum_b 2^b (2 q_b - 1), so every
#   plane takes values in {-1, +1}; s' = s / 2 and z' = 2z + 1 - 2^B give s(q - z) = s'(q' - z').
# * Symmetrization (Eq. 4-5): the {-1,+1} table T[w] = sum_k (2 w_k - 1) a_k satisfies
#   T[w] = -T[~w], so only the 2^(K-1) entries whose top bit (bit K-1) is 0 are stored.
#   Lookup of pattern w: sign = bit K-1 of w; index = low K-1 bits of (w XOR (sign ? ~0 : 0));
#   value = sign ? -stored[index] : stored[index].
# * Negation elimination (Eq. 6): weights are static, so the XOR above is applied offline
#   (`lut_indices`); hardware keeps an 8:1 mux and a conditional negate.  (The released RTL
#   uses bit 0 as the sign; we use the top bit, as the paper's Eq. 5 does.)
# * Scales and zero points are applied after the integer LUT accumulation:
#   a @ (s(q - z)) = s' * (a @ q' - z' * rowsum(a)), and rowsum(a) over a group is -stored[0]
#   (the all-minus entry), so the table itself supplies the zero-point term.
#
# Padding: when the GEMM's K is not a multiple of ``group_k`` the activations are padded with
# zeros (and the weights with code 0); a zero activation adds nothing to either table form.
#
# Exactness: integer activations give exact int64 results (bit-exact against
# `dequant_matmul_reference`).  Float activations build tables in float64, round each entry
# once to ``table_dtype`` (default float16, the paper's FP16 LUT) and accumulate in float32,
# so the error is bounded by FP16 rounding of the table entries (see `lut_gemm`).

LUT_GROUP_K = 4  # paper's K: 2^4 = 16 patterns, 8 stored entries (paper Fig. 11, DSE choice)
MAX_WEIGHT_BITS = 8  # SAIL needs arbitrary precisions 1..8; LUT TC evaluates 1..4 (6 in Fig. 13)
MAX_GROUP_K = 8


def _check_bits(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= MAX_WEIGHT_BITS:
        raise ValueError(f"bits must be an integer in [1, {MAX_WEIGHT_BITS}], got {bits!r}")
    return int(bits)


def _check_group_k(group_k: int) -> int:
    if isinstance(group_k, bool) or not isinstance(group_k, int | np.integer) or not 1 <= group_k <= MAX_GROUP_K:
        raise ValueError(f"group_k must be an integer in [1, {MAX_GROUP_K}], got {group_k!r}")
    return int(group_k)


def _check_codes(q: np.ndarray, bits: int) -> np.ndarray:
    q = np.asarray(q)
    if q.ndim != 2:
        raise ValueError(f"weight codes must be a K x N matrix, got shape {q.shape}")
    if not np.issubdtype(q.dtype, np.integer):
        raise ValueError(f"weight codes must be integers, got dtype {q.dtype}")
    if q.size and (q.min() < 0 or q.max() >= 1 << bits):
        raise ValueError(f"weight codes must lie in [0, {(1 << bits) - 1}] for bits={bits}, got [{q.min()}, {q.max()}]")
    return q.astype(np.int64)


def _check_acts(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"activations must be an M x K matrix, got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"activations must be integer or floating point, got dtype {a.dtype}")
    return a


def _is_int(a: np.ndarray) -> bool:
    return bool(np.issubdtype(a.dtype, np.integer))


def num_groups(k: int, group_k: int = LUT_GROUP_K) -> int:
    """Activation groups (tables) per row for a reduction length `k`: ceil(k / group_k)."""
    return -(-k // group_k)


def weight_bitplanes(q: np.ndarray, bits: int) -> np.ndarray:
    """Bit planes of unsigned weight codes.

    Args:
        q: K x N integer codes in [0, 2^bits).
        bits: weight bit width B, 1..8.

    Returns:
        uint8 array of shape (bits, K, N); plane b holds bit b (LSB first), so
        ``q == sum_b 2**b * planes[b]``.
    """
    bits = _check_bits(bits)
    q = _check_codes(q, bits)
    return np.stack([(q >> b) & 1 for b in range(bits)]).astype(np.uint8)


def symmetric_codes(q: np.ndarray, bits: int) -> np.ndarray:
    """Weight reinterpretation q' = 2q - (2^B - 1) (paper Eq. 2): odd values in [-(2^B-1), 2^B-1]."""
    bits = _check_bits(bits)
    return 2 * _check_codes(q, bits) - ((1 << bits) - 1)


def symmetric_zero_point(zeros: np.ndarray | int, bits: int) -> np.ndarray:
    """z' = 2z + 1 - 2^B (paper Eq. 2), so that s(q - z) == (s/2)(q' - z')."""
    bits = _check_bits(bits)
    return 2 * np.asarray(zeros, dtype=np.int64) + 1 - (1 << bits)


def _table_patterns(group_k: int, symmetric: bool) -> np.ndarray:
    """E x group_k matrix P with table = a_group @ P.T: P[e, k] = bit k of e ({0,1} or {-1,+1})."""
    n = 1 << (group_k - 1) if symmetric else 1 << group_k
    e = np.arange(n)[:, None]
    bit = (e >> np.arange(group_k)[None, :]) & 1
    # Symmetric entries have the top bit 0 (only 2^(K-1) are stored), so the top weight is -1.
    return (2 * bit - 1).astype(np.int64) if symmetric else bit.astype(np.int64)


def _pad_k(x: np.ndarray, group_k: int, axis: int) -> np.ndarray:
    k = x.shape[axis]
    pad = num_groups(k, group_k) * group_k - k
    if pad == 0:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, pad)
    return np.pad(x, widths)


def lut_tables(
    a: np.ndarray,
    group_k: int = LUT_GROUP_K,
    symmetric: bool = True,
    table_dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """Precompute the activation tables: one table per row and group of `group_k` activations.

    Entry e of the table of group g of row m (bit k of e selects activation g*group_k + k):

    * ``symmetric=False``: 2^K entries, T[e] = sum_k e_k * a_k (plain subset sums);
    * ``symmetric=True``: 2^(K-1) entries, T[e] = sum_{k<K-1} (2 e_k - 1) a_k - a_{K-1}, i.e. the
      {-1,+1} table restricted to patterns whose top bit is 0 (the rest are negations).

    Args:
        a: M x K activations, integer (INT8 etc.) or floating point (FP16 etc.).
        group_k: activations per table (the paper's K; 4 by default).
        symmetric: store the half-size symmetric table.
        table_dtype: storage type of the entries.  Default: int64 for integer activations
            (exact; an INT8 K=4 entry needs 11 bits, see `table_entry_bits`) and float16 for
            float activations (each entry rounded once from the exact float64 sum).

    Returns:
        Array of shape (M, ceil(K / group_k), E) with E = 2^(K-1) or 2^K.
    """
    group_k = _check_group_k(group_k)
    a = _check_acts(a)
    ap = _pad_k(a, group_k, axis=1)
    m, kp = ap.shape
    grouped = ap.reshape(m, kp // group_k, group_k)
    p = _table_patterns(group_k, symmetric)
    if _is_int(a):
        t = grouped.astype(np.int64) @ p.T
        return t if table_dtype is None else t.astype(table_dtype)
    t = grouped.astype(np.float64) @ p.T.astype(np.float64)
    return t.astype(np.float16 if table_dtype is None else table_dtype)


def table_entry_bits(act_bits: int, group_k: int = LUT_GROUP_K, symmetric: bool = True) -> int:
    """Signed width that holds every table entry for `act_bits`-bit signed integer activations.

    Symmetric entries are sums of K terms +-a_k, whose extremes are K * 2^(A-1) (e.g. four
    -128s negated: +512 for INT8, K=4), so they need A + ceil(log2 K) + 1 bits: 11 for INT8, K=4.
    Plain subset sums range over [K * -2^(A-1), K * (2^(A-1) - 1)] and need A + ceil(log2 K) bits.
    """
    hi = group_k * (1 << (act_bits - 1)) if symmetric else group_k * ((1 << (act_bits - 1)) - 1)
    lo = -group_k * (1 << (act_bits - 1))
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def lut_indices(
    q: np.ndarray, bits: int, group_k: int = LUT_GROUP_K, symmetric: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Encode weight bit planes as table indices, offline (weights are static).

    Args:
        q: K x N unsigned codes in [0, 2^bits).
        bits: weight bit width B.
        group_k: activations per table.
        symmetric: produce (index, negate) pairs for the half-size table.

    Returns:
        ``(index, negate)``: ``index`` is int64 of shape (bits, G, N) with G = ceil(K/group_k);
        the pattern of plane b, group g, column n has bit k = q_b[g*group_k + k, n].  With
        ``symmetric=True`` the pattern's top bit becomes ``negate`` (bool, same shape) and the
        index is the low K-1 bits of (pattern XOR (negate ? all-ones : 0)), the offline
        transform of paper Eq. 6; with ``symmetric=False`` ``negate`` is None.
    """
    group_k = _check_group_k(group_k)
    planes = _pad_k(weight_bitplanes(q, bits), group_k, axis=1).astype(np.int64)
    b, kp, n = planes.shape
    grouped = planes.reshape(b, kp // group_k, group_k, n)
    weights = (1 << np.arange(group_k, dtype=np.int64))[None, None, :, None]
    pattern = (grouped * weights).sum(axis=2)
    if not symmetric:
        return pattern, None
    top = 1 << (group_k - 1)
    negate = (pattern & top) != 0
    index = np.where(negate, pattern ^ ((1 << group_k) - 1), pattern) & (top - 1)
    return index, negate


def lut_lookup_planes(tables: np.ndarray, index: np.ndarray, negate: np.ndarray | None = None) -> np.ndarray:
    """Per-bit-plane partial sums: out[b, m, n] = sum_g (+-)tables[m, g, index[b, g, n]].

    This is what the LUT array computes in cycle b of a bit-serial pass (before the shift).
    Integer tables accumulate in int64 (exact); float tables in float32.

    Args:
        tables: (M, G, E) from `lut_tables`.
        index: (B, G, N) from `lut_indices`.
        negate: (B, G, N) bools from `lut_indices` for symmetric tables, else None.
    """
    m, g, e = tables.shape
    if index.ndim != 3 or index.shape[1] != g:
        raise ValueError(f"index shape {index.shape} does not match tables shape {tables.shape} (need (B, {g}, N))")
    if index.size and (index.min() < 0 or index.max() >= e):
        raise ValueError(f"table index out of range [0, {e}): got [{index.min()}, {index.max()}]")
    acc_dtype = np.int64 if np.issubdtype(tables.dtype, np.integer) else np.float32
    t = tables.astype(acc_dtype)
    b, _, n = index.shape
    out = np.zeros((b, m, n), dtype=acc_dtype)
    gidx = np.arange(g)[:, None]
    chunk = max(1, (1 << 22) // max(1, m * n))  # bound the (M, chunk, N) gather to ~4M entries
    for bi in range(b):
        for g0 in range(0, g, chunk):
            sl = slice(g0, min(g, g0 + chunk))
            vals = t[:, gidx[sl], index[bi, sl]]  # (M, chunk, N)
            if negate is not None:
                vals = np.where(negate[bi, sl][None], -vals, vals)
            out[bi] += vals.sum(axis=1, dtype=acc_dtype)
    return out


def bitserial_accumulate(planes: np.ndarray) -> np.ndarray:
    """Shift-accumulate bit-plane partial sums: sum_b 2^b planes[b] (LSB first)."""
    acc = np.zeros(planes.shape[1:], dtype=planes.dtype)
    for b in range(planes.shape[0] - 1, -1, -1):  # Horner form, the shift-accumulate of the RTL
        acc = acc * 2 + planes[b]
    return acc


def lut_gemm_symmetric_raw(
    a: np.ndarray,
    q: np.ndarray,
    bits: int,
    group_k: int = LUT_GROUP_K,
    table_dtype: np.dtype | type | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """What a symmetric LUT array accumulates: (a @ q', rowsum(a)) with q' = `symmetric_codes`.

    rowsum(a) is read out of the tables themselves (-stored[0] per group), as hardware would.
    """
    tables = lut_tables(a, group_k, symmetric=True, table_dtype=table_dtype)
    index, negate = lut_indices(q, bits, group_k, symmetric=True)
    raw = bitserial_accumulate(lut_lookup_planes(tables, index, negate))
    acc_dtype = raw.dtype
    rowsum = -tables[:, :, 0].astype(acc_dtype).sum(axis=1, dtype=acc_dtype)
    return raw, rowsum


def lut_gemm(
    a: np.ndarray,
    q: np.ndarray,
    bits: int,
    group_k: int = LUT_GROUP_K,
    symmetric: bool = True,
    table_dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """a @ q for unsigned B-bit weight codes, computed with lookup tables, bit-serially.

    Integer activations: exact int64 result, equal to ``a.astype(int64) @ q``.
    Float activations: float32 result; with float16 tables the error per output is at most
    about 2^-11 * (2^B - 1) * sum_k |a_k| (one FP16 rounding per table entry, each entry used
    with weight 2^b in plane b), plus float32 accumulation error.

    With ``symmetric=True`` the array accumulates a @ q' and the result is recovered as
    (a @ q' + (2^B - 1) rowsum(a)) / 2, which is exact for integers (the numerator is 2 a@q).

    Args:
        a: M x K activations (integer or float).
        q: K x N codes in [0, 2^bits).
        bits: weight width B, 1..8.
        group_k: activations per table (the paper's K).
        symmetric: use the half-size table with weight reinterpretation.
        table_dtype: see `lut_tables`.

    Raises:
        ValueError: shapes that do not chain, codes out of range, bad bits or group_k.
    """
    a = _check_acts(a)
    bits = _check_bits(bits)
    q = _check_codes(q, bits)
    if a.shape[1] != q.shape[0]:
        raise ValueError(f"a is {a.shape[0]} x {a.shape[1]} but q is {q.shape[0]} x {q.shape[1]}: K must match")
    if symmetric:
        raw, rowsum = lut_gemm_symmetric_raw(a, q, bits, group_k, table_dtype)
        num = raw + ((1 << bits) - 1) * rowsum[:, None]
        return num // 2 if _is_int(a) else num / np.float32(2)
    tables = lut_tables(a, group_k, symmetric=False, table_dtype=table_dtype)
    index, _ = lut_indices(q, bits, group_k, symmetric=False)
    return bitserial_accumulate(lut_lookup_planes(tables, index, None))


def lut_gemv(
    a: np.ndarray,
    q: np.ndarray,
    bits: int,
    group_k: int = LUT_GROUP_K,
    symmetric: bool = True,
    table_dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """`lut_gemm` for one activation vector a (length K): returns a @ q, length N."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"lut_gemv takes a vector of activations, got shape {a.shape}")
    return lut_gemm(a[None, :], q, bits, group_k, symmetric, table_dtype)[0]


def _expand_groups(x: np.ndarray | float, k: int, n: int, group_size: int | None, what: str) -> np.ndarray:
    """Per-column (N,) or per-group (ceil(K/group_size), N) quantization params -> (G, N)."""
    arr = np.asarray(x)
    if group_size is None:
        if arr.ndim == 0:
            return np.broadcast_to(arr, (1, n))
        if arr.shape != (n,):
            raise ValueError(f"{what} must be a scalar or have shape ({n},) without group_size, got {arr.shape}")
        return arr[None, :]
    g = num_groups(k, group_size)
    if arr.ndim == 0:
        return np.broadcast_to(arr, (g, n))
    if arr.shape == (n,):
        return np.broadcast_to(arr[None, :], (g, n))
    if arr.shape != (g, n):
        raise ValueError(f"{what} must have shape ({g}, {n}) for K={k}, group_size={group_size}, got {arr.shape}")
    return arr


def _quant_groups(k: int, group_size: int | None) -> list[slice]:
    if group_size is None:
        return [slice(0, k)]
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    return [slice(s, min(k, s + group_size)) for s in range(0, k, group_size)]


def lut_mpgemm(
    a: np.ndarray,
    q: np.ndarray,
    bits: int,
    scales: np.ndarray | float,
    zeros: np.ndarray | int = 0,
    group_size: int | None = None,
    group_k: int = LUT_GROUP_K,
    symmetric: bool = True,
    table_dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """Mixed-precision GEMM a @ W with W = scales * (q - zeros), via LUTs; scales applied after.

    Per quantization group along K (all of K when `group_size` is None) the integer part is
    accumulated by the LUT array and then scaled once:

    * symmetric: s' * (a @ q' - z' * rowsum(a)) with s' = s/2, z' = 2z + 1 - 2^B (paper Eq. 3);
    * plain:     s  * (a @ q  - z  * rowsum(a)).

    Groups are summed in K order.  Integer activations: the integer part is exact and each
    group is scaled by one float64 multiply ((s/2) * (2X) rounds exactly like s * X), so the
    result equals `dequant_matmul_reference` bit for bit whenever that reference is exact
    (dyadic scales, see there), and is within float64 rounding of it otherwise.

    Args:
        a: M x K activations.
        q: K x N codes in [0, 2^bits).
        bits: weight width B.
        scales: scalar, (N,) per output channel, or (ceil(K/group_size), N) per group.
        zeros: integer zero points, same shapes as `scales`.
        group_size: quantization group length along K; None for per-channel.
        group_k, symmetric, table_dtype: see `lut_gemm`.

    Returns:
        float64 M x N for integer activations, float32 for float activations.
    """
    a = _check_acts(a)
    bits = _check_bits(bits)
    q = _check_codes(q, bits)
    k, n = q.shape
    if a.shape[1] != k:
        raise ValueError(f"a is {a.shape[0]} x {a.shape[1]} but q is {k} x {n}: K must match")
    zarr = np.asarray(zeros)
    if not np.issubdtype(zarr.dtype, np.integer):
        raise ValueError(f"zero points must be integer codes, got dtype {zarr.dtype}")
    s = _expand_groups(scales, k, n, group_size, "scales").astype(np.float64)
    z = _expand_groups(zarr, k, n, group_size, "zeros").astype(np.int64)
    out_dtype = np.float64 if _is_int(a) else np.float32
    out = np.zeros((a.shape[0], n), dtype=out_dtype)
    for gi, sl in enumerate(_quant_groups(k, group_size)):
        if symmetric:
            raw, rowsum = lut_gemm_symmetric_raw(a[:, sl], q[sl], bits, group_k, table_dtype)
            zp = symmetric_zero_point(z[gi], bits)
            integer = raw - zp[None, :] * rowsum[:, None]
            sp = s[gi] / 2  # s' = s/2 is exact in binary floating point
        else:
            tables = lut_tables(a[:, sl], group_k, symmetric=False, table_dtype=table_dtype)
            index, _ = lut_indices(q[sl], bits, group_k, symmetric=False)
            raw = bitserial_accumulate(lut_lookup_planes(tables, index, None))
            rowsum = tables[:, :, -1].astype(raw.dtype).sum(axis=1)  # entry 2^K-1 = sum of the group
            integer = raw - z[gi][None, :] * rowsum[:, None]
            sp = s[gi]
        out += (integer.astype(out_dtype) * sp.astype(out_dtype)[None, :]).astype(out_dtype)
    return out


def dequant_matmul_reference(
    a: np.ndarray,
    q: np.ndarray,
    scales: np.ndarray | float | None = None,
    zeros: np.ndarray | int = 0,
    group_size: int | None = None,
) -> np.ndarray:
    """The reference the LUT kernels must match: dequantize W = s (q - z), then a @ W.

    Without `scales`, returns the product a @ (q - z): int64 (exact) for integer `a`, float64
    otherwise.  With scales, W is dequantized to float64 and a @ W is one float64 matmul; this
    is exact (so order-independent) when the scales are dyadic with few mantissa bits, e.g.
    m * 2^-e with m < 2^10, for INT8 activations and K up to millions.
    """
    a = _check_acts(a)
    q = np.asarray(q).astype(np.int64)
    k, n = q.shape
    if a.shape[1] != k:
        raise ValueError(f"a is {a.shape[0]} x {a.shape[1]} but q is {k} x {n}: K must match")
    reps = [sl.stop - sl.start for sl in _quant_groups(k, group_size)]
    z = np.repeat(_expand_groups(np.asarray(zeros), k, n, group_size, "zeros").astype(np.int64), reps, axis=0)
    if scales is None:
        return a.astype(np.int64) @ (q - z) if _is_int(a) else a.astype(np.float64) @ (q - z).astype(np.float64)
    s = np.repeat(_expand_groups(scales, k, n, group_size, "scales").astype(np.float64), reps, axis=0)
    return a.astype(np.float64) @ ((q - z) * s)


def ternary_codes(w: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Ternary (1.58-bit, BitNet b1.58) weights in {-1, 0, 1} -> (2-bit codes w + 1, bits=2, zero=1).

    The paper runs BitNet b1.58 as INT2 weights (Table 1); with z = 1 the code 3 is unused.
    """
    w = np.asarray(w)
    if not np.issubdtype(w.dtype, np.integer) or (w.size and (w.min() < -1 or w.max() > 1)):
        raise ValueError("ternary weights must be integers in {-1, 0, 1}")
    return (w.astype(np.int64) + 1), 2, 1


def lut_gemm_ternary(a: np.ndarray, w: np.ndarray, group_k: int = LUT_GROUP_K, symmetric: bool = True) -> np.ndarray:
    """a @ w for ternary w in {-1, 0, 1}, as a W2 LUT GEMM with zero point 1 (exact for integer a)."""
    q, bits, zero = ternary_codes(w)
    a = _check_acts(a)
    aq = lut_gemm(a, q, bits, group_k, symmetric)
    rowsum = a.astype(np.int64).sum(axis=1) if _is_int(a) else a.astype(np.float32).sum(axis=1)
    return aq - zero * rowsum[:, None]


def quantize_tables(tables: np.ndarray, table_bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Per-table symmetric integer quantization of float tables (paper §3.1.3, LUT INT8).

    Each table (one per row and group) gets scale max|T| / (2^(table_bits-1) - 1); entries are
    rounded to nearest.  Returns (int tables, scales of shape (M, G)); dequantize with
    ``qt * scales[..., None]``.  The paper does not say how the per-table scales are folded into
    the accumulator; a model using this must treat it as one float rescale per table and output.
    """
    t = np.asarray(tables, dtype=np.float64)
    qmax = (1 << (table_bits - 1)) - 1
    amax = np.abs(t).max(axis=-1)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    qt = np.clip(np.rint(t / scale[..., None]), -qmax, qmax).astype(np.int64)
    return qt, scale


# -------------------------------------------------------------------------------------
# FP16 datapath references for the LUT / MAC RTL (rtl/lut_tc/fp16_*.sv): IEEE binary16
# operations, round to nearest even, subnormal inputs read as zero (DAZ), overflow to infinity.
# Flush to zero (FTZ) follows "tininess after rounding with unbounded exponent": the exact
# result is rounded to an 11-bit significand as if the exponent were unbounded, and flushed to
# zero if that is below 2^-14.  (Rounding on the subnormal grid first, as float16 casts do,
# differs for results within half an ulp below 2^-14.)  A sum or product of two FP16 values is
# exact in float64, so one rounding from float64 is the correctly rounded result.
# -------------------------------------------------------------------------------------

FP16_MIN_NORMAL = 2.0**-14
FP16_MAX = 65504.0


def fp16_daz(x: np.ndarray) -> np.ndarray:
    """FP16 values with subnormals replaced by (signed) zero."""
    x = np.asarray(x, dtype=np.float16)
    return np.where(np.abs(x.astype(np.float64)) < FP16_MIN_NORMAL, np.copysign(np.float16(0), x), x).astype(np.float16)


def fp16_round_ftz(v: np.ndarray) -> np.ndarray:
    """Round exact float64 values to FP16: 11-bit significand (RNE), FTZ, overflow to infinity."""
    v = np.asarray(v, dtype=np.float64)
    m, e = np.frexp(v)  # v = m * 2^e, 0.5 <= |m| < 1
    r = np.ldexp(np.rint(np.ldexp(m, 11)), e - 11)  # np.rint: round half to even
    r = np.where(np.abs(r) < FP16_MIN_NORMAL, np.copysign(0.0, v), r)
    r = np.where(np.abs(r) > FP16_MAX, np.copysign(np.inf, v), r)
    return r.astype(np.float16)


def fp16_add_ftz(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b in FP16, DAZ/FTZ (elementwise)."""
    return fp16_round_ftz(fp16_daz(a).astype(np.float64) + fp16_daz(b).astype(np.float64))


def fp16_mul_ftz(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b in FP16, DAZ/FTZ (elementwise)."""
    return fp16_round_ftz(fp16_daz(a).astype(np.float64) * fp16_daz(b).astype(np.float64))


def lut_lane_fp16(tables: np.ndarray, index: np.ndarray, negate: np.ndarray) -> np.float16:
    """One FP16 LUT lane (paper's released RTL): for each group g, then bit plane b (LSB first),
    acc += (+/-table[g, index[b, g]]) * 2^b, every add rounded to FP16 (DAZ/FTZ).

    Args:
        tables: (G, E) FP16 symmetric tables of one activation row (`lut_tables(..., float16)[m]`).
        index, negate: (B, G) for one column (`lut_indices(...)` sliced at n).
    """
    t = fp16_daz(tables)
    bits, groups = index.shape
    acc = None
    for g in range(groups):
        for b in range(bits):
            with np.errstate(over="ignore"):
                term = (t[g, index[b, g]].astype(np.float64) * 2.0**b).astype(np.float16)  # exact or inf
            if negate[b, g]:
                term = -term
            acc = term if acc is None else fp16_add_ftz(acc, term)
    return np.float16(acc)


def mac_dp_fp16(act: np.ndarray, wgt: np.ndarray) -> np.float16:
    """FP16 MAC dot-product unit over T cycles of K products: products, a left-to-right adder
    chain, then FP16 accumulation, every operation rounded to FP16 (DAZ/FTZ).  act, wgt: (T, K)."""
    acc = None
    for a_row, w_row in zip(np.asarray(act, np.float16), np.asarray(wgt, np.float16)):
        p = fp16_mul_ftz(a_row, w_row)
        s = p[0]
        for x in p[1:]:
            s = fp16_add_ftz(s, x)
        acc = s if acc is None else fp16_add_ftz(acc, s)
    return np.float16(acc)


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


# =====================================================================================
# In-bank PIM GEMV unit (rtl/pim_gemv, cosim.hw.pim_unit): a bank's dot products of
# column bursts with a buffered vector, integer with exact accumulator widths, and FP16.
# =====================================================================================
#
# One bank holds `rows` rows of a weight matrix (one row per tile); a tile issues ceil(K / lanes)
# MAC commands, MAC m multiplying lanes [m*lanes, (m+1)*lanes) of the row with the same lanes of
# the vector, and a result read after every `macs_per_result` MACs (and after the last), which
# returns that group's sum and clears the accumulator.  K is padded with zeros to whole MACs.
# (Added here because main has no integer GEMV with exact accumulator widths yet; the `rtl`
# branch's int_gemm/acc_width cover plain GEMM and can replace `pim_acc_bits` once merged.)


def pim_acc_bits(operand_bits: int, terms: int) -> int:
    """Fewest bits of a two's-complement accumulator that holds every sum of `terms` products of
    two signed `operand_bits`-bit integers: 2W + floor(log2 terms).

    The largest sum is terms x (-2^(W-1))^2 = terms x 2^(2W-2), which needs
    2W - 1 + floor(log2 terms) magnitude bits and a sign bit; the most negative,
    terms x (-2^(W-1))(2^(W-1) - 1), is smaller in magnitude.
    """
    if isinstance(operand_bits, bool) or not isinstance(operand_bits, int | np.integer) or operand_bits < 2:
        raise ValueError(f"operand_bits must be an integer >= 2, got {operand_bits!r}")
    if isinstance(terms, bool) or not isinstance(terms, int | np.integer) or terms < 1:
        raise ValueError(f"terms must be an integer >= 1, got {terms!r}")
    return 2 * int(operand_bits) + int(terms).bit_length() - 1


def _pim_tiles(matrix: np.ndarray, vector: np.ndarray, lanes: int, macs_per_result: int | None):
    m = np.asarray(matrix)
    x = np.asarray(vector)
    if m.ndim != 2 or x.ndim != 1 or m.shape[1] != x.shape[0]:
        raise ValueError(f"need a rows x K matrix and a K vector, got shapes {m.shape} and {x.shape}")
    if lanes < 1 or m.shape[1] < 1:
        raise ValueError(f"lanes and K must be >= 1, got lanes={lanes}, K={m.shape[1]}")
    n_macs = -(-m.shape[1] // lanes)
    mpr = n_macs if macs_per_result is None else int(macs_per_result)
    if mpr < 1:
        raise ValueError(f"macs_per_result must be >= 1, got {macs_per_result!r}")
    pad = n_macs * lanes - m.shape[1]
    return np.pad(m, ((0, 0), (0, pad))), np.pad(x, (0, pad)), n_macs, mpr


def pim_gemv(
    matrix: np.ndarray,
    vector: np.ndarray,
    *,
    operand_bits: int,
    lanes: int,
    macs_per_result: int | None = None,
    acc_bits: int | None = None,
) -> np.ndarray:
    """Result reads of the integer PIM unit: (rows, ceil(n_macs / macs_per_result)) sums.

    Entry [r, j] is the dot product of row r with the vector over MAC group j (elements
    [j * macs_per_result * lanes, (j + 1) * macs_per_result * lanes)), exact, or wrapped to a
    two's-complement `acc_bits`-bit register (modular addition: wrapping once equals wrapping
    after every MAC).

    Raises:
        ValueError: operands outside signed `operand_bits`, non-integer arrays, bad shapes.
    """
    m, x, n_macs, mpr = _pim_tiles(matrix, vector, lanes, macs_per_result)
    lo, hi = -(1 << (operand_bits - 1)), (1 << (operand_bits - 1)) - 1
    for name, arr in (("matrix", m), ("vector", x)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
        if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
            raise ValueError(f"{name} must lie in [{lo}, {hi}] for {operand_bits}-bit operands")
    wide = pim_acc_bits(operand_bits, m.shape[1]) > 62
    dt = object if wide else np.int64
    prods = m.astype(dt) * x.astype(dt)[None, :]
    n_res = -(-n_macs // mpr)
    prods = np.pad(prods, ((0, 0), (0, n_res * mpr * lanes - prods.shape[1])))
    out = prods.reshape(prods.shape[0], n_res, mpr * lanes).sum(axis=2)
    if acc_bits is not None:
        mask = (1 << acc_bits) - 1
        half = 1 << (acc_bits - 1)
        out = np.vectorize(lambda v: ((int(v) & mask) ^ half) - half, otypes=[object])(out)
    return out if wide else out.astype(np.int64)


def pim_gemv_fp16(
    matrix: np.ndarray, vector: np.ndarray, *, lanes: int, macs_per_result: int | None = None
) -> np.ndarray:
    """Result reads of the FP16 PIM unit, rounded exactly as rtl/pim_gemv (FP16 = 1) rounds.

    Per MAC: lanes products (`fp16_mul_ftz`), a pairwise tree (level 1 adds lanes 2i and 2i+1,
    level 2 the pairs of those, ...; `fp16_add_ftz` at every node), then the accumulator: the
    first MAC of a result takes the tree sum as is, later ones add with `fp16_add_ftz`.
    `lanes` must be a power of two.  Returns float16, shape (rows, n_results).
    """
    if lanes < 1 or lanes & (lanes - 1):
        raise ValueError(f"lanes must be a power of two, got {lanes}")
    m, x, n_macs, mpr = _pim_tiles(
        np.asarray(matrix, dtype=np.float16), np.asarray(vector, dtype=np.float16), lanes, macs_per_result
    )
    rows = m.shape[0]
    out = np.zeros((rows, -(-n_macs // mpr)), dtype=np.float16)
    for r in range(rows):
        acc = None
        for k in range(n_macs):
            s = slice(k * lanes, (k + 1) * lanes)
            with np.errstate(over="ignore"):
                level = fp16_mul_ftz(m[r, s], x[s])
                while level.size > 1:
                    level = fp16_add_ftz(level[0::2], level[1::2])
            acc = level[0] if acc is None else fp16_add_ftz(acc, level[0])
            if (k + 1) % mpr == 0 or k == n_macs - 1:
                out[r, k // mpr] = acc
                acc = None
    return out
