"""Workload graph IR: operators with shapes, bit widths, bytes and FLOPs, in a networkx DAG.

Every hardware model consumes this IR, so it fixes the conventions once:

* GEMM convention: the output is M x N, the reduction runs over K, weights are K x N,
  and ``batch`` independent GEMMs of that shape run (attention heads, conv groups).
  ``flops = 2 * M * N * K * batch``.
* conv2d is kept with its geometry (`ConvShape`) *and* its implicit-GEMM view
  (M = images * out_h * out_w, N = out_channels / groups, K = in_channels / groups * kh * kw,
  batch = groups), so a systolic model can lower it the way SCALE-Sim does.
* Attention ops carry the geometry of the attention (heads, kv_heads, head_dim, q_len,
  kv_len) next to their GEMM view.  With grouped-query attention the GEMM view follows
  the kernels that read each K/V head once: batch = B * kv_heads, M = (heads / kv_heads) * q_len.
* Bit widths may be fractional (1.58 for ternary); storage rounds up to whole bits
  (ternary weights are stored 2-bit packed), so bytes use ``ceil(bits)``.
* ``bytes_read`` / ``bytes_written`` are the compulsory traffic of the op: every operand
  read once, every result written once.  ``weight_bytes`` is the part of ``bytes_read``
  that is weights (or KV cache for attention ops, see ``kv_bytes``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import networkx as nx

from cosim.errors import SpecError

GRAPH_SCHEMA = "cosim.graph/1"


class OpKind(StrEnum):
    """Closed set of operator kinds that hardware models understand."""

    GEMM = "gemm"
    GEMV = "gemv"
    CONV2D = "conv2d"
    ATTENTION_QK = "attention_qk"  # scores = Q K^T, per (batch, head)
    ATTENTION_AV = "attention_av"  # out = P V, per (batch, head)
    ATTENTION_DECODE = "attention_decode"  # fused attention, query length 1
    ATTENTION_PREFILL = "attention_prefill"  # fused causal attention, query length = kv_len
    ELEMENTWISE = "elementwise"
    NORM = "norm"
    SOFTMAX = "softmax"
    EMBEDDING = "embedding"
    POOL = "pool"
    REDUCE = "reduce"
    COPY = "copy"  # data movement, e.g. a KV-cache write


GEMM_LIKE_KINDS = frozenset({OpKind.GEMM, OpKind.GEMV, OpKind.CONV2D, OpKind.ATTENTION_QK, OpKind.ATTENTION_AV})
ATTENTION_KINDS = frozenset(
    {OpKind.ATTENTION_QK, OpKind.ATTENTION_AV, OpKind.ATTENTION_DECODE, OpKind.ATTENTION_PREFILL}
)
FUSED_ATTENTION_KINDS = frozenset({OpKind.ATTENTION_DECODE, OpKind.ATTENTION_PREFILL})


class Phase(StrEnum):
    """Inference phase an op belongs to; CNNs use NONE."""

    NONE = "none"
    PREFILL = "prefill"
    DECODE = "decode"


def _choice(enum: type[Enum], value: Any, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise SpecError(f"{what}: unknown value {value!r} (allowed: {allowed})") from None


def storage_bytes(elements: int, bits: float) -> int:
    """Bytes to store `elements` values of `bits` bits, packed (fractional bits round up)."""
    return (elements * math.ceil(bits) + 7) // 8


@dataclass(frozen=True, slots=True)
class ConvShape:
    """Geometry of a 2-D convolution (NCHW), padding and stride as in torch.nn.Conv2d."""

    images: int
    in_h: int
    in_w: int
    in_channels: int
    out_channels: int
    kernel_h: int
    kernel_w: int
    stride_h: int = 1
    stride_w: int = 1
    pad_h: int = 0
    pad_w: int = 0
    dilation_h: int = 1
    dilation_w: int = 1
    groups: int = 1

    @property
    def out_h(self) -> int:
        return (self.in_h + 2 * self.pad_h - self.dilation_h * (self.kernel_h - 1) - 1) // self.stride_h + 1

    @property
    def out_w(self) -> int:
        return (self.in_w + 2 * self.pad_w - self.dilation_w * (self.kernel_w - 1) - 1) // self.stride_w + 1


@dataclass(frozen=True, slots=True)
class Op:
    """One operator of a workload.

    Units are in the field names where they are not plain counts.  GEMM-like kinds
    (see `GEMM_LIKE_KINDS`) fill M, N, K, batch; other kinds fill ``elements`` (output
    elements).  Build ops with `gemm_op`, `conv2d_op`, `attention_op` or `vector_op` so the
    FLOP and byte counts follow one convention.
    """

    name: str
    kind: OpKind
    M: int = 0
    N: int = 0
    K: int = 0
    batch: int = 1
    elements: int = 0
    flops: int = 0
    weight_bits: float = 0.0  # 0: the op has no weights
    act_bits: float = 16.0
    dtype: str = "float16"  # activation / compute dtype, torch's name
    weight_bytes: int = 0
    kv_bits: float = 0.0  # KV-cache width (attention ops); 0: not applicable
    kv_bytes: int = 0  # KV-cache bytes read (attention ops)
    bytes_read: int = 0
    bytes_written: int = 0
    phase: Phase = Phase.NONE
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    q_len: int = 0
    kv_len: int = 0
    conv: ConvShape | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, OpKind):
            object.__setattr__(self, "kind", _choice(OpKind, self.kind, f"op {self.name!r}: kind"))
        if not isinstance(self.phase, Phase):
            object.__setattr__(self, "phase", _choice(Phase, self.phase, f"op {self.name!r}: phase"))
        for f in (
            "M",
            "N",
            "K",
            "batch",
            "elements",
            "flops",
            "weight_bytes",
            "kv_bytes",
            "bytes_read",
            "bytes_written",
            "heads",
            "kv_heads",
            "head_dim",
            "q_len",
            "kv_len",
        ):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise SpecError(f"op {self.name!r}: {f} must be a non-negative integer, got {v!r}")
        for f in ("weight_bits", "act_bits", "kv_bits"):
            v = getattr(self, f)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0 or v > 64:
                raise SpecError(f"op {self.name!r}: {f} must be a number of bits in [0, 64], got {v!r}")
        if self.kind in GEMM_LIKE_KINDS and min(self.M, self.N, self.K, self.batch) < 1:
            raise SpecError(
                f"op {self.name!r}: a {self.kind.value} needs M, N, K, batch >= 1, "
                f"got M={self.M} N={self.N} K={self.K} batch={self.batch}"
            )

    @property
    def is_gemm_like(self) -> bool:
        return self.kind in GEMM_LIKE_KINDS

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the GEMM view (0 for non-GEMM ops)."""
        return self.M * self.N * self.K * self.batch if self.is_gemm_like else 0

    @property
    def bytes_total(self) -> int:
        return self.bytes_read + self.bytes_written

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte of compulsory traffic."""
        return self.flops / self.bytes_total if self.bytes_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; always has the stable core fields, adds geometry when set."""
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _OPTIONAL_FIELDS and v == f.default:
                continue
            if isinstance(v, Enum):
                v = v.value
            elif isinstance(v, ConvShape):
                v = asdict(v)
            elif isinstance(v, float) and v.is_integer():
                v = int(v)
            d[f.name] = v
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "op") -> Op:
        """Inverse of `to_dict`; raises SpecError naming `where` on unknown or bad fields."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SpecError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(known))})")
        if "name" not in d or "kind" not in d:
            raise SpecError(f"{where}: an op needs 'name' and 'kind'")
        kw = dict(d)
        if kw.get("conv") is not None:
            try:
                kw["conv"] = ConvShape(**kw["conv"])
            except TypeError as e:
                raise SpecError(f"{where}: bad conv geometry: {e}") from None
        for f in ("weight_bits", "act_bits", "kv_bits"):
            if f in kw and isinstance(kw[f], int) and not isinstance(kw[f], bool):
                kw[f] = float(kw[f])
        return cls(**kw)


_OPTIONAL_FIELDS = frozenset(
    {"kv_bits", "kv_bytes", "heads", "kv_heads", "head_dim", "q_len", "kv_len", "conv", "elements"}
)


# --------------------------------------------------------------------------- op builders


def gemm_op(
    name: str,
    M: int,
    N: int,
    K: int,
    batch: int = 1,
    *,
    weight_bits: float = 16,
    act_bits: float = 16,
    dtype: str = "float16",
    phase: Phase = Phase.NONE,
    b_is_weight: bool = True,
) -> Op:
    """A GEMM with a K x N weight operand (one weight matrix per batch entry).

    M == 1 gives kind ``gemv``: a matrix-vector product, which is memory-bound on every
    target and which PIM and SRAM-LUT units specialise for.  With ``b_is_weight=False`` the
    K x N operand is an activation (e.g. a batched matmul of two activations): it is read at
    ``act_bits`` and the op has no weights.
    """
    kind = OpKind.GEMV if M == 1 else OpKind.GEMM
    b_bits = weight_bits if b_is_weight else act_bits
    b = storage_bytes(batch * K * N, b_bits)
    return Op(
        name=name,
        kind=kind,
        M=M,
        N=N,
        K=K,
        batch=batch,
        elements=batch * M * N,
        flops=2 * M * N * K * batch,
        weight_bits=float(weight_bits) if b_is_weight else 0.0,
        act_bits=float(act_bits),
        dtype=dtype,
        weight_bytes=b if b_is_weight else 0,
        bytes_read=b + storage_bytes(batch * M * K, act_bits),
        bytes_written=storage_bytes(batch * M * N, act_bits),
        phase=phase,
    )


def conv2d_op(
    name: str,
    conv: ConvShape,
    *,
    weight_bits: float = 16,
    act_bits: float = 16,
    dtype: str = "float16",
    phase: Phase = Phase.NONE,
) -> Op:
    """A 2-D convolution, with its implicit-GEMM view (see module docstring)."""
    g = conv.groups
    M = conv.images * conv.out_h * conv.out_w
    N = conv.out_channels // g
    K = conv.in_channels // g * conv.kernel_h * conv.kernel_w
    w = storage_bytes(conv.out_channels * K, weight_bits)
    return Op(
        name=name,
        kind=OpKind.CONV2D,
        M=M,
        N=N,
        K=K,
        batch=g,
        elements=M * conv.out_channels,
        flops=2 * M * N * K * g,
        weight_bits=float(weight_bits),
        act_bits=float(act_bits),
        dtype=dtype,
        weight_bytes=w,
        bytes_read=w + storage_bytes(conv.images * conv.in_channels * conv.in_h * conv.in_w, act_bits),
        bytes_written=storage_bytes(M * conv.out_channels, act_bits),
        phase=phase,
        conv=conv,
    )


def attention_op(
    name: str,
    kind: OpKind,
    *,
    batch: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    q_len: int,
    kv_len: int,
    act_bits: float = 16,
    kv_bits: float | None = None,
    dtype: str = "float16",
    phase: Phase = Phase.NONE,
) -> Op:
    """An attention op over a KV cache of `kv_len` keys, for `batch` sequences.

    ``attention_qk``: scores[q, k] = sum_d Q[q, d] K[k, d]  (GEMM M=group*q_len, N=kv_len, K=head_dim)
    ``attention_av``: out[q, d] = sum_k P[q, k] V[k, d]      (GEMM M=group*q_len, N=head_dim, K=kv_len)
    fused kinds: both GEMMs plus softmax; their GEMM view is the QK one.
    """
    if kind not in ATTENTION_KINDS:
        raise SpecError(f"op {name!r}: {kind} is not an attention kind")
    if heads < 1 or kv_heads < 1 or heads % kv_heads:
        raise SpecError(f"op {name!r}: heads ({heads}) must be a positive multiple of kv_heads ({kv_heads})")
    kvb = act_bits if kv_bits is None else kv_bits
    group = heads // kv_heads
    B, M = batch * kv_heads, group * q_len
    q_bytes = storage_bytes(batch * heads * q_len * head_dim, act_bits)
    kv_one = storage_bytes(batch * kv_heads * kv_len * head_dim, kvb)
    scores = batch * heads * q_len * kv_len
    out_bytes = storage_bytes(batch * heads * q_len * head_dim, act_bits)
    if kind is OpKind.ATTENTION_QK:
        gm = (M, kv_len, head_dim)
        kv, rd, wr, flops = kv_one, q_bytes + kv_one, storage_bytes(scores, act_bits), 2 * scores * head_dim
        elements = scores
    elif kind is OpKind.ATTENTION_AV:
        gm = (M, head_dim, kv_len)
        kv, rd, wr, flops = kv_one, storage_bytes(scores, act_bits) + kv_one, out_bytes, 2 * scores * head_dim
        elements = batch * heads * q_len * head_dim
    else:
        gm = (M, kv_len, head_dim)
        kv, rd, wr = 2 * kv_one, q_bytes + 2 * kv_one, out_bytes
        flops = 4 * scores * head_dim + 5 * scores  # two GEMMs + softmax (max, sub, exp, sum, div)
        elements = batch * heads * q_len * head_dim
    return Op(
        name=name,
        kind=kind,
        M=gm[0],
        N=gm[1],
        K=gm[2],
        batch=B,
        elements=elements,
        flops=flops,
        weight_bits=0.0,
        act_bits=float(act_bits),
        dtype=dtype,
        kv_bits=float(kvb),
        kv_bytes=kv,
        bytes_read=rd,
        bytes_written=wr,
        phase=phase,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        q_len=q_len,
        kv_len=kv_len,
    )


# FLOPs per output element of vector ops; a stated convention, not a measurement.
VECTOR_FLOPS_PER_ELEMENT = {
    OpKind.ELEMENTWISE: 1,
    OpKind.NORM: 4,  # mean/var (or mean square), normalise, scale
    OpKind.SOFTMAX: 5,  # max, subtract, exp, sum, divide
    OpKind.POOL: 1,
    OpKind.REDUCE: 1,
    OpKind.EMBEDDING: 0,
    OpKind.COPY: 0,
}


def vector_op(
    name: str,
    kind: OpKind,
    *,
    elements: int,
    bytes_read: int,
    bytes_written: int,
    flops: int | None = None,
    act_bits: float = 16,
    dtype: str = "float16",
    phase: Phase = Phase.NONE,
    weight_bytes: int = 0,
    M: int = 0,
    N: int = 0,
) -> Op:
    """A non-GEMM op (elementwise, norm, softmax, pool, reduce, embedding, copy).

    ``M`` x ``N`` optionally give the tensor as rows x row length (the reduced axis of a norm or
    softmax); 0 means unknown.  Models that care about row parallelism read them.
    """
    if kind in GEMM_LIKE_KINDS or kind in FUSED_ATTENTION_KINDS:
        raise SpecError(f"op {name!r}: {kind.value} is not a vector op")
    if flops is None:
        flops = VECTOR_FLOPS_PER_ELEMENT[kind] * elements
    return Op(
        name=name,
        kind=kind,
        M=M,
        N=N,
        elements=elements,
        flops=flops,
        act_bits=float(act_bits),
        dtype=dtype,
        weight_bytes=weight_bytes,
        bytes_read=bytes_read,
        bytes_written=bytes_written,
        phase=phase,
    )


# --------------------------------------------------------------------------- the graph


@dataclass(frozen=True, slots=True)
class KindSummary:
    """Totals of one op kind in a graph."""

    kind: OpKind
    count: int
    flops: int
    bytes_total: int

    @property
    def arithmetic_intensity(self) -> float:
        return self.flops / self.bytes_total if self.bytes_total else 0.0


class WorkloadGraph(nx.DiGraph):
    """A workload: a DAG whose nodes are op names with the `Op` in node attribute ``"op"``.

    Nodes are kept in insertion order, which `cosim.trace` makes a topological order (the
    order torch.export executed them).  Graph attributes: ``name`` and ``meta`` (the
    workload spec the graph came from: model, phase, batch, lengths, quantization).
    """

    def __init__(
        self, incoming_graph_data: Any = None, name: str = "", meta: Mapping[str, Any] | None = None, **attr: Any
    ) -> None:
        super().__init__(incoming_graph_data, **attr)
        if name or "name" not in self.graph:
            self.graph["name"] = name
        self.graph.setdefault("meta", dict(meta or {}))

    @property
    def title(self) -> str:
        """The workload's name (``nx.DiGraph.name`` is the same attribute)."""
        return self.graph["name"]

    @property
    def meta(self) -> dict[str, Any]:
        return self.graph["meta"]

    def add_op(self, op: Op, deps: Iterable[str] = ()) -> None:
        """Add `op` after the ops named in `deps` (which must exist)."""
        if op.name in self:
            raise SpecError(f"workload {self.title!r}: duplicate op name {op.name!r}")
        self.add_node(op.name, op=op)
        for d in deps:
            if d not in self:
                raise SpecError(f"workload {self.title!r}: op {op.name!r} depends on unknown op {d!r}")
            self.add_edge(d, op.name)

    @property
    def ops(self) -> list[Op]:
        """Ops in insertion (execution) order."""
        # the node-attribute dicts directly: a NodeDataView costs more than a small graph's simulation
        return [data["op"] for data in self._node.values()]

    def op(self, name: str) -> Op:
        return self.nodes[name]["op"]

    def replace_op(self, op: Op) -> None:
        """Swap in a changed version of an op with the same name (e.g. other bit widths)."""
        self.nodes[op.name]["op"] = op

    @property
    def total_flops(self) -> int:
        return sum(o.flops for o in self.ops)

    @property
    def total_bytes(self) -> int:
        return sum(o.bytes_total for o in self.ops)

    def summary(self) -> list[KindSummary]:
        """Op count, FLOPs and bytes per kind, in `OpKind` order, kinds present only."""
        acc: dict[OpKind, list[int]] = {}
        for o in self.ops:
            a = acc.setdefault(o.kind, [0, 0, 0])
            a[0] += 1
            a[1] += o.flops
            a[2] += o.bytes_total
        return [KindSummary(k, *acc[k]) for k in OpKind if k in acc]

    # ----- JSON

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": GRAPH_SCHEMA,
            "name": self.title,
            "meta": self.meta,
            "ops": [o.to_dict() for o in self.ops],
            "edges": [[u, v] for u, v in self.edges],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "graph") -> WorkloadGraph:
        if not isinstance(d, Mapping) or "ops" not in d:
            raise SpecError(f"{where}: not a cosim graph (no 'ops' list)")
        schema = d.get("schema", GRAPH_SCHEMA)
        if schema != GRAPH_SCHEMA:
            raise SpecError(f"{where}: schema {schema!r} is not supported (expected {GRAPH_SCHEMA!r})")
        g = cls(name=str(d.get("name", "")), meta=d.get("meta") or {})
        for i, od in enumerate(d["ops"]):
            g.add_op(Op.from_dict(od, f"{where}: ops[{i}]"))
        for i, e in enumerate(d.get("edges", [])):
            if not (isinstance(e, list | tuple) and len(e) == 2 and e[0] in g and e[1] in g):
                raise SpecError(f"{where}: edges[{i}] = {e!r} does not join two known ops")
            g.add_edge(e[0], e[1])
        if not nx.is_directed_acyclic_graph(g):
            raise SpecError(f"{where}: the edges form a cycle")
        return g

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str, where: str = "graph") -> WorkloadGraph:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"{where}: invalid JSON: {e}") from None
        return cls.from_dict(d, where)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> WorkloadGraph:
        p = Path(path)
        if not p.is_file():
            raise SpecError(f"{p}: no such file")
        return cls.from_json(p.read_text(), str(p))


def with_bits(
    op: Op,
    *,
    weight_bits: float | None = None,
    act_bits: float | None = None,
    kv_bits: float | None = None,
    dtype: str | None = None,
) -> Op:
    """Return `op` re-quantized: bit widths changed and byte counts recomputed."""
    wb = op.weight_bits if weight_bits is None or op.weight_bits == 0 else weight_bits
    ab = op.act_bits if act_bits is None else act_bits
    dt = op.dtype if dtype is None else dtype
    if op.kind in (OpKind.GEMM, OpKind.GEMV) and op.weight_bits:
        return gemm_op(op.name, op.M, op.N, op.K, op.batch, weight_bits=wb, act_bits=ab, dtype=dt, phase=op.phase)
    if op.kind is OpKind.CONV2D and op.conv is not None:
        return conv2d_op(op.name, op.conv, weight_bits=wb, act_bits=ab, dtype=dt, phase=op.phase)
    if op.kind in ATTENTION_KINDS and op.heads:
        kvb = op.kv_bits if kv_bits is None else kv_bits
        return attention_op(
            op.name,
            op.kind,
            batch=op.batch // op.kv_heads,
            heads=op.heads,
            kv_heads=op.kv_heads,
            head_dim=op.head_dim,
            q_len=op.q_len,
            kv_len=op.kv_len,
            act_bits=ab,
            kv_bits=kvb,
            dtype=dt,
            phase=op.phase,
        )
    if op.is_gemm_like:
        return replace(op, act_bits=float(ab), dtype=dt)
    scale = ab / op.act_bits if op.act_bits else 1.0
    return replace(
        op,
        act_bits=float(ab),
        dtype=dt,
        bytes_read=op.weight_bytes + int((op.bytes_read - op.weight_bytes) * scale),
        bytes_written=int(op.bytes_written * scale),
    )


def default_dtype_for_bits(bits: float) -> str:
    """torch dtype name for an activation width: 32 -> float32, 16 -> float16, else intN."""
    return {32: "float32", 16: "float16"}.get(int(bits) if float(bits).is_integer() else -1, f"int{math.ceil(bits)}")


__all__ = [
    "ATTENTION_KINDS",
    "FUSED_ATTENTION_KINDS",
    "GEMM_LIKE_KINDS",
    "GRAPH_SCHEMA",
    "ConvShape",
    "KindSummary",
    "Op",
    "OpKind",
    "Phase",
    "WorkloadGraph",
    "attention_op",
    "conv2d_op",
    "default_dtype_for_bits",
    "gemm_op",
    "storage_bytes",
    "vector_op",
    "with_bits",
]
