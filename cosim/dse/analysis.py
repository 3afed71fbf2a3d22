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
    """Re-parse the constraints stored with a sweep (names were checked when it ran)."""
    texts = meta.get("constraints", []) or []
    known = _AnyName()
    return [Constraint.parse(t, known, f"constraints[{i}]") for i, t in enumerate(texts)]


class _AnyName(dict):
    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self):  # pragma: no cover - only used in messages
        return iter(())


def feasible(df: pd.DataFrame, constraints: Sequence[Constraint]) -> np.ndarray:
    """Per row: ran successfully and satisfies every constraint that applies to it (a constraint
    naming parameters applies to the rows whose design has those parameters)."""
    ok = df["ok"].fillna(False).to_numpy(dtype=bool)
    if not constraints or df.empty:
        return ok
    params = [json.loads(p) if isinstance(p, str) else {} for p in df["params"]]
    metric_cols = [m for m in METRICS if m in df.columns]
    metric_vals = df[metric_cols].to_dict("records")
    out = ok.copy()
    for i, (p, m) in enumerate(zip(params, metric_vals)):
        if not out[i]:
            continue
        vals = {
            **p,
            **{k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in m.items()},
        }
        for c in constraints:
            if not (c.names - METRICS.keys()) <= p.keys():
                continue  # names parameters of another space
            if not c.evaluate(vals):
                out[i] = False
                break
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
    rows = []
    for sh, g in df.groupby("spec_hash", sort=False):
        if len(g) < n_workloads or not g["feasible"].all():
            continue
        r: dict[str, Any] = {
            "spec_hash": sh,
            "space": g["space"].iloc[0],
            "model": g["model"].iloc[0],
            "params": g["params"].iloc[0],
            "point_index": int(g["point_index"].min()),
            "workload": ALL_WORKLOADS,
            "eval_ids": list(g["eval_id"]),
        }
        for c in cols:
            vals = g[c].to_numpy(dtype=float)
            r[c] = float(np.exp(np.log(vals).mean())) if (vals > 0).all() else math.nan
        rows.append(r)
    return pd.DataFrame(rows)


def with_feasibility(df: pd.DataFrame, constraints: Sequence[Constraint]) -> pd.DataFrame:
    out = df.copy()
    out["feasible"] = feasible(out, constraints)
    return out


def front_of(df: pd.DataFrame, objectives: Sequence[Objective]) -> np.ndarray:
    """Mask of the Pareto front of the feasible rows of `df` over `objectives`."""
    if df.empty:
        return np.zeros(0, dtype=bool)
    v, mx = objective_matrix(df, objectives)
    mask = pareto_mask(v, mx)
    if "feasible" in df.columns:
        fe = df["feasible"].to_numpy(dtype=bool)
        # recompute among feasible rows only
        mask = np.zeros(len(df), dtype=bool)
        idx = np.flatnonzero(fe)
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
