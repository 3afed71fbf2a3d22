"""Sweep specs: ranges expand as written, and bad specs fail with one line before any work."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cosim.dse.spec import Objective, Strategy, load_sweep, sweep_from_mapping
from cosim.errors import SpecError
from tests.dse.conftest import ROOFLINE_BASE, roofline_sweep

ROOT = Path(__file__).resolve().parents[2]


def _load(d: dict) -> object:
    return sweep_from_mapping(d, "sweep.yaml", Path.cwd())


def test_axes_expand_lists_ranges_and_log_ranges():
    d = roofline_sweep(
        axes={
            "peak_flops_per_s": {"log_range": [1e11, 1e13, 10]},
            "dram_bytes_per_s": {"log_space": [1e10, 1e12, 3]},
            "op_overhead_s": {"range": [0.0, 2e-6, 1e-6]},
            "clock_hz": [1e9, 2e9],
        }
    )
    s = _load(d)
    axes = {a.name: a.values for a in s.spaces[0].axes}
    assert axes["peak_flops_per_s"] == (1e11, 1e12, 1e13)
    assert axes["dram_bytes_per_s"] == (1e10, 1e11, 1e12)
    assert axes["op_overhead_s"] == (0.0, 1e-6, 2e-6)
    assert s.spaces[0].size == 3 * 3 * 3 * 2
    assert len(list(s.spaces[0].grid())) == 54


def test_integer_ranges_stay_integers_and_include_stop():
    from cosim.dse.spec import _expand_values

    assert _expand_values({"range": [64, 256, 64]}, "x") == [64, 128, 192, 256]
    assert _expand_values({"range": [1, 10, 4]}, "x") == [1, 5, 9]
    assert _expand_values({"log_range": [64, 1024, 2]}, "x") == [64, 128, 256, 512, 1024]
    assert _expand_values({"log_range": ["1e9", "4e9", 2]}, "x") == [1e9, 2e9, 4e9]


def test_tied_axis_sets_several_fields_and_param_constraints_filter():
    d = roofline_sweep(
        axes={"peak_flops_per_s,dram_bytes_per_s": [1e11, 1e12], "clock_hz": [1e9, 2e9, 4e9]},
        constraints=["clock_hz <= 2e9", "latency_s <= 1"],
    )
    s = _load(d)
    sp = s.spaces[0]
    grid = list(sp.grid())
    assert len(grid) == 4  # 2 tied values x 2 clocks that pass the constraint
    f = sp.fields_of(grid[0])
    assert f["peak_flops_per_s"] == f["dram_bytes_per_s"] == 1e11
    assert sp.spec_of_fields(f).dram_bytes_per_s == 1e11


def test_nested_fields_and_inline_spaces_and_objectives():
    d = roofline_sweep()
    del d["base"], d["axes"]
    d["spaces"] = [
        {"name": "a", "base": copy.deepcopy(ROOFLINE_BASE), "axes": {"clock_hz": [1e9]}},
        {"name": "b", "base": copy.deepcopy(ROOFLINE_BASE), "axes": {}},
    ]
    d["objectives"] = ["throughput", "perf_per_area", "edp"]
    s = _load(d)
    assert [sp.name for sp in s.spaces] == ["a", "b"]
    assert s.objectives == (Objective.THROUGHPUT, Objective.PERF_PER_AREA, Objective.EDP)
    assert [o.maximize for o in s.objectives] == [True, True, False]
    assert s.search.strategy is Strategy.GRID


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"axes": {"peak_flop_per_s": [1e12]}},
            r"axes\.peak_flop_per_s: unknown axis field 'peak_flop_per_s' \(allowed: ",
        ),
        ({"axes": {"peak_flops_per_s.x": [1e12]}}, r"'peak_flops_per_s' is not a nested spec"),
        ({"axes": {"peak_flops_per_s": []}}, r"axes\.peak_flops_per_s: empty list of values"),
        ({"axes": {"peak_flops_per_s": {"range": [1e12, 1e11, 1e10]}}}, r"empty range: start .* > stop"),
        ({"axes": {"peak_flops_per_s": {"range": [1, 5, 0]}}}, r"range step must be > 0"),
        ({"axes": {"peak_flops_per_s": {"log_range": [1e11, 1e12, 1]}}}, r"factor > 1"),
        ({"axes": {"peak_flops_per_s": {"steps": [1, 2, 3]}}}, r"unknown range kind 'steps'"),
        (
            {"axes": {"peak_flops_per_s": [0.0, 1e12]}},
            r"axes\.peak_flops_per_s: value 0\.0 rejected by the roofline spec: peak_flops_per_s: must be > 0",
        ),
        ({"axes": {"peak_flops_per_s": [1e12, 1e12]}}, r"duplicate values"),
        ({"axes": {"name": ["a", "b"]}}, r"'name' cannot be swept"),
        (
            {"constraints": ["area_mm2 <= 10", "area_mm2 >= 20"]},
            r"contradictory constraints 'area_mm2 <= 10' and 'area_mm2 >= 20'",
        ),
        ({"constraints": ["latency_s < 1", "latency_s > 1"]}, r"contradictory constraints"),
        ({"constraints": ["op_overhead_s > 1"]}, r"exclude every design of space 'roof'"),
        ({"constraints": ["area <= 100"]}, r"constraint 'area <= 100' uses unknown name 'area' \(allowed: "),
        ({"constraints": ["area_mm2 100"]}, r"cannot parse constraint"),
        ({"constraints": ["area_mm2 <= 10 <= 20"]}, r"must be one comparison"),
        ({"constraints": ["__import__('os') == 1"]}, r"only names, numbers"),
        ({"objectives": ["speed"]}, r"objectives\[0\]: unknown value 'speed' \(allowed: throughput, latency, energy"),
        ({"objectives": []}, r"objectives: give at least one of"),
        ({"objectives": ["energy", "energy"]}, r"duplicate objective"),
        ({"workloads": []}, r"workloads: give at least one workload"),
        ({"workloads": ["nope.csv"]}, r"workloads: no such file 'nope.csv'"),
        (
            {"search": {"strategy": "annealing"}},
            r"search\.strategy: unknown value 'annealing' \(allowed: grid, random, nsga2\)",
        ),
        ({"search": {"strategy": "random", "samples": 0}}, r"search\.samples: must be >= 1"),
        ({"base": {"model": "tpu9000", "name": "x"}}, r"model: unknown hardware model 'tpu9000'"),
        ({"spaces": [{"base": ROOFLINE_BASE}]}, r"either 'base' \(\+ 'axes'\) or 'spaces'"),
        ({"strategy": "grid"}, r"unknown key 'strategy'"),
    ],
)
def test_bad_spec_raises_one_line(change, message):
    d = roofline_sweep(**change)
    with pytest.raises(SpecError, match=message) as ei:
        _load(d)
    assert "\n" not in str(ei.value)


def test_bad_spec_exits_2_with_one_line_on_stderr_and_no_store(tmp_path):
    d = roofline_sweep(axes={"peak_flops_per_s": {"range": [10, 1, 1]}})
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump(d))
    out = tmp_path / "res.duckdb"
    p = subprocess.run(
        [sys.executable, "-m", "cosim", "sweep", str(spec), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert p.returncode == 2
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "empty range: start 10 > stop 1" in lines[0], p.stderr
    assert not out.exists()


def test_relative_paths_resolve_from_the_sweep_file(tmp_path, data_dir):
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "r.yaml").write_text(yaml.safe_dump(ROOFLINE_BASE))
    (tmp_path / "w.csv").write_text((data_dir / "mlp.csv").read_text())
    spec = tmp_path / "sweeps" / "s.yaml"
    spec.write_text(yaml.safe_dump({"base": "models/r.yaml", "workloads": ["w.csv"], "objectives": ["latency"]}))
    s = load_sweep(spec)
    assert s.name == "s" and s.spaces[0].name == "r"
    assert s.workloads[0] == (tmp_path / "w.csv").resolve()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"executor": "spark"}, r"--executor: unknown executor 'spark' \(allowed: local, ray, dask\)"),
        ({"executor": "local", "address": "tcp://x:1"}, r"--address is for --executor ray or dask"),
        ({"workers": -1}, r"--workers: must be >= 0"),
        ({"batch_size": 0}, r"--batch-size: must be >= 1"),
    ],
)
def test_bad_executor_options_fail_before_any_work(tmp_path, kwargs, message):
    from cosim.dse import run_sweep

    store = tmp_path / "x.duckdb"
    with pytest.raises(SpecError, match=message):
        run_sweep(_load(roofline_sweep()), store, progress=False, **kwargs)
    assert not store.exists()
