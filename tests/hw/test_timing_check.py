"""The trace timing checker: clean on everything the event model emits, and it catches each
kind of hand-made violation (numbers below from the HBM2 preset: DRAMsim3 HBM2_8Gb_x128.ini)."""

from __future__ import annotations

import random

import pytest

from cosim.hw import pim
from cosim.hw.pim import (
    Activation,
    Cmd,
    Command,
    MemBurst,
    SimMode,
    Spec,
    TileShape,
    VectorLoad,
    timing_table,
)
from cosim.hw.timing_check import check_trace

DUAL = timing_table(Spec())
SINGLE = timing_table(Spec(dual_row_buffer=False))


def C(cycle, cmd, pch=-1, bg=-1, bank=-1, row=-1, col=-1, ch=0):
    return Command(cycle, ch, pch, bg, bank, cmd, row, col)


def rules(trace, table=DUAL, **kw):
    return check_trace(trace, table, check_refresh=False, **kw).by_rule()


def random_mix(spec: Spec, seed: int, n_items: int = 40, n_mem: int = 80):
    """Random PIM programs (tiles of random shapes, vector loads) and random memory bursts."""
    rnd = random.Random(seed)
    tm = spec.dram
    bursts = tm.row_bytes // tm.burst_bytes
    prog = []
    for _ in range(n_items):
        if rnd.random() < 0.2:
            prog.append(VectorLoad(rnd.randint(1, bursts)))
        else:
            n = rnd.randint(1, 32)
            prog.append(TileShape(n, rnd.randint(1, n), rnd.random() < 0.9))
    mem, t = [], 0
    for _ in range(n_mem):
        t += rnd.randint(0, 120)
        mem.append(
            (
                t,
                MemBurst(
                    rnd.random() < 0.4,
                    rnd.randrange(tm.pseudo_channels),
                    rnd.randrange(tm.bank_groups),
                    rnd.randrange(tm.banks_per_group),
                    rnd.randrange(1000),
                    rnd.randint(1, bursts),
                ),
            )
        )
    return [prog], [mem]


def test_a_legal_hand_trace_passes():
    t = [
        C(0, Cmd.ACT, 0, 0, 0, row=5),
        C(14, Cmd.RD, 0, 0, 0, row=5, col=0),  # tRCDRD = 14
        C(16, Cmd.RD, 0, 0, 0, row=5, col=1),  # max(BL/2, tCCD_L) = 2
        C(34, Cmd.PRE, 0, 0, 0),  # tRAS = 34 after ACT, tRTP = 5 after the RD
        C(48, Cmd.ACT, 0, 0, 0, row=6),  # tRP = 14 after PRE, tRC = 48 after ACT
    ]
    rep = check_trace(t, DUAL, check_refresh=False)
    assert rep.ok, str(rep)
    assert rep.pairs_checked > 0


def test_read_too_soon_after_activate():
    t = [C(0, Cmd.ACT, 0, 0, 0, row=5), C(10, Cmd.RD, 0, 0, 0, row=5)]
    rep = check_trace(t, DUAL, check_refresh=False)
    assert rep.by_rule() == {"timing": 1}
    assert "tRCDRD needs 14" in rep.violations[0].detail and rep.violations[0].cycle == 10


def test_activate_too_soon_after_precharge():
    t = [C(0, Cmd.ACT, 0, 0, 0, row=5), C(34, Cmd.PRE, 0, 0, 0), C(40, Cmd.ACT, 0, 0, 0, row=6)]
    rep = check_trace(t, DUAL, check_refresh=False)
    # two broken pairs: 40 < tRC = 48 after the first ACT, 6 < tRP = 14 after the PRE
    assert rep.by_rule() == {"timing": 2}
    details = " ".join(v.detail for v in rep.violations)
    assert "tRC needs 48" in details and "tRP needs 14" in details


def test_fifth_activation_in_a_faw_window():
    # tRRD_S = 4 and tRRD_L = 6 are met, but five activations fall inside tFAW = 30
    t = [C(4 * i, Cmd.ACT, 0, i % 4, i // 4, row=1) for i in range(5)]
    assert rules(t) == {"faw": 1}
    # a group activation counts its 4 banks: any activation within tFAW after it is too many
    t = [C(0, Cmd.GACT, 0, 0, row=1), C(29, Cmd.ACT, 0, 1, 0, row=1)]
    assert rules(t) == {"faw": 1}
    t = [C(0, Cmd.GACT, 0, 0, row=1), C(30, Cmd.ACT, 0, 1, 0, row=1)]
    assert rules(t) == {}


def test_two_commands_in_one_cycle():
    t = [C(0, Cmd.ACT, 0, 0, 0, row=1), C(0, Cmd.ACT, 1, 0, 0, row=1)]
    assert rules(t) == {"bus": 1}


def test_read_of_a_closed_bank_and_mac_without_pim_rows():
    assert rules([C(20, Cmd.RD, 0, 0, 0, row=5)]) == {"state": 1}
    assert rules([C(20, Cmd.MAC, row=5, col=0)]) == {"state": 1}
    # a MAC on the wrong row: every bank opened row 3 but the MAC names row 4
    t = [C(i, Cmd.GACT, i % 2, i // 2, row=3) for i in range(8)]
    t[2:] = [C(30 * (i // 2) + i % 2, Cmd.GACT, i % 2, i // 2, row=3) for i in range(2, 8)]
    t.append(C(200, Cmd.MAC, row=4, col=0))
    assert rules(t) == {"state": 1}


def test_mac_waits_for_the_vector_buffer_load():
    # PIM rows open (GACTs every tFAW per pseudo-channel), then the vector row is activated
    # (tFAW after the last GACT of its pseudo-channel) and copied into the vector buffer
    t = [C(30 * (i // 2) + i % 2, Cmd.GACT, i % 2, i // 2, row=3) for i in range(8)]
    t += [C(120, Cmd.ACT, 0, 0, 0, row=9), C(134, Cmd.GWRITE, 0, 0, 0, row=9)]
    t.append(C(134 + 95, Cmd.MAC, row=3, col=0))  # GWRITE takes (tCCD_S + tCCD_L) x 32 = 96
    rep = check_trace(t, DUAL, check_refresh=False)
    assert rep.by_rule() == {"timing": 1}
    assert "GWRITE" in rep.violations[0].detail and "needs 96" in rep.violations[0].detail


def test_refresh_with_a_row_open():
    t = [C(0, Cmd.ACT, 0, 0, 0, row=1), C(100, Cmd.REF, 0)]
    assert rules(t) == {"state": 1}


def test_refresh_must_come_every_interval():
    # a trace 3 tREFI long with no REF: the allowed gap is tREFI + one postponed interval
    t = [C(0, Cmd.ACT, 0, 0, 0, row=1), C(34, Cmd.PRE, 0, 0, 0), C(3 * 3900, Cmd.ACT, 0, 0, 0, row=1)]
    rep = check_trace(t, DUAL)
    assert rep.by_rule() == {"refresh": 2}  # both pseudo-channels
    assert check_trace(t, DUAL, check_refresh=False).ok


def test_single_buffer_forbids_mem_and_pim_rows_together():
    t = [C(0, Cmd.ACT, 0, 0, 0, row=1), C(60, Cmd.GACT, 0, 0, row=2)]
    assert rules(t, SINGLE) == {"state": 1}
    # with dual row buffers the same pair is legal (tRRD_L between them)
    assert rules(t, DUAL) == {}


@pytest.mark.parametrize("memory", ["HBM2", "HBM2E", "HBM3"])
@pytest.mark.parametrize("dual", [True, False])
@pytest.mark.parametrize("activation", [Activation.GROUP, Activation.ALL_BANK])
def test_random_command_mixes_have_no_violations(memory, dual, activation):
    spec = Spec(memory=memory, dual_row_buffer=dual, activation=activation, mode=SimMode.EVENT)
    progs, mems = random_mix(spec, seed=hash((memory, dual, activation.value)) % 1000)
    res = pim.simulate_channels(spec, progs, mems)
    assert res.trace is not None and len(res.trace) > 1000
    kinds = {c.cmd for c in res.trace}
    assert {Cmd.ACT, Cmd.RD, Cmd.WR, Cmd.PRE, Cmd.MAC, Cmd.RDRES, Cmd.GWRITE, Cmd.PPRE, Cmd.REF} <= kinds
    rep = check_trace(res.trace, res.table)
    assert rep.ok, str(rep)


def test_the_checker_catches_a_perturbed_model_trace():
    # take a clean model trace and pull one MAC a cycle earlier: the checker must object
    spec = Spec(mode=SimMode.EVENT, refresh=False)
    res = pim.simulate_channels(spec, [[VectorLoad(16), TileShape(32, 8), TileShape(32, 8)]])
    tr = list(res.trace)
    i = next(k for k, c in enumerate(tr) if c.cmd is Cmd.MAC and tr[k - 1].cmd is Cmd.MAC)
    tr[i] = tr[i]._replace(cycle=tr[i].cycle - 1)
    rep = check_trace(tr, res.table, check_refresh=False)
    assert not rep.ok and "MAC gap" in str(rep)
