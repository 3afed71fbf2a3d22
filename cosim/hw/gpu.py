"""GPU baseline: roofline with shape-dependent efficiency, calibrated on a real GPU.

What it models: the device time of each op as a library kernel (cuBLAS GEMM, FlashAttention-2,
ATen element-wise kernels) takes it in a back-to-back stream (as in a CUDA graph), with operands
coming from HBM (cold L2), under the measurement protocol of `cosim.gpubench` (~2 ms replays).
Ops run one after another; there is no overlap between ops.

Assumptions, per kind:

* GEMM / GEMV / batched GEMM (and the unfused attention GEMMs ``attention_qk``/``attention_av``
  and ``conv2d`` through its implicit-GEMM view): the output is cut into tiles (the candidate tile
  shapes of the spec; tensor-core tiles are at least 64 rows, the wgmma/mma M granularity; a
  partial tile costs a full one), the reduction may be split in ``s`` parts (split-K: the partial
  sums cost an fp32 write+read of the output and one more kernel), and tiles run in waves of one
  per SM (``wave_quant`` between an even spread and whole waves).  A tile of ``tm x tn`` runs at
  the SM's share of the dtype's peak x ``compute`` x ``1 / (1 + c (1/tm + 1/tn))`` (operand traffic
  per MAC falls with tile size), then writes its output tile at ``epilogue_bytes_per_s``.  Memory
  time is the compulsory traffic (A, B, C once) over DRAM bandwidth x ``dram`` (or over active
  SMs x ``sm_bytes_per_s`` when few tiles run); compute and memory combine as a p-norm
  (p = ``overlap``).  A power roofline bounds dense work: FLOPs x ``energy_per_flop_j`` cannot take
  less than (cap - idle power) allows (during the H100 calibration run, nvidia-smi named the
  software power cap as the clock limiter in 67% of its 100 ms samples, SM clocks 1.1-1.98 GHz).
  For M = 1 a GEMV kernel without tile padding is also a candidate.  The library's choice of
  kernel is modelled as the fastest candidate.  GEMMs whose rows are not 16-byte aligned (e.g. an
  odd KV length) run at ``unaligned`` x speed without split-K.  int8 GEMMs write int32 outputs (as
  cuBLAS and ``torch._int_mm`` do).
* Decode attention (query length 1), as FlashAttention-2 runs it: one CTA per (sequence, query
  head), or per (sequence, KV head) with GQA (which also costs two small layout kernels); the KV
  range is split by FlashAttention-2's heuristic (`fa_num_splits`, plus a combine kernel).  The KV
  cache is read once at ``attn_dram`` of the bandwidth when the CTAs fit in one wave of
  ``attn_ctas_per_sm`` per SM, at ``attn_dram_waves`` when they take several; a CTA streams at
  most ``attn_cta_bytes_per_s``.
* Prefill attention (causal, queries aligned to the end of the keys): one CTA per 128-query block
  walks its visible 128-key blocks (MMA FLOPs plus softmax work), plus a per-CTA cost; the longest
  CTA bounds the time.
* Memory-bound ops (element-wise, norm, softmax, embedding, copy, pool, reduce): compulsory bytes
  over DRAM bandwidth x a per-kind efficiency, plus a per-kind latency; when rows x row length are
  known (norm, softmax, embedding), one CTA per row walking it at ``row_bytes_per_s`` bounds it.
* Every kernel pays ``launch_s`` (the gap between back-to-back kernels).

Weight-only quantized GEMMs (weight_bits < act_bits) are modelled as computing in the activation
dtype with the weights read at their stored width (a fused-dequantization kernel such as Marlin);
that path is not calibrated, nor are int8 GEMMs with M <= 16 (``torch._int_mm`` rejects them).
Energy (`op_energy`), per op under the shared component names (`cosim.cost.Component`), with
``energy_model``:

* ``cost`` (default): ``mac`` = the op's MACs (FLOPs / 2 of GEMMs and attention) x the cost
  library's MAC of the op's dtype at ``tech_node``; ``vector`` = other FLOPs x an FP32 add;
  ``sram`` = on-chip operand movement: every DRAM byte once through L2, plus a GEMM's tile
  re-reads (each ``tm x tn`` output tile reads its A and B panels from L2, A once per column of
  tiles, B once per row) and the operand bytes of GEMMs and attention written into and read out
  of shared memory, each byte at the energy of a 128-byte access of an L2 (``l2_bytes``) or
  shared-memory (``smem_bytes_per_sm``) CACTI array; ``dram`` = compulsory bytes (plus split-K
  partial sums) x `cosim.cost.dram_energy_per_byte_j` of ``dram_kind``; ``static`` =
  ``idle_power_w`` x time.  A bottom-up count: it leaves out instruction issue, register files
  and clocking, so it is a lower bound of board energy.
* ``calibrated``: ``mac`` = GEMM/attention FLOPs x ``efficiency.energy_per_flop_j`` (the board's
  energy per FLOP above idle, fitted by `cosim calibrate` from the power roofline on a real GPU;
  it covers on-chip movement, so there is no ``sram``), ``vector``, ``dram`` and ``static`` as
  above (DRAM energy during GEMMs is then counted twice, a few percent at GEMM intensity).
  Only the FP16/BF16 figures are constrained by the H100 calibration; A100 presets carry the
  H100's figures (not measured).

Area: ``die_area_mm2``, the published die area (not built up; none when 0).

The datasheet numbers of a preset (SMs, clock, peaks, bandwidth, power) carry their sources in
the YAML; the efficiency block is fitted by ``cosim calibrate`` (see `cosim.calibrate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from cosim import cost
from cosim.errors import ModelError, SpecError
from cosim.graph import FUSED_ATTENTION_KINDS, GEMM_LIKE_KINDS, Op, WorkloadGraph
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.spec import doc_field


class EnergyModel(StrEnum):
    """How the GPU's energy is computed (module docstring)."""

    COST = "cost"  # cosim.cost components at tech_node
    CALIBRATED = "calibrated"  # the calibrated whole-board energy per FLOP


L2_LINE_BITS = 1024  # 128-byte L2 cache line (NVIDIA A100/H100 whitepapers: 128-byte lines)
SMEM_ACCESS_BITS = 1024  # one warp-wide shared-memory access: 32 lanes x 4 bytes


class Dtype(StrEnum):
    """Compute dtypes the model has peaks for (torch's names; tf32 is float32 on tensor cores)."""

    BF16 = "bfloat16"
    FP16 = "float16"
    FP32 = "float32"
    TF32 = "tf32"
    INT8 = "int8"


_DTYPE_ALIASES = {"half": Dtype.FP16, "float": Dtype.FP32}
VECTOR_KINDS = ("elementwise", "norm", "softmax", "embedding", "copy", "pool", "reduce")


def resolve_dtype(name: str, where: str = "op") -> Dtype:
    """torch dtype name -> `Dtype`, or ModelError listing what the GPU model computes in."""
    if name in _DTYPE_ALIASES:
        return _DTYPE_ALIASES[name]
    try:
        return Dtype(name)
    except ValueError:
        allowed = ", ".join(d.value for d in Dtype)
        raise ModelError(f"{where}: dtype {name!r} is not modelled on the GPU (allowed: {allowed})") from None


@dataclass(frozen=True)
class Efficiency:
    """Shape-dependent efficiency parameters; `cosim calibrate` fits them to measurements.

    Defaults are round guesses for an uncalibrated preset, not measurements.  Times are per
    kernel; "launch" is the gap every kernel pays in a back-to-back stream.
    """

    compute: dict[str, float] = field(
        default_factory=lambda: {"bfloat16": 0.7, "float16": 0.7, "float32": 0.8, "tf32": 0.6, "int8": 0.45}
    )  # fraction of the dtype's dense peak that large GEMM tiles sustain
    tile_overhead: float = doc_field(32.0, doc="c in the tile efficiency 1/(1 + c (1/tm + 1/tn))", min=0)
    tile_latency_s: float = doc_field(1e-6, doc="fixed time per wave of tiles (pipeline fill)", min=0)
    epilogue_bytes_per_s: float = doc_field(
        200e9, doc="rate at which one SM writes its output tile after the K loop", gt=0
    )
    wave_quant: float = doc_field(
        0.5, doc="0: tiles spread evenly (stream-K); 1: a partial wave costs a full one", min=0, max=1
    )
    dram: float = doc_field(0.85, doc="fraction of datasheet DRAM bandwidth a streaming GEMM reaches", gt=0, max=1.2)
    sm_bytes_per_s: float = doc_field(60e9, doc="DRAM bandwidth one SM can pull (few-CTA kernels)", gt=0)
    overlap: float = doc_field(4.0, doc="p of the p-norm that combines compute and memory time", min=1, max=50)
    unaligned: float = doc_field(
        0.2, doc="speed factor of GEMMs whose K or N rows are not 16-byte aligned (no TMA/vector loads)", gt=0, max=1
    )
    energy_per_flop_j: dict[str, float] = field(
        default_factory=lambda: {
            "bfloat16": 0.8e-12,
            "float16": 0.8e-12,
            "float32": 5e-12,
            "tf32": 1.5e-12,
            "int8": 0.4e-12,
        }
    )  # whole-GPU energy per dense-GEMM FLOP at GEMM intensity; bounds GEMM time by the power cap
    launch_s: float = doc_field(1.2e-6, doc="per-kernel gap in a back-to-back stream (any kernel)", min=0)
    gemm_latency_s: float = doc_field(2e-6, doc="GEMM kernels: fixed time beyond launch", min=0)
    attn_dram: float = doc_field(
        0.9, doc="decode attention in one wave of CTAs: fraction of DRAM bandwidth", gt=0, max=1.2
    )
    attn_dram_waves: float = doc_field(
        0.75, doc="decode attention over several waves: fraction of DRAM bandwidth", gt=0, max=1.2
    )
    attn_cta_bytes_per_s: float = doc_field(60e9, doc="decode attention: KV bandwidth of one CTA", gt=0)
    attn_latency_s: float = doc_field(5e-6, doc="decode attention: fixed time beyond launches", min=0)
    prefill: float = doc_field(
        0.4, doc="prefill attention: fraction of the dtype's dense peak in the KV loop", gt=0, max=1.2
    )
    prefill_softmax_dim: float = doc_field(
        32.0, doc="prefill attention: softmax work per key block, in head-dim units of MMA work", min=0
    )
    prefill_chain: float = doc_field(0.5, doc="prefill attention: a lone CTA's block time / the average one", gt=0)
    prefill_cta_s: float = doc_field(5e-6, doc="prefill attention: fixed time per CTA (Q load, epilogue)", min=0)
    prefill_latency_s: float = doc_field(3e-6, doc="prefill attention: fixed time beyond launch", min=0)
    vector: dict[str, float] = field(
        default_factory=lambda: {k: 0.85 for k in ("elementwise", "norm", "softmax", "embedding", "copy")}
    )  # memory-bound kinds: fraction of DRAM bandwidth on large tensors
    vector_latency_s: dict[str, float] = field(
        default_factory=lambda: {
            "elementwise": 0.2e-6,
            "norm": 3e-6,
            "softmax": 3e-6,
            "embedding": 0.5e-6,
            "copy": 0.2e-6,
        }
    )  # memory-bound kinds: fixed time beyond launch
    row_bytes_per_s: dict[str, float] = field(
        default_factory=lambda: {"norm": 2e9, "softmax": 2e9, "embedding": 10e9}
    )  # row-wise kinds: bytes per second one CTA moves through its row (rows x row length known)
    row_latency_s: dict[str, float] = field(
        default_factory=lambda: {"norm": 0.3e-6, "softmax": 0.3e-6, "embedding": 0.1e-6}
    )  # row-wise kinds: fixed time per row on its CTA

    def __post_init__(self) -> None:
        for k, v in self.compute.items():
            if k not in set(Dtype):
                raise SpecError(f"efficiency.compute: unknown dtype {k!r} (allowed: {', '.join(Dtype)})")
            if not 0 < v <= 1.2:
                raise SpecError(f"efficiency.compute.{k}: must be in (0, 1.2], got {v!r}")
        for name, table, lo, hi in (
            ("vector", self.vector, 0.0, 1.2),
            ("vector_latency_s", self.vector_latency_s, -1e-30, 1.0),
            ("row_bytes_per_s", self.row_bytes_per_s, 0.0, 1e15),
            ("row_latency_s", self.row_latency_s, -1e-30, 1.0),
            ("energy_per_flop_j", self.energy_per_flop_j, 0.0, 1e-9),
        ):
            keys = set(Dtype) if name == "energy_per_flop_j" else VECTOR_KINDS
            for k, v in table.items():
                if k not in keys:
                    raise SpecError(f"efficiency.{name}: unknown key {k!r} (allowed: {', '.join(sorted(keys))})")
                if not lo < v <= hi:
                    raise SpecError(f"efficiency.{name}.{k}: must be in ({lo:g}, {hi:g}], got {v!r}")


@dataclass(frozen=True)
class Spec:
    """A GPU: datasheet numbers (with sources in the YAML) and fitted efficiencies."""

    name: str
    sm_count: int = doc_field(doc="streaming multiprocessors", min=1)
    clock_hz: float = doc_field(doc="boost clock; used to express times in cycles", gt=0)
    dram_bytes_per_s: float = doc_field(doc="datasheet DRAM (HBM) bandwidth", gt=0)
    dram_bytes: int = doc_field(0, doc="DRAM capacity (informative)", min=0)
    l2_bytes: int = doc_field(0, doc="L2 cache capacity (informative)", min=0)
    peak_flops_per_s: dict[str, float] = field(default_factory=dict)  # dense (no sparsity) peak per dtype
    tiles: tuple[tuple[int, int], ...] = ((64, 64), (64, 128), (128, 64), (128, 128), (128, 256), (256, 128))
    split_k: dict[str, tuple[int, ...]] = field(
        default_factory=lambda: {"default": (1, 2, 3, 4, 6, 8, 12, 16)}
    )  # splits of the reduction a GEMM may use, per dtype ("default" for the others)
    min_split_k_depth: int = doc_field(256, doc="smallest K per split", min=1)
    power_cap_w: float = doc_field(0.0, doc="board power limit (TDP); 0: no power roofline", min=0)
    idle_power_w: float = doc_field(0.0, doc="board power when clocked up but idle", min=0)
    attn_ctas_per_sm: int = doc_field(2, doc="decode-attention CTAs resident per SM (FlashAttention-2 split-KV)", min=1)
    row_ctas_per_sm: int = doc_field(8, doc="row-wise kernels (norm, softmax, embedding): rows in flight per SM", min=1)
    efficiency: Efficiency = field(default_factory=Efficiency)
    tech_node: str = doc_field("7nm", doc="cost-library node for energy (A100: TSMC N7)")
    dram_kind: str = doc_field("hbm2", doc="memory kind for DRAM energy (cosim.cost.DramKind)")
    smem_bytes_per_sm: int = doc_field(0, doc="shared memory per SM, for its access energy (0: not counted)", min=0)
    die_area_mm2: float = doc_field(0.0, doc="published die area, the model's area (0: not reported)", min=0)
    energy_model: EnergyModel = doc_field(EnergyModel.COST, doc="cost (cosim.cost components) or calibrated")
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.energy_model, EnergyModel):
            try:
                object.__setattr__(self, "energy_model", EnergyModel(self.energy_model))
            except ValueError:
                raise SpecError(
                    f"energy_model: unknown value {self.energy_model!r} (allowed: cost, calibrated)"
                ) from None
        cost.get_node(self.tech_node)
        cost.dram_energy_per_bit_j(self.dram_kind)
        if not self.peak_flops_per_s:
            raise SpecError("peak_flops_per_s: give the dense peak of at least one dtype")
        for k, v in self.peak_flops_per_s.items():
            if k not in set(Dtype):
                raise SpecError(f"peak_flops_per_s: unknown dtype {k!r} (allowed: {', '.join(Dtype)})")
            if not v > 0:
                raise SpecError(f"peak_flops_per_s.{k}: must be > 0, got {v!r}")
        if not self.tiles:
            raise SpecError("tiles: give at least one tile shape")
        if self.power_cap_w and not self.power_cap_w > self.idle_power_w:
            raise SpecError(f"power_cap_w ({self.power_cap_w}) must exceed idle_power_w ({self.idle_power_w})")
        if "default" not in self.split_k:
            raise SpecError("split_k: needs a 'default' entry (the splits of dtypes not listed)")
        for k, v in self.split_k.items():
            if k != "default" and k not in set(Dtype):
                raise SpecError(f"split_k: unknown dtype {k!r} (allowed: default, {', '.join(Dtype)})")
            if 1 not in v or min(v) < 1:
                raise SpecError(f"split_k.{k}: must contain 1 and only positive splits, got {v}")
        for i, (tm, tn) in enumerate(self.tiles):
            if tm < 1 or tn < 1:
                raise SpecError(f"tiles[{i}]: tile sides must be >= 1, got {(tm, tn)}")

    def peak(self, dtype: Dtype, where: str = "op") -> float:
        if dtype.value not in self.peak_flops_per_s:
            raise ModelError(
                f"{where}: {self.name} has no peak for dtype {dtype.value} "
                f"(the spec gives: {', '.join(self.peak_flops_per_s)})"
            )
        return self.peak_flops_per_s[dtype.value]

    @property
    def all_splits(self) -> tuple[int, ...]:
        return tuple(sorted({s for v in self.split_k.values() for s in v}))

    def split_mask(self, dtype: Dtype) -> np.ndarray:
        """Which of `all_splits` a GEMM in `dtype` may use."""
        allowed = self.split_k.get(dtype.value, self.split_k["default"])
        return np.array([s in allowed for s in self.all_splits])

    def compute_eff(self, dtype: Dtype) -> float:
        return self.efficiency.compute.get(dtype.value, 0.7)

    def vector_eff(self, kind: str) -> float:
        return self.efficiency.vector.get(kind, self.efficiency.vector.get("elementwise", 0.85))

    def vector_latency(self, kind: str) -> float:
        return self.efficiency.vector_latency_s.get(kind, self.efficiency.vector_latency_s.get("elementwise", 0.0))


# --------------------------------------------------------------------------- vectorised kernels
# Every function takes numpy arrays (one entry per op) so the fit evaluates all measurements at
# once; `simulate` calls them with one-element arrays.  Same code, same numbers.


def _f64(*xs: object) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(x, dtype=np.float64) for x in xs)


@dataclass(frozen=True)
class GemmTiming:
    seconds: np.ndarray
    compute_s: np.ndarray
    memory_s: np.ndarray
    tile: np.ndarray  # (n, 2) chosen tile; (1, 1) for the GEMV kernel
    split_k: np.ndarray
    waves: np.ndarray


def gemm_seconds(
    spec: Spec,
    M: np.ndarray,
    N: np.ndarray,
    K: np.ndarray,
    batch: np.ndarray,
    a_bytes: np.ndarray,
    b_bytes: np.ndarray,
    c_bytes: np.ndarray,
    peak_flops_per_s: np.ndarray,
    compute_eff: np.ndarray,
    split_allowed: np.ndarray | None = None,
    aligned: np.ndarray | None = None,
    energy_per_flop_j: np.ndarray | None = None,
) -> GemmTiming:
    """Time of `batch` GEMMs of M x N x K; element sizes in bytes per operand (see module doc).

    Candidates are every (tile, split-K) pair, and for M = 1 a GEMV kernel (no tile padding);
    the fastest is taken, as a library heuristic would try to.
    """
    e = spec.efficiency
    n_ops = len(np.atleast_1d(M))
    al = np.ones(n_ops, dtype=bool) if aligned is None else np.asarray(aligned, dtype=bool)
    slow = np.where(al, 1.0, e.unaligned)
    e_flop = np.zeros(n_ops) if energy_per_flop_j is None else np.asarray(energy_per_flop_j, dtype=np.float64)
    M, N, K, batch, a_b, b_b, c_b, peak, eff = (
        x[:, None, None] for x in _f64(M, N, K, batch, a_bytes, b_bytes, c_bytes, peak_flops_per_s, compute_eff)
    )
    eff = eff * slow[:, None, None]
    tiles = np.asarray(spec.tiles, dtype=np.float64)
    tm, tn = tiles[None, :, 0, None], tiles[None, :, 1, None]
    splits = np.asarray(spec.all_splits, dtype=np.float64)[None, None, :]
    sms = float(spec.sm_count)

    n_tiles = np.ceil(M / tm) * np.ceil(N / tn) * batch * splits
    x = n_tiles / sms
    waves = e.wave_quant * np.ceil(x) + (1.0 - e.wave_quant) * x
    k_per = np.ceil(K / splits / 16.0) * 16.0  # MMA K granularity
    ref = 1.0 + e.tile_overhead * (1 / 128 + 1 / 256)  # the largest tile runs at compute_eff
    tile_eff = ref / (1.0 + e.tile_overhead * (1 / tm + 1 / tn))
    tile_s = 2.0 * tm * tn * k_per / (peak / sms * eff * tile_eff) + tm * tn * c_b / e.epilogue_bytes_per_s
    t_c = waves * tile_s + np.ceil(x) * e.tile_latency_s
    split = (splits > 1).astype(np.float64)
    compulsory = batch * (M * K * a_b + K * N * b_b + M * N * c_b)
    traffic = compulsory + split * (2.0 * splits * batch * M * N * 4.0)
    bw = np.minimum(spec.dram_bytes_per_s * e.dram, np.minimum(n_tiles, sms) * e.sm_bytes_per_s)
    t_m = traffic / (bw * slow[:, None, None])
    # power roofline: the board cannot draw more than its cap, so dense work takes at least
    # (energy of its FLOPs) / (cap - idle power); padded FLOPs of partial tiles count
    t_p = np.zeros_like(t_c)
    if spec.power_cap_w:
        padded = 2.0 * np.ceil(M / tm) * tm * np.ceil(N / tn) * tn * K * batch
        t_p = padded * e_flop[:, None, None] / (spec.power_cap_w - spec.idle_power_w)
    fixed = e.launch_s + e.gemm_latency_s + split * e.launch_s
    t = np.maximum(_combine(t_c, t_m, e.overlap), t_p) + fixed
    t_c = np.maximum(t_c, t_p)
    valid = (splits == 1) | (K / splits >= spec.min_split_k_depth)
    if split_allowed is not None:
        valid = valid & np.asarray(split_allowed, dtype=bool)[:, None, :]
    valid = valid & (al[:, None, None] | (splits == 1))  # unaligned kernels do not split K
    t = np.where(valid, t, np.inf)
    n = t.shape[0]
    flat = t.reshape(n, -1)
    best = np.argmin(flat, axis=1)
    rows = np.arange(n)
    n_s = splits.shape[2]
    ti, si = best // n_s, best % n_s

    def pick(v: np.ndarray) -> np.ndarray:
        return np.broadcast_to(v, t.shape).reshape(n, -1)[rows, best]

    sec, tc, tmem = flat[rows, best], pick(t_c), pick(t_m)
    tile, split_k, nw = tiles[ti], splits[0, 0, si], pick(waves)
    # GEMV kernel (M == 1): no tile padding, every SM streams the weights
    g_c = 2.0 * M[:, 0, 0] * N[:, 0, 0] * K[:, 0, 0] * batch[:, 0, 0] / (peak[:, 0, 0] * eff[:, 0, 0])
    g_m = compulsory[:, 0, 0] / (spec.dram_bytes_per_s * e.dram * slow)
    g_t = _combine(g_c, g_m, e.overlap) + e.launch_s + e.gemm_latency_s
    use = (M[:, 0, 0] == 1) & (g_t < sec)
    return GemmTiming(
        np.where(use, g_t, sec),
        np.where(use, g_c, tc),
        np.where(use, g_m, tmem),
        np.where(use[:, None], 1.0, tile),
        np.where(use, 1.0, split_k),
        np.where(use, 1.0, nw),
    )


def _combine(t_c: np.ndarray, t_m: np.ndarray, p: float) -> np.ndarray:
    """p-norm of compute and memory time: max for large p, sum for p = 1."""
    big = np.maximum(t_c, t_m)
    safe = np.where(big > 0, big, 1.0)
    return big * (1.0 + (np.minimum(t_c, t_m) / safe) ** p) ** (1.0 / p)


def fa_num_splits(ctas: np.ndarray, slots: float, n_blocks: np.ndarray, max_splits: int = 128) -> np.ndarray:
    """Split-KV factor of FlashAttention-2's decode path (flash_api.cpp ``num_splits_heuristic``).

    No split when the (batch x heads) CTAs already fill 80% of the slots; otherwise the smallest
    split whose wave efficiency is within 85% of the best one, among splits that change the
    number of KV blocks per split.  Evaluated for arrays of shapes.
    """
    ctas, n_blocks = _f64(ctas, n_blocks)
    s = np.arange(1, max_splits + 1, dtype=np.float64)[None, :]
    cap = np.minimum(np.minimum(float(max_splits), slots), n_blocks)[:, None]
    eligible = (s == 1) | (np.ceil(n_blocks[:, None] / s) != np.ceil(n_blocks[:, None] / np.maximum(s - 1, 1)))
    eligible &= s <= cap
    waves = ctas[:, None] * s / slots
    effs = np.where(eligible, waves / np.ceil(waves), 0.0)
    best = effs.max(axis=1, keepdims=True)
    ok = eligible & (effs >= 0.85 * best)
    first = np.argmax(ok, axis=1) + 1.0
    return np.where(ctas >= 0.8 * slots, 1.0, first)


def decode_attention_seconds(
    spec: Spec,
    B: np.ndarray,
    H: np.ndarray,
    Hkv: np.ndarray,
    d: np.ndarray,
    L: np.ndarray,
    elem_bytes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fused decode attention (query length 1), FlashAttention-2 style: (seconds, compute_s, memory_s).

    GQA packs a KV head's query heads into one CTA (and costs two small layout kernels); the KV
    range is split per `fa_num_splits` (plus a combine kernel).  The KV cache is read once.
    """
    e = spec.efficiency
    B, H, Hkv, d, L, eb = _f64(B, H, Hkv, d, L, elem_bytes)
    slots = float(spec.sm_count * spec.attn_ctas_per_sm)
    gqa = H != Hkv
    heads = np.where(gqa, Hkv, H)
    block_n = np.where(d <= 64, 256.0, np.where(d <= 128, 128.0, 64.0))
    n_blocks = np.ceil(L / block_n)
    base = B * heads
    s = fa_num_splits(base, slots, n_blocks)
    ctas = base * s
    kv_bytes = 2.0 * B * Hkv * L * d * eb
    traffic = kv_bytes + 2.0 * B * H * d * eb
    bw = spec.dram_bytes_per_s * np.where(ctas <= slots, e.attn_dram, e.attn_dram_waves)
    per_cta = 2.0 * np.ceil(n_blocks / s) * block_n * d * eb
    t_chain = np.ceil(ctas / slots) * per_cta / e.attn_cta_bytes_per_s
    t_m = np.maximum(traffic / bw, t_chain)
    t_c = np.zeros_like(t_m)
    kernels = 1.0 + (s > 1) + 2.0 * gqa
    t = t_m + e.attn_latency_s + e.launch_s * kernels
    return t, t_c, t_m


def prefill_attention_seconds(
    spec: Spec,
    B: np.ndarray,
    H: np.ndarray,
    Hkv: np.ndarray,
    d: np.ndarray,
    q_len: np.ndarray,
    L: np.ndarray,
    elem_bytes: np.ndarray,
    peak_flops_per_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fused causal attention, `q_len` queries over `L` keys: (seconds, compute_s, memory_s).

    One CTA per (sequence, head, 128-query block) loops over the 128-key blocks it may see
    (causal, queries aligned to the end of the keys), each block costing ``4 * 128 * 128 * d``
    MMA FLOPs plus softmax work (``prefill_softmax_dim`` head dims' worth) at ``prefill`` x the
    SM's share of peak; each CTA also pays ``prefill_cta_s``.  The CTAs are spread over the SMs;
    the longest CTA (at ``prefill_chain`` x the average block time) bounds the time from below.
    """
    e = spec.efficiency
    B, H, Hkv, d, q, L, eb, peak = _f64(B, H, Hkv, d, q_len, L, elem_bytes, peak_flops_per_s)
    sms = float(spec.sm_count)
    nm = np.ceil(q / 128.0)
    nb = np.ceil(L / 128.0)
    off = nb - nm  # key blocks before the first query block
    # blocks seen by query block i (0-based): min(nb, off + i + 1); summed over i
    full = np.clip(nb - off, 0, nm)  # query blocks whose range is not clipped at nb
    per_head = nm * off + full * (full + 1) / 2.0 + (nm - full) * nb
    blocks = B * H * per_head
    # per 128 x 128 block: the two MMAs (4 * 128 * 128 * d FLOPs) plus the softmax, which does not
    # scale with d (exp, max, sum per score), counted as `prefill_softmax_dim` extra head dims
    block_s = 4.0 * 128 * 128 * (d + e.prefill_softmax_dim) / (peak / sms * e.prefill)
    ctas = B * H * nm
    t_work = (blocks * block_s + ctas * e.prefill_cta_s) / sms
    t_chain = np.minimum(nb, off + nm) * block_s * e.prefill_chain + e.prefill_cta_s
    t_c = np.maximum(t_work, t_chain)
    traffic = (2.0 * B * H * q * d + 2.0 * B * Hkv * L * d) * eb
    t_m = traffic / (spec.dram_bytes_per_s * e.dram)
    t = np.maximum(t_c, t_m) + e.launch_s + e.prefill_latency_s
    return t, t_c, t_m


def vector_seconds(
    spec: Spec,
    kinds: Sequence[str],
    bytes_total: np.ndarray,
    rows: np.ndarray,
    row_len: np.ndarray,
    elem_bytes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Memory-bound ops: (seconds, memory_s).

    Bytes at DRAM bandwidth x the kind's efficiency, plus the kind's fixed latency; for row-wise
    kinds with known rows x row length, one CTA walks each row at ``row_bytes_per_s`` and rows
    run ``row_ctas_per_sm`` per SM, which bounds short, long-row tensors.
    """
    e = spec.efficiency
    by, rows, row_len, eb = _f64(bytes_total, rows, row_len, elem_bytes)
    eff = np.array([spec.vector_eff(k) for k in kinds])
    lat = np.array([spec.vector_latency(k) for k in kinds])
    rate = np.array([e.row_bytes_per_s.get(k, np.inf) for k in kinds])
    row_lat = np.array([e.row_latency_s.get(k, 0.0) for k in kinds])
    t_m = by / (spec.dram_bytes_per_s * eff)
    slots = float(spec.sm_count * spec.row_ctas_per_sm)
    known = (rows > 0) & (row_len > 0) & np.isfinite(rate)
    t_row = np.where(known, np.ceil(rows / slots) * (row_lat + row_len * eb / rate), 0.0)
    return np.maximum(t_m, t_row) + lat + e.launch_s, t_m


# --------------------------------------------------------------------------- ops -> arrays


def _elem_bytes(bits: float) -> float:
    return math.ceil(bits) / 8.0


@dataclass(frozen=True)
class OpTime:
    """One op's prediction with the quantities that explain it."""

    seconds: float
    compute_s: float
    memory_s: float
    bound: Bound
    extra: dict


def _gemm_arrays(spec: Spec, ops: Sequence[Op]) -> tuple[np.ndarray, ...]:
    M = np.array([o.M for o in ops], dtype=np.float64)
    N = np.array([o.N for o in ops], dtype=np.float64)
    K = np.array([o.K for o in ops], dtype=np.float64)
    b = np.array([o.batch for o in ops], dtype=np.float64)
    dts = [resolve_dtype(o.dtype, f"op {o.name!r}") for o in ops]
    a_b = np.array([_elem_bytes(o.act_bits) for o in ops])
    w_b = np.array([_elem_bytes(o.weight_bits) if o.weight_bits else _elem_bytes(o.act_bits) for o in ops])
    c_b = np.array([4.0 if d is Dtype.INT8 else _elem_bytes(o.act_bits) for o, d in zip(ops, dts)])
    peak = np.array([spec.peak(d, f"op {o.name!r}") for o, d in zip(ops, dts)])
    eff = np.array([spec.compute_eff(d) for d in dts])
    masks = np.array([spec.split_mask(d) for d in dts])
    # cuBLAS's TMA / vectorised kernels need 16-byte aligned rows of A (K) and of B and C (N)
    aligned = ((K * a_b) % 16 == 0) & ((N * c_b) % 16 == 0) & ((N * w_b) % 16 == 0)
    e_flop = np.array([spec.efficiency.energy_per_flop_j.get(d.value, 0.0) for d in dts])
    return M, N, K, b, a_b, w_b, c_b, peak, eff, masks, aligned, e_flop


def predict(spec: Spec, ops: Sequence[Op]) -> list[OpTime]:
    """Predicted time of each op (vectorised over ops of the same family)."""
    out: list[OpTime | None] = [None] * len(ops)
    gemm = [i for i, o in enumerate(ops) if o.kind in GEMM_LIKE_KINDS]
    dec = [i for i, o in enumerate(ops) if o.kind in FUSED_ATTENTION_KINDS and (o.q_len or 1) == 1]
    pre = [i for i, o in enumerate(ops) if o.kind in FUSED_ATTENTION_KINDS and (o.q_len or 1) > 1]
    vec = [i for i, o in enumerate(ops) if o.kind not in GEMM_LIKE_KINDS and o.kind not in FUSED_ATTENTION_KINDS]
    if gemm:
        sel = [ops[i] for i in gemm]
        g = gemm_seconds(spec, *_gemm_arrays(spec, sel))
        for j, i in enumerate(gemm):
            tc, tmem = float(g.compute_s[j]), float(g.memory_s[j])
            work = max(tc, tmem)
            bound = Bound.LATENCY if g.seconds[j] > 2 * work else Bound.COMPUTE if tc >= tmem else Bound.MEMORY
            extra = {
                "tile_m": int(g.tile[j][0]),
                "tile_n": int(g.tile[j][1]),
                "split_k": int(g.split_k[j]),
                "waves": int(g.waves[j]),
            }
            out[i] = OpTime(float(g.seconds[j]), tc, tmem, bound, extra)
    for idx, fn in ((dec, "decode"), (pre, "prefill")):
        if not idx:
            continue
        sel = [ops[i] for i in idx]
        for o in sel:
            if not (o.heads and o.kv_heads and o.head_dim and o.kv_len):
                raise ModelError(f"op {o.name!r}: fused attention needs heads, kv_heads, head_dim and kv_len")
        dts = [resolve_dtype(o.dtype, f"op {o.name!r}") for o in sel]
        B = np.array([o.batch // o.kv_heads for o in sel], dtype=np.float64)  # graph batch = B * kv_heads
        H = np.array([o.heads for o in sel], dtype=np.float64)
        Hkv = np.array([o.kv_heads for o in sel], dtype=np.float64)
        d = np.array([o.head_dim for o in sel], dtype=np.float64)
        L = np.array([o.kv_len for o in sel], dtype=np.float64)
        eb = np.array([_elem_bytes(o.kv_bits or o.act_bits) for o in sel])
        peak = np.array([spec.peak(dt, f"op {o.name!r}") for o, dt in zip(sel, dts)])
        if fn == "decode":
            t, tc, tmem = decode_attention_seconds(spec, B, H, Hkv, d, L, eb)
        else:
            q = np.array([o.q_len for o in sel], dtype=np.float64)
            t, tc, tmem = prefill_attention_seconds(spec, B, H, Hkv, d, q, L, eb, peak)
        for j, i in enumerate(idx):
            bound = Bound.COMPUTE if tc[j] >= tmem[j] else Bound.MEMORY
            if t[j] > 2 * max(tc[j], tmem[j]):
                bound = Bound.LATENCY
            out[i] = OpTime(float(t[j]), float(tc[j]), float(tmem[j]), bound, {})
    if vec:
        sel = [ops[i] for i in vec]
        for o in sel:
            if o.kind.value not in VECTOR_KINDS:
                raise ModelError(f"op {o.name!r}: kind {o.kind.value} is not modelled on the GPU")
        by = np.array([o.bytes_total for o in sel], dtype=np.float64)
        rows = np.array([o.M for o in sel], dtype=np.float64)
        row_len = np.array([o.N for o in sel], dtype=np.float64)
        eb = np.array([_elem_bytes(o.act_bits) for o in sel])
        t, tmem = vector_seconds(spec, [o.kind.value for o in sel], by, rows, row_len, eb)
        for j, i in enumerate(vec):
            bound = Bound.LATENCY if t[j] > 2 * tmem[j] else Bound.MEMORY
            out[i] = OpTime(float(t[j]), 0.0, float(tmem[j]), bound, {})
    return [o for o in out if o is not None]


@dataclass(frozen=True)
class EnergyTable:
    """Per-event energies of a spec (J): `cosim.cost` at its tech_node (see the module docstring)."""

    l2_byte_j: float
    smem_byte_j: float
    dram_byte_j: float
    vector_op_j: float
    idle_power_w: float


def energy_table(spec: Spec) -> EnergyTable:
    node = cost.get_node(spec.tech_node)
    l2 = cost.sram_access_energy_j(node, spec.l2_bytes, L2_LINE_BITS) / (L2_LINE_BITS // 8) if spec.l2_bytes else 0.0
    smem = (
        cost.sram_access_energy_j(node, spec.smem_bytes_per_sm, SMEM_ACCESS_BITS) / (SMEM_ACCESS_BITS // 8)
        if spec.smem_bytes_per_sm
        else 0.0
    )
    return EnergyTable(
        l2_byte_j=l2,
        smem_byte_j=smem,
        dram_byte_j=cost.dram_energy_per_byte_j(spec.dram_kind),
        vector_op_j=cost.add_energy_j(node, "fp", 32),
        idle_power_w=spec.idle_power_w,
    )


def op_energy(spec: Spec, op: Op, pt: OpTime, table: EnergyTable | None = None) -> dict[str, float]:
    """Energy of one op by component (module docstring): ``mac``/``vector``, ``sram``, ``dram``, ``static``."""
    t = table or energy_table(spec)
    dram = op.bytes_total
    is_mma = op.kind in GEMM_LIKE_KINDS or op.kind in FUSED_ATTENTION_KINDS
    l2 = float(op.bytes_total)
    smem = 0.0
    if op.kind in GEMM_LIKE_KINDS:
        tm, tn, split = pt.extra.get("tile_m", 1), pt.extra.get("tile_n", 1), pt.extra.get("split_k", 1)
        if split > 1:
            dram += 2 * split * op.batch * op.M * op.N * 4  # fp32 partial sums written and read back
        if tm > 1:  # tiled kernel: A panels once per column of tiles, B panels once per row of tiles
            a_b = op.act_bits / 8
            w_b = (op.weight_bits or op.act_bits) / 8
            panels = op.batch * (op.M * op.K * a_b * math.ceil(op.N / tn) + op.K * op.N * w_b * math.ceil(op.M / tm))
            l2 = max(l2, panels + op.bytes_written)
            smem = 2 * panels  # operand panels written into and read out of shared memory
    elif op.kind in FUSED_ATTENTION_KINDS:
        smem = 2.0 * op.bytes_read
    e: dict[str, float] = {}
    if is_mma:
        if spec.energy_model is EnergyModel.CALIBRATED:
            dt = resolve_dtype(op.dtype, f"op {op.name!r}")
            e["mac"] = op.flops * spec.efficiency.energy_per_flop_j.get(dt.value, 0.0)
        else:
            fmt, bits = cost.op_format(op.dtype, max(op.act_bits, op.weight_bits))
            e["mac"] = op.flops / 2 * cost.mac_energy_j(spec.tech_node, fmt, bits)
            e["sram"] = l2 * t.l2_byte_j + smem * t.smem_byte_j
    else:
        e["vector"] = op.flops * t.vector_op_j
        if spec.energy_model is EnergyModel.COST:
            e["sram"] = l2 * t.l2_byte_j
    e["dram"] = dram * t.dram_byte_j
    e["static"] = t.idle_power_w * pt.seconds
    return e


def simulate(spec: Spec, graph: WorkloadGraph) -> RunResult:
    """Run every op of `graph` back to back on the GPU described by `spec`."""
    ops = graph.ops
    results = []
    table = energy_table(spec)
    for op, pt in zip(ops, predict(spec, ops)):
        dt = resolve_dtype(op.dtype, f"op {op.name!r}")
        peak = spec.peak_flops_per_s.get(dt.value, 0.0)
        util = op.flops / peak / pt.seconds if peak and pt.seconds > 0 else 0.0
        e = op_energy(spec, op, pt, table)
        results.append(
            OpResult(
                op=op,
                cycles=math.ceil(pt.seconds * spec.clock_hz),
                seconds=pt.seconds,
                energy_j=math.fsum(e.values()),
                utilization=min(1.0, util),
                bound=pt.bound,
                unit="gpu",
                energy_by_component_j=e,
                bytes_by_level={"dram": op.bytes_total},
                extra={"compute_s": pt.compute_s, "memory_s": pt.memory_s, **pt.extra},
            )
        )
    area = spec.die_area_mm2 or None
    return RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=tuple(results),
        clock_hz=spec.clock_hz,
        area_mm2=area,
        area_by_component_mm2={"die": area} if area else {},
        extra={"energy_model": spec.energy_model.value, "tech_node": spec.tech_node},
    )


__all__ = [
    "VECTOR_KINDS",
    "Dtype",
    "Efficiency",
    "EnergyModel",
    "EnergyTable",
    "GemmTiming",
    "OpTime",
    "Spec",
    "decode_attention_seconds",
    "energy_table",
    "gemm_seconds",
    "op_energy",
    "predict",
    "prefill_attention_seconds",
    "resolve_dtype",
    "simulate",
    "vector_seconds",
]
