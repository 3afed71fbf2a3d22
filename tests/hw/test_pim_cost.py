"""The HBM-PIM model's energy under the shared component names: the command-class detail regrouped,
counts x per-command energies by hand, and energy growing with the KV cache it reads."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.graph import OpKind, WorkloadGraph, attention_op, gemm_op
from cosim.hw import memory, pim


def _graph(*ops) -> WorkloadGraph:
    g = WorkloadGraph(name="t")
    for o in ops:
        g.add_op(o)
    return g


def _att(kv: int, batch: int = 32) -> WorkloadGraph:
    return _graph(
        attention_op("qk", OpKind.ATTENTION_QK, batch=batch, heads=8, kv_heads=8, head_dim=128, q_len=1, kv_len=kv)
    )


def test_components_regroup_the_command_classes() -> None:
    r = pim.simulate(pim.Spec(), _graph(gemm_op("y", 1, 4096, 4096)))
    op = r.ops[0]
    d = op.extra["energy_detail_j"]
    assert set(op.energy_by_component_j) == {"pim", "dram", "static"}
    assert op.energy_by_component_j["pim"] == d["pim_mac"]
    assert op.energy_by_component_j["static"] == pytest.approx(d["dram_background"] + d["pim_background"])
    assert op.energy_by_component_j["dram"] == pytest.approx(
        d["dram_act"] + d["dram_rd"] + d["dram_wr"] + d["dram_ref"] + d["pim_rdres"] + d["pim_gwrite"]
    )
    assert op.energy_j == pytest.approx(math.fsum(d.values()))
    # background power x time: 66 mW per channel (HBM2 IDD3N), twice with the dual row buffers
    en = memory.ENERGY_PRESETS["HBM2"]
    assert op.energy_by_component_j["static"] == pytest.approx(2 * en.background_mw * 1e-3 * 32 * op.seconds)
    assert r.area_mm2 > 0 and set(r.area_by_component_mm2) == {"pim"}


@settings(max_examples=15, deadline=None)
@given(st.integers(64, 2048), st.sampled_from([True, False]))
def test_energy_grows_with_the_kv_cache(kv: int, dual: bool) -> None:
    spec = pim.Spec(dual_row_buffer=dual)
    small, big = pim.simulate(spec, _att(kv)), pim.simulate(spec, _att(2 * kv))
    assert big.energy_by_component_j()["pim"] > small.energy_by_component_j()["pim"]
    assert big.energy_j > small.energy_j
