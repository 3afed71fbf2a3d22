"""Shared fixtures: paths resolved from this file, and a CLI runner that captures exit codes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = REPO / "workloads"
MODELS = REPO / "models"

# Keep tool caches out of $HOME and the repo (CI machines are fresh and slow-disked).
os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "cosim-mpl"))
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(tempfile.gettempdir()) / "cosim-inductor"))


@pytest.fixture
def run_cli(capsys):
    """Run `cosim ARGS...` in-process; returns (exit_code, stdout, stderr)."""
    from cosim.cli import main

    def _run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        cap = capsys.readouterr()
        return int(exc.value.code or 0), cap.out, cap.err

    return _run


@pytest.fixture(autouse=True)
def _check_every_event_run(monkeypatch):
    """Every event-mode PIM run in the tests also replays its command trace through the timing
    checker (cosim.hw.timing_check) and fails on any violation."""
    from dataclasses import replace

    from cosim.hw import pim
    from cosim.hw.timing_check import check_trace

    real = pim.simulate_channels

    def checked(spec, programs, mem_traffic=None, **kw):
        want = kw.pop("record_trace", True)
        res = real(spec, programs, mem_traffic, record_trace=True, **kw)
        rep = check_trace(res.trace, res.table, check_refresh=spec.refresh)
        assert rep.ok, f"timing violations in an event-mode run:\n{rep}"
        return res if want else replace(res, trace=None)

    monkeypatch.setattr(pim, "simulate_channels", checked)
