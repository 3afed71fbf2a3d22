"""How fast the systolic model evaluates whole networks: per-op `simulate` and the vectorised
`simulate_totals` a design-space explorer calls once per architecture.

    python benchmarks/systolic_speed.py          # table
    python benchmarks/systolic_speed.py --json   # {"name", "rows", "summary": {...}}

Workload: ResNet-50 (``workloads/resnet50.yaml`` traced when the tracer is available, else the
same network built from cosim.graph builders).  Each timing is the median of repeated cold runs
(the per-layer memo cleared before each).  Summary keys: ``resnet50_128x128_simulate_ms``
(goal < 50 ms), ``totals_per_arch_ms`` (median over a 4 x 3 x 3 x 3 grid of architectures, native;
goal: 10,000 design points per minute on 2 cores, i.e. < 12 ms per point per core), and
``design_points_per_minute_2_cores`` (= 2 * 60 / that median).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cosim.hw import load_arch  # noqa: E402
from cosim.hw.systolic import (  # noqa: E402
    Convention,
    Dataflow,
    Spec,
    clear_caches,
    graph_arrays,
    simulate,
    simulate_totals,
)


def resnet50() -> tuple[object, str]:
    try:
        from cosim.workload import load_workload

        p = ROOT / "workloads" / "resnet50.yaml"
        if p.exists():
            return load_workload(p), "workloads/resnet50.yaml (traced)"
    except Exception as e:  # the tracer may not be merged yet
        print(f"tracer unavailable ({type(e).__name__}); using the builder graph", file=sys.stderr)
    from tests.hw.resnet50_graph import resnet50_graph

    return resnet50_graph(), "ResNet-50 from cosim.graph builders"


def median_s(fn, reps: int) -> float:
    ts = []
    for _ in range(reps):
        clear_caches()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    g, source = resnet50()
    rows = []
    for model in ("systolic_128_os", "systolic_tpu_v1_256_ws", "systolic_edge_32", "systolic_128_ws_native"):
        spec = load_arch(ROOT / "models" / f"{model}.yaml").spec
        t = median_s(lambda spec=spec: simulate(spec, g), 15)
        rows.append({"what": f"simulate ResNet-50 on {model}", "ms": t * 1e3, "cycles": simulate(spec, g).cycles})
    small = Spec(name="small_sram_128_os", rows=128, cols=128, dataflow=Dataflow.OS, ifmap_sram_kib=256,
                 filter_sram_kib=256, ofmap_sram_kib=256)  # fmt: skip
    t_small = median_s(lambda: simulate(small, g), 1)
    rows.append({"what": "simulate ResNet-50, 128x128 OS, 256 KiB SRAMs (SCALE-Sim re-fetch recurrences)",
                 "ms": t_small * 1e3})  # fmt: skip

    arrays = graph_arrays(g)
    base = load_arch(ROOT / "models" / "systolic_128_ws_native.yaml").spec
    grid = [
        dataclasses.replace(base, rows=r, cols=c, dataflow=df, ifmap_sram_kib=kib, filter_sram_kib=kib, convention=cv)
        for r, c, df, kib, cv in itertools.product(
            (16, 32, 64, 128), (32, 128, 256), list(Dataflow), (256, 1024, 6144), (Convention.NATIVE,)
        )
    ]
    per_arch = []
    for spec in grid:
        per_arch.append(median_s(lambda spec=spec: simulate_totals(spec, arrays), 5))
    # SCALE-Sim convention: SRAMs of 1 MiB and up (smaller ones take its exact re-fetch recurrences,
    # seconds per network: see the 256 KiB row above)
    sc_grid = [
        dataclasses.replace(s, convention=Convention.SCALESIM, bandwidth_mode="calc")
        for s in grid
        if s.ifmap_sram_kib >= 1024
    ]
    per_arch_sc = [median_s(lambda spec=spec: simulate_totals(spec, arrays), 3) for spec in sc_grid]
    med, med_sc = statistics.median(per_arch), statistics.median(per_arch_sc)
    rows.append({"what": f"simulate_totals per architecture, native ({len(grid)} archs, median)", "ms": med * 1e3})
    rows.append(
        {"what": f"simulate_totals per architecture, scalesim ({len(sc_grid)} archs, median)", "ms": med_sc * 1e3}
    )
    rows.append({"what": "simulate_totals per architecture, scalesim, slowest", "ms": max(per_arch_sc) * 1e3})
    summary = {
        "workload": source,
        "resnet50_128x128_simulate_ms": rows[0]["ms"],
        "totals_per_arch_ms": med * 1e3,
        "totals_per_arch_scalesim_ms": med_sc * 1e3,
        "design_points_per_minute_2_cores": 2 * 60 / med,
    }
    if args.json:
        print(json.dumps({"name": "systolic_speed", "rows": rows, "summary": summary}))
        return
    print(f"workload: {source}")
    for r in rows:
        print(f"{r['what']:90s} {r['ms']:9.3f} ms")
    print(
        f"summary: ResNet-50 on 128x128 in {summary['resnet50_128x128_simulate_ms']:.2f} ms; "
        f"{summary['totals_per_arch_ms']:.3f} ms per architecture (native), "
        f"{summary['totals_per_arch_scalesim_ms']:.3f} ms (scalesim) -> "
        f"{summary['design_points_per_minute_2_cores']:,.0f} design points/minute on 2 cores"
    )


if __name__ == "__main__":
    main()
