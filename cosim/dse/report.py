"""``cosim report``: Pareto plots, per-op breakdowns, a sortable HTML page and the front as CSV.

From a sweep store it writes into the output directory:

* ``pareto_<workload>__<a>_vs_<b>.png``: for each workload (and all workloads together) and each
  pair of objectives, every feasible design, that pair's 2-D front (line) and the designs on
  the full multi-objective front (ringed);
* ``breakdown_<workload>.png``: for the front designs, cycles and energy by op kind and energy
  by component (per-op results from the store, or re-simulated from the stored graph);
* ``report.html``: one self-contained page (images inlined, no external scripts) with the
  sweep summary, the plots and sortable tables of the front and of all designs;
* ``pareto_front.csv``: the front designs of every workload with their parameters and metrics;
* ``data/evals.parquet``, ``data/ops.parquet``: the store's tables.

Matplotlib's cache goes to a temporary directory unless ``MPLCONFIGDIR`` is set.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosim.dse.analysis import ALL_WORKLOADS, constraints_from_meta, fronts, with_feasibility
from cosim.dse.pareto import pareto_mask
from cosim.dse.run import _Progress
from cosim.dse.spec import Objective
from cosim.dse.store import Store
from cosim.errors import SpecError

MAX_BREAKDOWN_DESIGNS = 12
MAX_TABLE_ROWS = 5000

_LABEL = {
    "throughput_per_s": "throughput (inferences/s)",
    "latency_s": "latency (s)",
    "energy_j": "energy (J)",
    "area_mm2": "area (mm²)",
    "edp_js": "energy × delay (J·s)",
    "perf_per_area": "throughput / area (1/s/mm²)",
}


@dataclass
class ReportFiles:
    directory: Path
    html: Path
    csv: Path
    plots: list[Path] = field(default_factory=list)
    parquet: list[Path] = field(default_factory=list)
    front_sizes: dict[str, int] = field(default_factory=dict)


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "x"


def _matplotlib() -> Any:
    if "MPLCONFIGDIR" not in os.environ:
        os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="cosim-mpl-")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _params_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The JSON params column expanded into one column per field (prefixed ``p.``)."""
    if df.empty:
        return pd.DataFrame(index=df.index)
    rows = [json.loads(p) if isinstance(p, str) else {} for p in df["params"]]
    out = pd.DataFrame(rows, index=df.index)
    out.columns = [f"p.{c}" for c in out.columns]
    return out


def _log_scale(values: np.ndarray) -> bool:
    v = values[np.isfinite(values) & (values > 0)]
    return v.size > 1 and v.max() / v.min() > 100


def _pair_plot(
    plt: Any, wl: str, df: pd.DataFrame, full_front: pd.DataFrame, a: Objective, b: Objective, path: Path
) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=110)
    feas = df[df["feasible"]] if "feasible" in df.columns else df
    infeas = df[~df["feasible"]] if "feasible" in df.columns else df.iloc[0:0]
    spaces = list(dict.fromkeys(feas["space"])) if len(feas) else []
    cmap = plt.get_cmap("tab10")
    for i, sp in enumerate(spaces):
        s = feas[feas["space"] == sp]
        shown = s.dropna(subset=[a.metric, b.metric])
        note = (
            f"{len(shown)}" if len(shown) == len(s) else f"{len(shown)}; {len(s) - len(shown)} lack {a.value}/{b.value}"
        )
        ax.scatter(shown[a.metric], shown[b.metric], s=12, alpha=0.55, color=cmap(i % 10), label=f"{sp} ({note})")
    if len(infeas):
        ok = infeas.dropna(subset=[a.metric, b.metric])
        if len(ok):
            ax.scatter(ok[a.metric], ok[b.metric], s=10, marker="x", color="0.75", label=f"infeasible ({len(ok)})")
    vals = feas[[a.metric, b.metric]].to_numpy(dtype=float) if len(feas) else np.empty((0, 2))
    if len(vals):
        m = pareto_mask(vals, [a.maximize, b.maximize])
        f = vals[m]
        f = f[np.argsort(f[:, 0])]
        ax.step(
            f[:, 0], f[:, 1], where="post" if a.maximize == b.maximize else "pre", color="k", lw=1.2, label="2-D front"
        )
    if len(full_front):
        ax.scatter(
            full_front[a.metric],
            full_front[b.metric],
            s=46,
            facecolors="none",
            edgecolors="crimson",
            lw=1.2,
            label=f"front, all objectives ({len(full_front)})",
        )
    for axis, _obj, setter in ((0, a, ax.set_xscale), (1, b, ax.set_yscale)):
        if len(vals) and _log_scale(vals[:, axis]):
            setter("log")
    ax.set_xlabel(_LABEL.get(a.metric, a.metric) + ("  →better" if a.maximize else "  ←better"))
    ax.set_ylabel(_LABEL.get(b.metric, b.metric) + ("  ↑better" if b.maximize else "  ↓better"))
    ax.set_title(f"{wl}: {a.value} vs {b.value}")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _rank_plot(plt: Any, wl: str, df: pd.DataFrame, obj: Objective, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    feas = df[df["feasible"]].sort_values(obj.metric, ascending=not obj.maximize)
    ax.plot(np.arange(len(feas)), feas[obj.metric].to_numpy(dtype=float), ".", ms=3)
    ax.set_xlabel("designs, best first")
    ax.set_ylabel(_LABEL.get(obj.metric, obj.metric))
    if _log_scale(feas[obj.metric].to_numpy(dtype=float)):
        ax.set_yscale("log")
    ax.set_title(f"{wl}: {obj.value}")
    ax.grid(True, alpha=0.25)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _front_ops(store: Store, front: pd.DataFrame, progress: _Progress) -> pd.DataFrame:
    """Per-op rows of the front designs: from the store, or re-simulated from the stored graphs."""
    ids = list(front["eval_id"])
    ops = store.ops_df(ids)
    missing = [e for e in ids if e not in set(ops["eval_id"])]
    if not missing:
        return ops
    from cosim.dse.evaluate import op_rows
    from cosim.dse.spec import apply_params
    from cosim.graph import WorkloadGraph
    from cosim.hw import MODELS, arch_from_mapping

    sweep = store.get_meta("sweep", {}) or {}
    graphs: dict[str, WorkloadGraph] = {}
    for wh, gj in store.con.execute("SELECT workload_hash, graph_json FROM workloads").fetchall():
        graphs[wh] = WorkloadGraph.from_json(gj)
    bases = _bases(sweep)
    extra = []
    tid = progress.task("per-op results (re-simulated)", len(missing))
    for eid in missing:
        r = front[front["eval_id"] == eid].iloc[0]
        g = graphs.get(r["workload_hash"])
        base = bases.get(r["space"])
        progress.advance(tid)
        if g is None or base is None or r["model"] not in MODELS:
            continue
        arch = arch_from_mapping(base, f"space {r['space']}")
        fields = json.loads(r["params"])
        typed = {k: _typed_like(arch.spec, k, v) for k, v in fields.items()}
        res = MODELS[r["model"]].simulate(apply_params(arch.spec, typed), g)
        extra.extend((eid, *o) for o in op_rows(res))
    if extra:
        from cosim.dse.store import OP_NAMES

        ops = pd.concat([ops, pd.DataFrame(extra, columns=list(OP_NAMES))], ignore_index=True)
    return ops


def _bases(sweep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Space name -> base architecture mapping, as stored with the sweep."""
    return {s["name"]: s["base"] for s in sweep.get("resolved_spaces", []) if isinstance(s.get("base"), dict)}


def _typed_like(spec: Any, path: str, value: Any) -> Any:
    cur = spec
    for part in path.split("."):
        cur = getattr(cur, part)
    if hasattr(cur, "value") and not isinstance(value, type(cur)):
        return type(cur)(value)
    return value


def _breakdown_plot(plt: Any, wl: str, front: pd.DataFrame, ops: pd.DataFrame, path: Path) -> bool:
    if front.empty:
        return False
    labels = [f"#{int(r.point_index)} {r.space}" for r in front.itertuples()]
    by_kind_cycles: dict[str, np.ndarray] = {}
    by_kind_energy: dict[str, np.ndarray] = {}
    by_comp: dict[str, np.ndarray] = {}
    n = len(front)
    for i, r in enumerate(front.itertuples()):
        o = ops[ops["eval_id"] == r.eval_id]
        for kind, g in o.groupby("kind"):
            by_kind_cycles.setdefault(kind, np.zeros(n))[i] = g["cycles"].sum()
            by_kind_energy.setdefault(kind, np.zeros(n))[i] = g["energy_j"].sum()
        comps = json.loads(r.energy_by_component) if isinstance(r.energy_by_component, str) else {}
        for c, v in comps.items():
            by_comp.setdefault(c, np.zeros(n))[i] = v
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=100)
    for ax, data, title, unit in (
        (axes[0], by_kind_cycles, "cycles by op kind", "cycles"),
        (axes[1], by_kind_energy, "energy by op kind", "J"),
        (axes[2], by_comp, "energy by component", "J"),
    ):
        bottom = np.zeros(n)
        cmap = plt.get_cmap("tab20")
        for j, (k, v) in enumerate(sorted(data.items())):
            ax.bar(np.arange(n), v, bottom=bottom, color=cmap(j % 20), label=k)
            bottom += v
        ax.set_xticks(np.arange(n))
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        ax.set_title(title)
        ax.set_ylabel(unit)
        if data and any(v.any() for v in data.values()):
            ax.legend(fontsize=7)
        else:
            what = "per op" if "op kind" in title else "by component"
            ax.text(0.5, 0.5, f"not reported {what} by the model", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"{wl}: front designs ({n})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4;cursor:pointer;position:sticky;top:0}td.s,th.s{text-align:left}
tr.front td{background:#fff4e5}img{max-width:100%;border:1px solid #eee;margin:4px}
.grid{display:flex;flex-wrap:wrap}.grid img{width:48%}.note{color:#666;font-size:12px}
.scroll{max-height:600px;overflow:auto}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var tb=t.tBodies[0], rows=Array.from(tb.rows), asc=th.dataset.asc!=='1';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v!==undefined?a.cells[i].dataset.v:a.cells[i].textContent;
        var y=b.cells[i].dataset.v!==undefined?b.cells[i].dataset.v:b.cells[i].textContent;
        var nx=parseFloat(x), ny=parseFloat(y);
        if(!isNaN(nx)&&!isNaN(ny)) return asc?nx-ny:ny-nx;
        return asc?String(x).localeCompare(y):String(y).localeCompare(x);
      });
      rows.forEach(function(r){tb.appendChild(r)}); th.dataset.asc=asc?'1':'0';
    });
  });
});
"""


def _fmt(v: Any) -> tuple[str, str | None]:
    """Display text and sort value of a cell."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "", ""
    if isinstance(v, bool | np.bool_):
        return ("yes" if v else "no"), None
    if isinstance(v, int | np.integer):
        return f"{int(v):,}", str(int(v))
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}", repr(float(v))
    return html.escape(str(v)), None


def _table(df: pd.DataFrame, cols: Sequence[str], highlight: set[str] | None = None) -> str:
    out = ['<div class="scroll"><table class="sortable"><thead><tr>']
    for c in cols:
        cls = ' class="s"' if df[c].dtype == object else ""
        out.append(f"<th{cls}>{html.escape(c)}</th>")
    out.append("</tr></thead><tbody>")
    for r in df[list(cols) + (["eval_id"] if "eval_id" in df.columns and "eval_id" not in cols else [])].itertuples(
        index=False
    ):
        rd = r._asdict() if hasattr(r, "_asdict") else dict(zip(cols, r))
        vals = list(r)[: len(cols)]
        eid = getattr(r, "eval_id", None) if "eval_id" in df.columns else None
        cls = ' class="front"' if highlight and eid in highlight else ""
        out.append(f"<tr{cls}>")
        for c, v in zip(cols, vals):
            text, key = _fmt(v)
            s = ' class="s"' if df[c].dtype == object else ""
            dv = f' data-v="{key}"' if key is not None else ""
            out.append(f"<td{s}{dv}>{text}</td>")
        out.append("</tr>")
        del rd
    out.append("</tbody></table></div>")
    return "".join(out)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


# --------------------------------------------------------------------------- entry point


def write_report(store_path: str | Path, out_dir: str | Path, *, progress: bool = True) -> ReportFiles:
    """Write the report of a sweep store into `out_dir` (see the module docstring).

    Raises:
        SpecError: the store does not exist, is not a sweep store, or holds no results.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plt = _matplotlib()
    with Store(store_path, read_only=True) as store, _Progress(progress) as prog:
        sweep = store.get_meta("sweep", {}) or {}
        df = store.evals_df()
        if df.empty:
            raise SpecError(f"{store_path}: the store holds no evaluated designs yet")
        objectives = [Objective(o) for o in sweep.get("objectives", ["latency", "energy"])]
        constraints = constraints_from_meta(sweep)
        df = with_feasibility(df, constraints)
        fr = fronts(df, objectives)
        files = ReportFiles(directory=out, html=out / "report.html", csv=out / "pareto_front.csv")
        pairs = [(objectives[i], objectives[j]) for i in range(len(objectives)) for j in range(i + 1, len(objectives))]
        workload_keys = list(fr)
        tid = prog.task("pareto plots", len(workload_keys) * max(1, len(pairs)))
        plots_by_wl: dict[str, list[Path]] = {}
        for wl in workload_keys:
            if wl == ALL_WORKLOADS:
                from cosim.dse.analysis import aggregate_designs

                sub = aggregate_designs(df, objectives, len(workload_keys) - 1)
                sub["feasible"] = True
            else:
                sub = df[df["workload"] == wl]
            paths = []
            if pairs:
                for a, b in pairs:
                    p = out / f"pareto_{_slug(wl)}__{a.value}_vs_{b.value}.png"
                    _pair_plot(plt, wl, sub, fr[wl], a, b, p)
                    paths.append(p)
                    prog.advance(tid)
            else:
                p = out / f"ranking_{_slug(wl)}__{objectives[0].value}.png"
                _rank_plot(plt, wl, sub, objectives[0], p)
                paths.append(p)
                prog.advance(tid)
            plots_by_wl[wl] = paths
            files.plots.extend(paths)
        # per-op breakdowns of the front designs (per workload; the aggregate has no single graph)
        breakdowns: dict[str, Path] = {}
        per_wl = [w for w in workload_keys if w != ALL_WORKLOADS]
        tid = prog.task("breakdown charts", len(per_wl))
        for wl in per_wl:
            f = fr[wl]
            if len(f) > MAX_BREAKDOWN_DESIGNS:
                f = f.sort_values(objectives[0].metric, ascending=not objectives[0].maximize).head(
                    MAX_BREAKDOWN_DESIGNS
                )
            f = f.sort_values("point_index")
            ops = _front_ops(store, f, prog)
            p = out / f"breakdown_{_slug(wl)}.png"
            if _breakdown_plot(plt, wl, f, ops, p):
                breakdowns[wl] = p
                files.plots.append(p)
            prog.advance(tid)
        # CSV of the fronts
        parts = []
        for wl, f in fr.items():
            if f.empty:
                continue
            g = f.copy()
            g.insert(0, "front_of", wl)
            parts.append(pd.concat([g, _params_frame(g)], axis=1))
            files.front_sizes[wl] = len(f)
        front_csv = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        front_csv.to_csv(files.csv, index=False)
        files.parquet = store.export_parquet(out / "data")
        _write_html(files, sweep, df, fr, objectives, plots_by_wl, breakdowns, store_path)
    return files


def _write_html(
    files: ReportFiles,
    sweep: dict[str, Any],
    df: pd.DataFrame,
    fr: dict[str, pd.DataFrame],
    objectives: Sequence[Objective],
    plots: dict[str, list[Path]],
    breakdowns: dict[str, Path],
    store_path: str | Path,
) -> None:
    metric_cols = ["latency_s", "throughput_per_s", "energy_j", "area_mm2", "edp_js", "perf_per_area", "power_w"]
    pf = _params_frame(df)
    full = pd.concat([df, pf], axis=1)
    pcols = list(pf.columns)
    base_cols = ["point_index", "space", "workload", *pcols, *metric_cols, "feasible"]
    front_ids = {e for f in fr.values() if "eval_id" in f.columns for e in f["eval_id"]}
    n_designs = df["spec_hash"].nunique()
    objs = ", ".join(f"{o.value} ({'max' if o.maximize else 'min'})" for o in objectives)
    title = html.escape(str(sweep.get("name", "")))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>cosim sweep report: {title}</title><style>{_CSS}</style></head><body>",
        f"<h1>Sweep report: {title}</h1>",
        f"<p>{html.escape(str(sweep.get('description', '') or ''))}</p>",
        "<ul>",
        f"<li>store: <code>{html.escape(str(store_path))}</code></li>",
        f"<li>designs: {n_designs:,}; rows (design × workload): {len(df):,}; failed runs: {int((~df['ok']).sum()):,}; "
        f"infeasible rows: {int((df['ok'] & ~df['feasible']).sum()):,}</li>",
        f"<li>objectives: {html.escape(objs)}</li>",
        f"<li>constraints: {html.escape(', '.join(sweep.get('constraints', []) or ['none']))}</li>",
        f"<li>search: {html.escape(json.dumps(sweep.get('search', {})))}</li>",
        f"<li>models: {html.escape(', '.join(sorted(set(df['model']))))}; versions: "
        f"{html.escape(', '.join(sorted(set(df['model_version']))))}</li>",
        "</ul>",
    ]
    for wl, f in fr.items():
        parts.append(f"<h2>{html.escape(wl)}: front of {len(f)} design(s)</h2><div class='grid'>")
        parts.extend(_img(p) for p in plots.get(wl, []))
        parts.append("</div>")
        if wl in breakdowns:
            parts.append(_img(breakdowns[wl]))
        if len(f):
            g = pd.concat([f.reset_index(drop=True), _params_frame(f.reset_index(drop=True))], axis=1)
            cols = [
                c
                for c in ["point_index", "space", *[c for c in g.columns if c.startswith("p.")], *metric_cols]
                if c in g.columns
            ]
            parts.append(_table(g, cols))
    shown = full.sort_values(["point_index", "workload"]).head(MAX_TABLE_ROWS)
    cap = f"; first {MAX_TABLE_ROWS:,} shown" if len(full) > MAX_TABLE_ROWS else ""
    parts.append(f"<h2>All designs ({len(full):,} rows{cap})</h2>")
    parts.append("<p class='note'>Click a column header to sort. Front rows are shaded.</p>")
    parts.append(_table(shown, [c for c in base_cols if c in shown.columns], front_ids))
    parts.append(f"<script>{_JS}</script></body></html>")
    files.html.write_text("".join(parts))


__all__ = ["ReportFiles", "write_report"]
