"""The CLI contract: exit 0 on success, 2 with one line naming the problem on user errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import MODELS, REPO, WORKLOADS


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["trace", "missing.yaml"], "missing.yaml: no such file"),
        (["simulate", "--arch", "missing.yaml", "--workload", "workloads/resnet50.yaml"], "missing.yaml: no such file"),
        (["simulate", "--arch", "models/roofline_a100.yaml", "--workload", "w.txt"], "unknown workload file type"),
        (["graph", "summary", "missing.json"], "missing.json: no such file"),
    ],
)
def test_user_errors_exit_2_with_one_line(run_cli, args, needle, monkeypatch):
    monkeypatch.chdir(REPO)
    code, _out, err = run_cli(*args)
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_yaml_keys_exit_2(run_cli, tmp_path):
    bad = tmp_path / "w.yaml"
    bad.write_text("name: x\nmodel: resnet50\nbatch: 1\nimgsize: 3\n")
    code, _, err = run_cli("trace", bad)
    assert code == 2 and "unknown key 'imgsize'" in err and str(bad) in err


def test_usage_errors_exit_2_without_traceback():
    r = subprocess.run([sys.executable, "-m", "cosim", "simulate", "--bogus"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "No such option" in r.stderr


def test_simulate_json_follows_the_design_schema(run_cli):
    code, out, err = run_cli(
        "simulate", "--arch", MODELS / "roofline_a100.yaml", "--workload", WORKLOADS / "resnet50.yaml", "--json"
    )
    assert code == 0, err
    d = json.loads(out)
    assert set(d) >= {"arch", "workload", "ops", "total"}
    assert set(d["total"]) >= {"cycles", "seconds", "energy_j", "area_mm2"}
    op = d["ops"][0]
    assert set(op) >= {"name", "kind", "M", "N", "K", "batch", "cycles", "seconds", "energy_j", "utilization", "bound"}
    assert op["bound"] in ("compute", "memory", "latency")
    assert d["total"]["seconds"] == pytest.approx(sum(o["seconds"] for o in d["ops"]))


def test_simulate_prints_a_table(run_cli):
    code, out, _ = run_cli(
        "simulate", "--arch", MODELS / "roofline_a100.yaml", "--workload", WORKLOADS / "resnet50.yaml"
    )
    assert code == 0 and "resnet50 on" in out and "total" in out


def test_unsupported_op_in_a_user_model_exits_2(run_cli, tmp_path):
    (tmp_path / "m.py").write_text(
        "import torch\n"
        "def build(spec):\n"
        "    return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Hardshrink()), (torch.zeros(1, 4),)\n"
    )
    (tmp_path / "w.yaml").write_text("name: mine\nmodel: m.py:build\n")
    code, _, err = run_cli("graph", "summary", tmp_path / "w.yaml")
    assert code == 2 and "aten::hardshrink in 1" in err and err.count("\n") == 1


def test_list_shows_models(run_cli):
    code, out, _ = run_cli("list")
    assert code == 0 and "roofline" in out and "llama2_70b" in out and "resnet50" in out
