"""SAIL-like SRAM-LUT GEMV vs the Neoverse-N1 CPU baseline on Llama-2-7B decode.

Prints, beside SAIL's published numbers (arXiv 2509.25853 abstract):
  * end-to-end decode speedup over the N1 baseline by weight precision and batch ("up to 10.7x"),
  * tokens per dollar gain ("19.9x"), area overhead ("~2%"),
  * the pattern-aware reduction of LUT computation cycles ("13.8%"),
and explains every gap larger than 25 %, listing which parts of the design are inferred.

Run: ``python benchmarks/sail.py`` (table) or ``python benchmarks/sail.py --json``
(one JSON object; summary keys ``max_speedup_vs_n1``, ``pattern_aware_reduction_pct``).
``--synth`` re-runs yosys on the RTL engine and prints its NAND2-equivalent count.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cosim.graph import WorkloadGraph  # noqa: E402
from cosim.hw import load_arch  # noqa: E402
from cosim.hw import sram_lut as sl  # noqa: E402
from cosim.workload import load_workload_spec  # noqa: E402

PAPER = {"max_speedup_vs_n1": 10.7, "pattern_aware_reduction_pct": 13.8, "tokens_per_usd_gain": 19.9, "area_pct": 2.0}
BATCHES = (1, 2, 4, 8, 16, 32)
PRECISIONS = (2, 3, 4)
# Statistical activation model for the pattern-aware rows [ASSUMPTION]: INT8 per-token absmax
# quantisation of Laplace(0, b) activations whose absmax (set by outlier channels) is 90 b:
# P(q == 0) = P(|x| < absmax / 254) = 1 - exp(-90 / 254) = 0.30.
STATED_ZERO_FRACTION = 0.30
PUBLISHED = [
    "batched LUT-based GEMV in SRAM PIM inside a CPU cache (LLC)",
    "pattern-aware LUT optimisation exploiting input-activation redundancy: -13.8% computation cycles",
    "in-memory type conversion for (de)quantisation, offloading the CPU vector units",
    "arbitrary weight precisions; one new instruction; ~2% hardware overhead; arrays stay usable as cache",
    "gem5 evaluation vs Arm Neoverse-N1: up to 10.7x speedup, 19.9x tokens/$; 7.04x cost efficiency vs V100 "
    "(the V100 comparison is not reproduced here)",
]
INFERRED = [
    "table orientation (tables from activations, looked up by weight bit-planes) and symmetric 2^(g-1) tables",
    "subarray geometry 256x256 (Neural Cache), 64 table rows / 192 weight rows, 16 tokens per row read",
    "the lookup/accumulate engine (our RTL: 16 x 32-bit accumulators, one row read per cycle) and its pipeline",
    "engine density: one engine per 8 lent subarrays, chosen from the engine-density table as nearest to ~2% area"
    " and 10.7x",
    "synchronous-wave tile schedule, near-slice table builder and scale-and-add reduction",
    "pattern-aware mechanism: skip all-zero activation groups per pass, merge duplicate tokens",
    "in-memory conversion cost (Neural Cache bit-serial multiply), 1 GHz subarray rate",
    "50% of the LLC lent to LUT-GEMV; the N1 system (SAIL's gem5 N1 config is not in what we read)",
    "price model: per-vCPU cloud price x (1 + 2%)",
]


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


_GRAPHS: dict[tuple[int, int, int], WorkloadGraph] = {}


def decode_graph(precision: int, batch: int, act_bits: int = 16) -> WorkloadGraph:
    """workloads/llama2_7b_decode_w<precision>.yaml at `batch`, traced once per process."""
    key = (precision, batch, act_bits)
    if key not in _GRAPHS:
        from cosim.trace import trace_workload

        spec = load_workload_spec(ROOT / "workloads" / f"llama2_7b_decode_w{precision}.yaml")
        progress(f"trace W{precision}A{act_bits} batch {batch}")
        _GRAPHS[key] = trace_workload(replace(spec, batch=batch, quant=f"W{precision}A{act_bits}"))
    return _GRAPHS[key]


def gemm_seconds(run) -> float:
    return sum(r.seconds for r in run.ops if r.op.kind.value in ("gemm", "gemv") and r.op.weight_bits)


def lut_cycles(run) -> float:
    return sum(r.extra.get("lut_cycles", 0) for r in run.ops)


def dominant_bound(run) -> str:
    """The bound (compute/memory/latency) of the ops that take most of the run's time."""
    acc: dict[str, float] = {}
    for r in run.ops:
        acc[r.bound.value] = acc.get(r.bound.value, 0.0) + r.seconds
    return max(acc, key=acc.get)


def compare(cpu_arch, sail_spec, graph) -> dict:
    rc = cpu_arch.simulate(graph)
    rs = sl.simulate(sail_spec, graph)
    return {
        "cpu_tokens_per_s": rc.extra["tokens_per_s"],
        "sail_tokens_per_s": rs.extra["tokens_per_s"],
        "speedup": rc.seconds / rs.seconds,
        "gemv_speedup": gemm_seconds(rc) / gemm_seconds(rs),
        "tokens_per_usd_gain": rs.extra["tokens_per_usd"] / rc.extra["tokens_per_usd"],
        "cpu_energy_per_token_j": rc.extra["energy_per_token_j"],
        "sail_energy_per_token_j": rs.extra["energy_per_token_j"],
        "cpu_bound": dominant_bound(rc),
        "cpu_roofline_tokens_per_s": rc.extra["roofline_tokens_per_s"],
    }


def pattern_reduction(sail_spec, graph, p0: float) -> float:
    """% fewer LUT computation cycles with pattern-aware reuse at zero fraction p0."""
    on = sl.simulate(replace(sail_spec, pattern_aware=True, act_zero_fraction=p0), graph)
    off = sl.simulate(replace(sail_spec, pattern_aware=False), graph)
    return 100.0 * (1.0 - lut_cycles(on) / lut_cycles(off))


def p0_for(sail_spec, graph, target_pct: float) -> float:
    """Zero fraction at which the pattern-aware reduction reaches target_pct (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if pattern_reduction(sail_spec, graph, mid) < target_pct:
            lo = mid
        else:
            hi = mid
    return hi


def synth_engine_gates() -> float | None:
    """NAND2-eq of the engine from yosys (rtl/sram_lut/synth_engine.ys); None without yosys."""
    if shutil.which("yosys") is None:
        return None
    out = subprocess.run(
        ["yosys", "-q", "-p", "script rtl/sram_lut/synth_engine.ys; tee -o /dev/stdout stat"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    last = out.rsplit("Number of cells", 1)[-1]  # the final `stat` block
    ge = 0.0
    for cell, n in re.findall(r"^\s+(\$_\w+_|\$mem\w*)\s+(\d+)\s*$", last, re.M):
        if cell.startswith("$mem"):
            continue  # the SRAM array itself
        ge += sl.GATE_EQUIVALENTS["DFF" if "DFF" in cell else cell] * int(n)
    return round(ge, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--synth", action="store_true", help="re-run yosys on the RTL engine")
    args = ap.parse_args()

    n1 = load_arch(ROOT / "models/neoverse_n1.yaml")
    sail = load_arch(ROOT / "models/sail.yaml").spec
    n1a = load_arch(ROOT / "models/neoverse_n1_altra.yaml")
    saila = load_arch(ROOT / "models/sail_altra.yaml").spec

    rows = []
    for w in PRECISIONS:
        for b in BATCHES:
            g = decode_graph(w, b)
            for system, cpu_arch, spec in (("N1-SDP", n1, sail), ("Altra", n1a, saila)):
                rows.append({"system": system, "quant": f"W{w}A16", "batch": b, **compare(cpu_arch, spec, g)})
    for w in (2, 4):
        g = decode_graph(w, 32, act_bits=8)
        rows.append({"system": "N1-SDP", "quant": f"W{w}A8", "batch": 32, **compare(n1, sail, g)})

    progress("pattern-aware reduction")
    g1 = decode_graph(4, 1)
    pat_rows = []
    for b in (1, 8, 32):
        gb = g1 if b == 1 else decode_graph(4, b)
        for p0 in (0.1, STATED_ZERO_FRACTION, 0.5, 0.7):
            pat_rows.append({"batch": b, "zero_fraction": p0, "reduction_pct": pattern_reduction(sail, gb, p0)})
    pattern_pct = next(
        r["reduction_pct"] for r in pat_rows if r["batch"] == 1 and r["zero_fraction"] == STATED_ZERO_FRACTION
    )
    p0_needed = p0_for(sail, g1, PAPER["pattern_aware_reduction_pct"])

    progress("engine density sweep")
    g32 = decode_graph(4, 32)
    density = []
    for k in (1, 2, 4, 8, 16, 32):
        spec_k = replace(sail, subarrays_per_engine=k)
        best = max(compare(n1, spec_k, decode_graph(w, 32) if w != 4 else g32)["speedup"] for w in PRECISIONS)
        density.append(
            {
                "subarrays_per_engine": k,
                "area_pct_of_llc": 100 * sl.area_overhead(spec_k)["fraction_of_llc"],
                "max_speedup": best,
            }
        )

    sdp = [r for r in rows if r["system"] == "N1-SDP"]
    best = max(sdp, key=lambda r: r["speedup"])
    best_a = max((r for r in rows if r["system"] == "Altra"), key=lambda r: r["speedup"])
    area_pct = 100 * sl.area_overhead(sail)["fraction_of_llc"]
    summary = {
        "max_speedup_vs_n1": best["speedup"],
        "max_speedup_at": f"{best['quant']} batch {best['batch']}",
        "paper_max_speedup_vs_n1": PAPER["max_speedup_vs_n1"],
        "max_speedup_vs_n1_altra": best_a["speedup"],
        "pattern_aware_reduction_pct": pattern_pct,
        "pattern_aware_zero_fraction": STATED_ZERO_FRACTION,
        "paper_pattern_aware_reduction_pct": PAPER["pattern_aware_reduction_pct"],
        "zero_fraction_for_paper_reduction": p0_needed,
        "max_tokens_per_usd_gain": max(r["tokens_per_usd_gain"] for r in sdp),
        "paper_tokens_per_usd_gain": PAPER["tokens_per_usd_gain"],
        "area_overhead_pct_of_llc": area_pct,
        "paper_area_overhead_pct": PAPER["area_pct"],
    }
    if args.synth:
        summary["engine_gates_yosys"] = synth_engine_gates()
    gaps = explain_gaps(summary, density, best, best_a)
    if args.json:
        print(
            json.dumps(
                {
                    "name": "sail",
                    "rows": [{"table": "speedup", **r} for r in rows]
                    + [{"table": "pattern_aware", **r} for r in pat_rows]
                    + [{"table": "engine_density", **r} for r in density],
                    "summary": {**summary, "gaps": gaps, "published": PUBLISHED, "inferred": INFERRED},
                },
                indent=1,
            )
        )
        return
    print_tables(rows, pat_rows, density, summary, gaps)


def gap_pct(ours: float, paper: float) -> float:
    return 100.0 * abs(ours - paper) / paper


def explain_gaps(s: dict, density: list[dict], best: dict, best_a: dict) -> list[str]:
    """One explanation per metric whose gap to the paper exceeds 25 %."""
    out = []
    g = gap_pct(s["max_speedup_vs_n1"], s["paper_max_speedup_vs_n1"])
    if g > 25:
        k_match = min(density, key=lambda d: abs(d["max_speedup"] - s["paper_max_speedup_vs_n1"]))
        out.append(
            f"max speedup {s['max_speedup_vs_n1']:.1f}x vs paper 10.7x ({g:.0f}% gap): the speedup is the N1's "
            f"vector-unit dequantisation+MAC time over SAIL's DRAM-streaming time ({best['quant']} b{best['batch']}: "
            f"CPU is {best['cpu_bound']}-bound).  It scales with the baseline's compute/bandwidth ratio, which SAIL's "
            f"gem5 N1 config fixes and we do not know: on the 80-core Altra the same model gives "
            f"{s['max_speedup_vs_n1_altra']:.1f}x.  Our engine density also matters: one engine per "
            f"{k_match['subarrays_per_engine']} subarrays gives {k_match['max_speedup']:.1f}x."
        )
    g = gap_pct(s["pattern_aware_reduction_pct"], s["paper_pattern_aware_reduction_pct"])
    if g > 25:
        out.append(
            f"pattern-aware {s['pattern_aware_reduction_pct']:.1f}% vs paper 13.8% ({g:.0f}% gap): our inferred "
            f"mechanism only skips activation groups that are zero for every token of a pass, so it needs "
            f"P(INT8 activation == 0) = {s['zero_fraction_for_paper_reduction']:.2f} at batch 1 to reach 13.8% "
            f"(stated model: {s['pattern_aware_zero_fraction']:.2f}); the gain vanishes with batch (a pass holds 16 "
            f"tokens).  SAIL's actual pattern mechanism is not in the abstract."
        )
    g = gap_pct(s["max_tokens_per_usd_gain"], s["paper_tokens_per_usd_gain"])
    if g > 25:
        out.append(
            f"tokens/$ gain {s['max_tokens_per_usd_gain']:.1f}x vs paper 19.9x ({g:.0f}% gap): with our price model "
            f"(SAIL = N1 price x 1.02, same batch) tokens/$ tracks the speedup.  The paper's 19.9x exceeds its own "
            f"10.7x speedup, so its comparison must differ: a SAIL system priced below the N1 system it is compared "
            f"with, or each side at its own best batch; neither is in the abstract."
        )
    g = gap_pct(s["area_overhead_pct_of_llc"], s["paper_area_overhead_pct"])
    if g > 25:
        k2 = min(density, key=lambda d: abs(d["area_pct_of_llc"] - 2.0))
        out.append(
            f"area {s['area_overhead_pct_of_llc']:.1f}% of the LLC vs paper ~2% ({g:.0f}% gap): our engine (yosys: "
            f"{sl.ENGINE_GATES_YOSYS_REF / 1000:.1f} kGE, 16 x 32-bit accumulators, row latches, per-slot metadata) "
            f"is a large fraction of an 8 KB subarray.  At ~2% ({k2['area_pct_of_llc']:.1f}%: one engine per "
            f"{k2['subarrays_per_engine']} subarrays) the model gives {k2['max_speedup']:.1f}x, so SAIL's datapath "
            f"must be much leaner per lookup than ours (e.g. bit-line computing); the paper also may count 2% of "
            f"the chip, not of the LLC."
        )
    return out


def print_tables(rows, pat_rows, density, summary, gaps) -> None:
    print(
        "SAIL-like SRAM-LUT GEMV vs Neoverse-N1 on Llama-2-7B decode (kv_len 128); paper: up to 10.7x, 19.9x tokens/$"
    )
    cols = ("CPU tok/s", "SAIL tok/s", "speedup", "GEMV sp.", "tok/$ x", "CPU bound", "CPU J/tok", "SAIL J/tok")
    hdr = f"{'system':7} {'quant':6} {'batch':>5} " + " ".join(f"{c:>10}" for c in cols)
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        cells = (
            f"{r['cpu_tokens_per_s']:>10.2f}",
            f"{r['sail_tokens_per_s']:>10.2f}",
            f"{r['speedup']:>9.2f}x",
            f"{r['gemv_speedup']:>9.2f}x",
            f"{r['tokens_per_usd_gain']:>9.2f}x",
            f"{r['cpu_bound']:>10}",
            f"{r['cpu_energy_per_token_j']:>10.3f}",
            f"{r['sail_energy_per_token_j']:>10.3f}",
        )
        print(f"{r['system']:7} {r['quant']:6} {r['batch']:>5} " + " ".join(cells))
    print(
        f"\nmax speedup vs N1-SDP: {summary['max_speedup_vs_n1']:.2f}x at {summary['max_speedup_at']} "
        f"(paper: up to 10.7x); vs Altra: {summary['max_speedup_vs_n1_altra']:.2f}x"
    )
    print("\nPattern-aware LUT: % fewer LUT computation cycles, W4 (paper: 13.8%)")
    print(f"{'batch':>5} {'P(act=0)':>9} {'reduction %':>11}")
    for r in pat_rows:
        print(f"{r['batch']:>5} {r['zero_fraction']:>9.2f} {r['reduction_pct']:>11.2f}")
    print(
        f"stated model P(act=0) = {summary['pattern_aware_zero_fraction']:.2f}: "
        f"{summary['pattern_aware_reduction_pct']:.2f}% at batch 1; "
        f"13.8% needs P(act=0) = {summary['zero_fraction_for_paper_reduction']:.2f}"
    )
    print("\nEngine density (area vs speed, best of W2/W3/W4 at batch 32): paper ~2% area")
    for d in density:
        print(
            f"  one engine per {d['subarrays_per_engine']:>2} subarrays: area {d['area_pct_of_llc']:6.2f}% of LLC, "
            f"max speedup {d['max_speedup']:6.2f}x"
        )
    print(
        f"\narea overhead (models/sail.yaml): {summary['area_overhead_pct_of_llc']:.1f}% of the LLC; "
        f"max tokens/$ gain {summary['max_tokens_per_usd_gain']:.2f}x (paper 19.9x)"
    )
    if "engine_gates_yosys" in summary:
        print(f"yosys engine count: {summary['engine_gates_yosys']} NAND2-eq (constant: {sl.ENGINE_GATES_YOSYS_REF})")
    print("\nGaps > 25% and why:")
    for gtxt in gaps:
        print(f"  - {gtxt}")
    print("\nPublished (abstract):")
    for p in PUBLISHED:
        print(f"  - {p}")
    print("Inferred by us (not published in what we could read):")
    for p in INFERRED:
        print(f"  - {p}")


if __name__ == "__main__":
    main()
