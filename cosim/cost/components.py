"""The component names every hardware model reports its energy and area under.

A model's ``energy_by_component_j`` (and ``area_by_component_mm2``) uses these names wherever
the meaning is the same, so a design sweep can set a systolic array, a GPU and an NPU+PIM system
side by side, component by component.  What each name covers:

* ``mac``: multiply-accumulate datapaths doing GEMM work: systolic PEs (MAC + pipeline
  registers), tensor cores, a CPU's SIMD dot-product instructions, an NPU's arrays.
* ``lut``: lookup-table datapaths: LUT arrays, SRAM-LUT accumulates, table precompute.
* ``vector``: element-wise and reduction work on vector/SIMD units, and a CPU's other instructions.
* ``sram``: on-chip SRAM arrays: buffers, scratchpads, caches (accesses; for area, the arrays).
* ``dram``: off-chip memory: array activation, reads, writes, refresh, the I/O path.
* ``pim``: compute beside DRAM banks (in-bank multipliers and the bank reads they need).
* ``noc``: on-chip interconnect between units.
* ``static``: leakage, background and idle power times time.

Area-only names: ``die`` (a published die area, not built up) and ``core`` (published CPU core
logic outside the caches and SIMD units).
"""

from __future__ import annotations

from enum import StrEnum


class Component(StrEnum):
    """Energy/area component names shared by all models (see the module docstring)."""

    MAC = "mac"
    LUT = "lut"
    VECTOR = "vector"
    SRAM = "sram"
    DRAM = "dram"
    PIM = "pim"
    NOC = "noc"
    STATIC = "static"
    DIE = "die"
    CORE = "core"


COMPONENT_NAMES: tuple[str, ...] = tuple(c.value for c in Component)

__all__ = ["COMPONENT_NAMES", "Component"]
