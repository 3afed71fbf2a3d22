"""Pareto fronts: which designs no other design beats on every objective.

Design a dominates b when a is at least as good on every objective and strictly better on one.
The front is the set of non-dominated designs; duplicates of a front point are all on the
front (neither dominates the other).  Rows with a NaN objective are never on the front.

The algorithm sorts by the objectives lexicographically and keeps a running front: a row
sorted later can never dominate one sorted earlier, so each row is compared only with the
current front, O(n * |front| * k).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pareto_mask(values: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `values` (n x k).

    Args:
        values: one row per design, one column per objective.
        maximize: per column, True to maximize; default minimize every column.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError(f"values must be 2-D (designs x objectives), got shape {v.shape}")
    n, k = v.shape
    if maximize is not None:
        if len(maximize) != k:
            raise ValueError(f"maximize has {len(maximize)} entries for {k} objectives")
        v = np.where(np.asarray(maximize, dtype=bool)[None, :], -v, v)
    mask = np.zeros(n, dtype=bool)
    valid = ~np.isnan(v).any(axis=1)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return mask
    order = idx[np.lexsort(v[idx].T[::-1])]
    front: list[int] = []
    front_vals = np.empty((0, k))
    for i in order:
        row = v[i]
        # dominated by a front member: <= everywhere and < somewhere
        le = (front_vals <= row).all(axis=1)
        lt = (front_vals < row).any(axis=1)
        if (le & lt).any():
            continue
        front.append(i)
        front_vals = np.vstack([front_vals, row])
    mask[front] = True
    return mask


def pareto_mask_bruteforce(
    values: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool] | None = None
) -> np.ndarray:
    """The O(n^2) definition, for tests."""
    v = np.asarray(values, dtype=float)
    if maximize is not None:
        v = np.where(np.asarray(maximize, dtype=bool)[None, :], -v, v)
    n = v.shape[0]
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        if np.isnan(v[i]).any():
            continue
        dominated = False
        for j in range(n):
            if j == i or np.isnan(v[j]).any():
                continue
            if (v[j] <= v[i]).all() and (v[j] < v[i]).any():
                dominated = True
                break
        out[i] = not dominated
    return out


__all__ = ["pareto_mask", "pareto_mask_bruteforce"]
