"""Bench of rtl/systolic_os (values and RTL-vs-model cycles; bench code in tests/rtl/systolic_bench.py).

Icarus simulates the 4x4 arrays, Verilator the 4x4 OPT1 and the 8x8 and 16x16 ones.
Each array is built once and runs every tile through its start/done handshake (M, N, K are ports).
"""

import pytest

from cosim.hw.systolic import Dataflow
from cosim.hw.systolic_rtl import PeKind, RtlConfig
from cosim.rtl import rtl_sources, run_bench
from tests.rtl.benchlib import record_env
from tests.rtl.systolic_bench import cosim_tiles, directed_corners, random_gemms

__all__ = ["cosim_tiles", "directed_corners", "random_gemms"]

# 4x4 on both simulators (MAC PEs on Icarus, OPT1 PEs on both); 8x8 and 16x16 MAC arrays on
# Verilator.  The OPT1 cell is also checked over all operand pairs through rtl/opt1_pe's bench.
CONFIGS = [
    ("icarus", RtlConfig(4, 4, Dataflow.OS, PeKind.MAC)),
    ("icarus", RtlConfig(4, 4, Dataflow.OS, PeKind.OPT1)),
    ("verilator", RtlConfig(4, 4, Dataflow.OS, PeKind.OPT1)),
    ("verilator", RtlConfig(8, 8, Dataflow.OS, PeKind.MAC)),
    ("verilator", RtlConfig(16, 16, Dataflow.OS, PeKind.MAC)),
]


@pytest.mark.rtl
@pytest.mark.parametrize(("sim", "cfg"), CONFIGS, ids=[f"{s}-{c.rows}x{c.cols}-{c.pe.value}" for s, c in CONFIGS])
def test_systolic_os(sim, cfg):
    name = f"{cfg.toplevel}-{sim}-{cfg.rows}x{cfg.cols}-{cfg.pe.value}"
    run_bench(
        toplevel=cfg.toplevel,
        sources=rtl_sources(*cfg.source_names),
        test_module="tests.rtl.systolic_os.test_systolic_os",
        sim=sim,
        parameters=cfg.hdl_parameters(),
        extra_env={"COSIM_DATAFLOW": cfg.dataflow.value, **record_env(name)},
    )
