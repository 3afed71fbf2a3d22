"""Yosys synthesis of ``rtl/`` blocks to a small CMOS gate set: cells, transistors, logic depth.

`synthesize(top, sources, params)` runs yosys (Debian's 0.23) and returns a `SynthReport`. The flow:

1. ``read_verilog -sv`` the sources, ``hierarchy -top`` with the parameters, ``synth -flatten -noabc``
   (generic synthesis; yosys maps adders to Brent-Kung carry-lookahead and multipliers to AND-array
   partial products plus a carry-save tree and one adder);
2. ``dfflegalize -cell $_DFF_P_ 01``: every flip-flop becomes a plain positive-edge D flip-flop, with
   enables and synchronous resets turned into gates, so no register type escapes the count;
3. ``abc -g cmos`` with `ABC_SCRIPT`: technology mapping onto NOT, NAND2, NOR2, AOI21/OAI21
   ("AOI3/OAI3"), AOI22/OAI22 ("AOI4/OAI4"), MUX2, NMUX2, XOR2, XNOR2, every gate one unit of delay
   and yosys's transistor counts as its area: ABC's ``&nf`` maps for the least depth, then
   recovers area off the critical path;
4. ``stat -json -tech cmos`` (cells per type) and ``ltp -noff`` (longest combinational path, in gates).

The transistor estimate is our own sum over `TRANSISTORS`; a cell type missing from that table
raises `ModelError` (nothing is silently left uncounted), and the sum must equal yosys's own
``stat -tech cmos`` estimate (checked on every run).  Depth counts gates, not delay: a rough,
technology-free proxy for the critical path, comparable between designs mapped the same way.

`cell_stat(sources, top, params)` is the area-only flow the model modules use (LUT Tensor Core
units, the PIM GEMV unit, the systolic PE's MAC): the same generic synthesis and flip-flop
legalisation, then yosys's default ``abc -g cmos2`` (NAND/NOR/NOT), cells priced with the same
`TRANSISTORS` table, no depth; cached under ``build/synth/`` by sources, top and parameters.
``share=False`` skips yosys's SAT-based resource sharing, which grows superlinearly on wide FP16
trees and finds nothing to share in datapaths whose operators all work every cycle.

Source resolution: `block_sources(top)` indexes every ``module`` in ``rtl/**/*.sv`` and returns the
file defining `top` plus, transitively, the files of every module it names, so other RTL blocks
(LUT unit, SRAM-LUT GEMV, PIM GEMV) need no registration to be synthesised.
"""

from __future__ import annotations

import hashlib
import json
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cosim.errors import ModelError, SpecError
from cosim.rtl import BUILD_DIR, REPO_ROOT, RTL_DIR

# Transistors per mapped cell.  Gates: yosys 0.23 kernel/cost.h, CellCosts::cmos_gate_cost() (the
# static-CMOS counts `abc -g cmos` minimises and `stat -tech cmos` reports: NAND2/NOR2 4, AOI21 6,
# AOI22 8, XOR2 12, ...).  $_DFF_P_: 16, the value that same table gives (a transmission-gate
# master-slave flip-flop without reset; `stat -tech cmos` on a 24-flip-flop design, checked).
TRANSISTORS: dict[str, int] = {
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
FLIP_FLOPS = frozenset({"$_DFF_P_", "$_DFF_N_"})
GATE_SET = "cmos"  # abc -g alias: NAND NOR AOI3 OAI3 AOI4 OAI4 NMUX MUX XOR XNOR (+ NOT)
# Yosys's default ABC script for -g, without its area-oriented ``dc2``/``dretime`` passes: dc2 rewrites
# carry-lookahead adders into ripple chains (a registered 22-bit adder: depth 22 instead of 8, for 18%
# fewer transistors; measured with yosys 0.23), which would make depth measure ABC's area choices
# rather than the design.  Commas stand for spaces in yosys's inline "+" scripts.
ABC_SCRIPT = "+strash;&get,-n;&fraig,-x;&put;scorr;strash;&get,-n;&dch,-f;&nf;&put"
DEFAULT_TIMEOUT_S = 1800


@dataclass(frozen=True)
class SynthReport:
    """Result of synthesising one block.

    Attributes:
        top: top-level module.
        params: parameters given (others keep their defaults).
        cells: mapped cells, flip-flops included.
        cell_types: cells per yosys cell type.
        transistors: sum of cells x `TRANSISTORS`.
        flip_flops: flip-flop count.
        depth: gates on the longest combinational path (register to register, input or output).
        seconds: wall time of the yosys run.
        yosys_version: first line of ``yosys -V``.
    """

    top: str
    params: dict[str, int]
    cells: int
    cell_types: dict[str, int]
    transistors: int
    flip_flops: int
    depth: int
    seconds: float
    yosys_version: str
    sources: list[str] = field(default_factory=list)

    @property
    def logic_transistors(self) -> int:
        """Transistors outside flip-flops."""
        return self.transistors - sum(self.cell_types.get(t, 0) * TRANSISTORS[t] for t in FLIP_FLOPS)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["logic_transistors"] = self.logic_transistors
        return d


_MODULE_RE = re.compile(r"^\s*module\s+([A-Za-z_]\w*)", re.MULTILINE)
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def module_index(rtl_dir: Path = RTL_DIR) -> dict[str, Path]:
    """Module name -> defining file, over ``rtl/**/*.sv`` and ``*.v``; duplicate names raise."""
    index: dict[str, Path] = {}
    for path in sorted([*rtl_dir.rglob("*.sv"), *rtl_dir.rglob("*.v")]):
        text = _COMMENT_RE.sub("", path.read_text())
        for name in _MODULE_RE.findall(text):
            if name in index and index[name] != path:
                raise SpecError(f"{path}: module {name!r} is also defined in {index[name]}")
            index[name] = path
    return index


def block_sources(top: str, rtl_dir: Path = RTL_DIR) -> list[Path]:
    """The files defining `top` and every module it instantiates, transitively (leaves first)."""
    index = module_index(rtl_dir)
    if top not in index:
        raise SpecError(f"synth: no module {top!r} under {rtl_dir} (known: {', '.join(sorted(index))})")
    order: list[Path] = []
    seen: set[Path] = set()

    def visit(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        words = set(re.findall(r"[A-Za-z_]\w*", _COMMENT_RE.sub("", path.read_text())))
        for name in sorted(words & index.keys()):
            if index[name] != path:
                visit(index[name])
        order.append(path)

    visit(index[top])
    return order


def _rel(path: Path) -> str:
    p = path.resolve()
    return str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else str(p)


def yosys_version() -> str:
    exe = shutil.which("yosys")
    if exe is None:
        raise SpecError("synth: 'yosys' is not on PATH (apt-get install yosys; the flow is tested with 0.23)")
    out = subprocess.run([exe, "-V"], capture_output=True, text=True, check=False)
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "yosys (unknown version)"


def _script(top: str, sources: Sequence[Path], params: Mapping[str, int], stat_json: Path, ltp_txt: Path) -> str:
    chparams = " ".join(f"-chparam {k} {int(v)}" for k, v in params.items())
    reads = "\n".join(f"read_verilog -sv {p}" for p in sources)
    return f"""{reads}
hierarchy -check -top {top} {chparams}
synth -top {top} -flatten -noabc
dfflegalize -cell $_DFF_P_ 01
abc -g {GATE_SET} -script {ABC_SCRIPT}
opt_clean
tee -q -o {stat_json} stat -json -tech cmos
tee -q -o {ltp_txt} ltp -noff
"""


def count_transistors(cell_types: Mapping[str, int]) -> int:
    """Sum of cells x `TRANSISTORS`; raises ModelError naming any cell type without a count."""
    unknown = sorted(t for t in cell_types if t not in TRANSISTORS)
    if unknown:
        raise ModelError(
            f"synth: no transistor count for cell type(s) {', '.join(unknown)} "
            f"(counted: {', '.join(sorted(TRANSISTORS))}); the design has cells the CMOS mapping did not absorb"
        )
    return sum(n * TRANSISTORS[t] for t, n in cell_types.items())


def synthesize(
    top: str,
    sources: Sequence[Path | str] | None = None,
    params: Mapping[str, int] | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SynthReport:
    """Synthesise `top` with yosys to the CMOS gate set and report cells, transistors and depth.

    Args:
        top: top-level module name.
        sources: Verilog files; default `block_sources(top)`.
        params: top-level parameter overrides (integers).
        timeout_s: wall-clock limit for yosys.

    Raises:
        SpecError: unknown module, missing file, bad parameter, yosys missing, failing or too slow
            (the message carries the tail of yosys's log).
        ModelError: a mapped cell type has no transistor count.
    """
    srcs = [Path(s) for s in (sources if sources is not None else block_sources(top))]
    for s in srcs:
        if not s.is_file():
            raise SpecError(f"synth: {s}: no such source file")
    prm = {str(k): int(v) for k, v in (params or {}).items()}
    version = yosys_version()
    with tempfile.TemporaryDirectory(prefix="cosim-synth-") as tmp:
        tdir = Path(tmp)
        stat_json, ltp_txt, script = tdir / "stat.json", tdir / "ltp.txt", tdir / "synth.ys"
        script.write_text(_script(top, [s.resolve() for s in srcs], prm, stat_json, ltp_txt))
        t0 = time.perf_counter()
        try:
            run = subprocess.run(
                ["yosys", "-q", "-l", str(tdir / "yosys.log"), "-s", str(script)],
                cwd=tdir,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise SpecError(f"synth {top}: yosys did not finish within {timeout_s:g} s") from e
        seconds = time.perf_counter() - t0
        if run.returncode != 0 or not stat_json.is_file():
            log = (tdir / "yosys.log").read_text() if (tdir / "yosys.log").is_file() else run.stderr
            tail = " | ".join(line.strip() for line in log.strip().splitlines()[-6:])
            raise SpecError(f"synth {top} {prm}: yosys failed (exit {run.returncode}): {tail}")
        stat = json.loads(stat_json.read_text())
        ltp = ltp_txt.read_text()
    design = stat["design"]
    cell_types = {str(k): int(v) for k, v in design["num_cells_by_type"].items()}
    transistors = count_transistors(cell_types)
    theirs = int(design.get("estimated_num_transistors", transistors))
    if theirs != transistors:
        raise ModelError(f"synth {top}: transistor table gives {transistors}, yosys stat -tech cmos {theirs}")
    m = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", ltp)
    depth = int(m.group(1)) if m else 0
    return SynthReport(
        top=top,
        params=prm,
        cells=int(design["num_cells"]),
        cell_types=dict(sorted(cell_types.items())),
        transistors=transistors,
        flip_flops=sum(cell_types.get(t, 0) for t in FLIP_FLOPS),
        depth=depth,
        seconds=round(seconds, 3),
        yosys_version=version,
        sources=[_rel(s) for s in srcs],
    )


# --- area-only flow (abc -g cmos2), the model modules' transistor counts -------------------------


@dataclass(frozen=True)
class SynthStat:
    """Cell counts of one module synthesised by `cell_stat`, and their transistor count."""

    top: str
    params: dict[str, int]
    cells: dict[str, int]
    transistors: int

    @property
    def cell_count(self) -> int:
        return sum(self.cells.values())


_STAT_CELL_RE = re.compile(r"^\s+(\$_\w+_)\s+(\d+)\s*$")
_STAT_TRANS_RE = re.compile(r"Estimated number of transistors:\s+(\d+)(\+?)")


def parse_stat(text: str) -> tuple[dict[str, int], int | None]:
    """Cell counts and yosys's transistor estimate (None if yosys marked it inexact) from ``stat``."""
    cells = {m[1]: int(m[2]) for line in text.splitlines() if (m := _STAT_CELL_RE.match(line))}
    t = _STAT_TRANS_RE.search(text)
    return cells, (int(t[1]) if t and not t[2] else None)


def cell_stat(
    sources: Sequence[Path],
    top: str,
    params: Mapping[str, int] | None = None,
    *,
    share: bool = True,
    memory_limit_bytes: int | None = None,
    timeout_s: int = 1800,
    cache: bool = True,
) -> SynthStat:
    """Synthesise `top` (``synth -flatten``, dfflegalize, ``abc -g cmos2``) and count transistors.

    Args:
        sources: Verilog files.
        top: top-level module.
        params: parameter overrides (``chparam``).
        share: run yosys's resource sharing (``-noshare`` when False).
        memory_limit_bytes: address-space cap for yosys, protecting a shared machine.
        timeout_s: wall-clock limit.
        cache: read and write ``build/synth/<top>[-noshare]-<hash>.json``.

    Raises:
        SpecError: yosys is not installed.
        ModelError: yosys failed, ran out of time or memory, or left cells `TRANSISTORS` does not price.
    """
    exe = shutil.which("yosys")
    if exe is None:
        raise SpecError("yosys: not on PATH (apt-get install yosys)")
    params = {str(k): int(v) for k, v in (params or {}).items()}
    h = hashlib.sha1(b"" if share else b"noshare")
    for src in sources:
        h.update(Path(src).read_bytes())
    h.update(json.dumps([top, sorted(params.items())]).encode())
    cache_file = BUILD_DIR.parent / "synth" / f"{top}-{'' if share else 'noshare-'}{h.hexdigest()[:12]}.json"
    if cache and cache_file.is_file():
        return SynthStat(**json.loads(cache_file.read_text()))
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    script = "; ".join(
        [
            *(f"read_verilog -sv {Path(src).resolve()}" for src in sources),
            *([f"chparam {chparam} {top}"] if params else []),
            f"synth -top {top} -flatten -noabc" + ("" if share else " -noshare"),
            "dfflegalize -cell $_DFF_P_ 01",  # enables and resets become logic + plain DFFs
            "abc -g cmos2",
            "opt_clean",
            "tee -o stat.txt stat -tech cmos",
        ]
    )

    def cap() -> None:
        if memory_limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))

    with tempfile.TemporaryDirectory(prefix="cosim-yosys-") as tmp:
        try:
            run = subprocess.run(
                [exe, "-q", "-p", script], cwd=tmp, capture_output=True, text=True, timeout=timeout_s, preexec_fn=cap
            )
        except subprocess.TimeoutExpired:
            raise ModelError(f"yosys: synthesis of {top} took longer than {timeout_s} s") from None
        if run.returncode != 0:
            why = (run.stderr or run.stdout).strip()[-500:] or f"exit status {run.returncode} (out of memory?)"
            raise ModelError(f"yosys: synthesis of {top} {params} failed: {why}")
        cells, estimate = parse_stat((Path(tmp) / "stat.txt").read_text())
    unpriced = sorted(set(cells) - set(TRANSISTORS))
    if unpriced:
        raise ModelError(f"yosys: {top} has cells without a CMOS cost: {', '.join(unpriced)}")
    transistors = sum(TRANSISTORS[c] * n for c, n in cells.items())
    if estimate is not None and estimate != transistors:
        raise ModelError(f"yosys: {top}: transistor count {transistors} != yosys's estimate {estimate}")
    stat = SynthStat(top=top, params=params, cells=cells, transistors=transistors)
    if cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(asdict(stat)))
    return stat
