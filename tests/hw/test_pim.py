"""The PIM channel model: hand-derived GEMV latencies, fast vs event mode, refresh, bandwidth
limits, blocked vs dual-buffer behaviour, and the NeuPIMs GEMV mapping.

Hand derivations use the NeuPIMs HBM2 preset (DRAMsim3 HBM2_8Gb_x128.ini, tCK = 1 ns):
tRCDRD 14, tRAS 34, tRP 14, tFAW 30, tRTP 5, WL 4, BL/2 2, tWTR_L 8, tWR 16, CL 14; MAC gap
max(BL/2, tCCD_S) = 2; adder tree 2; GWRITE (tCCD_S + tCCD_L) x 32 = 96 (NewtonSim).
"""

from __future__ import annotations

import dataclasses
import heapq
import random

import numpy as np
import pytest

from cosim.hw import memory, pim
from cosim.hw.pim import (
    Activation,
    Cmd,
    MemBurst,
    SimMode,
    Spec,
    TileShape,
    VectorLoad,
    attention_program,
    closed_form,
    fast_channel_cycles,
    gemv_tile_trace,
    greedy_channels,
    split_sub_batches,
    weight_gemv_programs,
)
from cosim.hw.timing_check import check_trace
from tests.hw.test_timing_check import random_mix

NEUPIMS = Spec(refresh=False, mode=SimMode.EVENT)


@pytest.fixture
def one_bank(monkeypatch):
    """An HBM2 channel cut down to a single bank (1 pseudo-channel, 1 group, 1 bank)."""
    tm = dataclasses.replace(
        memory.PRESETS["HBM2"], name="HBM2_1BANK", pseudo_channels=1, bank_groups=1, banks_per_group=1
    )
    monkeypatch.setitem(memory.PRESETS, "HBM2_1BANK", tm)
    return Spec(memory="HBM2_1BANK", channels=1, refresh=False, mode=SimMode.EVENT)


def test_one_tile_trace_and_latency():
    # GACTs: one bank group per tFAW in each pseudo-channel, the two pseudo-channels a cycle
    # apart: 0 1 30 31 60 61 90 91; first MAC tRCDRD after the last: 105; 32 MACs two apart,
    # last at 105 + 31*2 = 167; result in the accumulator 2 later = 169 = the RDRES cycle;
    # data out RL + BL/2 later = 185; PPRE tRTP after the RDRES = 174.
    tr = gemv_tile_trace()
    gacts = [c.cycle for c in tr.commands if c.cmd is Cmd.GACT]
    assert gacts == [0, 1, 30, 31, 60, 61, 90, 91]
    assert tr.mac_cycles == tuple(range(105, 168, 2))
    assert [c.cycle for c in tr.commands if c.cmd is Cmd.RDRES] == [169]
    assert tr.result_ready_cycle == tr.latency_cycles == 169
    assert tr.data_out_cycle == 185
    assert tr.span_cycles == 174 and tr.commands[-1].cmd is Cmd.PPRE
    p = tr.predicted
    assert (p.first_mac, p.last_mac, p.result_ready, p.data_out, p.span) == (105, 167, 169, 185, 174)
    assert tr.lanes == 16 and tr.mac_gap_cycles == 2 and tr.adder_tree_cycles == 2


def test_key_tile_reads_one_result_per_head():
    # 4 heads of 8 MACs: each head 8 MACs + a RDRES, 9 slots of 2 cycles = 18 per head
    tr = gemv_tile_trace(n_macs=32, macs_per_result=8)
    assert [c.cycle for c in tr.commands if c.cmd is Cmd.RDRES] == [121, 139, 157, 175]
    assert tr.span_cycles == 180 and tr.result_ready_cycle == 175


def test_single_bank_gemv_latency_closed_form(one_bank):
    # y = W x, W = T rows of 512 FP16 in one bank: vector load (ACT 0, 16 WR from 14 two apart,
    # GWRITE WL+BL/2+tWTR_L = 14 after the last WR at 58, PRE 96 later at 154), then T tiles of
    # 32 MACs: GACT, MAC0 +14, last MAC +62, RDRES +2, PPRE +5 (span 83), next GACT tRP later.
    for T in (1, 2, 5):
        prog = [VectorLoad(16)] + [TileShape(32, 32)] * T
        res = pim.simulate_channels(one_bank, [prog])
        last_mac = max(c.cycle for c in res.trace if c.cmd is Cmd.MAC)
        assert last_mac + 2 == 155 + 97 * (T - 1) + 78  # result ready
        assert res.end_cycle == 155 + 97 * (T - 1) + 83
        assert fast_channel_cycles(one_bank, prog)[0] == res.end_cycle
        assert check_trace(res.trace, res.table, check_refresh=False).ok


def test_single_channel_gemv_latency_closed_form():
    # 32 banks, K = 512, N = 32 T: one vector load (PRE at 154), T tiles of period 188
    # (GACTs over 91 cycles, MACs 105..167, RDRES 169, PPRE 174, next GACT +tRP = 188).
    for T in (1, 3, 8):
        (prog,) = weight_gemv_programs(NEUPIMS, K=512, N=32 * T, channels=1)
        assert prog == [VectorLoad(16)] + [TileShape(32, 32)] * T
        res = pim.simulate_channels(NEUPIMS, [prog])
        last_mac = max(c.cycle for c in res.trace if c.cmd is Cmd.MAC)
        assert last_mac + 2 == 155 + 188 * (T - 1) + 169
        assert res.end_cycle == 155 + 188 * (T - 1) + 174
        assert check_trace(res.trace, res.table, check_refresh=False).ok


@pytest.mark.parametrize("memory_name", ["HBM2", "HBM2E", "HBM3"])
@pytest.mark.parametrize("activation", [Activation.GROUP, Activation.ALL_BANK])
@pytest.mark.parametrize("dual", [True, False])
def test_closed_form_tile_equals_event_mode(memory_name, activation, dual):
    spec = Spec(memory=memory_name, activation=activation, dual_row_buffer=dual, refresh=False, mode=SimMode.EVENT)
    cf = closed_form(spec)
    for n in (1, 2, 5, 16, 31, 32):
        for mpr in sorted({1, 3, 8, n}):
            if mpr > n:
                continue
            shape = TileShape(n, mpr)
            tr = gemv_tile_trace(spec, n_macs=n, macs_per_result=mpr)
            t = cf.tile(shape)
            assert tr.span_cycles == t.span
            assert tr.mac_cycles[0] == t.first_mac and tr.mac_cycles[-1] == t.last_mac
            assert tr.data_out_cycle == t.data_out


@pytest.mark.parametrize(
    "spec",
    [
        Spec(mode=SimMode.EVENT),
        Spec(mode=SimMode.EVENT, dual_row_buffer=False),
        Spec(mode=SimMode.EVENT, activation=Activation.ALL_BANK),
        Spec(memory="HBM3", mode=SimMode.EVENT),
        Spec(memory="HBM2E", mode=SimMode.EVENT, multipliers_per_bank=32),
    ],
    ids=["neupims", "blocked", "all_bank", "hbm3", "hbm2e_32lanes"],
)
def test_fast_mode_within_5_percent_of_event_mode_on_a_tile_sweep(spec):
    # programs long enough to cross many refresh windows, with vector loads between tile runs
    rnd = random.Random(7)
    for _ in range(4):
        prog = []
        for _ in range(60):
            prog.append(VectorLoad(rnd.choice([1, 4, 16])))
            n = rnd.randint(1, spec.elements_per_row // spec.multipliers_per_bank)
            prog += [TileShape(n, rnd.randint(1, n))] * rnd.randint(1, 12)
        ev = pim.simulate_channels(spec, [prog], record_trace=False)
        fast, refs = fast_channel_cycles(spec, prog)
        assert abs(fast - ev.end_cycle) <= 0.05 * ev.end_cycle
        assert refs == ev.stats[0].refreshes
        assert refs >= ev.end_cycle // spec.dram.tREFI * spec.dram.pseudo_channels - spec.dram.pseudo_channels


def test_refresh_spacing_and_pim_admission():
    spec = Spec(mode=SimMode.EVENT)
    prog = attention_program(spec, 1000, 8, 128) * 3
    res = pim.simulate_channels(spec, [prog])
    tm = spec.dram
    refs = [c for c in res.trace if c.cmd is Cmd.REF]
    for p in range(tm.pseudo_channels):
        t = [c.cycle for c in refs if c.pch == p]
        # staggered: pseudo-channel p first at (p+1) tREFI / 2, then on its deadline every tREFI,
        # or late by at most one job that does not touch p (a vector load, 154 cycles)
        assert t[0] == (p + 1) * tm.tREFI // tm.pseudo_channels
        deadlines = [t[0] + k * tm.tREFI for k in range(len(t))]
        assert all(0 <= x - d <= closed_form(spec).vector_load(16) for x, d in zip(t, deadlines))
    # no PIM row is open across a REF: every REF falls between a PPRE and the next GACT
    cyc = [(c.cycle, c.cmd) for c in res.trace if c.cmd in (Cmd.GACT, Cmd.PPRE, Cmd.REF)]
    open_rows = False
    for _, cmd in cyc:
        if cmd is Cmd.GACT:
            open_rows = True
        elif cmd is Cmd.PPRE:
            open_rows = False
        else:
            assert not open_rows
    assert check_trace(res.trace, res.table).ok


def test_memoized_replay_is_exact():
    for seed in range(3):
        for spec in (Spec(mode=SimMode.EVENT), Spec(mode=SimMode.EVENT, dual_row_buffer=False)):
            progs, mems = random_mix(spec, seed, n_items=30, n_mem=40)
            progs = [progs[0] * 3]
            a = pim.simulate_channels(spec, progs, mems)
            b = pim.simulate_channels(spec, progs, mems, memoize=False)
            assert a.trace == b.trace


def test_bandwidth_never_exceeds_the_peak():
    for spec in (Spec(mode=SimMode.EVENT), Spec(memory="HBM3", mode=SimMode.EVENT)):
        tm = spec.dram
        progs, _ = random_mix(spec, 3, n_items=30)
        # saturating normal traffic: a full-row burst to every bank in turn, all queued at 0
        bursts = tm.row_bytes // tm.burst_bytes
        mem = [
            (
                0,
                MemBurst(
                    i % 3 == 0,
                    i % tm.pseudo_channels,
                    (i // 2) % tm.bank_groups,
                    (i // 8) % tm.banks_per_group,
                    i,
                    bursts,
                ),
            )
            for i in range(300)
        ]
        res = pim.simulate_channels(spec, progs, [mem])
        t = np.array([c.cycle for c in res.trace if c.cmd in (Cmd.RD, Cmd.WR, Cmd.RDRES)])
        W = 256
        in_window = np.searchsorted(t, t + W) - np.arange(t.size)
        assert in_window.max() * tm.burst_bytes <= tm.peak_bytes_per_cycle * W + tm.burst_bytes
        # the normal traffic really is close to the bus limit somewhere
        assert in_window.max() * tm.burst_bytes >= 0.5 * tm.peak_bytes_per_cycle * W
        m = np.array([c.cycle for c in res.trace if c.cmd is Cmd.MAC])
        gap = pim.timing_table(spec).gap(Cmd.MAC, Cmd.MAC, pim.Scope.CHANNEL)
        macs = np.searchsorted(m, m + W) - np.arange(m.size)
        assert macs.max() <= W / gap + 1  # internal: one all-bank MAC per MAC gap at most


def test_blocked_mode_serves_memory_or_pim_never_both():
    blocked = Spec(mode=SimMode.EVENT, dual_row_buffer=False, refresh=False)
    dual = Spec(mode=SimMode.EVENT, refresh=False)
    prog = [VectorLoad(16)] + [TileShape(32, 8)] * 20
    mem = [(0, MemBurst(False, i % 2, i % 4, i % 3, 100 + i, 16)) for i in range(60)]
    rb = pim.simulate_channels(blocked, [prog], [mem])
    rd = pim.simulate_channels(dual, [prog], [mem])
    # blocked: between a tile's first GACT and its PPRE no normal command is issued
    inside = False
    for c in rb.trace:
        if c.cmd is Cmd.GACT:
            inside = True
        elif c.cmd is Cmd.PPRE:
            inside = False
        elif inside:
            assert c.cmd in (Cmd.MAC, Cmd.RDRES)
    # dual buffers overlap the two streams (reads inside tiles), so both finish sooner
    inside, overlapped = False, 0
    for c in rd.trace:
        if c.cmd is Cmd.GACT:
            inside = True
        elif c.cmd is Cmd.PPRE:
            inside = False
        elif inside and c.cmd is Cmd.RD:
            overlapped += 1
    assert overlapped > 100
    assert rd.end_cycle < rb.end_cycle
    assert check_trace(rb.trace, rb.table, check_refresh=False).ok
    assert check_trace(rd.trace, rd.table, check_refresh=False).ok


def test_attention_mapping_counts():
    # 8 heads of 128 (GPT-3 7B on 4-way TP), KV length 300, 1 KB rows of 512 FP16, 32 banks:
    # K^T q: 1024 dims = 2 row chunks, each a vector load + ceil(300/32) = 10 tiles of 4 heads
    # (32 MACs, a result per 8); P V: per head one 512-token chunk, a vector load of 300 logits
    # (600 B = 10 bursts) + ceil(128/32) = 4 tiles of ceil(300/16) = 19 MACs.
    prog = attention_program(Spec(), 300, 8, 128)
    loads = [p for p in prog if isinstance(p, VectorLoad)]
    tiles = [p for p in prog if isinstance(p, TileShape)]
    assert [v.n_bursts for v in loads] == [16, 16] + [10] * 8
    assert tiles == [TileShape(32, 8)] * 20 + [TileShape(19, 19)] * 32
    macs = sum(t.n_macs for t in tiles)
    assert macs == 20 * 32 + 32 * 19
    # every K and V element is multiplied: lanes x banks x MACs covers 2 x 300 x 1024
    assert macs * 16 * 32 >= 2 * 300 * 1024
    assert attention_program(Spec(), 300, 8, 128, part="logit") == prog[:22]
    assert attention_program(Spec(), 300, 8, 128, part="attend") == prog[22:]


def test_weight_gemv_mapping_covers_the_matrix():
    spec = Spec()
    K, N = 1500, 4100
    progs = weight_gemv_programs(spec, K, N)
    assert len(progs) == 32
    outputs = 0
    for prog in progs:
        tiles = [p for p in prog if isinstance(p, TileShape)]
        loads = [p for p in prog if isinstance(p, VectorLoad)]
        assert len(loads) == -(-K // 512)  # each input chunk loaded once per channel
        outputs += len(tiles) // len(loads) * 32
        assert sum(t.n_macs for t in tiles) * 16 >= K * (len(tiles) // len(loads))
    assert outputs >= N


def test_greedy_channel_packing_is_lpt():
    rnd = random.Random(1)
    loads = [rnd.randint(1, 10_000) for _ in range(200)]
    got = greedy_channels(loads, 7)
    # reference: longest-processing-time first with a heap (ties to the lower channel)
    heap = [(0, c) for c in range(7)]
    ref = [0] * len(loads)
    for i in sorted(range(len(loads)), key=lambda i: (-loads[i], i)):
        acc, c = heapq.heappop(heap)
        ref[i] = c
        heapq.heappush(heap, (acc + loads[i], c))
    assert got == ref
    acc = [0] * 7
    for i, c in enumerate(got):
        acc[c] += loads[i]
    assert max(acc) - min(acc) <= max(loads)


def test_sub_batch_partition_halves_each_channel():
    # NeuPIMs Alg. 3: channel 0 has 4 requests, 1 and 2 have 3 each (odd: ceil, then floor)
    assign = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    sb1, sb2 = split_sub_batches(assign, 3)
    assert sb1 == [0, 3, 1, 4, 2] and sb2 == [6, 9, 7, 5, 8]


def test_pim_only_model_runs_attention_and_gemv_ops():
    from cosim.graph import OpKind, Phase, WorkloadGraph, attention_op, gemm_op

    g = WorkloadGraph(name="t")
    g.add_op(attention_op("qk", OpKind.ATTENTION_QK, batch=64, heads=8, kv_heads=8, head_dim=128, q_len=1, kv_len=256))
    g.add_op(gemm_op("fc", 1, 4096, 4096, phase=Phase.DECODE))
    res = pim.simulate(Spec(), g)
    assert [r.unit for r in res.ops] == ["pim", "pim"]
    assert all(r.seconds > 0 and 0 < r.utilization <= 1 for r in res.ops)
    g.add_op(gemm_op("big", 64, 64, 64))
    with pytest.raises(pim.ModelError, match="does not run on PIM alone"):
        pim.simulate(Spec(), g)


def test_every_event_run_in_the_suite_is_timing_checked():
    # tests/conftest.py wraps the event model so each run replays its trace through the checker
    assert pim.simulate_channels.__name__ == "checked"
    res = pim.simulate_channels(Spec(mode=SimMode.EVENT), [[TileShape(4, 4)]], record_trace=False)
    assert res.trace is None and res.end_cycle > 0
