"""A workload graph on a system of units: an NPU (systolic arrays + vector units) and HBM-PIM.

This is the NeuPIMs system (ASPLOS'24) and its baselines as one model with switches:

* ``pim: null`` -> NPU-only: every op on the NPU, memory at the channels' external bandwidth.
* ``pim.dual_row_buffer: false``, ``sub_batch_interleaving: false``,
  ``channel_balancing: round_robin`` -> the naive NPU+PIM baseline (Newton, blocked mode).
* all on -> NeuPIMs (dual row buffers, greedy min-load channel balancing, sub-batch
  interleaving when batch >= ``sbi_min_batch``).

How a graph runs (one decode step of the layers the graph holds):

1. Ops are assigned to units: decode attention (``attention_qk``/``attention_av``/
   ``attention_decode`` with query length 1) to PIM when there is one; weight GEMMs to the
   systolic arrays; everything else (norm, softmax, elementwise, KV-cache copies) to the
   vector units.  Vector ops sandwiched between the PIM ops of one attention (score scaling,
   softmax) form, with them, an *MHA segment*; the ops between MHA segments form *NPU
   segments* (a decoder block's projection/FFN plus the next block's QKV generation).
2. An NPU op takes max(compute, DRAM bytes / bandwidth): compute from the systolic-array GEMM
   model (`array_gemm_cycles`, folds spread over the arrays), or from the vector units; a
   decode attention op on an NPU-only system takes the faster of the arrays and the vector
   units.  DRAM bytes are the op's compulsory traffic.
3. An MHA segment maps each request's KV cache to one PIM channel (NeuPIMs Alg. 2 greedy
   min-load on the closed-form per-request latency, or round robin) and runs the channels'
   programs (`cosim.hw.pim.attention_program`) in the PIM model, fast or event mode; the
   segment takes the slowest channel.  Its vector work runs on the NPU beside it: overlapped
   head by head with dual row buffers (NeuPIMs Fig. 10), after it in blocked mode.
4. Without sub-batch interleaving the segments run one after another.  With it (dual row
   buffers, batch >= sbi_min_batch) the batch is split per channel into two halves (Alg. 3)
   and run as NeuPIMs' stage pipeline (StageProgram.cc): stage s pairs NPU segment s//2 of one
   sub-batch with MHA segment (s+1)//2 of the other; a stage lasts until both finish.
   While PIM runs, the NPU's DRAM traffic gets only the column-command slots PIM leaves free
   (PIM has priority, NeuPIMs Sec. 5.3): its bandwidth is scaled by (1 - f), f = the
   fraction of the slowest channel's time its MAC/RDRES commands occupy the column cadence.
5. Energy, per op under the shared component names (`cosim.cost.Component`): ``mac`` = array
   MACs x PE energy, ``sram`` = scratchpad words (the systolic model's native counts,
   `cosim.hw.systolic.native_sram_words`) x energy per word, ``vector`` = vector FLOPs x an add
   (cost library at ``npu.tech_node``, `npu_costs`); ``dram`` = NPU traffic as whole-row streams
   and the PIM programs' activations, refreshes, result reads and vector-buffer loads x
   per-command energy (`cosim.hw.memory`), ``pim`` = in-bank MACs; the time-based rest
   (channel background power, PIM row-buffer background, scratchpad leakage) is ``static``
   (`RunResult.extra["static_energy_j"]`).  `SystemResult.energy_by_component_j` keeps the
   same total split by command class.
   Area: the NPU's PEs, scratchpads and vector lanes (cost library) plus the PIM units
   (`cosim.hw.pim.area_fields`: our RTL synthesised by yosys, or its calibrated build-up).
   Utilization: NPU = array MACs / (arrays x R x C x cycles); PIM = MAC lanes / peak lanes.

Assumptions: tensor-parallel all-reduce and pipeline-parallel transfers are not modelled;
ops on the NPU run back to back (no overlap of the arrays with the vector units); the KV-cache
append is NPU memory traffic (its scattered layout in the V rows is not costed); every MHA
segment starts at refresh phase 0; per-request KV lengths are spread around the op's kv_len
(the mean) by ``kv_len_spread`` (see `kv_lengths`).

The NPU's GEMM timing comes from the systolic model's `cosim.hw.systolic.gemm_cycles` (native
convention: a whole number of cycles per fold, no SCALE-Sim off-by-one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np

from cosim import cost
from cosim.errors import SpecError
from cosim.graph import (
    ATTENTION_KINDS,
    FUSED_ATTENTION_KINDS,
    Op,
    OpKind,
    WorkloadGraph,
    attention_op,
    gemm_op,
    vector_op,
)
from cosim.hw import pim as pim_model
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.hw.memory import MemoryCounts, energy_preset, memory_energy_j, preset
from cosim.hw.systolic import DFF_TRANSISTORS, PE_SYNTH_TRANSISTORS, native_sram_words
from cosim.hw.systolic import gemm_cycles as array_gemm_cycles
from cosim.spec import doc_field

# --------------------------------------------------------------------------- NPU GEMM timing


class Dataflow(StrEnum):
    OS = "os"
    WS = "ws"
    IS = "is"


def _fold_geometry(df: Dataflow, R: int, C: int, M: int, N: int, K: int) -> tuple[int, int, tuple[int, int, int]]:
    """(folds, temporal length T, GEMM dims of exactly one fold) under SCALE-Sim's mapping."""
    if df is Dataflow.OS:
        return math.ceil(M / R) * math.ceil(N / C), K, (min(M, R), min(N, C), K)
    if df is Dataflow.WS:
        return math.ceil(K / R) * math.ceil(N / C), M, (M, min(N, C), min(K, R))
    return math.ceil(K / R) * math.ceil(M / C), N, (min(M, C), N, min(K, R))


@dataclass(frozen=True)
class NpuSpec:
    """The NPU of NeuPIMs (configs/systolic_ws_128x128_dev.json at f299af3).

    The config has one core with ``systolic_array_count`` arrays, so its two scratchpads are taken
    as shared by all arrays (ASSUMPTION: ONNXim sizes them per core)."""

    arrays: int = doc_field(8, doc="systolic arrays (systolic_array_count)", min=1)
    rows: int = doc_field(128, doc="PE rows per array (core_height)", min=1)
    cols: int = doc_field(128, doc="PE columns per array (core_width)", min=1)
    dataflow: Dataflow = doc_field(Dataflow.WS, doc="os, ws or is (NeuPIMs: systolic_ws)")
    clock_hz: float = doc_field(1e9, doc="core clock (core_freq 1000 MHz)", gt=0)
    vector_units: int = doc_field(8, doc="SIMD vector units (vector_core_count)", min=1)
    vector_lanes: int = doc_field(128, doc="lanes per vector unit (vector_core_width)", min=1)
    fold_pipelining: bool = doc_field(
        True,
        doc="overlap a fold's stationary-operand load with the previous fold (ONNXim/NeuPIMs "
        "NeuPIMSystolicWS.cc); false: SCALE-Sim's back-to-back folds",
    )
    operand_bits: int = doc_field(
        16, doc="operand width (precision 2 B): 8 int8, 16 fp16, 32 fp32", choices=(8, 16, 32)
    )
    tech_node: str = doc_field(
        "22nm", doc="cost-library node for NPU energy and area (NeuPIMs' area analysis: CACTI at 22 nm)"
    )
    dram_efficiency: float = doc_field(
        1.0, doc="fraction of the channels' peak bandwidth the NPU sustains", gt=0, max=1
    )
    spad_kib: int = doc_field(1024, doc="operand scratchpad shared by the arrays, KiB (spad_size 1024 KB)", min=1)
    accum_spad_kib: int = doc_field(
        1024, doc="accumulator scratchpad shared by the arrays, KiB (accum_spad_size 1024 KB)", min=1
    )
    sram_port_bits: int = doc_field(256, doc="scratchpad port width, for energy per access and area", min=8)
    pe_area_source: str = doc_field(
        "table", doc="table (cost library) or yosys (our MAC RTL, as the systolic model)", choices=("table", "yosys")
    )

    def __post_init__(self) -> None:
        cost.get_node(self.tech_node)  # SpecError naming the allowed nodes
        if self.pe_area_source == "yosys" and self.mac_format not in PE_SYNTH_TRANSISTORS:
            fmt, bits = self.mac_format
            raise SpecError(f"npu.pe_area_source: yosys: no synthesised MAC for {fmt}{bits} (have: int8, int16, fp16)")

    @property
    def mac_format(self) -> tuple[str, int]:
        """(``int``/``fp``, bits) of the MACs: int8 at 8 bits, fp16/fp32 otherwise."""
        return ("int" if self.operand_bits == 8 else "fp"), self.operand_bits

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.arrays * self.rows * self.cols

    @property
    def vector_lanes_total(self) -> int:
        return self.vector_units * self.vector_lanes


def npu_gemm_cycles(npu: NpuSpec, M: int, N: int, K: int, batch: int = 1) -> int:
    """NPU cycles of `batch` M x N x K GEMMs: their folds spread evenly over the arrays.

    Serial folds (``fold_pipelining`` false): folds_per_array x the array model's cycles for one
    fold.  Pipelined: one full fold, then max(T, R) per further fold (the stationary operand of
    fold i+1 loads while fold i streams its T rows; NeuPIMs' ONNXim core starts a preloaded
    fold R cycles after the previous one, max(T, R) keeps the array's input rate physical).
    """
    df = npu.dataflow
    folds, T, (m1, n1, k1) = _fold_geometry(df, npu.rows, npu.cols, M, N, K)
    one = array_gemm_cycles(npu.rows, npu.cols, df.value, m1, n1, k1, convention="native")
    per_array = math.ceil(folds * batch / npu.arrays)
    if not npu.fold_pipelining:
        return per_array * one
    return one + (per_array - 1) * max(T, npu.rows)


# --------------------------------------------------------------------------- system spec


class Balancing(StrEnum):
    GREEDY = "greedy"  # NeuPIMs Alg. 2 greedy min-load bin packing
    ROUND_ROBIN = "round_robin"  # NeuPIMs' NPU+PIM baseline


class KvSpread(StrEnum):
    EXPONENTIAL = "exponential"
    NONE = "none"


@dataclass(frozen=True)
class Spec:
    """An NPU + HBM(-PIM) device and how a batch is scheduled on it."""

    name: str
    npu: NpuSpec = field(default_factory=NpuSpec)
    memory: str = doc_field("HBM2", doc="memory preset of the channels", choices=("HBM2", "HBM2E", "HBM3"))
    channels: int = doc_field(32, doc="memory channels (NeuPIMs: 32 x 1 GB)", min=1)
    pim: pim_model.Spec | None = doc_field(None, doc="PIM in every channel; null: NPU-only")
    sub_batch_interleaving: bool = doc_field(True, doc="NeuPIMs sub-batch interleaving (needs dual row buffers)")
    sbi_min_batch: int = doc_field(256, doc="interleave only from this batch (NeuPIMs README: batch >= 256)", min=2)
    channel_balancing: Balancing = doc_field(Balancing.GREEDY, doc="greedy (Alg. 2) or round_robin")
    kv_len_spread: KvSpread = doc_field(
        KvSpread.EXPONENTIAL, doc="per-request KV lengths around the op's kv_len: exponential or none"
    )
    max_seq_len: int = doc_field(2048, doc="cap on a request's KV length (NeuPIMs max_seq_len)", min=1)
    tensor_parallel: int = doc_field(1, doc="devices sharing every layer (Megatron TP); the graph is one model", min=1)
    pipeline_parallel: int = doc_field(1, doc="pipeline stages; this device runs n_layers / pp layers", min=1)
    offload_weight_gemv: bool = doc_field(False, doc="run weight GEMVs (M = 1) on PIM too")
    description: str = ""

    def __post_init__(self) -> None:
        if self.pim is not None:
            if self.pim.memory != self.memory or self.pim.channels != self.channels:
                raise SpecError(
                    f"pim: memory/channels ({self.pim.memory}, {self.pim.channels}) must equal the system's "
                    f"({self.memory}, {self.channels})"
                )
            pim_model.check_spec(self.pim, "pim")
        preset(self.memory, "memory")

    @property
    def npu_dram_bytes_per_s(self) -> float:
        return preset(self.memory).peak_bytes_per_s * self.channels * self.npu.dram_efficiency

    @property
    def dual(self) -> bool:
        return self.pim is not None and self.pim.dual_row_buffer


# --------------------------------------------------------------------------- request lengths


def kv_lengths(mean: int, n: int, spread: KvSpread = KvSpread.EXPONENTIAL, max_len: int = 2048) -> list[int]:
    """Per-request KV lengths of a decode batch whose mean is `mean`.

    ``exponential``: the n mid-quantiles of an exponential distribution with that mean, capped
    at `max_len`, in a fixed pseudo-random order (seed 0), so runs are deterministic.  Why
    exponential: in a continuously batched decode step a request's KV length is its prompt plus
    the tokens generated so far; the NeuPIMs artifact's ShareGPT traces
    (request-traces/clb/share-gpt2-bs512-ms7B-tp4-*.csv) have mean 300 and standard deviation
    316 (coefficient of variation 1.05, that of an exponential) with 1.6 % at the 2048 cap.
    ``none``: every request at `mean`.
    """
    if mean < 1 or n < 1:
        raise SpecError(f"kv_lengths: mean and n must be >= 1, got {mean}, {n}")
    if spread is KvSpread.NONE:
        return [min(mean, max_len)] * n
    q = (np.arange(n) + 0.5) / n
    vals = np.minimum(np.maximum(np.ceil(-mean * np.log1p(-q)), 1), max_len).astype(int)
    perm = np.random.default_rng(0).permutation(n)
    return [int(v) for v in vals[perm]]


# --------------------------------------------------------------------------- graph helpers

_LAYER_RE = re.compile(r"^(?:.*\.)?layers\.(\d+)\.")
_ROW_PARALLEL = ("o_proj", "out_proj", "down_proj", "fc2", "c_proj", "dense_4h_to_h", "wo", "w2")


def _layer_of(name: str) -> int | None:
    m = _LAYER_RE.match(name)
    return int(m.group(1)) if m else None


def decoder_blocks(graph: WorkloadGraph) -> WorkloadGraph:
    """The ops inside decoder layers (names ``layers.<i>.``): what NeuPIMs simulates."""
    keep = [o for o in graph.ops if _layer_of(o.name) is not None]
    if not keep:
        raise SpecError(f"workload {graph.title!r}: no decoder-layer ops (names 'layers.<i>.')")
    return _subgraph(graph, keep, graph.title)


def _subgraph(graph: WorkloadGraph, ops: Sequence[Op], name: str) -> WorkloadGraph:
    g = WorkloadGraph(name=name, meta=dict(graph.meta))
    names = {o.name for o in ops}
    for o in ops:
        g.add_op(o, [d for d in graph.predecessors(o.name) if d in names] if o.name in graph else [])
    return g


def shard_graph(graph: WorkloadGraph, tp: int = 1, pp: int = 1) -> WorkloadGraph:
    """One device's share of a whole-model graph under Megatron tensor parallelism (`tp`) and
    pipeline parallelism (`pp`).

    Column-parallel GEMMs (q/k/v/up/gate/lm_head...) keep N / tp outputs, row-parallel ones
    (names ending o_proj, out_proj, down_proj, fc2, c_proj, ...) K / tp inputs; attention
    keeps heads / tp (and kv_heads / tp); vector ops inside attention (``.attn.``) and the MLP
    (``.mlp.``) shrink by tp, norms and residual adds stay whole.  With pp > 1 the device keeps
    the first ceil(n_layers / pp) layers and no embedding / head.  All-reduces are not added.

    Raises:
        SpecError: heads not divisible by tp.
    """
    if tp == 1 and pp == 1:
        return graph
    layers = [x for x in (_layer_of(o.name) for o in graph.ops) if x is not None]
    n_layers = max(layers) + 1 if layers else 0
    keep_layers = math.ceil(n_layers / pp) if n_layers else 0
    out: list[Op] = []
    for o in graph.ops:
        li = _layer_of(o.name)
        if pp > 1 and (li is None or li >= keep_layers):
            continue
        out.append(_shard_op(o, tp, graph.title))
    meta = dict(graph.meta)
    meta.update({"tensor_parallel": tp, "pipeline_parallel": pp})
    g = WorkloadGraph(name=graph.title, meta=meta)
    names = {o.name for o in out}
    for o in out:
        g.add_op(o, [d for d in graph.predecessors(o.name) if d in names])
    return g


def _shard_op(o: Op, tp: int, where: str) -> Op:
    if tp == 1:
        return o
    if o.kind in (OpKind.GEMM, OpKind.GEMV) and o.weight_bits:
        leaf = o.name.rsplit(".", 1)[-1]
        if leaf in _ROW_PARALLEL:
            K, N = max(1, o.K // tp), o.N
        else:
            K, N = o.K, max(1, o.N // tp)
        return gemm_op(
            o.name, o.M, N, K, o.batch, weight_bits=o.weight_bits, act_bits=o.act_bits, dtype=o.dtype, phase=o.phase
        )
    if o.kind in ATTENTION_KINDS:
        if o.heads % tp or o.kv_heads % tp:
            raise SpecError(
                f"workload {where!r}: op {o.name}: {o.heads} heads / {o.kv_heads} kv heads not divisible by tp={tp}"
            )
        return attention_op(
            o.name,
            o.kind,
            batch=o.batch // o.kv_heads,
            heads=o.heads // tp,
            kv_heads=o.kv_heads // tp,
            head_dim=o.head_dim,
            q_len=o.q_len,
            kv_len=o.kv_len,
            act_bits=o.act_bits,
            kv_bits=o.kv_bits or None,
            dtype=o.dtype,
            phase=o.phase,
        )
    if not o.is_gemm_like and (".attn." in o.name or ".mlp." in o.name):
        return vector_op(
            o.name,
            o.kind,
            elements=max(1, o.elements // tp),
            bytes_read=o.bytes_read // tp,
            bytes_written=o.bytes_written // tp,
            flops=o.flops // tp,
            act_bits=o.act_bits,
            dtype=o.dtype,
            phase=o.phase,
            weight_bytes=o.weight_bytes // tp,
        )
    return o


def gpt3_decode_graph(
    name: str,
    *,
    d_model: int,
    n_heads: int,
    n_layers: int,
    batch: int,
    kv_len: int,
    d_ff: int | None = None,
) -> WorkloadGraph:
    """A GPT-3-style decode step built from `cosim.graph` builders, with the op names and
    kinds the tracer emits (for tests and for use without torch)."""
    from cosim.graph import Phase

    dec = Phase.DECODE
    d_ff = d_ff or 4 * d_model
    hd = d_model // n_heads
    g = WorkloadGraph(name=name, meta={"model": name, "phase": "decode", "batch": batch, "kv_len": kv_len})
    prev: list[str] = []
    act = batch * d_model

    def vec(nm: str, kind: OpKind, elements: int) -> Op:
        return vector_op(nm, kind, elements=elements, bytes_read=2 * elements, bytes_written=2 * elements, phase=dec)

    def attn(nm: str, kind: OpKind) -> Op:
        return attention_op(
            nm, kind, batch=batch, heads=n_heads, kv_heads=n_heads, head_dim=hd, q_len=1, kv_len=kv_len, phase=dec
        )

    for i in range(n_layers):
        p = f"layers.{i}."
        ops = [
            vec(p + "attn_norm", OpKind.NORM, act),
            gemm_op(p + "attn.q_proj", batch, d_model, d_model, phase=dec),
            gemm_op(p + "attn.k_proj", batch, d_model, d_model, phase=dec),
            gemm_op(p + "attn.v_proj", batch, d_model, d_model, phase=dec),
            vec(p + "attn.cache_write", OpKind.COPY, act),
            vec(p + "attn.cache_write_1", OpKind.COPY, act),
            attn(p + "attn.qk", OpKind.ATTENTION_QK),
            vec(p + "attn.mul", OpKind.ELEMENTWISE, batch * n_heads * kv_len),
            vec(p + "attn.softmax", OpKind.SOFTMAX, batch * n_heads * kv_len),
            attn(p + "attn.av", OpKind.ATTENTION_AV),
            gemm_op(p + "attn.o_proj", batch, d_model, d_model, phase=dec),
            vec(p + "add", OpKind.ELEMENTWISE, act),
            vec(p + "mlp_norm", OpKind.NORM, act),
            gemm_op(p + "mlp.up_proj", batch, d_ff, d_model, phase=dec),
            vec(p + "mlp.gelu", OpKind.ELEMENTWISE, batch * d_ff),
            gemm_op(p + "mlp.down_proj", batch, d_model, d_ff, phase=dec),
            vec(p + "add_1", OpKind.ELEMENTWISE, act),
        ]
        for o in ops:
            g.add_op(o, prev)
            prev = [o.name]
    return g


# --------------------------------------------------------------------------- op timing


class Unit(StrEnum):
    ARRAYS = "npu_sa"
    VECTOR = "npu_vu"
    PIM = "pim"


def _is_pim_attention(op: Op) -> bool:
    return op.kind in ATTENTION_KINDS and op.q_len <= 1


def op_unit(spec: Spec, op: Op) -> Unit:
    """Which unit runs `op` on this system."""
    if spec.pim is not None and _is_pim_attention(op):
        return Unit.PIM
    if spec.pim is not None and spec.offload_weight_gemv and op.kind is OpKind.GEMV and op.weight_bits:
        return Unit.PIM
    if op.is_gemm_like or op.kind in FUSED_ATTENTION_KINDS:
        return Unit.ARRAYS
    return Unit.VECTOR


@dataclass(frozen=True)
class NpuOpTime:
    """An op on the NPU: compute seconds, DRAM bytes, and what it used."""

    op: Op
    unit: Unit
    compute_s: float
    dram_bytes: int
    array_macs: int
    vector_flops: int
    sram_words: tuple[int, int, int, int] = (0, 0, 0, 0)  # ifmap reads, filter reads, ofmap writes, ofmap reads

    def seconds(self, bytes_per_s: float) -> float:
        return max(self.compute_s, self.dram_bytes / bytes_per_s)


def npu_op_time(spec: Spec, op: Op, dram: bool = True) -> NpuOpTime:
    """Compute time and DRAM traffic of an op on the NPU (see module docstring)."""
    npu = spec.npu
    f = npu.clock_hz
    lanes = npu.vector_lanes_total
    nbytes = op.bytes_total if dram else 0
    if op.is_gemm_like or op.kind in FUSED_ATTENTION_KINDS:
        macs = op.macs if op.is_gemm_like else op.flops // 2
        if op.kind in FUSED_ATTENTION_KINDS:
            # fused attention: both GEMMs + softmax, as two GEMMs of the QK shape on the arrays
            cyc = 2 * npu_gemm_cycles(npu, op.M, op.N, op.K, op.batch)
        else:
            cyc = npu_gemm_cycles(npu, op.M, op.N, op.K, op.batch)
        t_arr = cyc / f
        if op.kind in ATTENTION_KINDS:
            # matrix-vector attention: the vector units may do better than the arrays
            t_vec = math.ceil(macs / lanes) / f
            if t_vec < t_arr:
                return NpuOpTime(op, Unit.VECTOR, t_vec, nbytes, 0, 2 * macs)
        words = native_sram_words(npu.dataflow.value, npu.rows, npu.cols, op.M, op.N, op.K)
        n = op.batch * (2 if op.kind in FUSED_ATTENTION_KINDS else 1)
        return NpuOpTime(op, Unit.ARRAYS, t_arr, nbytes, macs, 0, tuple(n * w for w in words))  # type: ignore[arg-type]
    return NpuOpTime(op, Unit.VECTOR, math.ceil(op.flops / lanes) / f, nbytes, 0, op.flops)


# --------------------------------------------------------------------------- energy and area


@dataclass(frozen=True)
class NpuCosts:
    """Per-event energies (J) and area (mm^2) of the NPU: `cosim.cost` at ``npu.tech_node``, priced
    as the systolic model prices its array (`cosim.hw.systolic.Costs`): a PE MAC, scratchpad words
    at one ``sram_port_bits`` access / words per access, one add per vector element operation,
    the scratchpads' leakage; areas: PEs, scratchpads, one MAC unit per vector lane."""

    mac_j: float
    spad_read_j: float
    acc_write_j: float
    acc_read_j: float
    vector_op_j: float
    leakage_w: float
    area_by_component_mm2: tuple[tuple[str, float], ...]


@lru_cache(maxsize=256)
def npu_costs(npu: NpuSpec) -> NpuCosts:
    """`NpuCosts` of `npu` (cached)."""
    node = cost.get_node(npu.tech_node)
    fmt, bits = npu.mac_format
    width = max(bits, npu.sram_port_bits - npu.sram_port_bits % bits)
    spad = cost.sram_cost(node, npu.spad_kib * 1024, width)
    acc = cost.sram_cost(node, npu.accum_spad_kib * 1024, width)
    per = width // bits
    if npu.pe_area_source == "yosys":
        pe = cost.synth_area_mm2(node, transistors=PE_SYNTH_TRANSISTORS[(fmt, bits)] + 2 * bits * DFF_TRANSISTORS)
    else:
        pe = cost.pe_area_mm2(node, fmt, bits)
    areas = {
        "mac": npu.arrays * npu.rows * npu.cols * pe,
        "sram": spad.area_mm2 + acc.area_mm2,
        "vector": npu.vector_lanes_total * cost.mac_area_mm2(node, fmt, bits),
    }
    return NpuCosts(
        mac_j=cost.pe_energy_j(node, fmt, bits),
        spad_read_j=spad.read_j / per,
        acc_write_j=acc.write_j / per,
        acc_read_j=acc.read_j / per,
        vector_op_j=cost.add_energy_j(node, fmt, bits),
        leakage_w=spad.leakage_w + acc.leakage_w,
        area_by_component_mm2=tuple(areas.items()),
    )


def _npu_dram_j(spec: Spec, read_bytes: float, write_bytes: float) -> dict[str, float]:
    """NPU traffic at `cosim.hw.memory` command energies: bursts read/written, and one activation
    per row of bytes moved (whole rows streamed); fractional, so per-op sums equal the total."""
    tm, en = preset(spec.memory), energy_preset(spec.memory)
    return {
        "dram_act": (read_bytes + write_bytes) / tm.row_bytes * en.act_pj * 1e-12,
        "dram_rd": read_bytes / tm.burst_bytes * en.rd_pj * 1e-12,
        "dram_wr": write_bytes / tm.burst_bytes * en.wr_pj * 1e-12,
    }


def npu_op_energy(spec: Spec, it: NpuOpTime) -> dict[str, float]:
    """Energy of one NPU op by component (``mac``, ``sram``, ``vector``, ``dram``)."""
    c = npu_costs(spec.npu)
    r = it.op.bytes_read if it.dram_bytes else 0
    w = it.op.bytes_written if it.dram_bytes else 0
    dram = math.fsum(_npu_dram_j(spec, r, w).values())
    if it.unit is Unit.ARRAYS:
        ifr, flr, ofw, ofr = it.sram_words
        sram = (ifr + flr) * c.spad_read_j + ofw * c.acc_write_j + ofr * c.acc_read_j
        return {"mac": it.array_macs * c.mac_j, "sram": sram, "dram": dram}
    return {"vector": it.vector_flops * c.vector_op_j, "dram": dram}


def pim_energy(spec: Spec, counts: MemoryCounts) -> dict[str, float]:
    """Energy of PIM command counts by component: ``pim`` (in-bank MACs with their bank reads) and
    ``dram`` (activations, refreshes, result reads, vector-buffer loads, host writes)."""
    e = memory_energy_j(counts, energy_preset(spec.memory), 0.0, spec.channels)
    return {"pim": e["pim_mac"], "dram": math.fsum(v for k, v in e.items() if k != "pim_mac")}


def system_area(spec: Spec) -> tuple[float | None, dict[str, float], dict[str, object]]:
    """(total mm^2, by component, extra fields): NPU arrays, scratchpads and vector lanes
    (`npu_costs`) plus the PIM units (`cosim.hw.pim.area_fields`: yosys-calibrated).  The total
    is None when the PIM area is unknown (the note says why)."""
    comp = dict(npu_costs(spec.npu).area_by_component_mm2)
    extra: dict[str, object] = {}
    total: float | None = None
    if spec.pim is not None:
        pim_total, _, extra = pim_model.area_fields(spec.pim)
        if pim_total is not None:
            comp["pim"] = pim_total
            total = math.fsum(comp.values())
    else:
        total = math.fsum(comp.values())
    return total, comp, extra


# --------------------------------------------------------------------------- PIM segments


@dataclass(frozen=True)
class PimSegment:
    """One MHA (or PIM GEMV) segment: the slowest channel's time and what all channels did."""

    cycles: int  # memory command clock
    seconds: float
    counts: MemoryCounts
    mac_cmds: int
    npu_bandwidth_loss: float  # fraction of the NPU's DRAM bandwidth PIM takes while it runs
    channel_cycles: tuple[int, ...]
    busy_fraction: float = 0.0  # mean over channels of (channel time / segment time)
    trace: tuple[pim_model.Command, ...] | None = None


def run_pim_segment(
    pspec: pim_model.Spec, per_channel: Sequence[Sequence[pim_model.ProgramItem]], record_trace: bool = False
) -> PimSegment:
    """Time the per-channel programs (fast or event mode per ``pspec.mode``)."""
    tm = pspec.dram
    cf = pim_model.closed_form(pspec)
    trace = None
    if pspec.mode is pim_model.SimMode.EVENT:
        res = pim_model.simulate_channels(pspec, per_channel, record_trace=record_trace)
        ch_cycles = tuple(s.end_cycle + 1 if s.end_cycle > 0 else 0 for s in res.stats)
        refs = sum(s.refreshes for s in res.stats)
        trace = res.trace
    else:
        ch_cycles_l, refs = [], 0
        for prog in per_channel:
            c, r = pim_model.fast_channel_cycles(pspec, prog, cf)
            ch_cycles_l.append(c + 1 if prog else 0)
            refs += r
        ch_cycles = tuple(ch_cycles_l)
    act = wr = mba = rdres = gw = macs = 0
    slow = max(range(len(ch_cycles)), key=lambda i: ch_cycles[i]) if ch_cycles else 0
    slow_counts = (0, 0, 0)
    for i, prog in enumerate(per_channel):
        k = pim_model.program_counts(pspec, prog)
        act, wr, mba, rdres, gw = act + k.act, wr + k.wr, mba + k.mac_bank_ops, rdres + k.rdres, gw + k.gwrite_bursts
        m = pim_model.program_macs(pspec, prog)
        macs += m
        if i == slow:
            n_cmds = sum(len(pim_model._template_for(pspec, it)) for it in prog)
            slow_counts = (m, k.rdres, n_cmds)
    cycles = max(ch_cycles, default=0)
    loss = _npu_bandwidth_loss(pspec, cf, cycles, *slow_counts)
    counts = MemoryCounts(act=act, wr=wr, ref=refs, mac_bank_ops=mba, rdres=rdres, gwrite_bursts=gw)
    busy = (sum(ch_cycles) / (len(ch_cycles) * cycles)) if cycles else 0.0
    return PimSegment(
        cycles=cycles,
        seconds=cycles / tm.clock_hz,
        counts=counts,
        mac_cmds=macs,
        npu_bandwidth_loss=loss,
        channel_cycles=ch_cycles,
        busy_fraction=busy,
        trace=trace,
    )


def _npu_bandwidth_loss(
    pspec: pim_model.Spec, cf: pim_model.ClosedForm, cycles: int, macs: int, rdres: int, cmds: int
) -> float:
    """Fraction of the external bandwidth normal traffic loses to a PIM program running for
    `cycles` on a channel with `macs` MACs, `rdres` result reads and `cmds` commands (PIM has
    priority).  Dual buffers: result reads hold the data bus and PIM commands the command bus
    (a full-bandwidth read stream needs one RD per burst plus ACT/PRE per row); with
    ``shared_column_path`` MACs also take read slots of the column cadence."""
    if not cycles:
        return 0.0
    tm = pspec.dram
    g = cf.table.gaps
    C = pim_model.Scope.CHANNEL
    col = g[pim_model.Cmd.RDRES][pim_model.Cmd.RD][C] or tm.burst_cycles
    data_bus = rdres * tm.burst_cycles / cycles
    if pspec.shared_column_path:
        mac_gap = g[pim_model.Cmd.MAC][pim_model.Cmd.MAC][C]
        return min(1.0, (macs * min(mac_gap, col) + rdres * col) / cycles)
    reads_per_cycle = tm.peak_bytes_per_cycle / tm.burst_bytes * (1 + 2 * tm.burst_bytes / tm.row_bytes)
    cmd_overflow = max(0.0, cmds / cycles + reads_per_cycle - 1.0) / reads_per_cycle
    return min(1.0, max(data_bus, cmd_overflow))


def request_program(pspec: pim_model.Spec, ops: Sequence[Op], kv: int) -> list[pim_model.ProgramItem]:
    """One request's PIM program for the PIM ops of an MHA segment (logit and/or attend parts)."""
    prog: list[pim_model.ProgramItem] = []
    for op in ops:
        if op.kind is OpKind.ATTENTION_QK:
            prog += pim_model.attention_program(pspec, kv, op.heads, op.head_dim, op.kv_heads, part="logit")
        elif op.kind is OpKind.ATTENTION_AV:
            prog += pim_model.attention_program(pspec, kv, op.heads, op.head_dim, op.kv_heads, part="attend")
        elif op.kind in FUSED_ATTENTION_KINDS:
            prog += pim_model.attention_program(pspec, kv, op.heads, op.head_dim, op.kv_heads)
    return prog


# --------------------------------------------------------------------------- segments


@dataclass
class Segment:
    """A run of ops on one side: ``npu`` ops back to back, or an ``mha`` segment (PIM ops plus
    the vector ops between them)."""

    kind: str
    ops: list[Op] = field(default_factory=list)

    @property
    def pim_ops(self) -> list[Op]:
        return [
            o for o in self.ops if o.kind in ATTENTION_KINDS or o.kind in FUSED_ATTENTION_KINDS or o.kind is OpKind.GEMV
        ]


def segments(spec: Spec, graph: WorkloadGraph) -> list[Segment]:
    """Split the op sequence into alternating NPU and MHA segments (module docstring, step 1):
    an MHA segment runs from a PIM op to the last PIM op before the next array op."""
    ops = graph.ops
    units = [op_unit(spec, o) for o in ops]
    segs: list[Segment] = []
    i, n = 0, len(ops)
    while i < n:
        if units[i] is Unit.PIM:
            j, last_pim = i, i
            while j + 1 < n and units[j + 1] is not Unit.ARRAYS:
                j += 1
                if units[j] is Unit.PIM:
                    last_pim = j
            segs.append(Segment("mha", list(ops[i : last_pim + 1])))
            i = last_pim + 1
        else:
            if not segs or segs[-1].kind != "npu":
                segs.append(Segment("npu"))
            segs[-1].ops.append(ops[i])
            i += 1
    return segs


# --------------------------------------------------------------------------- scheduling


@dataclass(frozen=True)
class Stage:
    """A stretch of time: what ran on the NPU and on PIM, and how long it took."""

    seconds: float
    npu_seconds: float
    pim_seconds: float
    label: str


@dataclass(frozen=True)
class SystemResult:
    """Everything `simulate_detailed` measured; `run` is the RunResult view."""

    run: RunResult
    seconds: float
    tokens_per_s: float
    npu_utilization: float  # array MACs / (peak MACs x time)
    pim_utilization: float  # PIM multiplier-lane work / (peak lanes x time)
    stages: tuple[Stage, ...]
    pim_segments: tuple[PimSegment, ...]
    energy_by_component_j: dict[str, float]
    sub_batched: bool
    pim_unit_bank_fraction: float | None = None  # in-bank unit area / bank area (cosim.hw.pim_unit)
    # busy-time utilizations, as the NeuPIMs artifact measures them (Table 4): the fraction of the
    # step the systolic arrays compute (NeuPIMSystolicWS::update_stats: cycles with a non-empty
    # compute pipeline), and the mean over channels of the fraction a channel has PIM work queued
    # (NeuPIMSCommandQueue::ClockTick "pim_cycles", averaged by PIM::get_avg_pim_cycle)
    npu_busy: float = 0.0
    pim_busy: float = 0.0


def _fluid_end(start: float, nbytes: float, bw: float, f: float, pim_end: float) -> float:
    """When `nbytes` finish streaming from `start` at bw*(1-f) until `pim_end`, bw after."""
    if nbytes <= 0:
        return start
    slow = bw * (1.0 - f)
    if start < pim_end and slow > 0:
        can = (pim_end - start) * slow
        if nbytes <= can:
            return start + nbytes / slow
        return pim_end + (nbytes - can) / bw
    if start < pim_end:  # no bandwidth at all while PIM runs
        return pim_end + nbytes / bw
    return start + nbytes / bw


def _npu_time(items: Sequence[NpuOpTime], bw: float, f: float = 0.0, pim_end: float = 0.0) -> float:
    """NPU ops back to back, each max(compute, memory) with memory slowed while PIM runs."""
    t = 0.0
    for it in items:
        t = max(t + it.compute_s, _fluid_end(t, it.dram_bytes, bw, f, pim_end))
    return t


def _scale_op(op: Op, num: int, den: int) -> Op:
    """`op` for num/den of the batch (a sub-batch)."""
    if num == den:
        return op
    if op.kind in (OpKind.GEMM, OpKind.GEMV):
        M = max(1, round(op.M * num / den))
        return gemm_op(
            op.name,
            M,
            op.N,
            op.K,
            op.batch,
            weight_bits=op.weight_bits,
            act_bits=op.act_bits,
            dtype=op.dtype,
            phase=op.phase,
        )
    if op.kind in ATTENTION_KINDS:
        reqs = op.batch // op.kv_heads
        return attention_op(
            op.name,
            op.kind,
            batch=max(1, round(reqs * num / den)),
            heads=op.heads,
            kv_heads=op.kv_heads,
            head_dim=op.head_dim,
            q_len=op.q_len,
            kv_len=op.kv_len,
            act_bits=op.act_bits,
            kv_bits=op.kv_bits or None,
            dtype=op.dtype,
            phase=op.phase,
        )
    if op.is_gemm_like:
        return replace(op, M=max(1, round(op.M * num / den)))
    fr = num / den
    return vector_op(
        op.name,
        op.kind,
        elements=max(1, round(op.elements * fr)),
        bytes_read=op.weight_bytes + round((op.bytes_read - op.weight_bytes) * fr),
        bytes_written=round(op.bytes_written * fr),
        flops=round(op.flops * fr),
        act_bits=op.act_bits,
        dtype=op.dtype,
        phase=op.phase,
        weight_bytes=op.weight_bytes,
    )


class _Runner:
    """Evaluates segments for a batch split (memoizes identical MHA segments across layers)."""

    def __init__(self, spec: Spec, record_traces: bool) -> None:
        self.spec = spec
        self.record = record_traces
        self.cache: dict[tuple, PimSegment] = {}
        self.bw = spec.npu_dram_bytes_per_s

    def npu_items(self, ops: Sequence[Op], num: int, den: int, in_mha: bool = False) -> list[NpuOpTime]:
        out = []
        for o in ops:
            so = _scale_op(o, num, den)
            # vector work of an MHA segment reads PIM results already on chip: no DRAM bytes
            out.append(npu_op_time(self.spec, so, dram=not in_mha))
        return out

    def mha(self, seg: Segment, lengths: Sequence[int], assign: Sequence[int], reqs: Sequence[int]) -> PimSegment:
        pspec = self.spec.pim
        assert pspec is not None
        pops = seg.pim_ops
        key = (
            tuple(
                (o.kind, o.heads, o.kv_heads, o.head_dim, o.K, o.N, o.batch if o.kind is OpKind.GEMV else 0)
                for o in pops
            ),
            tuple((assign[r], lengths[r]) for r in reqs),
        )
        got = self.cache.get(key)
        if got is not None:
            return got
        C = self.spec.channels
        per_ch: list[list[pim_model.ProgramItem]] = [[] for _ in range(C)]
        att = [o for o in pops if o.kind is not OpKind.GEMV]
        gemv = [o for o in pops if o.kind is OpKind.GEMV]
        progs: dict[int, list[pim_model.ProgramItem]] = {}
        for r in reqs:
            L = lengths[r]
            if L not in progs:
                progs[L] = request_program(pspec, att, L)
            per_ch[assign[r]].extend(progs[L])
        for o in gemv:
            for ch, p in enumerate(pim_model.weight_gemv_programs(pspec, o.K, o.N * o.batch, C)):
                per_ch[ch].extend(p)
        while per_ch and not per_ch[-1]:
            per_ch.pop()
        seg_res = run_pim_segment(pspec, per_ch, self.record)
        self.cache[key] = seg_res
        return seg_res


def _attention_requests(seg_ops: Sequence[Op]) -> tuple[int, int] | None:
    for o in seg_ops:
        if o.kind in ATTENTION_KINDS or o.kind in FUSED_ATTENTION_KINDS:
            return o.batch // max(1, o.kv_heads), o.kv_len
    return None


def simulate_detailed(spec: Spec, graph: WorkloadGraph, *, record_traces: bool = False) -> SystemResult:
    """Run `graph` on the system (module docstring) and return all measurements.

    Args:
        spec: the system.
        graph: a workload graph (whole model: `Spec.tensor_parallel`/`pipeline_parallel` shard it).
        record_traces: keep the PIM command trace of every distinct MHA segment (event mode).
    """
    g = shard_graph(graph, spec.tensor_parallel, spec.pipeline_parallel)
    if g.number_of_nodes() == 0:
        raise SpecError(f"workload {graph.title!r}: no ops")
    segs = segments(spec, g)
    runner = _Runner(spec, record_traces)
    npu = spec.npu
    bw = runner.bw
    # requests, their KV lengths, channels and sub-batches (one batch for the whole step)
    info = next((_attention_requests(s.ops) for s in segs if s.kind == "mha"), None)
    batch = int(g.meta.get("batch") or (info[0] if info else 1))
    stages: list[Stage] = []
    pim_segs: list[PimSegment] = []
    totals: dict[str, float] = {
        "array_macs": 0,
        "vector_flops": 0,
        "npu_bytes_r": 0,
        "npu_bytes_w": 0,
        "pim_lanes": 0,
        "npu_sram_j": 0.0,
    }
    busy_s = {"arrays": 0.0, "pim": 0.0}  # array compute time; PIM time summed over channels / channels
    pim_counts: list[MemoryCounts] = []
    per_op: dict[str, list[Any]] = {}  # name -> [unit, seconds, array MACs, bound, energy by component]

    def note(op: Op, unit: str, seconds: float, macs: int, bound: Bound, energy: Mapping[str, float]) -> None:
        e = per_op.setdefault(op.name, [unit, 0.0, 0, bound, {}])
        e[1] += seconds
        e[2] += macs
        for k, v in energy.items():
            e[4][k] = e[4].get(k, 0.0) + v

    def account_npu(items: Sequence[NpuOpTime]) -> None:
        for it in items:
            t = it.seconds(bw)
            energy = npu_op_energy(spec, it)
            note(it.op, it.unit.value, t, it.array_macs, Bound.COMPUTE if it.compute_s >= t else Bound.MEMORY, energy)
            totals["array_macs"] += it.array_macs
            if it.unit is Unit.ARRAYS:
                busy_s["arrays"] += it.compute_s
            totals["vector_flops"] += it.vector_flops
            totals["npu_bytes_r"] += it.op.bytes_read if it.dram_bytes else 0
            totals["npu_bytes_w"] += it.op.bytes_written if it.dram_bytes else 0
            totals["npu_sram_j"] += energy.get("sram", 0.0)

    def account_pim(ps: PimSegment, seg: Segment) -> None:
        n = max(1, len(seg.pim_ops))
        share = {k: v / n for k, v in pim_energy(spec, ps.counts).items()}
        for o in seg.pim_ops:
            note(o, Unit.PIM.value, ps.seconds / n, 0, Bound.MEMORY, share)
        pim_segs.append(ps)
        pim_counts.append(ps.counts)
        assert spec.pim is not None
        busy_s["pim"] += sum(ps.channel_cycles) / (spec.channels * spec.pim.dram.clock_hz)
        totals["pim_lanes"] += ps.mac_cmds * spec.pim.dram.banks_per_channel * spec.pim.multipliers_per_bank

    if info is not None and spec.pim is not None:
        n_req, mean_kv = info
        lengths = kv_lengths(mean_kv, n_req, spec.kv_len_spread, spec.max_seq_len)
        if spec.channel_balancing is Balancing.GREEDY:
            cf = pim_model.closed_form(spec.pim)
            att = [o for s in segs if s.kind == "mha" for o in s.pim_ops][:2]
            loads = [
                pim_model.fast_channel_cycles(replace(spec.pim, refresh=False), request_program(spec.pim, att, L), cf)[
                    0
                ]
                for L in lengths
            ]
            assign = pim_model.greedy_channels(loads, spec.channels)
        else:
            assign = pim_model.round_robin_channels(n_req, spec.channels)
    else:
        n_req, lengths, assign = batch, [], []
    sbi = (
        spec.pim is not None
        and spec.sub_batch_interleaving
        and spec.dual
        and n_req >= spec.sbi_min_batch
        and any(s.kind == "mha" for s in segs)
    )
    if sbi:
        sb1, sb2 = pim_model.split_sub_batches(assign, spec.channels)
        halves = [sb1, sb2]
        # alternating lists: NPU segments N_0..N_L and MHA segments M_1..M_L
        npu_segs: list[list[Op]] = []
        mha_segs: list[Segment] = []
        cur: list[Op] = []
        for s in segs:
            if s.kind == "npu":
                cur += s.ops
            else:
                npu_segs.append(cur)
                mha_segs.append(s)
                cur = []
        npu_segs.append(cur)
        L = len(mha_segs)
        for st in range(2 * L + 2):
            i_n, sb_n = st // 2, st % 2
            i_m, sb_m = (st + 1) // 2, 1 - st % 2
            n_items: list[NpuOpTime] = []
            if i_n <= L:
                n_items = runner.npu_items(npu_segs[i_n], len(halves[sb_n]), n_req)
            ps = None
            vec_items: list[NpuOpTime] = []
            if 1 <= i_m <= L:
                seg = mha_segs[i_m - 1]
                ps = runner.mha(seg, lengths, assign, halves[sb_m])
                vec_ops = [o for o in seg.ops if op_unit(spec, o) is not Unit.PIM]
                vec_items = runner.npu_items(vec_ops, len(halves[sb_m]), n_req, in_mha=True)
            t_pim = ps.seconds if ps else 0.0
            f = ps.npu_bandwidth_loss if ps else 0.0
            t_npu = _npu_time(n_items + vec_items, bw, f, t_pim)
            stages.append(Stage(max(t_npu, t_pim), t_npu, t_pim, f"stage {st}"))
            account_npu(n_items + vec_items)
            if ps:
                account_pim(ps, mha_segs[i_m - 1])
    else:
        everyone = list(range(n_req))
        for s in segs:
            if s.kind == "npu" or spec.pim is None:
                items = runner.npu_items(s.ops, 1, 1)
                t = _npu_time(items, bw)
                stages.append(Stage(t, t, 0.0, "npu"))
                account_npu(items)
            else:
                ps = runner.mha(s, lengths, assign, everyone)
                vec_ops = [o for o in s.ops if op_unit(spec, o) is not Unit.PIM]
                items = runner.npu_items(vec_ops, 1, 1, in_mha=True)
                t_vec = _npu_time(items, bw)
                # dual buffers: softmax of one head overlaps PIM on the next (NeuPIMs Fig. 10)
                t = max(ps.seconds, t_vec) if spec.dual else ps.seconds + t_vec
                stages.append(Stage(t, t_vec, ps.seconds, "mha"))
                account_npu(items)
                account_pim(ps, s)
    op_results = []
    for o in g.ops:
        if o.name in per_op:
            unit, t, macs, bound, op_energy = per_op[o.name]
            util = macs / (npu.peak_macs_per_cycle * npu.clock_hz * t) if t and macs else 0.0
            op_results.append(
                OpResult(
                    op=o,
                    cycles=math.ceil(t * npu.clock_hz),
                    seconds=t,
                    energy_j=math.fsum(op_energy.values()),
                    utilization=min(1.0, util),
                    bound=bound,
                    unit=unit,
                    energy_by_component_j=op_energy,
                )
            )
    seconds = math.fsum(s.seconds for s in stages)
    # utilization
    npu_util = totals["array_macs"] / (npu.peak_macs_per_cycle * npu.clock_hz * seconds) if seconds else 0.0
    if spec.pim is not None and seconds:
        peak = pim_model.peak_mac_lanes_per_cycle(spec.pim) * spec.pim.dram.clock_hz
        pim_util = totals["pim_lanes"] / (peak * seconds)
    else:
        pim_util = 0.0
    npu_busy = busy_s["arrays"] / seconds if seconds else 0.0
    pim_busy = busy_s["pim"] / seconds if seconds else 0.0
    energy = _energy(spec, totals, pim_counts, seconds)
    static_j = energy["dram_background"] + energy.get("pim_background", 0.0) + energy["npu_leakage"]
    tokens = n_req if info is not None else batch
    # area: the NPU (arrays, scratchpads, vector lanes; cost library) and the PIM units (yosys-
    # calibrated), by component, with the PIM unit's fraction of a bank beside published overheads
    area_mm2, area_comp, area_extra = system_area(spec)
    run = RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=tuple(op_results),
        clock_hz=npu.clock_hz,
        area_mm2=area_mm2,
        area_by_component_mm2=area_comp,
        total_cycles=math.ceil(seconds * npu.clock_hz),
        total_seconds=seconds,
        extra={
            "tokens_per_s": tokens / seconds if seconds else 0.0,
            "npu_utilization": npu_util,
            "pim_utilization": pim_util,
            "npu_busy": npu_busy,
            "pim_busy": pim_busy,
            "sub_batch_interleaving": sbi,
            "stages": len(stages),
            "energy_detail_j": energy,
            # background power of the channels and the scratchpads' leakage over the run: not per op
            "static_energy_j": static_j,
            **area_extra,
        },
    )
    return SystemResult(
        run=run,
        seconds=seconds,
        tokens_per_s=tokens / seconds if seconds else 0.0,
        npu_utilization=npu_util,
        pim_utilization=pim_util,
        stages=tuple(stages),
        pim_segments=tuple(pim_segs),
        energy_by_component_j=energy,
        sub_batched=sbi,
        pim_unit_bank_fraction=area_extra.get("pim_unit_bank_fraction"),  # type: ignore[arg-type]
        npu_busy=npu_busy,
        pim_busy=pim_busy,
    )


def _energy(
    spec: Spec, totals: Mapping[str, float], pim_counts: Sequence[MemoryCounts], seconds: float
) -> dict[str, float]:
    """The whole step's energy in detail (what `SystemResult.energy_by_component_j` reports): NPU
    MACs, vector work, scratchpad accesses and leakage (`npu_costs`), and every memory command
    class (`cosim.hw.memory`: NPU traffic as whole-row streams, PIM program counts, refreshes)
    plus background power x time.  Per-op energies regroup the same events (`npu_op_energy`,
    `pim_energy`) and the time-based parts form ``static``; both sum to the same total."""
    c = npu_costs(spec.npu)
    en = energy_preset(spec.memory)
    pim = MemoryCounts()
    for k in pim_counts:
        pim = MemoryCounts(
            act=pim.act + k.act,
            rd=pim.rd + k.rd,
            wr=pim.wr + k.wr,
            ref=pim.ref + k.ref,
            mac_bank_ops=pim.mac_bank_ops + k.mac_bank_ops,
            rdres=pim.rdres + k.rdres,
            gwrite_bursts=pim.gwrite_bursts + k.gwrite_bursts,
        )
    out = {
        "npu_mac": totals["array_macs"] * c.mac_j,
        "npu_vector": totals["vector_flops"] * c.vector_op_j,
        "npu_sram": totals["npu_sram_j"],
        "npu_leakage": c.leakage_w * seconds,
    }
    mem = memory_energy_j(pim, en, seconds, spec.channels, pim_buffers=spec.dual)
    for k, v in _npu_dram_j(spec, totals["npu_bytes_r"], totals["npu_bytes_w"]).items():
        mem[k] += v
    out.update(mem)
    return out


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    """Registry entry point: `simulate_detailed(...).run`."""
    return simulate_detailed(spec, graph).run


def throughput_tokens_per_s(result: RunResult, graph: WorkloadGraph) -> float:
    """Decode throughput of a run: the graph's batch (one token per sequence) per second."""
    if "tokens_per_s" in result.extra:
        return float(result.extra["tokens_per_s"])
    batch = int(graph.meta.get("batch") or 1)
    return batch / result.seconds if result.seconds else 0.0


__all__ = [
    "Balancing",
    "Dataflow",
    "KvSpread",
    "NpuOpTime",
    "NpuSpec",
    "PimSegment",
    "Segment",
    "Spec",
    "Stage",
    "SystemResult",
    "Unit",
    "array_gemm_cycles",
    "decoder_blocks",
    "gpt3_decode_graph",
    "kv_lengths",
    "npu_gemm_cycles",
    "npu_op_time",
    "op_unit",
    "request_program",
    "run_pim_segment",
    "segments",
    "shard_graph",
    "simulate",
    "simulate_detailed",
    "throughput_tokens_per_s",
]


from cosim.hw import register_system  # noqa: E402  (the registry imports this module)

register_system()
