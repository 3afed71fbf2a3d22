"""HBM-PIM channels with in-bank GEMV units: a command-level simpy model and its closed form.

What is modelled (NeuPIMs / Newton style HBM-PIM, ASPLOS'24 and MICRO'20):

* Each bank has ``multipliers_per_bank`` multipliers beside it and an accumulator; a channel
  has one global vector buffer.  Commands (`Cmd`): the DRAM set ACT, PRE, PREA, RD, WR, REF
  and the PIM set GACT (activate the PIM row of one bank group), ABACT (all banks of a
  pseudo-channel), MAC (broadcast: every bank multiplies one column burst of its PIM row with
  the vector buffer and accumulates), RDRES (read the accumulators of all banks), GWRITE
  (copy one bank row into the vector buffer: the vector-buffer load) and PPRE (close the PIM
  row buffers).
* Every legal gap between two commands comes from one `TimingTable`: rows (earlier command,
  later command, scope) -> minimum gap in cycles, where scope is bank / bank group /
  pseudo-channel / channel; plus the four-activation window (tFAW, a GACT counts as the
  banks it opens) and one command per cycle on the channel's command bus.  The table is built
  from a `cosim.hw.memory.DramTiming` preset following DRAMsim3's timing.cc and NeuPIMs'
  NewtonSim additions (sources beside each row).  `cosim.hw.timing_check` replays any trace
  against the same table.
* ``dual_row_buffer`` (NeuPIMs) gives each bank separate MEM and PIM row buffers: normal
  reads/writes and PIM commands proceed concurrently, sharing only the command bus and the
  column-command cadence.  Without it (Newton, "blocked" mode) the two share one buffer and
  the controller serves either memory or PIM jobs, never both at once (Newton's controller:
  PIM only when the memory queue is empty or it is already in PIM mode).
* Refresh: each pseudo-channel gets an all-bank REF every tREFI, staggered by tREFI /
  pseudo_channels (DRAMsim3 RANK_LEVEL_STAGGERED).  A job (GEMV tile, vector load, memory
  burst) is admitted only if its closed-form span ends before the next refresh deadline of
  the pseudo-channels it touches (NeuPIMs CanMeetRefreshDeadline); otherwise the controller
  waits, refreshes, and resumes.

Event mode (`simulate_channels`): one simpy `Environment`; per channel a controller process
takes jobs from a PIM `Store` and a memory `Store` and issues their commands in time order
(earliest legal cycle first, PIM first on ties).  Within a job, commands are computed in a
tight loop (no simpy event per command); simpy time advances once per job, which keeps a
GPT-3 decode step to seconds.  Channels are independent; all are simulated.

Fast mode (`tile_timing`, `vector_load_timing`, `fast_channel_cycles`): the same schedule in
closed form per job, plus the same refresh admission rule; cross-checked against event mode
in the tests.

GEMV mapping (NeuPIMs PIMTensor/KVCacheAllocator): a request's whole KV cache is pinned to one
channel.  K^T q: keys of 32 consecutive tokens sit in the same row of the 32 banks (one token
per bank), each row holding row_bytes of the head dims (4 heads of 128 at 1 KB); one vector
load per chunk of the query, d_k / lanes MACs and one result read per head.  P V: tokens
along the row (512 at FP16), one head dim per bank; one vector load (the softmaxed logits)
per 512-token chunk and head.  Weight GEMVs: outputs spread over channels and banks, input
chunks of one row loaded once per chunk, partial sums read per tile and added on the host.

Assumptions beyond the sources: with dual buffers the PIM path is independent of normal
reads and writes (the paper: "independent data paths"), so MACs and RD/WR share only the
command bus; ``shared_column_path`` instead keeps NewtonSim's read_to_read_s between RD and
COMP (which its dual-buffer table keeps for other bank groups), and the single-buffer table
always does.  RDRES uses the external data bus like a read.  A vector load is the host's
WRs of the row followed by GWRITE and PRE, serial with the tiles (NeuPIMs Alg. 1 adds
L_GWRITE serially).

Area (`area`, `area_fields`; in `simulate`'s RunResult): the in-bank unit this model assumes,
built as RTL (``rtl/pim_gemv``: one MAC per cycle, the sum in the accumulator
``adder_tree_cycles`` after its MAC, checked against `gemv_tile_trace` by its cocotb bench) and
synthesised with yosys, at ``logic_node`` with a DRAM-process factor, as a fraction of a bank
beside published HBM-PIM overheads (`cosim.hw.pim_unit`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import IntEnum, StrEnum
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, NamedTuple

import simpy

from cosim.errors import ModelError, SpecError
from cosim.graph import ATTENTION_KINDS, OpKind, WorkloadGraph
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.hw.memory import DramTiming, MemoryCounts, energy_preset, memory_energy_j, preset
from cosim.spec import doc_field

if TYPE_CHECKING:
    from cosim.hw.pim_unit import UnitArea

NEVER = -(10**12)  # "no such command yet": far enough in the past for every gap


class Cmd(IntEnum):
    """Commands of the DRAM + PIM interface (IntEnum: they index arrays in the engine)."""

    ACT = 0
    PRE = 1
    PREA = 2  # precharge all banks of a pseudo-channel
    RD = 3
    WR = 4
    REF = 5  # all-bank refresh of a pseudo-channel
    GACT = 6  # PIM activate of one bank group (NeuPIMs PIM_ACTIVATION / G_ACT)
    ABACT = 7  # PIM activate of all banks of a pseudo-channel (AttAcc ACTAB)
    MAC = 8  # all-bank multiply-accumulate of one column burst (PIM_DOTPRODUCT / COMP)
    RDRES = 9  # read the accumulators of all banks (PIM_RDRESULT / READRES)
    GWRITE = 10  # copy a bank row into the channel's global vector buffer (PIM_GWRITE)
    PPRE = 11  # close the PIM row buffers of all banks (PIM_PRECHARGE)


class Scope(IntEnum):
    """How close two commands' targets are; a table row at scope S applies to every pair that
    shares a unit at level S (so a bank-scope row applies only to the same bank)."""

    BANK = 0
    BANK_GROUP = 1
    PSEUDO_CHANNEL = 2
    CHANNEL = 3


# The level a command addresses: a RD names one bank, a GACT a bank group, a MAC the channel.
COVERAGE: dict[Cmd, Scope] = {
    Cmd.ACT: Scope.BANK,
    Cmd.PRE: Scope.BANK,
    Cmd.PREA: Scope.PSEUDO_CHANNEL,
    Cmd.RD: Scope.BANK,
    Cmd.WR: Scope.BANK,
    Cmd.REF: Scope.PSEUDO_CHANNEL,
    Cmd.GACT: Scope.BANK_GROUP,
    Cmd.ABACT: Scope.PSEUDO_CHANNEL,
    Cmd.MAC: Scope.CHANNEL,
    Cmd.RDRES: Scope.CHANNEL,
    Cmd.GWRITE: Scope.BANK,
    Cmd.PPRE: Scope.CHANNEL,
}
PIM_CMDS = frozenset({Cmd.GACT, Cmd.ABACT, Cmd.MAC, Cmd.RDRES, Cmd.GWRITE, Cmd.PPRE})
DATA_BUS_CMDS = frozenset({Cmd.RD, Cmd.WR, Cmd.RDRES})


class Command(NamedTuple):
    """One trace record.  ``pch``/``bg``/``bank`` are -1 where the command covers all of them
    (a MAC has all three -1, a GACT only ``bank``); ``row``/``col`` are -1 where unused."""

    cycle: int
    channel: int
    pch: int
    bg: int
    bank: int
    cmd: Cmd
    row: int
    col: int


class Activation(StrEnum):
    """How a GEMV tile opens its PIM rows."""

    GROUP = "group"  # one GACT per bank group, paced by tFAW (NeuPIMs/Newton)
    ALL_BANK = "all_bank"  # one ABACT per pseudo-channel, tFAW-exempt, MACs stretched (AttAcc)


class MacGap(StrEnum):
    """MAC-to-MAC spacing policy."""

    BURST = "burst"  # max(BL/2, tCCD_S): NewtonSim COMPS_READRES
    TCCD_L = "tccd_l"  # max(BL/2, tCCD_L): Samsung PIMSimulator (issue #3: each PIM op costs tCCD_L)


class SimMode(StrEnum):
    FAST = "fast"
    EVENT = "event"


class OperandFormat(StrEnum):
    """Number format of the PIM operands (the unit's datapath, `cosim.hw.pim_unit`)."""

    FP = "fp"  # IEEE binary16 at 16 bits (NeuPIMs, Aquabolt-XL)
    INT = "int"  # two's-complement integers


@dataclass(frozen=True)
class Spec:
    """An HBM-PIM device: channels of a memory preset with GEMV units in every bank.

    Defaults are the NeuPIMs artifact (configs/memory_configs/neupims.json and
    HBM2_8Gb_x128_dualpim.ini at f299af3).
    """

    name: str = "hbm_pim"
    memory: str = doc_field("HBM2", doc="memory preset (cosim.hw.memory.PRESETS)", choices=("HBM2", "HBM2E", "HBM3"))
    channels: int = doc_field(32, doc="PIM channels (NeuPIMs: dram_channels 32)", min=1)
    multipliers_per_bank: int = doc_field(16, doc="multipliers per bank (NeuPIMs pim_comp_coverage 16)", min=1)
    operand_bits: int = doc_field(16, doc="operand width (FP16 in NeuPIMs)", choices=(4, 8, 16, 32))
    operand_format: OperandFormat = doc_field(
        OperandFormat.FP, doc="fp (binary16, NeuPIMs) or int; selects the synthesized unit for area"
    )
    bank_access_bits: int = doc_field(
        256, doc="bits a bank delivers per column access (HBM2 pCH: 64 bit x BL4); wider MACs stretch the gap", min=8
    )
    dual_row_buffer: bool = doc_field(True, doc="NeuPIMs dual row buffers; false = Newton blocked mode")
    activation: Activation = doc_field(Activation.GROUP, doc="group (GACT per bank group) or all_bank (ABACT)")
    mac_gap: MacGap = doc_field(MacGap.BURST, doc="MAC spacing policy: burst (NeuPIMs) or tccd_l (PIMSimulator)")
    all_bank_mac_gap_scale: float = doc_field(
        1.5, doc="MAC gap multiplier under all_bank activation (AttAcc nCCDAB 6 vs nCCDL 4)", min=1.0
    )
    adder_tree_cycles: int = doc_field(
        2, doc="MAC to result-in-accumulator latency; RDRES waits this after the last MAC", min=1
    )
    shared_column_path: bool = doc_field(
        False,
        doc="with dual buffers, MACs still take the column cadence of normal RD/WR (NewtonSim's table); "
        "false: independent PIM data path (the paper's design), only the command bus is shared",
    )
    host_writes_vector: bool = doc_field(True, doc="a vector load includes the host's WRs of the row")
    refresh: bool = doc_field(True, doc="model all-bank refresh")
    mode: SimMode = doc_field(SimMode.FAST, doc="fast (closed form per job) or event (simpy, command level)")
    clock_hz: float | None = doc_field(None, doc="reporting clock; default the memory command clock")
    logic_node: str = doc_field(
        "20nm", doc="process node of the in-bank logic, for area (Samsung HBM2-PIM: 20 nm DRAM, ISSCC'21 25.4)"
    )
    dram_logic_area_factor: float = doc_field(
        10.0,
        doc="DRAM-process logic area over logic-process area at the same node (P3-LLM arXiv 2511.06838 "
        "§II-B: ~10x lower transistor density)",
        min=1.0,
    )
    area_source: str = doc_field(
        "yosys",
        doc="yosys: our RTL synthesised (recorded, else the cost-library build-up calibrated to it); "
        "table: the cost-library build-up",
        choices=("yosys", "table"),
    )
    description: str = ""

    @property
    def dram(self) -> DramTiming:
        return preset(self.memory, f"{self.name}: memory")

    @property
    def lanes_per_mac(self) -> int:
        return self.multipliers_per_bank

    @property
    def mac_bytes_per_bank(self) -> int:
        return self.multipliers_per_bank * self.operand_bits // 8

    @property
    def elements_per_row(self) -> int:
        return self.dram.row_bytes * 8 // self.operand_bits


# --------------------------------------------------------------------------- timing table


@dataclass(frozen=True, slots=True)
class TimingEntry:
    """``later`` may issue no sooner than ``gap_cycles`` after ``earlier`` when their targets
    share a unit at ``scope`` (with ``other_only``: share that unit but nothing finer, e.g. two
    pseudo-channels on one data bus).  ``name`` is the parameter (for messages), ``source``
    where the rule comes from."""

    earlier: Cmd
    later: Cmd
    scope: Scope
    gap_cycles: int
    name: str
    source: str = ""
    other_only: bool = False  # only when the targets share nothing finer than `scope` (other pCH)

    def applies(self, relation: Scope) -> bool:
        return relation == self.scope if self.other_only else relation <= self.scope


@dataclass(frozen=True)
class TimingTable:
    """All command-to-command rules of one channel configuration.

    ``faw_weight[c]`` is how many activations command ``c`` counts in the tFAW window
    (at most ``faw_window`` in any ``faw_cycles`` window per pseudo-channel).
    ``refresh_interval_cycles`` and ``refresh_slack_cycles`` bound the spacing of REFs of a
    pseudo-channel (JESD235 lets the controller postpone refreshes; we allow one interval).
    """

    entries: tuple[TimingEntry, ...]
    faw_cycles: int
    faw_window: int
    faw_weight: dict[Cmd, int]
    refresh_interval_cycles: int
    refresh_slack_cycles: int
    dual_row_buffer: bool
    pseudo_channels: int
    bank_groups: int
    banks_per_group: int

    @cached_property
    def gaps(self) -> list[list[list[int]]]:
        """gaps[earlier][later][relation]: the binding gap when the two commands' closest shared
        level is `relation` (max over rows whose scope is at least that coarse)."""
        n = len(Cmd)
        g = [[[0] * 4 for _ in range(n)] for _ in range(n)]
        for e in self.entries:
            for rel in range(4):
                if e.applies(Scope(rel)) and e.gap_cycles > g[e.earlier][e.later][rel]:
                    g[e.earlier][e.later][rel] = e.gap_cycles
        return g

    @cached_property
    def max_gap_cycles(self) -> int:
        return max(e.gap_cycles for e in self.entries)

    def gap(self, earlier: Cmd, later: Cmd, relation: Scope) -> int:
        return self.gaps[earlier][later][relation]

    def rule(self, earlier: Cmd, later: Cmd, relation: Scope) -> TimingEntry | None:
        """The entry that sets `gap` (for messages), or None if unconstrained."""
        best = None
        for e in self.entries:
            if e.earlier == earlier and e.later == later and e.applies(relation):
                if best is None or e.gap_cycles > best.gap_cycles:
                    best = e
        return best


def _mac_gap_cycles(spec: Spec, tm: DramTiming) -> int:
    base = max(tm.burst_cycles, tm.tCCD_L if spec.mac_gap is MacGap.TCCD_L else tm.tCCD_S)
    stretch = math.ceil(spec.multipliers_per_bank * spec.operand_bits / spec.bank_access_bits)
    g = base * stretch
    if spec.activation is Activation.ALL_BANK:
        g = math.ceil(g * spec.all_bank_mac_gap_scale)
    return g


def _gwrite_cycles(spec: Spec, tm: DramTiming) -> int:
    # NewtonSim configuration.cc: gwrite_delay = (tCCD_S + tCCD_L) * 32 for a 1 KB row read in
    # 32-byte bank accesses; generalised to row_bytes / bank access bytes accesses.
    return (tm.tCCD_S + tm.tCCD_L) * (tm.row_bytes * 8 // spec.bank_access_bits)


def timing_table(spec: Spec) -> TimingTable:
    """Build the command timing table of `spec` (its memory preset and PIM options).

    DRAM rows follow DRAMsim3 src/timing.cc (HBM: tRCDRD/tRCDWR, AL = 0); PIM rows follow
    NeuPIMs extern/NewtonSim/src/timing.cc (single vs dual buffer) with the deviations listed
    in the module docstring.
    """
    tm = spec.dram
    dual = spec.dual_row_buffer
    B = Scope.BANK
    G = Scope.BANK_GROUP
    P = Scope.PSEUDO_CHANNEL
    C = Scope.CHANNEL
    burst = tm.burst_cycles
    shared_bus = not tm.pch_data_bus and tm.pseudo_channels > 1
    rr_l = max(burst, tm.tCCD_L)  # DRAMsim3 read_to_read_l
    rr_s = max(burst, tm.tCCD_S)  # read_to_read_s
    rr_o = burst + tm.tRTRS  # read_to_read_o (other rank, shared bus)
    r2w = tm.RL + burst - tm.WL + tm.tRTRS  # read_to_write
    w2r_l = tm.WL + burst + tm.tWTR_L  # write_to_read_l
    w2r_s = tm.WL + burst + tm.tWTR_S  # write_to_read_s
    w2r_o = tm.WL + burst + tm.tRTRS - tm.RL  # write_to_read_o
    ww_l = max(burst, tm.tCCD_L)
    ww_s = max(burst, tm.tCCD_S)
    w2p = tm.WL + burst + tm.tWR  # write_to_precharge
    mac_gap = _mac_gap_cycles(spec, tm)
    gwrite = _gwrite_cycles(spec, tm)
    d3 = "DRAMsim3 timing.cc"
    nt = "NewtonSim timing.cc"
    E = TimingEntry
    rows: list[TimingEntry] = [
        # --- activation
        E(Cmd.ACT, Cmd.ACT, B, tm.tRC, "tRC", d3),
        E(Cmd.ACT, Cmd.ACT, G, tm.tRRD_L, "tRRD_L", d3),
        E(Cmd.ACT, Cmd.ACT, P, tm.tRRD_S, "tRRD_S", d3),
        E(Cmd.ACT, Cmd.RD, B, tm.tRCDRD, "tRCDRD", d3),
        E(Cmd.ACT, Cmd.WR, B, tm.tRCDWR, "tRCDWR", d3),
        E(Cmd.ACT, Cmd.GWRITE, B, tm.tRCDRD, "tRCDRD", nt),
        E(Cmd.ACT, Cmd.PRE, B, tm.tRAS, "tRAS", d3),
        E(Cmd.ACT, Cmd.PREA, P, tm.tRAS, "tRAS", "Ramulator 2.1 hbm3.py ACT->PREab"),
        E(Cmd.ACT, Cmd.REF, P, tm.tRC, "tRC", d3),
        # --- precharge
        E(Cmd.PRE, Cmd.ACT, B, tm.tRP, "tRP", d3),
        E(Cmd.PRE, Cmd.REF, P, tm.tRP, "tRP", "Ramulator 2.1 PRE->REFab"),
        E(Cmd.PREA, Cmd.ACT, P, tm.tRP, "tRP", "Ramulator 2.1 PREab->ACT"),
        E(Cmd.PREA, Cmd.REF, P, tm.tRP, "tRP", "Ramulator 2.1 PREab->REFab"),
        # --- reads
        E(Cmd.RD, Cmd.RD, G, rr_l, "max(BL/2,tCCD_L)", d3),
        E(Cmd.RD, Cmd.RD, P, rr_s, "max(BL/2,tCCD_S)", d3),
        E(Cmd.RD, Cmd.WR, P, r2w, "RL+BL/2-WL+tRTRS", d3),
        E(Cmd.RD, Cmd.PRE, B, tm.tRTP, "tRTP", d3),
        E(Cmd.RD, Cmd.PREA, P, tm.tRTP, "tRTP", "Ramulator 2.1 RD->PREab"),
        # --- writes
        E(Cmd.WR, Cmd.RD, G, w2r_l, "WL+BL/2+tWTR_L", d3),
        E(Cmd.WR, Cmd.RD, P, w2r_s, "WL+BL/2+tWTR_S", d3),
        E(Cmd.WR, Cmd.WR, G, ww_l, "max(BL/2,tCCD_L)", d3),
        E(Cmd.WR, Cmd.WR, P, ww_s, "max(BL/2,tCCD_S)", d3),
        E(Cmd.WR, Cmd.PRE, B, w2p, "WL+BL/2+tWR", d3),
        E(Cmd.WR, Cmd.PREA, P, w2p, "WL+BL/2+tWR", "Ramulator 2.1 WR->PREab"),
        # --- refresh
        E(Cmd.REF, Cmd.ACT, P, tm.tRFC, "tRFC", d3),
        E(Cmd.REF, Cmd.REF, P, tm.tRFC, "tRFC", d3),
        E(Cmd.REF, Cmd.PREA, P, tm.tRFC, "tRFC", "Ramulator 2.1 REFab->PREab"),
        E(Cmd.REF, Cmd.GACT, P, tm.tRFC, "tRFC", nt),
        E(Cmd.REF, Cmd.ABACT, P, tm.tRFC, "tRFC", nt),
        # --- PIM activation (GACT: bank group, ABACT: pseudo-channel)
        E(Cmd.GACT, Cmd.MAC, B, tm.tRCDRD, "tRCDRD", nt + " G_ACT->COMP"),
        E(Cmd.ABACT, Cmd.MAC, B, tm.tRCDRD, "tRCDRD", "AttAcc ACTAB->MACAB"),
        E(Cmd.GACT, Cmd.PPRE, B, tm.tRAS, "tRAS", nt + " G_ACT->PIM_PRECHARGE"),
        E(Cmd.ABACT, Cmd.PPRE, B, tm.tRAS, "tRAS", "tRAS"),
        E(Cmd.GACT, Cmd.REF, P, tm.tRC, "tRC", "as ACT->REF"),
        E(Cmd.ABACT, Cmd.REF, P, tm.tRC, "tRC", "as ACT->REF"),
        E(Cmd.PPRE, Cmd.GACT, B, tm.tRP, "tRP", nt + " PIM_PRECHARGE->G_ACT"),
        E(Cmd.PPRE, Cmd.ABACT, B, tm.tRP, "tRP", "tRP"),
        E(Cmd.PPRE, Cmd.REF, P, tm.tRP, "tRP", nt + " PIM_PRECHARGE->REFRESH"),
    ]
    for a in (Cmd.GACT, Cmd.ABACT):
        for b in (Cmd.GACT, Cmd.ABACT):
            rows.append(E(a, b, B, tm.tRC, "tRC", nt + " G_ACT->G_ACT"))
            rows.append(E(a, b, P, tm.tRRD_S, "tRRD_S", "as ACT->ACT"))
        # ACT <-> PIM activate: same bank tRRD_L with two buffers, tRC with one (NewtonSim
        # act_to_pim_act_same_bk / pim_act_to_act_same_bk); same group tRRD_L, else tRRD_S.
        same_bank = (tm.tRRD_L, "tRRD_L") if dual else (tm.tRC, "tRC")
        for x, y in ((Cmd.ACT, a), (a, Cmd.ACT)):
            rows.append(E(x, y, B, same_bank[0], same_bank[1], nt))
            rows.append(E(x, y, G, tm.tRRD_L, "tRRD_L", nt))
            rows.append(E(x, y, P, tm.tRRD_S, "tRRD_S", nt))
    # --- PIM compute and result read
    rows += [
        E(Cmd.MAC, Cmd.MAC, C, mac_gap, "MAC gap", nt + " COMP->COMP read_to_read_s"),
        E(Cmd.MAC, Cmd.RDRES, C, max(rr_s, spec.adder_tree_cycles), "max(col, adder tree)", nt),
        E(Cmd.RDRES, Cmd.MAC, C, rr_s, "max(BL/2,tCCD_S)", nt + " READRES->COMP"),
        E(Cmd.RDRES, Cmd.RDRES, C, rr_s, "max(BL/2,tCCD_S)", nt + " READRES->READRES"),
        E(Cmd.MAC, Cmd.PPRE, B, tm.tRTP, "tRTP", nt + " COMP->PIM_PRECHARGE"),
        E(Cmd.RDRES, Cmd.PPRE, B, tm.tRTP, "tRTP", nt + " READRES->PIM_PRECHARGE"),
        # result reads use the external data bus like reads
        E(Cmd.RD, Cmd.RDRES, C, rr_o if shared_bus else rr_s, "data bus", nt + " READ->READRES"),
        E(Cmd.RDRES, Cmd.RD, C, rr_o if shared_bus else rr_s, "data bus", nt + " READRES->READ"),
        E(Cmd.RDRES, Cmd.WR, C, r2w, "RL+BL/2-WL+tRTRS", nt + " READRES->WRITE"),
        E(Cmd.WR, Cmd.RDRES, C, w2r_s, "WL+BL/2+tWTR_S", nt + " WRITE->READRES"),
        # --- vector-buffer load
        E(Cmd.GWRITE, Cmd.GWRITE, C, gwrite, "GWRITE latency", nt + " gwrite_delay"),
        E(Cmd.GWRITE, Cmd.MAC, C, gwrite, "GWRITE latency", nt),
        E(Cmd.GWRITE, Cmd.RDRES, C, gwrite, "GWRITE latency", nt),
        E(Cmd.GWRITE, Cmd.RD, B, gwrite, "GWRITE latency", nt),
        E(Cmd.GWRITE, Cmd.WR, B, gwrite, "GWRITE latency", nt),
        E(Cmd.GWRITE, Cmd.PRE, B, gwrite, "GWRITE latency", nt),
        E(Cmd.GWRITE, Cmd.PREA, P, gwrite, "GWRITE latency", nt),
        E(Cmd.GWRITE, Cmd.RD, G, rr_l, "max(BL/2,tCCD_L)", nt),
        E(Cmd.GWRITE, Cmd.RD, P, rr_s, "max(BL/2,tCCD_S)", nt),
        E(Cmd.RD, Cmd.GWRITE, G, rr_l, "max(BL/2,tCCD_L)", nt),
        E(Cmd.RD, Cmd.GWRITE, P, rr_s, "max(BL/2,tCCD_S)", nt),
        E(Cmd.WR, Cmd.GWRITE, G, w2r_l, "WL+BL/2+tWTR_L", nt),
        E(Cmd.WR, Cmd.GWRITE, P, w2r_s, "WL+BL/2+tWTR_S", nt),
        E(Cmd.MAC, Cmd.GWRITE, C, rr_s, "max(BL/2,tCCD_S)", nt + " COMP->GWRITE"),
        E(Cmd.RDRES, Cmd.GWRITE, C, rr_s, "max(BL/2,tCCD_S)", nt + " READRES->GWRITE"),
    ]
    if shared_bus:
        # the pseudo-channels share one data bus (DRAMsim3 HBM model, its other_ranks rows)
        rows += [
            E(Cmd.RD, Cmd.RD, C, rr_o, "BL/2+tRTRS", d3 + " other rank", True),
            E(Cmd.RD, Cmd.WR, C, r2w, "RL+BL/2-WL+tRTRS", d3 + " other rank", True),
            E(Cmd.WR, Cmd.WR, C, burst, "BL/2", d3 + " other rank", True),
        ]
        if w2r_o > 0:
            rows.append(E(Cmd.WR, Cmd.RD, C, w2r_o, "WL+BL/2+tRTRS-RL", d3 + " other rank", True))
    if not dual or spec.shared_column_path:
        # MACs take the column cadence of normal reads (NewtonSim: READ->COMP and COMP->READ
        # read_to_read_s within a rank, which its dual-buffer table keeps for other bank groups)
        rows += [
            E(Cmd.RD, Cmd.MAC, C, rr_s, "max(BL/2,tCCD_S)", nt + " READ->COMP"),
            E(Cmd.MAC, Cmd.RD, C, rr_s, "max(BL/2,tCCD_S)", nt + " COMP->READ"),
        ]
    if dual and spec.shared_column_path:
        rows += [
            E(Cmd.WR, Cmd.MAC, C, rr_s, "max(BL/2,tCCD_S)", "shared column path"),
            E(Cmd.MAC, Cmd.WR, C, rr_s, "max(BL/2,tCCD_S)", "shared column path"),
        ]
    if not dual:
        # one buffer: PIM and MEM rows exclude each other; NewtonSim single-buffer rows
        rows += [
            E(Cmd.WR, Cmd.MAC, P, w2r_s, "WL+BL/2+tWTR_S", nt + " WRITE->COMP"),
            E(Cmd.MAC, Cmd.WR, P, r2w, "RL+BL/2-WL+tRTRS", nt + " COMP->WRITE"),
            E(Cmd.PPRE, Cmd.ACT, B, tm.tRP, "tRP", "single buffer: PIM_PRECHARGE closes the only buffer"),
            E(Cmd.PRE, Cmd.GACT, B, tm.tRP, "tRP", "single buffer"),
            E(Cmd.PRE, Cmd.ABACT, B, tm.tRP, "tRP", "single buffer"),
            E(Cmd.PREA, Cmd.GACT, P, tm.tRP, "tRP", "single buffer"),
            E(Cmd.PREA, Cmd.ABACT, P, tm.tRP, "tRP", "single buffer"),
            E(Cmd.MAC, Cmd.PRE, B, tm.tRTP, "tRTP", nt + " pim_to_precharge"),
            E(Cmd.RDRES, Cmd.PRE, B, tm.tRTP, "tRTP", nt + " pim_to_precharge"),
        ]
    return TimingTable(
        entries=tuple(rows),
        faw_cycles=tm.tFAW,
        faw_window=4,
        # a group activation opens banks_per_group rows (NewtonSim: G_ACT -> ACT/G_ACT same rank
        # = tFAW, i.e. a G_ACT of 4 banks fills the window); ABACT is tFAW-exempt (AttAcc).
        faw_weight={Cmd.ACT: 1, Cmd.GACT: tm.banks_per_group, Cmd.ABACT: 0},
        refresh_interval_cycles=tm.tREFI,
        refresh_slack_cycles=tm.tREFI,
        dual_row_buffer=dual,
        pseudo_channels=tm.pseudo_channels,
        bank_groups=tm.bank_groups,
        banks_per_group=tm.banks_per_group,
    )


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class _Target:
    pch: int
    bg: int
    bank: int
    level: Scope
    qidx: tuple[int, int, int, int]  # unit index to query at each level (clamped to coverage)
    rng: tuple[tuple[int, int], ...]  # units covered at each level (lo, hi)
    pchs: tuple[int, ...]


class _Geometry:
    """Unit numbering of one channel: banks, bank groups, pseudo-channels, the channel."""

    def __init__(self, P: int, G: int, Bn: int) -> None:
        self.P, self.G, self.Bn = P, G, Bn
        self.n_units = (P * G * Bn, P * G, P, 1)
        self.targets: list[_Target] = []
        self.tid: dict[tuple[int, int, int], int] = {}
        for p in range(P):
            for g in range(G):
                for b in range(Bn):
                    self._add(p, g, b, Scope.BANK)
        for p in range(P):
            for g in range(G):
                self._add(p, g, -1, Scope.BANK_GROUP)
        for p in range(P):
            self._add(p, -1, -1, Scope.PSEUDO_CHANNEL)
        self._add(-1, -1, -1, Scope.CHANNEL)

    def _add(self, p: int, g: int, b: int, level: Scope) -> None:
        P, G, Bn = self.P, self.G, self.Bn
        units = [
            (p * G + g) * Bn + b if level <= Scope.BANK else -1,
            p * G + g if level <= Scope.BANK_GROUP else -1,
            p if level <= Scope.PSEUDO_CHANNEL else -1,
            0,
        ]
        qidx = tuple(units[max(L, level)] for L in range(4))
        if level == Scope.BANK:
            rng = ((units[0], units[0] + 1), (units[1], units[1] + 1), (p, p + 1), (0, 1))
        elif level == Scope.BANK_GROUP:
            rng = ((units[1] * Bn, units[1] * Bn + Bn), (units[1], units[1] + 1), (p, p + 1), (0, 1))
        elif level == Scope.PSEUDO_CHANNEL:
            rng = ((p * G * Bn, (p + 1) * G * Bn), (p * G, (p + 1) * G), (p, p + 1), (0, 1))
        else:
            rng = ((0, P * G * Bn), (0, P * G), (0, P), (0, 1))
        pchs = tuple(range(P)) if p < 0 else (p,)
        self.tid[(p, g, b)] = len(self.targets)
        self.targets.append(_Target(p, g, b, level, qidx, rng, pchs))

    def target_id(self, cmd: Cmd, pch: int, bg: int, bank: int) -> int:
        lvl = COVERAGE[cmd]
        key = (
            pch if lvl <= Scope.PSEUDO_CHANNEL else -1,
            bg if lvl <= Scope.BANK_GROUP else -1,
            bank if lvl <= Scope.BANK else -1,
        )
        try:
            return self.tid[key]
        except KeyError:
            raise ModelError(f"{cmd.name}: no such target pch={pch} bg={bg} bank={bank}") from None


class _Compiled:
    """Table compiled against a geometry: per (command, target) the (flat index, gap) pairs to
    query and the flat ranges to update.  Shared by every channel of a run."""

    def __init__(self, table: TimingTable, geo: _Geometry) -> None:
        self.table, self.geo = table, geo
        nk = len(Cmd)
        # flat layout of last-issue times: [kind][level][unit]
        self.offset = [[0] * 4 for _ in range(nk)]
        off = 0
        for k in range(nk):
            for L in range(4):
                self.offset[k][L] = off
                off += geo.n_units[L]
        self.size = off
        by_later: dict[int, list[TimingEntry]] = {}
        for e in table.entries:
            by_later.setdefault(int(e.later), []).append(e)
        self.query: list[list[list[tuple[int, int]]]] = []
        self.update: list[list[list[tuple[int, int]]]] = []
        read: set[tuple[int, int]] = set()  # (kind, level) arrays some query reads
        for c in range(nk):
            qrow = []
            for t in geo.targets:
                best: dict[int, int] = {}
                if t.level != COVERAGE[Cmd(c)]:
                    qrow.append([])  # a command never addresses this kind of target
                    continue
                for e in by_later.get(c, ()):
                    if e.other_only:
                        # other pseudo-channels only: read their pseudo-channel arrays
                        if e.scope != Scope.CHANNEL:
                            raise ModelError(f"other_only rows are supported at channel scope, got {e}")
                        for q in range(geo.P):
                            if q not in t.pchs:
                                read.add((int(e.earlier), int(Scope.PSEUDO_CHANNEL)))
                                i = self.offset[e.earlier][Scope.PSEUDO_CHANNEL] + q
                                if e.gap_cycles > best.get(i, NEVER):
                                    best[i] = e.gap_cycles
                        continue
                    # a target wider than the scope (a MAC vs a bank-scope rule) reads the
                    # coarser array, which holds the max over the units it covers
                    L = max(e.scope, t.level)
                    read.add((int(e.earlier), int(L)))
                    i = self.offset[e.earlier][L] + t.qidx[e.scope]
                    if e.gap_cycles > best.get(i, NEVER):
                        best[i] = e.gap_cycles
                qrow.append(sorted(best.items()))
            self.query.append(qrow)
        for c in range(nk):
            # only the levels some query reads need updating
            self.update.append(
                [
                    [
                        (self.offset[c][L] + lo, self.offset[c][L] + hi)
                        for L, (lo, hi) in enumerate(t.rng)
                        if (c, L) in read
                    ]
                    for t in geo.targets
                ]
            )
        self.faw_weight = [table.faw_weight.get(Cmd(k), 0) for k in range(nk)]
        self.templates: dict[int, _TemplateInfo] = {}
        self.memo: dict[tuple, _Replay] = {}

    def info(self, cmds: Template) -> _TemplateInfo:
        """What of the channel state a template's timing can depend on (for memoization)."""
        key = id(cmds)
        got = self.templates.get(key)
        if got is not None:
            return got
        reads: dict[int, int] = {}
        updated: set[int] = set()
        faw_pchs: set[int] = set()
        counts: dict[int, int] = {}
        for c, tid, _, _ in cmds:
            for i, g in self.query[c][tid]:
                reads[i] = max(reads.get(i, 0), g)
            for lo, hi in self.update[c][tid]:
                updated.update(range(lo, hi))
            if self.faw_weight[c]:
                faw_pchs.update(self.geo.targets[tid].pchs)
            counts[c] = counts.get(c, 0) + 1
        got = _TemplateInfo(
            cmds, tuple(sorted(reads.items())), tuple(sorted(updated)), tuple(sorted(faw_pchs)), tuple(counts.items())
        )
        self.templates[key] = got
        return got


@dataclass(frozen=True, slots=True)
class _TemplateInfo:
    cmds: Template  # kept alive so its id stays unique
    reads: tuple[tuple[int, int], ...]  # (flat index, largest gap read from it)
    updated: tuple[int, ...]  # flat indices the template writes
    faw_pchs: tuple[int, ...]  # pseudo-channels whose tFAW history it reads
    counts: tuple[tuple[int, int], ...]  # commands per kind


@dataclass(frozen=True, slots=True)
class _Replay:
    """A job's outcome relative to its base cycle, valid for any start in the same state."""

    times: tuple[int, ...]  # each command's cycle - base
    updates: tuple[tuple[int, int], ...]  # (flat index, final value - base)
    acts: tuple[tuple[int, int, int], ...]  # tFAW entries appended: (pch, cycle - base, weight)
    rd: int  # last RDRES - base, or None-like -1 with has_rd False
    has_rd: bool


class _ChannelEngine:
    """Issue-time state of one channel: last issue time of every command kind at every unit,
    the activation history for tFAW, and the command bus."""

    __slots__ = ("acts", "ch", "comp", "counts", "last", "last_cycle", "memo_hits", "trace", "use_memo")

    def __init__(self, comp: _Compiled, ch: int, trace: list | None, use_memo: bool = True) -> None:
        self.comp = comp
        self.use_memo = use_memo
        self.memo_hits = 0
        self.ch = ch
        self.last = [NEVER] * comp.size
        self.acts: list[list[tuple[int, int]]] = [[] for _ in range(comp.geo.P)]
        self.last_cycle = -1
        self.trace = trace
        self.counts = [0] * len(Cmd)

    def earliest(self, c: int, tid: int, not_before: int) -> int:
        t = self.last_cycle + 1
        if not_before > t:
            t = not_before
        last = self.last
        for i, g in self.comp.query[c][tid]:
            v = last[i] + g
            if v > t:
                t = v
        w = self.comp.faw_weight[c]
        if w:
            table = self.comp.table
            cap = table.faw_window - w
            for p in self.comp.geo.targets[tid].pchs:
                acc = 0
                for at, aw in reversed(self.acts[p]):
                    acc += aw
                    if acc > cap:
                        v = at + table.faw_cycles
                        if v > t:
                            t = v
                        break
        return t

    def run_alone(self, job: Job, pos: int, now: int) -> int:
        """Issue the rest of `job` with no competing stream (the common case).  Returns the cycle
        of its last RDRES (-1 if none).

        Exact memoization: a job's command times depend only on its template and on the channel
        state it reads (last issue times within the largest gap, the recent tFAW history), taken
        relative to its base cycle max(now, last command + 1).  When that key was seen before,
        the recorded outcome is replayed shifted; otherwise the job is issued command by command
        and recorded.  Identical consecutive tiles therefore cost one dictionary lookup.
        """
        if pos or not self.use_memo:
            return self._run_alone(job, pos, now)
        comp = self.comp
        info = comp.info(job.cmds)
        last = self.last
        base = self.last_cycle + 1
        if now > base:
            base = now
        sig = tuple([last[i] - base if last[i] + g > base else None for i, g in info.reads])
        faw_c = comp.table.faw_cycles
        acts = self.acts
        asig = tuple(tuple([(at - base, w) for at, w in acts[p] if at + faw_c > base]) for p in info.faw_pchs)
        key = (id(job.cmds), sig, asig)
        rep = comp.memo.get(key)
        if rep is None:
            times: list[int] = []
            new_acts: list[tuple[int, int, int]] = []
            rd = self._run_alone(job, 0, now, times, new_acts)
            rep = _Replay(
                tuple(t - base for t in times),
                tuple((i, last[i] - base) for i in info.updated),
                tuple((p, t - base, w) for p, t, w in new_acts),
                rd - base if rd >= 0 else -1,
                rd >= 0,
            )
            comp.memo[key] = rep
            return rd
        self.memo_hits += 1
        for i, v in rep.updates:
            last[i] = base + v
        for p, at, w in rep.acts:
            a = acts[p]
            a.append((base + at, w))
            if len(a) > 8:
                del a[0]
        counts = self.counts
        for c, k in info.counts:
            counts[c] += k
        self.last_cycle = base + rep.times[-1]
        if job.start_cycle < 0:
            job.start_cycle = base + rep.times[0]
        if self.trace is not None:
            tgts = comp.geo.targets
            ch, row, tr = self.ch, job.row, self.trace
            for (c, tid, rf, col), t in zip(job.cmds, rep.times):
                tg = tgts[tid]
                tr.append((base + t, ch, tg.pch, tg.bg, tg.bank, c, row if rf else -1, col))
        return base + rep.rd if rep.has_rd else -1

    def _run_alone(
        self,
        job: Job,
        pos: int,
        now: int,
        times: list[int] | None = None,
        new_acts: list[tuple[int, int, int]] | None = None,
    ) -> int:
        comp = self.comp
        query, update, fw = comp.query, comp.update, comp.faw_weight
        last = self.last
        tgts = comp.geo.targets
        table = comp.table
        faw_c, faw_n = table.faw_cycles, table.faw_window
        counts = self.counts
        trace = self.trace
        ch = self.ch
        row = job.row
        lc = self.last_cycle
        rd_at = -1
        rdres = int(Cmd.RDRES)
        cmds = job.cmds
        for k in range(pos, len(cmds)):
            c, tid, rf, col = cmds[k]
            t = lc + 1
            if now > t:
                t = now
            for i, g in query[c][tid]:
                v = last[i] + g
                if v > t:
                    t = v
            w = fw[c]
            if w:
                cap = faw_n - w
                for p in tgts[tid].pchs:
                    acc = 0
                    for at, aw in reversed(self.acts[p]):
                        acc += aw
                        if acc > cap:
                            if at + faw_c > t:
                                t = at + faw_c
                            break
                for p in tgts[tid].pchs:
                    a = self.acts[p]
                    a.append((t, w))
                    if len(a) > 8:
                        del a[0]
                    if new_acts is not None:
                        new_acts.append((p, t, w))
            for lo, hi in update[c][tid]:
                if hi - lo == 1:
                    last[lo] = t
                else:
                    last[lo:hi] = [t] * (hi - lo)
            lc = t
            counts[c] += 1
            if times is not None:
                times.append(t)
            if c == rdres:
                rd_at = t
            if trace is not None:
                tg = tgts[tid]
                trace.append((t, ch, tg.pch, tg.bg, tg.bank, c, row if rf else -1, col))
            if job.start_cycle < 0:
                job.start_cycle = t
        self.last_cycle = lc
        return rd_at

    def issue(self, t: int, c: int, tid: int, row: int, col: int) -> None:
        last = self.last
        for lo, hi in self.comp.update[c][tid]:
            if hi - lo == 1:
                last[lo] = t
            else:
                last[lo:hi] = [t] * (hi - lo)
        w = self.comp.faw_weight[c]
        if w:
            for p in self.comp.geo.targets[tid].pchs:
                a = self.acts[p]
                a.append((t, w))
                if len(a) > 8:
                    del a[0]
        self.last_cycle = t
        self.counts[c] += 1
        if self.trace is not None:
            tg = self.comp.geo.targets[tid]
            self.trace.append((t, self.ch, tg.pch, tg.bg, tg.bank, int(c), row, col))


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class TileShape:
    """One GEMV tile: ``n_macs`` MACs over one PIM row in every bank, a result read after every
    ``macs_per_result`` MACs (and after the last), none if ``read_results`` is false."""

    n_macs: int
    macs_per_result: int
    read_results: bool = True

    def __post_init__(self) -> None:
        if self.n_macs < 1 or self.macs_per_result < 1:
            raise ModelError(f"tile needs n_macs >= 1 and macs_per_result >= 1, got {self}")

    @property
    def n_results(self) -> int:
        return math.ceil(self.n_macs / self.macs_per_result) if self.read_results else 0


class JobKind(IntEnum):
    TILE = 0
    VECTOR_LOAD = 1
    MEM = 2
    REFRESH = 3


@dataclass(slots=True)
class Job:
    """A unit of controller work: its commands in issue order and the pseudo-channels it
    holds open.  ``shape`` keys the closed form (tiles) or the burst count (loads, bursts)."""

    kind: JobKind
    cmds: Template  # (cmd, target id, uses-row flag, col)
    row: int
    pchs: tuple[int, ...]
    shape: object
    tag: object = None
    mem_bank: int = -1  # target id of the bank whose MEM row buffer the job opens
    start_cycle: int = -1
    end_cycle: int = -1
    ready_cycle: int = -1


# A job's commands are a shared template of (cmd, target id, uses-row flag, col); the job's
# row fills in where the flag is 1, so identical tiles share one template.
Template = tuple[tuple[int, int, int, int], ...]
_TEMPLATES: dict[tuple, Template] = {}


def _tile_cmds(spec: Spec, geo: _Geometry, shape: TileShape) -> Template:
    key = ("tile", spec, shape)
    if key in _TEMPLATES:
        return _TEMPLATES[key]
    out: list[tuple[int, int, int, int]] = []
    if spec.activation is Activation.GROUP:
        for g in range(geo.G):
            for p in range(geo.P):
                out.append((Cmd.GACT, geo.tid[(p, g, -1)], 1, -1))
    else:
        for p in range(geo.P):
            out.append((Cmd.ABACT, geo.tid[(p, -1, -1)], 1, -1))
    ch = geo.tid[(-1, -1, -1)]
    for m in range(shape.n_macs):
        out.append((Cmd.MAC, ch, 1, m))
        if shape.read_results and ((m + 1) % shape.macs_per_result == 0 or m == shape.n_macs - 1):
            out.append((Cmd.RDRES, ch, 1, m // shape.macs_per_result))
    out.append((Cmd.PPRE, ch, 0, -1))
    _TEMPLATES[key] = tuple(out)
    return _TEMPLATES[key]


def vector_bank(geo: _Geometry) -> tuple[int, int, int]:
    """Where vectors are staged before GWRITE: bank 0 of bank group 0 of pseudo-channel 0."""
    return (0, 0, 0)


def _vector_load_cmds(spec: Spec, geo: _Geometry, n_bursts: int) -> Template:
    key = ("vload", spec, n_bursts)
    if key in _TEMPLATES:
        return _TEMPLATES[key]
    p, g, b = vector_bank(geo)
    t = geo.tid[(p, g, b)]
    out = [(Cmd.ACT, t, 1, -1)]
    if spec.host_writes_vector:
        out += [(Cmd.WR, t, 1, i) for i in range(n_bursts)]
    out += [(Cmd.GWRITE, t, 1, -1), (Cmd.PRE, t, 0, -1)]
    _TEMPLATES[key] = tuple(out)
    return _TEMPLATES[key]


def _template_for(spec: Spec, item: ProgramItem) -> Template:
    """The command template of a program item (for command counts)."""
    geo = _geometry(spec)
    if isinstance(item, TileShape):
        return _tile_cmds(spec, geo, item)
    return _vector_load_cmds(spec, geo, item.n_bursts)


def _mem_cmds(geo: _Geometry, write: bool, p: int, g: int, b: int, n: int) -> Template:
    key = ("mem", id(geo), write, p, g, b, n)
    if key not in _TEMPLATES:
        t = geo.tid[(p, g, b)]
        c = Cmd.WR if write else Cmd.RD
        _TEMPLATES[key] = ((Cmd.ACT, t, 1, -1), *((c, t, 1, i) for i in range(n)), (Cmd.PRE, t, 0, -1))
    return _TEMPLATES[key]


@dataclass(frozen=True, slots=True)
class VectorLoad:
    """Stage a vector of ``n_bursts`` bursts into the global buffer (host WRs + GWRITE)."""

    n_bursts: int


@dataclass(frozen=True, slots=True)
class MemBurst:
    """A normal memory access: ACT, ``n_bursts`` RDs or WRs, PRE (closed page)."""

    write: bool
    pch: int
    bg: int
    bank: int
    row: int
    n_bursts: int


ProgramItem = TileShape | VectorLoad


class ProgramBuilder:
    """Turns program items into jobs with row numbers (tiles walk rows up; vectors use a
    reserved block at the top of the bank)."""

    def __init__(self, spec: Spec, geo: _Geometry) -> None:
        self.spec, self.geo = spec, geo
        self.rows = spec.dram.rows
        self.next_row = 0
        self.next_vrow = 0

    def job(self, item: ProgramItem | MemBurst, tag: object = None) -> Job:
        geo = self.geo
        if isinstance(item, TileShape):
            row = self.next_row % (self.rows - 64)
            self.next_row += 1
            return Job(JobKind.TILE, _tile_cmds(self.spec, geo, item), row, tuple(range(geo.P)), item, tag)
        if isinstance(item, VectorLoad):
            row = self.rows - 1 - (self.next_vrow % 64)
            self.next_vrow += 1
            p = vector_bank(geo)[0]
            vb = geo.tid[vector_bank(geo)]
            return Job(JobKind.VECTOR_LOAD, _vector_load_cmds(self.spec, geo, item.n_bursts), row, (p,), item, tag, vb)
        if isinstance(item, MemBurst):
            return Job(
                JobKind.MEM,
                _mem_cmds(geo, item.write, item.pch, item.bg, item.bank, item.n_bursts),
                item.row,
                (item.pch,),
                item,
                tag,
                geo.tid[(item.pch, item.bg, item.bank)],
            )
        raise ModelError(f"unknown program item {item!r}")


# --------------------------------------------------------------------------- closed form


@dataclass(frozen=True, slots=True)
class TileTiming:
    """Closed-form schedule of one tile from a clean channel, cycles relative to its first
    activation.  ``span`` is its last command (PPRE); ``result_ready`` is when the last
    accumulation is in the accumulator (last MAC + adder tree) and ``data_out`` when the last
    result read's data has crossed the bus (RDRES + RL + BL/2)."""

    activations: tuple[int, ...]
    first_mac: int
    last_mac: int
    last_rdres: int
    span: int
    result_ready: int
    data_out: int


@dataclass(frozen=True)
class ClosedForm:
    """The gaps of a `TimingTable` that the closed forms need, named."""

    spec: Spec
    table: TimingTable

    @cached_property
    def g(self) -> list[list[list[int]]]:
        return self.table.gaps

    def gap(self, a: Cmd, b: Cmd, rel: Scope) -> int:
        return self.g[a][b][rel]

    @cached_property
    def activation_times(self) -> tuple[int, ...]:
        """Issue times of a tile's activations in command order (pch-interleaved)."""
        tm = self.spec.dram
        P, G = tm.pseudo_channels, tm.bank_groups
        if self.spec.activation is Activation.ALL_BANK:
            return tuple(range(P))
        w = self.table.faw_weight[Cmd.GACT]
        per_window = max(1, self.table.faw_window // w) if w else 10**9
        s_rrd = self.gap(Cmd.GACT, Cmd.GACT, Scope.PSEUDO_CHANNEL)
        times: list[int] = []
        per_pch: list[list[int]] = [[] for _ in range(P)]
        t_prev = -1
        for _g in range(G):
            for p in range(P):
                hist = per_pch[p]
                t = t_prev + 1
                if hist:
                    t = max(t, hist[-1] + s_rrd)
                if len(hist) >= per_window:
                    t = max(t, hist[-per_window] + self.table.faw_cycles)
                hist.append(t)
                times.append(t)
                t_prev = t
        return tuple(times)

    @cached_property
    def _tiles(self) -> dict[TileShape, TileTiming]:
        return {}

    def tile(self, shape: TileShape) -> TileTiming:
        """Closed-form schedule of a tile (see `TileTiming`), cached per shape."""
        got = self._tiles.get(shape)
        if got is None:
            got = self._tiles[shape] = self._tile(shape)
        return got

    def _tile(self, shape: TileShape) -> TileTiming:
        tm = self.spec.dram
        acts = self.activation_times
        act_cmd = Cmd.GACT if self.spec.activation is Activation.GROUP else Cmd.ABACT
        g_act_mac = self.gap(act_cmd, Cmd.MAC, Scope.BANK)
        g_mm = self.gap(Cmd.MAC, Cmd.MAC, Scope.CHANNEL)
        g_mr = self.gap(Cmd.MAC, Cmd.RDRES, Scope.CHANNEL)
        g_rm = self.gap(Cmd.RDRES, Cmd.MAC, Scope.CHANNEL)
        g_rr = self.gap(Cmd.RDRES, Cmd.RDRES, Scope.CHANNEL)
        t = max(acts[-1] + 1, max(a + g_act_mac for a in acts))
        first_mac = t
        last_mac = last_rd = -(10**9)
        for m in range(shape.n_macs):
            if m:
                t = max(t + 1, last_mac + g_mm, last_rd + g_rm)
            last_mac = t
            if shape.read_results and ((m + 1) % shape.macs_per_result == 0 or m == shape.n_macs - 1):
                t = max(t + 1, last_mac + g_mr, last_rd + g_rr)
                last_rd = t
        ppre = max(
            t + 1,
            last_mac + self.gap(Cmd.MAC, Cmd.PPRE, Scope.BANK),
            last_rd + self.gap(Cmd.RDRES, Cmd.PPRE, Scope.BANK),
            max(a + self.gap(act_cmd, Cmd.PPRE, Scope.BANK) for a in acts),
        )
        ready = last_mac + self.spec.adder_tree_cycles
        data_out = (last_rd if shape.read_results else ready) + (tm.RL + tm.burst_cycles if shape.read_results else 0)
        return TileTiming(acts, first_mac, last_mac, last_rd, ppre, ready, data_out)

    @cached_property
    def _memo(self) -> dict[tuple, int]:
        return {}

    def vector_load(self, n_bursts: int) -> int:
        """Span (ACT to PRE) of a vector load of `n_bursts` host writes + GWRITE."""
        key = ("v", n_bursts)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._vector_load(n_bursts)
        return got

    def _vector_load(self, n_bursts: int) -> int:
        g = self.gap
        B = Scope.BANK
        t = 0
        last_wr = None
        if self.spec.host_writes_vector:
            for i in range(n_bursts):
                t = max(t + 1, g(Cmd.ACT, Cmd.WR, B) if i == 0 else last_wr + g(Cmd.WR, Cmd.WR, B))
                last_wr = t
        gw = max(t + 1, g(Cmd.ACT, Cmd.GWRITE, B))
        if last_wr is not None:
            gw = max(gw, last_wr + g(Cmd.WR, Cmd.GWRITE, B))
        pre = max(gw + 1, g(Cmd.ACT, Cmd.PRE, B), gw + g(Cmd.GWRITE, Cmd.PRE, B))
        if last_wr is not None:
            pre = max(pre, last_wr + g(Cmd.WR, Cmd.PRE, B))
        return pre

    def mem_burst(self, write: bool, n: int) -> int:
        """Span (ACT to PRE) of a closed-page burst of `n` RDs or WRs in one bank."""
        g = self.gap
        B = Scope.BANK
        c = Cmd.WR if write else Cmd.RD
        t = g(Cmd.ACT, c, B)
        t += (n - 1) * max(1, g(c, c, B))
        return max(t + 1, g(Cmd.ACT, Cmd.PRE, B), t + g(c, Cmd.PRE, B))

    def span(self, job: Job) -> int:
        if job.kind is JobKind.TILE:
            return self.tile(job.shape).span  # type: ignore[arg-type]
        if job.kind is JobKind.VECTOR_LOAD:
            return self.vector_load(job.shape.n_bursts)  # type: ignore[union-attr]
        if job.kind is JobKind.MEM:
            s: MemBurst = job.shape  # type: ignore[assignment]
            return self.mem_burst(s.write, s.n_bursts)
        return 0

    def transition(self, prev: ProgramItem | None, nxt: ProgramItem, prev_timing: TileTiming | None) -> int:
        """Cycles from the previous job's last command to the next job's first command, both
        PIM-program items on an otherwise idle channel."""
        if prev is None:
            return 0
        key = ("t", prev, nxt)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._transition(prev, nxt, prev_timing)
        return got

    def _transition(self, prev: ProgramItem, nxt: ProgramItem, prev_timing: TileTiming | None) -> int:
        tm = self.spec.dram
        single = not self.spec.dual_row_buffer
        if isinstance(prev, TileShape):
            assert prev_timing is not None
            if isinstance(nxt, TileShape):
                act_cmd = Cmd.GACT if self.spec.activation is Activation.GROUP else Cmd.ABACT
                t = max(1, self.gap(Cmd.PPRE, act_cmd, Scope.BANK))
                # the next tile's first activation vs this tile's activations in the same pCH (tFAW)
                w = self.table.faw_weight[act_cmd]
                if w:
                    per_window = max(1, self.table.faw_window // w)
                    P = tm.pseudo_channels
                    same_p = prev_timing.activations[0::P]  # pseudo-channel 0, in order
                    if len(same_p) >= per_window:
                        t = max(t, same_p[-per_window] + self.table.faw_cycles - prev_timing.span)
                return t
            return max(1, self.gap(Cmd.PPRE, Cmd.ACT, Scope.BANK)) if single else 1
        # previous: vector load (ends with PRE of the vector bank)
        if isinstance(nxt, TileShape):
            act_cmd = Cmd.GACT if self.spec.activation is Activation.GROUP else Cmd.ABACT
            return max(1, self.gap(Cmd.PRE, act_cmd, Scope.BANK))
        return max(1, self.gap(Cmd.PRE, Cmd.ACT, Scope.BANK))


def _runs(items: Sequence[ProgramItem]) -> list[tuple[ProgramItem, int]]:
    """Run-length encoding of a program (equal consecutive items)."""
    out: list[list] = []
    last = None
    for it in items:
        if last is not None and (it is last or it == last):
            out[-1][1] += 1
        else:
            out.append([it, 1])
            last = it
    return [(a, b) for a, b in out]


def _no_refresh_cycles(cf: ClosedForm, runs: list[tuple[ProgramItem, int]]) -> int:
    """`fast_channel_cycles` without refresh: spans and transitions summed run by run."""
    t = -1
    prev: ProgramItem | None = None
    prev_tt: TileTiming | None = None
    info = _ItemInfo(cf)
    for item, count in runs:
        tt, span, _ = info.get(item)
        s = t + info.transition(prev, item, prev_tt) if prev is not None else 0
        period = span + info.transition(item, item, tt) if count > 1 else 0
        t = s + (count - 1) * period + span
        prev, prev_tt = item, tt
    return max(t, 0)


class _ItemInfo:
    """Per-call caches keyed by object identity (the items outlive the call): closed-form
    timing, span and pseudo-channels of each item, and transitions between items."""

    def __init__(self, cf: ClosedForm) -> None:
        self.cf = cf
        P = cf.spec.dram.pseudo_channels
        self.all_p = tuple(range(P))
        self.vb = (vector_bank(_geometry(cf.spec))[0],)
        self.items: dict[int, tuple[TileTiming | None, int, tuple[int, ...]]] = {}
        self.trans: dict[tuple[int, int], int] = {}

    def get(self, item: ProgramItem) -> tuple[TileTiming | None, int, tuple[int, ...]]:
        got = self.items.get(id(item))
        if got is None:
            if isinstance(item, TileShape):
                tt = self.cf.tile(item)
                got = (tt, tt.span, self.all_p)
            else:
                got = (None, self.cf.vector_load(item.n_bursts), self.vb)
            self.items[id(item)] = got
        return got

    def transition(self, prev: ProgramItem | None, item: ProgramItem, prev_tt: TileTiming | None) -> int:
        key = (id(prev), id(item))
        got = self.trans.get(key)
        if got is None:
            got = self.trans[key] = self.cf.transition(prev, item, prev_tt)
        return got


def fast_channel_cycles(
    spec: Spec, items: Sequence[ProgramItem], cf: ClosedForm | None = None, refresh_phase: int = 0
) -> tuple[int, int]:
    """Closed-form time of a PIM program on one idle channel: (cycle of its last command,
    refreshes issued).

    Each job costs its closed-form span plus the closed-form transition from the previous job;
    refresh follows the event controller's rule: at each job boundary every pseudo-channel
    whose deadline has passed is refreshed (REF at the earliest legal cycle), and a job is
    admitted only if it ends (plus tRP) before the deadlines of the pseudo-channels it
    touches; otherwise the controller waits for the next deadline.  Runs of identical tiles
    advance in one step up to the next refresh deadline.
    """
    cf = cf or closed_form(spec)
    runs = _runs(items)
    if not spec.refresh:
        return _no_refresh_cycles(cf, runs), 0
    tm = spec.dram
    P = tm.pseudo_channels
    trefi = tm.tREFI
    window = trefi // P
    deadlines = [(p + 1) * trefi // P - refresh_phase for p in range(P)]
    for p in range(P):
        while deadlines[p] <= 0:
            deadlines[p] += trefi
    act_cmd = Cmd.GACT if spec.activation is Activation.GROUP else Cmd.ABACT
    PC = Scope.PSEUDO_CHANNEL
    g_close_ref = tm.tRP  # PPRE / PRE / PREA -> REF
    g_act_ref = cf.gap(act_cmd, Cmd.REF, PC)
    g_ref_act = cf.gap(Cmd.REF, act_cmd, PC)
    g_ref_ref = cf.gap(Cmd.REF, Cmd.REF, PC)
    vb_p = vector_bank(_geometry(spec))[0]
    t_last = -1  # last command issued (any kind)
    job_end = -1  # last command of the previous job
    last_close = [NEVER] * P
    last_act = [NEVER] * P
    ref_at = [NEVER] * P
    prev: ProgramItem | None = None
    prev_tt: TileTiming | None = None
    refs = 0
    info = _ItemInfo(cf)
    for item, count in runs:
        tt, span, pchs = info.get(item)
        left = count
        while left:
            now = max(t_last, 0)
            while True:
                if spec.refresh:
                    for p in range(P):
                        if deadlines[p] <= now:
                            r = max(
                                deadlines[p],
                                t_last + 1,
                                last_close[p] + g_close_ref,
                                last_act[p] + g_act_ref,
                                ref_at[p] + g_ref_ref,
                            )
                            ref_at[p] = r
                            t_last = r
                            deadlines[p] += trefi
                            refs += 1
                s = job_end + info.transition(prev, item, prev_tt) if prev is not None else 0
                s = max(s, t_last + 1)
                for p in pchs:
                    s = max(s, ref_at[p] + g_ref_act)
                if not spec.refresh or span + tm.tRP >= window:
                    break
                if all(s + span + tm.tRP <= deadlines[p] for p in pchs):
                    break
                now = max(now + 1, min(deadlines))
            # this job, then as many more of the run as fit before the next deadline
            k = 1
            period = 0
            if left > 1:
                period = span + info.transition(item, item, tt)
                if spec.refresh and span + tm.tRP < window:
                    d = min(deadlines[p] for p in pchs)
                    fit = (d - s - span - tm.tRP) // period + 1
                    # a deadline of an untouched pseudo-channel also ends the stretch (it is
                    # refreshed at the next job boundary after it passes)
                    others = [deadlines[p] for p in range(P) if p not in pchs]
                    if others:
                        fit = min(fit, max(1, (min(others) - s - span) // period + 1))
                    k = max(1, min(left, fit))
                else:
                    k = left
            s_last = s + (k - 1) * period
            job_end = t_last = s_last + span
            if tt is not None:
                last_close = [job_end] * P
                for i, a in enumerate(tt.activations):
                    p = i % P if spec.activation is Activation.GROUP else i
                    last_act[p] = max(last_act[p], s_last + a)
            else:
                last_close[vb_p] = job_end
                last_act[vb_p] = max(last_act[vb_p], s_last)
            prev, prev_tt = item, tt
            left -= k
    return max(t_last, 0), refs


_CF_CACHE: dict[Spec, ClosedForm] = {}
_GEO_CACHE: dict[tuple[int, int, int], _Geometry] = {}


def _geometry(spec: Spec) -> _Geometry:
    tm = spec.dram
    key = (tm.pseudo_channels, tm.bank_groups, tm.banks_per_group)
    if key not in _GEO_CACHE:
        _GEO_CACHE[key] = _Geometry(*key)
    return _GEO_CACHE[key]


def closed_form(spec: Spec) -> ClosedForm:
    if spec not in _CF_CACHE:
        _CF_CACHE[spec] = ClosedForm(spec, timing_table(spec))
    return _CF_CACHE[spec]


# --------------------------------------------------------------------------- event mode


@dataclass
class ChannelStats:
    """What one channel's controller did: appended to the list passed to `simulate_channels`."""

    channel: int
    end_cycle: int = 0  # last command issued
    pim_busy_cycles: int = 0  # sum of PIM job spans (first to last command)
    mem_bytes: int = 0
    refreshes: int = 0
    counts: dict[Cmd, int] = field(default_factory=dict)
    pim_jobs: int = 0
    mem_jobs: int = 0
    mode_switches: int = 0


@dataclass(frozen=True)
class EventResult:
    """Outcome of an event-mode run: per-channel stats and, if recorded, the command trace."""

    stats: tuple[ChannelStats, ...]
    trace: tuple[Command, ...] | None
    jobs: tuple[Job, ...]
    table: TimingTable

    @property
    def end_cycle(self) -> int:
        return max((s.end_cycle for s in self.stats), default=0)

    def counts(self) -> dict[Cmd, int]:
        acc: dict[Cmd, int] = {}
        for s in self.stats:
            for k, v in s.counts.items():
                acc[k] = acc.get(k, 0) + v
        return acc


class _Controller:
    """One channel: merges its PIM and memory job streams command by command."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: Spec,
        comp: _Compiled,
        cf: ClosedForm,
        ch: int,
        pim_q: simpy.Store,
        mem_q: simpy.Store,
        trace: list[Command] | None,
        stats: list[ChannelStats],
        refresh_phase: int,
        n_pim: int,
        n_mem: int,
        memoize: bool = True,
        mem_slots: int = 4,
    ) -> None:
        self.mem_slots = mem_slots
        self.env, self.spec, self.comp, self.cf = env, spec, comp, cf
        self.eng = _ChannelEngine(comp, ch, trace, memoize)
        self.pim_q, self.mem_q = pim_q, mem_q
        self.st = ChannelStats(ch)
        stats.append(self.st)
        tm = spec.dram
        P = tm.pseudo_channels
        self.deadlines = [(p + 1) * tm.tREFI // P - refresh_phase for p in range(P)]
        for p in range(P):
            while self.deadlines[p] <= 0:
                self.deadlines[p] += tm.tREFI
        self.remaining = [n_pim, n_mem]
        self.pim_mode = False
        self.ref_tid = [comp.geo.tid[(p, -1, -1)] for p in range(P)]
        self.burst_bytes = tm.burst_bytes
        self.data_latency = tm.RL + tm.burst_cycles
        self.window_cycles = tm.tREFI // P

    def _first_earliest(self, job: Job) -> int:
        c, tid, _, _ = job.cmds[0]
        return self.eng.earliest(c, tid, self.env.now)

    def _admissible(self, job: Job, active: Sequence[Job | None]) -> bool:
        # two jobs never share a bank's MEM row buffer (a vector load stages through one)
        if job.mem_bank >= 0 and any(a is not None and a.mem_bank == job.mem_bank for a in active):
            return False
        if not self.spec.refresh:
            return True
        span = self.cf.span(job)
        if span + self.spec.dram.tRP >= self.window_cycles:
            return True  # fits in no refresh window: run it and let refresh wait
        end = self._first_earliest(job) + span + self.spec.dram.tRP
        return all(end <= self.deadlines[p] for p in job.pchs)

    def run(self):  # a simpy process
        """Stream 0 is the PIM program; streams 1.. hold up to `mem_slots` memory bursts to
        distinct banks (a controller with per-bank queues).  Commands go out earliest first,
        PIM first on ties; simpy time advances once per completed job."""
        env = self.env
        eng = self.eng
        n_streams = 1 + self.mem_slots
        active: list[Job | None] = [None] * n_streams
        pos = [0] * n_streams
        pim_get: simpy.events.Event | None = None
        mem_get: simpy.events.Event | None = None
        pim_next: Job | None = None
        mem_wait: list[Job] = []
        dual = self.spec.dual_row_buffer
        rdres = int(Cmd.RDRES)
        while True:
            # 1. fetch: the next PIM job, every memory job that has arrived
            if pim_next is None and self.remaining[0] > 0:
                if pim_get is None:
                    pim_get = self.pim_q.get()
                if pim_get.triggered:
                    pim_next, pim_get = pim_get.value, None
                    self.remaining[0] -= 1
            while self.remaining[1] > 0:
                if mem_get is None:
                    mem_get = self.mem_q.get()
                if not mem_get.triggered:
                    break
                mem_wait.append(mem_get.value)
                mem_get = None
                self.remaining[1] -= 1
            busy = [a for a in active if a is not None]
            if not busy and pim_next is None and not mem_wait and not any(self.remaining):
                break
            # 2. refresh the pseudo-channels whose deadline has come and that no job holds
            if self.spec.refresh:
                for p, d in enumerate(self.deadlines):
                    if d <= env.now and not any(p in a.pchs for a in busy):
                        tid = self.ref_tid[p]
                        t = eng.earliest(Cmd.REF, tid, d)
                        eng.issue(t, Cmd.REF, tid, -1, -1)
                        self.st.refreshes += 1
                        self.deadlines[p] += self.spec.dram.tREFI
            # 3. admit jobs
            mem_busy = any(a is not None for a in active[1:])
            if dual or (not mem_busy and active[0] is None):
                want_pim = pim_next is not None and (dual or not mem_wait or self.pim_mode)
                if want_pim and active[0] is None and self._admissible(pim_next, active):
                    if not dual and not self.pim_mode:
                        self.st.mode_switches += 1
                        self.pim_mode = True
                    active[0], pim_next, pos[0] = pim_next, None, 0
            if dual or (active[0] is None and not (pim_next is not None and self.pim_mode)):
                for s in range(1, n_streams):
                    if active[s] is not None or not mem_wait:
                        continue
                    for k, job in enumerate(mem_wait):
                        if self._admissible(job, active):
                            if not dual and self.pim_mode:
                                self.st.mode_switches += 1
                                self.pim_mode = False
                            active[s], pos[s] = job, 0
                            del mem_wait[k]
                            break
            if not dual and active[0] is None and not any(a is not None for a in active[1:]) and pim_next is not None:
                # blocked mode, memory side idle: PIM may take the channel
                if self._admissible(pim_next, active):
                    if not self.pim_mode:
                        self.st.mode_switches += 1
                        self.pim_mode = True
                    active[0], pim_next, pos[0] = pim_next, None, 0
            live = [s for s in range(n_streams) if active[s] is not None]
            # 4. nothing to issue: wait for a job or the next refresh deadline
            if not live:
                waits = [g for g in (pim_get, mem_get) if g is not None]
                if self.spec.refresh:
                    waits.append(env.timeout(max(1, min(self.deadlines) - env.now)))
                if not waits:
                    break
                yield env.any_of(waits)
                continue
            # 5. issue commands, earliest first (PIM on ties), until a job completes
            now = env.now
            if len(live) == 1:
                done = live[0]
                a = active[done]
                rd = eng.run_alone(a, pos[done], now)
                if rd >= 0:
                    a.ready_cycle = rd + self.data_latency
                pos[done] = len(a.cmds)
            else:
                done = -1
                while done < 0:
                    best_t, best_s = -1, -1
                    for s in live:
                        a = active[s]
                        c, tid, _, _ = a.cmds[pos[s]]
                        t = eng.earliest(c, tid, now)
                        if best_s < 0 or t < best_t:
                            best_t, best_s = t, s
                    a = active[best_s]
                    c, tid, rf, col = a.cmds[pos[best_s]]
                    eng.issue(best_t, c, tid, a.row if rf else -1, col)
                    if a.start_cycle < 0:
                        a.start_cycle = best_t
                    if c == rdres:
                        a.ready_cycle = best_t + self.data_latency
                    pos[best_s] += 1
                    if pos[best_s] == len(a.cmds):
                        done = best_s
            a = active[done]
            a.end_cycle = eng.last_cycle
            if a.ready_cycle < 0:
                a.ready_cycle = a.end_cycle
            if done == 0:
                self.st.pim_jobs += 1
                self.st.pim_busy_cycles += a.end_cycle - a.start_cycle
            else:
                self.st.mem_jobs += 1
                self.st.mem_bytes += (len(a.cmds) - 2) * self.burst_bytes
            active[done] = None
            if eng.last_cycle > env.now:
                yield env.timeout(eng.last_cycle - env.now)
        self.st.end_cycle = eng.last_cycle
        self.st.counts = {Cmd(k): v for k, v in enumerate(eng.counts) if v}


def simulate_channels(
    spec: Spec,
    programs: Sequence[Sequence[ProgramItem]],
    mem_traffic: Sequence[Sequence[tuple[int, MemBurst]]] | None = None,
    *,
    record_trace: bool = True,
    refresh_phase: int = 0,
    stats: list[ChannelStats] | None = None,
    memoize: bool = True,
    mem_slots: int = 4,
) -> EventResult:
    """Event-mode run of one PIM program per channel (and optional memory bursts).

    Args:
        spec: the PIM device (its memory preset, buffers, activation policy, refresh).
        programs: per channel, the PIM items (tiles, vector loads) in issue order.
        mem_traffic: per channel, (arrival cycle, burst) pairs put in the memory queue.
        record_trace: keep the command trace (needed by the timing checker).
        refresh_phase: cycles of the refresh interval already elapsed at time 0.
        stats: list the channel controllers append their `ChannelStats` to.
        memoize: replay jobs whose relative start state was seen before (exact; off only to
            test that it is).
        mem_slots: memory bursts (to distinct banks) a controller keeps in flight at once.

    Returns:
        An `EventResult` with per-channel stats, the trace (sorted by channel, then cycle)
        and the jobs with their start/end cycles.
    """
    geo = _geometry(spec)
    table = timing_table(spec)
    comp = _compiled(spec, table, geo)
    cf = closed_form(spec)
    env = simpy.Environment()
    stats = [] if stats is None else stats
    traces: list[list[Command]] = []
    all_jobs: list[Job] = []
    n_ch = max(len(programs), len(mem_traffic or ()))
    if n_ch > spec.channels:
        raise ModelError(f"{spec.name}: {n_ch} channel programs for {spec.channels} channels")
    for ch in range(n_ch):
        prog = programs[ch] if ch < len(programs) else ()
        mem = (mem_traffic[ch] if mem_traffic is not None and ch < len(mem_traffic) else ()) or ()
        pb = ProgramBuilder(spec, geo)
        jobs = [pb.job(it, (ch, i)) for i, it in enumerate(prog)]
        mjobs = [(t, pb.job(b, (ch, "mem", i))) for i, (t, b) in enumerate(mem)]
        for _, j in mjobs:
            _check_mem_burst(spec, j.shape)  # type: ignore[arg-type]
        all_jobs += jobs
        all_jobs += [j for _, j in mjobs]
        pim_q = simpy.Store(env)
        mem_q = simpy.Store(env)
        tr: list[Command] | None = [] if record_trace else None
        if tr is not None:
            traces.append(tr)
        ctl = _Controller(
            env, spec, comp, cf, ch, pim_q, mem_q, tr, stats, refresh_phase, len(jobs), len(mjobs), memoize, mem_slots
        )
        env.process(_feeder(env, pim_q, [(0, j) for j in jobs]))
        env.process(_feeder(env, mem_q, mjobs))
        env.process(ctl.run())
    env.run()
    cmds = list(Cmd)
    trace = (
        tuple(Command(t, ch, p, g, b, cmds[c], r, col) for tr in traces for (t, ch, p, g, b, c, r, col) in tr)
        if record_trace
        else None
    )
    return EventResult(tuple(sorted(stats, key=lambda s: s.channel)), trace, tuple(all_jobs), table)


def _check_mem_burst(spec: Spec, b: MemBurst) -> None:
    tm = spec.dram
    if not (0 <= b.pch < tm.pseudo_channels and 0 <= b.bg < tm.bank_groups and 0 <= b.bank < tm.banks_per_group):
        raise ModelError(f"memory burst {b}: no such bank")
    if not 1 <= b.n_bursts <= tm.row_bytes // tm.burst_bytes:
        raise ModelError(f"memory burst {b}: n_bursts must be 1..{tm.row_bytes // tm.burst_bytes}")


def _feeder(env: simpy.Environment, q: simpy.Store, items: Iterable[tuple[int, Job]]):
    for t, job in items:
        if t > env.now:
            yield env.timeout(t - env.now)
        yield q.put(job)


_COMP_CACHE: dict[tuple[Spec, int], _Compiled] = {}


def _compiled(spec: Spec, table: TimingTable, geo: _Geometry) -> _Compiled:
    key = (spec, id(geo))
    if key not in _COMP_CACHE:
        _COMP_CACHE[key] = _Compiled(table, geo)
    return _COMP_CACHE[key]


# --------------------------------------------------------------------------- one tile, public


@dataclass(frozen=True)
class TileTrace:
    """One GEMV tile on an idle channel: its command trace and the model's latencies.

    All cycles are memory command-clock cycles from the tile's first command (cycle 0).
    ``result_ready_cycle`` = last MAC + adder tree: when the unit's accumulators hold the
    final sums (the RTL bench compares its result-ready cycle with this);
    ``latency_cycles`` = ``result_ready_cycle`` (the tile latency the bench checks);
    ``data_out_cycle`` = last RDRES + RL + BL/2; ``span_cycles`` = the PPRE cycle.
    ``predicted`` is the closed form (fast mode) and equals the event-mode trace here.
    """

    commands: tuple[Command, ...]
    n_macs: int
    macs_per_result: int
    mac_gap_cycles: int
    adder_tree_cycles: int
    lanes: int
    operand_bits: int
    result_ready_cycle: int
    data_out_cycle: int
    span_cycles: int
    predicted: TileTiming
    clock_hz: float

    @property
    def latency_cycles(self) -> int:
        return self.result_ready_cycle

    @property
    def mac_cycles(self) -> tuple[int, ...]:
        return tuple(c.cycle for c in self.commands if c.cmd is Cmd.MAC)


def gemv_tile_trace(
    spec: Spec | None = None, *, n_macs: int | None = None, macs_per_result: int | None = None
) -> TileTrace:
    """The command trace of one GEMV tile and the model's predicted latency.

    Runs the event model on one idle channel (refresh off) with a single tile and returns the
    commands, rebased so the tile's first command is cycle 0, together with the closed-form
    prediction.  Defaults: NeuPIMs spec, a full 1 KB row (32 MACs of 16 FP16 lanes) with one
    result read at the end.
    """
    from dataclasses import replace

    spec = replace(spec or Spec(), refresh=False, mode=SimMode.EVENT)
    n = n_macs if n_macs is not None else spec.elements_per_row // spec.lanes_per_mac
    mpr = macs_per_result if macs_per_result is not None else n
    shape = TileShape(n, mpr)
    res = simulate_channels(spec, [[shape]])
    assert res.trace is not None
    t0 = res.trace[0].cycle
    cmds = tuple(c._replace(cycle=c.cycle - t0) for c in res.trace)
    cf = closed_form(spec)
    tt = cf.tile(shape)
    last_mac = max(c.cycle for c in cmds if c.cmd is Cmd.MAC)
    last_rd = max(c.cycle for c in cmds if c.cmd is Cmd.RDRES)
    tm = spec.dram
    return TileTrace(
        commands=cmds,
        n_macs=n,
        macs_per_result=mpr,
        mac_gap_cycles=_mac_gap_cycles(spec, tm),
        adder_tree_cycles=spec.adder_tree_cycles,
        lanes=spec.multipliers_per_bank,
        operand_bits=spec.operand_bits,
        result_ready_cycle=last_mac + spec.adder_tree_cycles,
        data_out_cycle=last_rd + tm.RL + tm.burst_cycles,
        span_cycles=cmds[-1].cycle,
        predicted=tt,
        clock_hz=tm.clock_hz,
    )


# --------------------------------------------------------------------------- GEMV mapping


def attention_program(
    spec: Spec, kv_len: int, heads: int, head_dim: int, kv_heads: int | None = None, part: str = "both"
) -> list[ProgramItem]:
    """PIM program of one request's decode attention (see `_attention_program`)."""
    return list(_attention_program(spec, kv_len, heads, head_dim, kv_heads, part))


@lru_cache(maxsize=65536)
def _attention_program(
    spec: Spec, kv_len: int, heads: int, head_dim: int, kv_heads: int | None = None, part: str = "both"
) -> tuple[ProgramItem, ...]:
    """PIM program of one request's decode attention (logit K^T q, then attend P V) on its channel.

    NeuPIMs mapping (see module docstring).  With grouped-query attention each of the
    heads/kv_heads queries sharing a KV head repeats the logit pass (the vector buffer holds
    one query row).  `part` selects ``logit``, ``attend`` or ``both``.

    Raises:
        ModelError: a head wider than a row, or non-positive sizes.
    """
    if kv_len < 1 or heads < 1 or head_dim < 1:
        raise ModelError(f"attention needs kv_len, heads, head_dim >= 1, got {kv_len}, {heads}, {head_dim}")
    kvh = kv_heads or heads
    tm = spec.dram
    R = spec.elements_per_row
    lanes = spec.lanes_per_mac
    banks = tm.banks_per_channel
    elem_bytes = spec.operand_bits // 8
    if head_dim > R:
        raise ModelError(f"{spec.name}: head_dim {head_dim} exceeds a row of {R} elements")
    group = heads // kvh
    prog: list[ProgramItem] = []
    macs_per_head = math.ceil(head_dim / lanes)
    if part not in ("both", "logit", "attend"):
        raise ModelError(f"attention_program: part must be both, logit or attend, got {part!r}")
    hpc = max(1, R // head_dim)
    key_tiles = math.ceil(kv_len / banks)
    for _ in range(group if part != "attend" else 0):
        for c0 in range(0, kvh, hpc):
            hc = min(hpc, kvh - c0)
            prog.append(VectorLoad(math.ceil(hc * head_dim * elem_bytes / tm.burst_bytes)))
            shape = TileShape(hc * macs_per_head, macs_per_head)
            prog.extend([shape] * key_tiles)
    value_tiles = math.ceil(head_dim / banks)
    for _ in range(heads if part != "logit" else 0):
        for t0 in range(0, kv_len, R):
            tok = min(R, kv_len - t0)
            prog.append(VectorLoad(math.ceil(tok * elem_bytes / tm.burst_bytes)))
            n = math.ceil(tok / lanes)
            prog.extend([TileShape(n, n)] * value_tiles)
    return tuple(prog)


def weight_gemv_programs(spec: Spec, K: int, N: int, channels: int | None = None) -> list[list[ProgramItem]]:
    """Per-channel PIM programs of y = W x with W K x N (weights resident in the PIM banks).

    Outputs are spread over channels and then banks (one output per bank per tile); the input
    is loaded one row-sized chunk at a time and every tile's partial sums are read out (the host
    adds the K/row chunks), so each chunk is loaded once per channel.
    """
    C = channels or spec.channels
    tm = spec.dram
    R = spec.elements_per_row
    banks = tm.banks_per_channel
    elem_bytes = spec.operand_bits // 8
    progs: list[list[ProgramItem]] = []
    base, extra = divmod(N, C)
    for ch in range(C):
        n_ch = base + (1 if ch < extra else 0)
        prog: list[ProgramItem] = []
        if n_ch:
            groups = math.ceil(n_ch / banks)
            for k0 in range(0, K, R):
                kc = min(R, K - k0)
                prog.append(VectorLoad(math.ceil(kc * elem_bytes / tm.burst_bytes)))
                n = math.ceil(kc / spec.lanes_per_mac)
                prog.extend([TileShape(n, n)] * groups)
        progs.append(prog)
    return progs


def program_macs(spec: Spec, items: Iterable[ProgramItem]) -> int:
    """MAC commands of a program (each drives every bank of the channel)."""
    return sum(it.n_macs for it in items if isinstance(it, TileShape))


def program_counts(spec: Spec, items: Sequence[ProgramItem]) -> MemoryCounts:
    """Command counts of a program for the energy step (refreshes counted separately)."""
    tm = spec.dram
    tiles = [it for it in items if isinstance(it, TileShape)]
    loads = [it for it in items if isinstance(it, VectorLoad)]
    banks = tm.banks_per_channel
    return MemoryCounts(
        act=len(tiles) * banks + len(loads),
        wr=sum(v.n_bursts for v in loads) if spec.host_writes_vector else 0,
        mac_bank_ops=sum(t.n_macs for t in tiles) * banks,
        rdres=sum(t.n_results for t in tiles),
        gwrite_bursts=len(loads) * (tm.row_bytes // tm.burst_bytes),
    )


def greedy_channels(loads: Sequence[int], channels: int) -> list[int]:
    """NeuPIMs Alg. 2 (greedy min-load bin packing): requests by decreasing load, each to the
    least-loaded channel (lowest index on ties).  Returns the channel of each request."""
    order = sorted(range(len(loads)), key=lambda i: (-loads[i], i))
    acc = [0] * channels
    out = [0] * len(loads)
    for i in order:
        ch = min(range(channels), key=lambda c: (acc[c], c))
        out[i] = ch
        acc[ch] += loads[i]
    return out


def round_robin_channels(n: int, channels: int) -> list[int]:
    """NeuPIMs' NPU+PIM baseline: request i to channel i mod channels."""
    return [i % channels for i in range(n)]


def split_sub_batches(assign: Sequence[int], channels: int) -> tuple[list[int], list[int]]:
    """NeuPIMs Alg. 3: per channel, the first half of its requests to sub-batch 1 and the rest
    to sub-batch 2; odd counts alternate which half gets the extra request."""
    per: list[list[int]] = [[] for _ in range(channels)]
    for i, ch in enumerate(assign):
        per[ch].append(i)
    sb1: list[int] = []
    sb2: list[int] = []
    turn = True
    for reqs in per:
        half = len(reqs) / 2
        if len(reqs) % 2:
            k = math.ceil(half) if turn else math.floor(half)
            turn = not turn
        else:
            k = int(half)
        sb1 += reqs[:k]
        sb2 += reqs[k:]
    return sb1, sb2


# --------------------------------------------------------------------------- a PIM-only model


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    """Run the GEMV-like ops of a graph on the PIM device alone (weights resident in PIM).

    Decode attention ops (attention_qk/av/decode with q_len 1) map each sequence to one channel
    (round robin, all sequences at the op's kv_len); gemv ops map with `weight_gemv_programs`.
    Other ops raise ModelError: use ``cosim.system`` for an NPU + PIM system.
    """
    from cosim.hw.memory import energy_preset as _ep

    tm = spec.dram
    cf = closed_form(spec)
    clock = spec.clock_hz or tm.clock_hz
    energy = _ep(spec.memory)
    results = []
    for op in graph.ops:
        if op.kind in ATTENTION_KINDS and op.q_len <= 1:
            reqs = op.batch // max(1, op.kv_heads)
            part = {OpKind.ATTENTION_QK: "logit", OpKind.ATTENTION_AV: "attend"}.get(op.kind, "both")
            prog = attention_program(spec, op.kv_len, op.heads, op.head_dim, op.kv_heads, part)
            per_ch = [[] for _ in range(min(spec.channels, reqs))]
            for i, ch in enumerate(round_robin_channels(reqs, len(per_ch))):
                per_ch[ch].extend(prog)
                del i
        elif op.kind is OpKind.GEMV:
            per_ch = weight_gemv_programs(spec, op.K, op.N * op.batch)
        else:
            raise ModelError(f"{spec.name}: op {op.name!r} ({op.kind.value}) does not run on PIM alone")
        cycles, counts, macs = run_programs(spec, per_ch, cf)
        seconds = cycles / tm.clock_hz
        detail = memory_energy_j(counts, energy, seconds, spec.channels, pim_buffers=spec.dual_row_buffer)
        e = canonical_energy(detail)
        peak = spec.channels * tm.banks_per_channel * spec.multipliers_per_bank / _mac_gap_cycles(spec, tm)
        util = (macs * tm.banks_per_channel * spec.multipliers_per_bank) / (peak * cycles) if cycles else 0.0
        results.append(
            OpResult(
                op=op,
                cycles=math.ceil(seconds * clock),
                seconds=seconds,
                energy_j=math.fsum(e.values()),
                utilization=min(1.0, util),
                bound=Bound.MEMORY,
                unit="pim",
                energy_by_component_j=e,
                extra={"energy_detail_j": detail},
            )
        )
    area_mm2, area_comp, area_extra = area_fields(spec)
    return RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=tuple(results),
        clock_hz=clock,
        area_mm2=area_mm2,
        area_by_component_mm2=area_comp,
        extra=area_extra,
    )


def canonical_energy(detail: dict[str, float]) -> dict[str, float]:
    """`cosim.hw.memory.memory_energy_j`'s command classes under the shared component names
    (`cosim.cost.Component`): ``pim`` = in-bank MACs (their bank reads included), ``static`` =
    background power x time, ``dram`` = everything else (activations, refresh, reads, writes,
    result reads, vector-buffer loads)."""
    static = ("dram_background", "pim_background")
    return {
        "pim": detail.get("pim_mac", 0.0),
        "dram": math.fsum(v for k, v in detail.items() if k != "pim_mac" and k not in static),
        "static": math.fsum(detail.get(k, 0.0) for k in static),
    }


def run_programs(
    spec: Spec, per_channel: Sequence[Sequence[ProgramItem]], cf: ClosedForm | None = None
) -> tuple[int, MemoryCounts, int]:
    """Time of the slowest channel (fast or event mode per ``spec.mode``), command counts
    (refreshes included) and MAC commands, for per-channel PIM programs."""
    cf = cf or closed_form(spec)
    tm = spec.dram
    if spec.mode is SimMode.EVENT:
        res = simulate_channels(spec, per_channel, record_trace=False)
        cycles = res.end_cycle
        refs = sum(s.refreshes for s in res.stats)
    else:
        cycles, refs = 0, 0
        for prog in per_channel:
            c, r = fast_channel_cycles(spec, prog, cf)
            cycles = max(cycles, c)
            refs += r
    macs = 0
    act = wr = mba = rdres = gw = 0
    for prog in per_channel:
        k = program_counts(spec, prog)
        act, wr, mba, rdres, gw = act + k.act, wr + k.wr, mba + k.mac_bank_ops, rdres + k.rdres, gw + k.gwrite_bursts
        macs += program_macs(spec, prog)
    del tm
    return cycles, MemoryCounts(act=act, wr=wr, ref=refs, mac_bank_ops=mba, rdres=rdres, gwrite_bursts=gw), macs


def peak_mac_lanes_per_cycle(spec: Spec) -> float:
    """PIM peak: multiplier lanes busy per cycle over all channels at the MAC gap."""
    tm = spec.dram
    return spec.channels * tm.banks_per_channel * spec.multipliers_per_bank / _mac_gap_cycles(spec, tm)


# --------------------------------------------------------------------------- area


def area(spec: Spec) -> UnitArea:
    """Area of the in-bank GEMV unit (``rtl/pim_gemv``, yosys) at the DRAM node, and as a fraction
    of a bank, with one vector buffer per channel as this model has it (`cosim.hw.pim_unit`).

    Raises:
        ModelError: no recorded synthesis of this unit configuration, or no die area for the memory.
    """
    from cosim.hw import pim_unit

    return pim_unit.area(spec)


def area_fields(spec: Spec) -> tuple[float | None, dict[str, float], dict[str, object]]:
    """(total added logic mm^2, by component, extra fields) for a RunResult: every bank's
    datapath plus one buffer per channel (component ``pim``; the split is in ``pim_area``); the
    bank fraction beside the published overheads.
    Where the area is unknown: (None, {}, {"pim_area_note": why})."""
    from cosim.hw import pim_unit

    try:
        a = area(spec)
    except ModelError as e:
        return None, {}, {"pim_area_note": str(e)}
    banks = spec.dram.banks_per_channel * spec.channels
    total = a.datapath_mm2 * banks + a.buffer_mm2 * spec.channels
    extra: dict[str, object] = {
        "pim_unit_bank_fraction": a.bank_fraction,
        "pim_area": a.to_dict(),
        "pim_area_published": [asdict(p) for p in pim_unit.PUBLISHED_AREA],
    }
    return total, {"pim": total}, extra


def check_spec(spec: Spec, where: str = "pim") -> None:
    """Reject combinations the model cannot represent."""
    tm = spec.dram
    if spec.bank_access_bits > tm.row_bytes * 8:
        raise SpecError(f"{where}: bank_access_bits {spec.bank_access_bits} exceeds a row ({tm.row_bytes * 8} bits)")
    if (tm.row_bytes * 8) % (spec.multipliers_per_bank * spec.operand_bits):
        raise SpecError(
            f"{where}: multipliers_per_bank x operand_bits ({spec.multipliers_per_bank * spec.operand_bits}) "
            f"must divide a row ({tm.row_bytes * 8} bits)"
        )


__all__ = [
    "COVERAGE",
    "Activation",
    "ChannelStats",
    "ClosedForm",
    "Cmd",
    "Command",
    "EventResult",
    "MacGap",
    "MemBurst",
    "OperandFormat",
    "ProgramItem",
    "Scope",
    "SimMode",
    "Spec",
    "TileShape",
    "TileTiming",
    "TileTrace",
    "TimingEntry",
    "TimingTable",
    "VectorLoad",
    "area",
    "area_fields",
    "attention_program",
    "canonical_energy",
    "check_spec",
    "closed_form",
    "energy_preset",
    "fast_channel_cycles",
    "gemv_tile_trace",
    "greedy_channels",
    "peak_mac_lanes_per_cycle",
    "program_counts",
    "program_macs",
    "round_robin_channels",
    "run_programs",
    "simulate",
    "simulate_channels",
    "split_sub_batches",
    "timing_table",
    "weight_gemv_programs",
]
