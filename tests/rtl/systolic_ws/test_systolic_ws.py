"""Bench of rtl/systolic_ws (values and RTL-vs-model cycles; bench code in tests/rtl/systolic_bench.py).

Icarus simulates the 4x4 arrays, Verilator the 4x4 OPT1 and the 8x8 and 16x16 ones.
Each array is built once and runs every tile through its start/done handshake (M, N, K are ports).
"""

import pytest

from cosim.hw.systolic import Dataflow
from tests.rtl.systolic_bench import (
    bench_configs,
    config_id,
    cosim_tiles,
    directed_corners,
    random_gemms,
    run_systolic_bench,
)

__all__ = ["cosim_tiles", "directed_corners", "random_gemms"]

CONFIGS = bench_configs(Dataflow.WS)


@pytest.mark.rtl
@pytest.mark.parametrize(("sim", "cfg"), CONFIGS, ids=[config_id(s, c) for s, c in CONFIGS])
def test_systolic_ws(sim, cfg):
    run_systolic_bench(sim, cfg)
