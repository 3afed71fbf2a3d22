"""The same sweep on every executor (in-process, local processes, Ray, Dask) stores identical rows."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cosim.dse import run_sweep, sweep_from_mapping
from tests.dse.conftest import roofline_sweep


def _rows(store: Path) -> pd.DataFrame:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT * FROM evals ORDER BY eval_id").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict, pd.DataFrame]:
    d = roofline_sweep(constraints=["latency_s <= 1e-3"])
    path = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    run_sweep(sweep_from_mapping(d, "ref.yaml", Path.cwd()), path, workers=0, progress=False)
    return d, _rows(path)


@pytest.mark.parametrize(
    ("executor", "workers"),
    [("local", 2), ("ray", 2), ("dask", 2)],
)
def test_executor_results_equal_in_process_run(reference, tmp_path, executor, workers):
    d, ref = reference
    path = tmp_path / f"{executor}.duckdb"
    tmp_before = set(os.listdir("/tmp"))
    s = run_sweep(
        sweep_from_mapping(d, f"{executor}.yaml", Path.cwd()),
        path,
        executor=executor,
        workers=workers,
        batch_size=3,  # several tasks per worker, finishing out of order
        progress=False,
    )
    assert s.rows_evaluated == len(ref) == 36
    pd.testing.assert_frame_equal(_rows(path), ref, check_exact=True)
    leftovers = {p for p in set(os.listdir("/tmp")) - tmp_before if p.startswith(("cosim-ray-", "cosim-dask-"))}
    assert not leftovers  # temporary directories are removed on close
