"""Design-sweep throughput: systolic-array designs evaluated on the whole of ResNet-50 per minute.

A design point is one architecture evaluated on the whole traced ResNet-50 graph (174 ops).
The sweep is a grid over array rows x cols x dataflow x ifmap/filter/ofmap SRAM sizes x DRAM
bandwidth around ``models/systolic_128_ws_native.yaml`` (cosim's native counting: the
SCALE-Sim-convention mode falls back to per-layer recurrences when operands overflow half an
SRAM, which is seconds per design; see the report).  The workload is traced once, before the
clock starts; the timed span is the whole ``run_sweep`` call: pool start-up, design keys,
evaluation through the model's ``simulate_totals`` fast path, batched DuckDB commits, and the
per-op pass over the Pareto-front designs.

Then the same smaller sweep runs on the local pool, on Ray and on Dask (each started locally with
the same number of workers), and the stored rows are compared for exact equality.

    python benchmarks/dse_throughput.py [--json] [--workers 2] [--quick] [--no-dist]

With ``--json`` one object is printed: ``{"name", "rows", "summary"}``; the summary has
``points_per_min``, ``designs``, ``workers``, ``ray_identical``, ``dask_identical``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE = ROOT / "models" / "systolic_128_ws_native.yaml"
WORKLOAD = ROOT / "workloads" / "resnet50.yaml"

FULL_AXES = {
    "rows": [8, 16, 32, 64, 128, 256],
    "cols": [8, 16, 32, 64, 128, 256],
    "dataflow": ["os", "ws", "is"],
    "ifmap_sram_kib": [64, 256, 1024, 4096],
    "filter_sram_kib": [64, 256, 1024, 4096],
    "ofmap_sram_kib": [256, 1024],
    "dram_words_per_cycle": [8, 16, 32],
}
QUICK_AXES = {**FULL_AXES, "rows": [16, 64, 256], "cols": [16, 64, 256], "ofmap_sram_kib": [1024]}  # 1,296
DIST_AXES = {
    "rows": [16, 64, 256],
    "cols": [16, 64, 256],
    "dataflow": ["os", "ws", "is"],
    "ifmap_sram_kib": [64, 1024],
    "filter_sram_kib": [64, 1024],
}


def _sweep(axes: dict, name: str) -> dict:
    return {
        "name": name,
        "base": str(BASE),
        "axes": axes,
        "workloads": [str(WORKLOAD)],
        "objectives": ["latency", "energy"],
        "search": {"strategy": "grid"},
    }


def _rows(path: Path):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM evals ORDER BY eval_id").df()
    finally:
        con.close()


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--quick", action="store_true", help="a smaller grid (1,296 designs instead of 10,368)")
    ap.add_argument("--no-dist", action="store_true", help="skip the Ray/Dask comparison")
    args = ap.parse_args()

    import pandas as pd

    from cosim.dse import run_sweep, sweep_from_mapping
    from cosim.dse.run import _Progress, load_graphs
    from cosim.dse.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="cosim-dse-bench-"))
    os.environ.setdefault("MPLCONFIGDIR", str(tmp / "mpl"))
    axes = QUICK_AXES if args.quick else FULL_AXES
    spec = sweep_from_mapping(_sweep(axes, "dse_throughput"), "dse_throughput", ROOT)
    n_designs = spec.spaces[0].size

    # trace once, outside the timed span (the store keeps the graph for the sweep)
    store = tmp / "local.duckdb"
    t0 = time.perf_counter()
    with Store(store) as st, _Progress(False) as prog:
        graphs = load_graphs(spec, st, prog)
    trace_s = time.perf_counter() - t0
    _log(f"traced {WORKLOAD.name}: {graphs[0].number_of_nodes()} ops in {trace_s:.1f} s")

    _log(f"local sweep: {n_designs:,} designs x 1 workload on {args.workers} workers ...")
    t0 = time.perf_counter()
    summary = run_sweep(spec, store, workers=args.workers, progress=False)
    wall = time.perf_counter() - t0
    ok = int(_rows(store)["ok"].sum())
    ppm = 60.0 * summary.rows_evaluated / wall
    rows = [
        {
            "executor": "local",
            "designs": summary.rows_evaluated,
            "ok": ok,
            "seconds": round(wall, 2),
            "points_per_min": round(ppm),
            "identical_to_local": None,
        }
    ]
    _log(f"  {summary.rows_evaluated:,} designs in {wall:.1f} s: {ppm:,.0f} designs/min")

    identical: dict[str, bool | None] = {"ray": None, "dask": None}
    if not args.no_dist:
        dspec = sweep_from_mapping(_sweep(DIST_AXES, "dse_dist"), "dse_dist", ROOT)
        ref_path = tmp / "dist_local.duckdb"
        with Store(ref_path) as st, _Progress(False) as prog:
            load_graphs(dspec, st, prog)
        run_sweep(dspec, ref_path, workers=args.workers, progress=False)
        ref = _rows(ref_path)
        for ex in ("ray", "dask"):
            path = tmp / f"dist_{ex}.duckdb"
            with Store(path) as st, _Progress(False) as prog:
                load_graphs(dspec, st, prog)
            _log(f"{ex} sweep: {dspec.spaces[0].size:,} designs on {args.workers} workers ...")
            t0 = time.perf_counter()
            s = run_sweep(dspec, path, executor=ex, workers=args.workers, batch_size=16, progress=False)
            dt = time.perf_counter() - t0
            got = _rows(path)
            try:
                pd.testing.assert_frame_equal(got, ref, check_exact=True)
                same = True
            except AssertionError:
                same = False
            identical[ex] = same
            rows.append(
                {
                    "executor": ex,
                    "designs": s.rows_evaluated,
                    "ok": int(got["ok"].sum()),
                    "seconds": round(dt, 2),
                    "points_per_min": round(60.0 * s.rows_evaluated / dt),
                    "identical_to_local": same,
                }
            )
            _log(f"  identical to the local run: {same}")

    summary_out = {
        "points_per_min": round(ppm),
        "designs": summary.rows_evaluated,
        "workers": args.workers,
        "model": "systolic (native convention, simulate_totals)",
        "workload": f"resnet50 ({graphs[0].number_of_nodes()} ops)",
        "trace_s": round(trace_s, 2),
        "ray_identical": identical["ray"],
        "dask_identical": identical["dask"],
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps({"name": "dse_throughput", "rows": rows, "summary": summary_out}))
        return
    print(f"{'executor':<8} {'designs':>8} {'ok':>8} {'seconds':>8} {'designs/min':>12} {'identical':>10}")
    for r in rows:
        ident = "" if r["identical_to_local"] is None else str(r["identical_to_local"])
        print(
            f"{r['executor']:<8} {r['designs']:>8,} {r['ok']:>8,} {r['seconds']:>8.1f} "
            f"{r['points_per_min']:>12,} {ident:>10}"
        )
    print(
        f"summary: {summary_out['points_per_min']:,} design points/min on {args.workers} workers "
        f"(goal >= 10,000); Ray identical: {identical['ray']}; Dask identical: {identical['dask']}"
    )


if __name__ == "__main__":
    main()
