"""Workloads: the spec YAML (model, phase, batch, lengths, quantization), the op-list CSV,
and `load_workload`, which turns any of them (or a graph JSON) into a `WorkloadGraph`.

Accepted files, by suffix:

* ``.yaml``/``.yml``: a `WorkloadSpec`; the model is built and traced with torch.export.
* ``.json``: a graph written by ``cosim trace -o``.
* ``.csv``: the op-list format of DESIGN.md (hand-written workloads), recognised by its
  ``name`` and ``kind`` columns; otherwise a SCALE-Sim topology CSV (conv or GEMM format, see
  `cosim.scalesim`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosim.errors import SpecError
from cosim.graph import (
    FUSED_ATTENTION_KINDS,
    GEMM_LIKE_KINDS,
    OpKind,
    Phase,
    WorkloadGraph,
    attention_op,
    gemm_op,
    storage_bytes,
    vector_op,
)
from cosim.spec import doc_field, load_mapping, parse

# torch dtype name -> bits (the op-list CSV's `dtype` column uses torch's names).
DTYPE_BITS: dict[str, int] = {
    "float64": 64,
    "float32": 32,
    "float": 32,
    "tf32": 32,
    "float16": 16,
    "half": 16,
    "bfloat16": 16,
    "float8_e4m3fn": 8,
    "float8_e5m2": 8,
    "int32": 32,
    "int16": 16,
    "int8": 8,
    "uint8": 8,
    "int4": 4,
    "uint4": 4,
    "int2": 2,
    "int1": 1,
}

_QUANT_RE = re.compile(r"^W(?P<w>\d+(?:\.\d+)?)A(?P<a>\d+)(?:KV(?P<kv>\d+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Quant:
    """Bit widths applied to a traced model: weights, activations, KV cache."""

    weight_bits: float = 16.0
    act_bits: float = 16.0
    kv_bits: float | None = None  # None: same as act_bits

    @classmethod
    def parse(cls, text: str, where: str) -> Quant:
        """``"W4A16"``, ``"W1.58A8"``, ``"W2A8KV8"`` -> Quant."""
        m = _QUANT_RE.match(text.strip())
        if not m:
            raise SpecError(
                f"{where}: quantization {text!r} is not of the form W<bits>A<bits>[KV<bits>] "
                "(e.g. W4A16, W1.58A8, W8A8KV8)"
            )
        w, a = float(m["w"]), float(m["a"])
        kv = float(m["kv"]) if m["kv"] else None
        for label, bits in (("weight", w), ("activation", a), ("KV", kv)):
            if bits is not None and not 1 <= bits <= 32:
                raise SpecError(f"{where}: {label} bits must be in [1, 32], got {bits:g}")
        return cls(w, a, kv)

    @property
    def label(self) -> str:
        s = f"W{self.weight_bits:g}A{self.act_bits:g}"
        return s + (f"KV{self.kv_bits:g}" if self.kv_bits is not None else "")


@dataclass(frozen=True)
class WorkloadSpec:
    """A model and how it is run.  Lengths are in tokens."""

    name: str
    model: str = doc_field(doc="zoo model name (see `cosim models`), or 'file.py:factory' for your own")
    phase: Phase = doc_field(Phase.NONE, doc="prefill or decode for LLMs; none for CNNs")
    batch: int = doc_field(1, doc="sequences (LLM) or images (CNN)", min=1)
    seq_len: int = doc_field(0, doc="prefill: prompt tokens", min=0)
    kv_len: int = doc_field(0, doc="decode: keys attended per sequence, the new token included", min=0)
    image_size: int = doc_field(224, doc="CNN input height = width", min=8)
    quant: str = doc_field("", doc="bit widths, e.g. W4A16, W1.58A8, W8A8KV8; empty: the model's own")
    dtype: str = doc_field("float16", doc="activation dtype (torch name) when activations are 16-bit or wider")
    overrides: dict[str, float] = field(default_factory=dict)  # model config overrides, e.g. {n_layers: 2}
    description: str = ""

    def __post_init__(self) -> None:
        if self.phase is Phase.PREFILL and self.seq_len < 1:
            raise SpecError("phase prefill needs seq_len >= 1")
        if self.phase is Phase.DECODE and self.kv_len < 1:
            raise SpecError("phase decode needs kv_len >= 1")
        if self.dtype not in DTYPE_BITS:
            raise SpecError(f"dtype: unknown dtype {self.dtype!r} (allowed: {', '.join(DTYPE_BITS)})")

    def quantization(self, where: str = "quant") -> Quant | None:
        return Quant.parse(self.quant, where) if self.quant else None


def load_workload_spec(path: str | Path) -> WorkloadSpec:
    p = Path(path)
    data = load_mapping(p)
    data.setdefault("name", p.stem)
    return parse(WorkloadSpec, data, str(p))


# --------------------------------------------------------------------------- op-list CSV

CSV_COLUMNS = (
    "name",
    "kind",
    "dtype",
    "M",
    "N",
    "K",
    "batch",
    "heads",
    "head_dim",
    "kv_len",
    "weight_bits",
    "act_bits",
)
CSV_OPTIONAL_COLUMNS = ("kv_heads", "phase")
_CSV_KINDS = (
    OpKind.GEMM,
    OpKind.GEMV,
    OpKind.ATTENTION_QK,
    OpKind.ATTENTION_AV,
    OpKind.ATTENTION_DECODE,
    OpKind.ATTENTION_PREFILL,
    OpKind.ELEMENTWISE,
    OpKind.NORM,
    OpKind.SOFTMAX,
)


def _cell_int(row: dict[str, str], col: str, where: str, default: int | None = None) -> int:
    raw = (row.get(col) or "").strip()
    if not raw:
        if default is None:
            raise SpecError(f"{where}: column {col!r} is required for kind {row['kind']!r}")
        return default
    try:
        v = float(raw)
    except ValueError:
        raise SpecError(f"{where}: column {col!r}: expected an integer, got {raw!r}") from None
    if not v.is_integer() or v < 1:
        raise SpecError(f"{where}: column {col!r}: expected a positive integer, got {raw!r}")
    return int(v)


def _cell_bits(row: dict[str, str], col: str, where: str, default: float) -> float:
    raw = (row.get(col) or "").strip()
    if not raw:
        return default
    try:
        v = float(raw)
    except ValueError:
        raise SpecError(f"{where}: column {col!r}: expected a number of bits, got {raw!r}") from None
    if not 1 <= v <= 64:
        raise SpecError(f"{where}: column {col!r}: bits must be in [1, 64], got {raw!r}")
    return v


def load_op_csv(path: str | Path) -> WorkloadGraph:
    """Read the op-list CSV of DESIGN.md into a chain of ops (each after the previous)."""
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    with p.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise SpecError(f"{p}: header lacks column(s) {', '.join(missing)} (expected: {','.join(CSV_COLUMNS)})")
        extra = [c for c in header if c not in CSV_COLUMNS and c not in CSV_OPTIONAL_COLUMNS]
        if extra:
            raise SpecError(
                f"{p}: unknown column(s) {', '.join(extra)} (allowed: {','.join(CSV_COLUMNS)}, "
                f"optional: {','.join(CSV_OPTIONAL_COLUMNS)})"
            )
        g = WorkloadGraph(name=p.stem, meta={"source": str(p), "format": "op-list csv"})
        prev: str | None = None
        for i, raw in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            where = f"{p}:{i}"
            op = _op_from_row(row, where)
            g.add_op(op, [prev] if prev else [])
            prev = op.name
    if g.number_of_nodes() == 0:
        raise SpecError(f"{p}: no op rows")
    return g


def _op_from_row(row: dict[str, str], where: str) -> Any:
    name = row.get("name", "")
    if not name:
        raise SpecError(f"{where}: column 'name' is empty")
    try:
        kind = OpKind(row.get("kind", ""))
    except ValueError:
        raise SpecError(
            f"{where}: kind {row.get('kind')!r} is not allowed in an op-list CSV "
            f"(allowed: {', '.join(k.value for k in _CSV_KINDS)})"
        ) from None
    if kind not in _CSV_KINDS:
        raise SpecError(
            f"{where}: kind {kind.value!r} is not allowed in an op-list CSV "
            f"(allowed: {', '.join(k.value for k in _CSV_KINDS)})"
        )
    dtype = row.get("dtype") or ""
    if dtype and dtype not in DTYPE_BITS:
        raise SpecError(f"{where}: dtype {dtype!r} is unknown (allowed: {', '.join(DTYPE_BITS)})")
    if not dtype and not row.get("act_bits"):
        raise SpecError(f"{where}: give a dtype or act_bits")
    base = float(DTYPE_BITS[dtype]) if dtype else 16.0
    act = _cell_bits(row, "act_bits", where, base)
    wbits = _cell_bits(row, "weight_bits", where, base if dtype else act)
    dtype = dtype or {32: "float32", 16: "float16"}.get(int(act), f"int{int(act)}")
    phase_raw = row.get("phase") or ""
    try:
        phase = (
            Phase(phase_raw)
            if phase_raw
            else (
                Phase.DECODE
                if kind is OpKind.ATTENTION_DECODE
                else Phase.PREFILL
                if kind is OpKind.ATTENTION_PREFILL
                else Phase.NONE
            )
        )
    except ValueError:
        raise SpecError(
            f"{where}: phase {phase_raw!r} is unknown (allowed: {', '.join(p.value for p in Phase)})"
        ) from None
    if kind in (OpKind.GEMM, OpKind.GEMV):
        M, N, K = (_cell_int(row, c, where) for c in ("M", "N", "K"))
        if kind is OpKind.GEMV and M != 1:
            raise SpecError(f"{where}: a gemv has M = 1, got M = {M}")
        return gemm_op(
            name, M, N, K, _cell_int(row, "batch", where, 1), weight_bits=wbits, act_bits=act, dtype=dtype, phase=phase
        )
    if kind in FUSED_ATTENTION_KINDS or kind in (OpKind.ATTENTION_QK, OpKind.ATTENTION_AV):
        heads = _cell_int(row, "heads", where)
        kv_len = _cell_int(row, "kv_len", where)
        q_len = (
            1
            if kind is OpKind.ATTENTION_DECODE
            else kv_len
            if kind is OpKind.ATTENTION_PREFILL
            else _cell_int(row, "M", where, 1)
        )
        return attention_op(
            name,
            kind,
            batch=_cell_int(row, "batch", where, 1),
            heads=heads,
            kv_heads=_cell_int(row, "kv_heads", where, heads),
            head_dim=_cell_int(row, "head_dim", where),
            q_len=q_len,
            kv_len=kv_len,
            act_bits=act,
            dtype=dtype,
            phase=phase,
        )
    assert kind not in GEMM_LIKE_KINDS
    M, N = _cell_int(row, "M", where), _cell_int(row, "N", where)
    elements = M * N * _cell_int(row, "batch", where, 1)
    return vector_op(
        name,
        kind,
        elements=elements,
        bytes_read=storage_bytes(elements, act),
        bytes_written=storage_bytes(elements, act),
        act_bits=act,
        dtype=dtype,
        phase=phase,
        M=M * _cell_int(row, "batch", where, 1),
        N=N,
    )


# --------------------------------------------------------------------------- dispatcher


def _load_csv(p: Path) -> WorkloadGraph:
    """Op-list CSVs have ``name`` and ``kind`` columns; anything else may be a SCALE-Sim topology."""
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    with p.open(newline="") as fh:
        first = next((ln for ln in fh if ln.strip()), "")
    if {"name", "kind"} <= {c.strip() for c in first.split(",")}:
        return load_op_csv(p)
    from cosim import scalesim

    if scalesim.topology_format(p) is not None:
        return scalesim.load_topology(p)
    raise SpecError(
        f"{p}: CSV header is neither an op list ('{','.join(CSV_COLUMNS)}') nor a SCALE-Sim topology "
        "('Layer, M, N, K' or 'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides')"
    )


def load_workload(path: str | Path) -> WorkloadGraph:
    """Any workload file -> WorkloadGraph (see module docstring for the formats)."""
    p = Path(path)
    if p.suffix in (".yaml", ".yml"):
        from cosim.trace import trace_workload  # torch import is slow; only when tracing

        return trace_workload(load_workload_spec(p), base_dir=p.parent)
    if p.suffix == ".json":
        return WorkloadGraph.load(p)
    if p.suffix == ".csv":
        return _load_csv(p)
    raise SpecError(f"{p}: unknown workload file type {p.suffix!r} (allowed: .yaml, .json, .csv)")
