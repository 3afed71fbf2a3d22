"""LUT Tensor Core (Mo et al., ISCA'25, arXiv 2408.06003) vs MAC tensor cores: cosim beside the paper.

Prints, next to the paper's numbers: compute density and energy efficiency of LUT vs MAC units,
the BitNet-3B system comparison of Table 1 (A100 FP16/INT8 tensor cores vs A100-LUT-4X/8X),
the table-precompute overhead with and without fusion (Table 4), and the area ratio of our own
LUT lane vs MAC dot-product RTL from yosys.  Every gap over 20% carries its explanation.

    python benchmarks/lut_tc.py [--json] [--no-synth]

Workloads are traced with `cosim.trace` (meta tensors).  Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cosim.graph import WorkloadGraph  # noqa: E402
from cosim.hw import load_arch  # noqa: E402
from cosim.hw import lut_tc as L  # noqa: E402
from cosim.trace import trace  # noqa: E402

GAP = 0.20  # explain every |cosim / paper - 1| above this

# ----------------------------------------------------------------------------- the paper's numbers
# Mo et al., "LUT Tensor Core", ISCA 2025 (arXiv 2408.06003 v3); tables as extracted in
# /work/shared/references/lut-sail-tpe.md §1.4 (rows cross-checked arithmetically there).
# Fig. 12's DP4 densities (LUT W1 x FP16 61.55, MAC FP16 x FP16 3.39 TFLOPs/mm²) live in L.CostTable.
PAPER_TABLE3_W1A8_TOPS_PER_W = 63.78e12  # Table 3, LUT TC PE energy efficiency W_INT1 A_INT8, 0.9 V
PAPER_BITNET_SPEEDUP = 5.51  # contributions list; Table 1: 41.15 ms / 7.47 ms at BS1024 SEQ1
PAPER_BITNET_DENSITY = 20.9  # §6 text (A100-LUT-8X vs A100 FP16 TC); Table 1: 61.95 / 2.96
PAPER_BITNET_ENERGY_EFF = 11.2  # §6 text; Table 1's energy-efficiency column did not survive extraction
# Table 1: latency (ms) for BS1 SEQ2048 and BS1024 SEQ1, peak (TOPS), TC area per SM (mm²), density
PAPER_TABLE1 = {
    "A100 FP16 TC": (106.71, 41.15, 312, 0.975, 2.96),
    "A100 INT8 TC": (67.06, 21.70, 624, 0.312, 17.73),
    "A100-LUT-4X": (42.49, 11.41, 1248, 0.187, 61.84),
    "A100-LUT-8X": (38.02, 7.47, 2496, 0.373, 61.95),
}
# Table 4: one layer (ms): Welder, + precompute, + fused precompute
PAPER_TABLE4 = {
    ("OPT-175B", "prefill"): (32.38, 38.77, 33.63),
    ("OPT-175B", "batch1024"): (14.99, 17.43, 15.50),
    ("BLOOM-176B", "prefill"): (107.11, 129.85, 108.38),
    ("BLOOM-176B", "batch1024"): (20.99, 26.05, 21.31),
    ("LLaMA2-70B", "prefill"): (34.68, 37.60, 35.65),
    ("LLaMA2-70B", "batch1024"): (11.45, 15.21, 11.75),
}

# ----------------------------------------------------------------------------- gap explanations
EXPLAIN = {
    "system_latency": (
        "The paper's end-to-end simulator (unreleased) reaches ~48% of the FP16 tensor-core peak on "
        "LLaMA-3B (41.15 ms for 6.8 TFLOP at 312 TFLOPS); cosim runs GEMMs at the tile-quantised peak "
        "(wave quantisation only, no pipeline stalls or instruction overheads), so its absolute latencies "
        "are lower.  Ratios between configurations are the comparable quantity."
    ),
    "speedup": (
        "With GEMMs at peak, the non-GEMM ops (norms, element-wise, KV copies: memory-bound on the same "
        "HBM in both systems) and the table traffic take a larger share of the LUT system's time, which "
        "caps the speedup; the paper's ~48% GEMM efficiency on the FP16 baseline inflates the baseline "
        "and so the ratio."
    ),
    "energy": (
        "The paper's FP16 tensor-core energy is not given (Table 1's energy column was lost in the text "
        "extraction); cosim prices an FP16 MAC from Horowitz's 45 nm figures scaled to 28 nm "
        "(cosim.cost), and the LUT array from the paper's Table 2 power.  FP16 accumulation is assumed "
        "(as in the paper's FP16 RTL); FP32 accumulation would raise the ratio by a third."
    ),
    "precompute": (
        "cosim charges the unfused precompute as a separate kernel at the DRAM roofline (read the "
        "activations, write FP16 tables of twice their size) and the fused one as the extra table bytes "
        "and adds inside the producing norm/element-wise kernel.  The paper measured compiled kernels: "
        "its standalone precompute added 6.4 ms to an OPT-175B prefill layer, whose compulsory traffic "
        "(0.35 GB of activations read, 0.70 GB of tables written) takes 0.52 ms at 2.04 TB/s, so those "
        "kernels ran ~12x below this roofline.  Their table layout and achieved bandwidth are not "
        "published, so cosim does not fit them; the fused/unfused ordering and the size of the saving "
        "relative to the GEMMs are what it reproduces."
    ),
    "yosys_fp16": (
        "Our ratio counts transistors of a yosys netlist synthesised without a timing target (ripple "
        "adders, array multipliers, no pipeline registers); the paper's comes from Design Compiler at "
        "1 GHz in TSMC 28 nm with DesignWare FP units.  Timing closure at 1 GHz inflates the MAC's "
        "multiply-add chain (Booth/Wallace trees, prefix adders, upsizing) far more than the LUT lane's "
        "mux plus one adder: the HPCA'25 TPE study reports a MAC PE growing 1.93x in area from 1.0 to "
        "1.5 GHz.  Transistor counts are also not um^2 (flip-flops and XORs are larger per transistor).  "
        "For comparison, the paper's own tensor-core-level DSE (Fig. 14, 1-bit weights, tables and "
        "accumulators included) reports 4-6x lower area than MAC."
    ),
    "int8_density": (
        "Table 1 prints 17.73 for the A100 INT8 TC but its own peak and area give 624 / (108 x 0.312) = "
        "18.5; cosim computes the latter."
    ),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def row(section: str, metric: str, paper: float | None, cosim: float, unit: str, note: str = "", why: str = ""):
    r = {"section": section, "metric": metric, "paper": paper, "cosim": cosim, "unit": unit, "note": note}
    if paper:
        r["cosim_over_paper"] = cosim / paper
        if abs(cosim / paper - 1) > GAP:
            r["explanation"] = EXPLAIN[why] if why else "(no explanation recorded)"
    return r


# ----------------------------------------------------------------------------- specs and workloads


def specs() -> dict[str, L.Spec]:
    lut8 = load_arch(REPO / "models" / "lut_tensor_core.yaml").spec
    lut4 = load_arch(REPO / "models" / "lut_tensor_core_4x.yaml").spec
    mac = load_arch(REPO / "models" / "lut_tensor_core_mac_baseline.yaml").spec
    int8 = replace(mac, name="a100_int8_tc", cost=replace(mac.cost, mac_tc_area_mm2_per_sm=0.312))  # Table 1
    return {"A100 FP16 TC": mac, "A100 INT8 TC": int8, "A100-LUT-4X": lut4, "A100-LUT-8X": lut8}


def bitnet_graphs() -> dict[tuple[str, str], WorkloadGraph]:
    """(workload, precision) -> traced BitNet b1.58 3B (= LLaMA-3B shape) graphs of Table 1."""
    out = {}
    for wl, kw in (("BS1 SEQ2048", {"batch": 1, "seq_len": 2048}), ("BS1024 SEQ1", {"batch": 1024, "seq_len": 1})):
        for prec, quant in (("fp16", "W16A16"), ("w158a8", "W1.58A8")):
            log(f"tracing bitnet_b158_3b {wl} {quant}")
            out[(wl, prec)] = trace("bitnet_b158_3b", phase="prefill", quant=quant, **kw)
    return out


def tensor_energy_j(res) -> float:
    comps = res.energy_by_component_j()
    return comps.get("lut", 0.0) + comps.get("mac", 0.0)


def system_rows(sp: dict[str, L.Spec]) -> tuple[list[dict], dict[str, float]]:
    graphs = bitnet_graphs()
    rows, runs = [], {}
    for name, spec in sp.items():
        prec = "fp16" if name == "A100 FP16 TC" else "w158a8"  # FP16 TC runs LLaMA-3B in FP16 (Table 1)
        p_seq, p_b1024, p_peak, p_area, p_den = PAPER_TABLE1[name]
        for wl, p_ms in (("BS1 SEQ2048", p_seq), ("BS1024 SEQ1", p_b1024)):
            log(f"simulating {name} on {wl}")
            res = L.simulate(spec, graphs[(wl, prec)])
            runs[(name, wl)] = res
            rows.append(row("table1", f"{name} latency {wl}", p_ms, res.seconds * 1e3, "ms", why="system_latency"))
        w = 16 if prec == "fp16" else 2
        a = 16 if prec == "fp16" else 8
        peak = L.peak_ops_per_s(spec, w, a)
        area_sm = L.tensor_area_mm2(spec, False) / spec.num_sms
        density = L.compute_density_ops_per_s_mm2(spec, w, a, False)
        rows.append(row("table1", f"{name} peak", p_peak, peak / 1e12, "TOPS"))
        rows.append(row("table1", f"{name} TC area per SM", p_area, area_sm, "mm2"))
        rows.append(
            row(
                "table1",
                f"{name} TC density",
                p_den,
                density / 1e12,
                "TOPS/mm2",
                why="int8_density" if name == "A100 INT8 TC" else "",
            )
        )
    base, lut = runs[("A100 FP16 TC", "BS1024 SEQ1")], runs[("A100-LUT-8X", "BS1024 SEQ1")]
    summary = {
        "bitnet3b_speedup": base.seconds / lut.seconds,
        "bitnet3b_density_ratio": L.compute_density_ops_per_s_mm2(sp["A100-LUT-8X"], 2, 8, False)
        / L.compute_density_ops_per_s_mm2(sp["A100 FP16 TC"], 16, 16, False),
        # same model shape, same FLOPs: efficiency ratio = tensor-core energy ratio
        "bitnet3b_energy_eff_ratio": tensor_energy_j(base) / tensor_energy_j(lut),
        "bitnet3b_system_energy_ratio": base.energy_j / lut.energy_j,
    }
    rows.append(
        row(
            "bitnet3b",
            "speedup A100-LUT-8X vs A100 FP16 TC, BS1024 SEQ1",
            PAPER_BITNET_SPEEDUP,
            summary["bitnet3b_speedup"],
            "x",
            why="speedup",
        )
    )
    rows.append(
        row("bitnet3b", "TC compute density ratio", PAPER_BITNET_DENSITY, summary["bitnet3b_density_ratio"], "x")
    )
    rows.append(
        row(
            "bitnet3b",
            "TC energy efficiency ratio, BS1024 SEQ1",
            PAPER_BITNET_ENERGY_EFF,
            summary["bitnet3b_energy_eff_ratio"],
            "x",
            note="tensor-core energy; whole-system energy ratio in the JSON summary",
            why="energy",
        )
    )
    for wl in ("BS1 SEQ2048", "BS1024 SEQ1"):
        p = (
            PAPER_TABLE1["A100 FP16 TC"][0 if wl.startswith("BS1 ") else 1]
            / PAPER_TABLE1["A100-LUT-4X"][0 if wl.startswith("BS1 ") else 1]
        )
        c = runs[("A100 FP16 TC", wl)].seconds / runs[("A100-LUT-4X", wl)].seconds
        rows.append(row("bitnet3b", f"speedup A100-LUT-4X vs FP16 TC, {wl}", p, c, "x", why="speedup"))
    return rows, summary


# ----------------------------------------------------------------------------- Table 4: precompute


def one_layer(g: WorkloadGraph, title: str) -> WorkloadGraph:
    """The ops of decoder layer 0 (names ``layers.0.*``), with the edges among them."""
    keep = [o for o in g.ops if o.name.startswith("layers.0.")]
    names = {o.name for o in keep}
    out = WorkloadGraph(name=title, meta=dict(g.meta))
    for o in keep:
        out.add_op(o, deps=[p for p in g.predecessors(o.name) if p in names])
    return out


# OPT-175B and BLOOM-176B are not in the zoo: a zoo block of the same family, resized.
# OPT-175B: Zhang et al. 2022, Table 1 (d 12288, 96 heads).  BLOOM-176B: Scao et al. 2022
# (d 14336, 112 heads, GELU MLP 4d; ALiBi positions, here the GPT-3 block's learned positions).
TABLE4_MODELS = {
    "OPT-175B": ("opt_30b", {"d_model": 12288, "n_heads": 96, "n_kv_heads": 96, "d_ff": 49152}, 2048),
    "BLOOM-176B": (
        "gpt3_175b",
        {"d_model": 14336, "n_heads": 112, "n_kv_heads": 112, "d_ff": 57344, "max_positions": 4096},
        4096,
    ),
    "LLaMA2-70B": ("llama2_70b", {}, 4096),
}


def precompute_rows(lut1x: L.Spec) -> tuple[list[dict], dict[str, float]]:
    rows, over = [], {}
    for phase in ("prefill", "batch1024"):
        acc = {"sep": [], "fused": [], "p_sep": [], "p_fused": []}
        for model, (zoo, ov, seq) in TABLE4_MODELS.items():
            kw = {"batch": 1, "seq_len": seq} if phase == "prefill" else {"batch": 1024, "seq_len": 1}
            log(f"tracing one {model} layer, {phase}")
            g = one_layer(trace(zoo, phase="prefill", quant="W2A16", overrides={**ov, "n_layers": 1}, **kw), model)
            t = {m: L.simulate(replace(lut1x, precompute=m), g).seconds for m in L.Precompute}
            welder, p_pre, p_fused = PAPER_TABLE4[(model, phase)]
            acc["sep"].append(t[L.Precompute.SEPARATE] / t[L.Precompute.NONE] - 1)
            acc["fused"].append(t[L.Precompute.FUSED] / t[L.Precompute.NONE] - 1)
            acc["p_sep"].append(p_pre / welder - 1)
            acc["p_fused"].append(p_fused / welder - 1)
            rows.append(
                row(
                    "table4",
                    f"{model} {phase}: layer time without precompute (Welder)",
                    welder,
                    t[L.Precompute.NONE] * 1e3,
                    "ms",
                    why="system_latency",
                )
            )
        n = len(TABLE4_MODELS)
        for key, label in (("sep", "unfused"), ("fused", "fused")):
            ours, paper = 100 * sum(acc[key]) / n, 100 * sum(acc["p_" + key]) / n
            over[f"precompute_overhead_{label}_{phase}_pct"] = ours
            rows.append(
                row("table4", f"precompute overhead {label}, {phase} (mean of 3)", paper, ours, "%", why="precompute")
            )
    return rows, over


# ----------------------------------------------------------------------------- units


def unit_rows(sp: dict[str, L.Spec], synth: bool) -> tuple[list[dict], dict[str, float]]:
    lut, mac = sp["A100-LUT-8X"], sp["A100 FP16 TC"]
    rows = []
    summary: dict[str, float | None] = {}
    # Table 2 (W2A8 array power) vs Table 3 (W1A8 efficiency): bit-serial array, same power per cycle
    tops_w1 = 2 / L.tensor_energy_per_mac_j(lut, 1, 8, False)
    rows.append(row("units", "LUT array W1A8 energy efficiency (from Table 2 power)", 63.78, tops_w1 / 1e12, "TOPS/W"))
    rows.append(
        row(
            "units",
            "energy per MAC, MAC FP16 / LUT W2A8",
            None,
            L.tensor_energy_per_mac_j(mac, 16, 16, True) / L.tensor_energy_per_mac_j(lut, 2, 8, False),
            "x",
        )
    )
    if synth:
        from cosim.hw.lut_tc_synth import lut_vs_mac_fp16_units, lut_vs_mac_units

        log("synthesising rtl/lut_tc with yosys (cached under build/synth; first run ~3 min)")
        f = lut_vs_mac_fp16_units(n_share=lut.lut_n)
        summary["yosys_mac_over_lut_fp16_w1"] = f.mac_over_lut(1)
        rows.append(
            row(
                "units",
                f"yosys area MAC DP4 FP16xFP16 / LUT lane W1xFP16 (table shared by {f.n_share})",
                lut.cost.unit_density_lut_dp4_w1_fp16_flops_per_mm2 / lut.cost.unit_density_mac_dp4_fp16_flops_per_mm2,
                f.mac_over_lut(1),
                "x",
                note=f"transistors: MAC {f.mac_dp.transistors}, lane {f.lut_lane.transistors}, "
                f"table register {f.table.transistors}; = the DP4 density ratio (same throughput)",
                why="yosys_fp16",
            )
        )
        u = lut_vs_mac_units(n_share=lut.lut_n)
        for w in (1, 2, 4):
            summary[f"yosys_mac_over_lut_int8_w{w}"] = u.mac_over_lut(w)
            rows.append(
                row(
                    "units",
                    f"yosys area MAC DP4 INT8 / LUT lane (table shared by {u.n_share}), W{w} equal throughput",
                    None,
                    u.mac_over_lut(w),
                    "x",
                    note=f"transistors: MAC {u.mac_dp.transistors}, lane {u.lut_lane.transistors}, "
                    f"table {u.table_transistors}",
                )
            )
        summary["yosys_mac_over_lut_unshared_w1"] = u.mac_over_lut(1, shared=False)
        rows.append(
            row(
                "units",
                "yosys area MAC DP4 INT8 / LUT unit with its own table, W1",
                None,
                u.mac_over_lut(1, shared=False),
                "x",
                note="a conventional LUT unit that precomputes its own table",
            )
        )
    return rows, summary


# ----------------------------------------------------------------------------- main


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--no-synth", action="store_true", help="skip the yosys runs")
    args = ap.parse_args(argv)
    sp = specs()
    rows, summary = [], {}
    for part in (
        lambda: unit_rows(sp, not args.no_synth),
        lambda: system_rows(sp),
        lambda: precompute_rows(replace(sp["A100-LUT-4X"], name="a100_lut_1x", arrays_per_tensor_core=1)),
    ):
        r, s = part()
        rows += r
        summary.update(s)
    # the DP4 density ratio is measured on our FP16 RTL (yosys); None when --no-synth skips it
    summary["unit_density_ratio_w1fp16"] = summary.get("yosys_mac_over_lut_fp16_w1")
    summary = {k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else v) for k, v in summary.items()}
    if args.json:
        print(json.dumps({"name": "lut_tc", "rows": rows, "summary": summary}, indent=1))
        return
    sec = None
    notes = []
    for r in rows:
        if r["section"] != sec:
            sec = r["section"]
            print(f"\n== {sec}")
            print(f"{'metric':78s} {'paper':>10s} {'cosim':>10s} {'cosim/paper':>11s}  unit")
        ratio = f"{r['cosim_over_paper']:.2f}" if "cosim_over_paper" in r else "-"
        flag = " *" if "explanation" in r else ""
        print(f"{r['metric']:78s} {fmt(r['paper']):>10s} {fmt(r['cosim']):>10s} {ratio:>11s}  {r['unit']}{flag}")
        if r["note"]:
            print(f"{'':4s}({r['note']})")
        if "explanation" in r and r["explanation"] not in notes:
            notes.append(r["explanation"])
    print("\n== summary")
    for k, v in summary.items():
        print(f"{k:45s} {v}")
    if notes:
        print("\n== gaps over 20% (rows marked *), why")
        for i, n in enumerate(notes, 1):
            print(f"[{i}] {n}")


if __name__ == "__main__":
    main()
