"""Tracing cost per model: wall time and peak memory of `load_workload` in a fresh process.

Goal (issue: foundation): Llama-2-70B traces in < 30 s with peak RSS < 2 GB (its FP16 weights
alone would be 140 GB). Each model runs in its own subprocess so peak RSS is per model; the
time includes Python start-up and `import torch`, as a user running `cosim trace` sees it.

    python benchmarks/trace_speed.py [--json] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASES = [
    ("resnet50", "model: resnet50\nbatch: 1\n"),
    ("gpt2_prefill_1024", "model: gpt2\nphase: prefill\nbatch: 1\nseq_len: 1024\n"),
    ("llama2_7b_decode", "model: llama2_7b\nphase: decode\nbatch: 8\nkv_len: 4096\n"),
    ("llama3_8b_decode", "model: llama3_8b\nphase: decode\nbatch: 8\nkv_len: 4096\n"),
    ("llama2_70b_decode", "model: llama2_70b\nphase: decode\nbatch: 1\nkv_len: 4096\n"),
    ("llama2_70b_prefill", "model: llama2_70b\nphase: prefill\nbatch: 1\nseq_len: 2048\n"),
]
CHILD = """
import resource, sys, time
t0 = time.perf_counter()
from cosim.workload import load_workload
g = load_workload(sys.argv[1])
dt = time.perf_counter() - t0
print(g.number_of_nodes(), g.total_flops, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_case(name: str, body: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / f"{name}.yaml"
        spec.write_text(f"name: {name}\n{body}")
        t0 = __import__("time").perf_counter()
        r = subprocess.run([sys.executable, "-c", CHILD, str(spec)], capture_output=True, text=True, cwd=REPO)
        wall = __import__("time").perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"{name}: tracing failed:\n{r.stderr}")
    ops, flops, in_proc, rss_kb = r.stdout.split()
    return {
        "case": name,
        "ops": int(ops),
        "gflops": int(flops) / 1e9,
        "trace_s": float(in_proc),
        "wall_s": wall,
        "peak_rss_mb": int(rss_kb) / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--repeat", type=int, default=3, help="runs per model; the median is reported")
    args = ap.parse_args()
    rows = []
    for name, body in CASES:
        runs = [run_case(name, body) for _ in range(args.repeat)]
        row = dict(runs[0])
        for k in ("trace_s", "wall_s", "peak_rss_mb"):
            row[k] = statistics.median(r[k] for r in runs)
        rows.append(row)
        print(f"{name}: {row['wall_s']:.1f} s, {row['peak_rss_mb']:.0f} MB", file=sys.stderr)
    l70 = next(r for r in rows if r["case"] == "llama2_70b_decode")
    summary = {
        "llama2_70b_wall_s": l70["wall_s"],
        "llama2_70b_peak_rss_mb": l70["peak_rss_mb"],
        "meets_goal": l70["wall_s"] < 30 and l70["peak_rss_mb"] < 2048,
    }
    if args.json:
        print(json.dumps({"name": "trace_speed", "rows": rows, "summary": summary}))
        return
    print(f"{'case':22} {'ops':>6} {'GFLOP':>10} {'trace s':>8} {'wall s':>7} {'peak MB':>8}")
    for r in rows:
        print(
            f"{r['case']:22} {r['ops']:6d} {r['gflops']:10.1f} {r['trace_s']:8.2f} {r['wall_s']:7.2f} "
            f"{r['peak_rss_mb']:8.0f}"
        )
    print(
        f"Llama-2-70B decode: {l70['wall_s']:.1f} s (goal < 30 s), {l70['peak_rss_mb']:.0f} MB peak "
        f"(goal < 2048 MB): {'met' if summary['meets_goal'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
