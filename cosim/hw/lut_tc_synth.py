"""Yosys area proxy for the LUT Tensor Core RTL (``rtl/lut_tc``) and its MAC baseline.

`yosys_stat` synthesises one module with yosys 0.23 (generic gates: ``synth -flatten``, enables
legalised into plain D flip-flops, ``abc -g cmos2`` maps to NAND/NOR/NOT) and counts transistors
with yosys's own CMOS cost table (``kernel/cost.h``: NOT 2, NAND 4, NOR 4, ...; ``stat -tech
cmos`` counts a D flip-flop as 16).  Transistors are a technology-free area proxy: they rank
designs, they are not µm².  It is a small function on purpose, so the general ``cosim synth``
command can call it.

`lut_vs_mac_units` compares, at equal throughput (K MACs per cycle at 1-bit weights):

* the LUT lane (``lut_cell``: mux, conditional negate, shift-accumulate) plus its share of one
  table (``lut_table_gen`` + table register), shared by ``n_share`` lanes as in an M x N array
  (the paper's N = 64);
* the MAC dot-product unit (``mac_dp``: K multipliers AW x WW, adder chain, accumulator), with
  weights dequantized to the activation width (WW = AW), the paper's MAC baseline.

A W-bit weight takes W cycles on the LUT lane, so the area ratio at equal throughput is the
1-bit ratio divided by W.

`lut_vs_mac_fp16_units` is the paper's Fig. 12 comparison on our FP16 RTL: the FP16 LUT lane
(``lut_cell_fp16``: mux, sign flip, exponent add for x 2^b, FP16 accumulate) plus its share of an
FP16 table register (``table_reg``; FP16 tables are precomputed outside the array), against the
FP16 MAC DP4 (``mac_dp_fp16``: four FP16 multipliers, three FP16 adds, FP16 accumulate).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from cosim.errors import ModelError, SpecError
from cosim.golden import table_entry_bits
from cosim.rtl import BUILD_DIR, rtl_sources

# yosys 0.23 kernel/cost.h, CellCosts::cmos_gate_cost(), and passes/cmds/stat.cc (DFF = 16)
CMOS_TRANSISTORS = {
    "$_BUF_": 1,
    "$_NOT_": 2,
    "$_AND_": 6,
    "$_NAND_": 4,
    "$_OR_": 6,
    "$_NOR_": 4,
    "$_ANDNOT_": 6,
    "$_ORNOT_": 6,
    "$_XOR_": 12,
    "$_XNOR_": 12,
    "$_AOI3_": 6,
    "$_OAI3_": 6,
    "$_AOI4_": 8,
    "$_OAI4_": 8,
    "$_MUX_": 12,
    "$_NMUX_": 10,
    "$_DFF_P_": 16,
    "$_DFF_N_": 16,
}

_CELL_RE = re.compile(r"^\s+(\$_\w+_)\s+(\d+)\s*$")
_TRANS_RE = re.compile(r"Estimated number of transistors:\s+(\d+)(\+?)")


@dataclass(frozen=True)
class SynthStat:
    """Cell counts of one synthesised module and their transistor count."""

    top: str
    params: dict[str, int]
    cells: dict[str, int]
    transistors: int

    @property
    def cell_count(self) -> int:
        return sum(self.cells.values())


def parse_stat(text: str) -> tuple[dict[str, int], int | None]:
    """Cell counts and yosys's transistor estimate (None if yosys marked it inexact) from ``stat``."""
    cells = {m[1]: int(m[2]) for line in text.splitlines() if (m := _CELL_RE.match(line))}
    t = _TRANS_RE.search(text)
    return cells, (int(t[1]) if t and not t[2] else None)


def yosys_stat(
    sources: Sequence[Path],
    top: str,
    params: Mapping[str, int] | None = None,
    *,
    timeout_s: int = 600,
    cache: bool = True,
) -> SynthStat:
    """Synthesise `top` from `sources` with `params` and count cells and transistors.

    Results are cached under ``build/synth/`` by a hash of the sources, top and parameters.

    Raises:
        SpecError: yosys is not installed.
        ModelError: yosys failed, or left cells the CMOS table does not price.
    """
    exe = shutil.which("yosys")
    if exe is None:
        raise SpecError("yosys: not on PATH (apt-get install yosys)")
    params = dict(params or {})
    h = hashlib.sha1()
    for s in sources:
        h.update(Path(s).read_bytes())
    h.update(json.dumps([top, sorted(params.items())]).encode())
    cache_file = BUILD_DIR.parent / "synth" / f"{top}-{h.hexdigest()[:12]}.json"
    if cache and cache_file.is_file():
        return SynthStat(**json.loads(cache_file.read_text()))
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    script = "; ".join(
        [
            *(f"read_verilog -sv {Path(s).resolve()}" for s in sources),
            *([f"chparam {chparam} {top}"] if params else []),
            f"synth -top {top} -flatten -noabc",
            "dfflegalize -cell $_DFF_P_ 01",  # enables and resets become logic + plain DFFs
            "abc -g cmos2",
            "opt_clean",
            "stat -tech cmos",
        ]
    )
    with tempfile.TemporaryDirectory(prefix="cosim-yosys-") as tmp:
        try:
            run = subprocess.run(
                [exe, "-q", "-p", script.replace("stat -tech cmos", "tee -o stat.txt stat -tech cmos")],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired:
            raise ModelError(f"yosys: synthesis of {top} took longer than {timeout_s} s") from None
        if run.returncode != 0:
            raise ModelError(f"yosys: synthesis of {top} failed: {(run.stderr or run.stdout).strip()[-500:]}")
        text = (Path(tmp) / "stat.txt").read_text()
    cells, yosys_estimate = parse_stat(text)
    unpriced = sorted(set(cells) - set(CMOS_TRANSISTORS))
    if unpriced:
        raise ModelError(f"yosys: {top} has cells without a CMOS cost: {', '.join(unpriced)}")
    transistors = sum(CMOS_TRANSISTORS[c] * n for c, n in cells.items())
    if yosys_estimate is not None and yosys_estimate != transistors:
        raise ModelError(f"yosys: {top}: transistor count {transistors} != yosys's estimate {yosys_estimate}")
    stat = SynthStat(top=top, params=params, cells=cells, transistors=transistors)
    if cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(asdict(stat)))
    return stat


@dataclass(frozen=True)
class UnitComparison:
    """Transistor counts of the LUT lane, its table, and the MAC dot-product unit."""

    k: int
    act_bits: int
    table_bits: int
    acc_bits: int
    n_share: int
    lut_lane: SynthStat
    lut_unit: SynthStat  # lane + its own table (a conventional, unshared LUT unit)
    mac_dp: SynthStat

    @property
    def table_transistors(self) -> int:
        """Table precompute + storage: the unit minus its lane."""
        return self.lut_unit.transistors - self.lut_lane.transistors

    @property
    def lut_lane_shared_transistors(self) -> float:
        """A lane plus 1/n_share of a table, as in an array whose tables feed n_share lanes."""
        return self.lut_lane.transistors + self.table_transistors / self.n_share

    def mac_over_lut(self, weight_bits: int = 1, shared: bool = True) -> float:
        """MAC area / LUT area at equal throughput for `weight_bits`-bit weights."""
        lut = self.lut_lane_shared_transistors if shared else self.lut_unit.transistors
        return self.mac_dp.transistors / lut / weight_bits


def lut_vs_mac_units(
    k: int = 4, act_bits: int = 8, acc_bits: int = 32, max_weight_bits: int = 8, n_share: int = 64
) -> UnitComparison:
    """Synthesise the LUT lane, the LUT unit and the MAC DP-k unit (see the module docstring)."""
    tw = table_entry_bits(act_bits, k)
    wb_w = max(1, (max_weight_bits - 1).bit_length())
    lane = yosys_stat(
        rtl_sources("lut_tc/lut_cell.sv"), "lut_cell", {"K": k, "TW": tw, "WB_W": wb_w, "ACC_W": acc_bits}
    )
    unit = yosys_stat(
        rtl_sources("lut_tc/lut_table_gen.sv", "lut_tc/lut_cell.sv", "lut_tc/lut_unit.sv"),
        "lut_unit",
        {"K": k, "AW": act_bits, "TW": tw, "WB_W": wb_w, "ACC_W": acc_bits},
    )
    mac = yosys_stat(
        rtl_sources("lut_tc/mac_dp.sv"), "mac_dp", {"K": k, "AW": act_bits, "WW": act_bits, "ACC_W": acc_bits}
    )
    return UnitComparison(k, act_bits, tw, acc_bits, n_share, lane, unit, mac)


@dataclass(frozen=True)
class Fp16UnitComparison:
    """Transistor counts of the FP16 LUT lane, its table register and the FP16 MAC DP-k unit."""

    k: int
    n_share: int
    lut_lane: SynthStat
    table: SynthStat
    mac_dp: SynthStat

    @property
    def lut_lane_shared_transistors(self) -> float:
        return self.lut_lane.transistors + self.table.transistors / self.n_share

    def mac_over_lut(self, weight_bits: int = 1) -> float:
        """MAC area / LUT area at equal throughput for `weight_bits`-bit weights."""
        return self.mac_dp.transistors / self.lut_lane_shared_transistors / weight_bits


def lut_vs_mac_fp16_units(k: int = 4, max_weight_bits: int = 8, n_share: int = 64) -> Fp16UnitComparison:
    """Synthesise the FP16 LUT lane, an FP16 table register and the FP16 MAC DP-k unit."""
    wb_w = max(1, (max_weight_bits - 1).bit_length())
    lane = yosys_stat(
        rtl_sources("lut_tc/fp16_add.sv", "lut_tc/lut_cell_fp16.sv"), "lut_cell_fp16", {"K": k, "WB_W": wb_w}
    )
    table = yosys_stat(rtl_sources("lut_tc/table_reg.sv"), "table_reg", {"W": (1 << (k - 1)) * 16})
    mac = yosys_stat(
        rtl_sources("lut_tc/fp16_add.sv", "lut_tc/fp16_mul.sv", "lut_tc/mac_dp_fp16.sv"), "mac_dp_fp16", {"K": k}
    )
    return Fp16UnitComparison(k, n_share, lane, table, mac)


__all__ = [
    "CMOS_TRANSISTORS",
    "Fp16UnitComparison",
    "SynthStat",
    "UnitComparison",
    "lut_vs_mac_fp16_units",
    "lut_vs_mac_units",
    "parse_stat",
    "yosys_stat",
]
