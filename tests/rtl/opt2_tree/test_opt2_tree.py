"""Bench of rtl/opt2_tree: the OPT2 same-bit-weight multiplier-adder tree (stream bench in tests/rtl/stream_bench.py).

Verilator runs the paper's size (W=8, 16 lanes, 4 columns) exhaustively over operand pairs (one
live lane per cycle); Icarus runs the same build on the corners (including all activations -2 and
weights -128, the case that overflows the paper's public OPT2 RTL) and a small 4-bit build
exhaustively.
"""

import pytest

from cosim import golden
from tests.rtl.stream_bench import (
    ALL_TESTS,
    directed_corners,
    exhaustive_pairs,
    narrow_width_wraps,
    random_dots,
    run_stream_bench,
    tree_params,
)

__all__ = ["directed_corners", "exhaustive_pairs", "narrow_width_wraps", "random_dots"]

TOP = "opt2_tree"
LIB = ("tpe_lib/csa_tree.sv", "tpe_lib/r4_digits.sv", "tpe_lib/r4_pp.sv")


def run(sim: str, p: dict, testcase, random_dots: int = 40) -> None:
    run_stream_bench(TOP, sim, p, testcase, random_dots, LIB)


@pytest.mark.rtl
@pytest.mark.parametrize(
    ("sim", "p", "tests", "n_random"),
    [
        ("verilator", tree_params(8, 16, 4, ENC=1), ALL_TESTS, 40),
        ("icarus", tree_params(8, 16, 4, ENC=1), ["directed_corners", "random_dots"], 5),
        ("icarus", tree_params(4, 4, 2, ENC=1), ALL_TESTS, 20),
        ("icarus", tree_params(4, 4, 2, ENC=0), ALL_TESTS, 20),
    ],
    ids=["verilator-w8-k16-n4-ent", "icarus-w8-k16-n4-ent", "icarus-w4-k4-n2-ent", "icarus-w4-k4-n2-mbe"],
)
def test_opt2_tree(sim, p, tests, n_random):
    run(sim, p, tests, n_random)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus"])
def test_opt2_tree_13bit_reduction_overflows(sim):
    """RED_W = 13 (the paper's public RTL) must give -4096 for a = -2, b = -128: the bench sees the bug."""
    assert golden.same_weight_reduction_width(8, 16) == 14
    run(sim, tree_params(8, 16, 1, RED_W=13), "narrow_width_wraps")
