"""Shape grids and the measurement CSV (no GPU: timing runs on the CPU path of the same code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosim import gpubench as gb
from cosim.errors import SpecError


def test_fit_set_never_contains_a_held_out_or_blind_shape() -> None:
    fit, held, blind = gb.fit_cases(), gb.heldout_cases(), gb.blind_cases()
    assert not {c.key for c in fit} & {c.key for c in held + blind}
    reserved = {(K, N) for _, K, N in (*gb.LLM_LINEARS, *gb.BLIND_LINEARS)}
    assert not [c for c in fit if c.op in ("mm", "int_mm") and (c.K, c.N) in reserved]
    assert (
        {c.set for c in fit} == {"fit"} and {c.set for c in held} == {"heldout"} and {c.set for c in blind} == {"blind"}
    )


def test_grids_are_deterministic() -> None:
    assert gb.fit_cases() == gb.fit_cases()
    assert gb.fit_cases(seed=2) != gb.fit_cases()


def test_held_out_set_covers_the_issue() -> None:
    held = gb.heldout_cases()
    for label, K, N in gb.LLM_LINEARS:
        ms = {c.M for c in held if c.dtype == "bfloat16" and c.label == label and (c.K, c.N) == (K, N)}
        assert ms == set(gb.POW2_M), label  # M = 1 .. 8192
    dec = [c for c in held if c.kind == "attention_decode"]
    assert len({c.batch for c in dec}) >= 3 and len({c.kv_len for c in dec}) >= 3


def test_csv_round_trip(tmp_path: Path) -> None:
    c = gb._gemm_case("fit", "bfloat16", 8, 4096, 4096, "x")
    m = gb.Measurement(c, 1.5e-5, 1.4e-5, 1.7e-5, 7, 100, 20, "graph", "cublas")
    p = tmp_path / "m.csv"
    gb.write_csv(p, [m], {"device": "test"})
    rows, meta = gb.read_csv(p)
    assert rows == [m] and meta == {"device": "test"}


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.replace("median_s,", "median,"), "lacks column"),
        (lambda s: s.replace("1.500000e-05", "fast"), "expected a number"),
        (lambda s: s.replace(",gemm,", ",gemmm,"), "kind 'gemmm'"),
        (lambda s: s.replace("1.500000e-05", "0"), "median_s must be > 0"),
        (lambda s: s.replace(",8,4096,", ",8.5,4096,"), "expected an integer"),
    ],
)
def test_bad_csv_is_a_spec_error(tmp_path: Path, edit, match: str) -> None:
    c = gb._gemm_case("fit", "bfloat16", 8, 4096, 4096, "x")
    p = tmp_path / "m.csv"
    gb.write_csv(p, [gb.Measurement(c, 1.5e-5, 1.4e-5, 1.7e-5, 7, 100, 20, "graph", "cublas")])
    p.write_text(edit(p.read_text()))
    with pytest.raises(SpecError, match=match):
        gb.read_csv(p)


def test_missing_csv_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        gb.read_csv(tmp_path / "none.csv")


def test_measurement_plumbing_on_the_cpu(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cases = [gb._gemm_case("fit", "float32", 8, 64, 64), gb._vec_case("fit", "elementwise", "float32", "add", 4, 64)]
    out = tmp_path / "cpu.csv"
    done = gb.run_cases(cases, out, device="cpu", reps=3, target_rep_s=1e-4)
    rows, meta = gb.read_csv(out)
    assert [r.case for r in rows] == cases == [d.case for d in done]
    assert all(r.median_s > 0 and r.min_s <= r.median_s <= r.max_s and r.method == "eager" for r in rows)
    assert meta["device"].startswith("cpu")
