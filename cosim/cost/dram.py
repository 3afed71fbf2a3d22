"""Off-chip memory access energy per bit, by memory kind.

DRAM energy is set by the DRAM die and its interface, not by the logic node of the chip that
reads it, so these constants do not scale with `cosim.cost.nodes`.  The number is the energy
to move one bit between the DRAM cells and the host's memory controller (activate/precharge
amortized over a row, column access, on-die movement, TSV/PHY/interconnect).  PIM kinds count
only the part of that path a processing unit placed at that level still pays.

Per-command energies (for models that count DRAM commands): `idd_command_energy`, DRAMsim3's
IDD power model, with the HBM2 device currents NeuPIMs uses; and the PIM constants of NeuPIMs
(all-bank MAC = 4 reads) and AttAcc (ALU energy per byte).
"""

from __future__ import annotations

from dataclasses import dataclass
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


# --------------------------------------------------------------------------- per-command energies


@dataclass(frozen=True, slots=True)
class IddCurrents:
    """Micron-style IDD currents (mA) and supply (V) of one DRAM device, the inputs of DRAMsim3's
    power model (configuration.cc ``InitPowerParams``)."""

    vdd_v: float
    idd0_ma: float  # one-bank activate-precharge
    idd2n_ma: float  # precharge standby
    idd3n_ma: float  # active standby
    idd4r_ma: float  # burst read
    idd4w_ma: float  # burst write
    idd5ab_ma: float  # all-bank refresh


# DRAMsim3 configs/HBM2_8Gb_x128.ini, [power] section (identical in NeuPIMs' extern/NewtonSim/configs/
# HBM2_8Gb_x128_dualpim.ini at f299af3): VDD 1.2, IDD0 65, IDD2N 40, IDD3N 55, IDD4R 390, IDD4W 500, IDD5AB 250.
HBM2_8GB_X128_IDD = IddCurrents(1.2, 65.0, 40.0, 55.0, 390.0, 500.0, 250.0)

# NeuPIMs configuration.cc: an all-bank PIM COMP costs 4 x a read burst ("newton paper said 4x power needed").
PIM_ALL_BANK_MAC_READS = 4.0
# AttAcc src/config.py: PIM ALU energy per byte of operand (0.32 pJ/B), used with the FGDRAM per-bit figures.
PIM_ALU_PJ_PER_BYTE = 0.32


@dataclass(frozen=True, slots=True)
class IddCommandEnergy:
    """Energy per command (pJ) and active-standby power (mW) from IDD currents."""

    act_pj: float  # one bank's ACT + PRE
    rd_pj: float  # one read burst
    wr_pj: float  # one write burst
    ref_pj: float  # one all-bank REF
    background_mw: float


def idd_command_energy(
    idd: IddCurrents, *, tck_ns: float, tRC: int, tRAS: int, tRP: int, burst_cycles: int, tRFC: int
) -> IddCommandEnergy:
    """DRAMsim3's IDD model (configuration.cc ``InitPowerParams``), timings in command-clock cycles:
    ACT = VDD (IDD0 tRC - (IDD3N tRAS + IDD2N tRP)), RD/WR = VDD (IDD4R/W - IDD3N) x burst,
    REF = VDD (IDD5AB - IDD3N) tRFC, background = VDD IDD3N (mA x V = mW; x ns = pJ)."""
    v = idd.vdd_v
    return IddCommandEnergy(
        act_pj=v * (idd.idd0_ma * tRC - (idd.idd3n_ma * tRAS + idd.idd2n_ma * tRP)) * tck_ns,
        rd_pj=v * (idd.idd4r_ma - idd.idd3n_ma) * burst_cycles * tck_ns,
        wr_pj=v * (idd.idd4w_ma - idd.idd3n_ma) * burst_cycles * tck_ns,
        ref_pj=v * (idd.idd5ab_ma - idd.idd3n_ma) * tRFC * tck_ns,
        background_mw=v * idd.idd3n_ma,
    )


__all__ = [
    "HBM2_8GB_X128_IDD",
    "PIM_ALL_BANK_MAC_READS",
    "PIM_ALU_PJ_PER_BYTE",
    "DramKind",
    "IddCommandEnergy",
    "IddCurrents",
    "dram_energy_per_bit_j",
    "dram_energy_per_byte_j",
    "idd_command_energy",
]
