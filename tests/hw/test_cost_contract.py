"""Every registered hardware model reports energy by component and area through the cost library:
on every models/*.yaml, components use the shared names and sum to the total, and area is positive."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cosim.cost import COMPONENT_NAMES
from cosim.graph import OpKind, WorkloadGraph, attention_op, gemm_op, vector_op
from cosim.hw import MODELS, load_arch

ROOT = Path(__file__).resolve().parents[2]
YAMLS = sorted(p for p in (ROOT / "models").glob("*.yaml"))


def _decode_graph(model: str) -> WorkloadGraph:
    """A decode step every model runs: a weight GEMV, decode attention, a norm (PIM alone: no norm)."""
    g = WorkloadGraph(name="decode", meta={"batch": 4})
    g.add_op(gemm_op("q", 4, 1024, 1024, weight_bits=4 if model in ("cpu", "sram_lut") else 16, act_bits=16))
    g.add_op(
        attention_op("qk", OpKind.ATTENTION_QK, batch=4, heads=8, kv_heads=8, head_dim=128, q_len=1, kv_len=256),
        ["q"],
    )
    if model == "hbm_pim":
        g = WorkloadGraph(name="decode", meta={"batch": 4})
        g.add_op(gemm_op("q", 1, 1024, 1024))
        g.add_op(
            attention_op("qk", OpKind.ATTENTION_QK, batch=4, heads=8, kv_heads=8, head_dim=128, q_len=1, kv_len=256)
        )
        return g
    g.add_op(vector_op("n", OpKind.NORM, elements=4 * 1024, bytes_read=8192, bytes_written=8192), ["qk"])
    return g


def test_every_registered_model_has_a_preset() -> None:
    models = {load_arch(y).model.name for y in YAMLS}
    assert set(MODELS) <= models


@pytest.mark.parametrize("yaml", YAMLS, ids=lambda p: p.stem)
def test_energy_by_component_and_area(yaml: Path) -> None:
    arch = load_arch(yaml)
    r = arch.simulate(_decode_graph(arch.model.name))
    comps = r.energy_by_component_j()
    assert comps, "no energy components"
    assert set(comps) <= set(COMPONENT_NAMES), set(comps) - set(COMPONENT_NAMES)
    assert r.energy_j > 0
    assert r.energy_j == pytest.approx(math.fsum(comps.values()), rel=1e-9)
    for o in r.ops:
        assert o.energy_j == pytest.approx(math.fsum(o.energy_by_component_j.values()), rel=1e-9), o.op.name
        assert set(o.energy_by_component_j) <= set(COMPONENT_NAMES)
    assert r.area_mm2 is not None and r.area_mm2 > 0
    assert r.area_mm2 == pytest.approx(math.fsum(r.area_by_component_mm2.values()))
    assert set(r.area_by_component_mm2) <= set(COMPONENT_NAMES)
