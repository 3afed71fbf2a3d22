"""The sweep store: every evaluated point in one DuckDB file, safe to interrupt at any moment.

Tables:

* ``evals``: one row per (design, workload): keys (``eval_id`` primary key, ``spec_hash``,
  ``workload_hash``, ``model_version``), the design (``space``, ``model``, ``params`` JSON,
  ``point_index``), totals (cycles, latency, energy, area, components JSON) and derived
  metrics (throughput, EDP, perf/area, power, FLOP/s);
* ``ops``: per-op results (cycles, seconds, energy, utilization, bound, components) of the
  points whose per-op results were computed (the Pareto front by default);
* ``workloads``: each workload's graph JSON, so a rerun does not trace it again;
* ``meta``: the sweep spec of the last run (constraints and objectives for reports).

Crash safety: rows are written only by the sweep's main process, one transaction per batch of
finished work (``INSERT OR IGNORE`` on the primary key).  DuckDB's write-ahead log makes a
committed batch durable and an interrupted one vanish, so after SIGKILL the store holds whole
batches; a rerun computes which ``eval_id`` are missing and evaluates only those.  Rows never
duplicate (primary key) and carry no timestamps, so an interrupted-and-resumed sweep ends
with exactly the rows of an uninterrupted one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from cosim.errors import SpecError

EVAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eval_id", "VARCHAR PRIMARY KEY"),
    ("spec_hash", "VARCHAR"),
    ("workload_hash", "VARCHAR"),
    ("model_version", "VARCHAR"),
    ("space", "VARCHAR"),
    ("model", "VARCHAR"),
    ("params", "VARCHAR"),
    ("point_index", "BIGINT"),
    ("workload", "VARCHAR"),
    ("ok", "BOOLEAN"),
    ("error", "VARCHAR"),
    ("cycles", "BIGINT"),
    ("latency_s", "DOUBLE"),
    ("energy_j", "DOUBLE"),
    ("area_mm2", "DOUBLE"),
    ("throughput_per_s", "DOUBLE"),
    ("edp_js", "DOUBLE"),
    ("perf_per_area", "DOUBLE"),
    ("power_w", "DOUBLE"),
    ("flops_per_s", "DOUBLE"),
    ("items_per_run", "DOUBLE"),
    ("energy_by_component", "VARCHAR"),
)
EVAL_NAMES = tuple(c for c, _ in EVAL_COLUMNS)

OP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eval_id", "VARCHAR"),
    ("op_index", "INTEGER"),
    ("name", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("cycles", "BIGINT"),
    ("seconds", "DOUBLE"),
    ("energy_j", "DOUBLE"),
    ("utilization", "DOUBLE"),
    ("bound", "VARCHAR"),
    ("energy_by_component", "VARCHAR"),
)
OP_NAMES = tuple(c for c, _ in OP_COLUMNS)

SCHEMA_VERSION = "1"


class Store:
    """A DuckDB sweep store (see the module docstring); use as a context manager."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.is_file():
            raise SpecError(f"{self.path}: no such results file")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as e:
            raise SpecError(f"{self.path}: cannot open the results store: {str(e).splitlines()[0]}") from None
        if not read_only:
            self._create()
        else:
            have = {r[0] for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if "evals" not in have:
                raise SpecError(f"{self.path}: not a cosim sweep store (no 'evals' table)")

    def _create(self) -> None:
        c = self.con
        c.execute("CREATE TABLE IF NOT EXISTS meta(key VARCHAR PRIMARY KEY, value VARCHAR)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS workloads(workload_hash VARCHAR PRIMARY KEY, name VARCHAR, "
            "source VARCHAR, source_sha VARCHAR, n_ops INTEGER, graph_json VARCHAR)"
        )
        c.execute(f"CREATE TABLE IF NOT EXISTS evals({', '.join(f'{n} {t}' for n, t in EVAL_COLUMNS)})")
        c.execute(
            f"CREATE TABLE IF NOT EXISTS ops({', '.join(f'{n} {t}' for n, t in OP_COLUMNS)}, "
            "PRIMARY KEY (eval_id, op_index))"
        )
        c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])

    # ----- context manager

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # ----- meta and workloads

    def set_meta(self, key: str, value: Any) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, json.dumps(value)])

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def cached_graph(self, source: str, source_sha: str) -> str | None:
        row = self.con.execute(
            "SELECT graph_json FROM workloads WHERE source = ? AND source_sha = ? LIMIT 1", [source, source_sha]
        ).fetchone()
        return row[0] if row else None

    def put_workload(
        self, workload_hash: str, name: str, source: str, source_sha: str, n_ops: int, graph_json: str
    ) -> None:
        self.con.execute(
            "INSERT OR IGNORE INTO workloads VALUES (?, ?, ?, ?, ?, ?)",
            [workload_hash, name, source, source_sha, n_ops, graph_json],
        )

    # ----- evals

    def existing_ids(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT eval_id FROM evals").fetchall()}

    def existing_op_ids(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT DISTINCT eval_id FROM ops").fetchall()}

    def insert(self, rows: Sequence[Sequence[Any]], op_rows: Sequence[Sequence[Any]] = ()) -> None:
        """Insert eval rows (in `EVAL_NAMES` order) and op rows in one transaction; known keys are skipped."""
        if not rows and not op_rows:
            return
        import pyarrow as pa

        self.con.execute("BEGIN TRANSACTION")
        try:
            if rows:
                self.con.register("_batch", pa.table({n: list(v) for n, v in zip(EVAL_NAMES, zip(*rows))}))
                self.con.execute(f"INSERT OR IGNORE INTO evals SELECT {', '.join(EVAL_NAMES)} FROM _batch")
                self.con.unregister("_batch")
            if op_rows:
                self.con.register("_obatch", pa.table({n: list(v) for n, v in zip(OP_NAMES, zip(*op_rows))}))
                self.con.execute(f"INSERT OR IGNORE INTO ops SELECT {', '.join(OP_NAMES)} FROM _obatch")
                self.con.unregister("_obatch")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def evals_df(self) -> Any:
        """All eval rows as a pandas DataFrame, ordered by (point_index, workload)."""
        return self.con.execute("SELECT * FROM evals ORDER BY point_index, workload, eval_id").df()

    def ops_df(self, eval_ids: Iterable[str] | None = None) -> Any:
        if eval_ids is None:
            return self.con.execute("SELECT * FROM ops ORDER BY eval_id, op_index").df()
        ids = list(eval_ids)
        if not ids:
            return self.con.execute("SELECT * FROM ops WHERE false").df()
        return self.con.execute(
            "SELECT * FROM ops WHERE eval_id IN (SELECT unnest(?)) ORDER BY eval_id, op_index", [ids]
        ).df()

    def count(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM evals").fetchone()[0])

    def export_parquet(self, directory: str | Path) -> list[Path]:
        """Write ``evals.parquet`` and ``ops.parquet`` into `directory`."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        out = []
        for table in ("evals", "ops"):
            p = d / f"{table}.parquet"
            self.con.execute(f"COPY (SELECT * FROM {table} ORDER BY ALL) TO '{p}' (FORMAT PARQUET)")
            out.append(p)
        return out


__all__ = ["EVAL_COLUMNS", "EVAL_NAMES", "OP_COLUMNS", "OP_NAMES", "Store"]
