"""LUT Tensor Core (Mo et al., ISCA'25, arXiv 2408.06003) and a MAC/dequantization tensor-core
baseline on the same GPU-like memory system: a tile-level roofline cycle model.

What it models, per op of a `WorkloadGraph`:

* **LUT datapath** (``datapath: lut``).  Each tensor core holds ``arrays_per_tensor_core`` LUT
  arrays of tile ``lut_m x lut_n x lut_k`` (paper default M2 N64 K4, §4.2).  One LMMA instruction
  multiplies an lut_m x lut_k activation tile by an lut_k x lut_n weight tile and takes W_BIT
  cycles (bit-serial over the weight bits, paper §4.1); `lmma_cycles`.  A GEMM is split into
  threadblock tiles of ``tb_m x tb_n`` (one per SM at a time, waves over ``num_sms``), each tile
  walks K in steps of lut_k (`tile_cycles`).  An array that streams k-steps back to back pays its
  pipeline fill once per tile (`array_sequence_cycles`; the RTL in ``rtl/lut_tc`` is checked
  against this).
* **Table precompute** (paper §3.1.1): per activation row and group of lut_k activations,
  2^(lut_k-1) entries (symmetric tables), built with 2^(lut_k-1) + lut_k - 2 adds (first entry
  lut_k-1 adds, every other entry one add in Gray-code order).  Tables are computed once per
  activation tensor and shared by every GEMM reading it (q/k/v, gate/up).  ``precompute``:
  ``fused`` runs it inside the producing element-wise/norm kernel (extra adds on the vector
  units, tables written instead of activations); when the producer is not element-wise (e.g.
  attention output) it falls back to ``separate``: a kernel that reads the activations and
  writes the tables; ``none`` charges nothing (the paper's "Welder" column of Table 4).
* **MAC datapath** (``datapath: mac``): tensor cores at the operand precision's MAC rate
  (the wider of activations and weights)
  (A100: 256 FP16 / 512 INT8 / 128 TF32 MACs per cycle per tensor core), instruction tile
  ``mac_m x mac_n``.  Weights narrower than the activations are dequantized on the vector units,
  once per threadblock row-tile that reads them (``dequant_ops_per_weight`` each), in series with
  the tensor-core work (they share the SM's issue slots).
* **Memory**: compulsory DRAM traffic (weights at their stored width, activations or tables,
  outputs), overlapped with compute: time = max(compute, memory) per op; L2 is assumed to
  capture all reuse across threadblocks.  On-chip operand (register/shared) bandwidth is not a
  limit; tables and weights per LMMA are counted (``operand_bytes``) but their energy is inside
  the array energy (paper Table 2 measures the whole array).
* **Vector units**: non-GEMM ops (norm, softmax, element-wise...), roofline at
  ``vector_flops_per_sm_cycle``.  GEMM-like ops the LUT arrays cannot run, activation x
  activation (attention) and weights wider than ``max_lut_weight_bits`` (an FP16 lm_head), go
  to ``other_gemm_unit``: MAC tensor cores kept beside the arrays (default; the paper's Table 1
  areas count the LUT arrays only), or the vector units for a LUT-only design.

Energy is (event counts) x (per-event energy) from `CostTable`, under the shared component
names (`cosim.cost.Component`): ``lut`` (LUT arrays), ``mac`` (MAC tensor cores), ``vector``
(CUDA cores: dequantization, table precompute, non-GEMM ops), ``dram``.  Area is the tensor-core
area only (``lut``: LUT arrays; ``mac``: the MAC tensor cores, present on a MAC design or kept
beside the LUT arrays when ``other_gemm_unit: mac``), not the die, as the paper's Table 1 counts
it; the scope has no on-chip SRAM.  With ``die_area_mm2`` (the host GPU's published die at
``tech_node``) the area is that die with its MAC tensor cores replaced by this design's
(component ``die`` = the rest of the die), and ``static_power_w`` adds idle power x time.
LUT-array energy/area and the MAC tensor-core area are the paper's figures at its 28 nm
normalisation; MAC, vector-unit and DRAM energies come from the shared cost library
(`cosim.cost`).  ``tech_node`` moves all of them but DRAM from 28 nm to another node with the
cost library's scaling rule (`costs`).
Assumptions beyond the paper are marked ASSUMPTION next to the constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from functools import lru_cache

from cosim import cost
from cosim.errors import ModelError, SpecError
from cosim.golden import table_entry_bits
from cosim.graph import Op, OpKind, WorkloadGraph
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.spec import doc_field

# Per-event energies of the MAC baseline, the vector units and DRAM come from the shared cost
# library (cosim.cost: Horowitz ISSCC 2014 at 45 nm, scaled to 28 nm by Stillmaker & Baas 2017;
# HBM2 from O'Connor et al., MICRO 2017), at the paper's 28 nm normalisation node.
_NODE = "28nm"


class Datapath(StrEnum):
    """Which tensor-core datapath runs the GEMMs."""

    LUT = "lut"
    MAC = "mac"


class OtherUnit(StrEnum):
    """Where a LUT-datapath system runs GEMM-like ops the LUT arrays cannot (attention, wide weights)."""

    MAC = "mac"  # MAC tensor cores kept beside the LUT arrays (their area is reported separately)
    VECTOR = "vector"  # the SM's vector units (CUDA cores): a LUT-only design


class Precompute(StrEnum):
    """Where LUT tables are built (paper §3.1.1, Table 4)."""

    FUSED = "fused"  # inside the producing element-wise op (falls back to separate if none)
    SEPARATE = "separate"  # its own kernel: read activations, write tables
    NONE = "none"  # not charged (the paper's Welder baseline column)


@dataclass(frozen=True)
class CostTable:
    """Per-event energies and unit areas at ``node`` (28 nm: the paper's normalisation node)."""

    node: str = doc_field(_NODE, doc="technology node the figures below are at")

    lut_array_area_um2_int: float = doc_field(
        11_991.29,  # Table 2, last row (LUT Tensor Core, W_INT2 A_INT8, M·N·K = 512 array)
        doc="M2N64K4 LUT array area, integer activations, µm²",
        gt=0,
    )
    lut_array_energy_j_per_cycle_int: float = doc_field(
        16.22e-12,  # Table 2: 16.22 mW at 1 GHz (28 nm, 1 GHz DC synthesis) -> 16.22 pJ/cycle
        doc="energy per busy cycle of one M2N64K4 LUT array, integer activations, J",
        gt=0,
    )
    lut_array_area_um2_fp: float = doc_field(
        16_637.0,  # DERIVED from Fig. 12: LUT DP4 W_INT1 A_FP16 61.55 TFLOPs/mm² at 1 GHz; an
        # M2N64K4 array = 128 DP4 lookups = 1024 FLOP/cycle -> 1.024e12 / 61.55e12 mm²
        doc="M2N64K4 LUT array area, FP16 activations (FP16 tables, FP adders), µm²",
        gt=0,
    )
    lut_array_energy_j_per_cycle_fp: float = doc_field(
        16.22e-12 * 16_637.0 / 11_991.29,  # ASSUMPTION: INT array power scaled by the area ratio
        doc="energy per busy cycle of one M2N64K4 LUT array, FP16 activations, J",
        gt=0,
    )
    mac_tc_area_mm2_per_sm: float = doc_field(
        0.975,  # Table 1: A100 FP16 tensor cores, area per SM normalised to 28 nm
        doc="MAC tensor-core area per SM (all 4 tensor cores), mm²",
        gt=0,
    )
    mac_energy_j_16bit: float = doc_field(
        # FP16 multiply + FP16 accumulate: the paper's MAC DP4 and LUT RTL accumulate in FP16
        # (DesignWare DW_fp_add on 16-bit operands); with FP32 accumulation it would be 33% more.
        cost.mac_energy_j(_NODE, "fp", 16, acc_bits=16),
        doc="energy of one 16-bit (FP16) multiply-accumulate, J",
        gt=0,
    )
    mac_energy_j_8bit: float = doc_field(
        cost.mac_energy_j(_NODE, "int", 8, acc_bits=32),  # INT8 multiply, INT32 accumulate
        doc="energy of one 8-bit multiply with 32-bit accumulate, J",
        gt=0,
    )
    mac_energy_j_32bit: float = doc_field(
        cost.mac_energy_j(_NODE, "fp", 32),  # FP32 MAC: an upper bound for TF32
        doc="energy of one 32-bit (TF32/FP32) multiply-accumulate, J",
        gt=0,
    )
    vector_energy_j_per_op: float = doc_field(
        cost.add_energy_j(_NODE, "fp", 32),  # one FP32 add per vector op; datapath only
        doc="energy of one vector-unit (CUDA core) operation, J",
        gt=0,
    )
    dram_energy_j_per_byte: float = doc_field(
        cost.dram_energy_per_byte_j("hbm2"),  # A100's HBM2e priced as HBM2
        doc="DRAM (HBM) access energy per byte, J",
        gt=0,
    )
    unit_density_lut_dp4_w1_fp16_flops_per_mm2: float = doc_field(
        61.55e12,  # Fig. 12: LUT-based DP4, W_INT1 x A_FP16, 28 nm
        doc="compute density of the LUT DP4 unit (W1 x FP16), FLOP/s/mm²",
        gt=0,
    )
    unit_density_mac_dp4_fp16_flops_per_mm2: float = doc_field(
        3.39e12,  # Fig. 12: MAC-based DP4, W_FP16 x A_FP16, 28 nm
        doc="compute density of the MAC DP4 unit (FP16 x FP16), FLOP/s/mm²",
        gt=0,
    )


@dataclass(frozen=True)
class Spec:
    """A GPU-like accelerator whose tensor cores are LUT arrays or MAC units."""

    name: str
    datapath: Datapath = doc_field(Datapath.LUT, doc="lut: LUT arrays; mac: MAC tensor cores with dequantization")
    clock_hz: float = doc_field(1.41e9, doc="core clock (paper Table 1 normalises to 1.41 GHz)", gt=0)
    num_sms: int = doc_field(108, doc="streaming multiprocessors (A100: 108)", min=1)
    tensor_cores_per_sm: int = doc_field(4, doc="tensor cores per SM (A100: 4)", min=1)
    # --- LUT arrays (paper §4.2, Fig. 9 and 14)
    lut_m: int = doc_field(2, doc="LUT array tile M (activation rows = tables)", min=1)
    lut_n: int = doc_field(64, doc="LUT array tile N (weight columns sharing each table)", min=1)
    lut_k: int = doc_field(4, doc="LUT array tile K (activations per table; 2^(K-1) entries)", min=1, max=8)
    arrays_per_tensor_core: int = doc_field(1, doc="LUT arrays per tensor core (the paper's LUT-kX)", min=1)
    lut_pipeline_cycles: int = doc_field(1, doc="pipeline fill of an array per tile sequence (table register)", min=0)
    table_bits: int = doc_field(
        0, doc="bits per stored table entry; 0: activation width for float, exact width for int", min=0, max=32
    )
    max_lut_weight_bits: int = doc_field(8, doc="wider weights run on `other_gemm_unit`", min=1, max=16)
    other_gemm_unit: OtherUnit = doc_field(
        OtherUnit.MAC, doc="mac or vector: runs attention and wide-weight GEMMs on a LUT system"
    )
    precompute: Precompute = doc_field(Precompute.FUSED, doc="fused, separate or none (paper Table 4)")
    # --- MAC tensor cores (A100 whitepaper: 312 TFLOPS FP16, 624 TOPS INT8, 156 TFLOPS TF32 dense)
    mac_m: int = doc_field(16, doc="MAC instruction tile M (HMMA m16n8k16)", min=1)
    mac_n: int = doc_field(8, doc="MAC instruction tile N", min=1)
    macs_per_tc_cycle_8bit: int = doc_field(512, doc="8-bit MACs per tensor core per cycle", min=1)
    macs_per_tc_cycle_16bit: int = doc_field(256, doc="16-bit MACs per tensor core per cycle", min=1)
    macs_per_tc_cycle_32bit: int = doc_field(128, doc="TF32 MACs per tensor core per cycle", min=1)
    dequant_ops_per_weight: float = doc_field(
        3.0, doc="vector ops to dequantize one weight (unpack, subtract zero, scale); ASSUMPTION", min=0
    )
    # --- mapping and the rest of the SM
    tb_m: int = doc_field(128, doc="threadblock tile M (paper: W1A8 tile [128, 512, 32])", min=1)
    tb_n: int = doc_field(256, doc="threadblock tile N", min=1)
    min_split_k: int = doc_field(256, doc="split-K chunk floor when tiles < SMs; ASSUMPTION", min=1)
    vector_flops_per_sm_cycle: int = doc_field(
        128, doc="vector-unit ops per SM per cycle (A100: 64 FP32 FMA lanes x 2)", min=1
    )
    dram_bytes_per_s: float = doc_field(2.039e12, doc="DRAM bandwidth (A100 80GB SXM HBM2e: 2039 GB/s)", gt=0)
    kernel_launch_s: float = doc_field(0.0, doc="fixed time per kernel (op); 0 models a fused graph", min=0)
    cost: CostTable = field(default=CostTable())
    tech_node: str = doc_field(_NODE, doc="node energies and areas are reported at (cost.node scaled by cosim.cost)")
    die_area_mm2: float = doc_field(
        0.0,
        doc="published die area of the host GPU at tech_node; > 0: report the die with its MAC tensor cores "
        "replaced by this design's (0: tensor cores only, as the paper's Table 1)",
        min=0,
    )
    static_power_w: float = doc_field(0.0, doc="idle/static power of the whole part x time (0: not modelled)", min=0)
    description: str = ""

    def __post_init__(self) -> None:
        cost.get_node(self.tech_node)  # SpecError naming the allowed nodes
        cost.get_node(self.cost.node)
        if self.die_area_mm2 and self.die_area_mm2 <= self.num_sms * costs(self).mac_tc_area_mm2_per_sm:
            raise SpecError(
                f"die_area_mm2: {self.die_area_mm2} mm^2 does not exceed the MAC tensor cores it holds "
                f"({self.num_sms * costs(self).mac_tc_area_mm2_per_sm:.1f} mm^2 at {self.tech_node})"
            )
        if self.datapath is Datapath.LUT and (self.tb_m % self.lut_m or self.tb_n % self.lut_n):
            raise SpecError(
                f"tb_m x tb_n ({self.tb_m} x {self.tb_n}) must be multiples of the LUT tile "
                f"lut_m x lut_n ({self.lut_m} x {self.lut_n})"
            )

    @property
    def arrays_per_sm(self) -> int:
        return self.tensor_cores_per_sm * self.arrays_per_tensor_core

    @property
    def total_arrays(self) -> int:
        return self.num_sms * self.arrays_per_sm

    @property
    def total_tensor_cores(self) -> int:
        return self.num_sms * self.tensor_cores_per_sm


@lru_cache(maxsize=256)
def costs(spec: Spec) -> CostTable:
    """``spec.cost`` moved from its node to ``spec.tech_node`` with the cost library's scaling rule
    (`cosim.cost.TechNode.energy_from` / ``area_from``): energies x the energy factor, areas x the
    area factor, densities / the area factor; DRAM energy stays (set by the DRAM, not the logic node)."""
    c = spec.cost
    src, dst = cost.get_node(c.node), cost.get_node(spec.tech_node)
    if src == dst:
        return c
    e, a = dst.energy_from(src.feature_nm, src.vdd_v), dst.area_from(src.feature_nm)
    out = {}
    for f in fields(c):
        v = getattr(c, f.name)
        if f.name in ("node", "dram_energy_j_per_byte"):
            continue
        if "energy" in f.name:
            out[f.name] = v * e
        elif "area" in f.name:
            out[f.name] = v * a
        elif f.name.startswith("unit_density"):
            out[f.name] = v / a
    return replace(c, node=dst.name, **out)


# --------------------------------------------------------------------------- per-tile cycle model


def lmma_cycles(w_bits: int) -> int:
    """Cycles one LUT array is busy with one LMMA: one weight bit plane per cycle (paper §4.1)."""
    if w_bits < 1:
        raise ModelError(f"weight bits must be >= 1, got {w_bits}")
    return w_bits


def array_sequence_cycles(k_steps: int, w_bits: int, pipeline_cycles: int = 1) -> int:
    """Cycles for one array to run `k_steps` LMMAs back to back into one accumulator tile.

    The next step's table is built while the current one runs (double-buffered table register),
    so only the first table load is exposed: pipeline_cycles + k_steps * W_BIT.
    """
    if k_steps < 1:
        raise ModelError(f"k_steps must be >= 1, got {k_steps}")
    return pipeline_cycles + k_steps * lmma_cycles(w_bits)


def lut_weight_bits(op: Op) -> int:
    """Stored weight width the bit-serial array iterates over (ternary 1.58 -> 2)."""
    return math.ceil(op.weight_bits)


def _is_float(op: Op) -> bool:
    return op.dtype.startswith(("float", "bfloat", "half", "tf32"))


def table_entry_bits_for(spec: Spec, op: Op) -> int:
    """Stored table entry width: the spec's, else FP width for float, exact sum width for int."""
    if spec.table_bits:
        return spec.table_bits
    a = math.ceil(op.act_bits)
    return a if _is_float(op) else table_entry_bits(a, spec.lut_k, symmetric=True)


def table_entries(spec: Spec, rows: int, k: int) -> int:
    """Stored entries for `rows` activation rows of length `k`: rows * ceil(k/K) * 2^(K-1)."""
    return rows * -(-k // spec.lut_k) * (1 << (spec.lut_k - 1))


def precompute_adds(spec: Spec, rows: int, k: int) -> int:
    """Adds to build the tables of `rows` x `k` activations (Gray-code order, see module doc)."""
    per_table = (1 << (spec.lut_k - 1)) + spec.lut_k - 2
    return rows * -(-k // spec.lut_k) * per_table


@dataclass(frozen=True, slots=True)
class GemmTiming:
    """Tensor-core time of one GEMM-like op on one spec, with the counts energy needs."""

    compute_cycles: int
    busy_unit_cycles: int  # LUT: array-cycles busy; MAC: padded MACs
    instructions: int  # LMMAs or MMA instructions
    peak_macs_per_cycle: float
    operand_bytes: int  # tables + weights read per LMMA (LUT), 0 for MAC


@dataclass(frozen=True, slots=True)
class Mapping:
    """How a GEMM's threadblock tiles spread over the SMs."""

    waves: int  # rounds of tiles over the SMs
    rows: int  # tile rows (tb_m, or M if smaller)
    cols: int  # tile columns
    k: int  # reduction length per tile (K / split)
    split: int  # split-K factor


def gemm_mapping(spec: Spec, op: Op) -> Mapping:
    """Threadblock tiles of tb_m x tb_n, in waves over the SMs; split-K when tiles are fewer
    than SMs (GEMV-like ops), in chunks of at least ``min_split_k``, as GPU GEMM libraries do."""
    tiles = math.ceil(op.M / spec.tb_m) * math.ceil(op.N / spec.tb_n) * op.batch
    split = max(1, min(spec.num_sms // tiles, op.K // spec.min_split_k))
    return Mapping(
        waves=math.ceil(tiles * split / spec.num_sms),
        rows=min(spec.tb_m, op.M),
        cols=min(spec.tb_n, op.N),
        k=math.ceil(op.K / split),
        split=split,
    )


def split_k_bytes(op: Op, m: Mapping) -> int:
    """DRAM traffic of reducing split-K partial sums: FP32 partials written and read back."""
    return 0 if m.split == 1 else 2 * m.split * op.M * op.N * op.batch * 4


def lut_gemm_timing(spec: Spec, op: Op) -> GemmTiming:
    """Tile-level cycles of a GEMM on the LUT arrays: waves x per-SM tile time.

    Each SM runs one tb_m x tb_n output tile at a time over its K (all of K, or a split-K
    chunk); its arrays share the tile's (rows/lut_m) x (cols/lut_n) LMMA columns, each a
    sequence of ceil(k/lut_k) LMMAs.
    """
    w = lut_weight_bits(op)
    mp = gemm_mapping(spec, op)
    k_steps = math.ceil(mp.k / spec.lut_k)
    seqs = math.ceil(mp.rows / spec.lut_m) * math.ceil(mp.cols / spec.lut_n)  # per tile
    rounds = math.ceil(seqs / spec.arrays_per_sm)
    tile = rounds * array_sequence_cycles(k_steps, w, spec.lut_pipeline_cycles)
    lmmas = math.ceil(op.M / spec.lut_m) * math.ceil(op.N / spec.lut_n) * math.ceil(op.K / spec.lut_k) * op.batch
    tbits = table_entry_bits_for(spec, op)
    per_lmma = spec.lut_m * (1 << (spec.lut_k - 1)) * tbits + spec.lut_k * spec.lut_n * w  # Eq. 7 + Eq. 8
    return GemmTiming(
        compute_cycles=mp.waves * tile,
        busy_unit_cycles=lmmas * lmma_cycles(w),
        instructions=lmmas,
        peak_macs_per_cycle=spec.total_arrays * spec.lut_m * spec.lut_n * spec.lut_k / w,
        operand_bytes=lmmas * per_lmma // 8,
    )


def mac_rate(spec: Spec, act_bits: float) -> tuple[int, float]:
    """(MACs per tensor core per cycle, energy per MAC) at the operand width `act_bits`."""
    c = costs(spec)
    if act_bits <= 8:
        return spec.macs_per_tc_cycle_8bit, c.mac_energy_j_8bit
    if act_bits <= 16:
        return spec.macs_per_tc_cycle_16bit, c.mac_energy_j_16bit
    return spec.macs_per_tc_cycle_32bit, c.mac_energy_j_32bit


def mac_operand_bits(op: Op) -> float:
    """MAC operand width: activations, or the weights if wider (never narrower: dequantization)."""
    return max(op.act_bits, op.weight_bits)


def mac_gemm_timing(spec: Spec, op: Op) -> GemmTiming:
    """Tile-level cycles of a GEMM on MAC tensor cores at the operand precision."""
    rate, _ = mac_rate(spec, mac_operand_bits(op))
    mp = gemm_mapping(spec, op)
    padded_tile = math.ceil(mp.rows / spec.mac_m) * spec.mac_m * math.ceil(mp.cols / spec.mac_n) * spec.mac_n * mp.k
    tile = math.ceil(padded_tile / (rate * spec.tensor_cores_per_sm))
    padded = math.ceil(op.M / spec.mac_m) * spec.mac_m * math.ceil(op.N / spec.mac_n) * spec.mac_n * op.K * op.batch
    return GemmTiming(
        compute_cycles=mp.waves * tile,
        busy_unit_cycles=padded,
        instructions=math.ceil(padded / (spec.mac_m * spec.mac_n * 16)),
        peak_macs_per_cycle=spec.total_tensor_cores * rate,
        operand_bytes=0,
    )


# --------------------------------------------------------------------------- peak, area, density


def peak_ops_per_s(spec: Spec, weight_bits: float, act_bits: float) -> float:
    """Peak tensor-core throughput in ops/s (2 per MAC) for a weight/activation width."""
    if spec.datapath is Datapath.LUT:
        macs = spec.total_arrays * spec.lut_m * spec.lut_n * spec.lut_k / math.ceil(weight_bits)
    else:
        macs = spec.total_tensor_cores * mac_rate(spec, act_bits)[0]
    return 2 * macs * spec.clock_hz


def tensor_area_mm2(spec: Spec, float_acts: bool) -> float:
    """Tensor-core area: LUT arrays (per activation type) or MAC tensor cores, mm²."""
    c = costs(spec)
    if spec.datapath is Datapath.LUT:
        per = c.lut_array_area_um2_fp if float_acts else c.lut_array_area_um2_int
        return spec.total_arrays * per * 1e-6
    return spec.num_sms * c.mac_tc_area_mm2_per_sm


def compute_density_ops_per_s_mm2(spec: Spec, weight_bits: float, act_bits: float, float_acts: bool) -> float:
    """Peak ops/s per mm² of tensor-core area (the paper's Table 1 'TC density')."""
    return peak_ops_per_s(spec, weight_bits, act_bits) / tensor_area_mm2(spec, float_acts)


def tensor_energy_per_mac_j(spec: Spec, weight_bits: float, act_bits: float, float_acts: bool) -> float:
    """Tensor-core energy per MAC at full utilisation (array energy / MACs per cycle for LUT)."""
    c = costs(spec)
    if spec.datapath is Datapath.LUT:
        e = c.lut_array_energy_j_per_cycle_fp if float_acts else c.lut_array_energy_j_per_cycle_int
        return e / (spec.lut_m * spec.lut_n * spec.lut_k / math.ceil(weight_bits))
    return mac_rate(spec, act_bits)[1]


# --------------------------------------------------------------------------- simulation

_FUSABLE_PRODUCERS = frozenset({OpKind.ELEMENTWISE, OpKind.NORM})


@dataclass
class _Acc:
    """Per-op time pieces and event counts, folded into an OpResult."""

    compute_s: float = 0.0
    memory_s: float = 0.0
    serial_s: float = 0.0  # added after the overlap: table precompute outside the GEMM kernel
    dram_bytes: int = 0  # read/written by the op's own kernel (sets memory_s)
    side_bytes: int = 0  # moved by table precompute outside the GEMM kernel (time in serial_s)
    vector_ops: int = 0
    energy: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


def _vector_rate(spec: Spec) -> float:
    return spec.num_sms * spec.vector_flops_per_sm_cycle * spec.clock_hz


def _vector_roofline_s(spec: Spec, ops: float, dram_bytes: float) -> float:
    return max(ops / _vector_rate(spec), dram_bytes / spec.dram_bytes_per_s)


def _runs_on_lut(spec: Spec, op: Op) -> bool:
    return (
        spec.datapath is Datapath.LUT
        and op.is_gemm_like
        and op.weight_bits > 0
        and lut_weight_bits(op) <= spec.max_lut_weight_bits
    )


def _activation_key(graph: WorkloadGraph, op: Op) -> tuple[str, ...]:
    """Which tensor feeds a weight GEMM: its producers (q/k/v share one, so tables are shared)."""
    preds = tuple(sorted(graph.predecessors(op.name)))
    return preds or (op.name,)


def _precompute(spec: Spec, graph: WorkloadGraph, op: Op, acc: _Acc, done: set[tuple[str, ...]]) -> None:
    """Charge building the tables of `op`'s input (once per input tensor)."""
    key = _activation_key(graph, op)
    rows, tbits = op.M * op.batch, table_entry_bits_for(spec, op)
    table_bytes = math.ceil(table_entries(spec, rows, op.K) * tbits / 8)
    act_bytes = op.bytes_read - op.weight_bytes
    acc.extra["table_bytes"] = table_bytes
    acc.dram_bytes += table_bytes - act_bytes  # the GEMM reads tables instead of activations
    mode = spec.precompute
    if mode is Precompute.NONE or key in done:
        acc.extra["precompute"] = "none" if mode is Precompute.NONE else "shared"
        acc.extra["precompute_s"] = 0.0
        return
    done.add(key)
    adds = precompute_adds(spec, rows, op.K)
    producers = [graph.op(p) for p in key if p in graph]
    fusable = len(producers) == 1 and producers[0].kind in _FUSABLE_PRODUCERS
    if mode is Precompute.FUSED and fusable:
        p = producers[0]
        base = _vector_roofline_s(spec, p.flops, p.bytes_total)
        # the producer writes tables instead of its activations, and does the adds
        fused = _vector_roofline_s(spec, p.flops + adds, p.bytes_total + table_bytes - act_bytes)
        extra_s, extra_bytes, how = fused - base, table_bytes - act_bytes, "fused"
    else:
        extra_s = spec.kernel_launch_s + _vector_roofline_s(spec, adds, act_bytes + table_bytes)
        extra_bytes, how = act_bytes + table_bytes, "separate"
    acc.serial_s += extra_s
    acc.side_bytes += extra_bytes
    acc.vector_ops += adds
    acc.extra.update(precompute=how, precompute_s=extra_s)


def _gemm_on_tensor_units(spec: Spec, graph: WorkloadGraph, op: Op, acc: _Acc, done: set) -> GemmTiming:
    mp = gemm_mapping(spec, op)
    if mp.split > 1:
        acc.dram_bytes += split_k_bytes(op, mp)
        acc.extra["split_k"] = mp.split
    if _runs_on_lut(spec, op):
        t = lut_gemm_timing(spec, op)
        c = costs(spec)
        e_cycle = c.lut_array_energy_j_per_cycle_fp if _is_float(op) else c.lut_array_energy_j_per_cycle_int
        acc.energy["lut"] = t.busy_unit_cycles * e_cycle
        acc.extra.update(unit="lut", lmmas=t.instructions, array_cycles=t.busy_unit_cycles, w_bits=lut_weight_bits(op))
        acc.extra["operand_bytes"] = t.operand_bytes
        _precompute(spec, graph, op, acc, done)
        return t
    t = mac_gemm_timing(spec, op)
    e_mac = mac_rate(spec, mac_operand_bits(op))[1]
    acc.energy["mac"] = t.busy_unit_cycles * e_mac
    acc.extra.update(unit="mac", mma_instructions=t.instructions)
    if 0 < op.weight_bits < op.act_bits:  # dequantization to the MAC operand type
        row_tiles = math.ceil(op.M / spec.tb_m)
        dq = math.ceil(op.K * op.N * op.batch * row_tiles * spec.dequant_ops_per_weight)
        acc.vector_ops += dq
        acc.compute_s += dq / _vector_rate(spec)
        acc.extra["dequant_s"] = dq / _vector_rate(spec)
    return t


def _simulate_op(spec: Spec, graph: WorkloadGraph, op: Op, done: set) -> OpResult:
    acc = _Acc(dram_bytes=op.bytes_total)
    util, peak_cycle_macs = 0.0, 0.0
    on_tensor = op.is_gemm_like and (
        spec.datapath is Datapath.MAC or _runs_on_lut(spec, op) or spec.other_gemm_unit is OtherUnit.MAC
    )
    if on_tensor:
        t = _gemm_on_tensor_units(spec, graph, op, acc, done)
        acc.compute_s += t.compute_cycles / spec.clock_hz
        peak_cycle_macs = t.peak_macs_per_cycle
    else:
        # vector units: non-GEMM ops; on a LUT-only design also attention and wide-weight GEMMs
        acc.vector_ops += op.flops
        acc.compute_s += op.flops / _vector_rate(spec)
        acc.extra["unit"] = "vector"
    acc.memory_s = acc.dram_bytes / spec.dram_bytes_per_s
    body = max(acc.compute_s, acc.memory_s) + acc.serial_s
    seconds = body + spec.kernel_launch_s
    if spec.kernel_launch_s > body:
        bound = Bound.LATENCY
    else:
        bound = Bound.COMPUTE if acc.compute_s >= acc.memory_s else Bound.MEMORY
    if seconds > 0 and peak_cycle_macs:
        util = op.macs / (peak_cycle_macs * seconds * spec.clock_hz)
    elif seconds > 0 and not op.is_gemm_like:
        util = op.flops / (_vector_rate(spec) * seconds)
    acc.energy["vector"] = acc.vector_ops * costs(spec).vector_energy_j_per_op
    acc.energy["dram"] = (acc.dram_bytes + acc.side_bytes) * costs(spec).dram_energy_j_per_byte
    acc.energy["static"] = spec.static_power_w * seconds
    energy = {k: v for k, v in acc.energy.items() if v}
    acc.extra.update(compute_s=acc.compute_s, memory_s=acc.memory_s)
    return OpResult(
        op=op,
        cycles=math.ceil(seconds * spec.clock_hz),
        seconds=seconds,
        energy_j=math.fsum(energy.values()),
        utilization=min(1.0, util),
        bound=bound,
        unit=str(acc.extra.get("unit", "")),
        energy_by_component_j=energy,
        bytes_by_level={"dram": acc.dram_bytes + acc.side_bytes},
        extra={k: v for k, v in acc.extra.items() if k != "unit"},
    )


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    """Run every op of `graph` back to back on `spec`; see the module docstring for the model."""
    done: set[tuple[str, ...]] = set()
    results = tuple(_simulate_op(spec, graph, op, done) for op in graph.ops)
    float_acts = any(_is_float(o) for o in graph.ops if _runs_on_lut(spec, o))
    mac_tcs = spec.num_sms * costs(spec).mac_tc_area_mm2_per_sm
    if spec.datapath is Datapath.MAC:
        areas = {"mac": mac_tcs}
    else:
        # the arrays of the activation type the workload uses (the paper builds INT or FP16 arrays);
        # kept MAC tensor cores are hardware whether or not this workload uses them
        areas = {"lut": tensor_area_mm2(spec, float_acts)}
        if spec.other_gemm_unit is OtherUnit.MAC:
            areas["mac"] = mac_tcs
    if spec.die_area_mm2:
        # the host GPU's die without its MAC tensor cores (published die minus Table 1's TC area)
        areas = {"die": spec.die_area_mm2 - mac_tcs, **areas}
    return RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=results,
        clock_hz=spec.clock_hz,
        area_by_component_mm2=areas,
    )


__all__ = [
    "CostTable",
    "Datapath",
    "GemmTiming",
    "Mapping",
    "OtherUnit",
    "Precompute",
    "Spec",
    "array_sequence_cycles",
    "compute_density_ops_per_s_mm2",
    "costs",
    "gemm_mapping",
    "lmma_cycles",
    "lut_gemm_timing",
    "lut_weight_bits",
    "mac_gemm_timing",
    "mac_operand_bits",
    "mac_rate",
    "peak_ops_per_s",
    "precompute_adds",
    "simulate",
    "split_k_bytes",
    "table_entries",
    "table_entry_bits_for",
    "tensor_area_mm2",
    "tensor_energy_per_mac_j",
]
