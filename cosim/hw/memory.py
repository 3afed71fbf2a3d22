"""DRAM/HBM organisation, command timing and per-command energy, shared by every model.

A `DramTiming` describes one channel of one DRAM standard at one speed: its organisation
(pseudo-channels, bank groups, banks, row size, data bus), the JEDEC timing parameters in
command-clock cycles, and the refresh interval.  A `DramEnergy` gives the energy of each
command and the background power, so a model's memory energy is a thin
"command counts x energy per command + background power x time" step.

Conventions (DRAMsim3's HBM model, which the NeuPIMs artifact uses):

* All timing values are integer cycles of the command clock ``tck_ps``.
* A *channel* owns one command bus and one controller.  Its ``pseudo_channels`` are the
  tFAW / refresh domains (DRAMsim3 calls them ranks).  With ``pch_data_bus`` false the
  pseudo-channels share the channel's ``bus_bits``-wide data bus (DRAMsim3's HBM model);
  with it true each pseudo-channel has its own ``bus_bits`` bus (JEDEC HBM3, Ramulator 2).
* A read or write moves ``burst_bytes = bus_bits * burst_length / 8`` in ``burst_cycles``.
* ``tCCD_S``/``tCCD_L`` are the column-to-column gaps in other / the same bank group; the
  effective read-to-read gap is ``max(burst_cycles, tCCD)`` as in DRAMsim3's timing.cc.

Presets (each value's source is in the comment beside it):

* ``HBM2``: DRAMsim3 ``HBM2_8Gb_x128.ini`` = NeuPIMs ``extern/NewtonSim/configs/
  HBM2_8Gb_x128_dualpim.ini`` (2 Gb/s, tCK 1 ns, 128-bit channel, 2 pseudo-channels x
  4 bank groups x 4 banks, 1 KB rows).  Energies from that ini's IDD values through
  DRAMsim3's power model.
* ``HBM2E``: no public simulator preset exists; derived by keeping the HBM2 timings in ns
  (DRAMsim3 HBM2) at 3.2 Gb/s (tCK 0.625 ns, Samsung Flashbolt / JESD235D speed grade),
  rounding up to whole cycles.  Stated as a derivation, not a datasheet.
* ``HBM3``: Ramulator 2.1 ``python/ramulator/dram/hbm3.py`` preset ``HBM3_6400Mbps`` with the
  ``HBM3_4Gb`` organisation (JESD238 Table 4); tRFC/tREFI from its JESD238 resolvers.
  Energies for HBM2E/HBM3 from the FGDRAM per-bit energies (O'Connor et al., MICRO'17, as
  encoded in AttAcc's ``src/config.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cosim.cost import dram as _cd
from cosim.errors import SpecError
from cosim.spec import doc_field


@dataclass(frozen=True)
class DramTiming:
    """One channel of a DRAM standard: organisation and timing in command-clock cycles."""

    name: str
    standard: str = doc_field(doc="JEDEC family, e.g. HBM2")
    tck_ps: int = doc_field(doc="command clock period, ps", gt=0)
    channels_per_stack: int = doc_field(doc="independent channels per stack", min=1)
    pseudo_channels: int = doc_field(doc="pseudo-channels (tFAW/refresh domains) per channel", min=1)
    bank_groups: int = doc_field(doc="bank groups per pseudo-channel", min=1)
    banks_per_group: int = doc_field(doc="banks per bank group", min=1)
    rows: int = doc_field(doc="rows per bank", min=1)
    row_bytes: int = doc_field(doc="row (page) size per bank, bytes", min=32)
    bus_bits: int = doc_field(doc="data bus width (per channel, or per pseudo-channel with pch_data_bus)", min=8)
    pch_data_bus: bool = doc_field(doc="each pseudo-channel has its own data bus")
    burst_length: int = doc_field(doc="beats per burst", min=1)
    burst_cycles: int = doc_field(doc="command-clock cycles a burst occupies the data bus", min=1)
    CL: int = doc_field(doc="read latency (CAS), cycles", min=1)
    CWL: int = doc_field(doc="write latency, cycles", min=0)
    tRCDRD: int = doc_field(doc="ACT to RD, cycles", min=1)
    tRCDWR: int = doc_field(doc="ACT to WR, cycles", min=1)
    tRP: int = doc_field(doc="PRE to ACT, cycles", min=1)
    tRAS: int = doc_field(doc="ACT to PRE, cycles", min=1)
    tRC: int = doc_field(doc="ACT to ACT same bank, cycles", min=1)
    tRRD_S: int = doc_field(doc="ACT to ACT other bank group, cycles", min=1)
    tRRD_L: int = doc_field(doc="ACT to ACT same bank group, cycles", min=1)
    tCCD_S: int = doc_field(doc="column to column other bank group, cycles", min=1)
    tCCD_L: int = doc_field(doc="column to column same bank group, cycles", min=1)
    tFAW: int = doc_field(doc="four-activation window, cycles", min=1)
    tWR: int = doc_field(doc="write recovery, cycles", min=1)
    tWTR_S: int = doc_field(doc="write to read other bank group, cycles", min=0)
    tWTR_L: int = doc_field(doc="write to read same bank group, cycles", min=0)
    tRTP: int = doc_field(doc="read to precharge, cycles", min=1)
    tRTRS: int = doc_field(doc="rank (pseudo-channel) to rank data-bus turnaround, cycles", min=0)
    tRFC: int = doc_field(doc="all-bank refresh cycle time, cycles", min=1)
    tREFI: int = doc_field(doc="average refresh interval per pseudo-channel, cycles", min=1)
    sources: str = ""

    def __post_init__(self) -> None:
        if self.tRC < self.tRAS + self.tRP - 1:
            raise SpecError(f"{self.name}: tRC ({self.tRC}) must be about tRAS + tRP ({self.tRAS + self.tRP})")
        if self.tCCD_L < self.tCCD_S or self.tRRD_L < self.tRRD_S:
            raise SpecError(f"{self.name}: the same-bank-group gaps (tCCD_L, tRRD_L) must be >= the _S ones")
        if self.row_bytes % self.burst_bytes:
            raise SpecError(f"{self.name}: row_bytes {self.row_bytes} is not a multiple of a burst {self.burst_bytes}")

    # ----- derived quantities

    @property
    def clock_hz(self) -> float:
        return 1e12 / self.tck_ps

    @property
    def banks_per_pch(self) -> int:
        return self.bank_groups * self.banks_per_group

    @property
    def banks_per_channel(self) -> int:
        return self.pseudo_channels * self.banks_per_pch

    @property
    def burst_bytes(self) -> int:
        """Bytes one RD/WR moves."""
        return self.bus_bits * self.burst_length // 8

    @property
    def data_buses(self) -> int:
        return self.pseudo_channels if self.pch_data_bus else 1

    @property
    def peak_bytes_per_cycle(self) -> float:
        """External data-bus peak of one channel, bytes per command-clock cycle."""
        return self.data_buses * self.burst_bytes / self.burst_cycles

    @property
    def peak_bytes_per_s(self) -> float:
        """External peak bandwidth of one channel."""
        return self.peak_bytes_per_cycle * self.clock_hz

    @property
    def RL(self) -> int:
        return self.CL

    @property
    def WL(self) -> int:
        return self.CWL

    def cycles(self, ns: float) -> int:
        """A duration in ns as whole command-clock cycles (rounded up, as JEDEC nXX = ceil(tXX/tCK))."""
        return math.ceil(ns * 1000 / self.tck_ps - 1e-9)


@dataclass(frozen=True)
class DramEnergy:
    """Energy per command (pJ) and background power (mW per channel) of one preset.

    ``act_pj`` is one bank's ACT+PRE pair (DRAMsim3 charges the precharge inside ACT);
    ``rd_pj``/``wr_pj`` one burst on the external bus; ``ref_pj`` one all-bank REF of a
    pseudo-channel; ``mac_pj_per_bank`` one PIM MAC command in one bank (array read of one
    column + the multipliers); ``background_mw`` the active-standby power of a channel and
    ``pim_buffer_background_mw`` the extra standby of a second (PIM) row buffer.
    """

    act_pj: float
    rd_pj: float
    wr_pj: float
    ref_pj: float
    mac_pj_per_bank: float
    background_mw: float
    pim_buffer_background_mw: float
    sources: str = ""


def _hbm2() -> DramTiming:
    # DRAMsim3 configs/HBM2_8Gb_x128.ini, identical in NeuPIMs extern/NewtonSim/configs/
    # HBM2_8Gb_x128_dualpim.ini (NeuPIMs commit f299af3); same ns values as Ramulator 2.1
    # hbm2.py HBM2_2000Mbps (JESD235D) where both define them.
    return DramTiming(
        name="HBM2",
        standard="HBM2",
        tck_ps=1000,  # ini tCK = 1 (ns): 2 Gb/s DDR
        channels_per_stack=8,  # ini channels = 8 (DRAMsim3); NeuPIMs uses 32 = 4 stacks
        pseudo_channels=2,  # DRAMsim3: channel_size 1024 MB / (32 MB/bank x 16 banks) = 2 ranks
        bank_groups=4,  # ini bankgroups
        banks_per_group=4,  # ini banks_per_group
        rows=32768,  # ini rows
        row_bytes=1024,  # ini columns 64 x device_width 128 bit = 1 KB (NeuPIMs dram_page_size 1024)
        bus_bits=128,  # ini bus_width
        pch_data_bus=False,  # DRAMsim3's HBM model shares the 128-bit bus between ranks
        burst_length=4,  # ini BL
        burst_cycles=2,  # DRAMsim3 configuration.cc: burst_cycle = BL / 2
        CL=14,  # ini CL
        CWL=4,  # ini CWL
        tRCDRD=14,  # ini tRCDRD
        tRCDWR=14,  # ini tRCDWR
        tRP=14,  # ini tRP
        tRAS=34,  # ini tRAS
        tRC=48,  # DRAMsim3 configuration.cc: tRC = tRAS + tRP
        tRRD_S=4,  # ini tRRD_S
        tRRD_L=6,  # ini tRRD_L
        tCCD_S=1,  # ini tCCD_S (Ramulator 2.1 nCCDS = 2; DRAMsim3 value kept: the artifact's)
        tCCD_L=2,  # ini tCCD_L (Ramulator 2.1 / Samsung PIMSimulator use 4)
        tFAW=30,  # ini tFAW
        tWR=16,  # ini tWR
        tWTR_S=6,  # ini tWTR_S
        tWTR_L=8,  # ini tWTR_L
        # Ramulator 2.1 hbm2.py nRTPL = 5 @2000 Mbps; DRAMsim3 also ends up at 5 (its default
        # tRTP: the ini's tRTP_S/tRTP_L keys are never read by configuration.cc)
        tRTP=5,
        tRTRS=2,  # DRAMsim3 configuration.cc default tRTRS = 2 (not in the ini)
        tRFC=260,  # ini tRFC (ns at tCK 1 ns)
        tREFI=3900,  # ini tREFI: 3.9 us (JESD235 base rate)
        sources="DRAMsim3 HBM2_8Gb_x128.ini (= NeuPIMs NewtonSim HBM2_8Gb_x128_dualpim.ini, f299af3)",
    )


def _hbm2e() -> DramTiming:
    # Derived: DRAMsim3 HBM2 ns values at 3.2 Gb/s.  tCK 0.625 ns (3.2 Gb/s DDR, the JESD235D
    # HBM2E grade of Samsung Flashbolt).  Each nXX = ceil(tXX_ns / 0.625).
    t = 625
    base = _hbm2()

    def c(ns: float) -> int:
        return math.ceil(ns * 1000 / t - 1e-9)

    return DramTiming(
        name="HBM2E",
        standard="HBM2E",
        tck_ps=t,
        channels_per_stack=8,  # JESD235D: 8 legacy channels per stack
        pseudo_channels=2,
        bank_groups=4,
        banks_per_group=4,
        rows=32768,
        row_bytes=1024,
        bus_bits=128,
        pch_data_bus=False,
        burst_length=4,
        burst_cycles=2,
        CL=c(base.CL),  # 14 ns
        CWL=c(base.CWL),  # 4 ns
        tRCDRD=c(base.tRCDRD),  # 14 ns
        tRCDWR=c(base.tRCDWR),  # 14 ns
        tRP=c(base.tRP),  # 14 ns
        tRAS=c(base.tRAS),  # 34 ns
        tRC=c(base.tRAS) + c(base.tRP),  # tRAS + tRP
        tRRD_S=c(base.tRRD_S),  # 4 ns
        tRRD_L=c(base.tRRD_L),  # 6 ns
        tCCD_S=1,  # burst-limited in cycles, as HBM2
        tCCD_L=2,
        tFAW=c(base.tFAW),  # 30 ns
        tWR=c(base.tWR),  # 16 ns
        tWTR_S=c(base.tWTR_S),  # 6 ns
        tWTR_L=c(base.tWTR_L),  # 8 ns
        tRTP=c(base.tRTP),  # 5 ns
        tRTRS=2,
        tRFC=c(350),  # Ramulator 2.1 hbm2.py _resolve_nRFC: 350 ns for 8 Gb per channel (JESD235D)
        tREFI=c(3900),  # 3.9 us (JESD235D)
        sources="derived: DRAMsim3 HBM2 ns timings at 3.2 Gb/s (no public HBM2E simulator preset)",
    )


def _hbm3() -> DramTiming:
    # Ramulator 2.1 (CMU-SAFARI/ramulator2 c5b1c3a) python/ramulator/dram/hbm3.py,
    # timing preset HBM3_6400Mbps, organisation HBM3_4Gb (JESD238 Table 4).
    return DramTiming(
        name="HBM3",
        standard="HBM3",
        tck_ps=625,  # tCK_ps 625 (6.4 Gb/s, 4 bits per pin per CK)
        channels_per_stack=16,  # JESD238: 16 channels per stack
        pseudo_channels=2,  # org "pseudochannel": 2
        bank_groups=4,  # org "bankgroup": 4
        banks_per_group=4,  # org "bank": 4
        rows=16384,  # org "row": 1 << 14
        row_bytes=1024,  # JESD238: 1 KB page per pseudo-channel bank
        bus_bits=32,  # org "dq": 32 per pseudo-channel
        pch_data_bus=True,  # Ramulator: "Data bus occupancy (per PC - separate DQ halves)"
        burst_length=8,  # internal_prefetch_size = 8 (BL8)
        burst_cycles=2,  # nBL = 2
        CL=20,  # nCL
        CWL=10,  # nCWL
        tRCDRD=31,  # nRCDRD
        tRCDWR=15,  # nRCDWR
        tRP=26,  # nRP
        tRAS=45,  # nRAS
        tRC=72,  # nRC
        tRRD_S=4,  # nRRDS
        tRRD_L=5,  # nRRDL
        tCCD_S=2,  # nCCDS
        tCCD_L=4,  # nCCDL
        tFAW=24,  # nFAW
        tWR=33,  # nWR
        tWTR_S=7,  # nWTRS
        tWTR_L=10,  # nWTRL
        tRTP=9,  # nRTP
        tRTRS=0,  # separate data buses per pseudo-channel: no shared-bus turnaround
        tRFC=560,  # _resolve_nRFC: 350 ns for a 4-8 Gb channel (JESD238 Table 84) / 0.625 ns
        tREFI=6240,  # _resolve_nREFI: 3.9 us / 0.625 ns
        sources="Ramulator 2.1 hbm3.py HBM3_6400Mbps + HBM3_4Gb (JESD238)",
    )


PRESETS: dict[str, DramTiming] = {p.name: p for p in (_hbm2(), _hbm2e(), _hbm3())}


def _idd_energy(tm: DramTiming) -> DramEnergy:
    """DRAMsim3's Micron-style IDD model on the HBM2 ini (`cosim.cost.dram.idd_command_energy` with
    `cosim.cost.dram.HBM2_8GB_X128_IDD`); one device per rank (bus_width / device_width = 1).
    Energies in pJ because cycles are 1 ns: ACT+PRE 828 pJ, RD 804 pJ and WR 1068 pJ per 64 B
    burst, REF 60.8 nJ, active standby 66 mW."""
    e = _cd.idd_command_energy(
        _cd.HBM2_8GB_X128_IDD,
        tck_ns=tm.tck_ps / 1000.0,
        tRC=tm.tRC,
        tRAS=tm.tRAS,
        tRP=tm.tRP,
        burst_cycles=tm.burst_cycles,
        tRFC=tm.tRFC,
    )
    return DramEnergy(
        act_pj=e.act_pj,
        rd_pj=e.rd_pj,
        wr_pj=e.wr_pj,
        ref_pj=e.ref_pj,
        # NeuPIMs: an all-bank COMP is 4 x a read, over the 32 banks of a channel
        mac_pj_per_bank=_cd.PIM_ALL_BANK_MAC_READS * e.rd_pj / tm.banks_per_channel,
        background_mw=e.background_mw,  # act_stb_energy_inc = VDD * IDD3N per cycle -> 66 mW
        pim_buffer_background_mw=e.background_mw,  # NeuPIMs: pim_act_stb_energy_inc = act_stb_energy_inc
        sources="DRAMsim3 IDD model on HBM2_8Gb_x128.ini; PIM COMP = 4 x RD (NeuPIMs configuration.cc)",
    )


# FGDRAM (O'Connor et al., MICRO'17) per-bit energies as encoded in AttAcc src/config.py, pJ/bit,
# from the shared cost library (cosim/cost/dram.py) so every model uses the same numbers.
FGDRAM_ACT_PJ_PER_BIT = _cd.HBM2_ACT_PJ_PER_BIT  # cell activation + precharge, per bit of the row
FGDRAM_CELL_RDWR_PJ_PER_BIT = _cd.HBM2_CELL_RW_PJ_PER_BIT  # array read/write
FGDRAM_IO_PATH_PJ_PER_BIT = (  # col decoder -> BG mux -> GIO mux -> TSV -> interposer
    _cd.HBM2_TO_BANKGROUP_PJ_PER_BIT
    + _cd.HBM2_BANKGROUP_TO_GIO_PJ_PER_BIT
    + _cd.HBM2_TSV_PJ_PER_BIT
    + _cd.HBM2_INTERPOSER_IO_PJ_PER_BIT
)
PIM_ALU_PJ_PER_BYTE = _cd.PIM_ALU_PJ_PER_BYTE  # AttAcc src/config.py: PIM ALU energy per byte of operand


def _fgdram_energy(tm: DramTiming, multipliers_per_bank: int = 16, operand_bits: int = 16) -> DramEnergy:
    """Per-command energies from FGDRAM per-bit energies (no public IDD values for HBM2E/HBM3)."""
    row_bits = tm.row_bytes * 8
    burst_bits = tm.burst_bytes * 8
    mac_bits = multipliers_per_bank * operand_bits
    hbm2 = _idd_energy(PRESETS["HBM2"])
    return DramEnergy(
        act_pj=FGDRAM_ACT_PJ_PER_BIT * row_bits,
        rd_pj=(FGDRAM_CELL_RDWR_PJ_PER_BIT + FGDRAM_IO_PATH_PJ_PER_BIT) * burst_bits,
        wr_pj=(FGDRAM_CELL_RDWR_PJ_PER_BIT + FGDRAM_IO_PATH_PJ_PER_BIT) * burst_bits,
        # Refresh re-activates every row of the pseudo-channel's banks in rows/8192 groups:
        # one REF activates banks x rows/8192 rows (JESD: 8192 REFs per retention window).
        ref_pj=FGDRAM_ACT_PJ_PER_BIT * row_bits * tm.banks_per_pch * max(1, tm.rows // 8192),
        mac_pj_per_bank=FGDRAM_CELL_RDWR_PJ_PER_BIT * mac_bits + PIM_ALU_PJ_PER_BYTE * mac_bits / 8,
        # No public IDD3N for these parts: the HBM2 ini's active standby is kept (assumption).
        background_mw=hbm2.background_mw,
        pim_buffer_background_mw=hbm2.pim_buffer_background_mw,
        sources="FGDRAM pJ/bit (AttAcc src/config.py); background from the HBM2 IDD3N (assumption)",
    )


ENERGY_PRESETS: dict[str, DramEnergy] = {
    "HBM2": _idd_energy(PRESETS["HBM2"]),
    "HBM2E": _fgdram_energy(PRESETS["HBM2E"]),
    "HBM3": _fgdram_energy(PRESETS["HBM3"]),
}


def preset(name: str, where: str = "memory") -> DramTiming:
    """The timing preset called `name` (HBM2, HBM2E, HBM3)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SpecError(f"{where}: unknown memory preset {name!r} (allowed: {', '.join(PRESETS)})") from None


def energy_preset(name: str, where: str = "memory") -> DramEnergy:
    try:
        return ENERGY_PRESETS[name]
    except KeyError:
        raise SpecError(f"{where}: unknown memory preset {name!r} (allowed: {', '.join(ENERGY_PRESETS)})") from None


@dataclass(frozen=True)
class MemoryCounts:
    """Command counts of a run, for the counts x energy step."""

    act: int = 0  # bank activations (a group activation of 4 banks counts 4)
    rd: int = 0
    wr: int = 0
    ref: int = 0
    mac_bank_ops: int = 0  # PIM MAC commands x banks they drive
    rdres: int = 0  # result-read bursts
    gwrite_bursts: int = 0  # bursts copied into the global vector buffer
    extra: dict[str, int] = field(default_factory=dict)


def memory_energy_j(
    counts: MemoryCounts, energy: DramEnergy, seconds: float, channels: int, pim_buffers: bool = False
) -> dict[str, float]:
    """Energy by component: command counts x energy per command + background power x time."""
    pj = 1e-12
    out = {
        "dram_act": counts.act * energy.act_pj * pj,
        "dram_rd": counts.rd * energy.rd_pj * pj,
        "dram_wr": counts.wr * energy.wr_pj * pj,
        "dram_ref": counts.ref * energy.ref_pj * pj,
        # RDRES moves one burst of results over the bus; GWRITE reads a row internally at
        # read-burst energy per burst (NeuPIMs: gwrite = row/read_size x read energy).
        "pim_mac": counts.mac_bank_ops * energy.mac_pj_per_bank * pj,
        "pim_rdres": counts.rdres * energy.rd_pj * pj,
        "pim_gwrite": counts.gwrite_bursts * energy.rd_pj * pj,
        "dram_background": energy.background_mw * 1e-3 * seconds * channels,
    }
    if pim_buffers:
        out["pim_background"] = energy.pim_buffer_background_mw * 1e-3 * seconds * channels
    return out


__all__ = [
    "ENERGY_PRESETS",
    "PRESETS",
    "DramEnergy",
    "DramTiming",
    "MemoryCounts",
    "energy_preset",
    "memory_energy_j",
    "preset",
]
