"""CPU baseline for LLM decode on cores with SIMD units (Neoverse-N1 presets in ``models/``).

What it models, per op, as max(vector-unit time, memory time):

* Weight GEMMs/GEMVs with low-bit weights run the llama.cpp-style kernel: unpack the packed
  B-bit codes to INT8 lanes on the vector units (shift/mask per storage plane, merge planes
  for non-power-of-two widths, subtract the zero point), then either SDOT with INT8
  activations (A <= 8) plus a per-quant-block rescale, or convert to FP16 and FMLA with
  FP16 activations (A16).  Unpacking is repeated once per ``dequant_reuse_tokens`` tokens
  (register blocking); the multiply-accumulate work scales with the tokens.  This is the
  "dequantization cost of low-bit weights on the vector units" that SAIL moves into SRAM.
* Memory: weights stream from DRAM every decode step unless every weight and KV byte fits
  in the usable part of the last-level cache (LRU with a streaming footprint larger than the
  cache keeps nothing, so residency is all-or-nothing).  KV-cache reads and writes go to DRAM
  on the same rule; activations live on chip (LLC bandwidth).
* Non-GEMM ops (norms, softmax, elementwise, attention) use the FP16/FP32 lanes.

Assumptions (stated, not measured): the vector pipes issue at ``issue_efficiency`` of peak
(1.0 by default, an optimistic CPU, which makes any speedup over it conservative); loads
are served by the separate load/store pipes and never bound the kernel; no thread
synchronisation cost unless ``op_overhead_s`` is set.  Per-instruction op counts below are
DERIVED from the NEON instruction sequences named next to them, not measured on silicon.

`decode_roofline` is the memory-bound roofline of token generation: tokens per second if
the step took only its DRAM bytes at sustained bandwidth.

Energy per op (`EnergyTable`, the cost library at ``tech_node``), under the shared component
names: ``mac`` = SIMD multiply-accumulate instructions (weight GEMMs' SDOT/FMLA, attention's
FMLA), ``vector`` = every other vector instruction (unpack, convert, quantise, element-wise
work), each at Horowitz's per-instruction energy; ``sram`` = bytes through the LLC; ``dram`` =
DRAM bytes; ``static`` = ``static_power_w`` x time, or when that is 0 the leakage of the caches
(cost library: L1D and L2 per core, the LLC), a lower bound since core logic leakage is not
tabulated.  Area (`area_by_component_mm2`): the caches as CACTI arrays (``sram``), the SIMD
datapaths as FP16 MAC units (``vector``) and, when given, the published per-core logic area
(``core``); without it the area leaves out the cores' control logic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cosim import cost
from cosim.errors import ModelError
from cosim.graph import ATTENTION_KINDS, Op, OpKind, WorkloadGraph
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.spec import doc_field

# --------------------------------------------------------------------------- energy table
# Per-event energies come from the shared cost library (cosim.cost) at the spec's tech_node;
# the model only multiplies event counts by them (`EnergyTable`).  The one constant the
# library does not have is the energy of an issued instruction: Horowitz, "Computing's energy
# problem", ISSCC 2014, gives ~70 pJ for an ADD instruction at 45 nm (0.9 V), nearly all of it
# fetch/decode/register-file overhead; we scale it to the node with the library's Stillmaker &
# Baas factor.  That is an in-order figure, so it likely underestimates an out-of-order N1.
INSTRUCTION_PJ_45NM = 70.0
INSTRUCTION_NODE_NM, INSTRUCTION_VDD_V = 45, 0.9
LLC_LINE_BITS = 512  # a 64-byte cache line per LLC access
DRAM_KIND = "ddr3"  # cosim.cost's only DDR entry (Horowitz: 1.3-2.6 nJ per 64 bits); DDR4 is not tabulated


@dataclass(frozen=True)
class EnergyTable:
    """Energy per event of the CPU model (J): vector instruction, LLC byte, DRAM byte; static power (W)."""

    vector_op_j: float
    llc_byte_j: float
    dram_byte_j: float
    static_w: float = 0.0


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class Spec:
    """A multi-core CPU with SIMD units, a cache hierarchy and DRAM.  Sources in models/*.yaml."""

    name: str
    cores: int = doc_field(doc="cores running the decode step", min=1)
    clock_hz: float = doc_field(doc="core clock", gt=0)
    llc_bytes: int = doc_field(doc="shared last-level cache (system-level cache)", min=0)
    llc_bytes_per_s: float = doc_field(doc="aggregate LLC read bandwidth", gt=0)
    dram_bytes_per_s: float = doc_field(doc="peak DRAM bandwidth (channels x MT/s x 8 B)", gt=0)
    vector_bits: int = doc_field(128, doc="SIMD register width (NEON: 128)", choices=(64, 128, 256, 512))
    vector_pipes: int = doc_field(2, doc="SIMD issue pipes per core (N1: V0, V1)", min=1)
    issue_efficiency: float = doc_field(1.0, doc="fraction of peak vector issue sustained", gt=0, max=1)
    l1d_bytes: int = doc_field(65536, doc="L1 data cache per core", min=0)
    l2_bytes: int = doc_field(1 << 20, doc="private L2 per core", min=0)
    llc_usable_fraction: float = doc_field(
        0.5, doc="share of the LLC that may hold weights/KV across steps (rest: code, activations, OS)", min=0, max=1
    )
    dram_efficiency: float = doc_field(0.8, doc="sustained / peak DRAM bandwidth", gt=0, max=1)
    weight_group_size: int = doc_field(32, doc="weights per quantization scale along K (llama.cpp Q4_0: 32)", min=1)
    dequant_reuse_tokens: int = doc_field(4, doc="tokens served by one unpacked weight register tile", min=1)
    op_overhead_s: float = doc_field(0.0, doc="fixed time per op (thread barrier)", min=0)
    price_per_hour_usd: float = doc_field(0.0, doc="instance price for tokens per dollar; 0: not priced", min=0)
    tech_node: str = doc_field("7nm", doc="process node for cosim.cost energies (N1 parts: TSMC 7 nm)")
    vector_op_j: float = doc_field(0.0, doc="energy per vector instruction; 0: Horowitz scaled to tech_node", min=0)
    llc_byte_j: float = doc_field(0.0, doc="energy per LLC byte; 0: cosim.cost SRAM at tech_node", min=0)
    dram_byte_j: float = doc_field(0.0, doc="energy per DRAM byte; 0: cosim.cost DDR", min=0)
    static_power_w: float = doc_field(
        0.0, doc="static/uncore power added over the run time; 0: the caches' leakage (cosim.cost)", min=0
    )
    core_logic_area_mm2: float = doc_field(
        0.0, doc="published area of one core outside its caches and SIMD units; 0: not counted", min=0
    )
    description: str = ""

    def __post_init__(self) -> None:
        cost.get_node(self.tech_node)  # SpecError naming the allowed nodes

    def energy(self) -> EnergyTable:
        """Per-event energies: the spec's overrides, else cosim.cost at ``tech_node``."""
        node = cost.get_node(self.tech_node)
        instr = INSTRUCTION_PJ_45NM * 1e-12 * node.energy_from(INSTRUCTION_NODE_NM, INSTRUCTION_VDD_V)
        llc = cost.sram_access_energy_j(node, max(self.llc_bytes, 1024), LLC_LINE_BITS) / (LLC_LINE_BITS // 8)
        return EnergyTable(
            vector_op_j=self.vector_op_j or instr,
            llc_byte_j=self.llc_byte_j or llc,
            dram_byte_j=self.dram_byte_j or cost.dram_energy_per_byte_j(DRAM_KIND),
            static_w=self.static_power_w or math.fsum(c.leakage_w for c in self.caches()),
        )

    def caches(self) -> list[cost.SramCost]:
        """Every cache as one CACTI array read a 64-byte line at a time: L1D and L2 per core, the LLC."""
        node = cost.get_node(self.tech_node)
        out = []
        for cap, n in ((self.l1d_bytes, self.cores), (self.l2_bytes, self.cores), (self.llc_bytes, 1)):
            if cap:
                out += [cost.sram_cost(node, max(cap, LLC_LINE_BITS // 8), LLC_LINE_BITS)] * n
        return out

    def area_by_component_mm2(self) -> dict[str, float]:
        """Caches (``sram``), SIMD datapaths as FP16 MAC units (``vector``), published core logic (``core``)."""
        node = cost.get_node(self.tech_node)
        out = {
            "sram": math.fsum(c.area_mm2 for c in self.caches()),
            "vector": self.cores * self.vector_pipes * self.lanes16 * cost.mac_area_mm2(node, "fp", 16),
        }
        if self.core_logic_area_mm2:
            out["core"] = self.cores * self.core_logic_area_mm2
        return out

    @property
    def lanes8(self) -> int:
        return self.vector_bits // 8

    @property
    def lanes16(self) -> int:
        return self.vector_bits // 16

    @property
    def lanes32(self) -> int:
        return self.vector_bits // 32

    @property
    def vector_ops_per_s(self) -> float:
        """Peak vector instructions per second over all cores."""
        return self.cores * self.vector_pipes * self.clock_hz * self.issue_efficiency

    @property
    def dram_sustained_bytes_per_s(self) -> float:
        return self.dram_bytes_per_s * self.dram_efficiency


# --------------------------------------------------------------------------- op counts (DERIVED)


def storage_planes(weight_bits: int) -> int:
    """Power-of-two planes a B-bit code is stored in (3 = 2+1, 5 = 4+1, 6 = 4+2, 7 = 4+2+1).

    This is how llama.cpp's K-quants store odd widths (Q3_K: 2+1 bits, Q5_K: 4+1, Q6_K: 4+2).
    """
    if not 1 <= weight_bits <= 8:
        raise ModelError(f"weight_bits must be in [1, 8] for a quantized kernel, got {weight_bits}")
    return 0 if weight_bits == 8 else bin(weight_bits).count("1")


def unpack_ops_per_vector(weight_bits: int) -> int:
    """Vector instructions to turn packed B-bit codes into one register of signed INT8 lanes.

    DERIVED from the NEON sequence: per storage plane one USHR + one AND; per extra plane one
    SHL/ORR pair (SLI) to merge it in; one SUB of the zero point.  INT8 weights need none.
    """
    p = storage_planes(weight_bits)
    if p == 0:
        return 0
    return 2 * p + 2 * (p - 1) + 1


# A16 path: SXTL+SXTL2 (INT8 -> 2x INT16), 2x SCVTF (-> FP16), 2x FMUL by the group scale.
FP16_CONVERT_OPS_PER_VECTOR = 6
# A8 path: per quant block and token, SCVTF of the int32 dot + FMLA with the combined scale
# (llama.cpp ggml_vec_dot_q4_0_q8_0 on NEON).
INT_RESCALE_OPS_PER_BLOCK = 2
# Dynamic per-token INT8 quantization of activations, per 4 FP32 lanes: FABS, FMAX (absmax),
# FMUL (scale), FCVTNS, 0.5 XTN -> 4.5 instructions per 4 activations.
ACT_QUANT_OPS_PER_ELEMENT = 4.5 / 4


@dataclass(frozen=True)
class GemmWork:
    """Vector instructions and bytes of one weight GEMM/GEMV on the CPU."""

    dequant_ops: float
    mac_ops: float
    act_quant_ops: float
    weight_bytes: int
    act_bytes: int

    @property
    def vector_ops(self) -> float:
        return self.dequant_ops + self.mac_ops + self.act_quant_ops


def gemm_work(spec: Spec, op: Op) -> GemmWork:
    """Instruction counts of the dequantize-then-multiply kernel for one weight GEMM.

    ``M`` rows (tokens) share each ``K x N`` weight matrix; ``batch`` independent matrices.
    """
    weights = op.K * op.N * op.batch
    tokens = op.M
    wbits = math.ceil(op.weight_bits)
    int_path = op.act_bits <= 8
    act_bytes = op.bytes_read - op.weight_bytes + op.bytes_written
    if wbits > 8:
        # Unquantized (FP16/FP32) weights: FMLA straight from the loaded registers.
        lanes = spec.lanes16 if wbits <= 16 else spec.lanes32
        return GemmWork(0.0, tokens * weights / lanes, 0.0, op.weight_bytes, act_bytes)
    vec8 = weights / spec.lanes8
    passes = math.ceil(tokens / spec.dequant_reuse_tokens)
    per_vec = unpack_ops_per_vector(wbits)
    if int_path:
        mac = tokens * (vec8 + INT_RESCALE_OPS_PER_BLOCK * weights / spec.weight_group_size)
        act_quant = tokens * op.K * op.batch * ACT_QUANT_OPS_PER_ELEMENT
    else:
        per_vec += FP16_CONVERT_OPS_PER_VECTOR
        mac = tokens * weights / spec.lanes16
        act_quant = 0.0
    return GemmWork(vec8 * per_vec * passes, mac, act_quant, op.weight_bytes, act_bytes)


def vector_ops_for_flops(spec: Spec, op: Op) -> float:
    """Vector instructions for a non-weight op: FMA-able FLOPs in FP16 lanes, others in FP32."""
    if op.kind in ATTENTION_KINDS:
        return op.flops / (2 * spec.lanes16)  # FMLA does 2 FLOPs per lane
    return op.flops / spec.lanes32


# --------------------------------------------------------------------------- residency


def footprint_bytes(graph: WorkloadGraph) -> int:
    """Bytes that must persist across decode steps: weights and KV cache."""
    return sum(o.weight_bytes + o.kv_bytes for o in graph.ops)


def llc_resident(spec: Spec, graph: WorkloadGraph) -> bool:
    """True when the whole weight + KV footprint fits the usable LLC (then nothing streams)."""
    return footprint_bytes(graph) <= spec.llc_bytes * spec.llc_usable_fraction


def tokens_per_step(graph: WorkloadGraph) -> int:
    """Tokens one pass of the graph produces: the workload's batch for decode graphs.

    Reads ``meta["batch"]`` when the tracer recorded it, else the largest M of a weight GEMM
    (decode GEMVs have M = batch), else 1.
    """
    b = graph.meta.get("batch")
    if isinstance(b, int) and not isinstance(b, bool) and b >= 1:
        return b
    ms = [o.M for o in graph.ops if o.kind in (OpKind.GEMM, OpKind.GEMV) and o.weight_bits]
    return max(ms) if ms else 1


def dram_bytes_of(op: Op, resident: bool) -> int:
    """DRAM bytes of `op` on a cache-based CPU: weights, KV reads/writes, embeddings."""
    if resident:
        return 0
    if op.kind in (OpKind.GEMM, OpKind.GEMV, OpKind.CONV2D):
        return op.weight_bytes
    if op.kind in ATTENTION_KINDS:
        return op.kv_bytes
    if op.kind is OpKind.COPY:
        return op.bytes_written  # KV-cache write
    if op.kind is OpKind.EMBEDDING:
        return op.bytes_read
    return op.weight_bytes


# --------------------------------------------------------------------------- simulate


def simulate_op(spec: Spec, op: Op, resident: bool, energy: EnergyTable | None = None) -> OpResult:
    """One op on the CPU: max(vector time, memory time) + overhead; `energy` defaults to ``spec.energy()``."""
    en = energy or spec.energy()
    dram = dram_bytes_of(op, resident)
    extra: dict[str, float] = {}
    if op.kind in (OpKind.GEMM, OpKind.GEMV, OpKind.CONV2D) and op.weight_bits:
        w = gemm_work(spec, op)
        ops, mac_ops = w.vector_ops, w.mac_ops
        onchip = w.act_bytes + (op.weight_bytes if resident else 0)
        extra = {"dequant_ops": w.dequant_ops, "mac_ops": w.mac_ops, "act_quant_ops": w.act_quant_ops}
    else:
        ops = vector_ops_for_flops(spec, op)
        mac_ops = ops if op.kind in ATTENTION_KINDS else 0.0  # attention: FMLA dot products
        onchip = max(0, op.bytes_total - dram)
    t_c = ops / spec.vector_ops_per_s
    t_m = max(dram / spec.dram_sustained_bytes_per_s, onchip / spec.llc_bytes_per_s)
    t = max(t_c, t_m)
    bound = Bound.COMPUTE if t_c >= t_m else Bound.MEMORY
    if spec.op_overhead_s > t:
        bound = Bound.LATENCY
    t += spec.op_overhead_s
    e = {
        "mac": mac_ops * en.vector_op_j,
        "vector": (ops - mac_ops) * en.vector_op_j,
        "sram": onchip * en.llc_byte_j,
        "dram": dram * en.dram_byte_j,
        "static": en.static_w * t,
    }
    peak_flops = spec.vector_ops_per_s * 2 * spec.lanes16  # FP16 FMLA peak
    return OpResult(
        op=op,
        cycles=math.ceil(t * spec.clock_hz),
        seconds=t,
        energy_j=math.fsum(e.values()),
        utilization=min(1.0, (op.flops / peak_flops) / t) if t > 0 else 0.0,
        bound=bound,
        unit="cpu",
        energy_by_component_j=e,
        bytes_by_level={"dram": dram, "llc": onchip},
        extra={"vector_ops": ops, **extra},
    )


@dataclass(frozen=True)
class DecodeRoofline:
    """Memory-bound roofline of one decode step: only DRAM bytes at sustained bandwidth."""

    dram_bytes: int
    seconds: float
    tokens: int

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else math.inf


def decode_roofline(spec: Spec, graph: WorkloadGraph) -> DecodeRoofline:
    """Upper bound on decode throughput: every step reads its DRAM bytes once, nothing else costs."""
    resident = llc_resident(spec, graph)
    b = sum(dram_bytes_of(o, resident) for o in graph.ops)
    return DecodeRoofline(b, b / spec.dram_sustained_bytes_per_s, tokens_per_step(graph))


def cost_summary(seconds: float, energy_j: float, tokens: int, price_per_hour_usd: float) -> dict[str, float]:
    """Tokens/s, tokens per dollar (price x time) and energy per token of one decode step."""
    tps = tokens / seconds if seconds > 0 else 0.0
    out = {"tokens_per_step": tokens, "tokens_per_s": tps, "energy_per_token_j": energy_j / tokens if tokens else 0.0}
    if price_per_hour_usd > 0:
        out["price_per_hour_usd"] = price_per_hour_usd
        out["tokens_per_usd"] = tps * 3600.0 / price_per_hour_usd
    return out


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    """Run every op of `graph` back to back on the CPU."""
    resident = llc_resident(spec, graph)
    en = spec.energy()
    results = tuple(simulate_op(spec, op, resident, en) for op in graph.ops)
    seconds = math.fsum(r.seconds for r in results)
    energy = math.fsum(r.energy_j for r in results)
    roof = decode_roofline(spec, graph)
    area = spec.area_by_component_mm2()
    extra = {
        "llc_resident": resident,
        "roofline_tokens_per_s": roof.tokens_per_s,
        **cost_summary(seconds, energy, tokens_per_step(graph), spec.price_per_hour_usd),
    }
    return RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=results,
        clock_hz=spec.clock_hz,
        area_by_component_mm2=area,
        extra=extra,
    )


__all__ = [
    "DecodeRoofline",
    "EnergyTable",
    "GemmWork",
    "Spec",
    "cost_summary",
    "decode_roofline",
    "gemm_work",
    "llc_resident",
    "simulate",
    "simulate_op",
    "storage_planes",
    "tokens_per_step",
    "unpack_ops_per_vector",
]
