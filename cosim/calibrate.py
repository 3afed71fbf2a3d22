"""Calibration of the GPU model: measurements -> fitted efficiency block -> spec YAML.

The fit minimises the log-ratio of predicted to measured time over the rows of the fit CSV
(`scipy.optimize.least_squares`, soft-L1 loss so a few odd kernels do not drag the rest), over
the parameters of `cosim.hw.gpu.Efficiency` that the data constrain (e.g. int8 compute
efficiency only when int8 rows exist).  Parameters live in log space inside their bounds.

The spec YAML keeps its hand-written, sourced datasheet part; `cosim calibrate` rewrites only
the block between the `BEGIN`/`END` marker comments (the ``efficiency:`` mapping), so a
calibrated file still says where each datasheet number comes from.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from cosim.errors import SpecError
from cosim.gpubench import Case, Measurement
from cosim.graph import Op, OpKind, attention_op, gemm_op, vector_op
from cosim.hw import gpu
from cosim.spec import load_mapping, parse

BEGIN = "# BEGIN calibrated efficiency (written by `cosim calibrate`; rerun it to change this block)"
END = "# END calibrated efficiency"

_BITS = {"bfloat16": 16, "float16": 16, "float32": 32, "tf32": 32, "int8": 8}


# --------------------------------------------------------------------------- rows -> ops


def case_op(c: Case, name: str = "") -> Op:
    """The graph op a measured case stands for (graph conventions of `cosim.graph`)."""
    bits = _BITS[c.dtype]
    nm = name or f"{c.set}.{c.kind}.{c.op}"
    if c.kind in ("gemm", "gemv"):
        return gemm_op(nm, c.M, c.N, c.K, c.batch, weight_bits=bits, act_bits=bits, dtype=c.dtype)
    if c.kind.startswith("attention_"):
        return attention_op(
            nm,
            OpKind(c.kind),
            batch=c.batch if c.kind in ("attention_decode", "attention_prefill") else c.batch // c.kv_heads,
            heads=c.heads,
            kv_heads=c.kv_heads,
            head_dim=c.head_dim,
            q_len=c.q_len,
            kv_len=c.kv_len,
            act_bits=bits,
            dtype=c.dtype,
        )
    e = bits // 8
    n = c.M * c.N
    kind = OpKind(c.kind)
    if c.op == "add":
        rd, wr = 2 * n * e, n * e
    elif c.op in ("layer_norm", "rms_norm"):
        rd, wr = n * e + 2 * c.N * e, n * e
    elif c.op == "embedding":
        rd, wr = n * e + c.M * 8, n * e  # gathered rows + int64 indices
    else:
        rd, wr = n * e, n * e
    rows, row_len = (c.M, c.N) if c.op in ROW_OPS else (0, 0)
    return vector_op(
        nm, kind, elements=n, bytes_read=rd, bytes_written=wr, act_bits=bits, dtype=c.dtype, M=rows, N=row_len
    )


def predict_rows(spec: gpu.Spec, rows: Sequence[Measurement]) -> np.ndarray:
    """Model seconds for each measured row."""
    ops = [case_op(m.case, f"r{i}") for i, m in enumerate(rows)]
    return np.array([p.seconds for p in gpu.predict(spec, ops)])


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """One fitted quantity: a field of `Efficiency` (``key`` set for the per-dtype/per-kind dicts)."""

    field: str
    key: str = ""
    lo: float = 0.0
    hi: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.field}.{self.key}" if self.key else self.field

    @property
    def keys(self) -> tuple[str, ...]:
        """Dict keys this parameter sets ("bfloat16+float16" ties the two 16-bit floats)."""
        return tuple(self.key.split("+")) if self.key else ()

    def get(self, e: gpu.Efficiency) -> float:
        v = getattr(e, self.field)
        return v.get(self.keys[0], 1.0) if self.key else v


GEMM_CASE_KINDS = ("gemm", "gemv", "attention_qk", "attention_av")
ROW_OPS = ("layer_norm", "rms_norm", "softmax", "embedding")  # torch ops whose rows x row length the model uses


def _params_for(rows: Sequence[Measurement]) -> list[Param]:
    """Every parameter the rows constrain, with physical bounds (see `STAGES` for the order)."""
    return [p for _, _, params in _stages(rows) for p in params]


def _dtype_groups(dtypes: set[str]) -> list[str]:
    """Parameter keys per dtype; bfloat16 and float16 share one (same tensor-core path and peak)."""
    out = sorted(dtypes - {"bfloat16", "float16"})
    half = sorted(dtypes & {"bfloat16", "float16"})
    return (["+".join(half)] if half else []) + out


def _stages(rows: Sequence[Measurement]) -> list[tuple[str, list[Measurement], list[Param]]]:
    """The fit in stages: (name, rows, parameters), each family fitted on its own rows.

    The families share only ``launch_s``, which the memory-bound stage fixes as the whole fixed
    cost of a copy kernel (copy has no latency of its own), so the stages are independent and
    later ones take the launch gap as given.
    """
    out: list[tuple[str, list[Measurement], list[Param]]] = []
    vec_rows = [m for m in rows if m.case.kind in gpu.VECTOR_KINDS]
    if vec_rows:
        ps = [Param("launch_s", lo=1e-8, hi=2e-5)] if any(m.case.kind == "copy" for m in vec_rows) else []
        for k in sorted({m.case.kind for m in vec_rows}):
            ps.append(Param("vector", k, 0.05, 1.2))
            if k != "copy":
                ps.append(Param("vector_latency_s", k, 1e-9, 3e-5))
            if any(m.case.kind == k and m.case.op in ROW_OPS for m in vec_rows):
                ps += [Param("row_bytes_per_s", k, 1e7, 1e12), Param("row_latency_s", k, 1e-9, 1e-4)]
        out.append(("memory-bound", vec_rows, ps))
    gemm_rows = [m for m in rows if m.case.kind in GEMM_CASE_KINDS]
    if gemm_rows:
        # compute efficiency is bounded by the max boost clock over the clock the datasheet peaks
        # assume (H100: 1980 / 1830 MHz = 1.08)
        groups = _dtype_groups({m.case.dtype for m in gemm_rows})
        ps = [Param("compute", g, 0.05, 1.08) for g in groups]
        ps += [
            Param("tile_overhead", lo=0.1, hi=1000.0),
            Param("tile_latency_s", lo=1e-9, hi=2e-5),
            Param("epilogue_bytes_per_s", lo=1e9, hi=1e13),
            Param("wave_quant", lo=1e-3, hi=1.0),
            Param("dram", lo=0.3, hi=1.2),
            Param("sm_bytes_per_s", lo=5e9, hi=2e12),
            Param("overlap", lo=1.0, hi=30.0),
            Param("gemm_latency_s", lo=1e-9, hi=2e-5),
            Param("unaligned", lo=0.01, hi=1.0),
        ]
        ps += [Param("energy_per_flop_j", g, 1e-14, 2e-11) for g in groups]
        out.append(("gemm", gemm_rows, ps))
    dec_rows = [m for m in rows if m.case.kind == "attention_decode"]
    if dec_rows:
        ps = [
            Param("attn_dram", lo=0.2, hi=1.2),
            Param("attn_dram_waves", lo=0.2, hi=1.2),
            Param("attn_cta_bytes_per_s", lo=1e9, hi=2e12),
            Param("attn_latency_s", lo=1e-9, hi=3e-5),
        ]
        out.append(("decode attention", dec_rows, ps))
    pre_rows = [m for m in rows if m.case.kind == "attention_prefill"]
    if pre_rows:
        ps = [
            Param("prefill", lo=0.05, hi=1.2),
            Param("prefill_softmax_dim", lo=0.1, hi=1000.0),
            Param("prefill_chain", lo=0.01, hi=2.0),
            Param("prefill_cta_s", lo=1e-9, hi=1e-4),
            Param("prefill_latency_s", lo=1e-9, hi=1e-4),
        ]
        out.append(("prefill attention", pre_rows, ps))
    return out


def with_params(e: gpu.Efficiency, params: Sequence[Param], values: Sequence[float]) -> gpu.Efficiency:
    """`e` with `params` set to `values`."""
    flat: dict[str, Any] = {}
    dicts: dict[str, dict[str, float]] = {}
    for p, v in zip(params, values):
        if p.key:
            d = dicts.setdefault(p.field, dict(getattr(e, p.field)))
            for k in p.keys:
                d[k] = float(v)
        else:
            flat[p.field] = float(v)
    return replace(e, **flat, **dicts)


@dataclass(frozen=True)
class FitResult:
    spec: gpu.Spec
    params: tuple[Param, ...]
    values: tuple[float, ...]
    rows: int
    median_abs_err_pct: float
    p90_abs_err_pct: float
    success: bool
    message: str
    unconstrained: tuple[str, ...] = ()  # parameters the rows barely move (kept near their start)


def abs_err_pct(pred: np.ndarray, meas: np.ndarray) -> np.ndarray:
    """|predicted - measured| / measured, in percent."""
    return 100.0 * np.abs(pred - meas) / meas


def fit_params(
    spec: gpu.Spec,
    rows: Sequence[Measurement],
    params: Sequence[Param],
    *,
    starts: int = 3,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Least-squares fit of `params` (others fixed) to `rows`; log-ratio residuals, soft-L1 loss.

    Runs from the spec's own values and from `starts - 1` random points inside the bounds,
    keeping the best (the tile/split choice makes the objective piecewise smooth).

    Raises:
        SpecError: no rows.
    """
    from scipy.optimize import least_squares

    if not rows:
        raise SpecError("calibrate: no measurements to fit")
    ps = list(params)
    ops = [case_op(m.case, f"r{i}") for i, m in enumerate(rows)]
    meas = np.array([m.median_s for m in rows])

    def model(x: np.ndarray) -> np.ndarray:
        s = replace(spec, efficiency=with_params(spec.efficiency, ps, np.exp(x)))
        return np.array([p.seconds for p in gpu.predict(s, ops)])

    if not ps:
        err = abs_err_pct(model(np.zeros(0)), meas)
        return FitResult(spec, (), (), len(rows), float(np.median(err)), float(np.percentile(err, 90)), True, "")
    lo = np.log([p.lo for p in ps])
    hi = np.log([p.hi for p in ps])

    def resid(x: np.ndarray) -> np.ndarray:
        return np.log(model(x) / meas)

    x0 = np.clip(np.log([max(p.get(spec.efficiency), 1e-30) for p in ps]), lo + 1e-9, hi - 1e-9)
    rng = np.random.default_rng(seed)
    best = None
    for i in range(max(1, starts)):
        xs = x0 if i == 0 else rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo))
        r = least_squares(resid, xs, bounds=(lo, hi), loss="soft_l1", f_scale=0.1, max_nfev=300)
        if progress:
            progress(f"  start {i + 1}/{starts}: cost {r.cost:.4g} ({r.nfev} evaluations)")
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None
    vals = np.exp(best.x)
    out = replace(spec, efficiency=with_params(spec.efficiency, ps, vals))
    err = abs_err_pct(model(best.x), meas)
    # a parameter is unconstrained when doubling it would move no residual by 0.1%
    sens = np.abs(np.asarray(best.jac)).max(axis=0) * np.log(2.0)
    return FitResult(
        out,
        tuple(ps),
        tuple(float(v) for v in vals),
        len(rows),
        float(np.median(err)),
        float(np.percentile(err, 90)),
        bool(best.success),
        str(best.message),
        tuple(p.name for p, s_ in zip(ps, sens) if s_ < 1e-3),
    )


def fit(
    spec: gpu.Spec,
    rows: Sequence[Measurement],
    *,
    starts: int = 3,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Fit `spec.efficiency` to measured rows, family by family (see `_stages`).

    Returns the calibrated spec, every fitted parameter and the error over all rows.

    Raises:
        SpecError: no rows.
    """
    if not rows:
        raise SpecError("calibrate: no measurements to fit")
    ps: list[Param] = []
    vals: list[float] = []
    loose: list[str] = []
    ok, msgs = True, []
    for name, stage_rows, params in _stages(rows):
        if progress:
            progress(f"stage {name}: {len(stage_rows)} rows, {len(params)} parameters")
        r = fit_params(spec, stage_rows, params, starts=starts, seed=seed, progress=progress)
        spec = r.spec
        ps += r.params
        vals += r.values
        loose += r.unconstrained
        ok &= r.success
        msgs.append(f"{name}: {r.message}")
        if progress:
            progress(f"  median |err| {r.median_abs_err_pct:.1f}%, p90 {r.p90_abs_err_pct:.1f}%")
    err = abs_err_pct(predict_rows(spec, rows), np.array([m.median_s for m in rows]))
    return FitResult(
        spec,
        tuple(ps),
        tuple(vals),
        len(rows),
        float(np.median(err)),
        float(np.percentile(err, 90)),
        ok,
        "; ".join(msgs),
        tuple(loose),
    )


# --------------------------------------------------------------------------- spec files


def load_spec(path: str | Path) -> tuple[gpu.Spec, str]:
    """A GPU spec YAML -> (Spec, file text).  The file's ``model:`` must be ``gpu``."""
    p = Path(path)
    data = load_mapping(p)
    if data.get("model") != "gpu":
        raise SpecError(f"{p}: model: expected 'gpu' for a GPU calibration base, got {data.get('model')!r}")
    body = {k: v for k, v in data.items() if k != "model"}
    return parse(gpu.Spec, body, str(p)), p.read_text()


def _fmt(v: float) -> str:
    return f"{v:.6g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.6e}"


def efficiency_block(e: gpu.Efficiency, comment: Sequence[str] = ()) -> str:
    """The YAML text between the markers: the ``efficiency:`` mapping, comment lines first."""
    lines = [BEGIN, *(f"# {c}" for c in comment), "efficiency:"]
    for f in fields(e):
        v = getattr(e, f.name)
        if isinstance(v, dict):
            inner = ", ".join(f"{k}: {_fmt(x)}" for k, x in sorted(v.items()))
            lines.append(f"  {f.name}: {{{inner}}}")
        else:
            lines.append(f"  {f.name}: {_fmt(v)}")
    lines.append(END)
    return "\n".join(lines) + "\n"


def render_spec(base_text: str, e: gpu.Efficiency, comment: Sequence[str] = ()) -> str:
    """`base_text` with its calibrated block replaced (or appended when it has none)."""
    block = efficiency_block(e, comment)
    pat = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)
    if pat.search(base_text):
        return pat.sub(lambda _: block, base_text, count=1)
    if re.search(r"^efficiency:", base_text, re.M):
        raise SpecError("calibrate: the base spec has an 'efficiency:' key outside the calibrated-block markers")
    return base_text.rstrip("\n") + "\n\n" + block


def default_name(device_name: str) -> str:
    """``'NVIDIA H100 80GB HBM3'`` -> ``'h100'`` (the first token with a digit, lowercased)."""
    for tok in re.split(r"[\s_-]+", device_name):
        if any(ch.isdigit() for ch in tok) and tok.upper() not in ("80GB", "40GB", "HBM3", "HBM2E"):
            return re.sub(r"[^a-z0-9]", "", tok.lower())
    return "gpu"


def calib_paths(spec_out: Path) -> tuple[Path, Path]:
    """CSV paths next to a spec: ``<stem>_calib.csv`` (fit set) and ``<stem>_heldout.csv``."""
    return spec_out.with_name(spec_out.stem + "_calib.csv"), spec_out.with_name(spec_out.stem + "_heldout.csv")


def write_calibrated(base_path: Path, out_path: Path, result: FitResult, csv_path: Path, meta: dict[str, str]) -> None:
    _, text = load_spec(base_path)
    comment = [
        f"fitted on {result.rows} rows of {csv_path.name} ({meta.get('device', '?')}, torch {meta.get('torch', '?')}, "
        f"{meta.get('created', '?')})",
        f"fit-set error: median {result.median_abs_err_pct:.1f}%, p90 {result.p90_abs_err_pct:.1f}% "
        "(held-out error: benchmarks/gpu_accuracy.py)",
        f"redo without a GPU: cosim calibrate --from-csv {csv_path.name} --base <this file> -o <this file>",
    ]
    if result.unconstrained:
        comment.append(
            "not constrained at the fitted point (changing them moves no prediction): "
            + ", ".join(result.unconstrained)
        )
    new = render_spec(text, result.spec.efficiency, comment)
    out_path.write_text(new)
    parse(gpu.Spec, {k: v for k, v in load_mapping(out_path).items() if k != "model"}, str(out_path))


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _pick_base(base: Path | None, output: Path | None, name: str) -> Path:
    """The spec to start from: --base, else the output file if it exists, else models/gpu_<name>.yaml."""
    for cand in (base, output, Path("models") / f"gpu_{name}.yaml"):
        if cand is not None and cand.is_file():
            return cand
        if cand is not None and cand is base:
            raise SpecError(f"--base: {base}: no such file")
    raise SpecError(
        f"calibrate: no base spec for device {name!r}: pass --base models/gpu_h100.yaml (or another 'gpu' spec) "
        "to start from its datasheet numbers"
    )


def run(
    *,
    device: str = "cuda",
    output: Path | None = None,
    base: Path | None = None,
    from_csv: Path | None = None,
    heldout: bool = False,
    budget_s: float = 480.0,
    grid_scale: float = 1.0,
    starts: int = 2,
) -> tuple[FitResult, Path]:
    """`cosim calibrate`: measure (or read) the fit set, fit, write the calibrated spec.

    With `from_csv`, no GPU is touched: the rows are read and refitted.  Otherwise the fit set
    (and with `heldout` the held-out set, first) is measured on `device` and saved as CSV next
    to the output spec before fitting.  Returns (fit result, path written).

    Raises:
        SpecError: bad options, no base spec, or no CUDA device (`gpubench.NoCudaError`).
    """
    from cosim import gpubench

    if from_csv is not None:
        rows, meta = gpubench.read_csv(from_csv)
        rows = [m for m in rows if m.case.set == "fit"]
        if not rows:
            raise SpecError(f"{from_csv}: no rows of the fit set (column set = 'fit')")
        name = default_name(meta.get("device", ""))
        src = Path(from_csv)
        base_p = _pick_base(base, output, name)
        out = output or base_p
    else:
        if not re.fullmatch(r"cuda(:\d+)?", device):
            raise SpecError(f"--device: {device!r} is not supported (allowed: cuda, cuda:N)")
        torch = gpubench.require_cuda()
        if ":" in device:
            torch.cuda.set_device(int(device.split(":")[1]))
        name = default_name(torch.cuda.get_device_name())
        base_p = _pick_base(base, output, name)
        out = output or base_p
        load_spec(base_p)  # fail on a bad base before spending GPU time
        src, held_p = calib_paths(out)
        _log(f"warm-up: {gpubench.warm_up(torch, device)}")
        t0 = time.perf_counter()
        if heldout:
            cases = gpubench.heldout_cases() + gpubench.blind_cases()
            _log(f"measuring {len(cases)} held-out and blind cases -> {held_p}")
            gpubench.run_cases(cases, held_p, device=device, budget_s=budget_s / 2)
        cases = gpubench.fit_cases(scale=grid_scale)
        _log(f"measuring {len(cases)} fit cases -> {src}")
        gpubench.run_cases(cases, src, device=device, budget_s=budget_s - (time.perf_counter() - t0))
        rows, meta = gpubench.read_csv(src)
    spec, _ = load_spec(base_p)
    # start from the model's defaults, not the base's current block: the result is then a function of
    # the CSV and the datasheet part only, so refitting a calibrated file reproduces it
    spec = replace(spec, efficiency=gpu.Efficiency())
    _log(f"fitting {len(rows)} rows from {src} (base {base_p})")
    res = fit(spec, rows, starts=starts, progress=_log)
    write_calibrated(base_p, out, res, src, meta)
    _log(
        f"wrote {out}: fit-set median |err| {res.median_abs_err_pct:.1f}%, p90 {res.p90_abs_err_pct:.1f}% "
        f"over {res.rows} rows"
    )
    return res, out


__all__ = [
    "BEGIN",
    "END",
    "FitResult",
    "Param",
    "abs_err_pct",
    "calib_paths",
    "case_op",
    "default_name",
    "efficiency_block",
    "fit",
    "fit_params",
    "load_spec",
    "predict_rows",
    "render_spec",
    "run",
    "with_params",
    "write_calibrated",
]
