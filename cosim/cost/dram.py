"""Off-chip memory access energy per bit, by memory kind.

DRAM energy is set by the DRAM die and its interface, not by the logic node of the chip that
reads it, so these constants do not scale with `cosim.cost.nodes`.  The number is the energy
to move one bit between the DRAM cells and the host's memory controller (activate/precharge
amortized over a row, column access, on-die movement, TSV/PHY/interconnect).  PIM kinds count
only the part of that path a processing unit placed at that level still pays.
"""

from __future__ import annotations

from enum import StrEnum

from cosim.errors import SpecError


class DramKind(StrEnum):
    """Memory kinds with a sourced per-bit access energy."""

    DDR3 = "ddr3"
    GDDR5 = "gddr5"
    HBM2 = "hbm2"
    HBM3 = "hbm3"
    HBM2_PIM_BANK = "hbm2_pim_bank"
    HBM2_PIM_BANKGROUP = "hbm2_pim_bankgroup"


# HBM2 path energies (pJ/bit) from O'Connor et al., "Fine-Grained DRAM", MICRO 2017, as used in
# AttAcc's simulator (src/config.py): cell activate/precharge 0.11, cell read/write 0.44, column
# decoder -> bank-group mux 1.01, bank-group mux -> global I/O mux 1.23, TSV 0.5, interposer I/O 0.3.
HBM2_ACT_PJ_PER_BIT = 0.11
HBM2_CELL_RW_PJ_PER_BIT = 0.44
HBM2_TO_BANKGROUP_PJ_PER_BIT = 1.01
HBM2_BANKGROUP_TO_GIO_PJ_PER_BIT = 1.23
HBM2_TSV_PJ_PER_BIT = 0.5
HBM2_INTERPOSER_IO_PJ_PER_BIT = 0.3

_PJ_PER_BIT: dict[DramKind, float] = {
    # Horowitz, ISSCC 2014: a 64-bit DRAM access costs 1.3-2.6 nJ; midpoint 1.95 nJ / 64 bits.
    DramKind.DDR3: 1950.0 / 64,
    # O'Connor et al., MICRO 2017, Fig. 1 (energy per bit of contemporary DRAMs): GDDR5 ~14 pJ/bit.
    # Read off a figure (as summarised in github.com/Dongyunkam/DRAM_info), so approximate: +-2 pJ/bit.
    DramKind.GDDR5: 14.0,
    # Sum of the FGDRAM HBM2 path: 0.11 + 0.44 + 1.01 + 1.23 + 0.5 + 0.3 = 3.59 pJ/bit.
    DramKind.HBM2: HBM2_ACT_PJ_PER_BIT
    + HBM2_CELL_RW_PJ_PER_BIT
    + HBM2_TO_BANKGROUP_PJ_PER_BIT
    + HBM2_BANKGROUP_TO_GIO_PJ_PER_BIT
    + HBM2_TSV_PJ_PER_BIT
    + HBM2_INTERPOSER_IO_PJ_PER_BIT,
    # No per-bit breakdown of HBM3 is published; AttAcc (ASPLOS 2024) applies the same FGDRAM HBM2
    # figures to its HBM3 system, and so do we.
    DramKind.HBM3: HBM2_ACT_PJ_PER_BIT
    + HBM2_CELL_RW_PJ_PER_BIT
    + HBM2_TO_BANKGROUP_PJ_PER_BIT
    + HBM2_BANKGROUP_TO_GIO_PJ_PER_BIT
    + HBM2_TSV_PJ_PER_BIT
    + HBM2_INTERPOSER_IO_PJ_PER_BIT,
    # A PIM unit beside each bank pays only activate + cell access (AttAcc's bank-level PIM): 0.55.
    DramKind.HBM2_PIM_BANK: HBM2_ACT_PJ_PER_BIT + HBM2_CELL_RW_PJ_PER_BIT,
    # A PIM unit per bank group also pays the column path to the bank-group mux: 1.56.
    DramKind.HBM2_PIM_BANKGROUP: HBM2_ACT_PJ_PER_BIT + HBM2_CELL_RW_PJ_PER_BIT + HBM2_TO_BANKGROUP_PJ_PER_BIT,
}


def dram_energy_per_bit_j(kind: str | DramKind) -> float:
    """Energy to read or write one bit of off-chip memory of `kind` (J).

    Raises:
        SpecError: `kind` is not one of `DramKind`.
    """
    try:
        k = DramKind(kind.lower() if isinstance(kind, str) else kind)
    except ValueError:
        raise SpecError(
            f"dram kind: unknown memory kind {kind!r} (allowed: {', '.join(k.value for k in DramKind)})"
        ) from None
    return _PJ_PER_BIT[k] * 1e-12


def dram_energy_per_byte_j(kind: str | DramKind) -> float:
    """`dram_energy_per_bit_j` x 8 (J/byte)."""
    return 8 * dram_energy_per_bit_j(kind)


__all__ = ["DramKind", "dram_energy_per_bit_j", "dram_energy_per_byte_j"]
