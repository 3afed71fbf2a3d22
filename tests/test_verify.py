"""`cosim verify`: runs a bench through pytest, reports per-test results (uses the smoke bench)."""

import json
import os
import subprocess
import sys

import pytest

from cosim.rtl import REPO_ROOT
from cosim.verify import bench_blocks, summarize_cosim


def _cosim(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cosim", *args], cwd=REPO_ROOT, capture_output=True, text=True, env=env
    )


@pytest.mark.rtl
def test_verify_runs_one_block_on_one_simulator():
    res = _cosim("verify", "smoke", "--sim", "icarus", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads(res.stdout)
    assert report["failed"] == 0 and report["passed"] == 1
    (test,) = report["tests"]
    assert test["block"] == "smoke" and test["sim"] == "icarus" and test["outcome"] == "passed"


def test_verify_unknown_block_is_a_user_error():
    res = _cosim("verify", "no_such_block")
    assert res.returncode == 2
    assert "no bench for block 'no_such_block'" in res.stderr


def test_bench_blocks_lists_the_benches():
    assert {"smoke", "mac_pe", "opt1_pe", "opt3_pe", "dot_tree", "opt2_tree", "systolic_os", "systolic_ws"} <= set(
        bench_blocks()
    )


def test_cosim_summary_counts_matches_per_configuration():
    rec = {"block": "systolic_os", "sim": "Icarus", "rows": 4, "cols": 4, "dataflow": "os", "pe": "mac"}
    rows = summarize_cosim(
        [
            {**rec, "K": 1, "rtl_cycles": 9, "model_cycles": 6, "handshake_cycles": 3},
            {**rec, "K": 7, "rtl_cycles": 16, "model_cycles": 12, "handshake_cycles": 3},
        ]
    )
    assert rows == [
        {
            "block": "systolic_os",
            "sim": "Icarus",
            "config": "4x4 os mac",
            "runs": 2,
            "matched": 1,
            "K": [1, 7],
            "handshake_cycles": 3,
        }
    ]


@pytest.mark.rtl
def test_waves_flag_records_waveforms_on_both_simulators():
    """WAVES=1 builds in a separate directory and leaves an FST (Icarus) or a VCD (Verilator)."""
    from cosim.rtl import build_dir_for

    params = {"W": 8, "ACC_W": 20}  # tests/rtl/smoke's parameter set
    for sim, name in (("icarus", "mac_smoke.fst"), ("verilator", "dump.vcd")):
        wave = build_dir_for("mac_smoke", sim, params, waves=True) / name
        if wave.exists():
            wave.unlink()
    res = subprocess.run(
        [sys.executable, "-m", "cosim", "verify", "smoke", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "WAVES": "1"},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    fst = build_dir_for("mac_smoke", "icarus", params, waves=True) / "mac_smoke.fst"
    vcd = build_dir_for("mac_smoke", "verilator", params, waves=True) / "dump.vcd"
    assert fst.stat().st_size > 0
    text = vcd.read_text()
    assert "$var" in text and " acc " in text
