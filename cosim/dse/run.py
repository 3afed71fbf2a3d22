"""Running a sweep: trace workloads once, choose designs, evaluate the missing ones, store them.

`run_sweep` is what ``cosim sweep`` calls.  It is resumable by construction: every design's
rows are keyed by content (see `cosim.dse.evaluate`), the search is deterministic for a given
spec and seed (grid and random orders; NSGA-II replays its generations, reading designs it has
already evaluated back from the store), and the store commits whole batches.  So a rerun after
any interruption evaluates exactly the rows that are missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cosim.dse.analysis import fronts, with_feasibility
from cosim.dse.evaluate import (
    EvalContext,
    Task,
    derived_metrics,
    eval_id,
    graph_hash,
    items_per_run,
    model_version,
    op_rows,
    plain_params,
    run_totals,
    spec_hash,
)
from cosim.dse.executors import check_executor, make_executor
from cosim.dse.spec import OpsPolicy, Space, Strategy, SweepSpec
from cosim.dse.store import Store
from cosim.errors import CosimError, SpecError
from cosim.graph import WorkloadGraph
from cosim.hw import MODELS

DEFAULT_BATCH = 64
FLUSH_ROWS = 4096  # commit the store after this many buffered rows...
FLUSH_SECONDS = 1.0  # ...or this long after the last commit


@dataclass
class Design:
    """A design chosen by the search: space, order index, fields, and its keys."""

    space: int
    point_index: int
    fields: dict[str, Any]
    spec_hash: str = ""
    eval_ids: tuple[str, ...] = ()
    valid: bool = True
    error: str = ""


@dataclass
class SweepSummary:
    """What a run did."""

    designs: int = 0
    rows_total: int = 0
    rows_evaluated: int = 0
    rows_skipped: int = 0
    seconds: float = 0.0
    eval_seconds: float = 0.0
    front_ops: int = 0
    store: str = ""
    workloads: list[str] = field(default_factory=list)

    @property
    def points_per_min(self) -> float:
        designs_evaluated = self.rows_evaluated / max(1, len(self.workloads))
        return 60.0 * designs_evaluated / self.eval_seconds if self.eval_seconds > 0 else 0.0


class _Progress:
    """rich progress bars on stderr, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.p = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )

    def __enter__(self) -> _Progress:
        if self.p is not None:
            self.p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.p is not None:
            self.p.stop()

    def task(self, description: str, total: float | None) -> int | None:
        return self.p.add_task(description, total=total) if self.p is not None else None

    def advance(self, tid: int | None, n: float = 1) -> None:
        if self.p is not None and tid is not None:
            self.p.advance(tid, n)

    def update(self, tid: int | None, **kw: Any) -> None:
        if self.p is not None and tid is not None:
            self.p.update(tid, **kw)


# --------------------------------------------------------------------------- workloads


def _trace_code_hash() -> str:
    """Hash of the code that turns a workload file into a graph: a cached trace is reused only
    while that code is unchanged."""
    pkg = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted([pkg / "graph.py", pkg / "workload.py", pkg / "trace.py", *(pkg / "zoo").glob("*.py")]):
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def load_graphs(spec: SweepSpec, store: Store, progress: _Progress) -> list[WorkloadGraph]:
    """Each workload traced once; the graph JSON is kept in the store so a rerun skips tracing."""
    from cosim.workload import load_workload

    graphs = []
    tid = progress.task("workloads", len(spec.workloads))
    code = _trace_code_hash()
    for path in spec.workloads:
        sha = hashlib.sha256(Path(path).read_bytes() + code.encode()).hexdigest()[:16]
        cached = store.cached_graph(str(path), sha)
        if cached is not None:
            g = WorkloadGraph.from_json(cached, str(path))
        else:
            g = load_workload(path)
            store.put_workload(graph_hash(g), g.title, str(path), sha, g.number_of_nodes(), g.to_json())
        graphs.append(g)
        progress.advance(tid)
    return graphs


# --------------------------------------------------------------------------- choosing designs


def _keys(d: Design, spaces: Sequence[Space], whashes: Sequence[str]) -> Design:
    sp = spaces[d.space]
    try:
        s = sp.spec_of_fields(d.fields)
    except CosimError as e:  # a combination the spec's own checks reject
        d.valid, d.error = False, str(e)
        d.spec_hash = _invalid_hash(sp, d.fields)
    else:
        d.spec_hash = spec_hash(sp.model.name, s)
    v = model_version(sp.model.name)
    d.eval_ids = tuple(eval_id(d.spec_hash, wh, v) for wh in whashes)
    return d


def _invalid_hash(sp: Space, fields: dict[str, Any]) -> str:
    return "invalid-" + hashlib.sha256(f"{sp.name}|{plain_params(fields)}".encode()).hexdigest()[:12]


def grid_designs(spec: SweepSpec) -> Iterator[Design]:
    i = 0
    for si, sp in enumerate(spec.spaces):
        for p in sp.grid():
            yield Design(si, i, sp.fields_of(p))
            i += 1


def random_designs(spec: SweepSpec) -> Iterator[Design]:
    """`samples` distinct designs per space, uniformly over the grid that passes the parameter
    constraints, drawn with numpy's PCG64 seeded by ``search.seed`` (and the space index)."""
    i = 0
    for si, sp in enumerate(spec.spaces):
        rng = np.random.default_rng([spec.search.seed, si])
        sizes = [len(a.values) for a in sp.axes]
        total = math.prod(sizes)
        want = spec.search.samples
        seen: set[int] = set()
        got = 0
        order = rng.permutation(total) if total <= 5_000_000 else None
        tries = 0
        while got < want and len(seen) < total:
            if order is not None:
                if tries >= total:
                    break
                flat = int(order[tries])
            else:
                flat = int(rng.integers(total))
                if flat in seen:
                    tries += 1
                    continue
            tries += 1
            seen.add(flat)
            idx = []
            rem = flat
            for s in reversed(sizes):
                idx.append(rem % s)
                rem //= s
            p = sp.params_of(list(reversed(idx)))
            if not sp.admits(p):
                continue
            yield Design(si, i, sp.fields_of(p))
            i += 1
            got += 1


# --------------------------------------------------------------------------- evaluation


class _Evaluator:
    """Evaluates designs that are not in the store, writes their rows, reports progress."""

    def __init__(
        self,
        spec: SweepSpec,
        store: Store,
        ctx: EvalContext,
        names: Sequence[str],
        whashes: Sequence[str],
        executor: Any,
        batch_size: int,
        progress: _Progress,
        summary: SweepSummary,
    ) -> None:
        self.spec, self.store, self.ctx, self.names, self.whashes = spec, store, ctx, names, whashes
        self.executor, self.batch_size, self.progress, self.summary = executor, batch_size, progress, summary
        self.existing = store.existing_ids()
        self.versions = [model_version(s.model.name) for s in spec.spaces]
        self._rows: list[tuple[Any, ...]] = []
        self._ops: list[tuple[Any, ...]] = []
        self._flushed = time.monotonic()

    def run(self, designs: Sequence[Design], tid: int | None) -> None:
        """Evaluate the designs whose rows are missing (each spec hash once)."""
        todo: list[Design] = []
        queued: set[str] = set()
        invalid_rows = []
        for d in designs:
            self.summary.designs += 1
            self.summary.rows_total += len(d.eval_ids)
            missing = [e for e in d.eval_ids if e not in self.existing]
            if not missing or d.spec_hash in queued:
                self.summary.rows_skipped += len(d.eval_ids)
                self.progress.advance(tid)
                continue
            queued.add(d.spec_hash)
            if not d.valid:
                invalid_rows.extend(
                    self._row(d, (d.spec_hash, wi, False, d.error, None, None, None, None, "{}", None))
                    for wi in range(len(self.names))
                )
                self.progress.advance(tid)
                continue
            todo.append(d)
        if invalid_rows:
            self._insert(invalid_rows, [])
        if not todo:
            self.flush()
            return
        by_hash = {d.spec_hash: d for d in todo}
        t0 = time.perf_counter()
        for res in self.executor.run(self._tasks(todo)):
            rows = [self._row(by_hash[r[0]], r) for r in res.rows]
            ops = [(by_hash[sh].eval_ids[wi], *o) for sh, wi, orows in res.ops for o in orows]
            self._insert(rows, ops)
            self.progress.advance(tid, len({r[0] for r in res.rows}))
        self.flush()
        self.summary.eval_seconds += time.perf_counter() - t0

    def _tasks(self, todo: Sequence[Design]) -> Iterator[Task]:
        k = 0
        for si in sorted({d.space for d in todo}):
            group = [d for d in todo if d.space == si]
            for j in range(0, len(group), self.batch_size):
                chunk = group[j : j + self.batch_size]
                yield Task(k, si, tuple((d.spec_hash, d.fields) for d in chunk))
                k += 1

    def _row(self, d: Design, r: tuple[Any, ...]) -> tuple[Any, ...]:
        sh, wi, ok, err, cycles, lat, energy, area, comps, flops = r
        sp = self.spec.spaces[d.space]
        items = self.ctx.items[wi]
        der = derived_metrics(lat, energy, area, items, flops)
        return (
            d.eval_ids[wi],
            sh,
            self.whashes[wi],
            self.versions[d.space],
            sp.name,
            sp.model.name,
            plain_params(d.fields),
            d.point_index,
            self.names[wi],
            ok,
            err,
            cycles,
            lat,
            energy,
            area,
            der["throughput_per_s"],
            der["edp_js"],
            der["perf_per_area"],
            der["power_w"],
            der["flops_per_s"],
            items,
            comps,
        )

    def _insert(self, rows: list[tuple[Any, ...]], ops: list[tuple[Any, ...]]) -> None:
        """Buffer rows; commit when the buffer is large or a second has passed (a commit costs
        ~50 ms of WAL sync, so committing every task would dominate fast sweeps)."""
        self._rows.extend(rows)
        self._ops.extend(ops)
        for r in rows:
            self.existing.add(r[0])
        self.summary.rows_evaluated += len(rows)
        if len(self._rows) + len(self._ops) >= FLUSH_ROWS or time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._rows or self._ops:
            self.store.insert(self._rows, self._ops)
            self._rows, self._ops = [], []
        self._flushed = time.monotonic()


# --------------------------------------------------------------------------- NSGA-II


def _nsga2(spec: SweepSpec, ev: _Evaluator, whashes: Sequence[str], progress: _Progress) -> None:
    """NSGA-II (optuna's NSGAIISampler) per space over axis-value indices, ask/tell by generation.

    Objectives are the geometric means over workloads; designs failing a constraint or a run
    are told as infeasible (optuna's trial constraint > 0), which NSGA-II ranks after every
    feasible design.  The sampler is seeded, and
    a generation is told in ask order, so a rerun asks the same designs and finds them stored.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from cosim.dse.analysis import aggregate_designs

    objectives = spec.objectives
    pop, gens = spec.search.population, spec.search.generations
    tid = progress.task("nsga2 designs", pop * gens * len(spec.spaces))
    offset = 0
    for si, sp in enumerate(spec.spaces):
        sampler = optuna.samplers.NSGAIISampler(population_size=pop, seed=spec.search.seed + si)
        study = optuna.create_study(
            directions=["maximize" if o.maximize else "minimize" for o in objectives], sampler=sampler
        )
        for gen in range(gens):
            trials, designs = [], []
            for j in range(pop):
                t = study.ask()
                idx = []
                for a in sp.axes:
                    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in a.values)
                    if numeric:
                        idx.append(t.suggest_int(a.name, 0, len(a.values) - 1))
                    else:
                        idx.append(int(t.suggest_categorical(a.name, [str(i) for i in range(len(a.values))])))
                p = sp.params_of(idx)
                d = Design(si, offset + gen * pop + j, sp.fields_of(p))
                if not sp.admits(p):
                    d.valid, d.error = False, "parameter constraint"
                trials.append(t)
                designs.append(_keys(d, spec.spaces, whashes) if d.valid else _keys_invalid(d, sp, whashes))
            ev.run([d for d in designs if d.valid or d.error != "parameter constraint"], tid)
            progress.advance(tid, sum(1 for d in designs if d.error == "parameter constraint"))
            ids = [e for d in designs for e in d.eval_ids]
            df = ev.store.con.execute("SELECT * FROM evals WHERE eval_id IN (SELECT unnest(?))", [ids]).df()
            df = with_feasibility(df, spec.constraints)
            agg = aggregate_designs(df, objectives, len(whashes)).set_index("spec_hash") if len(df) else None
            for t, d in zip(trials, designs):
                if agg is not None and d.spec_hash in agg.index:
                    vals = [float(agg.loc[d.spec_hash, o.metric]) for o in objectives]
                    if all(math.isfinite(v) for v in vals):
                        t.set_constraint("infeasible", 0.0)
                        study.tell(t, vals)
                        continue
                t.set_constraint("infeasible", 1.0)
                study.tell(t, [(-1e300 if o.maximize else 1e300) for o in objectives])
        offset += pop * gens


def _keys_invalid(d: Design, sp: Space, whashes: Sequence[str]) -> Design:
    d.spec_hash = _invalid_hash(sp, d.fields)
    v = model_version(sp.model.name)
    d.eval_ids = tuple(eval_id(d.spec_hash, wh, v) for wh in whashes)
    return d


# --------------------------------------------------------------------------- front per-op details


def store_front_ops(spec: SweepSpec, store: Store, graphs: Sequence[WorkloadGraph], progress: _Progress) -> int:
    """Per-op results of every Pareto-front design (per workload and overall), computed with the
    model's per-op `simulate` in this process; rows already stored are skipped."""
    df = store.evals_df()
    if df.empty:
        return 0
    df = with_feasibility(df, spec.constraints)
    fr = fronts(df, spec.objectives)
    wanted: list[str] = []
    for f in fr.values():
        if "eval_id" in f.columns:
            wanted.extend(f["eval_id"])
        else:  # the all-workloads front: every row of those designs
            wanted.extend(df.loc[df["spec_hash"].isin(set(f["spec_hash"])), "eval_id"])
    have = store.existing_op_ids()
    todo = [e for e in dict.fromkeys(wanted) if e not in have]
    if not todo:
        return 0
    rows = df.set_index("eval_id").loc[todo]
    names = [g.title for g in graphs]
    space_by_name = {s.name: s for s in spec.spaces}
    tid = progress.task("per-op results of front designs", len(todo))
    n = 0
    buf: list[tuple[Any, ...]] = []
    for eid, r in rows.iterrows():
        sp = space_by_name.get(r["space"])
        if sp is None or r["workload"] not in names:
            progress.advance(tid)
            continue
        s = sp.spec_of_fields(sp.fields_from_plain(json.loads(r["params"])))
        res = MODELS[sp.model.name].simulate(s, graphs[names.index(r["workload"])])
        buf.extend((eid, *o) for o in op_rows(res))
        n += 1
        progress.advance(tid)
    store.insert([], buf)
    return n


# --------------------------------------------------------------------------- entry point


def run_sweep(
    spec: SweepSpec,
    store_path: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: bool = True,
) -> SweepSummary:
    """Run (or resume) `spec`, storing results in `store_path` (see the module docstring).

    Local worker processes are started with ``forkserver`` and re-import the main module, so a
    script calling this with ``workers`` > 0 must do so under ``if __name__ == "__main__":``
    (the usual `multiprocessing` rule); ``workers=0`` evaluates in this process.
    """
    check_executor(executor, address, workers)  # before anything is traced or written
    if batch_size < 1:
        raise SpecError(f"--batch-size: must be >= 1, got {batch_size}")
    t_start = time.perf_counter()
    summary = SweepSummary(store=str(store_path))
    with Store(store_path) as store, _Progress(progress) as prog:
        store.set_meta("sweep", spec.plain)
        graphs = load_graphs(spec, store, prog)
        whashes = [graph_hash(g) for g in graphs]
        names = [g.title for g in graphs]
        if len(set(names)) != len(names):
            names = [f"{g.title}#{i}" for i, g in enumerate(graphs)]
        summary.workloads = names
        store.set_meta("workloads", names)
        ctx = EvalContext(
            models=tuple(s.model.name for s in spec.spaces),
            base_specs=tuple(s.base_spec for s in spec.spaces),
            graphs=tuple(graphs),
            items=tuple(items_per_run(g) for g in graphs),
            with_ops=spec.store_ops is OpsPolicy.ALL,
        )
        with make_executor(executor, ctx, workers, address) as ex:
            ev = _Evaluator(spec, store, ctx, names, whashes, ex, batch_size, prog, summary)
            if spec.search.strategy is Strategy.NSGA2:
                _nsga2(spec, ev, whashes, prog)
            else:
                gen = grid_designs(spec) if spec.search.strategy is Strategy.GRID else random_designs(spec)
                designs = [_keys(d, spec.spaces, whashes) for d in gen]
                tid = prog.task(f"{spec.search.strategy.value} designs", len(designs))
                ev.run(designs, tid)
        if spec.store_ops is OpsPolicy.FRONT:
            summary.front_ops = store_front_ops(spec, store, graphs, prog)
    summary.seconds = time.perf_counter() - t_start
    return summary


__all__ = ["DEFAULT_BATCH", "Design", "SweepSummary", "grid_designs", "random_designs", "run_sweep", "run_totals"]
