"""A sweep killed with SIGKILL mid-run and resumed ends with exactly the store of an
uninterrupted run: no row lost, none duplicated, every value identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from tests.dse.conftest import roofline_sweep

ROOT = Path(__file__).resolve().parents[2]


def _spec(tmp: Path) -> Path:
    d = roofline_sweep(
        name="killme",
        axes={
            "peak_flops_per_s": {"log_space": [1e10, 1e14, 30]},
            "dram_bytes_per_s": {"log_space": [1e9, 1e12, 30]},
            "op_overhead_s": [0.0, 1e-7, 1e-6],
            "clock_hz": [1e9, 2e9],
        },
        constraints=["latency_s <= 1e-3"],
        objectives=["latency", "energy"],
    )
    p = tmp / "killme.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def _sweep(spec: Path, store: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cosim",
            "sweep",
            str(spec),
            "-o",
            str(store),
            "--workers",
            "1",
            "--batch-size",
            "16",
            "--quiet",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill below takes its workers too
    )


def _table(store: Path, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").df()
    finally:
        con.close()


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path):
    spec = _spec(tmp_path)
    ref, crashed = tmp_path / "ref.duckdb", tmp_path / "crashed.duckdb"

    p = _sweep(spec, ref)
    assert p.wait(timeout=300) == 0, p.stderr.read()

    # SIGKILL once the write-ahead log holds at least one batch of results (a results commit
    # writes ~1 MB; creating the tables and storing the workloads write a few kB)
    p = _sweep(spec, crashed)
    wal = Path(str(crashed) + ".wal")
    deadline = time.monotonic() + 240
    while p.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size >= 100_000:
            break
        time.sleep(0.01)
    assert p.poll() is None, "the sweep ended before it could be killed"
    # the whole job, as a crash or a scheduler would: killing only the parent would leave its
    # process pool's forkserver and worker running after the test
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL

    total = len(_table(ref, "evals"))
    partial = len(_table(crashed, "evals"))  # opening the store replays its WAL
    assert 0 < partial < total, (partial, total)

    p = _sweep(spec, crashed)
    assert p.wait(timeout=300) == 0, p.stderr.read()
    assert f"{total - partial:,} rows evaluated, {partial:,} already stored" in p.stderr.read()

    for table in ("evals", "ops", "workloads"):
        a, b = _table(ref, table), _table(crashed, table)
        assert len(a) == len(b), table
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    ev = _table(crashed, "evals")
    assert ev["eval_id"].is_unique
    assert len(_table(crashed, "ops")) > 0  # the front designs' per-op results were written after resuming
