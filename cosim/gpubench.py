"""GPU microbenchmarks for calibrating `cosim.hw.gpu`: shape grids, torch timing, CSV rows.

The grids come in two disjoint sets, both generated deterministically (fixed seeds):

* ``fit``: what the calibration fits on: random shapes (log-uniform M, N, K, batch, KV
  lengths, tensor sizes) plus a few structured probes of wave quantization;
* ``heldout``: what the accuracy benchmark scores, never used in the fit: GEMMs on the weight
  shapes of Llama-2-7B, Llama-3-8B and Llama-2/3-70B projections with M = 1 .. 8192, decode
  attention of those models at several batch sizes and KV lengths, plus a few prefill,
  unfused-attention and memory-bound ops.  Any fit shape equal to a held-out one is dropped.

How a case is timed (`measure`): inputs are random (never zeros), and several input sets are
rotated so that their total exceeds 4x the L2 cache; each call therefore reads its operands
from HBM, as an LLM layer does.  R calls are captured in one CUDA graph (falling back to an
eager loop if capture fails) and the graph is replayed between CUDA events: the time per call
is what the op costs in a back-to-back stream, launch gaps included.  After a warm-up replay,
several replays are timed and the median is kept.  Only this module imports torch.
"""

from __future__ import annotations

import csv
import math
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from cosim.errors import SpecError

# --------------------------------------------------------------------------- cases and rows

CASE_KINDS = (
    "gemm",
    "gemv",
    "attention_qk",
    "attention_av",
    "attention_decode",
    "attention_prefill",
    "elementwise",
    "norm",
    "softmax",
    "embedding",
    "copy",
)
DTYPES = ("bfloat16", "float16", "float32", "tf32", "int8")


@dataclass(frozen=True)
class Case:
    """One shape to time.

    GEMM-like kinds use the graph convention (output M x N, reduction K, ``batch`` GEMMs);
    attention kinds give the attention geometry (``batch`` is sequences); vector kinds run over
    an M x N tensor (rows x row length; embedding: M tokens of N features from a K-row table).
    ``op`` names the torch call (``mm``, ``bmm``, ``sdpa``, ``layer_norm``, ``rms_norm``, ...).
    """

    set: str
    kind: str
    dtype: str
    op: str
    M: int = 0
    N: int = 0
    K: int = 0
    batch: int = 1
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    q_len: int = 0
    kv_len: int = 0
    label: str = ""

    @property
    def key(self) -> tuple:
        """Identity of the shape, independent of the set it belongs to."""
        return (
            self.kind,
            self.dtype,
            self.op,
            self.M,
            self.N,
            self.K,
            self.batch,
            self.heads,
            self.kv_heads,
            self.head_dim,
            self.q_len,
            self.kv_len,
        )


@dataclass(frozen=True)
class Measurement:
    """A timed case: per-call seconds (median, min, max over replays) and how it was timed."""

    case: Case
    median_s: float
    min_s: float
    max_s: float
    reps: int
    calls_per_rep: int
    rotate_sets: int
    method: str  # "graph" (CUDA graph replay) or "eager"
    backend: str  # kernel family chosen: "cublas", "flash", "efficient", "aten", ...


CASE_COLUMNS = tuple(f.name for f in fields(Case))
CSV_COLUMNS = (*CASE_COLUMNS, "median_s", "min_s", "max_s", "reps", "calls_per_rep", "rotate_sets", "method", "backend")
_INT_COLUMNS = frozenset(
    {"M", "N", "K", "batch", "heads", "kv_heads", "head_dim", "q_len", "kv_len", "reps", "calls_per_rep", "rotate_sets"}
)


def write_csv(path: str | Path, rows: Iterable[Measurement], meta: dict[str, Any] | None = None) -> None:
    """Write measurements as CSV; ``meta`` becomes leading ``# key: value`` comment lines."""
    p = Path(path)
    with p.open("w", newline="") as fh:
        for k, v in (meta or {}).items():
            fh.write(f"# {k}: {v}\n")
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for m in rows:
            w.writerow([*astuple(m.case), f"{m.median_s:.6e}", f"{m.min_s:.6e}", f"{m.max_s:.6e}", *_tail(m)])


def _tail(m: Measurement) -> list[Any]:
    return [m.reps, m.calls_per_rep, m.rotate_sets, m.method, m.backend]


class CsvAppender:
    """Writes rows as they are measured, so a run cut short keeps what it measured."""

    def __init__(self, path: str | Path, meta: dict[str, Any]) -> None:
        self.path = Path(path)
        self._fh = self.path.open("w", newline="")
        for k, v in meta.items():
            self._fh.write(f"# {k}: {v}\n")
        self._w = csv.writer(self._fh)
        self._w.writerow(CSV_COLUMNS)
        self._fh.flush()

    def add(self, m: Measurement) -> None:
        self._w.writerow([*astuple(m.case), f"{m.median_s:.6e}", f"{m.min_s:.6e}", f"{m.max_s:.6e}", *_tail(m)])
        self._fh.flush()

    def note(self, key: str, value: Any) -> None:
        """A comment line after the rows (e.g. totals at the end of a run)."""
        self._fh.write(f"# {key}: {value}\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_csv(path: str | Path) -> tuple[list[Measurement], dict[str, str]]:
    """Read a calibration CSV written by `write_csv`; returns (rows, comment metadata).

    Raises:
        SpecError: missing file, missing columns, or a cell that is not a number where one is due.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    meta: dict[str, str] = {}
    lines = []
    for line in p.read_text().splitlines():
        if line.startswith("#"):
            k, _, v = line[1:].partition(":")
            meta[k.strip()] = v.strip()
        elif line.strip():
            lines.append(line)
    if not lines:
        raise SpecError(f"{p}: no header row")
    reader = csv.DictReader(lines)
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SpecError(f"{p}: header lacks column(s) {', '.join(missing)} (expected: {','.join(CSV_COLUMNS)})")
    rows = []
    for i, r in enumerate(reader, start=2):
        where = f"{p}: data row {i - 1}"
        kw: dict[str, Any] = {}
        for c in CASE_COLUMNS:
            kw[c] = _cell(r, c, where, int) if c in _INT_COLUMNS else r[c]
        if kw["kind"] not in CASE_KINDS:
            raise SpecError(f"{where}: kind {kw['kind']!r} is unknown (allowed: {', '.join(CASE_KINDS)})")
        if kw["dtype"] not in DTYPES:
            raise SpecError(f"{where}: dtype {kw['dtype']!r} is unknown (allowed: {', '.join(DTYPES)})")
        med = _cell(r, "median_s", where, float)
        if not med > 0:
            raise SpecError(f"{where}: median_s must be > 0, got {r['median_s']!r}")
        rows.append(
            Measurement(
                Case(**kw),
                med,
                _cell(r, "min_s", where, float),
                _cell(r, "max_s", where, float),
                _cell(r, "reps", where, int),
                _cell(r, "calls_per_rep", where, int),
                _cell(r, "rotate_sets", where, int),
                r["method"],
                r["backend"],
            )
        )
    return rows, meta


def _cell(r: dict[str, str], c: str, where: str, tp: type) -> Any:
    raw = (r.get(c) or "").strip()
    try:
        v = float(raw)
    except ValueError:
        raise SpecError(f"{where}: column {c!r}: expected a number, got {raw!r}") from None
    if tp is int:
        if not v.is_integer():
            raise SpecError(f"{where}: column {c!r}: expected an integer, got {raw!r}")
        return int(v)
    return v


# --------------------------------------------------------------------------- grids

POW2_M = tuple(2**i for i in range(14))  # 1 .. 8192

# (label, K = in_features, N = out_features) of LLM projections.  Sources: the models' config.json
# (hidden_size, intermediate_size, num_key_value_heads * head_dim, vocab_size) on the Hugging Face hub:
# meta-llama/Llama-2-7b-hf (4096, 11008, 32 kv heads, 32000), meta-llama/Meta-Llama-3-8B
# (4096, 14336, 8 kv heads x 128, 128256), meta-llama/Llama-2-70b-hf and Meta-Llama-3-70B
# (8192, 28672, 8 kv heads x 128).
LLM_LINEARS: tuple[tuple[str, int, int], ...] = (
    ("llama2_7b.qkvo_proj", 4096, 4096),
    ("llama2_7b.gate_up_proj", 4096, 11008),
    ("llama2_7b.down_proj", 11008, 4096),
    ("llama2_7b.lm_head", 4096, 32000),
    ("llama3_8b.kv_proj", 4096, 1024),
    ("llama3_8b.gate_up_proj", 4096, 14336),
    ("llama3_8b.down_proj", 14336, 4096),
    ("llama3_8b.lm_head", 4096, 128256),
    ("llama70b.qo_proj", 8192, 8192),
    ("llama70b.kv_proj", 8192, 1024),
    ("llama70b.gate_up_proj", 8192, 28672),
    ("llama70b.down_proj", 28672, 8192),
)
# (label, heads, kv_heads, head_dim) of the same models' attention.
LLM_ATTENTION: tuple[tuple[str, int, int, int], ...] = (
    ("llama2_7b", 32, 32, 128),
    ("llama3_8b", 32, 8, 128),
    ("llama70b", 64, 8, 128),
)

MAX_CASE_BYTES = 24 * 2**30  # skip shapes whose tensors would not leave room on an 80 GB card


def _dtype_bytes(dtype: str) -> int:
    return {"bfloat16": 2, "float16": 2, "float32": 4, "tf32": 4, "int8": 1}[dtype]


def case_bytes(c: Case) -> int:
    """Bytes of one input set plus outputs (a size guard, not the model's traffic)."""
    e = _dtype_bytes(c.dtype)
    if c.kind in ("gemm", "gemv", "attention_qk", "attention_av"):
        out_e = 4 if c.dtype == "int8" else e
        return c.batch * ((c.M * c.K + c.K * c.N) * e + c.M * c.N * out_e)
    if c.kind in ("attention_decode", "attention_prefill"):
        q = c.batch * c.heads * c.q_len * c.head_dim
        kv = 2 * c.batch * c.kv_heads * c.kv_len * c.head_dim
        return (2 * q + kv) * e
    if c.kind == "embedding":
        return (c.K * c.N + 2 * c.M * c.N) * e
    return 3 * c.M * c.N * e


def case_flops(c: Case) -> float:
    if c.kind in ("gemm", "gemv", "attention_qk", "attention_av"):
        return 2.0 * c.batch * c.M * c.N * c.K
    if c.kind in ("attention_decode", "attention_prefill"):
        return 4.0 * c.batch * c.heads * c.q_len * c.kv_len * c.head_dim
    return float(c.M * c.N)


def _gemm_case(set_: str, dtype: str, M: int, N: int, K: int, label: str = "") -> Case:
    op = "int_mm" if dtype == "int8" else "mm"
    return Case(set_, "gemv" if M == 1 else "gemm", dtype, op, M, N, K, 1, label=label)


def _bmm_case(set_: str, dtype: str, b: int, M: int, N: int, K: int, label: str = "") -> Case:
    return Case(set_, "gemm", dtype, "bmm", M, N, K, b, label=label)


def _attn_case(
    set_: str, kind: str, dtype: str, B: int, H: int, Hkv: int, d: int, q_len: int, L: int, label: str = ""
) -> Case:
    """Attention case; unfused kinds also carry their GEMM view (graph convention)."""
    g = H // Hkv
    if kind == "attention_qk":
        return Case(set_, kind, dtype, "bmm", g * q_len, L, d, B * Hkv, H, Hkv, d, q_len, L, label)
    if kind == "attention_av":
        return Case(set_, kind, dtype, "bmm", g * q_len, d, L, B * Hkv, H, Hkv, d, q_len, L, label)
    return Case(set_, kind, dtype, "sdpa", 0, 0, 0, B, H, Hkv, d, q_len, L, label)


def _vec_case(set_: str, kind: str, dtype: str, op: str, M: int, N: int, K: int = 0, label: str = "") -> Case:
    return Case(set_, kind, dtype, op, M, N, K, 1, label=label)


def heldout_cases() -> list[Case]:
    """The held-out set: LLM GEMM shapes over M = 1 .. 8192, decode attention, and a few others."""
    cs: list[Case] = []
    s = "heldout"
    for label, K, N in LLM_LINEARS:
        cs += [_gemm_case(s, "bfloat16", M, N, K, label) for M in POW2_M]
    for label, K, N in LLM_LINEARS[:4]:
        cs += [_gemm_case(s, "float16", M, N, K, label) for M in POW2_M]
    for label, K, N in (*LLM_LINEARS[:3], LLM_LINEARS[8]):
        cs += [_gemm_case(s, "int8", M, N, K, label) for M in POW2_M if M > 16]  # torch._int_mm needs M > 16
    for label, K, N in LLM_LINEARS[:3]:
        cs += [_gemm_case(s, "float32", M, N, K, label) for M in (1, 8, 64, 512, 4096)]
    for label, K, N in (LLM_LINEARS[0], LLM_LINEARS[2]):
        cs += [_gemm_case(s, "tf32", M, N, K, label) for M in (1, 64, 1024, 8192)]
    for label, H, Hkv, d in LLM_ATTENTION:
        for B in (1, 4, 16, 64):
            for L in (512, 2048, 8192, 32768):
                cs.append(_attn_case(s, "attention_decode", "bfloat16", B, H, Hkv, d, 1, L, label))
    for B in (1, 16):
        for L in (2048, 8192):
            cs.append(_attn_case(s, "attention_decode", "float16", B, 32, 8, 128, 1, L, "llama3_8b"))
    for label, H, Hkv, d in LLM_ATTENTION[:2]:
        for B, L in ((1, 2048), (16, 2048), (1, 8192), (16, 8192), (64, 4096)):
            for k in ("attention_qk", "attention_av"):
                cs.append(_attn_case(s, k, "bfloat16", B, H, Hkv, d, 1, L, label))
        for B in (1, 4):
            for L in (1024, 4096):
                cs.append(_attn_case(s, "attention_prefill", "bfloat16", B, H, Hkv, d, L, L, label))
    for T in (1, 64, 2048, 8192):
        cs.append(_vec_case(s, "norm", "bfloat16", "layer_norm", T, 4096, label="hidden4096"))
        cs.append(_vec_case(s, "elementwise", "bfloat16", "add", T, 4096, label="residual4096"))
        cs.append(_vec_case(s, "elementwise", "bfloat16", "add", T, 14336, label="mlp14336"))
        cs.append(_vec_case(s, "embedding", "bfloat16", "embedding", T, 4096, 128256, label="llama3_8b.embed"))
    for rows, L in ((32, 2048), (512, 8192), (32 * 2048, 2048)):
        cs.append(_vec_case(s, "softmax", "bfloat16", "softmax", rows, L, label="attn_scores"))
    for T in (1, 16, 2048):
        cs.append(_vec_case(s, "copy", "bfloat16", "copy", T * 8, 128, label="kv_write"))
    cs.append(_vec_case(s, "copy", "bfloat16", "copy", 32768, 8192, label="bulk"))
    return [c for c in cs if case_bytes(c) <= MAX_CASE_BYTES]


# Blind held-out shapes: other models' projections and attention, also never fitted, and not
# looked at while the model was designed (only after the final fit).  Sources: config.json of
# meta-llama/Llama-2-13b-hf (5120, 13824, 40 heads), Qwen/Qwen2-7B (3584, 18944, 28 heads,
# 4 KV heads x 128), google/gemma-7b (3072, 24576, 16 heads x 256), and GPT-3 175B
# (Brown et al. 2020, Table 2.1: d_model 12288, 96 heads x 128, d_ff = 4 d_model).
BLIND_LINEARS: tuple[tuple[str, int, int], ...] = (
    ("llama2_13b.qkvo_proj", 5120, 5120),
    ("llama2_13b.gate_up_proj", 5120, 13824),
    ("llama2_13b.down_proj", 13824, 5120),
    ("qwen2_7b.qo_proj", 3584, 3584),
    ("qwen2_7b.kv_proj", 3584, 512),
    ("qwen2_7b.gate_up_proj", 3584, 18944),
    ("qwen2_7b.down_proj", 18944, 3584),
    ("gemma_7b.q_proj", 3072, 4096),
    ("gemma_7b.gate_up_proj", 3072, 24576),
    ("gemma_7b.down_proj", 24576, 3072),
    ("gpt3_175b.qo_proj", 12288, 12288),
    ("gpt3_175b.fc1", 12288, 49152),
    ("gpt3_175b.fc2", 49152, 12288),
)
BLIND_ATTENTION: tuple[tuple[str, int, int, int], ...] = (
    ("llama2_13b", 40, 40, 128),
    ("qwen2_7b", 28, 4, 128),
    ("gemma_7b", 16, 16, 256),
    ("gpt3_175b", 96, 96, 128),
)


def blind_cases() -> list[Case]:
    """The blind held-out set (``set`` = "blind"): like `heldout_cases`, on other models."""
    cs: list[Case] = []
    s = "blind"
    for label, K, N in BLIND_LINEARS:
        cs += [_gemm_case(s, "bfloat16", M, N, K, label) for M in POW2_M]
    for label, K, N in BLIND_LINEARS[:3]:
        cs += [_gemm_case(s, "float16", M, N, K, label) for M in (1, 8, 64, 256, 1024, 4096, 8192)]
    for label, K, N in BLIND_LINEARS[3:7]:
        cs += [_gemm_case(s, "int8", M, N, K, label) for M in POW2_M if M > 16]
    for label, H, Hkv, d in BLIND_ATTENTION:
        for B in (2, 8, 32):
            for L in (1024, 4096, 16384):
                cs.append(_attn_case(s, "attention_decode", "bfloat16", B, H, Hkv, d, 1, L, label))
    for label, H, Hkv, d in BLIND_ATTENTION[:2]:
        for B, L in ((2, 4096), (32, 4096)):
            for k in ("attention_qk", "attention_av"):
                cs.append(_attn_case(s, k, "bfloat16", B, H, Hkv, d, 1, L, label))
        for B, L in ((1, 2048), (2, 8192)):
            cs.append(_attn_case(s, "attention_prefill", "bfloat16", B, H, Hkv, d, L, L, label))
    for T in (1, 32, 512, 4096):
        cs.append(_vec_case(s, "norm", "bfloat16", "layer_norm", T, 5120, label="hidden5120"))
        cs.append(_vec_case(s, "elementwise", "bfloat16", "add", T, 13824, label="mlp13824"))
    for rows, L in ((40, 4096), (40 * 16, 1024), (28 * 8, 16384)):
        cs.append(_vec_case(s, "softmax", "bfloat16", "softmax", rows, L, label="attn_scores"))
    return [c for c in cs if case_bytes(c) <= MAX_CASE_BYTES]


def probe_cases() -> list[Case]:
    """A few long-running kernels, timed at several replay lengths to see clock/power effects."""
    s = "probe"
    return [
        _gemm_case(s, "bfloat16", 8192, 8192, 8192, "square8192"),
        _gemm_case(s, "bfloat16", 2048, 8192, 28672, "llama70b.down_proj"),
        _gemm_case(s, "bfloat16", 1024, 8192, 28672, "llama70b.down_proj"),
        _gemm_case(s, "bfloat16", 4096, 4096, 4096, "square4096"),
        _gemm_case(s, "bfloat16", 1, 28672, 8192, "llama70b.gate_up_proj"),
        _attn_case(s, "attention_decode", "bfloat16", 64, 32, 8, 128, 1, 8192, "llama3_8b"),
    ]


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _round_to(x: float, q: int) -> int:
    return max(q, q * round(x / q))


# Model-like dimensions for the aligned part of the fit set (hidden and FFN sizes of common
# LLMs); pairs that are held-out or blind weight shapes are excluded.
FIT_DIMS = (1024, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 7168, 8192, 10240, 11008, 12288, 13824, 14336)
FIT_DIMS += (16384, 18944, 20480, 22016, 24576, 28672, 32768)


def fit_cases(seed: int = 1, scale: float = 1.0) -> list[Case]:
    """The fit set: random shapes over the regimes the model distinguishes, plus aligned
    LLM-like shapes (power-of-two or 128-multiple M on model-like K, N) and M sweeps.

    Shapes equal to a held-out or blind case, and GEMMs on a held-out or blind weight shape
    (K, N), are left out.  ``scale`` multiplies the number of random shapes.
    """
    rng = np.random.default_rng(seed)
    s = "fit"
    cs: list[Case] = []
    reserved = {(K, N) for _, K, N in (*LLM_LINEARS, *BLIND_LINEARS)}

    def n(k: int) -> int:
        return max(1, round(k * scale))

    def rand_m(lo: int = 1) -> int:
        # half the draws in the small-M regime (the GEMV / decode side), half over the whole range
        return round(_logu(rng, lo, 64 if rng.uniform() < 0.5 else 8192))

    def aligned_m(lo: int = 1) -> int:
        if rng.uniform() < 0.5:
            return int(rng.choice([m for m in POW2_M if m >= lo]))
        return max(lo, 128 * int(rng.integers(1, 65)))

    gemm_budget = {"bfloat16": (n(300), n(150), 4e12), "float16": (n(50), n(30), 2e12)}
    gemm_budget |= {"float32": (n(40), n(10), 0.3e12), "tf32": (n(25), n(10), 1e12), "int8": (n(50), n(40), 4e12)}
    for dtype, (n_random, n_aligned, max_flops) in gemm_budget.items():
        lo = 17 if dtype == "int8" else 1
        for aligned, count in ((False, n_random), (True, n_aligned)):
            made = 0
            while made < count:
                if aligned:
                    M, K, N = aligned_m(lo), int(rng.choice(FIT_DIMS)), int(rng.choice(FIT_DIMS))
                else:
                    M = rand_m(lo)
                    N = _round_to(_logu(rng, 256, 160000 if rng.uniform() < 0.08 else 32768), 128)
                    K = _round_to(_logu(rng, 256, 32768), 128)
                c = _gemm_case(s, dtype, M, N, K, "aligned" if aligned else "random")
                if (K, N) not in reserved and case_flops(c) <= max_flops and case_bytes(c) <= 4 * 2**30:
                    cs.append(c)
                    made += 1
    # wave-quantization probes: fixed M, K and N stepping through tile counts around the SM count
    for N in range(1024, 12288 + 1, 768):
        cs.append(_gemm_case(s, "bfloat16", 2048, N, 4096, "wave_probe"))
    # M sweeps on large weights: where reuse, waves and clocks change with the token count
    for K, N in ((10240, 10240), (6144, 24576), (24576, 6144)):
        for M in (256, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192):
            cs.append(_gemm_case(s, "bfloat16", M, N, K, "m_sweep"))
    made = 0
    while made < n(60):
        dtype = "bfloat16" if rng.uniform() < 0.8 else "float16"
        b = round(_logu(rng, 1, 512))
        c = _bmm_case(
            s,
            dtype,
            b,
            round(_logu(rng, 1, 4096)),
            _round_to(_logu(rng, 64, 8192), 64),
            _round_to(_logu(rng, 64, 8192), 64),
            "random",
        )
        if case_flops(c) <= 2e12 and case_bytes(c) <= 4 * 2**30:
            cs.append(c)
            made += 1

    def rand_heads() -> tuple[int, int, int]:
        hkv = int(rng.choice([1, 2, 4, 8, 12, 16, 20, 32, 40, 48]))
        g = int(rng.choice([1, 1, 2, 4, 8]))
        return hkv * g, hkv, int(rng.choice([64, 128, 128, 128, 256]))

    made = 0
    while made < n(40):
        H, Hkv, d = rand_heads()
        B, L = round(_logu(rng, 1, 64)), round(_logu(rng, 128, 32768))
        kind = "attention_qk" if made % 2 == 0 else "attention_av"
        c = _attn_case(s, kind, "bfloat16", B, H, Hkv, d, 1, L, "random_decode")
        if case_bytes(c) <= 4 * 2**30:
            cs.append(c)
            made += 1
    made = 0
    while made < n(110):
        H, Hkv, d = rand_heads()
        dtype = "bfloat16" if made % 9 else "float16"
        B, L = round(_logu(rng, 1, 128)), round(_logu(rng, 128, 65536))
        c = _attn_case(s, "attention_decode", dtype, B, H, Hkv, d, 1, L, "random")
        if case_bytes(c) <= 8 * 2**30:
            cs.append(c)
            made += 1
    made = 0
    while made < n(40):
        H, Hkv, d = rand_heads()
        B, L = round(_logu(rng, 1, 8)), round(_logu(rng, 128, 8192))
        c = _attn_case(s, "attention_prefill", "bfloat16", B, H, Hkv, d, L, L, "random")
        if case_flops(c) / 2 <= 2e12 and case_bytes(c) <= 4 * 2**30:
            cs.append(c)
            made += 1
    vec = (
        ("elementwise", "add", 20),
        ("norm", "layer_norm", 20),
        ("norm", "rms_norm", 10),
        ("softmax", "softmax", 20),
        ("embedding", "embedding", 10),
        ("copy", "copy", 15),
    )
    for kind, op, count in vec:
        for i in range(n(2 * count)):
            if i % 2:  # LLM-like: a few to many tokens (rows) of a model-like width
                N = int(rng.choice(FIT_DIMS)) if kind != "softmax" else round(_logu(rng, 128, 32768))
                M = int(rng.choice((*POW2_M, 16384, 32768)))
            else:
                N = _round_to(_logu(rng, 64, 32768), 64)
                M = max(1, round(_logu(rng, 1, 2**28) / N))
            K = _round_to(_logu(rng, 1000, 200000), 64) if kind == "embedding" else 0
            c = _vec_case(s, kind, "bfloat16", op, M, N, K, "random" if i % 2 == 0 else "llm_like")
            if case_bytes(c) <= 4 * 2**30:
                cs.append(c)
    excluded = {c.key for c in (*heldout_cases(), *blind_cases())}
    seen: set[tuple] = set()
    out = []
    for c in cs:
        if c.key in excluded or c.key in seen:
            continue
        seen.add(c.key)
        out.append(c)
    return out


# --------------------------------------------------------------------------- timing


class NoCudaError(SpecError):
    """Calibration was asked for a CUDA device that is not there."""


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        raise NoCudaError("calibrate: torch is not installed") from None
    return torch


def require_cuda() -> Any:
    """Return torch if a CUDA device is present, else raise `NoCudaError` (CLI exit 2)."""
    torch = _torch()
    if not torch.cuda.is_available():
        raise NoCudaError(
            "calibrate --device cuda: no CUDA device is visible to torch "
            f"(torch {torch.__version__}, cuda build {torch.version.cuda}); run it on a machine with an NVIDIA GPU, "
            "or refit from saved data with --from-csv"
        )
    return torch


_TORCH_DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32", "tf32": "float32", "int8": "int8"}


def _make(torch: Any, c: Case, device: str, n_sets: int) -> tuple[list[Callable[[], Any]], str, list[Any]]:
    """Build `n_sets` closures over independent random inputs; returns (calls, backend, keep-alive)."""
    import torch.nn.functional as F

    dt = getattr(torch, _TORCH_DTYPES[c.dtype])
    gen = torch.Generator(device=device)
    gen.manual_seed(zlib.crc32(repr(c.key).encode()))

    def rnd(*shape: int) -> Any:
        if c.dtype == "int8":
            return torch.randint(-64, 64, shape, dtype=torch.int8, device=device, generator=gen)
        return torch.randn(*shape, dtype=dt, device=device, generator=gen)

    calls: list[Callable[[], Any]] = []
    keep: list[Any] = []
    backend = "aten"
    if c.op in ("mm", "int_mm"):
        backend = "cublas"
        for _ in range(n_sets):
            x, w = rnd(c.M, c.K), rnd(c.N, c.K)  # nn.Linear layout: y = x @ W^T, W is (out, in)
            if c.op == "int_mm":
                o = torch.empty(c.M, c.N, dtype=torch.int32, device=device)
                try:
                    torch._int_mm(x, w.t(), out=o)
                    calls.append(lambda x=x, w=w, o=o: torch._int_mm(x, w.t(), out=o))
                except (TypeError, RuntimeError):  # no out= overload: let it allocate
                    calls.append(lambda x=x, w=w: torch._int_mm(x, w.t()))
            else:
                o = torch.empty(c.M, c.N, dtype=dt, device=device)
                calls.append(lambda x=x, w=w, o=o: torch.mm(x, w.t(), out=o))
            keep += [x, w, o]
    elif c.op == "bmm":
        backend = "cublas"
        for _ in range(n_sets):
            if c.kind == "attention_qk":  # scores = Q K^T with K stored (b, L, d), as a KV cache is
                a, kmat = rnd(c.batch, c.M, c.K), rnd(c.batch, c.N, c.K)
                b = kmat.transpose(1, 2)
            else:  # attention_av (P V, V stored (b, L, d)) and plain batched GEMMs
                a, b = rnd(c.batch, c.M, c.K), rnd(c.batch, c.K, c.N)
            o = torch.empty(c.batch, c.M, c.N, dtype=dt, device=device)
            calls.append(lambda a=a, b=b, o=o: torch.bmm(a, b, out=o))
            keep += [a, b, o]
    elif c.op == "sdpa":
        from torch.nn.attention import SDPBackend, sdpa_kernel

        causal = c.kind == "attention_prefill"
        gqa = c.heads != c.kv_heads
        sets = []
        for _ in range(n_sets):
            q = rnd(c.batch, c.heads, c.q_len, c.head_dim)
            k, v = rnd(c.batch, c.kv_heads, c.kv_len, c.head_dim), rnd(c.batch, c.kv_heads, c.kv_len, c.head_dim)
            sets.append((q, k, v))
            keep += [q, k, v]
        chosen = None
        for name, be in (("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION)):
            try:
                with sdpa_kernel(be):
                    q, k, v = sets[0]
                    F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)
                chosen = (name, be)
                break
            except RuntimeError:
                continue
        if chosen is None:
            raise RuntimeError("neither the flash nor the memory-efficient SDPA backend runs this shape")
        backend = chosen[0]

        def attn(q: Any, k: Any, v: Any, be: Any = chosen[1]) -> Any:
            with sdpa_kernel(be):
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)

        calls = [lambda s=s: attn(*s) for s in sets]
    elif c.op == "add":
        for _ in range(n_sets):
            a, b, o = rnd(c.M, c.N), rnd(c.M, c.N), torch.empty(c.M, c.N, dtype=dt, device=device)
            calls.append(lambda a=a, b=b, o=o: torch.add(a, b, out=o))
            keep += [a, b, o]
    elif c.op in ("layer_norm", "rms_norm"):
        w, bias = rnd(c.N), rnd(c.N)
        for _ in range(n_sets):
            x = rnd(c.M, c.N)
            if c.op == "layer_norm":
                calls.append(lambda x=x: F.layer_norm(x, (c.N,), w, bias))
            else:
                calls.append(lambda x=x: F.rms_norm(x, (c.N,), w))
            keep.append(x)
        keep += [w, bias]
    elif c.op == "softmax":
        for _ in range(n_sets):
            x = rnd(c.M, c.N)
            calls.append(lambda x=x: torch.softmax(x, -1))
            keep.append(x)
    elif c.op == "embedding":
        table = rnd(c.K, c.N)
        for _ in range(n_sets):
            idx = torch.randint(0, c.K, (c.M,), device=device, generator=gen)
            calls.append(lambda idx=idx: F.embedding(idx, table))
            keep.append(idx)
        keep.append(table)
    elif c.op == "copy":
        for _ in range(n_sets):
            src, dst = rnd(c.M, c.N), torch.empty(c.M, c.N, dtype=dt, device=device)
            calls.append(lambda src=src, dst=dst: dst.copy_(src))
            keep += [src, dst]
    else:
        raise ValueError(f"unknown case op {c.op!r}")
    return calls, backend, keep


def _input_bytes(c: Case) -> int:
    """Bytes of one rotating input set (what must be evicted from L2 between uses)."""
    e = _dtype_bytes(c.dtype)
    if c.kind in ("gemm", "gemv", "attention_qk", "attention_av"):
        return c.batch * (c.M * c.K + c.K * c.N) * e
    if c.kind in ("attention_decode", "attention_prefill"):
        return 2 * c.batch * c.kv_heads * c.kv_len * c.head_dim * e
    if c.kind == "embedding":
        return c.M * c.N * e
    return c.M * c.N * e * (2 if c.op == "add" else 1)


class _Timer:
    """Device timing: CUDA events on cuda, the host clock elsewhere (used only by tests)."""

    def __init__(self, torch: Any, device: str) -> None:
        self.torch, self.cuda = torch, device.startswith("cuda")

    def time(self, fn: Callable[[], Any], reps: int) -> list[float]:
        """Seconds of each of `reps` runs of `fn`."""
        if not self.cuda:
            out = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
            return out
        new = self.torch.cuda.Event
        ev = [(new(enable_timing=True), new(enable_timing=True)) for _ in range(reps)]
        for a, b in ev:
            a.record()
            fn()
            b.record()
        self.torch.cuda.synchronize()
        return [a.elapsed_time(b) * 1e-3 for a, b in ev]


def measure_case(
    torch: Any,
    c: Case,
    device: str,
    *,
    l2_bytes: int,
    target_rep_s: float = 2e-3,
    reps: int = 7,
    max_calls: int = 512,
    use_graph: bool = True,
) -> Measurement:
    """Time one case (see the module docstring for the method)."""
    n_sets = max(1, min(64, math.ceil(4 * l2_bytes / max(1, _input_bytes(c)))))
    calls, backend, keep = _make(torch, c, device, n_sets)
    timer = _Timer(torch, device)
    if c.dtype == "tf32":
        torch.backends.cuda.matmul.allow_tf32 = True
    try:
        for f in calls:  # first use: cuBLAS heuristics, kernel loads, workspace
            f()
        one = statistics.median(timer.time(lambda: [f() for f in calls], 3)) / len(calls)
        R = max(1, min(max_calls, math.ceil(target_rep_s / max(one, 1e-7))))
        R = max(n_sets, math.ceil(R / n_sets) * n_sets)  # every input set used equally often

        def loop() -> None:
            for i in range(R):
                calls[i % n_sets]()

        method, run = "eager", loop
        if use_graph and device.startswith("cuda"):
            try:
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    loop()
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    loop()
                method, run = "graph", graph.replay
                keep.append(graph)
            except Exception as e:  # capture unsupported for this op: time the eager loop
                print(f"  graph capture failed ({type(e).__name__}: {e}); timing eagerly", file=sys.stderr)
                torch.cuda.synchronize()
        timer.time(run, 1)  # warm-up replay
        ts = [t / R for t in timer.time(run, reps)]
    finally:
        if c.dtype == "tf32":
            torch.backends.cuda.matmul.allow_tf32 = False
    del keep
    return Measurement(c, statistics.median(ts), min(ts), max(ts), reps, R, n_sets, method, backend)


def device_meta(torch: Any, device: str) -> dict[str, Any]:
    """What was measured on: device name, SM count, L2, software versions, date."""
    meta: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
    }
    if device.startswith("cuda"):
        p = torch.cuda.get_device_properties(0)
        meta |= {
            "device": p.name,
            "sm_count": p.multi_processor_count,
            "l2_bytes": getattr(p, "L2_cache_size", 0),
            "memory_bytes": p.total_memory,
            "cuda": torch.version.cuda,
            "blas": str(getattr(torch.backends.cuda, "preferred_blas_library", lambda: "")()),
        }
    else:
        meta |= {"device": "cpu (test run, not a calibration)", "sm_count": 0, "l2_bytes": 0}
    meta["method"] = (
        "random inputs; input sets rotated past 4x L2; R calls per CUDA graph replay; median of replays / R"
    )
    return meta


def warm_up(torch: Any, device: str, seconds: float = 2.0) -> str:
    """Run large bf16 GEMMs for a while (clocks up, libraries loaded); returns a one-line reading."""
    if not device.startswith("cuda"):
        return "skipped (not cuda)"
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device=device)
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device=device)
    t_end = time.perf_counter() + seconds
    timer = _Timer(torch, device)
    ts: list[float] = []
    while time.perf_counter() < t_end:
        ts += timer.time(lambda: torch.mm(a, b), 5)
    tflops = 2 * 8192**3 / statistics.median(ts) / 1e12
    x = torch.randn(2**30, dtype=torch.bfloat16, device=device)  # 2 GiB
    y = torch.empty_like(x)
    tc = statistics.median(timer.time(lambda: y.copy_(x), 10))
    return f"bf16 8192^3 mm {tflops:.0f} TFLOP/s; 2 GiB copy {2 * 2**31 / tc / 1e12:.2f} TB/s (read+write)"


def run_cases(
    cases: Sequence[Case],
    out_path: str | Path,
    *,
    device: str = "cuda",
    budget_s: float = float("inf"),
    meta_extra: dict[str, Any] | None = None,
    **kw: Any,
) -> list[Measurement]:
    """Measure `cases` in order, appending each row to `out_path` as it is done.

    Stops starting new cases once `budget_s` seconds have passed (the CSV then notes how many
    were skipped).  A case that fails (an unsupported shape, out of memory) is reported on
    stderr and skipped.
    """
    torch = require_cuda() if device.startswith("cuda") else _torch()
    meta = device_meta(torch, device) | dict(meta_extra or {})
    l2 = int(meta.get("l2_bytes") or 50 * 2**20)
    app = CsvAppender(out_path, meta)
    done: list[Measurement] = []
    t0 = time.perf_counter()
    failed = 0
    try:
        for i, c in enumerate(cases):
            if time.perf_counter() - t0 > budget_s:
                app.note("stopped_early", f"budget of {budget_s:.0f} s spent; {len(cases) - i} cases not measured")
                print(f"budget spent: {len(cases) - i} cases not measured", file=sys.stderr)
                break
            try:
                m = measure_case(torch, c, device, l2_bytes=l2, **kw)
            except Exception as e:
                failed += 1
                print(f"[{i + 1}/{len(cases)}] FAILED {c}: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                    torch.cuda.empty_cache()
                continue
            app.add(m)
            done.append(m)
            if device.startswith("cuda") and torch.cuda.memory_reserved() > 32 * 2**30:
                torch.cuda.empty_cache()
            stamp = time.strftime("%H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"
            print(
                f"[{i + 1}/{len(cases)}] {stamp} {c.set} {c.kind} {c.dtype} M={c.M} N={c.N} K={c.K} b={c.batch} "
                f"H={c.heads}/{c.kv_heads} d={c.head_dim} L={c.kv_len}: {m.median_s * 1e6:.2f} us ({m.method})",
                file=sys.stderr,
            )
        app.note("measured", f"{len(done)} rows, {failed} failed, {time.perf_counter() - t0:.0f} s")
    finally:
        app.close()
    return done


def run_probes(
    out_path: str | Path, *, device: str = "cuda", targets_s: Sequence[float] = (2e-3, 2e-2, 1e-1)
) -> list[Measurement]:
    """Time `probe_cases` with replays of each length in `targets_s` (set = ``probe_<ms>ms``).

    A kernel whose time per call grows with the replay length is slowed by sustained load
    (clocks, power); the calibration replays are ~2 ms long.
    """
    torch = require_cuda() if device.startswith("cuda") else _torch()
    meta = device_meta(torch, device)
    l2 = int(meta.get("l2_bytes") or 50 * 2**20)
    app = CsvAppender(out_path, meta | {"probe_targets_s": ",".join(f"{t:g}" for t in targets_s)})
    done = []
    try:
        for c in probe_cases():
            for t in targets_s:
                m = measure_case(torch, replace(c, set=f"probe_{t * 1e3:g}ms"), device, l2_bytes=l2, target_rep_s=t)
                app.add(m)
                done.append(m)
                print(
                    f"probe {c.label} M={c.M} N={c.N} K={c.K} target {t * 1e3:g} ms: {m.median_s * 1e6:.2f} us",
                    file=sys.stderr,
                )
    finally:
        app.close()
    return done


__all__ = [
    "BLIND_ATTENTION",
    "BLIND_LINEARS",
    "CASE_KINDS",
    "CSV_COLUMNS",
    "DTYPES",
    "LLM_ATTENTION",
    "LLM_LINEARS",
    "Case",
    "CsvAppender",
    "Measurement",
    "NoCudaError",
    "blind_cases",
    "case_bytes",
    "case_flops",
    "device_meta",
    "fit_cases",
    "heldout_cases",
    "measure_case",
    "probe_cases",
    "read_csv",
    "require_cuda",
    "run_cases",
    "run_probes",
    "warm_up",
    "write_csv",
]
