"""Bench of rtl/dot_tree: the baseline multiplier-adder tree (stream bench in tests/rtl/stream_bench.py).

Verilator runs the paper's size (W=8, 16 lanes, 4 columns) exhaustively over operand pairs (one
live lane per cycle); Icarus runs the same build on the corners (including all activations -2 and
weights -128, the case that overflows the paper's public OPT2 RTL) and a small 4-bit build
exhaustively.
"""

import pytest

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

TOP = "dot_tree"


def run(sim: str, p: dict, testcase, random_dots: int = 40) -> None:
    run_stream_bench(TOP, sim, p, testcase, random_dots)


@pytest.mark.rtl
@pytest.mark.parametrize(
    ("sim", "p", "tests", "n_random"),
    [
        ("verilator", tree_params(8, 16, 4), ALL_TESTS, 40),
        ("icarus", tree_params(8, 16, 4), ["directed_corners", "random_dots"], 5),
        ("icarus", tree_params(4, 4, 2), ALL_TESTS, 20),
    ],
    ids=["verilator-w8-k16-n4", "icarus-w8-k16-n4", "icarus-w4-k4-n2"],
)
def test_dot_tree(sim, p, tests, n_random):
    run(sim, p, tests, n_random)
