"""Replay a DRAM/PIM command trace against a timing table and report every violation.

Independent of the model that emitted the trace: where the event engine keeps incremental
"last issue time per unit" state, this checker works on the whole trace at once (numpy), so a
bug in one is unlikely to hide in the other.  Rules checked, per channel:

* ``timing``: every ordered pair of commands (a before b) satisfies
  ``cycle_b - cycle_a >= table.gap(a.cmd, b.cmd, relation)``, where the relation is the
  finest level (bank, bank group, pseudo-channel, channel) at which the two targets share a
  unit (a MAC covers every bank, a GACT its bank group).
* ``faw``: in every window of ``faw_cycles`` a pseudo-channel sees at most ``faw_window``
  bank activations (a group activation counts the banks it opens).
* ``bus``: one command per cycle on the channel's command bus.
* ``state``: RD/WR/GWRITE need their bank's MEM row open on that row, ACT needs it closed;
  MAC needs the PIM row open on the MAC's row in every bank, GACT/ABACT need it closed; REF
  needs every bank of the pseudo-channel closed (both buffers); with a single row buffer a
  bank cannot have a MEM and a PIM row open at once.
* ``refresh``: consecutive REFs of a pseudo-channel (and the trace's start and end) are at
  most ``refresh_interval_cycles + refresh_slack_cycles`` apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cosim.hw.pim import COVERAGE, Cmd, Command, Scope, TimingTable

_SCOPE_WORDS = {0: "the same bank", 1: "the same bank group", 2: "the same pseudo-channel", 3: "the same channel"}


@dataclass(frozen=True)
class Violation:
    """One broken rule: which (``rule``), where in the trace (``index``, ``cycle``,
    ``channel``), on which command, and a sentence naming the parameter and both cycles."""

    rule: str
    index: int
    cycle: int
    channel: int
    command: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] #{self.index} cycle {self.cycle} ch {self.channel} {self.command}: {self.detail}"


@dataclass(frozen=True)
class CheckReport:
    """Result of `check_trace`: the number of commands and pairs checked, and the violations."""

    commands: int
    pairs_checked: int
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    def by_rule(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.violations:
            out[v.rule] = out.get(v.rule, 0) + 1
        return out

    def __str__(self) -> str:
        if self.ok:
            return f"{self.commands} commands, {self.pairs_checked} pairs: no violations"
        head = f"{self.commands} commands: {len(self.violations)} violations {self.by_rule()}"
        return "\n".join([head, *(str(v) for v in self.violations[:20])])


def _where(cmd: int, p: int, g: int, b: int) -> str:
    parts = [Cmd(cmd).name]
    if p >= 0:
        parts.append(f"pch {p}")
    if g >= 0:
        parts.append(f"bg {g}")
    if b >= 0:
        parts.append(f"bank {b}")
    return " ".join(parts)


def check_trace(
    trace: Sequence[Command],
    table: TimingTable,
    *,
    check_refresh: bool = True,
    max_violations: int = 1000,
) -> CheckReport:
    """Replay `trace` against `table` (see module docstring for the rules).

    Args:
        trace: commands in issue order (any channel interleaving; each channel's commands are
            checked in cycle order, ties in trace order).
        table: the timing table the trace must satisfy (`cosim.hw.pim.timing_table`).
        check_refresh: also require REFs at most one interval + slack apart (turn off for
            traces generated with refresh disabled).
        max_violations: stop collecting after this many.
    """
    n = len(trace)
    if n == 0:
        return CheckReport(0, 0, ())
    arr = np.array([tuple(int(x) for x in c) for c in trace], dtype=np.int64)
    order = np.lexsort((np.arange(n), arr[:, 0], arr[:, 1]))  # by channel, cycle, trace order
    arr = arr[order]
    cyc, ch, pch, bg, bank, cmd, row = (arr[:, i] for i in range(7))
    found: list[Violation] = []
    state_seen: set[int] = set()

    def add(rule: str, idx: np.ndarray, details: list[str]) -> None:
        for i, d in zip(idx.tolist(), details):
            if len(found) >= max_violations:
                return
            if rule == "state":
                # a broadcast command checks every bank: report it once
                if i in state_seen:
                    continue
                state_seen.add(i)
            found.append(
                Violation(
                    rule,
                    int(order[i]),
                    int(cyc[i]),
                    int(ch[i]),
                    _where(int(cmd[i]), int(pch[i]), int(bg[i]), int(bank[i])),
                    d,
                )
            )

    # ---- bus: one command per cycle per channel
    same = (ch[1:] == ch[:-1]) & (cyc[1:] <= cyc[:-1])
    idx = np.nonzero(same)[0] + 1
    add("bus", idx, [f"shares cycle {int(cyc[i - 1])} with the previous command of the channel" for i in idx])

    # ---- pairwise timing
    gaps = np.array(table.gaps, dtype=np.int64)  # [earlier, later, relation]
    is_ref = cmd == Cmd.REF
    gmax_other = max((e.gap_cycles for e in table.entries if e.earlier != Cmd.REF), default=0)
    gmax_ref = max((e.gap_cycles for e in table.entries if e.earlier == Cmd.REF), default=0)
    gmax = max(gmax_other, gmax_ref)
    pairs = 0

    def judge(later: np.ndarray, earlier: np.ndarray, dt: np.ndarray) -> None:
        pa, pb = pch[earlier], pch[later]
        ga, gb = bg[earlier], bg[later]
        ba, bb = bank[earlier], bank[later]
        in_p = (pa == pb) | (pa < 0) | (pb < 0)
        in_g = in_p & ((ga == gb) | (ga < 0) | (gb < 0))
        in_b = in_g & ((ba == bb) | (ba < 0) | (bb < 0))
        rel = np.where(in_b, 0, np.where(in_g, 1, np.where(in_p, 2, 3)))
        need = gaps[cmd[earlier], cmd[later], rel]
        bi = np.nonzero(dt < need)[0]
        if not bi.size:
            return
        msgs = []
        for k in bi.tolist():
            i, j = int(later[k]), int(earlier[k])
            e = table.rule(Cmd(int(cmd[j])), Cmd(int(cmd[i])), Scope(int(rel[k])))
            name = e.name if e else "?"
            msgs.append(
                f"{int(dt[k])} cycles after {_where(int(cmd[j]), int(pch[j]), int(bg[j]), int(bank[j]))} "
                f"at cycle {int(cyc[j])} in {_SCOPE_WORDS[int(rel[k])]}; {name} needs {int(need[k])}"
            )
        add("timing", later[bi], msgs)

    # every pair closer than the largest non-REF gap, walking back one command at a time; the
    # cycle distance only grows with the step, so a pair that is far enough drops out for good
    active = np.arange(1, n)
    d = 1
    while active.size and len(found) < max_violations:
        a = active - d
        dt = cyc[active] - cyc[a]
        keep = (ch[a] == ch[active]) & (dt < gmax_other)
        active, a, dt = active[keep], a[keep], dt[keep]
        if not active.size:
            break
        nr = ~is_ref[a]
        pairs += int(nr.sum())
        judge(active[nr], a[nr], dt[nr])
        active = active[active - d - 1 >= 0]
        d += 1
    # REF-started pairs reach further (tRFC): check each REF against what follows it
    for r in np.nonzero(is_ref)[0].tolist():
        hi = r + 1
        while hi < n and ch[hi] == ch[r] and cyc[hi] - cyc[r] < gmax:
            hi += 1
        if hi > r + 1:
            later = np.arange(r + 1, hi)
            pairs += later.size
            judge(later, np.full(later.size, r), cyc[later] - cyc[r])
    del gmax_ref

    # ---- tFAW window per (channel, pseudo-channel)
    w_of = np.zeros(len(Cmd), dtype=np.int64)
    for c, w in table.faw_weight.items():
        w_of[int(c)] = w
    weight = w_of[cmd]
    act_idx = np.nonzero(weight > 0)[0]
    if act_idx.size:
        keys = ch[act_idx] * 1024 + pch[act_idx]
        for key in np.unique(keys):
            sel = act_idx[keys == key]
            t = cyc[sel]
            cum = np.cumsum(weight[sel])
            lo = np.searchsorted(t, t - table.faw_cycles, side="right")
            before = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0)
            in_window = cum - before
            bad = np.nonzero(in_window > table.faw_window)[0]
            add(
                "faw",
                sel[bad],
                [
                    f"{int(in_window[k])} bank activations in the {table.faw_cycles}-cycle window ending here "
                    f"(tFAW allows {table.faw_window})"
                    for k in bad.tolist()
                ],
            )

    # ---- row-buffer state per bank
    P, G, Bn = table.pseudo_channels, table.bank_groups, table.banks_per_group
    mem_open = {int(Cmd.ACT)}
    mem_close = {int(Cmd.PRE), int(Cmd.PREA)}
    mem_use = {int(Cmd.RD), int(Cmd.WR), int(Cmd.GWRITE)}
    pim_open = {int(Cmd.GACT), int(Cmd.ABACT)}
    pim_close = {int(Cmd.PPRE)}
    pim_use = {int(Cmd.MAC)}
    if not table.dual_row_buffer:
        # one buffer: PPRE and PRE both close it
        pim_close = pim_close | mem_close
        mem_close = mem_close | {int(Cmd.PPRE)}
    is_mo = np.isin(cmd, list(mem_open))
    is_mc = np.isin(cmd, list(mem_close))
    is_mu = np.isin(cmd, list(mem_use))
    is_po = np.isin(cmd, list(pim_open))
    is_pc = np.isin(cmd, list(pim_close))
    is_pu = np.isin(cmd, list(pim_use))
    is_rf = cmd == Cmd.REF
    relevant = is_mo | is_mc | is_mu | is_po | is_pc | is_pu | is_rf
    pos = np.arange(n)
    for c in np.unique(ch):
        in_c = (ch == c) & relevant
        ci = np.nonzero(in_c)[0]
        if not ci.size:
            continue
        cp, cg, cb = pch[ci], bg[ci], bank[ci]
        for p in range(P):
            for g in range(G):
                for b in range(Bn):
                    cover = ((cp == p) | (cp < 0)) & ((cg == g) | (cg < 0)) & ((cb == b) | (cb < 0))
                    u = ci[cover]
                    if not u.size:
                        continue
                    _check_bank(u, pos, cmd, row, is_mo, is_mc, is_mu, is_po, is_pc, is_pu, is_rf, table, add)
                    if len(found) >= max_violations:
                        break

    # ---- refresh spacing
    if check_refresh:
        limit = table.refresh_interval_cycles + table.refresh_slack_cycles
        for c in np.unique(ch):
            in_c = ch == c
            end = int(cyc[in_c].max())
            for p in range(P):
                sel = np.nonzero(in_c & is_rf & ((pch == p) | (pch < 0)))[0]
                t = np.concatenate([[0], cyc[sel], [end]])
                if end <= limit:
                    continue
                gaps_r = np.diff(t)
                bad = np.nonzero(gaps_r > limit)[0]
                for k in bad.tolist():
                    at = sel[k] if k < sel.size else (sel[-1] if sel.size else int(np.nonzero(in_c)[0][-1]))
                    add(
                        "refresh",
                        np.array([at]),
                        [
                            f"pseudo-channel {p}: {int(gaps_r[k])} cycles without REF between cycles {int(t[k])} "
                            f"and {int(t[k + 1])} (allowed {limit})"
                        ],
                    )
    found.sort(key=lambda v: (v.channel, v.cycle, v.rule))
    return CheckReport(n, int(pairs), tuple(found[:max_violations]))


def _check_bank(u, pos, cmd, row, is_mo, is_mc, is_mu, is_po, is_pc, is_pu, is_rf, table, add) -> None:
    """State rules for the commands `u` (trace positions, sorted) touching one bank."""
    single = not table.dual_row_buffer
    for buf, is_o, is_c, is_use, use_name in (
        ("MEM", is_mo, is_mc, is_mu, "an access"),
        ("PIM", is_po, is_pc, is_pu, "a MAC"),
    ):
        ev = u[is_o[u] | is_c[u]]
        ev_pos = pos[ev]
        ev_open = is_o[ev]
        ev_row = row[ev]
        # opens need the buffer closed before them
        op = np.nonzero(ev_open)[0]
        prev_open = np.zeros(op.size, dtype=bool)
        prev_open[op > 0] = ev_open[op[op > 0] - 1]
        bad = op[prev_open]
        if bad.size:
            add(
                "state",
                ev[bad],
                [f"{buf} row buffer already open on row {int(ev_row[k - 1])}" for k in bad.tolist()],
            )
        uses = u[is_use[u]]
        if uses.size:
            k = np.searchsorted(ev_pos, pos[uses]) - 1
            has = k >= 0
            ok = has.copy()
            ok[has] = ev_open[k[has]] & (ev_row[k[has]] == row[uses[has]])
            bad = np.nonzero(~ok)[0]
            if bad.size:
                msgs = []
                for j in bad.tolist():
                    if k[j] < 0 or not ev_open[k[j]]:
                        msgs.append(f"{use_name} to a closed {buf} row buffer")
                    else:
                        msgs.append(f"{use_name} to row {int(row[uses[j]])} but row {int(ev_row[k[j]])} is open")
                add("state", uses[bad], msgs)
        refs = u[is_rf[u]]
        if refs.size:
            k = np.searchsorted(ev_pos, pos[refs]) - 1
            open_at = np.zeros(refs.size, dtype=bool)
            open_at[k >= 0] = ev_open[k[k >= 0]]
            bad = np.nonzero(open_at)[0]
            if bad.size:
                add("state", refs[bad], [f"REF while a {buf} row is open" for _ in bad.tolist()])
    if single:
        # one physical buffer: opening one kind needs the other closed
        for is_o, other_o, other_c, what in (
            (is_mo, is_po, is_pc, "ACT while the (single) buffer holds a PIM row"),
            (is_po, is_mo, is_mc, "PIM activate while the (single) buffer holds a MEM row"),
        ):
            opens = u[is_o[u]]
            ev = u[other_o[u] | other_c[u]]
            if not opens.size or not ev.size:
                continue
            k = np.searchsorted(pos[ev], pos[opens]) - 1
            open_at = np.zeros(opens.size, dtype=bool)
            open_at[k >= 0] = other_o[ev[k[k >= 0]]]
            bad = np.nonzero(open_at)[0]
            if bad.size:
                add("state", opens[bad], [what for _ in bad.tolist()])


def coverage_of(cmd: Cmd) -> Scope:
    """The level a command addresses (re-exported for trace writers)."""
    return COVERAGE[cmd]


__all__ = ["CheckReport", "Violation", "check_trace", "coverage_of"]
