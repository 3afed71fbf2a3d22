"""Bench of rtl/opt1_pe: the OPT1 carry-save PE (stream bench in tests/rtl/stream_bench.py).

Verilator runs the 8-bit PE exhaustively (65,536 operand pairs); Icarus runs the 8-bit PE on the
corners and a few random dot products, and a 5-bit PE (odd width: sign-extended into 3 Booth
digits) exhaustively.
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

LIB = ("tpe_lib/csa_tree.sv", "tpe_lib/r4_digits.sv", "tpe_lib/r4_pp.sv", "tpe_lib/opt1_madd.sv")


def run(sim: str, p: dict, testcase, random_dots: int = 60) -> None:
    run_stream_bench("opt1_pe", sim, p, testcase, random_dots, LIB)


@pytest.mark.rtl
@pytest.mark.parametrize(
    ("sim", "w", "tests", "n_random"),
    [
        ("verilator", 8, ALL_TESTS, 60),
        ("icarus", 8, ["directed_corners", "random_dots"], 10),
        ("icarus", 5, ALL_TESTS, 10),
    ],
    ids=["verilator-w8", "icarus-w8", "icarus-w5"],
)
def test_opt1_pe(sim, w, tests, n_random):
    run(sim, pe_params(w), tests, n_random)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus"])
def test_opt1_pe_narrow_accumulator_wraps(sim):
    """One bit below 2W + ceil(log2 K_MAX), the all-minimum K_MAX corner must wrap."""
    run(sim, pe_params(8, golden.acc_width(8, PE_K_MAX) - 1), "narrow_width_wraps")
