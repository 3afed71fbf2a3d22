"""Shared pieces of the design-space-explorer tests: small workloads and sweep mappings.

The sweeps use the roofline model (present on every branch) so they run in seconds; the
behaviour under test (keys, store, executors, fronts) does not depend on the model.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data"

ROOFLINE_BASE: dict[str, Any] = {
    "model": "roofline",
    "name": "roof",
    "peak_flops_per_s": 1e12,
    "dram_bytes_per_s": 1e11,
    "energy_per_flop_j": 1e-12,
    "energy_per_dram_byte_j": 2e-11,
}


def roofline_sweep(**over: Any) -> dict[str, Any]:
    """A grid over a roofline accelerator on two workloads (18 designs)."""
    d: dict[str, Any] = {
        "name": "roof_test",
        "base": copy.deepcopy(ROOFLINE_BASE),
        "axes": {
            "peak_flops_per_s": {"log_range": [1e11, 1e13, 10]},
            "dram_bytes_per_s": {"log_space": [1e10, 1e12, 3]},
            "op_overhead_s": [0.0, 1e-6],
        },
        "workloads": [str(DATA / "mlp.csv"), str(DATA / "decode.csv")],
        "objectives": ["latency", "energy"],
        "search": {"strategy": "grid"},
    }
    d.update(over)
    return d


@pytest.fixture
def data_dir() -> Path:
    return DATA
