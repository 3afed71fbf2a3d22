"""SRAM-LUT GEMV in a CPU's last-level cache (SAIL-like): LLC subarrays as LUT-GEMV engines.

Published about SAIL (arXiv 2509.25853, abstract; nothing else of the paper was readable here):
batched LUT-based GEMV in SRAM processing-in-memory, a pattern-aware LUT optimisation that
exploits redundancy in input activation patterns (-13.8 % computation cycles), in-memory
type conversion for (de)quantisation, arbitrary weight precisions, one new instruction,
~2 % hardware overhead, arrays keep their cache function; evaluated in a modified gem5
against an Arm Neoverse-N1 (up to 10.7x speedup, 19.9x tokens per dollar).

Everything below the abstract level is INFERRED (our design, not SAIL's published one):

* Orientation: tables are built from activations (T-MAC / LUT Tensor Core style) and looked
  up by weight bit-planes, bit-serially over the weight precision (1..8 bits), with the
  symmetric half-size table of LUT Tensor Core (Eq. 2-6; `cosim.golden`).
* Subarray + engine = one LUT-GEMV unit (one engine is shared by ``subarrays_per_engine``
  lent subarrays, one of them active per cycle).  ``table_rows`` rows hold the tables of ``table_groups``
  activation groups; each row holds ``fields`` tables side by side, one per token of the
  batch, so one row read serves ``fields`` tokens (batched LUT-GEMV: the lookup, i.e. the
  weight pattern, is shared across the batch).  The other rows hold weight patterns
  (``group_size`` bits each: index + negate bit, transformed offline), ``patterns_per_row``
  per row.  One read port: a cycle reads either a weight row or a table row.  Near the
  subarray: a conditional negate, a shift by the bit-plane and ``fields`` accumulators.
* A tile is the unit the RTL (`rtl/sram_lut/`) executes: one group chunk, one pass of
  ``fields`` tokens, up to ``tile_max_cols`` output columns.  `tile_cycles` is its exact
  cycle count; the cocotb bench checks the RTL against it.
* Op schedule: group chunks (all-zero chunks skipped) x column shares spread over the
  engines, or in synchronous waves (longest first) when chunks outnumber engines; tiles are
  sized for 8-bit weights, which keeps time monotone in subarrays and in weight precision.
  Tables are built once per (chunk, pass) by a near-slice builder (one row per cycle per
  slice) and written into every subarray that needs them.  Partial sums of the chunks are
  scaled (one quantisation block per chunk) and reduced by near-slice adders.
* In-memory type conversion: FP16 activations -> INT8 before the table build and INT32 ->
  FP16 after the reduction, bit-serially over all lent subarrays' bit-lines; cost per pass
  from Neural Cache's bit-serial multiply (n^2 + 5n - 2 cycles, n = 16).
* Pattern-aware reuse: in a pass, an activation group whose ``fields`` tables are all zero
  is skipped (no table write, no lookups); tokens with identical activations over a whole
  chunk share one field.  Measured from activation tensors when given, else from the
  statistical model ``act_zero_fraction`` (i.i.d. elements, P(INT8 value == 0)).
* Capacity taken from normal use: ``pim_fraction`` of the subarrays are lent; the host CPU
  keeps the rest of the LLC.  The longest prefix of LUT ops whose weights fit
  ``pin_fraction`` of the lent weight rows stays resident across steps; the rest stream from
  DRAM every step, overlapped with the lookups.
* Host ops (attention, norms, activations, unquantised >8-bit weights) run on the CPU model.
* Costs: energy = event counts x `LutEnergy` (cosim.cost at the host's tech_node), under the
  shared component names: ``sram`` (subarray row reads and writes, conversion passes, partial
  sums and DRAM fills through the LLC), ``lut`` (accumulates, table builds), ``vector`` (the
  near-slice FP16 scale-and-add), ``dram``, ``static`` (the host's static power x time); the
  finer split is in each op's ``energy_detail_j``.  Area = the host CPU's (`cosim.hw.cpu`) plus
  the added logic (``lut``: engines from the yosys-calibrated gate count of the RTL, near-slice
  logic), which `area_overhead` also gives as a fraction of the LLC data arrays; tokens per
  dollar with the host's price x (1 + ``price_overhead_fraction``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from cosim import cost, golden
from cosim.errors import ModelError, SpecError
from cosim.golden import table_entry_bits
from cosim.graph import Op, OpKind, WorkloadGraph
from cosim.hw import cpu
from cosim.hw.base import Bound, OpResult, RunResult
from cosim.spec import doc_field

MAX_WEIGHT_BITS = 8

# Energy per event and area come from the shared cost library (cosim.cost) at the host's
# tech_node (`LutEnergy`, `area_overhead`); the model multiplies event counts by them.


def bitserial_multiply_cycles(n_bits: int) -> int:
    """Neural Cache (Eckert et al., ISCA 2018) bit-serial n-bit multiply: n^2 + 5n - 2 cycles."""
    return n_bits * n_bits + 5 * n_bits - 2


@dataclass(frozen=True)
class Spec:
    """LLC geometry, the LUT-GEMV engine per subarray, the host CPU, and costs."""

    name: str
    cpu: cpu.Spec = doc_field(doc="host CPU; its llc_bytes must equal the LLC geometry below")
    llc_slices: int = doc_field(doc="LLC (system-level cache) slices", min=1)
    subarrays_per_slice: int = doc_field(doc="SRAM subarrays per slice", min=1)
    subarray_rows: int = doc_field(256, doc="word-lines per subarray", min=4)
    subarray_cols: int = doc_field(256, doc="bit-lines per subarray (row width, bits)", min=8)
    pim_fraction: float = doc_field(
        0.5, doc="share of subarrays lent to LUT-GEMV (taken from normal use)", min=0, max=1
    )
    pin_fraction: float = doc_field(
        0.5, doc="share of the lent weight rows that may keep weights across steps", min=0, max=1
    )
    subarrays_per_engine: int = doc_field(
        1, doc="lent subarrays sharing one lookup/accumulate engine (one of them active per cycle)", min=1
    )
    table_rows: int = doc_field(64, doc="rows per lent subarray holding tables", min=1)
    group_size: int = doc_field(4, doc="activations per table (2^(g-1) entries when symmetric)", min=1, max=8)
    symmetric: bool = doc_field(True, doc="half-size symmetric tables (LUT Tensor Core Eq. 4-6)")
    lut_entry_bits: int = doc_field(16, doc="bits per table entry field in a row", min=2, max=64)
    table_act_bits: int = doc_field(8, doc="activations are converted in memory to this INT width", min=1, max=16)
    acc_bits: int = doc_field(32, doc="accumulator width", min=8, max=64)
    pim_clock_hz: float = doc_field(1.0e9, doc="subarray operation rate (one row read per cycle)", gt=0)
    pipeline_latency_cycles: int = doc_field(2, doc="engine pipeline drain per tile (from the RTL)", min=0)
    table_build_rows_per_cycle_per_slice: int = doc_field(1, doc="near-slice table builder rate", min=1)
    reduce_lanes_per_slice: int = doc_field(16, doc="near-slice scale-and-add lanes", min=1)
    convert_cycles: int = doc_field(
        bitserial_multiply_cycles(16), doc="cycles of one in-memory type-conversion pass", min=1
    )
    pattern_aware: bool = doc_field(True, doc="skip all-zero groups and merge duplicate tokens")
    act_zero_fraction: float = doc_field(
        0.0, doc="statistical model: P(quantised activation == 0), i.i.d., when no tensors are given", min=0, max=1
    )
    price_per_hour_usd: float = doc_field(0.0, doc="0: host CPU price x (1 + price_overhead_fraction)", min=0)
    price_overhead_fraction: float = doc_field(0.02, doc="price increase for the added logic", min=0)
    engine_gates: float = doc_field(0.0, doc="gate count of one engine (0: from `engine_gate_estimate`)", min=0)
    reduce_fma_area_gates: float = doc_field(
        0.0, doc="NAND2-eq of one near-slice FP16 scale-and-add lane (0: cosim.cost FP16 MAC area)", min=0
    )
    description: str = ""

    def __post_init__(self) -> None:
        if self.cpu.llc_bytes != self.llc_bytes:
            raise SpecError(
                f"cpu.llc_bytes ({self.cpu.llc_bytes}) must equal llc_slices x subarrays_per_slice x "
                f"subarray_rows x subarray_cols / 8 = {self.llc_bytes}"
            )
        if self.table_rows % self.entries_per_table:
            raise SpecError(
                f"table_rows: {self.table_rows} is not a multiple of the {self.entries_per_table} entries of a table"
            )
        if self.table_rows >= self.subarray_rows:
            raise SpecError(
                f"table_rows: {self.table_rows} leaves no weight rows in a {self.subarray_rows}-row subarray"
            )
        if self.fields < 1:
            raise SpecError(f"lut_entry_bits: {self.lut_entry_bits} is wider than a {self.subarray_cols}-bit row")
        need = table_entry_bits(self.table_act_bits, self.group_size, self.symmetric)
        if self.lut_entry_bits < need:
            raise SpecError(
                f"lut_entry_bits: {self.lut_entry_bits} cannot hold a table entry of {self.table_act_bits}-bit "
                f"activations in groups of {self.group_size} (needs {need})"
            )
        if self.patterns_per_row < 1:
            raise SpecError(f"group_size: {self.group_size} patterns do not fit a {self.subarray_cols}-bit row")
        if self.tile_max_cols < 1:
            raise SpecError(
                f"table_rows: {self.table_rows} leaves too few weight rows for one column of "
                f"{MAX_WEIGHT_BITS}-bit patterns over {self.table_groups} groups"
            )
        if self.pim_subarrays < 1:
            raise SpecError(f"pim_fraction: {self.pim_fraction} lends no subarray")
        if self.engines < 1:
            raise SpecError(
                f"subarrays_per_engine: {self.subarrays_per_engine} exceeds the {self.pim_subarrays} lent subarrays"
            )

    # ----- derived geometry

    @property
    def entries_per_table(self) -> int:
        return 1 << (self.group_size - 1) if self.symmetric else 1 << self.group_size

    @property
    def fields(self) -> int:
        """Tables (tokens) side by side in one row: tokens served by one lookup."""
        return self.subarray_cols // self.lut_entry_bits

    @property
    def table_groups(self) -> int:
        return self.table_rows // self.entries_per_table

    @property
    def weight_rows(self) -> int:
        return self.subarray_rows - self.table_rows

    @property
    def patterns_per_row(self) -> int:
        return self.subarray_cols // self.group_size

    @property
    def tile_max_cols(self) -> int:
        """Columns per tile, sized for 8-bit weights so the tiling does not depend on precision."""
        return self.weight_rows * self.patterns_per_row // (MAX_WEIGHT_BITS * self.table_groups)

    @property
    def subarrays(self) -> int:
        return self.llc_slices * self.subarrays_per_slice

    @property
    def pim_subarrays(self) -> int:
        return int(self.subarrays * self.pim_fraction)

    @property
    def engines(self) -> int:
        """Lookup/accumulate engines: tiles that run in parallel."""
        return self.pim_subarrays // self.subarrays_per_engine

    @property
    def llc_bytes(self) -> int:
        return self.subarrays * self.subarray_rows * self.subarray_cols // 8

    @property
    def quant_block(self) -> int:
        """Activations per chunk: the weight quantisation block (one scale per chunk and column)."""
        return self.table_groups * self.group_size

    @property
    def pinned_capacity_bytes(self) -> int:
        return int(self.pim_subarrays * self.weight_rows * self.subarray_cols // 8 * self.pin_fraction)

    def host(self) -> cpu.Spec:
        """The host CPU with the LLC capacity the LUT engines leave to it."""
        left = self.llc_bytes - self.pim_subarrays * self.subarray_rows * self.subarray_cols // 8
        return replace(self.cpu, llc_bytes=left)

    @property
    def price_usd_per_hour(self) -> float:
        return self.price_per_hour_usd or self.cpu.price_per_hour_usd * (1 + self.price_overhead_fraction)


@dataclass(frozen=True)
class LutEnergy:
    """Energy per event of the LUT engines (J), from cosim.cost at the host's tech_node.

    row_read / row_write: one access of a subarray row (CACTI-based SRAM table, subarray
    capacity and row width); acc_add: one accumulator add; build_add: one table-entry add;
    reduce_op: FP16 multiply + add of one partial sum; llc_byte: moving a byte through the LLC.
    """

    row_read_j: float
    row_write_j: float
    acc_add_j: float
    build_add_j: float
    reduce_op_j: float
    llc_byte_j: float
    dram_byte_j: float
    static_w: float = 0.0  # the host's static power (its caches' leakage unless given), W


def lut_energy(spec: Spec) -> LutEnergy:
    """`LutEnergy` of `spec` (cosim.cost at ``spec.cpu.tech_node``)."""
    node = cost.get_node(spec.cpu.tech_node)
    sub_bytes = spec.subarray_rows * spec.subarray_cols // 8
    host = spec.cpu.energy()
    return LutEnergy(
        row_read_j=cost.sram_access_energy_j(node, sub_bytes, spec.subarray_cols),
        row_write_j=cost.sram_access_energy_j(node, sub_bytes, spec.subarray_cols, write=True),
        acc_add_j=cost.add_energy_j(node, "int", spec.acc_bits),
        build_add_j=cost.add_energy_j(node, "int", spec.lut_entry_bits),
        reduce_op_j=cost.mult_energy_j(node, "fp", 16) + cost.add_energy_j(node, "fp", 16),
        llc_byte_j=host.llc_byte_j,
        dram_byte_j=host.dram_byte_j,
        static_w=host.static_w,
    )


# --------------------------------------------------------------------------- one tile (= the RTL)


@dataclass(frozen=True)
class TileCycles:
    """Cycles of one tile on one subarray engine; ``compute`` is what the RTL counts from start to done."""

    table_writes: int
    weight_reads: int
    lookups: int
    latency: int

    @property
    def compute(self) -> int:
        return self.weight_reads + self.lookups + self.latency

    @property
    def total(self) -> int:
        return self.table_writes + self.compute


def tile_cycles(
    *,
    n_groups: int,
    live_groups: int,
    n_cols: int,
    weight_bits: int,
    entries_per_table: int,
    patterns_per_row: int,
    latency: int,
) -> TileCycles:
    """Exact cycles of one tile: write the live tables, then stream weight rows and look up.

    The engine writes ``live_groups * entries_per_table`` table rows (one per cycle, write
    port), then reads every weight row of the tile (``n_cols * weight_bits * n_groups``
    patterns, ``patterns_per_row`` per row, one row per cycle) and performs one table-row
    read + accumulate per live pattern (dead groups cost nothing), then drains ``latency``.
    A tile with no live group is not issued.
    """
    for k, v in (("n_groups", n_groups), ("n_cols", n_cols), ("entries_per_table", entries_per_table)):
        if v < 1:
            raise ModelError(f"tile_cycles: {k} must be >= 1, got {v}")
    if not 1 <= weight_bits <= MAX_WEIGHT_BITS:
        raise ModelError(f"tile_cycles: weight_bits must be in [1, {MAX_WEIGHT_BITS}], got {weight_bits}")
    if not 0 <= live_groups <= n_groups:
        raise ModelError(f"tile_cycles: live_groups must be in [0, {n_groups}], got {live_groups}")
    if live_groups == 0:
        return TileCycles(0, 0, 0, 0)
    patterns = n_cols * weight_bits * n_groups
    return TileCycles(
        table_writes=live_groups * entries_per_table,
        weight_reads=-(-patterns // patterns_per_row),
        lookups=n_cols * weight_bits * live_groups,
        latency=latency,
    )


def rtl_parameters(spec: Spec) -> dict[str, int]:
    """HDL parameters of ``rtl/sram_lut/sram_lut_gemv.sv`` for one subarray engine of `spec`."""
    if not spec.symmetric:
        raise ModelError("the RTL engine implements symmetric tables only (symmetric: true)")
    if spec.subarray_cols != spec.fields * spec.lut_entry_bits:
        raise ModelError(
            f"the RTL row is fields x lut_entry_bits wide: subarray_cols ({spec.subarray_cols}) must equal "
            f"{spec.fields} x {spec.lut_entry_bits}"
        )
    return {
        "GROUP_K": spec.group_size,
        "ENTRY_W": spec.lut_entry_bits,
        "FIELDS": spec.fields,
        "ACC_W": spec.acc_bits,
        "TABLE_GROUPS": spec.table_groups,
        "WEIGHT_ROWS": spec.weight_rows,
    }


# --------------------------------------------------------------------------- pattern statistics


@dataclass(frozen=True)
class ChunkPlan:
    """One group chunk of an op: its groups, the live groups of each pass, tokens with work."""

    n_groups: int
    live_per_pass: tuple[float, ...]
    tokens: float  # tokens whose partial sums this chunk produces (non-zero sub-vectors)


def quantize_per_token(acts: np.ndarray, bits: int) -> np.ndarray:
    """Symmetric per-token (row) absmax quantisation to signed `bits`-bit integers."""
    a = np.asarray(acts, dtype=np.float64)
    amax = np.abs(a).max(axis=1, keepdims=True)
    qmax = (1 << (bits - 1)) - 1
    scale = np.where(amax > 0, amax / qmax, 1.0)
    return np.clip(np.rint(a / scale), -qmax - 1, qmax).astype(np.int64)


def plan_from_activations(spec: Spec, acts: np.ndarray, k: int) -> tuple[ChunkPlan, ...]:
    """Measure pattern reuse on an M x K activation tensor (integer, or float -> INT quantised).

    Per chunk: drop tokens whose activations are all zero over the chunk, merge tokens with
    identical chunk activations (pattern-aware only), pack the rest into passes of ``fields``
    tokens, and count per pass the groups where any token is non-zero.
    """
    a = np.asarray(acts)
    if a.ndim != 2 or a.shape[1] != k:
        raise ModelError(f"activations must be M x K with K = {k}, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        a = quantize_per_token(a, spec.table_act_bits)
    g, f, cb = spec.group_size, spec.fields, spec.quant_block
    groups_total = -(-k // g)
    pad = groups_total * g - k
    if pad:
        a = np.pad(a, ((0, 0), (0, pad)))
    plans = []
    for c0 in range(0, groups_total * g, cb):
        sub = a[:, c0 : c0 + cb]
        ng = sub.shape[1] // g
        if spec.pattern_aware:
            sub = sub[np.any(sub != 0, axis=1)]
            if len(sub):
                _, first = np.unique(sub, axis=0, return_index=True)
                sub = sub[np.sort(first)]
            nz = np.any(sub.reshape(len(sub), ng, g) != 0, axis=2)  # tokens x groups
            live = tuple(float(np.count_nonzero(nz[p : p + f].any(axis=0))) for p in range(0, len(sub), f))
            tokens = float(len(sub))
        else:
            live = tuple(float(ng) for _ in range(0, a.shape[0], f))
            tokens = float(a.shape[0])
        plans.append(ChunkPlan(ng, live, tokens))
    return tuple(plans)


def plan_from_statistics(spec: Spec, m: int, k: int) -> tuple[ChunkPlan, ...]:
    """Expected pattern reuse under the i.i.d. model: P(element == 0) = ``act_zero_fraction``.

    A pass of f tokens skips a group with probability p0^(group_size * f); duplicate tokens
    are not modelled (their probability is negligible for INT8 activations).
    """
    g, f = spec.group_size, spec.fields
    groups_total = -(-k // g)
    sizes = [f] * (m // f) + ([m % f] if m % f else [])
    p0 = spec.act_zero_fraction if spec.pattern_aware else 0.0
    plans = []
    for c0 in range(0, groups_total, spec.table_groups):
        ng = min(spec.table_groups, groups_total - c0)
        live = tuple(ng * (1.0 - p0 ** (g * s)) for s in sizes)
        plans.append(ChunkPlan(ng, live, m * (1.0 - p0 ** (g * ng))))
    return tuple(plans)


def functional_gemm(spec: Spec, acts: np.ndarray, q: np.ndarray, bits: int) -> tuple[np.ndarray, tuple[ChunkPlan, ...]]:
    """What the engines compute, chunk by chunk and pass by pass, with pattern-aware skipping.

    Integer activations (M x K) and unsigned codes (K x N): per chunk, zero tokens are dropped
    and duplicates merged (when ``pattern_aware``), passes of ``fields`` tables look up only
    their live groups (`cosim.golden` tables, indices, lookups), each pass's raw sums are
    turned into a @ q with the table's own row sum (-T[0]), and the chunks are added.  Returns
    (M x N int64 result, the plans it executed) so tests can compare both with numpy's a @ q and
    with `plan_from_activations`.
    """
    a = np.asarray(acts)
    if not np.issubdtype(a.dtype, np.integer):
        raise ModelError("functional_gemm takes integer activations")
    m, k = a.shape
    g, f, cb = spec.group_size, spec.fields, spec.quant_block
    y = np.zeros((m, q.shape[1]), dtype=np.int64)
    plans = []
    for c0 in range(0, k, cb):
        sub, qs = a[:, c0 : c0 + cb].astype(np.int64), q[c0 : c0 + cb]
        ng = -(-sub.shape[1] // g)
        keep = np.arange(m)
        if spec.pattern_aware:
            keep = keep[np.any(sub != 0, axis=1)]
            uniq, first, inverse = np.unique(sub[keep], axis=0, return_index=True, return_inverse=True)
            order = np.argsort(first)
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            distinct, owner = uniq[order], rank[inverse.ravel()]
        else:
            distinct, owner = sub, keep
        tables = golden.lut_tables(distinct, g, symmetric=spec.symmetric) if len(distinct) else None
        index, negate = golden.lut_indices(qs, bits, g, symmetric=spec.symmetric)
        out = np.zeros((len(distinct), q.shape[1]), dtype=np.int64)
        live_counts = []
        for p0 in range(0, len(distinct), f):
            t = tables[p0 : p0 + f]
            live = np.any(t != 0, axis=(0, 2)) if spec.pattern_aware else np.ones(ng, dtype=bool)
            live_counts.append(float(np.count_nonzero(live)))
            raw = golden.bitserial_accumulate(
                golden.lut_lookup_planes(t[:, live], index[:, live], negate[:, live] if spec.symmetric else None)
            )
            if spec.symmetric:
                rowsum = -t[:, live, 0].sum(axis=1)
                raw = (raw + ((1 << bits) - 1) * rowsum[:, None]) // 2
            out[p0 : p0 + f] = raw
        y[keep] += out[owner]
        plans.append(ChunkPlan(ng, tuple(live_counts), float(len(distinct))))
    return y, tuple(plans)


# --------------------------------------------------------------------------- one LUT op


def _tile_work(spec: Spec, n_groups: int, live: float, n_cols: int, wbits: int) -> tuple[float, float, float, float]:
    """(table writes, weight reads, lookups, latency) of one tile; `live` may be an expectation."""
    if live <= 0:
        return 0.0, 0.0, 0.0, 0.0
    t = tile_cycles(
        n_groups=n_groups,
        live_groups=n_groups,
        n_cols=n_cols,
        weight_bits=wbits,
        entries_per_table=spec.entries_per_table,
        patterns_per_row=spec.patterns_per_row,
        latency=spec.pipeline_latency_cycles,
    )
    frac = live / n_groups
    return t.table_writes * frac, float(t.weight_reads), t.lookups * frac, float(t.latency)


def _share_cost(spec: Spec, plan: ChunkPlan, n_cols: int, wbits: int) -> np.ndarray:
    """Cycles (writes, reads, lookups, latency) for one subarray doing `n_cols` columns of a chunk."""
    acc = np.zeros(4)
    full, rem = divmod(n_cols, spec.tile_max_cols)
    for live in plan.live_per_pass:
        if full:
            acc += full * np.array(_tile_work(spec, plan.n_groups, live, spec.tile_max_cols, wbits))
        if rem:
            acc += np.array(_tile_work(spec, plan.n_groups, live, rem, wbits))
    return acc


@dataclass(frozen=True)
class LutOpCycles:
    """Cycle breakdown of one LUT GEMV/GEMM op at ``pim_clock_hz``."""

    convert_in: int
    table_build: int
    lut: int  # makespan of the tiles over the lent subarrays
    lut_breakdown: tuple[float, float, float, float]  # summed (writes, reads, lookups, latency) on all subarrays
    reduce: int
    convert_out: int
    reduce_ops: float
    table_rows_built: float

    @property
    def total(self) -> int:
        return self.convert_in + self.table_build + self.lut + self.reduce + self.convert_out


def lut_op_cycles(spec: Spec, op: Op, plans: Sequence[ChunkPlan]) -> LutOpCycles:
    """Cycles of one weight GEMM on the LUT engines (compute side; DRAM is added by the caller)."""
    wbits = math.ceil(op.weight_bits)
    if not 1 <= wbits <= MAX_WEIGHT_BITS:
        raise ModelError(f"op {op.name!r}: LUT-GEMV handles 1..{MAX_WEIGHT_BITS}-bit weights, got {op.weight_bits}")
    s = spec.engines
    active = [p for p in plans if any(lv > 0 for lv in p.live_per_pass)]  # all-zero chunks get no engine
    chunks = len(active) * op.batch
    if chunks == 0:
        makespan, summed = 0.0, np.zeros(4)
    elif chunks <= s:
        per_chunk = s // chunks
        cols = -(-op.N // per_chunk)
        costs = [_share_cost(spec, p, cols, wbits) for p in active]
        makespan = max(float(c.sum()) for c in costs)
        summed = sum(c * per_chunk for c in costs) * op.batch
    else:
        costs = [_share_cost(spec, p, op.N, wbits) for p in active] * op.batch
        totals = sorted((float(c.sum()) for c in costs), reverse=True)
        makespan = math.fsum(totals[::s])  # synchronous waves of s tiles, longest first
        summed = sum(costs)
    rows_built = op.batch * sum(lv * spec.entries_per_table for p in plans for lv in p.live_per_pass)
    cells = op.M * op.K * op.batch
    lanes = spec.pim_subarrays * spec.subarray_cols  # bit-serial conversion runs on every lent bit-line
    conv_in = -(-cells // lanes) * spec.convert_cycles
    conv_out = -(-(op.M * op.N * op.batch) // lanes) * spec.convert_cycles
    reduce_ops = op.batch * op.N * sum(p.tokens for p in plans)
    build = math.ceil(rows_built / (spec.llc_slices * spec.table_build_rows_per_cycle_per_slice))
    reduce = math.ceil(reduce_ops / (spec.llc_slices * spec.reduce_lanes_per_slice))
    return LutOpCycles(
        convert_in=conv_in,
        table_build=build,
        lut=math.ceil(makespan),
        lut_breakdown=tuple(float(x) for x in summed),
        reduce=reduce,
        convert_out=conv_out,
        reduce_ops=reduce_ops,
        table_rows_built=rows_built,
    )


def is_lut_op(op: Op) -> bool:
    """Ops the LUT engines run: weight GEMMs/GEMVs with 1..8-bit weights."""
    return op.kind in (OpKind.GEMM, OpKind.GEMV) and 0 < op.weight_bits <= MAX_WEIGHT_BITS


def plans_for(spec: Spec, op: Op, activations: Mapping[str, np.ndarray] | None) -> tuple[ChunkPlan, ...]:
    """Measured plans when `activations` has this op's tensor, else the statistical model."""
    if activations is not None and op.name in activations:
        if op.batch != 1:
            raise ModelError(f"op {op.name!r}: measured activations need batch == 1, got {op.batch}")
        return plan_from_activations(spec, activations[op.name], op.K)
    return plan_from_statistics(spec, op.M, op.K)


def pinned_ops(spec: Spec, graph: WorkloadGraph) -> frozenset[str]:
    """LUT ops whose weights stay in the lent subarrays across steps.

    The longest prefix (graph order) of LUT ops that fits ``pinned_capacity_bytes``: a prefix
    rather than first-fit, so more capacity never un-pins an op (time stays monotone).
    """
    left = spec.pinned_capacity_bytes
    out = []
    for op in graph.ops:
        if not is_lut_op(op):
            continue
        if op.weight_bytes > left:
            break
        left -= op.weight_bytes
        out.append(op.name)
    return frozenset(out)


def simulate_lut_op(
    spec: Spec, op: Op, plans: Sequence[ChunkPlan], pinned: bool, energy: LutEnergy | None = None
) -> OpResult:
    """One weight GEMM on the LUT engines: compute cycles vs DRAM streaming of the weights."""
    c = lut_op_cycles(spec, op, plans)
    f = spec.pim_clock_hz
    dram = 0 if pinned else op.weight_bytes
    t_dram = dram / spec.cpu.dram_sustained_bytes_per_s
    t_lut = c.lut / f
    t = (c.convert_in + c.table_build + c.reduce + c.convert_out) / f + max(t_lut, t_dram)
    writes, reads, lookups, _ = c.lut_breakdown
    en = energy or lut_energy(spec)
    psum_bytes = c.reduce_ops * spec.acc_bits / 8
    conv_passes = (c.convert_in + c.convert_out) / spec.convert_cycles
    detail = {
        "lookup_rows": lookups * en.row_read_j,
        "lookup_accumulate": lookups * spec.fields * en.acc_add_j,
        "weight_read": reads * en.row_read_j,
        "table_write": writes * en.row_write_j,
        "table_build": c.table_rows_built * spec.fields * en.build_add_j,
        # bit-serial conversion: every cycle activates two rows of every lent subarray
        "convert": conv_passes * spec.convert_cycles * spec.pim_subarrays * 2 * en.row_read_j,
        "reduce_fma": c.reduce_ops * en.reduce_op_j,
        "reduce_psums": psum_bytes * en.llc_byte_j,
        "dram_fill": dram * en.llc_byte_j,  # DRAM bytes written into the subarrays
    }
    # the shared component names: SRAM row activity, LUT datapath, near-slice FP16 lanes, DRAM, static
    e = {
        "sram": detail["lookup_rows"]
        + detail["weight_read"]
        + detail["table_write"]
        + detail["convert"]
        + detail["reduce_psums"]
        + detail["dram_fill"],
        "lut": detail["lookup_accumulate"] + detail["table_build"],
        "vector": detail["reduce_fma"],
        "dram": dram * en.dram_byte_j,
        "static": en.static_w * t,
    }
    return OpResult(
        op=op,
        cycles=math.ceil(t * f),
        seconds=t,
        energy_j=math.fsum(e.values()),
        utilization=min(1.0, lookups / (spec.engines * max(c.lut, 1))),
        bound=Bound.COMPUTE if t_lut >= t_dram else Bound.MEMORY,
        unit="sram_lut",
        energy_by_component_j=e,
        bytes_by_level={"dram": dram, "onchip_psum": int(psum_bytes)},
        extra={
            "lut_cycles": c.lut,
            "lookups": lookups,
            "weight_row_reads": reads,
            "table_row_writes": writes,
            "table_build_cycles": c.table_build,
            "reduce_cycles": c.reduce,
            "convert_cycles": c.convert_in + c.convert_out,
            "pinned": pinned,
            "energy_detail_j": detail,
        },
    )


# --------------------------------------------------------------------------- area


# NAND2 equivalents of yosys's generic cells (typical standard-cell ratios) [ASSUMPTION].
GATE_EQUIVALENTS = {
    "$_NOT_": 0.67,
    "$_NAND_": 1.0,
    "$_NOR_": 1.0,
    "$_AND_": 1.33,
    "$_OR_": 1.33,
    "$_ANDNOT_": 1.33,
    "$_ORNOT_": 1.33,
    "$_XOR_": 2.0,
    "$_XNOR_": 2.0,
    "$_MUX_": 2.33,
    "DFF": 6.0,  # any $_DFF*/$_SDFF* flop incl. enable/reset
}
# yosys 0.23 on rtl/sram_lut/sram_lut_gemv.sv at the models/sail.yaml engine (16 fields x 16-bit
# entries, 256-bit rows, 8 table groups, 192 weight rows, COL_W 8), script
# rtl/sram_lut/synth_engine.ys, cells weighted by GATE_EQUIVALENTS: 35,327 NAND2-eq
# (reproduce: python benchmarks/sail.py --synth).
ENGINE_GATES_YOSYS_REF = 35327.2


def _engine_structural_gates(cols: int, fields: int, acc: int, group: int, table_groups: int, max_cols: int) -> float:
    """Structural NAND2-eq count of the RTL engine (before calibration to yosys).

    Flops: weight-row latch and table-row register (2 x row), FIELDS accumulators and output
    registers, per-slot metadata (group, plane, column, flags) and control; datapath per field:
    negate, 3-stage shift and adder (~16 GE per accumulator bit); the pattern/metadata
    multiplexers over the row's slots; the per-slot position chain.
    """
    ppr = cols // group
    gw = max(1, math.ceil(math.log2(table_groups + 1)))
    colw = max(1, math.ceil(math.log2(max_cols + 1)))
    flops = 2 * cols + 2 * fields * acc + ppr * (gw + 4 + colw + 2) + 64
    return 6.0 * flops + 16.0 * fields * acc + 2.33 * ppr * (group + gw + 4 + colw + 1) + 30.0 * ppr


# The yosys reference engine: 256-bit rows, 16 fields, 32-bit accumulators, groups of 4,
# 8 table groups, 192 columns per tile (COL_W = 8).
_ENGINE_REF = (256, 16, 32, 4, 8, 192)


def engine_gate_estimate(spec: Spec) -> float:
    """NAND2-eq of one engine: the structural count scaled so the yosys reference config matches.

    At the reference configuration this returns ENGINE_GATES_YOSYS_REF exactly; elsewhere it
    scales with the structure (fields, accumulator width, row width, slots).
    """
    mine = _engine_structural_gates(
        spec.subarray_cols, spec.fields, spec.acc_bits, spec.group_size, spec.table_groups, spec.tile_max_cols
    )
    return mine * ENGINE_GATES_YOSYS_REF / _engine_structural_gates(*_ENGINE_REF)


def slice_area_mm2(spec: Spec) -> float:
    """Near-slice logic of one slice: the table builder (one adder per entry of a row per cycle)
    and ``reduce_lanes_per_slice`` FP16 scale-and-add lanes (cosim.cost areas at tech_node)."""
    node = cost.get_node(spec.cpu.tech_node)
    builder = (
        spec.fields * spec.table_build_rows_per_cycle_per_slice * cost.add_area_mm2(node, "int", spec.lut_entry_bits)
    )
    if spec.reduce_fma_area_gates:
        lane = cost.synth_area_mm2(node, nand2_equivalents=spec.reduce_fma_area_gates)
    else:
        lane = cost.mac_area_mm2(node, "fp", 16)
    return builder + spec.reduce_lanes_per_slice * lane


def area_overhead(spec: Spec) -> dict[str, float]:
    """Added logic area and its fraction of the LLC data-array area (cosim.cost at tech_node).

    Engines: `engine_gate_estimate` NAND2-eq (yosys-calibrated) through `cosim.cost.synth_area_mm2`.
    LLC: the sum of its subarrays, each a CACTI-based SRAM of one subarray's capacity and row width.
    """
    node = cost.get_node(spec.cpu.tech_node)
    eng = cost.synth_area_mm2(node, nand2_equivalents=spec.engine_gates or engine_gate_estimate(spec))
    added = eng * spec.engines + slice_area_mm2(spec) * spec.llc_slices
    sub = cost.sram_area_mm2(node, spec.subarray_rows * spec.subarray_cols // 8, spec.subarray_cols)
    llc = sub * spec.subarrays
    return {"added_mm2": added, "llc_mm2": llc, "fraction_of_llc": added / llc}


# --------------------------------------------------------------------------- simulate


def simulate(spec: Spec, graph: WorkloadGraph, activations: Mapping[str, np.ndarray] | None = None) -> RunResult:
    """Run `graph`: LUT ops on the lent subarrays, everything else on the host CPU, back to back.

    Args:
        spec: the SAIL-like system.
        graph: workload; decode graphs give tokens per step from ``meta['batch']`` or M.
        activations: optional op name -> M x K activation tensor (INT, or float quantised
            per token to ``table_act_bits``) to measure pattern reuse; other ops use the
            statistical model.
    """
    host = spec.host()
    host_resident = cpu.footprint_bytes(graph) - sum(o.weight_bytes for o in graph.ops if is_lut_op(o)) <= (
        host.llc_bytes * host.llc_usable_fraction
    )
    pinned = pinned_ops(spec, graph)
    results = []
    memo: dict[tuple[Op, bool], OpResult] = {}  # decode graphs repeat each layer's shapes
    # the host's ops see the LLC left to them; the whole LLC (lent subarrays too) leaks
    en = lut_energy(spec)
    host_en = replace(host.energy(), static_w=en.static_w)
    for op in graph.ops:
        if is_lut_op(op):
            if activations is not None and op.name in activations:
                results.append(simulate_lut_op(spec, op, plans_for(spec, op, activations), op.name in pinned, en))
                continue
            key = (replace(op, name=""), op.name in pinned)
            if key not in memo:
                memo[key] = simulate_lut_op(spec, op, plans_for(spec, op, None), op.name in pinned, en)
            results.append(replace(memo[key], op=op))
        else:
            r = cpu.simulate_op(host, op, host_resident, host_en)
            results.append(replace(r, cycles=math.ceil(r.seconds * spec.pim_clock_hz)))
    seconds = math.fsum(r.seconds for r in results)
    energy = math.fsum(r.energy_j for r in results)
    area = area_overhead(spec)
    areas = {**spec.cpu.area_by_component_mm2(), "lut": area["added_mm2"]}  # the whole LLC: lent subarrays too
    extra = {
        "pinned_weight_bytes": sum(graph.op(n).weight_bytes for n in pinned),
        "area_overhead_fraction_of_llc": area["fraction_of_llc"],
        **cpu.cost_summary(seconds, energy, cpu.tokens_per_step(graph), spec.price_usd_per_hour),
    }
    return RunResult(
        arch=spec.name,
        workload=graph.title,
        ops=tuple(results),
        clock_hz=spec.pim_clock_hz,
        area_by_component_mm2=areas,
        extra=extra,
    )


__all__ = [
    "ChunkPlan",
    "LutEnergy",
    "LutOpCycles",
    "Spec",
    "TileCycles",
    "area_overhead",
    "bitserial_multiply_cycles",
    "functional_gemm",
    "is_lut_op",
    "lut_energy",
    "lut_op_cycles",
    "plan_from_activations",
    "plan_from_statistics",
    "quantize_per_token",
    "rtl_parameters",
    "simulate",
    "simulate_lut_op",
    "tile_cycles",
]
