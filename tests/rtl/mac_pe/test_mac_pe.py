"""Bench of rtl/mac_pe: the baseline MAC PE (stream bench in tests/rtl/stream_bench.py).

Verilator runs the 8-bit PE exhaustively (65,536 operand pairs); Icarus, slower per cycle, runs the
8-bit PE on the corners and a few random dot products, and a 4-bit PE exhaustively.
"""

import pytest

from cosim import golden
from tests.rtl.stream_bench import (
    ALL_TESTS,
    PE_K_MAX,
    directed_corners,
    exhaustive_pairs,
    narrow_width_wraps,
    pe_params,
    random_dots,
    run_stream_bench,
)

__all__ = ["directed_corners", "exhaustive_pairs", "narrow_width_wraps", "random_dots"]


def run(sim: str, p: dict, testcase, random_dots: int = 60) -> None:
    run_stream_bench("mac_pe", sim, p, testcase, random_dots)


@pytest.mark.rtl
@pytest.mark.parametrize(
    ("sim", "w", "tests", "n_random"),
    [
        ("verilator", 8, ALL_TESTS, 60),
        ("icarus", 8, ["directed_corners", "random_dots"], 10),
        ("icarus", 4, ALL_TESTS, 30),
    ],
    ids=["verilator-w8", "icarus-w8", "icarus-w4"],
)
def test_mac_pe(sim, w, tests, n_random):
    run(sim, pe_params(w), tests, n_random)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus"])
def test_mac_pe_narrow_accumulator_wraps(sim):
    """One bit below 2W + ceil(log2 K_MAX), the all-minimum K_MAX corner must wrap."""
    run(sim, pe_params(8, golden.acc_width(8, PE_K_MAX) - 1), "narrow_width_wraps")
