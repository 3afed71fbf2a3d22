"""Pareto fronts: which designs no other design beats on every objective.

Design a dominates b when a is at least as good on every objective and strictly better on one.
The front is the set of non-dominated designs; duplicates of a front point are all on the
front (neither dominates the other).  Rows with a NaN objective are never on the front.

The algorithm sorts by the objectives lexicographically and keeps a running front: a row
sorted later can never dominate one sorted earlier, so each row is compared only with the
current front, O(n * |front| * k); with two objectives it is a single sweep keeping the best
second objective seen, O(n log n).
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
    if k == 1:
        best = v[order[0], 0]
        mask[idx[v[idx, 0] == best]] = True
        return mask
    if k == 2:
        # sorted by (x, y): a row is on the front iff its y is below every y seen at a smaller x,
        # or it repeats the previous front row exactly
        best_y = np.inf
        prev: tuple[float, float] | None = None
        for i in order:
            x, y = v[i, 0], v[i, 1]
            if y < best_y:
                mask[i] = True
                best_y = y
                prev = (x, y)
            elif prev is not None and x == prev[0] and y == prev[1]:
                mask[i] = True
        return mask
    front_vals = np.empty((len(order), k))
    nf = 0
    for i in order:
        row = v[i]
        fv = front_vals[:nf]
        # dominated by a front member: <= everywhere and < somewhere
        if ((fv <= row).all(axis=1) & (fv < row).any(axis=1)).any():
            continue
        mask[i] = True
        front_vals[nf] = row
        nf += 1
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
