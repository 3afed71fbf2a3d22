"""Reading a sweep store back: feasibility under the sweep's constraints, objectives, fronts.

Fronts are computed per workload (each workload's own trade-off) and, when a sweep has more
than one workload, over all workloads together: a design's objective is then the geometric
mean of its per-workload values (area is the same on every workload), counted only for
designs that ran every workload.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cosim.dse.pareto import pareto_mask
from cosim.dse.spec import METRICS, Constraint, Objective

ALL_WORKLOADS = "(all workloads)"


def constraints_from_meta(meta: Mapping[str, Any]) -> list[Constraint]:
    """Re-parse the constraints stored with a sweep (their names were checked when it ran)."""
    texts = meta.get("constraints", []) or []
    return [Constraint.parse(t, None, f"constraints[{i}]") for i, t in enumerate(texts)]


def feasible(df: pd.DataFrame, constraints: Sequence[Constraint]) -> np.ndarray:
    """Per row: ran successfully and satisfies every constraint that applies to it (a constraint
    naming parameters applies to the rows whose design has those parameters)."""
    ok = df["ok"].fillna(False).to_numpy(dtype=bool)
    if not constraints or df.empty:
        return ok
    params = pd.DataFrame([json.loads(p) if isinstance(p, str) else {} for p in df["params"]], index=df.index)
    cols: dict[str, np.ndarray] = {}
    for m in METRICS:
        if m in df.columns:
            cols[m] = pd.to_numeric(df[m], errors="coerce").to_numpy(dtype=float)
    present: dict[str, np.ndarray] = {}
    for c in params.columns:
        present[c] = params[c].notna().to_numpy()
        cols[c] = pd.to_numeric(params[c], errors="coerce").to_numpy(dtype=float)
    out = ok.copy()
    n = len(df)
    for c in constraints:
        applies = np.ones(n, dtype=bool)
        for name in c.names - METRICS.keys():
            applies &= present.get(name, np.zeros(n, dtype=bool))
        holds = c.evaluate_arrays(cols, n)
        out &= ~applies | holds
    return out


def objective_matrix(df: pd.DataFrame, objectives: Sequence[Objective]) -> tuple[np.ndarray, list[bool]]:
    cols = [o.metric for o in objectives]
    v = df[cols].to_numpy(dtype=float) if len(df) else np.empty((0, len(cols)))
    return v, [o.maximize for o in objectives]


def aggregate_designs(df: pd.DataFrame, objectives: Sequence[Objective], n_workloads: int) -> pd.DataFrame:
    """One row per design (spec_hash) with the geometric mean of each objective over workloads;
    designs missing a workload or infeasible on one are dropped."""
    if df.empty:
        return df.iloc[0:0]
    cols = sorted({o.metric for o in objectives} | {"latency_s", "energy_j", "area_mm2", "throughput_per_s"})
    work = df[["spec_hash", "feasible", *cols]].copy()
    for c in cols:
        v = work[c].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            work[c] = np.where(v > 0, np.log(v), np.nan)
    g = work.groupby("spec_hash", sort=False)
    agg = g[cols].mean()
    count = g.size()
    nan_any = g[cols].count().lt(count, axis=0)  # a missing or non-positive value on some workload
    all_feasible = g["feasible"].all()
    keep = (count >= n_workloads) & all_feasible
    first = df.drop_duplicates("spec_hash").set_index("spec_hash")
    out = pd.DataFrame(
        {
            "spec_hash": agg.index,
            "space": first.loc[agg.index, "space"].to_numpy(),
            "model": first.loc[agg.index, "model"].to_numpy(),
            "params": first.loc[agg.index, "params"].to_numpy(),
            "point_index": df.groupby("spec_hash", sort=False)["point_index"].min().loc[agg.index].to_numpy(),
            "workload": ALL_WORKLOADS,
        }
    )
    for c in cols:
        vals = np.exp(agg[c].to_numpy(dtype=float))
        vals[nan_any[c].to_numpy(dtype=bool)] = math.nan
        out[c] = vals
    return out[keep.loc[agg.index].to_numpy()].reset_index(drop=True)


def with_feasibility(df: pd.DataFrame, constraints: Sequence[Constraint]) -> pd.DataFrame:
    out = df.copy()
    out["feasible"] = feasible(out, constraints)
    return out


def front_of(df: pd.DataFrame, objectives: Sequence[Objective]) -> np.ndarray:
    """Mask of the Pareto front of `df`'s feasible rows (all rows without a ``feasible`` column)."""
    mask = np.zeros(len(df), dtype=bool)
    if df.empty:
        return mask
    v, mx = objective_matrix(df, objectives)
    idx = np.flatnonzero(df["feasible"].to_numpy(dtype=bool)) if "feasible" in df.columns else np.arange(len(df))
    if idx.size:
        mask[idx] = pareto_mask(v[idx], mx)
    return mask


def fronts(df: pd.DataFrame, objectives: Sequence[Objective]) -> dict[str, pd.DataFrame]:
    """Workload name -> its front rows (feasible, non-dominated), plus `ALL_WORKLOADS` when there
    are several workloads."""
    out: dict[str, pd.DataFrame] = {}
    workloads = list(dict.fromkeys(df["workload"]))
    for w in workloads:
        sub = df[df["workload"] == w]
        out[w] = sub[front_of(sub, objectives)]
    if len(workloads) > 1:
        agg = aggregate_designs(df, objectives, len(workloads))
        if not agg.empty:
            agg["feasible"] = True
            out[ALL_WORKLOADS] = agg[front_of(agg, objectives)]
    return out


__all__ = [
    "ALL_WORKLOADS",
    "aggregate_designs",
    "constraints_from_meta",
    "feasible",
    "front_of",
    "fronts",
    "objective_matrix",
    "with_feasibility",
]
