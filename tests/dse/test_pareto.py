"""Pareto fronts against the O(n^2) definition on random points."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cosim.dse.pareto import pareto_mask, pareto_mask_bruteforce


def _brute(v: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """Dominance straight from the definition, written independently of cosim.dse.pareto."""
    s = np.where(np.asarray(maximize)[None, :], -v, v)
    n = len(s)
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        if np.isnan(s[i]).any():
            continue
        out[i] = not any(
            j != i and not np.isnan(s[j]).any() and np.all(s[j] <= s[i]) and np.any(s[j] < s[i]) for j in range(n)
        )
    return out


@st.composite
def point_sets(draw: st.DrawFn) -> tuple[np.ndarray, list[bool]]:
    k = draw(st.integers(1, 4))
    n = draw(st.integers(0, 40))
    # few distinct values so ties and duplicates are common; some NaN
    vals = st.one_of(st.integers(0, 6).map(float), st.just(float("nan")))
    v = draw(arrays(np.float64, (n, k), elements=vals))
    maximize = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    return v, maximize


@settings(max_examples=200, deadline=None)
@given(point_sets())
def test_pareto_mask_equals_bruteforce(case):
    v, maximize = case
    expected = _brute(v, maximize)
    assert (pareto_mask(v, maximize) == expected).all()
    assert (pareto_mask_bruteforce(v, maximize) == expected).all()


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 200), st.just(2)), elements=st.floats(0, 1e6)))
def test_continuous_points_front_is_mutually_nondominated_and_dominates_the_rest(v):
    m = pareto_mask(v)
    front, rest = v[m], v[~m]
    for p in front:
        assert not ((front <= p).all(axis=1) & (front < p).any(axis=1)).any()
    for q in rest:
        assert ((front <= q).all(axis=1) & (front < q).any(axis=1)).any()


def test_hand_cases():
    v = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [6, 6]], dtype=float)
    # (3,3) is dominated by (2,2); (6,6) by everything; duplicates of (2,2) both stay
    assert pareto_mask(v).tolist() == [True, True, True, False, True, False]
    # maximizing the second objective: (6,6) now beats (5,1) and (3,3); (1,5) keeps the lowest x
    assert pareto_mask(v, [False, True]).tolist() == [True, False, False, False, False, True]
