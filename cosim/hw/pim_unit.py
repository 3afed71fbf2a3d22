"""The in-bank PIM GEMV unit (``rtl/pim_gemv``): its RTL parameters from a PIM spec, its yosys
area, and that area as a fraction of a DRAM bank beside the overheads published for HBM-PIM.

What the RTL is (see ``rtl/pim_gemv/pim_gemv.sv``): per bank, LANES multipliers fed by one column
burst of the PIM row buffer and one entry of an operand (vector) buffer, a pairwise adder tree
with ADDER_TREE_CYCLES - 1 pipeline registers, an accumulator drained by a result read.  It keeps
the pace `cosim.hw.pim` assumes: a MAC every cycle (the model needs one per MAC gap), the sum in
the accumulator ``adder_tree_cycles`` after the MAC.  Integer (INT8/INT16, exact accumulator) and
FP16 datapaths (the format of NeuPIMs and Aquabolt-XL; every product, tree node and accumulation
rounded to binary16, RNE with subnormals flushed, by the rtl/lut_tc FP16 operators).

Area accounting, stated so it can be checked by hand (`unit_area`):

1. yosys 0.23 synthesises the unit and its operand buffer to generic CMOS gates
   (`yosys_stat_noshare`: `cosim.synth.cell_stat` without resource sharing, ``synth -flatten``,
   ``abc -g cmos2``, transistors from yosys's CMOS cost table); the datapath is the unit minus
   its buffer.
2. Transistors -> mm^2 with the cost library's yosys-calibrated hook
   (`cosim.cost.synth_area_mm2`: transistors / 4 NAND2-equivalents x the node's NAND2 area /
   0.7 placement utilisation) at ``logic_node`` (20 nm: the DRAM process of Samsung's HBM2-PIM,
   Kwon et al. ISSCC 2021 paper 25.4, "A 20nm 6GB Function-In-Memory DRAM ...").
3. DRAM logic is slow and large: a DRAM process has few metal layers and transistors built for
   retention, not speed.  We multiply the logic-process area by ``dram_logic_area_factor`` = 10
   ("the DRAM process has roughly 10x lower transistor density and fewer metal layers for routing
   compared to CMOS at the same technology node", Chen et al., P3-LLM, arXiv 2511.06838, §II-B).
4. A bank's area is its share of the DRAM die by capacity: die area x bank bits / die bits
   (`DRAM_DIES`).  The fraction = (datapath + buffer / banks sharing it) / bank area.  The model
   (`cosim.hw.pim`) has one vector buffer per channel (NeuPIMs' global buffer), so by default the
   buffer is shared by the channel's banks.

The cycle time is not checked: the unit runs at the memory command clock (1 GHz for HBM2) in
the timing model, and nothing here proves a DRAM-process adder tree closes timing there; a deeper
``adder_tree_cycles`` (the RTL and the model both take it) is the knob for that.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cosim import cost
from cosim.errors import ModelError, SpecError
from cosim.golden import pim_acc_bits
from cosim.rtl import rtl_sources
from cosim.synth import SynthStat, cell_stat

if TYPE_CHECKING:
    from cosim.hw.pim import Spec as PimSpec

# RTL sources of the unit; the FP16 operators come from the LUT Tensor Core RTL (bit-exact vs
# cosim.golden's FP16 references there and here).
UNIT_SOURCES = (
    "lut_tc/fp16_add.sv",
    "lut_tc/fp16_mul.sv",
    "pim_gemv/pim_vbuf.sv",
    "pim_gemv/pim_dot.sv",
    "pim_gemv/pim_gemv.sv",
)
BUFFER_SOURCES = ("pim_gemv/pim_vbuf.sv",)

# Chen et al., "P3-LLM", arXiv 2511.06838 (2025), §II-B: DRAM-process logic has ~10x lower
# transistor density than a logic process at the same node (fewer metal layers for routing).
DRAM_LOGIC_AREA_FACTOR = 10.0
# Samsung HBM2-PIM is built in a 20 nm DRAM process (Kwon et al., ISSCC 2021, paper 25.4 title).
DRAM_LOGIC_NODE = "20nm"


@dataclass(frozen=True)
class DramDie:
    """One DRAM die of a memory standard: capacity and area (for a bank's share of the die)."""

    standard: str
    bits: int
    area_mm2: float
    source: str


DRAM_DIES: dict[str, DramDie] = {
    # JEDEC HBM2 (JESD235A) known-good stacked die footprint 7.75 mm x 11.87 mm = 92 mm^2 per 8 Gb
    # die (AnandTech, "JEDEC Publishes HBM2 Specification", Jan 2016).  The die cannot exceed the
    # footprint: a smaller die means smaller banks and a larger fraction than we report.
    "HBM2": DramDie("HBM2", 8 << 30, 7.75 * 11.87, "JESD235A KGSD footprint 7.75 x 11.87 mm, 8 Gb die"),
}


@dataclass(frozen=True)
class PublishedOverhead:
    """An area overhead published for an HBM/GDDR-PIM design, with what it is a fraction of."""

    design: str
    low: float
    high: float
    of: str
    what: str
    source: str


PUBLISHED_AREA: tuple[PublishedOverhead, ...] = (
    PublishedOverhead(
        "Samsung HBM-PIM (Aquabolt-XL)",
        0.20,
        0.25,
        "DRAM die",
        "FP16 16-lane SIMD PCU (+ register files) per 2 banks, 20 nm DRAM",
        "Lee et al., ISCA 2021 (industrial product), as summarised by Duplex (Yun et al., MICRO 2024, §IV-B)",
    ),
    PublishedOverhead(
        "SK hynix GDDR6-AiM (Newton's product)",
        0.27,
        0.27,
        "DRAM die",
        "BF16 16-multiplier MAC + adder tree per bank, 1y nm DRAM",
        "Lee et al., ISSCC 2022, as summarised by Duplex (Yun et al., MICRO 2024, §IV-B)",
    ),
    PublishedOverhead(
        "NeuPIMs dual row buffer",
        0.0311,
        0.0311,
        "memory (CACTI 7.0, 22 nm)",
        "the second (PIM) row buffer only; the Newton PIM units themselves are not costed",
        "Heo et al., ASPLOS 2024, §8.2 'Area overhead'",
    ),
)
# Newton (He et al., MICRO 2020) gives no area figure in the text sources we could read; AiM is its
# silicon.


@dataclass(frozen=True)
class UnitParams:
    """Parameters of one ``rtl/pim_gemv`` instance.

    ``buffer_depth`` entries of ``lanes`` operands: a DRAM row's worth of the vector, so the
    longest reduction (one result over a whole row) is lanes x buffer_depth products, which
    sets ``acc_bits`` (`cosim.golden.pim_acc_bits`; 16 for FP16).
    """

    lanes: int = 16
    operand_bits: int = 16
    buffer_depth: int = 32
    adder_tree_cycles: int = 2
    fp16: bool = False

    def __post_init__(self) -> None:
        where = "pim_gemv"
        if isinstance(self.lanes, bool) or not isinstance(self.lanes, int) or self.lanes < 1:
            raise SpecError(f"{where}: lanes must be an integer >= 1, got {self.lanes!r}")
        if self.lanes & (self.lanes - 1):
            raise SpecError(f"{where}: lanes must be a power of two (pairwise adder tree), got {self.lanes}")
        if self.fp16:
            if self.operand_bits != 16:
                raise SpecError(f"{where}: fp16 needs operand_bits 16, got {self.operand_bits}")
        elif not isinstance(self.operand_bits, int) or not 2 <= self.operand_bits <= 32:
            raise SpecError(f"{where}: operand_bits must be an integer in [2, 32], got {self.operand_bits!r}")
        if not isinstance(self.buffer_depth, int) or self.buffer_depth < 2:
            raise SpecError(f"{where}: buffer_depth must be an integer >= 2, got {self.buffer_depth!r}")
        if not isinstance(self.adder_tree_cycles, int) or self.adder_tree_cycles < 1:
            raise SpecError(f"{where}: adder_tree_cycles must be an integer >= 1, got {self.adder_tree_cycles!r}")

    @property
    def acc_bits(self) -> int:
        return 16 if self.fp16 else pim_acc_bits(self.operand_bits, self.lanes * self.buffer_depth)

    @property
    def burst_bits(self) -> int:
        return self.lanes * self.operand_bits

    def rtl_parameters(self) -> dict[str, int]:
        """The HDL parameters of ``pim_gemv`` (one place: benches and synthesis use these)."""
        return {
            "LANES": self.lanes,
            "W": self.operand_bits,
            "FP16": int(self.fp16),
            "BUF_DEPTH": self.buffer_depth,
            "ADDER_TREE_CYCLES": self.adder_tree_cycles,
            "ACC_W": self.acc_bits,
        }


def unit_params(spec: PimSpec, *, fp16: bool | None = None) -> UnitParams:
    """The unit a PIM spec describes: lanes = multipliers per bank, a row's worth of buffer.

    ``fp16`` defaults to the spec's ``operand_format`` (``fp`` at 16 bits is FP16).

    Raises:
        ModelError: a spec whose unit the RTL cannot build (FP at other than 16 bits, lanes not a
            power of two, a burst that does not divide a row): the timing model still runs.
    """
    lanes = spec.multipliers_per_bank
    if fp16 is None:
        fp16 = spec.operand_format == "fp"
    if fp16 and spec.operand_bits != 16:
        raise ModelError(f"{spec.name}: operand_format fp with operand_bits {spec.operand_bits}: the RTL has FP16 only")
    row_bits = spec.dram.row_bytes * 8
    if row_bits % (lanes * spec.operand_bits):
        raise ModelError(f"{spec.name}: multipliers_per_bank x operand_bits must divide a row ({row_bits} bits)")
    try:
        return UnitParams(
            lanes=lanes,
            operand_bits=spec.operand_bits,
            buffer_depth=row_bits // (lanes * spec.operand_bits),
            adder_tree_cycles=spec.adder_tree_cycles,
            fp16=fp16,
        )
    except SpecError as e:
        raise ModelError(f"{spec.name}: the RTL cannot build this unit: {e}") from None


# ----------------------------------------------------------------------------- synthesis


@dataclass(frozen=True)
class UnitSynth:
    """Transistor counts of the unit (with its buffer) and of the buffer alone."""

    unit_transistors: int
    buffer_transistors: int

    @property
    def datapath_transistors(self) -> int:
        return self.unit_transistors - self.buffer_transistors


# yosys's SAT-based resource sharing (`share`, part of `synth`) grows superlinearly on the FP16
# tree (measured: 8 lanes 3.8 GB / 109 s with it, 0.18 GB / 16 s without, same netlist size; 16
# lanes was OOM-killed at 22 GB).  Every multiplier and adder of the unit works every cycle, so
# there is nothing to share: `-noshare` changes no count.  The memory cap protects a shared machine.
YOSYS_MEMORY_LIMIT_BYTES = 8 << 30


def yosys_stat_noshare(sources: list[Path], top: str, params: dict[str, int], *, timeout_s: int = 1800) -> SynthStat:
    """`cosim.synth.cell_stat` without resource sharing and under `YOSYS_MEMORY_LIMIT_BYTES`."""
    return cell_stat(
        sources, top, params, share=False, memory_limit_bytes=YOSYS_MEMORY_LIMIT_BYTES, timeout_s=timeout_s
    )


def synthesize(params: UnitParams, *, timeout_s: int = 1800) -> UnitSynth:
    """Synthesise ``pim_gemv`` and ``pim_vbuf`` with yosys (`yosys_stat_noshare`, cached).

    When ``cosim synth`` lands on main this becomes ``cosim synth pim_gemv --param K=V``.

    Raises:
        SpecError: yosys is not installed.
        ModelError: yosys failed or timed out.
    """
    unit = yosys_stat_noshare(rtl_sources(*UNIT_SOURCES), "pim_gemv", params.rtl_parameters(), timeout_s=timeout_s)
    buf = yosys_stat_noshare(
        rtl_sources(*BUFFER_SOURCES),
        "pim_vbuf",
        {"DEPTH": params.buffer_depth, "WIDTH": params.burst_bits},
        timeout_s=timeout_s,
    )
    return UnitSynth(unit.transistors, buf.transistors)


# Recorded `synthesize` results (yosys 0.23, this RTL), so the timing model reports area without
# running yosys.  tests/hw/test_pim_unit.py re-synthesises each entry and fails if one is stale.
# Regenerate with:  python -m cosim.hw.pim_unit --synth
RECORDED_SYNTH: dict[UnitParams, UnitSynth] = {
    # NeuPIMs geometry (16 multipliers, 1 KB rows, 2-cycle adder tree), FP16 as NeuPIMs has it
    UnitParams(16, 16, 32, 2, fp16=True): UnitSynth(unit_transistors=530_502, buffer_transistors=329_930),
    # the same with INT16 operands (41-bit accumulator)
    UnitParams(16, 16, 32, 2, fp16=False): UnitSynth(unit_transistors=620_278, buffer_transistors=329_930),
    # INT8: 32 multipliers fill the 256-bit burst (26-bit accumulator)
    UnitParams(32, 8, 32, 2, fp16=False): UnitSynth(unit_transistors=478_084, buffer_transistors=329_930),
}


# ----------------------------------------------------------------------------- area


@dataclass(frozen=True)
class UnitArea:
    """The unit's area at a DRAM node and as a fraction of one bank (see module docstring).

    ``source`` says where the counts came from: ``yosys`` (a synthesis of this unit), ``yosys-
    calibrated`` (`calibrated_synth`: the cost-library build-up scaled to a recorded synthesis of
    the same format) or ``table`` (the cost-library build-up, `table_area_mm2`; no transistors)."""

    params: UnitParams
    memory: str
    logic_node: str
    dram_logic_area_factor: float
    banks_per_buffer: int
    datapath_transistors: int
    buffer_transistors: int
    datapath_mm2: float  # per bank
    buffer_mm2: float  # one operand buffer
    bank_mm2: float
    source: str = "yosys"

    @property
    def per_bank_mm2(self) -> float:
        """Datapath plus this bank's share of the operand buffer."""
        return self.datapath_mm2 + self.buffer_mm2 / self.banks_per_buffer

    @property
    def bank_fraction(self) -> float:
        return self.per_bank_mm2 / self.bank_mm2

    @property
    def private_buffer_fraction(self) -> float:
        """The fraction if every bank had its own buffer (Samsung HBM-PIM's register files)."""
        return (self.datapath_mm2 + self.buffer_mm2) / self.bank_mm2

    def to_dict(self) -> dict[str, object]:
        return {
            "lanes": self.params.lanes,
            "operand": "fp16" if self.params.fp16 else f"int{self.params.operand_bits}",
            "adder_tree_cycles": self.params.adder_tree_cycles,
            "acc_bits": self.params.acc_bits,
            "memory": self.memory,
            "logic_node": self.logic_node,
            "dram_logic_area_factor": self.dram_logic_area_factor,
            "datapath_transistors": self.datapath_transistors,
            "buffer_transistors": self.buffer_transistors,
            "datapath_mm2": self.datapath_mm2,
            "buffer_mm2": self.buffer_mm2,
            "banks_per_buffer": self.banks_per_buffer,
            "per_bank_mm2": self.per_bank_mm2,
            "bank_mm2": self.bank_mm2,
            "bank_fraction": self.bank_fraction,
            "private_buffer_fraction": self.private_buffer_fraction,
            "source": self.source,
        }


def bank_area_mm2(memory: str, bank_bits: int) -> float:
    """A bank's share of its DRAM die: die area x bank bits / die bits.

    Raises:
        ModelError: no die area is recorded for `memory` (only HBM2 has a sourced one).
    """
    die = DRAM_DIES.get(memory)
    if die is None:
        raise ModelError(
            f"pim area: no sourced die area for {memory!r} (have: {', '.join(DRAM_DIES)}); "
            "add one to cosim.hw.pim_unit.DRAM_DIES"
        )
    if bank_bits < 1:
        raise ModelError(f"pim area: bank_bits must be >= 1, got {bank_bits}")
    return die.area_mm2 * bank_bits / die.bits


def unit_area(
    params: UnitParams,
    synth: UnitSynth,
    *,
    memory: str,
    bank_bits: int,
    banks_per_buffer: int,
    logic_node: str = DRAM_LOGIC_NODE,
    dram_logic_area_factor: float = DRAM_LOGIC_AREA_FACTOR,
) -> UnitArea:
    """Area of the unit from its transistor counts (module docstring, steps 2-4).

    Raises:
        SpecError: unknown node, factor < 1, banks_per_buffer < 1, counts inconsistent.
    """
    if not dram_logic_area_factor >= 1.0:
        raise SpecError(f"pim area: dram_logic_area_factor must be >= 1, got {dram_logic_area_factor!r}")
    if banks_per_buffer < 1:
        raise SpecError(f"pim area: banks_per_buffer must be >= 1, got {banks_per_buffer!r}")
    if not 0 <= synth.buffer_transistors < synth.unit_transistors:
        raise SpecError(f"pim area: buffer transistors must be in [0, unit transistors), got {synth}")
    t = cost.cost_table(logic_node)

    def mm2(transistors: int) -> float:
        return t.synth_area_mm2(transistors=transistors) * dram_logic_area_factor

    return UnitArea(
        params=params,
        memory=memory,
        logic_node=t.name,
        dram_logic_area_factor=dram_logic_area_factor,
        banks_per_buffer=banks_per_buffer,
        datapath_transistors=synth.datapath_transistors,
        buffer_transistors=synth.buffer_transistors,
        datapath_mm2=mm2(synth.datapath_transistors),
        buffer_mm2=mm2(synth.buffer_transistors),
        bank_mm2=bank_area_mm2(memory, bank_bits),
    )


def table_area_mm2(params: UnitParams, node: str = DRAM_LOGIC_NODE) -> tuple[float, float]:
    """(datapath, buffer) area of the unit built from cost-library parts at `node`, in a logic
    process (mm^2).  Datapath: ``lanes`` multipliers of the operand format, a ``lanes - 1``-adder
    tree and the accumulator adder at the accumulator width (an upper bound for integer trees,
    whose first levels are narrower), the accumulator register, and ``adder_tree_cycles - 1``
    pipeline registers of ``lanes / 2`` partial sums each.  Buffer: a flip-flop register file of
    ``buffer_depth`` entries of one burst (`cost.regfile_area_mm2`)."""
    t = cost.cost_table(node)
    fmt = "fp" if params.fp16 else "int"
    b, acc, lanes = params.operand_bits, params.acc_bits, params.lanes
    datapath = (
        lanes * cost.mult_area_mm2(t.node, fmt, b)
        + lanes * cost.add_area_mm2(t.node, fmt, acc)
        + t.register_area_mm2(acc)
        + (params.adder_tree_cycles - 1) * t.register_area_mm2(max(1, lanes // 2) * acc)
    )
    return datapath, t.regfile_area_mm2(params.buffer_depth, params.burst_bits)


def calibrated_synth(params: UnitParams) -> tuple[UnitSynth, UnitParams]:
    """Transistor counts of a unit nobody synthesised: the cost-library build-up (`table_area_mm2`)
    scaled, part by part, to the recorded synthesis of the nearest unit of the same format (FP16,
    or integers of the nearest width, then the nearest lane count).  Returns (counts, reference)."""
    same = [p for p in RECORDED_SYNTH if p.fp16 == params.fp16]
    if not same:
        raise ModelError(f"pim area: no recorded synthesis of a {'fp16' if params.fp16 else 'int'} unit to calibrate")
    ref = min(
        same,
        key=lambda p: (
            abs(p.operand_bits - params.operand_bits),
            abs(math.log2(p.lanes / params.lanes)),
            abs(p.adder_tree_cycles - params.adder_tree_cycles),
            abs(p.buffer_depth - params.buffer_depth),
        ),
    )
    rs = RECORDED_SYNTH[ref]
    dp, buf = table_area_mm2(params)
    dp_ref, buf_ref = table_area_mm2(ref)
    buf_t = round(rs.buffer_transistors * buf / buf_ref)
    dp_t = round(rs.datapath_transistors * dp / dp_ref)
    return UnitSynth(unit_transistors=dp_t + buf_t, buffer_transistors=buf_t), ref


def area(spec: PimSpec, *, fp16: bool | None = None, synth: UnitSynth | None = None) -> UnitArea:
    """The area of `spec`'s unit (one vector buffer per channel, as the timing model has it).

    ``spec.area_source``: ``yosys`` uses `RECORDED_SYNTH` (or `synth` when given), and for a unit
    not recorded the yosys-calibrated build-up (`calibrated_synth`); ``table`` uses the
    cost-library build-up (`table_area_mm2`) alone.

    Raises:
        ModelError: a unit the RTL cannot build, or no sourced die area for the memory.
    """
    p = unit_params(spec, fp16=fp16)
    tm = spec.dram
    where = {
        "memory": spec.memory,
        "bank_bits": tm.rows * tm.row_bytes * 8,
        "banks_per_buffer": tm.banks_per_channel,
        "logic_node": spec.logic_node,
        "dram_logic_area_factor": spec.dram_logic_area_factor,
    }
    if synth is None and getattr(spec, "area_source", "yosys") == "table":
        return unit_area_table(p, **where)  # type: ignore[arg-type]
    source = "yosys"
    s = synth or RECORDED_SYNTH.get(p)
    if s is None:
        s, ref = calibrated_synth(p)
        source = f"yosys-calibrated (cost-library build-up scaled to the synthesis of {ref})"
    return replace(unit_area(p, s, **where), source=source)  # type: ignore[arg-type]


def unit_area_table(
    params: UnitParams,
    *,
    memory: str,
    bank_bits: int,
    banks_per_buffer: int,
    logic_node: str = DRAM_LOGIC_NODE,
    dram_logic_area_factor: float = DRAM_LOGIC_AREA_FACTOR,
) -> UnitArea:
    """`unit_area` from the cost-library build-up instead of transistor counts (``source: table``).

    Raises:
        SpecError: unknown node, factor < 1, banks_per_buffer < 1.
        ModelError: no sourced die area for the memory.
    """
    if not dram_logic_area_factor >= 1.0:
        raise SpecError(f"pim area: dram_logic_area_factor must be >= 1, got {dram_logic_area_factor!r}")
    if banks_per_buffer < 1:
        raise SpecError(f"pim area: banks_per_buffer must be >= 1, got {banks_per_buffer!r}")
    dp, buf = table_area_mm2(params, logic_node)
    return UnitArea(
        params=params,
        memory=memory,
        logic_node=cost.get_node(logic_node).name,
        dram_logic_area_factor=dram_logic_area_factor,
        banks_per_buffer=banks_per_buffer,
        datapath_transistors=0,
        buffer_transistors=0,
        datapath_mm2=dp * dram_logic_area_factor,
        buffer_mm2=buf * dram_logic_area_factor,
        bank_mm2=bank_area_mm2(memory, bank_bits),
        source="table",
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m cosim.hw.pim_unit [--synth]``: the unit's area for the NeuPIMs geometry
    (FP16, INT16, INT8), synthesising with yosys if ``--synth`` (else the recorded counts)."""
    import argparse
    import time
    from dataclasses import replace

    from cosim.hw.pim import Spec

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--synth", action="store_true", help="run yosys (cached) instead of the recorded counts")
    args = ap.parse_args(argv)
    base = Spec()
    specs = [
        ("fp16", replace(base, operand_format="fp")),
        ("int16", replace(base, operand_format="int")),
        ("int8", replace(base, operand_format="int", operand_bits=8, multipliers_per_bank=32)),
    ]
    for label, s in specs:
        p = unit_params(s)
        t0 = time.perf_counter()
        syn = synthesize(p) if args.synth else RECORDED_SYNTH.get(p)
        if syn is None:
            print(f"{label}: no recorded synthesis; run with --synth")
            continue
        a = area(s, synth=syn)
        print(f"{label}: {p} -> {syn} ({time.perf_counter() - t0:.1f} s)")
        print("  " + json.dumps(a.to_dict()))
    return 0


__all__ = [
    "BUFFER_SOURCES",
    "DRAM_DIES",
    "DRAM_LOGIC_AREA_FACTOR",
    "DRAM_LOGIC_NODE",
    "PUBLISHED_AREA",
    "RECORDED_SYNTH",
    "UNIT_SOURCES",
    "YOSYS_MEMORY_LIMIT_BYTES",
    "DramDie",
    "PublishedOverhead",
    "UnitArea",
    "UnitParams",
    "UnitSynth",
    "area",
    "bank_area_mm2",
    "calibrated_synth",
    "synthesize",
    "table_area_mm2",
    "unit_area",
    "unit_area_table",
    "unit_params",
    "yosys_stat_noshare",
]

if __name__ == "__main__":
    raise SystemExit(main())
