"""Run one SCALE-Sim 3.0.0 layer and print its report fields as JSON (one line on stdout).

Runs *inside SCALE-Sim's own venv* (``.tools/scalesim-venv``), never in cosim's: it imports only
the standard library and ``scalesim``.  Called by ``benchmarks/systolic_vs_scalesim.py``.

Usage: python _scalesim_run_case.py CONFIG.cfg TOPOLOGY.csv LAYOUT.csv {gemm,conv} WORKDIR

Only ``run_scale()`` is timed (parsing the files and writing reports is not).  The fields are
read from SCALE-Sim's own per-layer objects (the numbers its COMPUTE_REPORT.csv and
DETAILED_ACCESS_REPORT.csv print), at full float precision.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time


def main() -> None:
    cfg, topo, layout, kind, workdir = sys.argv[1:6]
    from scalesim.scale_sim import scalesim

    with contextlib.redirect_stdout(io.StringIO()):
        s = scalesim(
            save_disk_space=True,
            verbose=False,
            config=cfg,
            topology=topo,
            layout=layout,
            input_type_gemm=kind == "gemm",
        )
        t0 = time.perf_counter()
        s.run_scale(top_path=workdir)
        elapsed_s = time.perf_counter() - t0
    layers = []
    for lay in s.runner.single_layer_sim_object_list:
        c = lay.get_compute_report_items()
        d = lay.get_detail_report_items()
        layers.append(
            {
                "total_cycles_incl_prefetch": int(c[0]),
                "total_cycles": int(c[1]),
                "stall_cycles": int(c[2]),
                "overall_util_pct": float(c[3]),
                "mapping_eff_pct": float(c[4]),
                "compute_util_pct": float(c[5]),
                "sram_ifmap_reads": int(d[2]),
                "sram_filter_reads": int(d[5]),
                "sram_ofmap_writes": int(d[8]),
                "dram_ifmap_reads": int(d[11]),
                "dram_filter_reads": int(d[14]),
                "dram_ofmap_writes": int(d[17]),
            }
        )
    print(json.dumps({"run_scale_s": elapsed_s, "layers": layers}))


if __name__ == "__main__":
    main()
