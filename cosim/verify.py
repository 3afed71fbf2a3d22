"""Run the cocotb RTL benches through pytest and collect their results (``cosim verify``).

A bench lives in ``tests/rtl/<block>/``; `run_benches` runs pytest on one or all of them,
optionally on one simulator (every RTL test id names its simulator: ``-k icarus``), and
returns one `BenchResult` per pytest test plus the co-simulation records the benches appended to
``build/rtl/cosim/*.jsonl`` during the run (RTL cycles next to the model's prediction).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from cosim.errors import SpecError
from cosim.rtl import BUILD_DIR, REPO_ROOT, SIMULATORS

BENCH_DIR = REPO_ROOT / "tests" / "rtl"
COSIM_RECORD_DIR = BUILD_DIR / "cosim"


@dataclass(frozen=True)
class BenchResult:
    """One pytest test of an RTL bench."""

    block: str
    test: str  # pytest name with its parameter id, e.g. test_mac_pe[verilator-w8]
    sim: str  # "icarus", "verilator" or "" when the id names none
    outcome: str  # passed | failed | error | skipped
    seconds: float
    message: str = ""


def bench_blocks() -> list[str]:
    """Blocks that have a bench directory (tests/rtl/<block>/ holding test_*.py files)."""
    return sorted(p.name for p in BENCH_DIR.iterdir() if p.is_dir() and any(p.glob("test_*.py")))


def _sim_of(test_id: str) -> str:
    for s in SIMULATORS:
        if s in test_id:
            return s
    return ""


def parse_junit(path: Path) -> list[BenchResult]:
    """Results from a pytest --junitxml file."""
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        block = parts[2] if len(parts) > 2 and parts[:2] == ["tests", "rtl"] else classname
        name = case.get("name", "")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = (el.get("message") or "").splitlines()[0][:200] if el.get("message") else ""
                break
        out.append(BenchResult(block, name, _sim_of(name), outcome, float(case.get("time", 0.0)), message))
    return out


def run_benches(block: str | None = None, sim: str | None = None) -> tuple[list[BenchResult], list[dict]]:
    """Run the benches of `block` (all if None) on `sim` (both if None).

    Returns:
        (results, cosim_records): per-test results, and the co-simulation records written during
        this run.

    Raises:
        SpecError: unknown block or simulator.
    """
    blocks = bench_blocks()
    if block is not None and block not in blocks:
        raise SpecError(f"verify: no bench for block {block!r} (benches: {', '.join(blocks)})")
    if sim is not None and sim not in SIMULATORS:
        raise SpecError(f"verify: --sim {sim!r} is not supported (allowed: {', '.join(SIMULATORS)})")
    target = BENCH_DIR / block if block else BENCH_DIR
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="cosim-verify-") as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", str(target), "-q", "-p", "no:cacheprovider"]
        cmd += [f"--junitxml={junit}", "-o", "junit_family=xunit1"]
        if sim:
            cmd += ["-k", sim]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        # pytest's own progress goes to our stderr, so stdout stays for the table or JSON.
        subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=sys.stderr, stderr=sys.stderr, check=False)
        if not junit.is_file():
            raise SpecError(f"verify: pytest produced no results for {target} (is pytest installed?)")
        results = parse_junit(junit)
    return results, read_cosim_records(since=t0)


def read_cosim_records(since: float = 0.0) -> list[dict]:
    """Co-simulation records in build/rtl/cosim/*.jsonl files written at or after `since` (epoch s)."""
    rows: list[dict] = []
    if not COSIM_RECORD_DIR.is_dir():
        return rows
    for path in sorted(COSIM_RECORD_DIR.glob("*.jsonl")):
        if path.stat().st_mtime < since:
            continue
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def summarize_cosim(records: list[dict]) -> list[dict]:
    """One row per (block, simulator, configuration): runs, runs where RTL == model + handshake."""
    groups: dict[tuple, dict] = {}
    for r in records:
        key = (r["block"], r["sim"], r.get("rows"), r.get("cols"), r.get("dataflow"), r.get("pe"), r.get("encoding"))
        g = groups.setdefault(
            key,
            {
                "block": r["block"],
                "sim": r["sim"],
                "config": _config_name(r),
                "runs": 0,
                "matched": 0,
                "K": set(),
                "handshake_cycles": r["handshake_cycles"] if r["block"] != "opt3_pe" else "1 per dot",
            },
        )
        g["runs"] += 1
        g["matched"] += int(r["rtl_cycles"] == r["model_cycles"] + r["handshake_cycles"])
        if "K" in r:
            g["K"].add(r["K"])
    out = []
    for g in groups.values():
        g["K"] = sorted(g["K"])
        out.append(g)
    return out


def _config_name(r: dict) -> str:
    if r["block"] == "opt3_pe":
        return f"W{r['W']} {r['encoding']}"
    return f"{r['rows']}x{r['cols']} {r['dataflow']} {r['pe']}"
