"""Helpers shared by the cocotb benches of the systolic arrays and TPE units.

Conventions of every bench here: a 10 ns clock; inputs are driven and outputs sampled at the
falling edge (half a cycle away from the rising edge where the RTL samples and updates), so
no bench depends on a simulator's ordering of same-time events; cycles are counted in rising edges.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

CLOCK_NS = 10


def pack(values: Iterable[int], bits: int) -> int:
    """Little-endian concatenation of two's-complement `bits`-bit fields (field 0 in the low bits)."""
    out = 0
    mask = (1 << bits) - 1
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (i * bits)
    return out


def unpack(word: int, count: int, bits: int, *, signed: bool = True) -> list[int]:
    """Inverse of `pack`."""
    mask = (1 << bits) - 1
    half = 1 << (bits - 1)
    out = []
    for i in range(count):
        v = (word >> (i * bits)) & mask
        out.append(v - (1 << bits) if signed and v >= half else v)
    return out


def rng_for(test_name: str) -> np.random.Generator:
    """A numpy generator seeded from cocotb's seed and the test name (repeatable per test)."""
    import cocotb

    seed = int(getattr(cocotb, "RANDOM_SEED", 1) or 1)
    return np.random.default_rng([seed, *test_name.encode()])


def unpack_some(value, which: int, count: int, bits: int, *, signed: bool = True) -> dict[int, int]:
    """Fields of a packed LogicArray whose bit is set in the mask `which` (others may hold X).

    A selected field that is not all 0/1 raises: valid outputs must be resolved.
    """
    s = str(value)  # MSB first
    n = len(s)
    out = {}
    for i in range(count):
        if not (which >> i) & 1:
            continue
        field = s[n - (i + 1) * bits : n - i * bits]
        if set(field) - {"0", "1"}:
            raise AssertionError(f"field {i} is valid but holds {field!r}")
        v = int(field, 2)
        out[i] = v - (1 << bits) if signed and v >= 1 << (bits - 1) else v
    return out


async def start(dut, *, inputs_low: Sequence[str] = ()) -> None:
    """Start the clock, hold reset for two cycles with the named inputs low; return at a falling edge."""
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rst.value = 1
    for name in inputs_low:
        getattr(dut, name).value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)


def record(row: dict) -> None:
    """Append a co-simulation record (one JSON line) to $COSIM_RECORD, if the pytest side set it."""
    path = os.environ.get("COSIM_RECORD")
    if not path:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def record_env(name: str) -> dict[str, str]:
    """Environment for a bench run that appends co-simulation records to build/rtl/cosim/<name>.jsonl.

    Called on the pytest side; the file is emptied first, so it holds the latest run's records
    (`cosim verify` prints them).
    """
    from cosim.rtl import BUILD_DIR

    path = BUILD_DIR / "cosim" / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return {"COSIM_RECORD": str(path)}
