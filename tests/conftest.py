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
