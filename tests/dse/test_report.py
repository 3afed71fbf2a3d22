"""The report: every file is written, the HTML is self-contained, the CSV is the true front."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cosim.dse import run_sweep, sweep_from_mapping
from cosim.dse.pareto import pareto_mask_bruteforce
from cosim.dse.report import write_report
from cosim.dse.store import Store
from cosim.errors import SpecError
from tests.dse.conftest import roofline_sweep

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    d = roofline_sweep(constraints=["latency_s <= 1e-4"], objectives=["latency", "energy", "throughput"])
    path = tmp_path_factory.mktemp("rep") / "r.duckdb"
    run_sweep(sweep_from_mapping(d, "r.yaml", Path.cwd()), path, workers=0, progress=False)
    return path


def test_report_writes_plots_html_csv_and_parquet(swept, tmp_path):
    files = write_report(swept, tmp_path / "out", progress=False)
    # 3 objectives -> 3 pairs, for 2 workloads + all workloads together; one breakdown per workload
    pareto = sorted(p.name for p in files.plots if p.name.startswith("pareto_"))
    assert len(pareto) == 3 * 3
    assert "pareto_mlp__latency_vs_energy.png" in pareto
    assert {p.name for p in files.plots if p.name.startswith("breakdown_")} == {
        "breakdown_mlp.png",
        "breakdown_decode.png",
    }
    for p in files.plots:
        assert p.read_bytes()[:8] == PNG_MAGIC
    for p in files.parquet:
        assert len(pd.read_parquet(p)) > 0


def test_html_is_self_contained_and_sortable(swept, tmp_path):
    files = write_report(swept, tmp_path / "out", progress=False)
    text = files.html.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", text)  # nothing fetched
    assert text.count("data:image/png;base64,") == 9 + 2
    assert 'table class="sortable"' in text and "addEventListener('click'" in text


def test_front_csv_is_the_bruteforce_front_of_feasible_rows(swept, tmp_path):
    files = write_report(swept, tmp_path / "out", progress=False)
    front = pd.read_csv(files.csv)
    with Store(swept, read_only=True) as st:
        ev = st.evals_df()
    for wl in ("mlp", "decode"):
        sub = ev[(ev["workload"] == wl) & ev["ok"] & (ev["latency_s"] <= 1e-4)]
        v = sub[["latency_s", "energy_j", "throughput_per_s"]].to_numpy(dtype=float)
        expected = set(sub["eval_id"][pareto_mask_bruteforce(v, [False, False, True])])
        assert set(front.loc[front["front_of"] == wl, "eval_id"]) == expected
    assert {"p.peak_flops_per_s", "p.dram_bytes_per_s", "p.op_overhead_s"} <= set(front.columns)


def test_report_cli_and_errors(swept, tmp_path):
    out = tmp_path / "cli"
    p = subprocess.run(
        [sys.executable, "-m", "cosim", "report", str(swept), "-o", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLCONFIGDIR": str(tmp_path / "mpl")},
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert (out / "report.html").is_file() and (out / "pareto_front.csv").is_file()
    with pytest.raises(SpecError, match="no such results file"):
        write_report(tmp_path / "missing.duckdb", tmp_path / "x", progress=False)


def test_report_resimulates_front_ops_when_the_sweep_stored_none(tmp_path):
    from cosim.dse.analysis import constraints_from_meta, fronts, with_feasibility
    from cosim.dse.report import _front_ops
    from cosim.dse.run import _Progress
    from cosim.dse.spec import Objective

    d = roofline_sweep(store_ops="none")
    path = tmp_path / "none.duckdb"
    run_sweep(sweep_from_mapping(d, "n.yaml", Path.cwd()), path, workers=0, progress=False)
    with Store(path, read_only=True) as st:
        assert st.ops_df().empty
        ev = with_feasibility(st.evals_df(), constraints_from_meta(st.get_meta("sweep")))
        front = fronts(ev, [Objective.LATENCY, Objective.ENERGY])["decode"]
        ops = _front_ops(st, front, _Progress(False))
    assert set(ops["eval_id"]) == set(front["eval_id"])
    for r in front.itertuples():
        o = ops[ops["eval_id"] == r.eval_id]
        assert o["cycles"].sum() == r.cycles
        assert o["energy_j"].sum() == pytest.approx(r.energy_j, rel=1e-12)
    files = write_report(path, tmp_path / "out", progress=False)
    assert any(p.name == "breakdown_decode.png" for p in files.plots)
