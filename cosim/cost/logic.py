"""Energy and area of logic: adders, multipliers, MACs, PEs, registers, register files, LUT units.

Sources (each constant's comment names it):

* M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014 keynote,
  table "Rough energy costs for various operations in 45 nm 0.9 V" and its area table (um^2).
  It gives integer add/multiply at 8 and 32 bits (add area also at 16) and floating-point
  add/multiply at 16 and 32 bits.
* Aladdin (Shao et al., ISCA 2014) 40 nm component characterization: per-bit register and
  bitwise-logic energy/area (as shipped in Aladdin's power model tables).

Widths between and beyond the published ones follow a power law fitted through the published
points (piecewise in log-log where there are three): multiplier energy grows ~ bits^2,
adder energy ~ bits^0.87.  This is an interpolation rule, not a measurement; widths below 8
bits (int) or 16 bits (fp) are extrapolations.

Composite units are sums of these parts, with the composition stated in each docstring:
MAC = multiplier + accumulator adder; PE = MAC + pipeline registers; a LUT unit = table
registers + mux tree + conditional negate + accumulate.
"""

from __future__ import annotations

import math
from enum import StrEnum

from cosim.cost.nodes import TechNode, get_node
from cosim.errors import SpecError


class NumFormat(StrEnum):
    """Arithmetic format of a datapath."""

    INT = "int"
    FP = "fp"


# torch dtype names -> (format, bits), so callers can pass an Op's dtype directly.
_DTYPE_ALIASES: dict[str, tuple[NumFormat, int]] = {
    "float32": (NumFormat.FP, 32),
    "float": (NumFormat.FP, 32),
    "tf32": (NumFormat.FP, 19),
    "float16": (NumFormat.FP, 16),
    "half": (NumFormat.FP, 16),
    "bfloat16": (NumFormat.FP, 16),
    "float8_e4m3fn": (NumFormat.FP, 8),
    "float8_e5m2": (NumFormat.FP, 8),
    "int32": (NumFormat.INT, 32),
    "int16": (NumFormat.INT, 16),
    "int8": (NumFormat.INT, 8),
    "uint8": (NumFormat.INT, 8),
    "int4": (NumFormat.INT, 4),
    "uint4": (NumFormat.INT, 4),
    "int2": (NumFormat.INT, 2),
    "int1": (NumFormat.INT, 1),
}

INT_BITS_RANGE = (1, 32)
FP_BITS_RANGE = (4, 32)  # fp4 (e2m1) is the narrowest floating-point format in use

# --- Horowitz ISSCC 2014, 45 nm, 0.9 V.  Energy in pJ, area in um^2, keyed by width in bits.
HOROWITZ_NODE_NM = 45
HOROWITZ_VDD_V = 0.9
_INT_ADD_PJ = {8: 0.03, 32: 0.1}  # "8b Add 0.03 pJ, 32b Add 0.1 pJ"
_INT_MULT_PJ = {8: 0.2, 32: 3.1}  # "8b Mult 0.2 pJ, 32b Mult 3.1 pJ"
_FP_ADD_PJ = {16: 0.4, 32: 0.9}  # "16b FP Add 0.4 pJ, 32b FP Add 0.9 pJ"
_FP_MULT_PJ = {16: 1.1, 32: 3.7}  # "16b FP Mult 1.1 pJ, 32b FP Mult 3.7 pJ"
_INT_ADD_UM2 = {8: 36.0, 16: 67.0, 32: 137.0}  # area table: 8b/16b/32b Add
_INT_MULT_UM2 = {8: 282.0, 32: 3495.0}  # area table: 8b/32b Mult
_FP_ADD_UM2 = {16: 1360.0, 32: 4184.0}  # area table: 16b/32b FP Add
_FP_MULT_UM2 = {16: 1640.0, 32: 7700.0}  # area table: 16b/32b FP Mult

# --- Aladdin (Shao et al., ISCA 2014) 40 nm tables.  Supply not stated in the tables; we take 0.9 V,
# the nominal we assume for 40 nm (cosim.cost.nodes).
ALADDIN_NODE_NM = 40
ALADDIN_VDD_V = 0.9
_REG_BIT_PJ = 0.009  # register, per bit read or written: 0.009 pJ
_REG_BIT_UM2 = 5.98  # register, per bit: 5.98 um^2
_BITWISE_32B_PJ = 0.0181  # 32-bit bitwise logic op: 1.81e-2 pJ (used per bit for a 2:1 mux)
_BITWISE_32B_UM2 = 50.4  # 32-bit bitwise logic op: 50.4 um^2


def dtype_format(dtype: str | NumFormat, bits: float | None = None) -> tuple[NumFormat, int]:
    """Resolve ``("int", 8)``, ``("fp", 16)`` or a torch name (``"bfloat16"``) to (format, bits).

    Raises:
        SpecError: unknown dtype, missing bits, or a width outside the supported range
            (int 1..32, fp 4..32).
    """
    if isinstance(dtype, NumFormat):
        fmt = dtype
    elif isinstance(dtype, str) and dtype.lower() in ("int", "uint", "fp", "float"):
        fmt = NumFormat.FP if dtype.lower() in ("fp", "float") else NumFormat.INT
    elif isinstance(dtype, str) and dtype in _DTYPE_ALIASES:
        fmt, b = _DTYPE_ALIASES[dtype]
        if bits is None:
            bits = b
    else:
        allowed = "int, fp, " + ", ".join(_DTYPE_ALIASES)
        raise SpecError(f"dtype: unknown data type {dtype!r} (allowed: {allowed})")
    if bits is None:
        raise SpecError(f"dtype {dtype!r}: give the width in bits")
    nbits = math.ceil(bits)
    lo, hi = INT_BITS_RANGE if fmt is NumFormat.INT else FP_BITS_RANGE
    if not lo <= nbits <= hi:
        raise SpecError(f"bits: {fmt.value} width must be in {lo}..{hi}, got {bits!r}")
    return fmt, nbits


def op_format(dtype: str, bits: float) -> tuple[NumFormat, int]:
    """Arithmetic format of a workload op's operands, made something the tables price.

    Floating-point torch names (``float*``, ``bfloat*``, ``half``, ``tf32``) give fp, any other
    name int; `bits` (the op's operand width) is rounded up and clamped to the tabulated range
    (fp 4..32, int 1..32): a float64 op is priced as fp32, an empty width as 8 bits.
    """
    name = (dtype or "").lower()
    fmt = NumFormat.FP if name.startswith(("float", "bfloat", "half", "tf32", "fp")) else NumFormat.INT
    lo, hi = INT_BITS_RANGE if fmt is NumFormat.INT else FP_BITS_RANGE
    b = math.ceil(bits) if bits and bits > 0 else 8
    return fmt, min(max(b, lo), hi)


def _powerlaw(points: dict[int, float], bits: float) -> float:
    """Piecewise power-law (log-log linear) interpolation through `points`, extrapolating the end segments."""
    xs = sorted(points)
    if bits in points:
        return points[int(bits)]
    if bits <= xs[0]:
        a, b = xs[0], xs[1]
    elif bits >= xs[-1]:
        a, b = xs[-2], xs[-1]
    else:
        a = max(x for x in xs if x < bits)
        b = min(x for x in xs if x > bits)
    k = math.log(points[b] / points[a]) / math.log(b / a)
    return points[a] * (bits / a) ** k


def _horowitz_energy_j(node: TechNode, pj: float) -> float:
    return pj * 1e-12 * node.energy_from(HOROWITZ_NODE_NM, HOROWITZ_VDD_V)


def _horowitz_area_mm2(node: TechNode, um2: float) -> float:
    return um2 * 1e-6 * node.area_from(HOROWITZ_NODE_NM)


def _aladdin_energy_j(node: TechNode, pj: float) -> float:
    return pj * 1e-12 * node.energy_from(ALADDIN_NODE_NM, ALADDIN_VDD_V)


def _aladdin_area_mm2(node: TechNode, um2: float) -> float:
    return um2 * 1e-6 * node.area_from(ALADDIN_NODE_NM)


# --------------------------------------------------------------------------- arithmetic units


def add_energy_j(node: str | TechNode, dtype: str | NumFormat, bits: float | None = None) -> float:
    """Energy of one addition of `bits`-wide operands (J)."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    return _horowitz_energy_j(n, _powerlaw(_INT_ADD_PJ if fmt is NumFormat.INT else _FP_ADD_PJ, b))


def mult_energy_j(node: str | TechNode, dtype: str | NumFormat, bits: float | None = None) -> float:
    """Energy of one multiplication of `bits`-wide operands (J)."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    return _horowitz_energy_j(n, _powerlaw(_INT_MULT_PJ if fmt is NumFormat.INT else _FP_MULT_PJ, b))


def add_area_mm2(node: str | TechNode, dtype: str | NumFormat, bits: float | None = None) -> float:
    """Area of one `bits`-wide adder (mm^2)."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    return _horowitz_area_mm2(n, _powerlaw(_INT_ADD_UM2 if fmt is NumFormat.INT else _FP_ADD_UM2, b))


def mult_area_mm2(node: str | TechNode, dtype: str | NumFormat, bits: float | None = None) -> float:
    """Area of one `bits` x `bits` multiplier (mm^2)."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    return _horowitz_area_mm2(n, _powerlaw(_INT_MULT_UM2 if fmt is NumFormat.INT else _FP_MULT_UM2, b))


def default_acc_bits(dtype: str | NumFormat, bits: float | None = None) -> int:
    """Accumulator width of a MAC: int: product width + 16 guard bits (K up to 65,536 without
    overflow; int8 -> 32 bits as in TPU-style arrays); fp: fp32 accumulation (fp16/bf16/fp8 tensor
    cores accumulate in fp32), capped at 32 bits for the Horowitz table."""
    fmt, b = dtype_format(dtype, bits)
    return min(2 * b + 16, 64) if fmt is NumFormat.INT else 32


def _acc_fmt_bits(dtype: str | NumFormat, bits: float | None, acc_bits: int | None) -> tuple[NumFormat, int]:
    fmt, b = dtype_format(dtype, bits)
    acc = default_acc_bits(fmt, b) if acc_bits is None else int(acc_bits)
    if acc < b:
        raise SpecError(f"acc_bits: the accumulator ({acc} bits) must be at least as wide as the operands ({b})")
    if fmt is NumFormat.FP and acc > 32:
        raise SpecError(f"acc_bits: fp accumulators are tabulated up to 32 bits, got {acc}")
    return fmt, acc


def mac_energy_j(
    node: str | TechNode, dtype: str | NumFormat, bits: float | None = None, acc_bits: int | None = None
) -> float:
    """Energy of one multiply-accumulate (J): a `bits` multiply plus an `acc_bits` add.

    Args:
        node: technology node name or `TechNode`.
        dtype: ``"int"``/``"fp"`` or a torch dtype name.
        bits: operand width (from the dtype name when omitted).
        acc_bits: accumulator width; default `default_acc_bits`.
    """
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    afmt, acc = _acc_fmt_bits(fmt, b, acc_bits)
    add_table = _INT_ADD_PJ if afmt is NumFormat.INT else _FP_ADD_PJ
    mult_table = _INT_MULT_PJ if fmt is NumFormat.INT else _FP_MULT_PJ
    return _horowitz_energy_j(n, _powerlaw(mult_table, b) + _powerlaw(add_table, acc))


def mac_area_mm2(
    node: str | TechNode, dtype: str | NumFormat, bits: float | None = None, acc_bits: int | None = None
) -> float:
    """Area of one MAC unit (mm^2): a `bits` multiplier plus an `acc_bits` adder."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    afmt, acc = _acc_fmt_bits(fmt, b, acc_bits)
    add_table = _INT_ADD_UM2 if afmt is NumFormat.INT else _FP_ADD_UM2
    mult_table = _INT_MULT_UM2 if fmt is NumFormat.INT else _FP_MULT_UM2
    return _horowitz_area_mm2(n, _powerlaw(mult_table, b) + _powerlaw(add_table, acc))


# --------------------------------------------------------------------------- registers, muxes


def register_energy_j(node: str | TechNode, bits: int) -> float:
    """Energy to write (or read) `bits` flip-flops once (J), Aladdin's per-bit register figure."""
    return bits * _aladdin_energy_j(get_node(node), _REG_BIT_PJ)


def register_area_mm2(node: str | TechNode, bits: int) -> float:
    """Area of `bits` flip-flops (mm^2)."""
    return bits * _aladdin_area_mm2(get_node(node), _REG_BIT_UM2)


def mux2_energy_j(node: str | TechNode, bits: int) -> float:
    """Energy of a `bits`-wide 2:1 mux switching once (J), taken as one bitwise-logic gate per bit."""
    return bits * _aladdin_energy_j(get_node(node), _BITWISE_32B_PJ / 32)


def mux2_area_mm2(node: str | TechNode, bits: int) -> float:
    """Area of a `bits`-wide 2:1 mux (mm^2), one bitwise-logic gate per bit."""
    return bits * _aladdin_area_mm2(get_node(node), _BITWISE_32B_UM2 / 32)


def pe_energy_j(
    node: str | TechNode, dtype: str | NumFormat, bits: float | None = None, acc_bits: int | None = None
) -> float:
    """Energy of one systolic PE cycle doing a MAC (J): the MAC plus writing its pipeline registers
    (one input and one weight operand forwarded to neighbours, and the accumulator)."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    _, acc = _acc_fmt_bits(fmt, b, acc_bits)
    return mac_energy_j(n, fmt, b, acc) + register_energy_j(n, 2 * b + acc)


def pe_area_mm2(
    node: str | TechNode, dtype: str | NumFormat, bits: float | None = None, acc_bits: int | None = None
) -> float:
    """Area of one systolic PE (mm^2): MAC + registers for two operands and the accumulator."""
    n = get_node(node)
    fmt, b = dtype_format(dtype, bits)
    _, acc = _acc_fmt_bits(fmt, b, acc_bits)
    return mac_area_mm2(n, fmt, b, acc) + register_area_mm2(n, 2 * b + acc)


# --------------------------------------------------------------------------- register files


def _check_rf(entries: int, width_bits: int, read_ports: int) -> None:
    if entries < 1 or width_bits < 1 or read_ports < 1:
        raise SpecError(
            f"register file: entries, width_bits and read_ports must be >= 1, "
            f"got entries={entries} width_bits={width_bits} read_ports={read_ports}"
        )


def regfile_read_energy_j(node: str | TechNode, entries: int, width_bits: int) -> float:
    """Energy of one read of a flip-flop register file (J): the selected word through a
    log2(entries)-deep 2:1 mux tree.  For arrays of a kilobyte and more use `cosim.cost.sram`."""
    _check_rf(entries, width_bits, 1)
    n = get_node(node)
    depth = math.ceil(math.log2(entries)) if entries > 1 else 0
    return register_energy_j(n, width_bits) + depth * mux2_energy_j(n, width_bits)


def regfile_write_energy_j(node: str | TechNode, entries: int, width_bits: int) -> float:
    """Energy of one write of a flip-flop register file (J): `width_bits` flip-flops written."""
    _check_rf(entries, width_bits, 1)
    return register_energy_j(node, width_bits)


def regfile_area_mm2(node: str | TechNode, entries: int, width_bits: int, read_ports: int = 1) -> float:
    """Area of a flip-flop register file (mm^2): entries x width flip-flops plus one
    (entries - 1)-mux tree per read port."""
    _check_rf(entries, width_bits, read_ports)
    n = get_node(node)
    return register_area_mm2(n, entries * width_bits) + read_ports * (entries - 1) * mux2_area_mm2(n, width_bits)


# --------------------------------------------------------------------------- LUT units


def _check_lut(k: int, entry_bits: int, acc_bits: int) -> None:
    if not 1 <= k <= 8:
        raise SpecError(f"LUT unit: group size k must be in 1..8, got {k}")
    if entry_bits < 1 or acc_bits < entry_bits:
        raise SpecError(f"LUT unit: need entry_bits >= 1 and acc_bits >= entry_bits, got {entry_bits}, {acc_bits}")


def lut_lookup_energy_j(node: str | TechNode, k: int, entry_bits: int, acc_bits: int) -> float:
    """Energy of one lookup-and-accumulate in a LUT unit (J).

    The unit holds a symmetrized table of 2^(k-1) entries (sums of k activations), selected by
    k-1 weight bits through a (k-1)-level mux tree; the top weight bit conditionally negates the
    entry (an `entry_bits` add) and the result is shift-accumulated (an `acc_bits` add).
    """
    _check_lut(k, entry_bits, acc_bits)
    n = get_node(node)
    return (
        register_energy_j(n, entry_bits)
        + (k - 1) * mux2_energy_j(n, entry_bits)
        + add_energy_j(n, NumFormat.INT, entry_bits)
        + add_energy_j(n, NumFormat.INT, acc_bits)
    )


def lut_table_fill_energy_j(node: str | TechNode, k: int, entry_bits: int) -> float:
    """Energy to precompute and write one symmetrized table (J): 2^(k-1) entries, each one
    `entry_bits` add (each entry is a neighbour entry plus/minus one activation) and a write."""
    _check_lut(k, entry_bits, entry_bits)
    n = get_node(node)
    entries = 2 ** (k - 1)
    return entries * (add_energy_j(n, NumFormat.INT, entry_bits) + register_energy_j(n, entry_bits))


def lut_unit_area_mm2(
    node: str | TechNode, k: int, entry_bits: int, acc_bits: int, *, shared_table: bool = False
) -> float:
    """Area of one LUT unit (mm^2): table registers, mux tree, negate adder, accumulator + its register.

    With ``shared_table=True`` the table registers are left out: arrays that broadcast one table
    to many units (LUT Tensor Core) count the table once, outside the unit.
    """
    _check_lut(k, entry_bits, acc_bits)
    n = get_node(node)
    entries = 2 ** (k - 1)
    return (
        (0.0 if shared_table else register_area_mm2(n, entries * entry_bits))
        + (entries - 1) * mux2_area_mm2(n, entry_bits)
        + add_area_mm2(n, NumFormat.INT, entry_bits)
        + add_area_mm2(n, NumFormat.INT, acc_bits)
        + register_area_mm2(n, acc_bits)
    )


__all__ = [
    "NumFormat",
    "add_area_mm2",
    "add_energy_j",
    "default_acc_bits",
    "dtype_format",
    "lut_lookup_energy_j",
    "lut_table_fill_energy_j",
    "lut_unit_area_mm2",
    "mac_area_mm2",
    "mac_energy_j",
    "mult_area_mm2",
    "mult_energy_j",
    "mux2_area_mm2",
    "mux2_energy_j",
    "op_format",
    "pe_area_mm2",
    "pe_energy_j",
    "regfile_area_mm2",
    "regfile_read_energy_j",
    "regfile_write_energy_j",
    "register_area_mm2",
    "register_energy_j",
]
