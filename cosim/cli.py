"""The ``cosim`` command line.

Exit codes (DESIGN.md): 0 success; 2 a user error, reported as one line on stderr naming the
file, key or value and what is allowed; 1 an internal error (a bug: the traceback is printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cosim.errors import CosimError, SpecError

app = typer.Typer(
    name="cosim",
    help="Hardware simulation and co-design workbench: trace PyTorch workloads, simulate them on "
    "hardware models, verify RTL, explore design spaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
graph_app = typer.Typer(help="Inspect workload graphs.", no_args_is_help=True)
app.add_typer(graph_app, name="graph")

# Piped output gets a wide console so tables don't wrap at rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def fmt_si(x: float, unit: str = "") -> str:
    """Engineering notation: 1.23 G, 456 k, ..."""
    for div, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g} {p}{unit}"
    return f"{x:.3g} {unit}".rstrip()


def fmt_seconds(s: float) -> str:
    for div, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if s >= div:
            return f"{s / div:.4g} {u}"
    return f"{s / 1e-9:.4g} ns"


def emit_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, indent=1) + "\n")


# --------------------------------------------------------------------------- trace / graph


@app.command()
def trace(
    workload: Annotated[Path, typer.Argument(help="workload spec (workloads/*.yaml)")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write the graph JSON here")] = None,
) -> None:
    """Trace a workload spec with torch.export into a workload graph."""
    from cosim.workload import load_workload

    g = load_workload(workload)
    if output is not None:
        g.save(output)
        err.print(f"wrote {output}: {g.number_of_nodes()} ops, {fmt_si(g.total_flops, 'FLOP')}")
    else:
        sys.stdout.write(g.to_json(indent=1) + "\n")


@graph_app.command("summary")
def graph_summary(
    graph: Annotated[Path, typer.Argument(help="graph JSON, workload YAML or op-list CSV")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Op counts, FLOPs, bytes and arithmetic intensity per op kind."""
    from cosim.workload import load_workload

    g = load_workload(graph)
    rows = g.summary()
    if as_json:
        emit_json(
            {
                "name": g.title,
                "kinds": [
                    {
                        "kind": r.kind.value,
                        "count": r.count,
                        "flops": r.flops,
                        "bytes": r.bytes_total,
                        "arithmetic_intensity": r.arithmetic_intensity,
                    }
                    for r in rows
                ],
                "total": {"count": g.number_of_nodes(), "flops": g.total_flops, "bytes": g.total_bytes},
            }
        )
        return
    t = Table(title=f"{g.title}: {g.number_of_nodes()} ops")
    for c in ("kind", "ops", "FLOPs", "bytes", "FLOP/byte"):
        t.add_column(c, justify="left" if c == "kind" else "right")
    for r in rows:
        t.add_row(
            r.kind.value, str(r.count), fmt_si(r.flops), fmt_si(r.bytes_total, "B"), f"{r.arithmetic_intensity:.3g}"
        )
    ai = g.total_flops / g.total_bytes if g.total_bytes else 0.0
    t.add_row(
        "total", str(g.number_of_nodes()), fmt_si(g.total_flops), fmt_si(g.total_bytes, "B"), f"{ai:.3g}", style="bold"
    )
    out.print(t)


@app.command("list")
def list_things() -> None:
    """List the hardware models and the zoo models cosim knows."""
    from cosim import zoo
    from cosim.hw import MODELS

    t = Table(title="hardware models (the `model:` key of models/*.yaml)")
    t.add_column("model")
    t.add_column("what it models")
    for name, m in MODELS.items():
        t.add_row(name, m.summary)
    out.print(t)
    z = Table(title="zoo models (the `model:` key of workloads/*.yaml)")
    for c in ("model", "family", "source"):
        z.add_column(c)
    for name in zoo.names():
        fam = zoo.family_of(name)
        src = zoo.decoder_config(name).source if fam == "decoder" else zoo.resnet.CONFIGS[name].source
        z.add_row(name, fam, src)
    out.print(z)


# --------------------------------------------------------------------------- simulate


def print_run(result: object, per_op: bool = True, max_rows: int = 60) -> None:
    """Readable table of a RunResult: per op (up to `max_rows`) and totals."""
    from cosim.hw.base import RunResult

    assert isinstance(result, RunResult)
    t = Table(title=f"{result.workload} on {result.arch}")
    for c in ("op", "kind", "unit", "cycles", "time", "util %", "bound"):
        t.add_column(c, justify="left" if c in ("op", "kind", "unit", "bound") else "right")
    ops = result.ops
    shown = ops if len(ops) <= max_rows else ops[:max_rows]
    if per_op:
        for r in shown:
            t.add_row(
                r.op.name,
                r.op.kind.value,
                r.unit,
                f"{r.cycles:,}",
                fmt_seconds(r.seconds),
                f"{100 * r.utilization:.1f}",
                r.bound.value,
            )
        if len(ops) > len(shown):
            t.add_row(f"... {len(ops) - len(shown)} more ops (use --json for all)", "", "", "", "", "", "")
    macs_time = [r for r in ops if r.op.is_gemm_like]
    util = (
        (sum(r.utilization * r.seconds for r in macs_time) / sum(r.seconds for r in macs_time))
        if macs_time and sum(r.seconds for r in macs_time) > 0
        else 0.0
    )
    t.add_row("total", "", "", f"{result.cycles:,}", fmt_seconds(result.seconds), f"{100 * util:.1f}", "", style="bold")
    out.print(t)
    extra = [f"clock {fmt_si(result.clock_hz, 'Hz')}"]
    if result.energy_j:
        extra.append(f"energy {fmt_si(result.energy_j, 'J')}")
    if result.area_mm2:
        extra.append(f"area {result.area_mm2:.4g} mm^2")
    out.print("  ".join(extra))


@app.command()
def simulate(
    arch: Annotated[Path, typer.Option("--arch", "-a", help="architecture spec (models/*.yaml, or a foreign format)")],
    workload: Annotated[Path, typer.Option("--workload", "-w", help="workload YAML, graph JSON or op-list CSV")],
    as_json: Annotated[bool, typer.Option("--json", help="print the simulation JSON")] = False,
    all_ops: Annotated[bool, typer.Option("--all", help="list every op in the table")] = False,
) -> None:
    """Simulate a workload on an architecture."""
    from cosim.hw import load_arch
    from cosim.workload import load_workload

    a = load_arch(arch)
    g = load_workload(workload)
    res = a.simulate(g)
    if as_json:
        emit_json(res.to_dict())
    else:
        print_run(res, max_rows=10**9 if all_ops else 60)


# --------------------------------------------------------------------------- verify / synth


@app.command()
def verify(
    block: Annotated[str | None, typer.Argument(help="bench under tests/rtl/ (default: all)")] = None,
    sim: Annotated[str | None, typer.Option("--sim", help="icarus or verilator (default: both)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Run the cocotb RTL benches (pytest on tests/rtl/BLOCK) and print a pass table.

    Exit code 1 if any bench fails.  WAVES=1 in the environment records waveforms into each
    bench's build directory (build/rtl/<top>-<sim>-<hash>/: <top>.fst on Icarus, dump.vcd on
    Verilator).
    """
    from rich.markup import escape

    from cosim.verify import run_benches, summarize_cosim

    results, records = run_benches(block, sim)
    cosim_rows = summarize_cosim(records)
    failed = [r for r in results if r.outcome in ("failed", "error")]
    if as_json:
        emit_json(
            {
                "tests": [r.__dict__ for r in results],
                "cosim": cosim_rows,
                "passed": sum(r.outcome == "passed" for r in results),
                "failed": len(failed),
            }
        )
    else:
        t = Table(title=f"RTL benches: {block or 'all'} on {sim or 'icarus + verilator'}")
        for c in ("block", "test", "sim", "result", "seconds"):
            t.add_column(c, justify="right" if c == "seconds" else "left")
        for r in results:
            style = {"passed": "green", "skipped": "yellow"}.get(r.outcome, "red")
            t.add_row(r.block, escape(r.test), r.sim, f"[{style}]{r.outcome}[/{style}]", f"{r.seconds:.1f}")
        out.print(t)
        if cosim_rows:
            c = Table(title="Co-simulation: RTL cycles vs model (+ handshake)")
            for col in ("block", "sim", "config", "K", "runs", "rtl == model + handshake", "handshake"):
                c.add_column(col, justify="right" if col in ("runs", "rtl == model + handshake") else "left")
            for g in cosim_rows:
                ok = g["matched"] == g["runs"]
                mark = f"[{'green' if ok else 'red'}]{g['matched']}/{g['runs']}[/{'green' if ok else 'red'}]"
                ks = ",".join(map(str, g["K"])) if len(g["K"]) <= 6 else f"{len(g['K'])} values"
                c.add_row(g["block"], g["sim"], g["config"], ks, str(g["runs"]), mark, str(g["handshake_cycles"]))
            out.print(c)
        passed = sum(r.outcome == "passed" for r in results)
        out.print(f"{passed} passed, {len(failed)} failed, {len(results) - passed - len(failed)} skipped")
    if failed or not results:
        raise typer.Exit(1)


def parse_params(items: list[str]) -> dict[str, int]:
    """``["K=V", ...]`` -> {K: int(V)}; SpecError names the bad item."""
    params: dict[str, int] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--param {item!r}: expected NAME=INTEGER")
        try:
            params[key.strip()] = int(val, 0)
        except ValueError:
            raise SpecError(f"--param {item!r}: value {val!r} is not an integer") from None
    return params


@app.command()
def synth(
    block: Annotated[str, typer.Argument(help="top-level module under rtl/ (e.g. mac_pe, systolic_os)")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="parameter NAME=VALUE (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Synthesise an RTL block with yosys to a CMOS gate set: cells, transistors, logic depth."""
    from cosim.synth import TRANSISTORS, synthesize

    rep = synthesize(block, params=parse_params(param or []))
    if as_json:
        emit_json(rep.to_dict())
        return
    prm = ", ".join(f"{k}={v}" for k, v in rep.params.items()) or "defaults"
    t = Table(title=f"{rep.top} ({prm}): {rep.yosys_version}")
    for c in ("cell", "count", "transistors each", "transistors"):
        t.add_column(c, justify="left" if c == "cell" else "right")
    for cell, n in rep.cell_types.items():
        t.add_row(cell, f"{n:,}", str(TRANSISTORS[cell]), f"{n * TRANSISTORS[cell]:,}")
    t.add_row("total", f"{rep.cells:,}", "", f"{rep.transistors:,}", style="bold")
    out.print(t)
    out.print(
        f"cells {rep.cells:,}  flip-flops {rep.flip_flops:,}  transistors {rep.transistors:,} "
        f"(logic {rep.logic_transistors:,})  logic depth {rep.depth} gates  yosys {rep.seconds:.1f} s"
    )


@app.command()
def compare(
    arch: Annotated[
        list[Path], typer.Option("--arch", "-a", help="architecture specs; the first is the baseline (repeat)")
    ],
    workload: Annotated[Path, typer.Option("--workload", "-w", help="workload YAML, graph JSON or op-list CSV")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Throughput of a workload on several architectures, and each one's speedup over the first."""
    from cosim.errors import SpecError
    from cosim.hw import load_arch
    from cosim.system import throughput_tokens_per_s
    from cosim.workload import load_workload

    if len(arch) < 2:
        raise SpecError(f"--arch: give at least two architectures to compare, got {len(arch)}")
    archs = [load_arch(a) for a in arch]
    g = load_workload(workload)
    rows = []
    for path, a in zip(arch, archs):
        res = a.simulate(g)
        tput = throughput_tokens_per_s(res, g)
        rows.append(
            {
                "arch": a.name,
                "file": str(path),
                "seconds": res.seconds,
                "tokens_per_s": tput,
                "energy_j": res.energy_j,
                "npu_utilization": res.extra.get("npu_utilization"),
                "pim_utilization": res.extra.get("pim_utilization"),
            }
        )
    base = rows[0]["tokens_per_s"]
    for r in rows:
        r["speedup"] = r["tokens_per_s"] / base if base else None
    if as_json:
        emit_json({"workload": g.title, "baseline": rows[0]["arch"], "archs": rows})
        return
    t = Table(title=f"{g.title}: throughput (speedup over {rows[0]['arch']})")
    for c in ("arch", "time / step", "tokens/s", "speedup", "energy", "NPU util", "PIM util"):
        t.add_column(c, justify="left" if c == "arch" else "right")
    for r in rows:
        t.add_row(
            r["arch"],
            fmt_seconds(r["seconds"]),
            fmt_si(r["tokens_per_s"]),
            f"{r['speedup']:.2f}x" if r["speedup"] is not None else "-",
            fmt_si(r["energy_j"], "J") if r["energy_j"] else "-",
            f"{100 * r['npu_utilization']:.1f}%" if r["npu_utilization"] is not None else "-",
            f"{100 * r['pim_utilization']:.1f}%" if r["pim_utilization"] is not None else "-",
        )
    out.print(t)


# --------------------------------------------------------------------------- calibrate


@app.command()
def calibrate(
    device: Annotated[str, typer.Option("--device", help="GPU to measure: cuda or cuda:N")] = "cuda",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="calibrated spec to write (default: models/gpu_<name>.yaml)")
    ] = None,
    base: Annotated[
        Path | None, typer.Option("--base", help="spec whose datasheet part is kept (default: the output file)")
    ] = None,
    from_csv: Annotated[
        Path | None, typer.Option("--from-csv", help="refit from saved measurements; needs no GPU")
    ] = None,
    heldout: Annotated[
        bool, typer.Option("--heldout", help="also measure the held-out and blind sets (never fitted)")
    ] = False,
    budget_s: Annotated[float, typer.Option("--budget-s", help="stop measuring after this many seconds")] = 480.0,
    grid_scale: Annotated[float, typer.Option("--grid-scale", help="scale the number of random fit shapes")] = 1.0,
    starts: Annotated[int, typer.Option("--starts", help="least-squares starting points")] = 2,
) -> None:
    """Measure GEMM/attention/memory-bound kernels on the GPU and fit the gpu model's efficiencies."""
    from cosim.calibrate import run

    run(
        device=device,
        output=output,
        base=base,
        from_csv=from_csv,
        heldout=heldout,
        budget_s=budget_s,
        grid_scale=grid_scale,
        starts=starts,
    )


# --------------------------------------------------------------------------- sweep / report


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="sweep spec (sweeps/*.yaml)")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="results store (default: out/<sweep name>.duckdb)")
    ] = None,
    executor: Annotated[str, typer.Option("--executor", help="local (process pool), ray or dask")] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="existing Ray/Dask cluster: auto, ray://HOST:10001, tcp://HOST:8786")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="worker processes (default: all cores)")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="designs per task", min=1)] = 64,
    report_dir: Annotated[
        Path | None, typer.Option("--report", help="also write the report into this directory")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
) -> None:
    """Run (or resume) a design sweep; every evaluated design goes to a DuckDB store."""
    from cosim.dse import load_sweep, run_sweep

    s = load_sweep(spec)
    store = output if output is not None else Path("out") / f"{s.name}.duckdb"
    summary = run_sweep(
        s, store, executor=executor, workers=workers, address=address, batch_size=batch_size, progress=not quiet
    )
    err.print(
        f"{s.name}: {summary.designs:,} designs x {len(summary.workloads)} workload(s): "
        f"{summary.rows_evaluated:,} rows evaluated, {summary.rows_skipped:,} already stored, "
        f"{summary.seconds:.1f} s -> {store}",
        soft_wrap=True,
    )
    if report_dir is not None:
        from cosim.dse.report import write_report

        files = write_report(store, report_dir, progress=not quiet)
        err.print(f"report: {files.html}", soft_wrap=True)


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="sweep store written by `cosim sweep` (.duckdb)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="report directory")] = Path("report"),
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
) -> None:
    """Pareto plots, per-op breakdowns, a sortable HTML report and the front as CSV."""
    from cosim.dse.report import write_report

    files = write_report(results, output, progress=not quiet)
    fronts = ", ".join(f"{w}: {n}" for w, n in files.front_sizes.items())
    err.print(f"wrote {files.html}, {files.csv} and {len(files.plots)} plots (front sizes: {fronts})", soft_wrap=True)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: usage errors and `CosimError` exit 2 with one line; bugs exit 1."""
    try:
        # standalone mode: click prints usage errors itself and exits 2; exits 0 on success
        app(args=argv, prog_name="cosim")
    except CosimError as e:
        err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
