"""Evaluating design points: the code that runs on workers, and the keys that identify results.

A *design* is a space and a parameter assignment; evaluated on one workload it gives one
stored row.  The row's key, ``eval_id``, hashes what determines the numbers: the full
architecture spec (``spec_hash``), the workload graph's content (``workload_hash``) and the
model's code (``model_version``).  Rerunning a sweep therefore skips every row already stored,
and a changed model or workload is never served stale results.

Workers receive an `EvalContext` once (graphs, base specs) and then batches of `Task`s; a
task carries only indices and parameter values, so shipping work is cheap.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from cosim.errors import CosimError
from cosim.graph import Phase, WorkloadGraph
from cosim.hw import MODELS, HardwareModel
from cosim.hw.base import RunResult
from cosim.spec import to_plain


def canonical_json(obj: Any) -> str:
    """Deterministic JSON of a spec/params tree (sorted keys, no spaces)."""
    return json.dumps(to_plain(obj), sort_keys=True, separators=(",", ":"), default=str)


def short_hash(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def spec_hash(model: str, spec: Any) -> str:
    """Hash of a full architecture spec.  Specs are frozen dataclasses whose generated ``repr``
    lists every field in declaration order with exact float reprs and enum values, which is a
    canonical form (and 5x cheaper than a JSON round trip for sweeps of 10^5 designs)."""
    return short_hash(f"{model}|{spec!r}")


def graph_hash(graph: WorkloadGraph) -> str:
    return short_hash(graph.to_json())


@cache
def _cost_sources_hash() -> str:
    root = Path(__file__).resolve().parent.parent / "cost"
    h = hashlib.sha256()
    for p in sorted(root.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:8]


@cache
def model_version(name: str) -> str:
    """``<model>@<hash of its module source>+<hash of cosim.cost>``: changes when the model's code does."""
    m = MODELS[name]
    mod = sys.modules.get(m.simulate.__module__)
    try:
        src = inspect.getsource(mod) if mod is not None else m.simulate.__qualname__
    except (OSError, TypeError):
        src = m.simulate.__qualname__
    return f"{name}@{short_hash(src, 10)}+{_cost_sources_hash()}"


def eval_id(spec_h: str, workload_h: str, version: str) -> str:
    return short_hash(f"{spec_h}|{workload_h}|{version}", 20)


def items_per_run(graph: WorkloadGraph) -> float:
    """Inferences one run of the graph performs: the batch (images, or sequences in a decode
    step), times the sequence length for a prefill.  Read from the graph's ``meta``; 1 when absent."""
    meta = graph.meta or {}
    batch = meta.get("batch", 1) or 1
    phase = str(meta.get("phase", "")).lower()
    if phase == Phase.PREFILL.value:
        return float(batch) * float(meta.get("seq_len", 1) or 1)
    return float(batch)


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class EvalContext:
    """Everything a worker needs, shipped once: base specs per space and graphs per workload."""

    models: tuple[str, ...]  # model name per space
    base_specs: tuple[Any, ...]  # base spec per space
    graphs: tuple[WorkloadGraph, ...]
    items: tuple[float, ...]  # items_per_run per graph
    with_ops: bool = False  # per-op results for every point (slow path)


@dataclass(frozen=True)
class Task:
    """A batch of designs of one space, each evaluated on every workload."""

    index: int
    space: int
    designs: tuple[tuple[str, Mapping[str, Any]], ...]  # (spec_hash, spec field path -> typed value)


# column order of the rows a worker returns (the store adds the sweep-side columns)
RESULT_COLUMNS = (
    "spec_hash",
    "workload_index",
    "ok",
    "error",
    "cycles",
    "latency_s",
    "energy_j",
    "area_mm2",
    "energy_by_component",
    "flops",
)


@dataclass
class TaskResult:
    index: int
    space: int
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    ops: list[tuple[str, int, list[tuple[Any, ...]]]] = field(default_factory=list)  # (spec_hash, wl, op rows)


_EMPTY = WorkloadGraph(name="empty")


def _area(model: HardwareModel, spec: Any) -> float | None:
    """Area from the per-op path on an empty graph: an architecture property, independent of workload."""
    try:
        return model.simulate(spec, _EMPTY).area_mm2
    except CosimError:
        return None


def totals(model: HardwareModel, spec: Any, graph: WorkloadGraph, *, fast: bool = True) -> dict[str, Any]:
    """cycles, latency_s, energy_j, area_mm2, energy_by_component of `spec` on `graph`.

    Uses the model's `simulate_totals` when it has one and `fast` is set, `simulate` otherwise;
    the two agree by the `HardwareModel` contract (tests check it for every registered model).
    """
    if fast and model.simulate_totals is not None:
        t = model.simulate_totals(spec, graph)
        area = t.area_mm2 if hasattr(t, "area_mm2") else _area(model, spec)
        comps = dict(getattr(t, "energy_by_component_j", {}) or {})
        return {
            "cycles": int(t.cycles),
            "latency_s": float(t.seconds),
            "energy_j": _energy_or_none(float(t.energy_j), comps),
            "area_mm2": None if area is None else float(area),
            "energy_by_component": comps,
        }
    r = model.simulate(spec, graph)
    return run_totals(r)


def _energy_or_none(energy_j: float, comps: Mapping[str, float]) -> float | None:
    """A model without energy constants reports 0 J; store that as unknown (NULL), not as the
    best possible energy, so it never wins an energy objective by omission."""
    if energy_j == 0.0 and not any(comps.values()):
        return None
    return energy_j


def run_totals(r: RunResult) -> dict[str, Any]:
    comps = r.energy_by_component_j()
    return {
        "cycles": int(r.cycles),
        "latency_s": float(r.seconds),
        "energy_j": _energy_or_none(float(r.energy_j), comps),
        "area_mm2": None if r.area_mm2 is None else float(r.area_mm2),
        "energy_by_component": comps,
    }


def op_rows(r: RunResult) -> list[tuple[Any, ...]]:
    """Per-op rows of a run: (op_index, name, kind, cycles, seconds, energy_j, utilization, bound, components json)."""
    return [
        (
            i,
            o.op.name,
            o.op.kind.value,
            int(o.cycles),
            float(o.seconds),
            float(o.energy_j),
            float(o.utilization),
            o.bound.value,
            json.dumps(dict(o.energy_by_component_j), sort_keys=True),
        )
        for i, o in enumerate(r.ops)
    ]


def _apply(spec: Any, fields: Mapping[str, Any]) -> Any:
    from cosim.dse.spec import apply_params

    return apply_params(spec, fields)


def run_task(ctx: EvalContext, task: Task) -> TaskResult:
    """Evaluate every design of `task` on every workload of `ctx`."""
    model = MODELS[ctx.models[task.space]]
    base = ctx.base_specs[task.space]
    out = TaskResult(task.index, task.space)
    for sh, fields in task.designs:
        try:
            spec = _apply(base, fields)
        except CosimError as e:
            for wi in range(len(ctx.graphs)):
                out.rows.append((sh, wi, False, str(e), None, None, None, None, "{}", None))
            continue
        for wi, g in enumerate(ctx.graphs):
            try:
                if ctx.with_ops:
                    r = model.simulate(spec, g)
                    t = run_totals(r)
                    out.ops.append((sh, wi, op_rows(r)))
                else:
                    t = totals(model, spec, g)
            except CosimError as e:
                out.rows.append((sh, wi, False, str(e), None, None, None, None, "{}", None))
                continue
            out.rows.append(
                (
                    sh,
                    wi,
                    True,
                    None,
                    t["cycles"],
                    t["latency_s"],
                    t["energy_j"],
                    t["area_mm2"],
                    json.dumps(t["energy_by_component"], sort_keys=True),
                    float(g.total_flops),
                )
            )
    return out


def derived_metrics(
    latency_s: float | None, energy_j: float | None, area_mm2: float | None, items: float, flops: float | None
) -> dict[str, float | None]:
    """throughput, EDP, perf/area, power and FLOP/s from the totals (None where undefined)."""
    ok = latency_s is not None and latency_s > 0
    thr = items / latency_s if ok else None
    return {
        "throughput_per_s": thr,
        "edp_js": energy_j * latency_s if ok and energy_j is not None else None,
        "perf_per_area": thr / area_mm2 if thr is not None and area_mm2 else None,
        "power_w": energy_j / latency_s if ok and energy_j is not None else None,
        "flops_per_s": flops / latency_s if ok and flops is not None else None,
    }


def plain_params(params: Mapping[str, Any]) -> str:
    """JSON of a parameter assignment with enum values as their strings."""
    return json.dumps({k: (v.value if isinstance(v, Enum) else v) for k, v in params.items()}, sort_keys=True)


__all__ = [
    "RESULT_COLUMNS",
    "EvalContext",
    "Task",
    "TaskResult",
    "canonical_json",
    "derived_metrics",
    "eval_id",
    "graph_hash",
    "items_per_run",
    "model_version",
    "op_rows",
    "plain_params",
    "run_task",
    "spec_hash",
    "totals",
]
