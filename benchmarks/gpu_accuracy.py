"""Accuracy of the calibrated GPU model on shapes it was never fitted on (no GPU needed).

Reads the calibrated spec and the held-out measurements committed next to it, predicts every
row with `cosim.hw.gpu`, and prints the error per (set, kind, dtype) and overall.  The held-out
CSV holds two sets, both measured in the calibration run and never fitted:

* ``heldout``: GEMMs on Llama-2-7B / Llama-3-8B / 70B weight shapes with M = 1 .. 8192, decode
  attention of those models at batch 1-64 and KV length 512-32768, and a few prefill,
  unfused-attention and memory-bound ops;
* ``blind``: the same kinds on Llama-2-13B, Qwen2-7B, Gemma-7B and GPT-3 175B shapes.

The summary's ``median_abs_err_pct`` / ``p90_abs_err_pct`` are over both sets together (the
issue's target: <= 10% and <= 25%).  For context it also reports the run-to-run noise of the
measurements (the held-out sets timed twice in one session) when that file is present, and
LLMCompass's published 10.4% average operator-latency error on A100 (a different GPU, operator
set and protocol, so a reference point rather than a like-for-like comparison).

    python benchmarks/gpu_accuracy.py [--arch models/gpu_h100.yaml] [--csv ...] [--rows] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosim import calibrate, gpubench  # noqa: E402
from cosim.errors import CosimError  # noqa: E402

# LLMCompass (Zhang, Ning, Prabhakar, Wentzlaff, ISCA 2024, "LLMCompass: Enabling Efficient Hardware
# Design for Large Language Model Inference", doi 10.1109/ISCA59077.2024.00082): average operator
# latency error against NVIDIA A100 "across various operators with various input sizes".  The issue
# quotes 10.4%; the abstract text we could read says 10.9% (and 4.1% for end-to-end inference).
# We compare against the smaller figure.
LLMCOMPASS_MEAN_ABS_ERR_PCT = 10.4
TARGET_MEDIAN_PCT, TARGET_P90_PCT = 10.0, 25.0
_KEYS = ("median_abs_err_pct", "p90_abs_err_pct")


def _stats(err: np.ndarray) -> dict[str, float]:
    a = np.abs(err)
    return {
        "n": len(a),
        "median_abs_err_pct": float(np.median(a)),
        "p90_abs_err_pct": float(np.percentile(a, 90)),
        "mean_abs_err_pct": float(np.mean(a)),
        "max_abs_err_pct": float(np.max(a)),
        "median_signed_err_pct": float(np.median(err)),
    }


def _noise(path: Path, heldout: list[gpubench.Measurement]) -> dict[str, float] | None:
    """Run-to-run spread: the same held-out shapes timed twice in one session."""
    if not path.is_file():
        return None
    again = {(m.case.set, *m.case.key): m.median_s for m in gpubench.read_csv(path)[0]}
    d = [
        100.0 * (again[(m.case.set, *m.case.key)] / m.median_s - 1.0)
        for m in heldout
        if (m.case.set, *m.case.key) in again
    ]
    if not d:
        return None
    a = np.abs(np.array(d))
    return {"n": len(d), "median_abs_diff_pct": float(np.median(a)), "p90_abs_diff_pct": float(np.percentile(a, 90))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", type=Path, default=ROOT / "models" / "gpu_h100.yaml", help="calibrated GPU spec")
    ap.add_argument("--csv", type=Path, default=None, help="held-out CSV (default: <arch stem>_heldout.csv)")
    ap.add_argument("--fit-csv", type=Path, default=None, help="fit CSV, to check it shares no shape with the held-out")
    ap.add_argument("--repeat", type=Path, default=ROOT / "benchmarks" / "data" / "gpu_h100_repeat.csv")
    ap.add_argument("--rows", action="store_true", help="also print every row")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    try:
        spec, _ = calibrate.load_spec(args.arch)
        fit_csv, held_csv = calibrate.calib_paths(args.arch)
        held_csv = args.csv or held_csv
        fit_csv = args.fit_csv or fit_csv
        rows, meta = gpubench.read_csv(held_csv)
        rows = [m for m in rows if m.case.set in ("heldout", "blind")]
        if not rows:
            raise CosimError(f"{held_csv}: no rows of set 'heldout' or 'blind'")
        shared = 0
        if fit_csv.is_file():
            fitted = {m.case.key for m in gpubench.read_csv(fit_csv)[0]}
            shared = sum(m.case.key in fitted for m in rows)
        print(f"predicting {len(rows)} held-out rows of {held_csv.name} with {args.arch.name}", file=sys.stderr)
        pred = calibrate.predict_rows(spec, rows)
    except CosimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    meas = np.array([m.median_s for m in rows])
    err = 100.0 * (pred - meas) / meas
    out_rows = []
    for m, p, e in zip(rows, pred, err):
        c = m.case
        out_rows.append(
            {
                "set": c.set,
                "kind": c.kind,
                "dtype": c.dtype,
                "label": c.label,
                "M": c.M,
                "N": c.N,
                "K": c.K,
                "batch": c.batch,
                "heads": c.heads,
                "kv_heads": c.kv_heads,
                "head_dim": c.head_dim,
                "q_len": c.q_len,
                "kv_len": c.kv_len,
                "measured_s": m.median_s,
                "predicted_s": float(p),
                "err_pct": float(e),
            }
        )
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in out_rows:
        groups.setdefault((r["set"], r["kind"], r["dtype"]), []).append(r["err_pct"])
    overall = _stats(err)
    present = [s for s in ("heldout", "blind") if any(r["set"] == s for r in out_rows)]
    by_set = {s: _stats(np.array([r["err_pct"] for r in out_rows if r["set"] == s])) for s in present}
    noise = _noise(args.repeat, rows)
    summary = {
        **overall,
        **{f"{s}_{k}": by_set[s][k] if s in by_set else None for s in ("heldout", "blind") for k in _KEYS},
        "shapes_shared_with_fit_set": shared,
        "device": meta.get("device", ""),
        "llmcompass_reported_mean_abs_err_pct": LLMCOMPASS_MEAN_ABS_ERR_PCT,
        "target_median_abs_err_pct": TARGET_MEDIAN_PCT,
        "target_p90_abs_err_pct": TARGET_P90_PCT,
        "meets_target": bool(
            overall["median_abs_err_pct"] <= TARGET_MEDIAN_PCT and overall["p90_abs_err_pct"] <= TARGET_P90_PCT
        ),
    }
    if noise:
        summary["measurement_noise_median_abs_diff_pct"] = noise["median_abs_diff_pct"]
        summary["measurement_noise_p90_abs_diff_pct"] = noise["p90_abs_diff_pct"]
    if args.json:
        json.dump({"name": "gpu_accuracy", "rows": out_rows, "summary": summary}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"GPU model accuracy on never-fitted shapes: {args.arch.name} vs {held_csv.name} ({meta.get('device', '?')})")
    hdr = f"{'set':8s} {'kind':18s} {'dtype':9s} {'n':>4s} {'median|e|%':>10s} {'p90|e|%':>8s}"
    hdr += f" {'mean|e|%':>9s} {'bias%':>7s}"
    print(hdr)
    print("-" * len(hdr))
    for (s, k, d), v in sorted(groups.items()):
        st = _stats(np.array(v))
        print(
            f"{s:8s} {k:18s} {d:9s} {st['n']:4d} {st['median_abs_err_pct']:10.1f} {st['p90_abs_err_pct']:8.1f} "
            f"{st['mean_abs_err_pct']:9.1f} {st['median_signed_err_pct']:7.1f}"
        )
    print("-" * len(hdr))
    for name, st in (*by_set.items(), ("all", overall)):
        print(
            f"{name:8s} {'(all kinds)':18s} {'':9s} {st['n']:4d} {st['median_abs_err_pct']:10.1f} "
            f"{st['p90_abs_err_pct']:8.1f} {st['mean_abs_err_pct']:9.1f} {st['median_signed_err_pct']:7.1f}"
        )
    print(
        f"target: median <= {TARGET_MEDIAN_PCT:g}%, p90 <= {TARGET_P90_PCT:g}% -> "
        f"{'met' if summary['meets_target'] else 'NOT met'}; shapes shared with the fit set: {shared}"
    )
    if noise:
        print(
            f"measurement noise (held-out timed twice, same session): median {noise['median_abs_diff_pct']:.1f}%, "
            f"p90 {noise['p90_abs_diff_pct']:.1f}% over {noise['n']} rows"
        )
    print(
        f"reference: LLMCompass reports {LLMCOMPASS_MEAN_ABS_ERR_PCT}% average error on A100 operators; "
        f"this model's mean |error| here is {overall['mean_abs_err_pct']:.1f}% on H100 (different GPU, ops, protocol)"
    )
    if args.rows:
        for r in sorted(out_rows, key=lambda r: -abs(r["err_pct"])):
            print(
                f"{r['set']:8s} {r['kind']:18s} {r['dtype']:9s} {r['label']:24s} M={r['M']} N={r['N']} K={r['K']} "
                f"b={r['batch']} H={r['heads']}/{r['kv_heads']} d={r['head_dim']} L={r['kv_len']}: "
                f"measured {r['measured_s'] * 1e6:.2f} us, predicted {r['predicted_s'] * 1e6:.2f} us "
                f"({r['err_pct']:+.1f}%)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
