"""Sweeps end to end: stored metrics equal the model's own run, reruns skip stored rows,
random and NSGA-II searches are deterministic and resumable, fronts honour constraints."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cosim.dse import run_sweep, sweep_from_mapping
from cosim.dse.analysis import ALL_WORKLOADS, fronts, with_feasibility
from cosim.dse.evaluate import items_per_run
from cosim.dse.pareto import pareto_mask_bruteforce
from cosim.dse.spec import Objective
from cosim.dse.store import Store
from cosim.hw import MODELS, arch_from_mapping
from cosim.workload import load_workload
from tests.dse.conftest import DATA, ROOFLINE_BASE, roofline_sweep


def _spec(d: dict, name: str = "s.yaml"):
    return sweep_from_mapping(d, name, Path.cwd())


def _evals(path: Path) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM evals ORDER BY point_index, workload").df()
    finally:
        con.close()


def test_stored_rows_equal_the_models_own_run(tmp_path):
    path = tmp_path / "r.duckdb"
    run_sweep(_spec(roofline_sweep()), path, workers=0, progress=False)
    df = _evals(path)
    assert len(df) == 18 * 2 and df["ok"].all()
    graphs = {g.title: g for g in (load_workload(DATA / "mlp.csv"), load_workload(DATA / "decode.csv"))}
    for r in df.sample(8, random_state=0).itertuples():
        mapping = {**ROOFLINE_BASE, **json.loads(r.params)}
        arch = arch_from_mapping(mapping, "x")
        res = arch.simulate(graphs[r.workload])
        assert r.cycles == res.cycles
        assert r.latency_s == res.seconds
        assert r.energy_j == pytest.approx(res.energy_j, rel=1e-12)
        items = items_per_run(graphs[r.workload])
        assert r.throughput_per_s == pytest.approx(items / res.seconds)
        assert r.edp_js == pytest.approx(res.energy_j * res.seconds)
        assert r.power_w == pytest.approx(res.energy_j / res.seconds)
        assert json.loads(r.energy_by_component) == pytest.approx(res.energy_by_component_j())


def test_rerun_evaluates_only_missing_rows(tmp_path):
    path = tmp_path / "r.duckdb"
    first = run_sweep(_spec(roofline_sweep()), path, workers=0, progress=False)
    assert (first.rows_evaluated, first.rows_skipped) == (36, 0)
    again = run_sweep(_spec(roofline_sweep()), path, workers=0, progress=False)
    assert (again.rows_evaluated, again.rows_skipped) == (0, 36)
    # a wider axis adds only the new designs
    d = roofline_sweep()
    d["axes"]["op_overhead_s"] = [0.0, 1e-6, 1e-5]
    more = run_sweep(_spec(d), path, workers=0, progress=False)
    assert (more.rows_evaluated, more.rows_skipped) == (18, 36)
    assert len(_evals(path)) == 54


def test_random_search_is_deterministic_distinct_and_sized(tmp_path):
    d = roofline_sweep(search={"strategy": "random", "samples": 7, "seed": 3})
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    run_sweep(_spec(d), a, workers=0, progress=False)
    run_sweep(_spec(d), b, workers=0, progress=False)
    ea, eb = _evals(a), _evals(b)
    pd.testing.assert_frame_equal(ea, eb)
    assert ea["spec_hash"].nunique() == 7
    d["search"]["seed"] = 4
    c = tmp_path / "c.duckdb"
    run_sweep(_spec(d), c, workers=0, progress=False)
    assert set(_evals(c)["spec_hash"]) != set(ea["spec_hash"])


def test_nsga2_is_deterministic_and_resumes_from_the_store(tmp_path):
    d = roofline_sweep(
        axes={
            "peak_flops_per_s": {"log_space": [1e10, 1e14, 9]},
            "dram_bytes_per_s": {"log_space": [1e9, 1e12, 9]},
            "op_overhead_s": [0.0, 1e-7, 1e-6],
        },
        search={"strategy": "nsga2", "population": 8, "generations": 3, "seed": 1},
        objectives=["latency", "energy"],
    )
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    sa = run_sweep(_spec(d), a, workers=0, progress=False)
    run_sweep(_spec(d), b, workers=0, progress=False)
    pd.testing.assert_frame_equal(_evals(a), _evals(b))
    assert 0 < sa.rows_evaluated <= 8 * 3 * 2
    # more generations on the same store: the first three are replayed from it
    d["search"]["generations"] = 5
    more = run_sweep(_spec(d), a, workers=0, progress=False)
    assert more.rows_skipped >= sa.rows_evaluated
    assert set(_evals(b)["eval_id"]) <= set(_evals(a)["eval_id"])


def test_fronts_respect_constraints_and_equal_bruteforce(tmp_path):
    d = roofline_sweep(constraints=["latency_s <= 2e-5"], objectives=["latency", "energy", "throughput"])
    path = tmp_path / "r.duckdb"
    s = _spec(d)
    run_sweep(s, path, workers=0, progress=False)
    df = with_feasibility(_evals(path), s.constraints)
    assert (df["feasible"] == (df["latency_s"] <= 2e-5)).all()
    fr = fronts(df, s.objectives)
    for wl in ("mlp", "decode"):
        sub = df[(df["workload"] == wl) & df["feasible"]]
        v = sub[["latency_s", "energy_j", "throughput_per_s"]].to_numpy(dtype=float)
        expected = set(sub["eval_id"][pareto_mask_bruteforce(v, [False, False, True])])
        assert set(fr[wl]["eval_id"]) == expected
    # all-workloads front: geometric means over both workloads
    agg = fr[ALL_WORKLOADS]
    for r in agg.itertuples():
        rows = df[df["spec_hash"] == r.spec_hash]
        assert r.latency_s == pytest.approx(math.exp(np.log(rows["latency_s"]).mean()))


def test_front_designs_get_per_op_results(tmp_path):
    path = tmp_path / "r.duckdb"
    s = _spec(roofline_sweep())
    run_sweep(s, path, workers=0, progress=False)
    with Store(path, read_only=True) as st:
        ops = st.ops_df()
        df = with_feasibility(st.evals_df(), s.constraints)
    front_ids = set()
    for wl, f in fronts(df, s.objectives).items():
        if wl == ALL_WORKLOADS:
            front_ids |= set(df.loc[df["spec_hash"].isin(f["spec_hash"]), "eval_id"])
        else:
            front_ids |= set(f["eval_id"])
    assert set(ops["eval_id"]) == front_ids
    # per-op rows sum to the stored totals
    tot = df.set_index("eval_id")
    for eid, g in ops.groupby("eval_id"):
        assert g["cycles"].sum() == tot.loc[eid, "cycles"]
        assert g["energy_j"].sum() == pytest.approx(tot.loc[eid, "energy_j"], rel=1e-12)


def test_store_ops_all_records_every_point(tmp_path):
    d = roofline_sweep(store_ops="all")
    path = tmp_path / "r.duckdb"
    run_sweep(_spec(d), path, workers=0, progress=False)
    with Store(path, read_only=True) as st:
        assert st.ops_df()["eval_id"].nunique() == st.count() == 36


def test_fast_path_equals_per_op_path_for_every_registered_model():
    """The HardwareModel contract: simulate_totals, where a model offers it, equals the totals of
    its per-op simulate, on every models/*.yaml of that model."""
    from cosim.dse.evaluate import totals
    from cosim.hw import load_arch

    root = Path(__file__).resolve().parents[2]
    graphs = [load_workload(DATA / "mlp.csv"), load_workload(DATA / "decode.csv")]
    for name, m in MODELS.items():
        if m.simulate_totals is None:
            continue
        ymls = [p for p in sorted((root / "models").glob("*.yaml")) if f"model: {name}" in p.read_text()]
        assert ymls, f"model {name} offers simulate_totals but has no models/*.yaml to check it on"
        for y in ymls:
            spec = load_arch(y).spec
            for g in graphs:
                fast, slow = totals(m, spec, g, fast=True), totals(m, spec, g, fast=False)
                assert fast["cycles"] == slow["cycles"], (y, g.title)
                assert fast["latency_s"] == pytest.approx(slow["latency_s"], rel=1e-12)
                assert fast["energy_j"] == pytest.approx(slow["energy_j"], rel=1e-9)
                assert fast["area_mm2"] == slow["area_mm2"]


def test_objective_directions():
    assert [o.maximize for o in Objective] == [True, False, False, False, False, True]
