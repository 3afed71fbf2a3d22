"""Systolic array (output-, weight- or input-stationary), cycle-identical to SCALE-Sim 3.0.0.

What it models.  An R x C array of MAC units fed by three double-buffered SRAMs (ifmap, filter,
ofmap) behind a DRAM interface, running one GEMM-like op at a time.  A GEMM (output M x N,
reduction K, weights K x N) is mapped as SCALE-Sim maps it: with Sr x Sc spatial and T temporal,

=========  ======  ======  ======  =====================  ==========================
dataflow     Sr      Sc      T      folds                 cycles per fold
=========  ======  ======  ======  =====================  ==========================
OS           M       N       K      ceil(M/R) ceil(N/C)    R + C + K - 2
WS           K       N       M      ceil(K/R) ceil(N/C)    2R + C + M - 2
IS           K       M       N      ceil(K/R) ceil(M/C)    2R + C + N - 2
=========  ======  ======  ======  =====================  ==========================

Folds run back to back (column folds outer, row folds inner, as SCALE-Sim orders them).  Conv
layers are lowered to the implicit GEMM (M = output pixels, K = R*S*C, N = filters); ops with
``batch > 1`` (conv groups, attention heads) run ``batch`` times back to back, each as its own
SCALE-Sim layer (fresh buffers).

Two counting conventions (``Spec.convention``):

* ``scalesim`` (what ``cosim simulate --arch X.cfg`` gives): SCALE-Sim's compute report, its
  quirks included so users can switch tools and compare numbers.  Each quirk is reproduced
  where it is computed below and marked ``SCALE-Sim quirk``:
  total cycles are the last 0-based cycle index (count - 1); OS ofmap SRAM writes add
  folds*(R+C); compute utilisation divides by R+C+T-2 (OS) but 2R+2C+T-3 (WS/IS) cycles per
  fold; DRAM reads follow its set-based prefetch bookkeeping (an operand larger than half its
  SRAM is re-fetched in 50-set epochs); DRAM writes count the -1 padding of ofmap lines flushed
  in the middle of a drain chunk; in USER bandwidth mode every stall is added twice.
* ``native``: the same mapping counted the way the hardware works: cycles are a count (no -1),
  each output written once (no double count), WS/IS partial sums read back from the ofmap
  SRAM between row folds, DRAM traffic from tile reuse (an operand that fits in half its SRAM
  is fetched once, otherwise once per reuse pass), and stalls from a DRAM-bandwidth roofline.
  Every count is closed form: use it for design-space sweeps.

How the ``scalesim`` numbers are computed without SCALE-Sim's per-cycle demand matrices:
cycles, utilisations and SRAM counts are closed forms.  DRAM reads are the operand's unique
words when it fits in one prefetch epoch (half its SRAM: the common case); otherwise an exact
fold-level recurrence (`_epoch_passes`, GEMM operands) or, for convolution inputs only, one
numpy pass over the layer's im2col addresses (`_epoch_stream`).  DRAM writes and write stalls
come from an event model of SCALE-Sim's ofmap drain (`_ofmap_drain`: one step per drain).
USER (bandwidth-limited) mode follows SCALE-Sim's read-buffer windows miss by miss over numpy
streams of set indices (`_user_mode_reads`).  Cost: microseconds per layer in the common
case; milliseconds (USER mode, operands larger than half an SRAM) up to seconds per network
(conv inputs far larger than small SRAMs), still orders of magnitude faster than SCALE-Sim.
USER mode holds each operand's address stream in memory (~70 bytes per SRAM read) and refuses,
with an error naming the op, a layer that would not fit (`USER_MODE_BYTES_PER_READ`).

Non-GEMM ops (softmax, norm, elementwise, pool, ...) run on a vector unit: ``lanes`` elements
per cycle, ``flops_per_element`` from `cosim.graph.VECTOR_FLOPS_PER_ELEMENT`, overlapped with
streaming its bytes at the DRAM bandwidth, plus a fixed per-op overhead:
``cycles = overhead + max(ceil(flops / lanes), ceil(bytes / (dram_words_per_cycle * word_bytes)))``.
``attention_qk``/``attention_av`` are GEMMs on the array; the fused ``attention_decode``/
``attention_prefill`` kinds run as their QK and AV GEMMs on the array (no causal skipping) plus
a 5-FLOP-per-score softmax on the vector unit, back to back.

Energy and area come from the cost library (`cosim.cost`) at ``tech_node`` (`Costs`): energy =
MACs x PE energy + SRAM words x per-word access energy of each buffer + DRAM words x the
``dram_kind`` energy + vector element-operations x an add + the buffers' leakage x time
(components ``mac``, ``sram``, ``dram``, ``vector``, ``static``); area = R x C PEs (the cost
library's PE, or ``pe_area_source: yosys``: our MAC RTL synthesised, `PE_SYNTH_TRANSISTORS`) + the
three SRAMs + the vector lanes, unless ``area_mm2`` gives a published figure.  The SCALE-Sim
fields are the event counts; energy and area are extra, they change no count.

The RTL co-simulation predicts one tile with `gemm_cycles`; the design-space explorer uses
`graph_arrays` (cached per graph) and `simulate_totals` (numpy over all layers).
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import numpy as np

from cosim import cost
from cosim.errors import ModelError, SpecError
from cosim.graph import FUSED_ATTENTION_KINDS, GEMM_LIKE_KINDS, Op, OpKind, WorkloadGraph
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.spec import doc_field


class Dataflow(StrEnum):
    """Which operand stays in the PEs: outputs, weights (filters) or inputs."""

    OS = "os"
    WS = "ws"
    IS = "is"


class BandwidthMode(StrEnum):
    """SCALE-Sim's ``InterfaceBandwidth``: CALC estimates the DRAM bandwidth needed for no
    stalls (reads never stall); USER stalls on a given interface bandwidth."""

    CALC = "calc"
    USER = "user"


class Convention(StrEnum):
    """How counts are reported (see the module docstring)."""

    SCALESIM = "scalesim"
    NATIVE = "native"


@dataclass(frozen=True)
class VectorUnit:
    """The unit that runs non-GEMM ops: ``lanes`` element-operations per cycle."""

    lanes: int = doc_field(128, doc="element operations per cycle", min=1)
    overhead_cycles: int = doc_field(0, doc="fixed cycles per op (issue, pipeline fill)", min=0)


class AreaSource(StrEnum):
    """Where a PE's area comes from."""

    TABLE = "table"  # cosim.cost: Horowitz multiplier/adder areas + Aladdin registers, at tech_node
    YOSYS = "yosys"  # our MAC RTL synthesised by yosys (`PE_SYNTH_TRANSISTORS`), via cost.synth_area_mm2


# yosys 0.23 transistor counts of one MAC (multiplier, accumulate adder, accumulator register) in our
# RTL, flow of `cosim.synth.cell_stat` (synth -flatten, abc -g cmos2, yosys's CMOS cost
# table); reproduce with `synthesize_pe_mac` (tests/hw/test_systolic_cost.py re-runs it):
#   int8:    rtl/lut_tc/mac_dp.sv K=1 AW=8 WW=8 ACC_W=32   (32-bit accumulator, cost.default_acc_bits)
#   int16:   rtl/lut_tc/mac_dp.sv K=1 AW=16 WW=16 ACC_W=48
#   float16: rtl/lut_tc/mac_dp_fp16.sv K=1 (FP16 multiply and FP16 accumulate, as that RTL does)
# A PE adds its two forwarded-operand registers: 2 x bits flip-flops at yosys's 16 transistors each.
PE_SYNTH_TRANSISTORS: dict[tuple[str, int], int] = {("int", 8): 6280, ("int", 16): 19178, ("fp", 16): 12486}
DFF_TRANSISTORS = 16  # yosys passes/cmds/stat.cc: a D flip-flop in `stat -tech cmos`


class BufferWords(NamedTuple):
    """A spec's three SRAMs in words, with the thresholds SCALE-Sim's buffers act on."""

    ifmap: int
    filter: int
    ofmap: int
    ifmap_epoch: int  # `_epoch_words`: new ifmap words after which the read buffer starts over
    filter_epoch: int
    ofmap_drain: int  # words past which the ofmap write buffer drains (`_ofmap_drain`)


@dataclass(frozen=True)
class Spec:
    """A systolic array with three double-buffered SRAMs and a DRAM interface.

    SRAM sizes are in KiB as in SCALE-Sim's ``*SramSzkB`` keys (1 kB = 1024 bytes there).
    Words are ``word_bytes`` wide (SCALE-Sim: always 1); every operand element of a GEMM-like
    op is one word whatever the op's bit widths (set ``word_bytes: 2`` for an fp16 datapath),
    while vector ops move their own ``bytes_read + bytes_written``.  DRAM bandwidth is in words per
    cycle; in USER mode SCALE-Sim reads ifmap/filter through its ``[layout]`` bank bandwidths
    and drains the ofmap at ``Bandwidth``: the ``*_dram_words_per_cycle`` overrides carry those
    (0 = use ``dram_words_per_cycle``).
    """

    name: str
    rows: int = doc_field(doc="PE rows (R)", min=1)
    cols: int = doc_field(doc="PE columns (C)", min=1)
    dataflow: Dataflow = doc_field(Dataflow.WS, doc="os, ws or is")
    ifmap_sram_kib: int = doc_field(1024, doc="ifmap SRAM, KiB (both halves of the double buffer)", min=1)
    filter_sram_kib: int = doc_field(1024, doc="filter SRAM, KiB", min=1)
    ofmap_sram_kib: int = doc_field(1024, doc="ofmap SRAM, KiB", min=1)
    word_bytes: int = doc_field(1, doc="bytes per word (SCALE-Sim: 1)", min=1)
    bandwidth_mode: BandwidthMode = doc_field(BandwidthMode.CALC, doc="calc or user")
    dram_words_per_cycle: int = doc_field(10, doc="DRAM interface bandwidth, words/cycle", min=1)
    ifmap_dram_words_per_cycle: int = doc_field(
        0, doc="USER mode ifmap fill bandwidth (0: dram_words_per_cycle)", min=0
    )
    filter_dram_words_per_cycle: int = doc_field(0, doc="USER mode filter fill bandwidth (0: dram_words)", min=0)
    clock_hz: float = doc_field(1e9, doc="clock, Hz", gt=0)
    convention: Convention = doc_field(Convention.SCALESIM, doc="scalesim (its report, quirks kept) or native")
    vector: VectorUnit = field(default_factory=VectorUnit)
    tech_node: str = doc_field(
        "28nm", doc="cost-library node for energy and area (default: TPU v1's 28 nm, Jouppi et al. ISCA 2017)"
    )
    mac_dtype: str = doc_field(
        "", doc="MAC operand type for energy/area (torch name); empty: int8, float16, float32 by word_bytes 1, 2, 4"
    )
    dram_kind: str = doc_field(
        "ddr3", doc="off-chip memory for energy (cosim.cost.DramKind; DDR4 is not tabulated, DDR3 stands in)"
    )
    sram_port_bits: int = doc_field(
        256, doc="port width of each SRAM buffer for its energy per access and area (CACTI table: 32..1024)", min=8
    )
    pe_area_source: AreaSource = doc_field(AreaSource.TABLE, doc="table (cost library) or yosys (our MAC RTL)")
    area_mm2: float | None = doc_field(None, doc="published area that replaces the built-up one (mm^2)", gt=0)
    description: str = ""

    def __post_init__(self) -> None:
        # accept the enums' string values when built in code (dataclasses.replace(s, dataflow="os"))
        for name, enum in (
            ("dataflow", Dataflow),
            ("bandwidth_mode", BandwidthMode),
            ("convention", Convention),
            ("pe_area_source", AreaSource),
        ):
            v = getattr(self, name)
            if not isinstance(v, enum):
                try:
                    object.__setattr__(self, name, enum(v))
                except ValueError:
                    allowed = ", ".join(m.value for m in enum)
                    raise SpecError(f"{name}: unknown value {v!r} (allowed: {allowed})") from None
        for name in ("rows", "cols"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise SpecError(f"{name}: must be a positive integer, got {getattr(self, name)!r}")
        cost.get_node(self.tech_node)  # SpecError naming the allowed nodes
        cost.dram_energy_per_bit_j(self.dram_kind)
        if self.mac_dtype:
            cost.dtype_format(self.mac_dtype)
        elif self.word_bytes not in (1, 2, 4):
            raise SpecError(f"mac_dtype: give it for word_bytes {self.word_bytes} (implied only for 1, 2, 4)")
        if self.pe_area_source is AreaSource.YOSYS and self.mac_format not in PE_SYNTH_TRANSISTORS:
            have = ", ".join(f"{f}{b}" for f, b in PE_SYNTH_TRANSISTORS)
            fmt, bits = self.mac_format
            raise SpecError(f"pe_area_source: yosys: no synthesised MAC for {fmt}{bits} (have: {have})")

    def __hash__(self) -> int:
        # cached: `simulate` looks its spec up once per call, and hashing 24 fields (five of them
        # enums or dataclasses hashed in Python) costs more than a small layer's arithmetic
        h = self.__dict__.get("_hash")
        if h is None:
            h = self.__dict__["_hash"] = hash(tuple(getattr(self, f.name) for f in fields(self)))
        return h

    def __getstate__(self) -> dict[str, Any]:
        # a pickle (process pools, Ray, Dask) must not carry the hash: str hashes differ per process
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def ifmap_bw(self) -> int:
        return self.ifmap_dram_words_per_cycle or self.dram_words_per_cycle

    @property
    def filter_bw(self) -> int:
        return self.filter_dram_words_per_cycle or self.dram_words_per_cycle

    def sram_words(self, kib: int) -> int:
        return (kib * 1024) // self.word_bytes

    @cached_property
    def buffers(self) -> BufferWords:
        """The SRAMs in words and SCALE-Sim's buffer thresholds (cached: every layer asks)."""
        kibs = (self.ifmap_sram_kib, self.filter_sram_kib, self.ofmap_sram_kib)
        w_if, w_fl, w_of = (self.sram_words(k) for k in kibs)
        return BufferWords(w_if, w_fl, w_of, _epoch_words(w_if), _epoch_words(w_fl), w_of - math.ceil(w_of * 0.5))

    @property
    def mac_format(self) -> tuple[str, int]:
        """(``int``/``fp``, bits) of the MACs: `mac_dtype`, else implied by `word_bytes`."""
        if self.mac_dtype:
            fmt, bits = cost.dtype_format(self.mac_dtype)
        else:
            fmt, bits = {1: (cost.NumFormat.INT, 8), 2: (cost.NumFormat.FP, 16), 4: (cost.NumFormat.FP, 32)}[
                self.word_bytes
            ]
        return fmt.value, bits


# --------------------------------------------------------------------------- the mapping


def spatial_temporal(dataflow: Dataflow, M: int, N: int, K: int) -> tuple[int, int, int]:
    """(Sr, Sc, T) of a GEMM under `dataflow` (SCALE-Sim's ``calc_spatio_temporal_params``)."""
    if dataflow is Dataflow.OS:
        return M, N, K
    if dataflow is Dataflow.WS:
        return K, N, M
    if dataflow is Dataflow.IS:
        return K, M, N
    raise SpecError(f"dataflow: unknown value {dataflow!r} (allowed: os, ws, is)")


def cycles_per_fold(dataflow: Dataflow, rows: int, cols: int, T: int) -> int:
    """Cycles one fold occupies the array.

    OS: operands enter skewed; the corner PE takes its last pair at cycle (T-1)+(R-1)+(C-1),
    so a fold spans T + R + C - 2 cycles.  WS/IS: R cycles load the stationary operand, then
    the streamed operand crosses R rows and C columns: R + T + (R-1) + (C-1) = 2R + C + T - 2.
    """
    if dataflow is Dataflow.OS:
        return rows + cols + T - 2
    return 2 * rows + cols + T - 2


def gemm_cycles(
    rows: int, cols: int, dataflow: Dataflow | str, M: int, N: int, K: int, *, convention: Convention | str = "scalesim"
) -> int:
    """Cycles for one M x N x K GEMM on an R x C array, no memory stalls.

    The prediction the RTL co-simulation checks: ``folds * cycles_per_fold`` cycles pass
    from the first operand entering the array to the last result of the last fold
    (``convention="native"``).  SCALE-Sim reports the index of that last cycle, one less
    (``convention="scalesim"``, the default, what its COMPUTE_REPORT calls Total Cycles).
    An RTL bench that counts cycles from ``start`` to ``done`` adds its own fixed handshake
    overhead on top of the native count.

    Raises:
        SpecError: a non-positive dimension or an unknown dataflow/convention.
    """
    df = Dataflow(dataflow) if not isinstance(dataflow, Dataflow) else dataflow
    conv = Convention(convention) if not isinstance(convention, Convention) else convention
    for label, v in (("rows", rows), ("cols", cols), ("M", M), ("N", N), ("K", K)):
        if not isinstance(v, int) or v < 1:
            raise SpecError(f"gemm_cycles: {label} must be a positive integer, got {v!r}")
    Sr, Sc, T = spatial_temporal(df, M, N, K)
    n = -(-Sr // rows) * -(-Sc // cols) * cycles_per_fold(df, rows, cols, T)
    # SCALE-Sim quirk: service_memory_requests returns the last 0-based cycle index (issue #125).
    return n - 1 if conv is Convention.SCALESIM else n


# --------------------------------------------------------------------------- layer description


class Layer(NamedTuple):
    """One GEMM-like layer as SCALE-Sim sees it (batch 1), with conv geometry when it has one.

    ``conv`` = (images, H, W, C, R, S, stride_h, stride_w, out_h, out_w): the ifmap that is
    actually stored (padding already added) and the output geometry that produced M.
    A named tuple, not a dataclass: it is built once per op per run and keys the layer memo,
    and a tuple builds and hashes several times faster.
    """

    M: int
    N: int
    K: int
    conv: tuple[int, ...] | None = None

    @property
    def ifmap_unique_words(self) -> int:
        """Distinct ifmap words the layer reads (SCALE-Sim skips out-of-range window taps)."""
        if self.conv is None:
            return self.M * self.K
        images, H, W, C, R, S, sh, sw, oh, ow = self.conv
        return images * _touched(H, R, sh, oh) * _touched(W, S, sw, ow) * C

    @property
    def ifmap_has_duplicates(self) -> bool:
        """True when im2col repeats input words (overlapping or out-of-range windows)."""
        if self.conv is None:
            return False
        _, H, W, _, R, S, sh, sw, oh, ow = self.conv
        return not (R == 1 and S == 1 and (oh - 1) * sh < H and (ow - 1) * sw < W)


@lru_cache(maxsize=4096)
def _touched(size: int, kernel: int, stride: int, out: int) -> int:
    """How many of `size` input rows some window touches."""
    if stride <= kernel:
        return min(size, (out - 1) * stride + kernel)
    return len({i * stride + r for i in range(out) for r in range(kernel)} & set(range(size)))


def layer_of(op: Op) -> Layer:
    """The per-batch GEMM view of a GEMM-like op, with its conv geometry (stored, padded ifmap)."""
    c = op.conv
    if op.kind is OpKind.CONV2D and c is not None:
        H, W = c.in_h + 2 * c.pad_h, c.in_w + 2 * c.pad_w
        R = c.dilation_h * (c.kernel_h - 1) + 1
        S = c.dilation_w * (c.kernel_w - 1) + 1
        per_image = op.M // c.images
        oh, ow = c.out_h, c.out_w
        if oh * ow != per_image:
            # SCALE-Sim geometry (cosim.scalesim): ofmap = ceil((H - R + stride) / stride)
            oh = -(-(H - R + c.stride_h) // c.stride_h)
            ow = -(-(W - S + c.stride_w) // c.stride_w)
            if oh * ow != per_image:
                raise ModelError(f"op {op.name!r}: M={op.M} matches neither conv output geometry")
        if c.dilation_h == 1 and c.dilation_w == 1:
            return Layer(
                op.M, op.N, op.K, (c.images, H, W, c.in_channels // c.groups, R, S, c.stride_h, c.stride_w, oh, ow)
            )
        return Layer(op.M, op.N, op.K)  # dilated: counted as a plain GEMM (no address reuse modelled)
    return Layer(op.M, op.N, op.K)


# --------------------------------------------------------------------------- SCALE-Sim counts


class LayerCounts(NamedTuple):
    """One layer's report (batch 1).  Field names follow DESIGN.md's SCALE-Sim fields, in the
    order an op's ``extra`` lists them (a named tuple for the same reason as `Layer`)."""

    total_cycles: int
    stall_cycles: int
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int
    sram_ofmap_reads: int
    dram_ifmap_reads: int
    dram_filter_reads: int
    dram_ofmap_writes: int
    folds: int
    overall_util_pct: float
    mapping_eff_pct: float
    compute_util_pct: float

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self))


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _epoch_words(words: int) -> int:
    """SCALE-Sim's CALC-mode read-buffer bookkeeping: new words per epoch of a `words` SRAM.

    ReadBufferEstimateBw groups new addresses into sets of floor(words/100); the active
    half of the buffer is 50 sets, and after 50 completed sets its hit window is cleared.
    0 when a set is empty (under 100 words): nothing is ever re-fetched.
    """
    return 50 * (words // 100)


# USER mode builds each operand's demand as numpy arrays: ~70 bytes per SRAM read at peak
# (measured: 9.2 GB and 47 s for the 131M filter reads of an 8x32000x4096 GEMM on a 32x32 OS
# array with 64 KiB SRAMs; 0.93 GB for a tenth of it)
USER_MODE_BYTES_PER_READ = 70


def memory_available_bytes() -> int:
    """Memory this process can still take: Linux's MemAvailable, else half the physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def scalesim_layer(spec: Spec, layer: Layer) -> LayerCounts:
    """SCALE-Sim 3.0.0's report for one layer (batch 1) under `spec`, quirks included."""
    R, C, df = spec.rows, spec.cols, spec.dataflow
    M, N, K = layer.M, layer.N, layer.K
    Sr, Sc, T = spatial_temporal(df, M, N, K)
    n_fr, n_fc = -(-Sr // R), -(-Sc // C)
    folds = n_fr * n_fc
    cpf = cycles_per_fold(df, R, C, T)
    # SCALE-Sim quirk: compute utilisation per fold divides by the fold's *filter-demand*
    # span, R+C+T-2 for OS but 2R+2C+T-3 for WS/IS (one C too many); averaged over folds.
    cu_cycles = cpf if df is Dataflow.OS else 2 * R + 2 * C + T - 3
    mapping_eff_pct = Sr * Sc / (R * C * folds) * 100
    compute_util_pct = Sr * Sc * T / (R * C * cu_cycles * folds) * 100
    if df is Dataflow.OS:
        sram_if, sram_fl = M * K * n_fc, K * N * n_fr
        # SCALE-Sim quirk: OS adds rows+cols per fold to the ofmap writes (issue #166).
        sram_of = M * N + folds * (R + C)
        of_reads = 0
    elif df is Dataflow.WS:
        sram_if, sram_fl, sram_of = M * K * n_fc, K * N, M * N * n_fr
        of_reads = 0  # SCALE-Sim does not model partial-sum reads
    else:
        sram_if, sram_fl, sram_of = M * K, K * N * n_fc, M * N * n_fr
        of_reads = 0
    rows_total = folds * cpf
    results = Sr * Sc if df is Dataflow.OS else T * Sc * n_fr  # ofmap results written to the SRAM
    if spec.bandwidth_mode is BandwidthMode.CALC:
        # the common case is closed form: the results stay under the ofmap's drain half (one
        # final drain, no stall) and each operand under one read epoch (fetched once)
        buf = spec.buffers
        if results <= buf.ofmap_drain:
            dram_of, stall = results, 0
        else:
            dram_of, stall = _ofmap_drain(spec, df, R, C, T, Sr, Sc, n_fr, n_fc, cpf, results, spec.cols)
        dram_if = u_if = layer.ifmap_unique_words
        if buf.ifmap_epoch and u_if >= buf.ifmap_epoch:
            dram_if = _dram_reads(spec, layer, "ifmap", u_if, buf.ifmap_epoch)
        dram_fl = u_fl = K * N
        if buf.filter_epoch and u_fl >= buf.filter_epoch:
            dram_fl = _dram_reads(spec, layer, "filter", u_fl, buf.filter_epoch)
    else:
        need = max(sram_if, sram_fl) * USER_MODE_BYTES_PER_READ
        if need > 0.8 * (have := memory_available_bytes()):
            raise ModelError(
                f"USER bandwidth mode in the scalesim convention follows SCALE-Sim's read buffer address by "
                f"address: a {M}x{N}x{K} GEMM on this {R}x{C} {df.value} array reads {max(sram_if, sram_fl):,} "
                f"operand words, which needs ~{need / 2**30:.1f} GiB (available: {have / 2**30:.1f} GiB); use "
                f"convention: native (roofline stalls) or bandwidth_mode: calc for it"
            )
        dram_if, dram_fl, miss_rows, row_stall = _user_mode_reads(spec, layer)
        dram_of, stall = _ofmap_drain(
            spec, df, R, C, T, Sr, Sc, n_fr, n_fc, cpf, results, spec.dram_words_per_cycle, miss_rows, row_stall
        )
    # SCALE-Sim quirk: the total is the last 0-based cycle index, one less than the count (#125);
    # so on a 1x1 OS array (R+C-2 = 0) it drops below the MAC bound and utilisation exceeds 100%.
    total = rows_total - 1 + stall
    return LayerCounts(  # positional, in field order (built once per layer: keywords cost 2x)
        total,
        stall,
        sram_if,
        sram_fl,
        sram_of,
        of_reads,
        dram_if,
        dram_fl,
        dram_of,
        folds,
        # SCALE-Sim divides by zero for a 1x1x1 GEMM on a 1x1 OS array (total 0): use one cycle
        M * N * K * 100 / (max(total, 1) * R * C),  # overall_util_pct
        mapping_eff_pct,
        compute_util_pct,
    )


def native_sram_words(
    dataflow: Dataflow | str, rows: int, cols: int, M: int, N: int, K: int
) -> tuple[int, int, int, int]:
    """SRAM words of one M x N x K GEMM on an R x C array, counted natively: (ifmap reads, filter
    reads, ofmap writes, ofmap reads).  Each fold streams its operand tiles once; the streamed
    operand is re-read per fold of the other dimension; WS/IS partial sums are written per row
    fold and read back between row folds; OS writes each output once."""
    df = Dataflow(dataflow) if not isinstance(dataflow, Dataflow) else dataflow
    Sr, Sc, _ = spatial_temporal(df, M, N, K)
    n_fr, n_fc = _ceil(Sr, rows), _ceil(Sc, cols)
    if df is Dataflow.OS:
        return M * K * n_fc, K * N * n_fr, M * N, 0
    if df is Dataflow.WS:
        return M * K * n_fc, K * N, M * N * n_fr, M * N * (n_fr - 1)
    return M * K, K * N * n_fc, M * N * n_fr, M * N * (n_fr - 1)


def native_layer(spec: Spec, layer: Layer) -> LayerCounts:
    """The same mapping counted without SCALE-Sim's quirks (see the module docstring).

    DRAM: with double buffering half of each SRAM holds the working set.  An operand that fits
    is fetched once (its unique words); otherwise it is re-streamed once per reuse pass
    (OS/WS ifmap per column fold, OS filter per row fold, IS filter per column fold).  WS/IS
    partial sums stay in the ofmap SRAM when M*N fits in half of it, else they spill and are
    read back once per extra row fold.  Stalls: with CALC there are none (SCALE-Sim's
    definition: the bandwidth is whatever avoids them); with USER the op takes
    max(compute, DRAM words / bandwidth) cycles, the DRAM stream overlapping compute.
    """
    R, C, df = spec.rows, spec.cols, spec.dataflow
    M, N, K = layer.M, layer.N, layer.K
    Sr, Sc, T = spatial_temporal(df, M, N, K)
    n_fr, n_fc = _ceil(Sr, R), _ceil(Sc, C)
    folds = n_fr * n_fc
    cpf = cycles_per_fold(df, R, C, T)
    u_if, u_fl = layer.ifmap_unique_words, K * N
    buf = spec.buffers
    half_if, half_fl, half_of = buf.ifmap // 2, buf.filter // 2, buf.ofmap // 2
    sram_if, sram_fl, sram_of, of_reads = native_sram_words(df, R, C, M, N, K)
    if df is Dataflow.OS:
        dram_if = u_if if u_if <= half_if else M * K * n_fc
        dram_fl = u_fl if u_fl <= half_fl else K * N * n_fr
        dram_of = M * N
    else:
        if df is Dataflow.WS:
            dram_if = u_if if u_if <= half_if else M * K * n_fc
            dram_fl = u_fl
        else:
            dram_if = u_if
            dram_fl = u_fl if u_fl <= half_fl else K * N * n_fc
        dram_of = M * N if M * N <= half_of else M * N * (2 * n_fr - 1)
    compute = folds * cpf
    stall = 0
    if spec.bandwidth_mode is BandwidthMode.USER:
        stall = max(0, _ceil(dram_if + dram_fl + dram_of, spec.dram_words_per_cycle) - compute)
    total = compute + stall
    return LayerCounts(  # positional, in field order
        total,
        stall,
        sram_if,
        sram_fl,
        sram_of,
        of_reads,
        dram_if,
        dram_fl,
        dram_of,
        folds,
        M * N * K * 100 / (total * R * C),  # overall_util_pct
        Sr * Sc / (R * C * folds) * 100,  # mapping_eff_pct
        Sr * Sc * T / (R * C * cpf * folds) * 100,  # compute_util_pct
    )


# --------------------------------------------------------------------------- DRAM reads (CALC)


def _dram_reads(spec: Spec, layer: Layer, operand: str, unique: int, epoch: int) -> int:
    """DRAM words SCALE-Sim's ReadBufferEstimateBw fetches for an `operand` of `unique` words
    that fills at least one `epoch` (CALC mode; a smaller one is fetched once, `scalesim_layer`).

    Its bookkeeping: each address the array asks for that is not in the current epoch's
    sets is a new fetch; the epoch is cleared after 50 sets of floor(words/100) new
    addresses.  So a large operand is re-fetched according to the order of the demand,
    computed per fold (`_epoch_passes`) or, for conv inputs whose im2col repeats words, over
    the fold's addresses (`_epoch_stream`).
    """
    if operand == "ifmap" and layer.ifmap_has_duplicates:
        return _epoch_stream(spec, layer, epoch)
    return _epoch_tiles(spec, layer, operand, unique, epoch)


def _epoch_tiles(spec: Spec, layer: Layer, operand: str, unique: int, epoch: int) -> int:
    """`_epoch_passes` in closed form for the three tile orders a GEMM operand can have.

    * every tile read once (WS filter, IS ifmap): all words are new, ``unique``;
    * all tiles in turn, the cycle repeated (OS/WS ifmap over row folds, IS filter): a word
      recurs exactly one cycle (``unique`` words) later, so with ``unique >= epoch`` it has
      always left the epoch: every read is a fetch;
    * each tile read several times in a row (OS filter, once per row fold): per tile of b
      words and P passes starting at epoch count c, b >= epoch makes every pass fetch b words;
      otherwise the first pass fetches b (closing the epoch after epoch - c of them if
      c + b >= epoch), the second the words the new epoch lacks (epoch - c), the rest none.
    """
    R, C, df = spec.rows, spec.cols, spec.dataflow
    Sr, Sc, _ = spatial_temporal(df, layer.M, layer.N, layer.K)
    n_fr, n_fc = _ceil(Sr, R), _ceil(Sc, C)
    if (df is Dataflow.WS and operand == "filter") or (df is Dataflow.IS and operand == "ifmap"):
        return unique
    if not (df is Dataflow.OS and operand == "filter"):
        return unique * n_fc  # the row-fold tiles, cycled once per column fold
    K = layer.K
    total = count = 0
    for fc in range(n_fc):
        b = K * min(C, Sc - fc * C)
        if b >= epoch:
            total += n_fr * b
            count = (count + n_fr * b) % epoch
        elif count + b < epoch:
            total += b
            count += b
        else:
            need = epoch - count
            total += b + (need if n_fr > 1 else 0)
            count = b if n_fr > 1 else b - need
    return total


def _passes(spec: Spec, layer: Layer, operand: str) -> tuple[list[int], dict[int, int]]:
    """The operand's per-fold tiles in demand order: tile id per fold and words per tile.

    Tiles with the same id are the same words read in the same order (a re-read of a tile);
    different ids are disjoint.  Fold order: column folds outer, row folds inner.
    """
    R, C, df = spec.rows, spec.cols, spec.dataflow
    M, N, K = layer.M, layer.N, layer.K
    Sr, Sc, _ = spatial_temporal(df, M, N, K)
    n_fr, n_fc = _ceil(Sr, R), _ceil(Sc, C)

    fc = np.repeat(np.arange(n_fc, dtype=np.int64), n_fr)
    fr = np.tile(np.arange(n_fr, dtype=np.int64), n_fc)
    ru = np.minimum(R, Sr - fr * R)
    cu = np.minimum(C, Sc - fc * C)
    if df is Dataflow.OS:
        key, size = (fr, ru * K) if operand == "ifmap" else (fc, K * cu)
    elif df is Dataflow.WS:
        key, size = (fr, M * ru) if operand == "ifmap" else (fc * n_fr + fr, ru * cu)
    else:
        key, size = (fc * n_fr + fr, ru * cu) if operand == "ifmap" else (fr, N * ru)
    ids = key.tolist()
    return ids, dict(zip(ids, size.tolist()))


def _epoch_passes(ids: Sequence[int], sizes: dict[int, int], epoch: int) -> int:
    """New-address count of SCALE-Sim's epoch bookkeeping over tile passes.

    Within an epoch a tile's covered words are empty, a suffix [x, size) (the epoch began
    inside a pass over it) or all of it, so each pass costs O(1): its new words are the
    uncovered prefix, in order, and the epoch ends at the `epoch`-th new word.
    """
    if len(sizes) == len(ids):  # no tile is read twice: every word is new whatever the epochs
        return sum(sizes.values())
    total = 0
    count = 0
    cover: dict[int, int] = {}  # tile id -> x: words [x, size) are in the current epoch
    for t in ids:
        b = sizes[t]
        x = cover.get(t, b)
        if count + x < epoch:
            count += x
            total += x
            cover[t] = 0
            continue
        need = epoch - count  # the need-th uncovered word (position need-1) closes the epoch
        total += need
        rest = b - need  # positions need .. b-1 start the next epoch(s), all new
        total += rest
        count = rest % epoch
        cover = {t: b - count} if count else {}
    return total


def _epoch_stream(spec: Spec, layer: Layer, epoch: int) -> int:
    """Epoch bookkeeping over a conv layer's ifmap addresses (numpy, no per-cycle matrices).

    Only used when a conv input exceeds one epoch (half its SRAM): im2col repeats input
    words within a fold, so the order matters.  The layer's ifmap demand (`_demand_stream`:
    each fold in SCALE-Sim's order) is indexed once by the previous occurrence of each word;
    a word at position i is new to the epoch that began at s exactly when that previous
    occurrence is before s, so each epoch's end is one cumulative count over a window.
    """
    R, C, df = spec.rows, spec.cols, spec.dataflow
    Sr, Sc, T = spatial_temporal(df, layer.M, layer.N, layer.K)
    n_fr, n_fc = _ceil(Sr, R), _ceil(Sc, C)
    cpf = cycles_per_fold(df, R, C, T)
    stream, _ = _demand_stream(df, "ifmap", layer, R, C, Sr, Sc, T, n_fr, n_fc, cpf)
    n = stream.size
    order = np.argsort(stream, kind="stable")
    same = stream[order[1:]] == stream[order[:-1]]
    prev = np.full(n, -1, dtype=np.int64)
    prev[order[1:][same]] = order[:-1][same]
    total = 0
    s = 0
    win = max(2 * epoch, 1 << 14)
    while s < n:
        # new words of the epoch starting at s: prev < s; it closes at the epoch-th one
        end = min(n, s + win)
        cum = np.cumsum(prev[s:end] < s)
        if cum[-1] < epoch:
            if end == n:
                return total + int(cum[-1])
            win *= 2
            continue
        j = int(np.searchsorted(cum, epoch))
        total += epoch
        s += j + 1
    return total


@lru_cache(maxsize=64)
def _skew_order(T: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, c) of a T x width block in SCALE-Sim's skewed demand order: by t + c, then c."""
    t, c = np.meshgrid(np.arange(T), np.arange(width), indexing="ij")
    t, c = t.ravel(), c.ravel()
    order = np.lexsort((c, t + c))
    return t[order], c[order]


# --------------------------------------------------------------------------- ofmap drain


def _result_rows(
    df: Dataflow, R: int, C: int, T: int, Sr: int, Sc: int, n_fr: int, n_fc: int, cpf: int
) -> tuple[Callable[[int], int], Callable[[int], int]]:
    """(before_row, row_of) of a layer's ofmap results over its folds run back to back:
    ``before_row(t)`` = results written in global rows < t; ``row_of(s)`` = the global row of
    the s-th result (1-based), its inverse.  Both O(1).

    Fold (fc, fr) (column folds outer) writes its results (j, c), j < h, c < w, at its row
    a + j + c: w = its columns; OS: h = its rows, a = T - 1 + R - h (T-1 prefix rows, the block
    flipped so empty rows come first); WS/IS: h = T, a = 2R - 1 (prefix rows, then T rows of
    results).  Every column fold but the last has C columns and every row fold but the last R
    rows (OS) or T result rows (WS/IS), so only full folds precede a fold within its column
    block and in the blocks before it: results before fold (fc, fr) = fc * col_block + fr * w * per_col.
    """
    os_ = df is Dataflow.OS
    per_col = R if os_ else T  # results per column of a row fold that is not the last
    col_block = C * (Sr if os_ else T * n_fr)  # results of a full column fold (all its row folds)
    n_folds = n_fr * n_fc
    total = Sc * (Sr if os_ else T * n_fr)
    # the fold's (a, h, w) computed inline below: these run once or twice per drain event
    last_w, last_h = Sc - (n_fc - 1) * C, Sr - (n_fr - 1) * R

    def before_row(t: int) -> int:
        """Results in global rows < t."""
        if t <= 0:
            return 0
        f = t // cpf
        if f >= n_folds:
            return total
        fc, fr = divmod(f, n_fr)
        w = C if fc < n_fc - 1 else last_w
        if os_:
            h = R if fr < n_fr - 1 else last_h
            x = t - f * cpf - (T - 1 + R - h)
        else:
            h = T
            x = t - f * cpf - (2 * R - 1)
        # results in the fold's first x rows: ramp(x) - ramp(x - h), ramp(y) = sum over c < w of
        # max(y - c, 0) (the parallelogram of rows a + j + c, j < h, c < w)
        p = 0
        if x > 0:
            n = w if w < x else x
            p = n * x - n * (n - 1) // 2
            y = x - h
            if y > 0:
                n = w if w < y else y
                p -= n * y - n * (n - 1) // 2
        return fc * col_block + fr * w * per_col + p

    def row_of(s: int) -> int:
        """Global row of the s-th result (1-based): its fold, then the fold's row whose prefix
        count reaches it, the inverse of before_row's prefix in closed form (the fold's rows hold 1, 2, ..,
        m, m, .., m, .., 2, 1 results, m = min(h, w))."""
        fc = (s - 1) // col_block
        if fc >= n_fc:
            fc = n_fc - 1
        rest = s - 1 - fc * col_block
        w = C if fc < n_fc - 1 else last_w
        fr = rest // (w * per_col)
        if fr >= n_fr:
            fr = n_fr - 1
        local = rest - fr * w * per_col + 1
        if os_:
            h = R if fr < n_fr - 1 else last_h
            a = T - 1 + R - h
        else:
            h, a = T, 2 * R - 1
        m = h if h < w else w
        tri = m * (m + 1) // 2  # results in the first m rows
        if local <= tri:
            x = (math.isqrt(8 * local + 1) - 1) // 2
            k = x - 1 if x * (x + 1) // 2 >= local else x
        elif local - tri <= (h + w - 2 * m) * m:  # the rows of m results
            k = m - 1 + -(-(local - tri) // m)
        else:  # the falling triangle: the last L rows hold L(L+1)/2 results
            k = h + w - 2 - (math.isqrt(8 * (h * w - local) + 1) - 1) // 2
        return (fc * n_fr + fr) * cpf + a + k

    return before_row, row_of


def _ofmap_drain(
    spec: Spec,
    df: Dataflow,
    R: int,
    C: int,
    T: int,
    Sr: int,
    Sc: int,
    n_fr: int,
    n_fc: int,
    cpf: int,
    v_total: int,
    bw: int,
    read_rows: Sequence[int] = (),
    read_stall: Any = None,
) -> tuple[int, int]:
    """(DRAM ofmap writes, write stall cycles) of SCALE-Sim's write_buffer, event by event.

    `v_total` results arrive (OS: each output once, Sr*Sc; WS/IS: T x the fold's columns per
    fold).  The ofmap SRAM (total words, drain half = total - ceil(total/2)) packs results into lines
    of `bw` words.  When a result arrives, the buffer is past its drain half and no drain is
    in flight, the partial line is flushed and ceil(drain/bw) lines are written out, one line
    per cycle.  A result that arrives while a drain is in flight and the buffer is full stalls
    the array until the drain ends.  SCALE-Sim quirk: a drain's size counts every word of its
    lines except the -1 padding of its *last* line, so a line flushed half-full that ends up
    in the middle of a later drain adds its padding to the DRAM writes.
    Events are found with closed-form prefix counts of the results (`_result_rows`); the loop runs
    once per drain or stall, not per cycle.  `read_rows`/`read_stall` (USER mode) add the
    read-miss rows, processed in row order with the drain events; the returned stall count
    then includes them.
    """
    total_words, drain = spec.buffers.ofmap, spec.buffers.ofmap_drain
    if v_total <= drain and not read_rows:  # never past the drain half: one final drain
        return v_total, 0
    chunk = _ceil(drain, bw) if drain > 0 else 1
    before_row, row_of = _result_rows(df, R, C, T, Sr, Sc, n_fr, n_fc, cpf)

    # The trace lines written so far, as counts: every line is full (bw words) except those a
    # flush left part-full, kept by line index.  A drain takes the next lines in order and
    # SCALE-Sim counts all their words but the padding of the last one (`take`).
    lines_total = 0
    lines_taken = 0
    part_full: dict[int, int] = {}  # line index -> words in it
    drained = 0  # words the buffer believes it drained (padding quirk included)
    written = 0
    drain_end = 0
    shift = 0  # accumulated stall cycles
    s_cur = 0
    s_flush = 0

    def flush(upto: int) -> None:
        """Pack the results s_flush+1 .. upto into lines."""
        nonlocal lines_total
        n = upto - s_flush
        lines_total += n // bw
        if n % bw:
            part_full[lines_total] = n % bw
            lines_total += 1

    def take() -> tuple[int, int]:
        """One drain: up to `chunk` lines; (lines taken, words counted by SCALE-Sim)."""
        nonlocal lines_taken
        n = min(chunk, lines_total - lines_taken)
        if n == 0:
            return 0, 0
        lines_taken += n
        return n, n * bw - (bw - part_full.get(lines_taken - 1, bw))

    ri = 0
    open_row, base = -1, 0  # a read-miss row whose ofmap events run first, and the shift before it
    while True:
        first_free_row = drain_end - shift  # rows >= this see no drain in flight
        in_flight = before_row(first_free_row)  # results that arrive while the drain runs
        s_trig = max(s_cur + 1, drained + drain + 1, in_flight + 1)
        s_stall = max(s_cur + 1, drained + total_words)
        stall_ok = s_stall <= in_flight  # the s_stall-th result arrives before the drain ends
        nxt = min(s_stall if stall_ok else v_total + 1, s_trig)
        nxt_row = row_of(nxt) if nxt <= v_total else None
        if open_row >= 0 and (nxt_row is None or nxt_row > open_row):
            # close the miss row: SCALE-Sim adds the larger of its read and ofmap stalls
            shift = base + max(read_stall(open_row, open_row + base), shift - base)
            s_cur = max(s_cur, before_row(open_row + 1))
            open_row = -1
            continue
        if open_row < 0 and ri < len(read_rows) and (nxt_row is None or read_rows[ri] <= nxt_row):
            x = read_rows[ri]
            ri += 1
            if nxt_row == x:  # ofmap events in the same row: they see the row's base cycle
                open_row, base = x, shift
                continue
            shift += read_stall(x, x + shift)  # no ofmap event up to row x
            s_cur = max(s_cur, before_row(x + 1))
            continue
        if nxt_row is None:
            break
        if stall_ok and s_stall < s_trig:
            shift += drain_end - (nxt_row + shift)
            s_cur = s_stall
            continue
        cycle = nxt_row + shift
        flush(s_trig)
        s_flush = s_trig
        n_lines, words = take()
        drained += words
        written += words
        drain_end = cycle + n_lines - 1
        s_cur = s_trig
    flush(v_total)
    while lines_taken < lines_total:
        written += take()[1]
    return written, shift


# --------------------------------------------------------------------------- USER mode


def _user_mode_reads(spec: Spec, layer: Layer) -> tuple[int, int, list[int], Any]:
    """(DRAM ifmap reads, DRAM filter reads, miss rows, row -> stall function), USER mode.

    How SCALE-Sim's read_buffer works, and how it is reproduced here without its per-cycle
    matrices.  Each operand's *prefetch order* (the operand matrix folded and, for some
    dataflow/operand pairs, read along anti-diagonals) is cut into 100 sets of
    ceil(words/100) addresses; the active half of the SRAM holds a circular window of sets.
    A demanded address outside the window slides the window by the prefetch half (repeatedly,
    wrapping around, until it is in), each slide one DRAM prefetch of ceil(half/bw) lines that
    ends L+1 cycles after the previous one (prefetches run back to back on a DRAM clock that
    does not wait for demand).  A slide that ends after the demanding row's cycle stalls the
    row; SCALE-Sim quirk: the stall is added twice, and a slide that ends *before* the row
    lowers the row's offset (negative), the row's stall being the max over ifmap, filter and
    ofmap (issues #100, #4).
    Here each operand's demand is generated per fold in SCALE-Sim's order as numpy arrays of
    set indices (no cycle matrices), the window is advanced only at misses (found by a
    vectorised hit test over the stream), and the stall recurrence runs once per miss row.
    `_ofmap_drain` walks these miss rows together with the ofmap drain events, in row order,
    so read and write stalls shift each other as in SCALE-Sim (both see the row's starting
    cycle; the row adds the larger of the two).
    """
    R, C, df = spec.rows, spec.cols, spec.dataflow
    M, N, K = layer.M, layer.N, layer.K
    Sr, Sc, T = spatial_temporal(df, M, N, K)
    n_fr, n_fc = _ceil(Sr, R), _ceil(Sc, C)
    cpf = cycles_per_fold(df, R, C, T)
    events: dict[int, list[tuple[int, list[int]]]] = {}
    dram = []
    for operand, kib, bw in (
        ("ifmap", spec.ifmap_sram_kib, spec.ifmap_bw),
        ("filter", spec.filter_sram_kib, spec.filter_bw),
    ):
        reads, misses = _user_operand(spec, layer, operand, kib, bw, Sr, Sc, T, n_fr, n_fc, cpf)
        dram.append(reads)
        for row, ks in misses:
            events.setdefault(row, []).append((0 if operand == "ifmap" else 1, ks))
    rows = sorted(events)

    def row_stall(row: int, cycle: int) -> int:
        """Read stall of a miss row whose cycle is `cycle`; each operand's offset starts at the
        hit latency (1) and the row's stall is the largest (the ofmap's, >= 0, is handled by
        the caller)."""
        worst = 0
        per_op: dict[int, int] = {}
        for which, ks in events[row]:
            offset = per_op.get(which, 1)
            for d in ks:
                pot = d - (cycle + offset)
                offset += pot
                if pot > 0:  # SCALE-Sim quirk: a positive stall is added twice
                    offset += pot
            per_op[which] = offset
        for offset in per_op.values():
            worst = max(worst, offset - 1)
        return worst

    return dram[0], dram[1], rows, row_stall


def _user_operand(
    spec: Spec,
    layer: Layer,
    operand: str,
    kib: int,
    bw: int,
    Sr: int,
    Sc: int,
    T: int,
    n_fr: int,
    n_fc: int,
    cpf: int,
) -> tuple[int, list[tuple[int, list[int]]]]:
    """One operand of `_user_mode_reads`: (DRAM words, [(demand row, [prefetch end cycles])])."""
    R, C, df = spec.rows, spec.cols, spec.dataflow
    M, N, K = layer.M, layer.N, layer.K
    words = spec.sram_words(kib)
    active = math.ceil(words * 0.5)
    pf_size = words - active
    per_set = math.ceil(words / 100)

    # ---- the prefetch matrix: a stack of fold tiles, then (maybe) read along anti-diagonals
    if operand == "ifmap":
        addr = _ifmap_addr_fn(layer)
        if df is Dataflow.OS:  # stack over fr of ifmap^T[:, m tile]: (n_fr*K) x R, diagonal order
            rows_t, width, diag = n_fr * K, R, True

            def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
                fr, k = np.divmod(r, K)
                m = fr * R + c
                return np.where(m < M, addr(np.minimum(m, M - 1), k), -1)
        elif df is Dataflow.WS:  # stack over fr of ifmap[:, k tile]: (n_fr*M) x R, diagonal order
            rows_t, width, diag = n_fr * M, R, True

            def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
                fr, m = np.divmod(r, M)
                k = fr * R + c
                return np.where(k < K, addr(m, np.minimum(k, K - 1)), -1)
        else:  # IS: stack over fc of ifmap^T[:, m tile]: (n_fc*K) x C, row-major
            rows_t, width, diag = n_fc * K, C, False

            def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
                fc, k = np.divmod(r, K)
                m = fc * C + c
                return np.where(m < M, addr(np.minimum(m, M - 1), k), -1)
    else:
        if df in (Dataflow.OS, Dataflow.WS):  # stack over fc of filter[:, n tile]: (n_fc*K) x C
            rows_t, width, diag = n_fc * K, C, df is Dataflow.OS

            def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
                fc, k = np.divmod(r, K)
                n = fc * C + c
                return np.where(n < N, k * N + n, -1)
        else:  # IS: stack over fr of filter[k tile, :]^T: (n_fr*N) x R, diagonal order
            rows_t, width, diag = n_fr * N, R, True

            def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
                fr, n = np.divmod(r, N)
                k = fr * R + c
                return np.where(k < K, k * N + n, -1)

    rr, cc = np.meshgrid(np.arange(rows_t, dtype=np.int64), np.arange(width, dtype=np.int64), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    if diag:
        order = np.lexsort((cc, rr + cc))
        rr, cc = rr[order], cc[order]
    pf_addr = at(rr, cc)
    fetch_elems = pf_addr.size  # padding included: the fetch matrix's lines count it
    pf_addr = pf_addr[pf_addr >= 0]
    set_of_rank = np.arange(pf_addr.size, dtype=np.int64) // per_set
    n_sets = pf_addr.size // per_set + 1  # SCALE-Sim keeps a (possibly empty) last set
    n_active = min(_ceil(active, per_set), n_sets)
    n_pf = min(_ceil(pf_size, per_set), n_sets - n_active)

    # ---- the demand stream, fold by fold, in row order then column order
    lines_init = min(_ceil(active, bw), _ceil(fetch_elems, bw))
    lines_pf = _ceil(pf_size, bw)
    d_addr, d_row = _demand_stream(df, operand, layer, R, C, Sr, Sc, T, n_fr, n_fc, cpf)
    # the window [start, start + n_active) mod n_sets holds set s iff (s - start) % n_sets < n_active
    if operand == "filter" or not layer.ifmap_has_duplicates:  # each word in one set: look its set up once
        set_of = np.full(int(pf_addr.max()) + 1, -1, dtype=np.int64)
        set_of[pf_addr] = set_of_rank
        d_set = set_of[d_addr]

        def hit(lo: int, hi: int, start: int) -> np.ndarray:
            return (d_set[lo:hi] - start) % n_sets < n_active
    else:  # im2col repeats words: a hit if any of its sets is in the window
        keys = np.sort(pf_addr * n_sets + set_of_rank)  # (word, set) pairs

        def hit(lo: int, hi: int, start: int) -> np.ndarray:
            a = d_addr[lo:hi]
            end = start + n_active
            i = np.searchsorted(keys, a * n_sets + start)
            nxt = keys[np.minimum(i, keys.size - 1)]
            got = (i < keys.size) & (nxt < a * n_sets + min(end, n_sets))
            if end > n_sets:  # wrapped part [0, end - n_sets)
                first = keys[np.minimum(np.searchsorted(keys, a * n_sets), keys.size - 1)]
                got |= first < a * n_sets + (end - n_sets)
            return got

    start = 0
    prefetches = 0
    last_end = -1  # the initial active-buffer fill ends the cycle before the first demand
    misses: list[tuple[int, list[int]]] = []
    pos = 0
    win = 1 << 12
    while pos < d_addr.size:
        hi = min(d_addr.size, pos + win)
        h = hit(pos, hi, start)
        if h.all():
            pos = hi
            win = min(2 * win, 1 << 20)
            continue
        j = pos + int(np.argmin(h))
        win = max(1 << 10, 2 * (j - pos))  # misses recur about as far apart
        ends = []
        while not hit(j, j + 1, start)[0]:
            if n_pf == 0:
                raise ModelError("USER mode: an address is missing from the prefetch order (internal error)")
            start = (start + n_pf) % n_sets
            prefetches += 1
            last_end += lines_pf + 1
            ends.append(last_end)
        misses.append((int(d_row[j]), ends))
        pos = j + 1
    return (lines_init + prefetches * lines_pf) * bw, misses


def _ifmap_addr_fn(layer: Layer) -> Any:
    """(m, k) -> ifmap word id (GEMM: m*K + k; conv: the input pixel, -1 past the edge)."""
    K = layer.K
    if layer.conv is None:
        return lambda m, k: m * K + k
    _, H, W, Ch, _, S, sh, sw, oh, ow = layer.conv

    def f(m: np.ndarray, k: np.ndarray) -> np.ndarray:
        img, pix = np.divmod(m, oh * ow)
        oy, ox = np.divmod(pix, ow)
        ky, rem = np.divmod(k, S * Ch)
        kx, ch = np.divmod(rem, Ch)
        y, x = oy * sh + ky, ox * sw + kx
        return np.where((y < H) & (x < W), ((img * H + y) * W + x) * Ch + ch, -1)

    return f


def _demand_stream(
    df: Dataflow, operand: str, layer: Layer, R: int, C: int, Sr: int, Sc: int, T: int, n_fr: int, n_fc: int, cpf: int
) -> tuple[np.ndarray, np.ndarray]:
    """(word ids, global rows) of an operand's SRAM demand in SCALE-Sim's order, no stalls."""
    M, N, K = layer.M, layer.N, layer.K
    addr = _ifmap_addr_fn(layer)
    parts_a: list[np.ndarray] = []
    parts_r: list[np.ndarray] = []
    for fc in range(n_fc):
        for fr in range(n_fr):
            base = (fc * n_fr + fr) * cpf
            r0, ru = fr * R, min(R, Sr - fr * R)
            c0, cu = fc * C, min(C, Sc - fc * C)
            if df is Dataflow.OS:
                if operand == "ifmap":  # (k, c): m = r0 + c, row k + c
                    t, c = _skew_order(K, ru)
                    a, row = addr(r0 + c, t), t + c
                else:  # (k, c): n = c0 + c, row k + c
                    t, c = _skew_order(K, cu)
                    a, row = t * N + c0 + c, t + c
            elif df is Dataflow.WS:
                if operand == "ifmap":  # (m, c): k = r0 + c, row R + m + c
                    t, c = _skew_order(M, ru)
                    a, row = addr(t, r0 + c), R + t + c
                else:  # block rows reversed: k = r0 + R-1-j at row j (padding rows first)
                    j = np.repeat(np.arange(R - ru, R), cu)
                    c = np.tile(np.arange(cu), ru)
                    a, row = (r0 + R - 1 - j) * N + c0 + c, j
            else:
                if operand == "ifmap":  # block rows reversed, columns m ascending
                    j = np.repeat(np.arange(R - ru, R), cu)
                    c = np.tile(np.arange(cu), ru)
                    a, row = addr(c0 + c, r0 + R - 1 - j), j
                else:  # (n, c): k = r0 + c, row R + n + c
                    t, c = _skew_order(N, ru)
                    a, row = (r0 + c) * N + t, R + t + c
            keep = a >= 0
            parts_a.append(a[keep])
            parts_r.append(row[keep] + base)
    return np.concatenate(parts_a), np.concatenate(parts_r)


# --------------------------------------------------------------------------- ops and graphs


def layer_counts(spec: Spec, layer: Layer) -> LayerCounts:
    """The layer's counts under the spec's convention (cached: layers repeat in networks)."""
    return _per_spec(spec).counts(layer)


def clear_caches() -> None:
    """Forget memoised layer results (benchmarks time cold computations with this).  Each spec's
    `Costs` stay: they depend on the spec alone, like the spec itself."""
    global _memo_entries
    for st in _PER_SPEC.values():
        st.layers.clear()
    _memo_entries = 0
    _touched.cache_clear()


SCALESIM_FIELDS = (
    "total_cycles",
    "stall_cycles",
    "overall_util_pct",
    "mapping_eff_pct",
    "compute_util_pct",
    "sram_ifmap_reads",
    "sram_filter_reads",
    "sram_ofmap_writes",
    "dram_ifmap_reads",
    "dram_filter_reads",
    "dram_ofmap_writes",
)


@dataclass(frozen=True, slots=True)
class Costs:
    """Per-event energies (J) and component areas (mm^2) of one spec: `cosim.cost` at its tech_node.

    A PE MAC is `cost.pe_energy_j` (multiply, accumulate, and writing the forwarded operand and
    accumulator registers).  Each SRAM is one CACTI array with a ``sram_port_bits`` port, so a word
    costs one access / words per access; an array edge wider than the port is fed from banks of
    the same total capacity, which we price as the single array (banking is not modelled).
    DRAM: `cost.dram_energy_per_byte_j` of ``dram_kind``.  Vector unit: one add of the MAC format
    per element operation; a lane is one MAC unit of that format (area).  Static: the three SRAMs'
    leakage (`cost.sram_leakage_w`, an upper bound below 45 nm) while the array runs; logic
    leakage is not in the library.
    """

    mac_j: float
    ifmap_read_j: float
    filter_read_j: float
    ofmap_write_j: float
    ofmap_read_j: float
    dram_word_j: float
    vector_op_j: float
    leakage_w: float
    clock_hz: float
    area_mm2: float
    area_by_component_mm2: tuple[tuple[str, float], ...]

    def array_energy(
        self, macs: int, if_reads: int, fl_reads: int, of_writes: int, of_reads: int, dram_words: int, cycles: int
    ) -> dict[str, float]:
        """Energy (J) by component of array work: MACs, SRAM words per buffer, DRAM words, and the
        buffers' leakage over `cycles` (positional: this runs once per op)."""
        return {
            "mac": macs * self.mac_j,
            "sram": if_reads * self.ifmap_read_j
            + fl_reads * self.filter_read_j
            + of_writes * self.ofmap_write_j
            + of_reads * self.ofmap_read_j,
            "dram": dram_words * self.dram_word_j,
            "static": self.leakage_w * cycles / self.clock_hz,
        }


def _port(spec: Spec, kib: int) -> tuple[cost.SramCost, int]:
    """One SRAM buffer of `kib` KiB with a ``sram_port_bits`` port: (its cost, words per access)."""
    word_bits = 8 * spec.word_bytes
    width = max(word_bits, spec.sram_port_bits - spec.sram_port_bits % word_bits)
    return cost.sram_cost(spec.tech_node, kib * 1024, width), width // word_bits


def pe_area_mm2(spec: Spec) -> float:
    """Area of one PE (mm^2): the cost library's PE, or the synthesised MAC plus its two forwarded
    operand registers (``pe_area_source: yosys``, via `cost.synth_area_mm2`)."""
    fmt, bits = spec.mac_format
    if spec.pe_area_source is AreaSource.YOSYS:
        transistors = PE_SYNTH_TRANSISTORS[(fmt, bits)] + 2 * bits * DFF_TRANSISTORS
        return cost.synth_area_mm2(spec.tech_node, transistors=transistors)
    return cost.pe_area_mm2(spec.tech_node, fmt, bits)


def costs(spec: Spec) -> Costs:
    """`Costs` of `spec` (cached: a sweep evaluates each spec on several workloads)."""
    return _per_spec(spec).costs


def _build_costs(spec: Spec) -> Costs:
    node = cost.get_node(spec.tech_node)
    fmt, bits = spec.mac_format
    if_sram, if_w = _port(spec, spec.ifmap_sram_kib)
    fl_sram, fl_w = _port(spec, spec.filter_sram_kib)
    of_sram, of_w = _port(spec, spec.ofmap_sram_kib)
    areas = {
        "mac": spec.rows * spec.cols * pe_area_mm2(spec),
        "sram": if_sram.area_mm2 + fl_sram.area_mm2 + of_sram.area_mm2,
        "vector": spec.vector.lanes * cost.mac_area_mm2(node, fmt, bits),
    }
    if spec.area_mm2 is not None:
        areas = {"die": float(spec.area_mm2)}
    return Costs(
        mac_j=cost.pe_energy_j(node, fmt, bits),
        ifmap_read_j=if_sram.read_j / if_w,
        filter_read_j=fl_sram.read_j / fl_w,
        ofmap_write_j=of_sram.write_j / of_w,
        ofmap_read_j=of_sram.read_j / of_w,
        dram_word_j=spec.word_bytes * cost.dram_energy_per_byte_j(spec.dram_kind),
        vector_op_j=cost.add_energy_j(node, fmt, bits),
        leakage_w=if_sram.leakage_w + fl_sram.leakage_w + of_sram.leakage_w,
        clock_hz=spec.clock_hz,
        area_mm2=math.fsum(areas.values()),
        area_by_component_mm2=tuple(areas.items()),
    )


class _PerSpec:
    """What every run on one spec shares: its `Costs`, the per-run fields that depend on the spec
    alone, and the memo of layer results (layers repeat within and across networks).

    One lookup per `simulate` call finds it; ops then look up their layers by the layer alone.
    A memo entry is the layer's `LayerCounts` and its op report (the counts as a dict, plus
    macs, dataflow and convention), which a one-layer op copies as its ``extra``.
    """

    __slots__ = ("costs", "count_layer", "layers", "op_extra", "run_extra", "spec")

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.costs = _build_costs(spec)
        self.layers: dict[Layer, tuple[LayerCounts, dict[str, Any]]] = {}
        self.count_layer = scalesim_layer if spec.convention is Convention.SCALESIM else native_layer
        self.op_extra = {"dataflow": spec.dataflow.value, "convention": spec.convention.value}
        conv, df = spec.convention.value, spec.dataflow.value
        self.run_extra = {"convention": conv, "dataflow": df, "tech_node": spec.tech_node}

    def entry(self, layer: Layer) -> tuple[LayerCounts, dict[str, Any]]:
        hit = self.layers.get(layer)
        if hit is None:
            global _memo_entries
            if _memo_entries >= _LAYER_MEMO_SIZE:
                clear_caches()
            lc = self.count_layer(self.spec, layer)
            report = lc.as_dict()
            report["macs"] = layer.M * layer.N * layer.K  # the events the cost library prices, with the counts
            report.update(self.op_extra)
            hit = self.layers[layer] = (lc, report)
            _memo_entries += 1
        return hit

    def counts(self, layer: Layer) -> LayerCounts:
        return self.entry(layer)[0]


_LAYER_MEMO_SIZE = 65536  # layer results memoised over all specs before the memo starts over
_memo_entries = 0
_PER_SPEC_SIZE = 4096  # specs kept (a sweep's working set) before the table starts over
_PER_SPEC: dict[Spec, _PerSpec] = {}


def _per_spec(spec: Spec) -> _PerSpec:
    st = _PER_SPEC.get(spec)
    if st is None:
        if len(_PER_SPEC) >= _PER_SPEC_SIZE:
            _PER_SPEC.clear()
        st = _PER_SPEC[spec] = _PerSpec(spec)
    return st


def synthesize_pe_mac(fmt: str, bits: int) -> int:
    """Synthesise the MAC of a PE with yosys now and return its transistor count (the number
    `PE_SYNTH_TRANSISTORS` records; needs yosys on PATH).

    Raises:
        SpecError: no RTL for this format (int of any width, fp 16 only), or yosys is missing.
        ModelError: yosys failed.
    """
    from cosim.rtl import rtl_sources
    from cosim.synth import cell_stat

    if fmt == "int":
        acc = cost.default_acc_bits("int", bits)
        stat = cell_stat(rtl_sources("lut_tc/mac_dp.sv"), "mac_dp", {"K": 1, "AW": bits, "WW": bits, "ACC_W": acc})
    elif (fmt, bits) == ("fp", 16):
        srcs = rtl_sources("lut_tc/fp16_add.sv", "lut_tc/fp16_mul.sv", "lut_tc/mac_dp_fp16.sv")
        stat = cell_stat(srcs, "mac_dp_fp16", {"K": 1})
    else:
        raise SpecError(f"synthesize_pe_mac: no MAC RTL for {fmt}{bits} (int of any width, fp16)")
    return stat.transistors


_VECTOR_PARTS = ("vector", "dram", "static")


def _energy(
    spec: Spec | Costs,
    parts: Sequence[str],
    *,
    macs: int = 0,
    if_reads: int = 0,
    fl_reads: int = 0,
    of_writes: int = 0,
    of_reads: int = 0,
    dram_words: int = 0,
    vector_ops: int = 0,
    cycles: int = 0,
) -> dict[str, float]:
    """Energy by component = event counts x `costs` (the same step for one op and for a whole graph;
    pass the `Costs` when you have them, a spec otherwise)."""
    c = spec if isinstance(spec, Costs) else costs(spec)
    e = c.array_energy(macs, if_reads, fl_reads, of_writes, of_reads, dram_words, cycles)
    e["vector"] = vector_ops * c.vector_op_j
    return {k: e[k] for k in parts}


_SUMMED = (
    "total_cycles",
    "stall_cycles",
    "sram_ifmap_reads",
    "sram_filter_reads",
    "sram_ofmap_writes",
    "sram_ofmap_reads",
    "dram_ifmap_reads",
    "dram_filter_reads",
    "dram_ofmap_writes",
    "folds",
)


def _gemm_result(spec: Spec, st: _PerSpec, op: Op, layers: Sequence[tuple[Layer, int]]) -> OpResult:
    """OpResult of a GEMM-like op run as `layers` (layer, repeat count) back to back.

    `simulate` calls this once per op: the one-layer case copies the memoised report, and the
    result is built with positional arguments (keywords cost more than the arithmetic here).
    """
    if len(layers) == 1 and layers[0][1] == 1:  # the common case: one layer, its own report
        extra = dict(st.entry(layers[0][0])[1])
        macs = extra["macs"]
    else:  # several layers: sums, fold-weighted means, overall util over the summed cycles
        acc = dict.fromkeys(_SUMMED, 0)
        macs = 0
        map_w = cu_w = 0.0
        for layer, times in layers:
            lc = st.counts(layer)
            for k in _SUMMED:
                acc[k] += getattr(lc, k) * times
            macs += layer.M * layer.N * layer.K * times
            map_w += lc.mapping_eff_pct * lc.folds * times
            cu_w += lc.compute_util_pct * lc.folds * times
        extra = dict(acc)
        cyc = acc["total_cycles"]
        extra["overall_util_pct"] = macs * 100 / (cyc * spec.rows * spec.cols) if cyc else 0.0
        extra["mapping_eff_pct"] = map_w / acc["folds"]
        extra["compute_util_pct"] = cu_w / acc["folds"]
        extra["macs"] = macs
        extra.update(st.op_extra)  # dataflow, convention
    cycles = extra["total_cycles"]
    util = macs / (cycles * spec.rows * spec.cols) if cycles else 0.0
    if_reads, fl_reads = extra["sram_ifmap_reads"], extra["sram_filter_reads"]
    of_writes, of_reads = extra["sram_ofmap_writes"], extra["sram_ofmap_reads"]
    dram_words = extra["dram_ifmap_reads"] + extra["dram_filter_reads"] + extra["dram_ofmap_writes"]
    energy = st.costs.array_energy(macs, if_reads, fl_reads, of_writes, of_reads, dram_words, cycles)
    wb = spec.word_bytes
    return OpResult(  # op, cycles, seconds, energy_j, utilization, bound, unit, energy, bytes, extra
        op,
        cycles,
        cycles / spec.clock_hz,
        math.fsum(energy.values()),
        min(1.0, util),
        Bound.MEMORY if extra["stall_cycles"] > 0 else Bound.COMPUTE,
        "array",
        energy,
        {"sram": (if_reads + fl_reads + of_writes + of_reads) * wb, "dram": dram_words * wb},
        extra,
    )


def vector_cycles(spec: Spec, flops: int, bytes_total: int) -> tuple[int, Bound]:
    """Cycles of a non-GEMM op on the vector unit and what bounds it (module docstring)."""
    compute = _ceil(flops, spec.vector.lanes) if flops else 0
    memory = _ceil(bytes_total, spec.dram_words_per_cycle * spec.word_bytes) if bytes_total else 0
    cycles = spec.vector.overhead_cycles + max(compute, memory)
    if spec.vector.overhead_cycles > max(compute, memory):
        return cycles, Bound.LATENCY
    return cycles, Bound.COMPUTE if compute >= memory else Bound.MEMORY


def _vector_result(spec: Spec, c: Costs, op: Op) -> OpResult:
    cycles, bound = vector_cycles(spec, op.flops, op.bytes_total)
    words = _ceil(op.bytes_total, spec.word_bytes)
    energy = _energy(c, _VECTOR_PARTS, vector_ops=op.flops, dram_words=words, cycles=cycles)
    util = op.flops / (cycles * spec.vector.lanes) if cycles else 0.0
    return OpResult(
        op=op,
        cycles=cycles,
        seconds=cycles / spec.clock_hz,
        energy_j=math.fsum(energy.values()),
        utilization=min(1.0, util),
        bound=bound,
        unit="vector",
        energy_by_component_j=energy,
        bytes_by_level={"dram": op.bytes_total},
        extra={"total_cycles": cycles},
    )


def op_layers(op: Op) -> list[tuple[Layer, int]]:
    """The array layers an op runs as: (layer, repeats).  Fused attention = QK then AV GEMM."""
    if op.kind in FUSED_ATTENTION_KINDS:
        qk = Layer(op.M, op.kv_len, op.head_dim)
        av = Layer(op.M, op.head_dim, op.kv_len)
        return [(qk, op.batch), (av, op.batch)]
    return [(layer_of(op), op.batch)]


def simulate_op(spec: Spec, op: Op) -> OpResult:
    """One op: GEMM-like kinds on the array, fused attention as two GEMMs plus a softmax on the
    vector unit, everything else on the vector unit."""
    return _simulate_op(spec, _per_spec(spec), op)


def _simulate_op(spec: Spec, st: _PerSpec, op: Op) -> OpResult:
    kind = op.kind
    if kind in GEMM_LIKE_KINDS or kind in FUSED_ATTENTION_KINDS:
        layers = op_layers(op)
        try:
            g = _gemm_result(spec, st, op, layers)
        except ModelError as e:  # a layer the model refuses (USER mode too large): name the op
            raise ModelError(f"op {op.name!r}: {e}") from None
        if kind in GEMM_LIKE_KINDS:
            return g
        # fused attention: its QK and AV GEMMs above, then the softmax on the vector unit
        scores = op.batch * op.M * op.kv_len
        v_cycles, _ = vector_cycles(spec, 5 * scores, 0)  # softmax: max, sub, exp, sum, div
        cycles = g.cycles + v_cycles
        energy = dict(g.energy_by_component_j)
        energy["vector"] = _energy(st.costs, ("vector",), vector_ops=5 * scores)["vector"]
        energy["static"] += _energy(st.costs, ("static",), cycles=v_cycles)["static"]
        return OpResult(
            op=op,
            cycles=cycles,
            seconds=cycles / spec.clock_hz,
            energy_j=math.fsum(energy.values()),
            utilization=g.utilization * g.cycles / cycles if cycles else 0.0,
            bound=g.bound,
            unit="array+vector",
            energy_by_component_j=energy,
            bytes_by_level=g.bytes_by_level,
            extra={**g.extra, "total_cycles": cycles, "softmax_cycles": v_cycles},
        )
    return _vector_result(spec, st.costs, op)


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    """Run every op of `graph` back to back on the array (GEMM-like) or the vector unit."""
    st = _per_spec(spec)
    ops = tuple([_simulate_op(spec, st, op) for op in graph.ops])
    # arch, workload, ops, clock_hz, area_mm2, area_by_component_mm2, total_cycles, total_seconds, extra
    # (positional: a one-layer workload simulates in microseconds, keywords would be a tenth of it)
    return RunResult(
        spec.name,
        graph.title,
        ops,
        spec.clock_hz,
        st.costs.area_mm2,
        dict(st.costs.area_by_component_mm2),
        None,
        None,
        dict(st.run_extra),
    )


def load_scalesim_config(path: Any) -> Spec:
    """A SCALE-Sim ``.cfg`` -> Spec (the registry's foreign-format hook; see `cosim.scalesim`)."""
    from cosim.scalesim import load_config  # cosim.scalesim imports this module

    return load_config(path)


# --------------------------------------------------------------------------- vectorized whole-graph path


@dataclass(frozen=True)
class GraphArrays:
    """A graph's ops as numpy arrays, for evaluating many architectures quickly.

    GEMM-like layers (fused attention contributes two) have M, N, K, repeats (batch) and the
    ifmap's unique words; vector ops have FLOPs and bytes.  Build with `graph_arrays`.
    """

    M: np.ndarray
    N: np.ndarray
    K: np.ndarray
    repeats: np.ndarray
    ifmap_unique: np.ndarray
    layers: tuple[Layer, ...]
    vec_flops: np.ndarray
    vec_bytes: np.ndarray
    softmax_flops: int


_ARRAYS_CACHE: weakref.WeakKeyDictionary[WorkloadGraph, tuple[int, GraphArrays]] = weakref.WeakKeyDictionary()


def graph_arrays(graph: WorkloadGraph) -> GraphArrays:
    """`GraphArrays` of a graph, cached per graph object (rebuilt if its op count changes)."""
    hit = _ARRAYS_CACHE.get(graph)
    n = graph.number_of_nodes()
    if hit is not None and hit[0] == n:
        return hit[1]
    layers: list[Layer] = []
    reps: list[int] = []
    vf: list[int] = []
    vb: list[int] = []
    softmax = 0
    for op in graph.ops:
        if op.kind in GEMM_LIKE_KINDS or op.kind in FUSED_ATTENTION_KINDS:
            for layer, r in op_layers(op):
                layers.append(layer)
                reps.append(r)
            if op.kind in FUSED_ATTENTION_KINDS:
                softmax += 5 * op.batch * op.M * op.kv_len
        else:
            vf.append(op.flops)
            vb.append(op.bytes_total)
    arr = GraphArrays(
        M=np.array([x.M for x in layers], dtype=np.int64),
        N=np.array([x.N for x in layers], dtype=np.int64),
        K=np.array([x.K for x in layers], dtype=np.int64),
        repeats=np.array(reps, dtype=np.int64),
        ifmap_unique=np.array([x.ifmap_unique_words for x in layers], dtype=np.int64),
        layers=tuple(layers),
        vec_flops=np.array(vf, dtype=np.int64),
        vec_bytes=np.array(vb, dtype=np.int64),
        softmax_flops=softmax,
    )
    _ARRAYS_CACHE[graph] = (n, arr)
    return arr


@dataclass(frozen=True, slots=True)
class Totals:
    """Whole-graph totals of one architecture (what a design-space explorer needs)."""

    cycles: int
    seconds: float
    array_cycles: int
    vector_cycles: int
    stall_cycles: int
    macs: int
    sram_words: int
    dram_words: int
    energy_j: float
    utilization: float
    energy_by_component_j: dict[str, float] = field(default_factory=dict)
    area_mm2: float | None = None


def simulate_totals(spec: Spec, arrays: GraphArrays) -> Totals:
    """Totals of `simulate(spec, graph)` without per-op objects: numpy over all layers at once.

    Equal to summing `simulate`'s per-op results.  Layers whose SCALE-Sim DRAM counts need
    the epoch or drain recurrences (operands larger than half their SRAM), and USER mode,
    fall back to the cached per-layer function for those layers only.
    """
    R, C, df = spec.rows, spec.cols, spec.dataflow
    M, N, K, rep = arrays.M, arrays.N, arrays.K, arrays.repeats
    if df is Dataflow.OS:
        Sr, Sc, T = M, N, K
    elif df is Dataflow.WS:
        Sr, Sc, T = K, N, M
    else:
        Sr, Sc, T = K, M, N
    n_fr = -(-Sr // R)
    n_fc = -(-Sc // C)
    folds = n_fr * n_fc
    cpf = (R + C + T - 2) if df is Dataflow.OS else (2 * R + C + T - 2)
    compute = folds * cpf
    macs_l = M * N * K
    scalesim = spec.convention is Convention.SCALESIM
    if df is Dataflow.OS:
        sram_if, sram_fl = M * K * n_fc, K * N * n_fr
        sram_of = M * N + folds * (R + C) if scalesim else M * N
        of_rd = np.zeros_like(M)
    elif df is Dataflow.WS:
        sram_if, sram_fl, sram_of = M * K * n_fc, K * N, M * N * n_fr
        of_rd = np.zeros_like(M) if scalesim else M * N * (n_fr - 1)
    else:
        sram_if, sram_fl, sram_of = M * K, K * N * n_fc, M * N * n_fr
        of_rd = np.zeros_like(M) if scalesim else M * N * (n_fr - 1)
    u_if, u_fl = arrays.ifmap_unique, K * N
    v_of = sram_of - folds * (R + C) if (scalesim and df is Dataflow.OS) else sram_of
    cycles = compute.copy()
    stall = np.zeros_like(M)
    if scalesim:
        cycles -= 1
        buf = spec.buffers
        dram_if, dram_fl, dram_of = u_if.copy(), u_fl.copy(), v_of.copy()
        # the layers `scalesim_layer` does not count in closed form (an epoch of 0 never re-fetches)
        slow = (v_of > buf.ofmap_drain) | ((u_if >= buf.ifmap_epoch) & (buf.ifmap_epoch > 0))
        slow |= (u_fl >= buf.filter_epoch) & (buf.filter_epoch > 0)
        if spec.bandwidth_mode is BandwidthMode.USER:
            slow[:] = True
        for i in np.flatnonzero(slow):
            lc = layer_counts(spec, arrays.layers[i])
            cycles[i], stall[i] = lc.total_cycles, lc.stall_cycles
            dram_if[i], dram_fl[i], dram_of[i] = lc.dram_ifmap_reads, lc.dram_filter_reads, lc.dram_ofmap_writes
    else:
        buf = spec.buffers
        half_if, half_fl, half_of = buf.ifmap // 2, buf.filter // 2, buf.ofmap // 2
        if df is Dataflow.OS:
            dram_if = np.where(u_if <= half_if, u_if, M * K * n_fc)
            dram_fl = np.where(u_fl <= half_fl, u_fl, K * N * n_fr)
            dram_of = M * N
        elif df is Dataflow.WS:
            dram_if = np.where(u_if <= half_if, u_if, M * K * n_fc)
            dram_fl = u_fl
            dram_of = np.where(M * N <= half_of, M * N, M * N * (2 * n_fr - 1))
        else:
            dram_if = u_if
            dram_fl = np.where(u_fl <= half_fl, u_fl, K * N * n_fc)
            dram_of = np.where(M * N <= half_of, M * N, M * N * (2 * n_fr - 1))
        if spec.bandwidth_mode is BandwidthMode.USER:
            need = -(-(dram_if + dram_fl + dram_of) // spec.dram_words_per_cycle)
            stall = np.maximum(0, need - compute)
            cycles = compute + stall
    array_cycles = int((cycles * rep).sum())
    stall_total = int((stall * rep).sum())
    macs = int((macs_l * rep).sum())
    if_reads, fl_reads, of_writes, of_reads = (int(x @ rep) for x in (sram_if, sram_fl, sram_of, of_rd))
    sram_words = if_reads + fl_reads + of_writes + of_reads
    dram_words = int(((dram_if + dram_fl + dram_of) * rep).sum())
    lanes = spec.vector.lanes
    bpc = spec.dram_words_per_cycle * spec.word_bytes
    vc = np.maximum(-(-arrays.vec_flops // lanes), -(-arrays.vec_bytes // bpc)) + spec.vector.overhead_cycles
    soft = _ceil(arrays.softmax_flops, lanes) if arrays.softmax_flops else 0
    vector_cycles_total = int(vc.sum()) + soft
    vector_words = -(-arrays.vec_bytes // spec.word_bytes)
    total_cycles = array_cycles + vector_cycles_total
    # the components the per-op path reports: array parts if any layer ran, vector if any vector work
    parts = [*(("mac", "sram") if M.size else ()), "dram", "static"]
    if arrays.vec_flops.size or arrays.softmax_flops:
        parts.append("vector")
    c = costs(spec)
    e = _energy(
        c,
        parts,
        macs=macs,
        if_reads=if_reads,
        fl_reads=fl_reads,
        of_writes=of_writes,
        of_reads=of_reads,
        dram_words=dram_words + int(vector_words.sum()),
        vector_ops=int(arrays.vec_flops.sum()) + arrays.softmax_flops,
        cycles=total_cycles,
    )
    return Totals(
        cycles=total_cycles,
        seconds=total_cycles / spec.clock_hz,
        array_cycles=array_cycles,
        vector_cycles=vector_cycles_total,
        stall_cycles=stall_total,
        macs=macs,
        sram_words=sram_words,
        dram_words=dram_words,
        energy_j=math.fsum(e.values()),
        utilization=macs / (array_cycles * R * C) if array_cycles else 0.0,
        energy_by_component_j=e,
        area_mm2=c.area_mm2,
    )


def simulate_graph_totals(spec: Spec, graph: WorkloadGraph) -> Totals:
    """`simulate_totals` on a graph (the registry's hook): its arrays are cached per graph."""
    return simulate_totals(spec, graph_arrays(graph))


__all__ = [
    "PE_SYNTH_TRANSISTORS",
    "SCALESIM_FIELDS",
    "AreaSource",
    "BandwidthMode",
    "Convention",
    "Costs",
    "Dataflow",
    "GraphArrays",
    "Layer",
    "LayerCounts",
    "Spec",
    "Totals",
    "VectorUnit",
    "clear_caches",
    "costs",
    "cycles_per_fold",
    "gemm_cycles",
    "graph_arrays",
    "layer_counts",
    "layer_of",
    "load_scalesim_config",
    "native_layer",
    "native_sram_words",
    "pe_area_mm2",
    "scalesim_layer",
    "simulate",
    "simulate_graph_totals",
    "simulate_op",
    "simulate_totals",
    "spatial_temporal",
    "synthesize_pe_mac",
    "vector_cycles",
]
