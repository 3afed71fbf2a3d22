"""The sweep spec: what to explore, on which workloads, under which constraints, toward which goals.

A sweep YAML names one or more design *spaces* (a base architecture and parameter axes over
its spec fields), the workloads every design runs, constraints, objectives and a search
strategy::

    name: systolic_resnet
    spaces:                                # or `base:` + `axes:` at the top for a single space
      - base: models/systolic_128.yaml     # a models/*.yaml path, or an inline mapping with `model:`
        axes:
          rows,cols: [32, 64, 128]         # one axis setting several fields to the same value
          dataflow: [os, ws, is]
          ifmap_sram_kib: {log_range: [64, 1024, 2]}   # 64, 128, ..., 1024
          vector.lanes: {range: [64, 256, 64]}         # nested field; 64, 128, 192, 256
    workloads: [workloads/resnet50.yaml]
    constraints: ["area_mm2 <= 100", "rows * cols <= 65536"]
    objectives: [throughput, energy, area]
    search: {strategy: grid}               # grid | random (samples, seed) | nsga2 (population, generations, seed)

Every check runs in `load_sweep`, before any workload is traced or design simulated: unknown
keys, unknown axis fields (checked against the model's spec dataclass), empty ranges, axis
values the model's spec rejects, unknown names in constraints, constraints that contradict
each other or exclude every design, unknown objectives.  Errors are one line naming the file
and key.  Relative paths resolve against the sweep file's directory, then the working
directory, then the sweep directory's parent (so ``sweeps/x.yaml`` may say ``models/y.yaml``).
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import math
import operator
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from cosim.errors import SpecError
from cosim.hw import HardwareModel, arch_from_mapping
from cosim.spec import doc_field, load_mapping, parse, to_plain

# --------------------------------------------------------------------------- objectives and metrics


class Objective(StrEnum):
    """What a sweep optimizes; each maps to a stored metric and a direction."""

    THROUGHPUT = "throughput"
    LATENCY = "latency"
    ENERGY = "energy"
    AREA = "area"
    EDP = "edp"
    PERF_PER_AREA = "perf_per_area"

    @property
    def metric(self) -> str:
        return _OBJECTIVE_METRIC[self]

    @property
    def maximize(self) -> bool:
        return self in (Objective.THROUGHPUT, Objective.PERF_PER_AREA)


_OBJECTIVE_METRIC = {
    Objective.THROUGHPUT: "throughput_per_s",
    Objective.LATENCY: "latency_s",
    Objective.ENERGY: "energy_j",
    Objective.AREA: "area_mm2",
    Objective.EDP: "edp_js",
    Objective.PERF_PER_AREA: "perf_per_area",
}

# Metrics stored per (design, workload); constraints may use any of them.
METRICS: dict[str, str] = {
    "cycles": "total cycles of the workload",
    "latency_s": "time of one run of the workload (s)",
    "throughput_per_s": "inferences per second: images (CNN) or tokens (LLM) per run / latency",
    "energy_j": "energy of one run (J); empty when the model reports none",
    "area_mm2": "area of the architecture (mm^2), when the model reports it",
    "edp_js": "energy x latency (J s)",
    "perf_per_area": "throughput per mm^2",
    "power_w": "energy / latency (W)",
    "flops_per_s": "workload FLOPs / latency",
}


# --------------------------------------------------------------------------- constraints

_CMP = {ast.LtE: operator.le, ast.Lt: operator.lt, ast.GtE: operator.ge, ast.Gt: operator.gt, ast.Eq: operator.eq}
_CMP_TEXT = {ast.LtE: "<=", ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.Eq: "=="}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


@dataclass(frozen=True)
class Constraint:
    """``lhs OP rhs`` over axis names and metric names, with + - * / and numbers."""

    text: str
    names: frozenset[str]
    tree: ast.Expression = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str, known: Mapping[str, str] | None, where: str) -> Constraint:
        """Parse and check a constraint; `known` maps allowed names to what they are (None: any)."""
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"{where}: expected a constraint such as 'area_mm2 <= 100', got {text!r}")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError:
            raise SpecError(f"{where}: cannot parse constraint {text!r} (expected e.g. 'area_mm2 <= 100')") from None
        body = tree.body
        if not (isinstance(body, ast.Compare) and len(body.ops) == 1 and type(body.ops[0]) in _CMP):
            raise SpecError(f"{where}: constraint {text!r} must be one comparison (<=, <, >=, >, ==)")
        names: set[str] = set()

        def check(node: ast.AST) -> None:
            name = _dotted(node)
            if name is not None:
                if known is not None and name not in known:
                    raise SpecError(
                        f"{where}: constraint {text!r} uses unknown name {name!r} (allowed: {', '.join(known)})"
                    )
                names.add(name)
                return
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, int | float)
                and not isinstance(node.value, bool)
            ):
                return
            if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
                check(node.left)
                check(node.right)
                return
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                check(node.operand)
                return
            raise SpecError(f"{where}: constraint {text!r}: only names, numbers and + - * / are allowed")

        check(body.left)
        check(body.comparators[0])
        return cls(text.strip(), frozenset(names), tree)

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        """True when the constraint holds; a missing or NaN value makes it false."""

        def ev(node: ast.AST) -> float:
            name = _dotted(node)
            if name is not None:
                v = values.get(name)
                if v is None:
                    return math.nan
                return float(v.value if isinstance(v, Enum) else v) if not isinstance(v, str) else math.nan
            if isinstance(node, ast.Constant):
                return float(node.value)
            if isinstance(node, ast.UnaryOp):
                return -ev(node.operand)
            assert isinstance(node, ast.BinOp)
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Div) and b == 0:
                return math.nan
            return _BIN[type(node.op)](a, b)

        body = self.tree.body
        assert isinstance(body, ast.Compare)
        left, right = ev(body.left), ev(body.comparators[0])
        if math.isnan(left) or math.isnan(right):
            return False
        return bool(_CMP[type(body.ops[0])](left, right))

    def evaluate_arrays(self, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Vectorized `evaluate` over rows: `columns` maps names to float arrays (NaN = missing)."""

        def ev(node: ast.AST) -> np.ndarray:
            name = _dotted(node)
            if name is not None:
                return columns.get(name, np.full(n, np.nan))
            if isinstance(node, ast.Constant):
                return np.full(n, float(node.value))
            if isinstance(node, ast.UnaryOp):
                return -ev(node.operand)
            assert isinstance(node, ast.BinOp)
            a, b = ev(node.left), ev(node.right)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = _BIN[type(node.op)](a, b)
            return np.where(np.isfinite(r) | np.isinf(r), r, np.nan)

        body = self.tree.body
        assert isinstance(body, ast.Compare)
        left, right = ev(body.left), ev(body.comparators[0])
        with np.errstate(invalid="ignore"):
            res = _CMP[type(body.ops[0])](left, right)
        return np.asarray(res, dtype=bool) & ~np.isnan(left) & ~np.isnan(right)

    def bound(self) -> tuple[str, str, float] | None:
        """(name, op, number) when the constraint is ``name OP number`` or ``number OP name``."""
        body = self.tree.body
        assert isinstance(body, ast.Compare)
        op = _CMP_TEXT[type(body.ops[0])]
        lname, rname = _dotted(body.left), _dotted(body.comparators[0])
        lnum = _number(body.left)
        rnum = _number(body.comparators[0])
        if lname and rnum is not None:
            return lname, op, rnum
        if rname and lnum is not None:
            flip = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}
            return rname, flip[op], lnum
        return None


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number(node.operand)
        return None if v is None else -v
    return None


def check_contradictions(constraints: Sequence[Constraint], where: str) -> None:
    """Raise when simple bounds ``name OP number`` on one name leave no value."""
    lo: dict[str, tuple[float, bool, str]] = {}
    hi: dict[str, tuple[float, bool, str]] = {}
    for c in constraints:
        b = c.bound()
        if b is None:
            continue
        name, op, v = b
        if op in (">=", ">", "=="):
            strict = op == ">"
            cur = lo.get(name)
            if cur is None or v > cur[0] or (v == cur[0] and strict):
                lo[name] = (v, strict, c.text)
        if op in ("<=", "<", "=="):
            strict = op == "<"
            cur = hi.get(name)
            if cur is None or v < cur[0] or (v == cur[0] and strict):
                hi[name] = (v, strict, c.text)
    for name in lo.keys() & hi.keys():
        (a, sa, ta), (b, sb, tb) = lo[name], hi[name]
        if a > b or (a == b and (sa or sb)):
            order = [c.text for c in constraints]
            first, second = sorted((ta, tb), key=order.index)
            raise SpecError(
                f"{where}: contradictory constraints {first!r} and {second!r}: no value of {name} satisfies both"
            )


# --------------------------------------------------------------------------- axes


@dataclass(frozen=True)
class Axis:
    """One swept parameter: the spec field paths it sets and its values (typed, in order)."""

    name: str
    fields: tuple[str, ...]
    values: tuple[Any, ...]


def _spec_field_type(spec_type: type, path: str, where: str) -> Any:
    """The type of dotted `path` inside dataclass `spec_type`, or SpecError naming the allowed fields."""
    tp: Any = spec_type
    parts = path.split(".")
    for i, part in enumerate(parts):
        dc = _dataclass_of(tp)
        if dc is None:
            raise SpecError(f"{where}: {'.'.join(parts[:i])!r} is not a nested spec, so {path!r} is not a field")
        flds = {f.name: f for f in dataclasses.fields(dc) if f.init}
        if part not in flds:
            prefix = ".".join(parts[:i])
            allowed = ", ".join(f"{prefix}.{n}" if prefix else n for n in flds if n != "name")
            raise SpecError(f"{where}: unknown axis field {path!r} (allowed: {allowed})")
        tp = typing.get_type_hints(dc)[part]
    return tp


def _dataclass_of(tp: Any) -> type | None:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for a in typing.get_args(tp):
            if dataclasses.is_dataclass(a) and isinstance(a, type):
                return a
    return None


def _expand_values(raw: Any, where: str) -> list[Any]:
    """A list, or ``{range: [start, stop, step]}``, ``{log_range: [start, stop, factor]}``,
    ``{log_space: [start, stop, num]}`` -> the list of values (ranges include `stop` when hit)."""
    if isinstance(raw, list):
        if not raw:
            raise SpecError(f"{where}: empty list of values")
        return list(raw)
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise SpecError(
            f"{where}: expected a list of values or one of {{range: [start, stop, step]}}, "
            f"{{log_range: [start, stop, factor]}}, {{log_space: [start, stop, num]}}, got {raw!r}"
        )
    ((kind, args),) = raw.items()
    if kind not in ("range", "log_range", "log_space"):
        raise SpecError(f"{where}: unknown range kind {kind!r} (allowed: range, log_range, log_space)")
    third = "num" if kind == "log_space" else ("factor" if kind == "log_range" else "step")
    if not (isinstance(args, list) and len(args) == 3):
        raise SpecError(f"{where}: {kind} takes three numbers [start, stop, {third}], got {args!r}")
    start, stop, step = (_number_arg(a, where, kind, third) for a in args)
    ints = all(isinstance(a, int) for a in (start, stop)) and (kind != "range" or isinstance(step, int))
    if kind == "range":
        if step <= 0:
            raise SpecError(f"{where}: range step must be > 0, got {step}")
        if start > stop:
            raise SpecError(f"{where}: empty range: start {start} > stop {stop}")
        n = math.floor((stop - start) / step + 1e-9) + 1
        vals = [start + i * step if ints else float(f"{start + i * step:.12g}") for i in range(n)]
    elif kind == "log_range":
        if start <= 0 or step <= 1:
            raise SpecError(f"{where}: log_range needs start > 0 and factor > 1, got start {start}, factor {step}")
        if start > stop:
            raise SpecError(f"{where}: empty range: start {start} > stop {stop}")
        vals = []
        v = start
        while v <= stop * (1 + 1e-12):
            vals.append(v)
            v = float(f"{v * step:.12g}") if isinstance(v * step, float) else v * step
        ints = ints and isinstance(step, int)
    else:
        if start <= 0 or stop <= 0 or start > stop:
            raise SpecError(f"{where}: log_space needs 0 < start <= stop, got {start}, {stop}")
        if not isinstance(step, int) or step < 1:
            raise SpecError(f"{where}: log_space num must be an integer >= 1, got {step}")
        if step == 1:
            vals = [start]
        else:
            r = (stop / start) ** (1 / (step - 1))
            vals = [float(f"{start * r**i:.12g}") for i in range(step)]
        ints = False
    if ints:
        vals = [round(v) for v in vals]
    return vals


def _number_arg(a: Any, where: str, kind: str, third: str) -> int | float:
    """A range bound: a YAML number, or a string such as '1e9' (YAML 1.1 reads those as text)."""
    if isinstance(a, bool):
        raise SpecError(f"{where}: {kind} takes three numbers [start, stop, {third}], got {a!r}")
    if isinstance(a, int | float):
        return a
    if isinstance(a, str):
        try:
            v = float(a.replace("_", ""))
        except ValueError:
            raise SpecError(f"{where}: {kind} takes three numbers [start, stop, {third}], got {a!r}") from None
        return int(v) if v.is_integer() and "e" not in a.lower() and "." not in a else v
    raise SpecError(f"{where}: {kind} takes three numbers [start, stop, {third}], got {a!r}")


def _get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _set_in_mapping(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = dict(data)
    parts = path.split(".")
    cur = out
    for part in parts[:-1]:
        nxt = cur.get(part)
        nxt = dict(nxt) if isinstance(nxt, Mapping) else {}
        cur[part] = nxt
        cur = nxt
    cur[parts[-1]] = value
    return out


def apply_params(spec: Any, fields: Mapping[str, Any]) -> Any:
    """`spec` with dotted fields replaced (nested dataclasses rebuilt with `dataclasses.replace`)."""
    nested: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for path, v in fields.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = v
        else:
            top[head] = v
    for head, sub in nested.items():
        top[head] = apply_params(getattr(spec, head), sub)
    return dataclasses.replace(spec, **top)


# --------------------------------------------------------------------------- spec dataclasses


class Strategy(StrEnum):
    GRID = "grid"
    RANDOM = "random"
    NSGA2 = "nsga2"


class OpsPolicy(StrEnum):
    """Which evaluated points also store per-op results."""

    FRONT = "front"  # the Pareto-front points, re-simulated per op at the end of the sweep
    ALL = "all"  # every point (uses the per-op path for every point: slower)
    NONE = "none"


@dataclass(frozen=True)
class SearchSpec:
    """How designs are chosen."""

    strategy: Strategy = doc_field(Strategy.GRID, doc="grid, random or nsga2")
    samples: int = doc_field(64, doc="random: designs per space", min=1)
    population: int = doc_field(16, doc="nsga2: population size", min=2)
    generations: int = doc_field(8, doc="nsga2: generations", min=1)
    seed: int = doc_field(0, doc="seed of random and nsga2", min=0)


@dataclass(frozen=True)
class _SpaceYaml:
    base: Any
    axes: dict[str, Any] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class _SweepYaml:
    name: str = ""
    description: str = ""
    base: Any = None
    axes: dict[str, Any] = field(default_factory=dict)
    spaces: tuple[_SpaceYaml, ...] = ()
    workloads: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    objectives: tuple[Objective, ...] = ()
    search: SearchSpec = field(default_factory=SearchSpec)
    store_ops: OpsPolicy = OpsPolicy.FRONT


@dataclass(frozen=True)
class Space:
    """A base architecture and its axes."""

    name: str
    model: HardwareModel = field(repr=False)
    base_mapping: Mapping[str, Any] = field(repr=False)
    base_spec: Any = field(repr=False)
    axes: tuple[Axis, ...]
    param_constraints: tuple[Constraint, ...] = ()

    @property
    def size(self) -> int:
        return math.prod(len(a.values) for a in self.axes)

    def params_of(self, indices: Sequence[int]) -> dict[str, Any]:
        """Axis name -> value for one index per axis."""
        return {a.name: a.values[i] for a, i in zip(self.axes, indices)}

    def fields_of(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Spec field path -> value for a parameter assignment (tied axes set several fields)."""
        return {f: params[a.name] for a in self.axes for f in a.fields}

    def admits(self, params: Mapping[str, Any]) -> bool:
        vals = {**params, **{f: params[a.name] for a in self.axes for f in a.fields}}
        return all(c.evaluate(vals) for c in self.param_constraints)

    def grid(self) -> Iterator[dict[str, Any]]:
        """All parameter assignments in axis order that pass the parameter constraints."""
        for idx in itertools.product(*(range(len(a.values)) for a in self.axes)):
            p = self.params_of(idx)
            if self.admits(p):
                yield p

    def spec_of(self, params: Mapping[str, Any]) -> Any:
        return apply_params(self.base_spec, self.fields_of(params))

    def spec_of_fields(self, fields: Mapping[str, Any]) -> Any:
        """The design's spec from spec field path -> typed value."""
        return apply_params(self.base_spec, fields)

    def fields_from_plain(self, plain: Mapping[str, Any]) -> dict[str, Any]:
        """Typed field values from the stored JSON form (enum members from their strings)."""
        out: dict[str, Any] = {}
        for a in self.axes:
            for f in a.fields:
                raw = plain[f]
                out[f] = next((v for v in a.values if (v.value if isinstance(v, Enum) else v) == raw), raw)
        return out


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep."""

    name: str
    description: str
    source: str
    spaces: tuple[Space, ...]
    workloads: tuple[Path, ...]
    constraints: tuple[Constraint, ...]
    objectives: tuple[Objective, ...]
    search: SearchSpec
    store_ops: OpsPolicy
    plain: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def metric_constraints(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.names & METRICS.keys())


# --------------------------------------------------------------------------- loading


def _resolve(path: str, base_dir: Path, where: str) -> Path:
    p = Path(path)
    if p.is_absolute():
        if not p.exists():
            raise SpecError(f"{where}: no such file {p}")
        return p
    tried = [base_dir / p, Path.cwd() / p, base_dir.parent / p]
    for c in tried:
        if c.exists():
            return c.resolve()
    raise SpecError(f"{where}: no such file {path!r} (looked in {', '.join(str(t.parent) for t in tried)})")


def _load_space(raw: _SpaceYaml, idx: int, base_dir: Path, where: str) -> Space:
    prefix = f"spaces[{idx}]." if idx >= 0 else ""
    w = f"{where}: {prefix}"
    if isinstance(raw.base, str):
        bpath = _resolve(raw.base, base_dir, f"{w}base")
        if bpath.suffix not in (".yaml", ".yml"):
            raise SpecError(
                f"{w}base: a sweep base must be a models/*.yaml file or an inline mapping, got {raw.base!r}"
            )
        mapping = load_mapping(bpath)
        bwhere = str(bpath)
        default_name = bpath.stem
    elif isinstance(raw.base, Mapping):
        mapping = dict(raw.base)
        bwhere = f"{w}base"
        default_name = str(mapping.get("name", mapping.get("model", f"space{idx}")))
    else:
        raise SpecError(f"{w}base: expected a models/*.yaml path or a mapping with 'model:', got {raw.base!r}")
    arch = arch_from_mapping(mapping, bwhere)
    model = arch.model
    axes: list[Axis] = []
    seen_fields: set[str] = set()
    for key, rawvals in raw.axes.items():
        aw = f"{w}axes.{key}"
        if not isinstance(key, str) or not key.strip():
            raise SpecError(f"{aw}: axis names are spec field paths such as 'rows' or 'vector.lanes'")
        fields_ = tuple(f.strip() for f in key.split(","))
        for f in fields_:
            if f == "name" or f == "model":
                raise SpecError(f"{aw}: {f!r} cannot be swept")
            _spec_field_type(model.spec_type, f, aw)
            if f in seen_fields:
                raise SpecError(f"{aw}: field {f!r} is set by two axes")
            seen_fields.add(f)
        values = _expand_values(rawvals, aw)
        typed = []
        for v in values:
            m = mapping
            for f in fields_:
                m = _set_in_mapping(m, f, v)
            try:
                spec = arch_from_mapping(m, "<base>").spec
            except SpecError as e:
                msg = str(e).removeprefix("<base>: ").removeprefix("<base>.")
                raise SpecError(f"{aw}: value {v!r} rejected by the {model.name} spec: {msg}") from None
            typed.append(_get_path(spec, fields_[0]))
        if len(set(map(repr, typed))) != len(typed):
            raise SpecError(f"{aw}: duplicate values {values!r}")
        axes.append(Axis(key.replace(" ", ""), fields_, tuple(typed)))
    name = raw.name or default_name
    # parameter-only constraints are checked here; they filter designs before evaluation
    return Space(name=name, model=model, base_mapping=mapping, base_spec=arch.spec, axes=tuple(axes))


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep YAML (see the module docstring); nothing is simulated.

    Raises:
        SpecError: one line naming the file and key of the first problem found.
    """
    p = Path(path)
    data = load_mapping(p)
    return sweep_from_mapping(data, str(p), p.resolve().parent)


def sweep_from_mapping(data: Mapping[str, Any], where: str, base_dir: Path) -> SweepSpec:
    """`load_sweep` for a mapping already read (tests, notebooks)."""
    raw = parse(_SweepYaml, data, where)
    if raw.base is not None and raw.spaces:
        raise SpecError(f"{where}: give either 'base' (+ 'axes') or 'spaces', not both")
    if raw.base is None and not raw.spaces:
        raise SpecError(f"{where}: missing 'base' (+ 'axes') or 'spaces': nothing to explore")
    if raw.axes and raw.base is None:
        raise SpecError(f"{where}: 'axes' needs a 'base' (or put them inside 'spaces')")
    if not raw.workloads:
        raise SpecError(f"{where}: workloads: give at least one workload file")
    if not raw.objectives:
        raise SpecError(f"{where}: objectives: give at least one of {', '.join(o.value for o in Objective)}")
    if len(set(raw.objectives)) != len(raw.objectives):
        raise SpecError(f"{where}: objectives: duplicate objective in {[o.value for o in raw.objectives]}")
    raw_spaces = [_SpaceYaml(base=raw.base, axes=raw.axes)] if raw.base is not None else list(raw.spaces)
    spaces = [_load_space(s, i if raw.spaces else -1, base_dir, where) for i, s in enumerate(raw_spaces)]
    names = [s.name for s in spaces]
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: spaces: duplicate space name in {names} (set 'name:' on each)")
    workloads = tuple(_resolve(w, base_dir, f"{where}: workloads") for w in raw.workloads)
    if len(set(workloads)) != len(workloads):
        raise SpecError(f"{where}: workloads: the same workload is listed twice")
    # constraints: names are axis names/fields of any space, or metrics
    param_names: dict[str, str] = {}
    for s in spaces:
        for a in s.axes:
            param_names[a.name] = f"axis of {s.name}"
            for f in a.fields:
                param_names[f] = f"field of {s.name}"
    known = {**param_names, **METRICS}
    constraints = tuple(Constraint.parse(c, known, f"{where}: constraints[{i}]") for i, c in enumerate(raw.constraints))
    check_contradictions(constraints, f"{where}: constraints")
    final_spaces = []
    for s in spaces:
        own = {a.name for a in s.axes} | {f for a in s.axes for f in a.fields}
        pcs = tuple(c for c in constraints if c.names and c.names <= own)
        s2 = dataclasses.replace(s, param_constraints=pcs)
        if pcs and not any(True for _ in itertools.islice(s2.grid(), 1)):
            raise SpecError(
                f"{where}: constraints {', '.join(repr(c.text) for c in pcs)} exclude every design of space {s.name!r}"
            )
        final_spaces.append(s2)
    if raw.search.strategy is Strategy.NSGA2 and len(raw.objectives) < 1:
        raise SpecError(f"{where}: search: nsga2 needs objectives")
    plain = to_plain(raw)
    plain["workloads"] = [str(w) for w in workloads]
    # the store keeps each space's resolved base mapping, so reports can rebuild designs anywhere
    plain["resolved_spaces"] = [{"name": s.name, "base": to_plain(dict(s.base_mapping))} for s in final_spaces]
    return SweepSpec(
        name=raw.name or Path(where.split(":")[0]).stem,
        description=raw.description,
        source=where,
        spaces=tuple(final_spaces),
        workloads=workloads,
        constraints=constraints,
        objectives=tuple(raw.objectives),
        search=raw.search,
        store_ops=raw.store_ops,
        plain=plain,
    )


__all__ = [
    "METRICS",
    "Axis",
    "Constraint",
    "Objective",
    "OpsPolicy",
    "SearchSpec",
    "Space",
    "Strategy",
    "SweepSpec",
    "apply_params",
    "load_sweep",
    "sweep_from_mapping",
]
