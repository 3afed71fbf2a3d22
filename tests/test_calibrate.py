"""Calibration: the fit recovers known parameters from synthetic data; spec files; the CLI paths.

Synthetic measurements are made by the model itself with chosen "true" parameters; the fit starts
from other values and must find the true ones again (the reference is the chosen parameters, not
a number the fit produced).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cosim import calibrate as cal
from cosim import gpubench as gb
from cosim.cli import main
from cosim.errors import SpecError
from cosim.hw import gpu, load_arch
from cosim.workload import load_op_csv

ROOT = Path(__file__).resolve().parents[1]
H100 = ROOT / "models" / "gpu_h100.yaml"


def synthetic(spec: gpu.Spec, cases: list[gb.Case]) -> list[gb.Measurement]:
    """Measurements whose times are the model's predictions under `spec`."""
    pred = cal.predict_rows(spec, [gb.Measurement(c, 1.0, 1.0, 1.0, 1, 1, 1, "synthetic", "model") for c in cases])
    return [gb.Measurement(c, float(p), float(p), float(p), 1, 1, 1, "synthetic", "model") for c, p in zip(cases, pred)]


def base_spec() -> gpu.Spec:
    return cal.load_spec(H100)[0]


def recover(true_eff: gpu.Efficiency, start_eff: gpu.Efficiency, cases: list[gb.Case], names: list[str]) -> None:
    spec = base_spec()
    rows = synthetic(replace(spec, efficiency=true_eff), cases)
    params = [p for _, _, ps in cal._stages(rows) for p in ps if p.name in names]
    assert sorted(p.name for p in params) == sorted(names)
    res = cal.fit_params(replace(spec, efficiency=start_eff), rows, params, starts=1)
    for p, v in zip(res.params, res.values):
        assert v == pytest.approx(p.get(true_eff), rel=0.03), p.name
    assert res.p90_abs_err_pct < 0.5


def test_fit_recovers_gemm_efficiencies() -> None:
    cases = [
        gb._gemm_case("fit", "bfloat16", M, N, K)
        for M in (1, 8, 64, 200, 1000, 3000, 8192)
        for K, N in ((4096, 4096), (4096, 14336), (14336, 4096), (2048, 1024))
    ]
    e = base_spec().efficiency
    true = replace(e, compute={**e.compute, "bfloat16": 0.7}, dram=0.8, gemm_latency_s=3e-6, wave_quant=0.6)
    start = replace(e, compute={**e.compute, "bfloat16": 0.95}, dram=0.6, gemm_latency_s=1e-6, wave_quant=0.3)
    recover(true, start, cases, ["compute.bfloat16", "dram", "gemm_latency_s", "wave_quant"])


def test_fit_recovers_decode_attention_parameters() -> None:
    cases = [
        gb._attn_case("fit", "attention_decode", "bfloat16", B, H, Hkv, 128, 1, L)
        for B in (1, 4, 16, 64)
        for L in (512, 4096, 32768)
        for H, Hkv in ((32, 32), (32, 8))
    ]
    e = base_spec().efficiency
    true = replace(e, attn_dram=0.9, attn_dram_waves=0.7, attn_latency_s=5e-6, attn_cta_bytes_per_s=1e12)
    start = replace(e, attn_dram=0.6, attn_dram_waves=0.9, attn_latency_s=1e-6, attn_cta_bytes_per_s=1e12)
    recover(true, start, cases, ["attn_dram", "attn_dram_waves", "attn_latency_s"])


def test_fit_recovers_memory_bound_parameters() -> None:
    cases = [gb._vec_case("fit", "copy", "bfloat16", "copy", m, 4096) for m in (1, 16, 256, 4096, 65536)]
    cases += [gb._vec_case("fit", "elementwise", "bfloat16", "add", m, 4096) for m in (1, 16, 256, 4096, 65536)]
    e = base_spec().efficiency
    true = replace(
        e,
        launch_s=1.5e-6,
        vector={**e.vector, "copy": 0.8, "elementwise": 0.9},
        vector_latency_s={**e.vector_latency_s, "elementwise": 0.5e-6},
    )
    start = replace(
        e,
        launch_s=0.5e-6,
        vector={**e.vector, "copy": 0.5, "elementwise": 0.5},
        vector_latency_s={**e.vector_latency_s, "elementwise": 2e-6},
    )
    recover(true, start, cases, ["launch_s", "vector.copy", "vector.elementwise", "vector_latency_s.elementwise"])


def test_bf16_and_fp16_share_one_parameter() -> None:
    rows = synthetic(
        base_spec(), [gb._gemm_case("fit", dt, 1024, 1024, 1024) for dt in ("bfloat16", "float16", "int8")]
    )
    names = [p.name for _, _, ps in cal._stages(rows) for p in ps if p.field == "compute"]
    assert names == ["compute.bfloat16+float16", "compute.int8"]
    e = cal.with_params(base_spec().efficiency, [cal.Param("compute", "bfloat16+float16")], [0.5])
    assert e.compute["bfloat16"] == e.compute["float16"] == 0.5


def test_render_spec_rewrites_only_the_calibrated_block() -> None:
    text = H100.read_text()
    e = replace(base_spec().efficiency, dram=0.5)
    out = cal.render_spec(text, e, ["a comment"])
    assert out.count(cal.BEGIN) == 1 and "# a comment" in out and "  dram: 0.5\n" in out
    before, after = text.split(cal.BEGIN)[0], out.split(cal.BEGIN)[0]
    assert before == after  # datasheet part and its source comments untouched
    assert "efficiency:" in cal.render_spec("model: gpu\nname: x\n", e)  # appended when absent
    with pytest.raises(SpecError, match="outside"):
        cal.render_spec("model: gpu\nefficiency:\n  dram: 1\n", e)


def test_default_name_from_device_name() -> None:
    assert cal.default_name("NVIDIA H100 80GB HBM3") == "h100"
    assert cal.default_name("NVIDIA A100-SXM4-80GB") == "a100"


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(argv)
    out = capsys.readouterr()
    return int(ex.value.code), out.out, out.err


def test_calibrate_without_cuda_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this check needs a machine without a CUDA device")
    code, _, err = run_cli(["calibrate", "--device", "cuda"], capsys)
    assert code == 2 and "no CUDA device" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["calibrate", "--device", "cpu"], capsys)
    assert code == 2 and "--device" in err


def test_calibrate_from_csv_writes_a_loadable_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = base_spec()
    cases = [gb._gemm_case("fit", "bfloat16", M, 4096, 4096) for M in (1, 64, 1024)]
    cases += [gb._attn_case("fit", "attention_decode", "bfloat16", 4, 32, 8, 128, 1, 4096)]
    cases += [gb._attn_case("fit", "attention_prefill", "bfloat16", 1, 32, 8, 128, 1024, 1024)]
    cases += [gb._vec_case("fit", "copy", "bfloat16", "copy", 256, 4096)]
    rows = synthetic(spec, cases)
    csv = tmp_path / "gpu_x_calib.csv"
    gb.write_csv(csv, rows, {"device": "synthetic", "torch": "none"})
    base = tmp_path / "base.yaml"
    shutil.copy(H100, base)
    out = tmp_path / "gpu_x.yaml"
    code, _, err = run_cli(
        ["calibrate", "--from-csv", str(csv), "--base", str(base), "-o", str(out), "--starts", "1"], capsys
    )
    assert code == 0, err
    arch = load_arch(out)
    pred = cal.predict_rows(arch.spec, rows)
    assert np.allclose(pred, [m.median_s for m in rows], rtol=0.01)  # noise-free data: fitted exactly
    assert "fitted on 6 rows of gpu_x_calib.csv" in out.read_text()


def test_calibrate_from_csv_without_fit_rows_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = synthetic(base_spec(), [gb._gemm_case("heldout", "bfloat16", 8, 4096, 4096)])
    csv = tmp_path / "held.csv"
    gb.write_csv(csv, rows)
    code, _, err = run_cli(
        ["calibrate", "--from-csv", str(csv), "--base", str(H100), "-o", str(tmp_path / "o.yaml")], capsys
    )
    assert code == 2 and "no rows of the fit set" in err


def test_simulate_op_list_csv_on_the_h100(capsys: pytest.CaptureFixture[str]) -> None:
    csv = ROOT / "workloads" / "gpu_ops_example.csv"
    code, out, err = run_cli(["simulate", "--arch", str(H100), "--workload", str(csv), "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    ops = {o["name"]: o for o in d["ops"]}
    assert len(ops) == load_op_csv(csv).number_of_nodes()
    assert d["total"]["seconds"] == pytest.approx(sum(o["seconds"] for o in d["ops"]))
    # no op may beat the datasheet: weights / 3.35 TB/s for the LM-head GEMV, KV bytes for decode attention
    lm_head = 4096 * 128256 * 2
    assert lm_head / 3.35e12 < ops["decode.lm_head"]["seconds"] < 2 * lm_head / 3.35e12
    kv = 2 * 8 * 8 * 2048 * 128 * 2
    assert ops["decode.attention"]["seconds"] > kv / 3.35e12
    prefill_flops = 2 * 2048 * 6144 * 4096
    assert ops["prefill.qkv_proj"]["seconds"] > prefill_flops / 989.4e12
    assert ops["decode.lm_head"]["bound"] == "memory" and ops["prefill.qkv_proj"]["bound"] == "compute"
