"""YAML specs: loading with duplicate-key rejection, and typed parsing into frozen dataclasses.

Every spec (architecture, workload, sweep) is a frozen dataclass.  `parse` builds one from a
mapping and checks, with the file and key path in every message:

* unknown keys (with the allowed ones listed) and missing required keys;
* types: int, float (also ``700e6``-style strings, which YAML 1.1 leaves as text), bool, str,
  Enum members by value, nested dataclasses, ``tuple[X, ...]``, ``dict[str, X]``, ``X | None``;
* bounds and choices declared on a field: ``field(metadata={"min": 1, "max": 64, "choices": (...)})``.

Models never see a dict: they get the dataclass, so a typo in a spec fails before any work.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml

from cosim.errors import SpecError

T = TypeVar("T")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file; missing files, syntax errors and duplicate keys raise SpecError."""
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    try:
        return yaml.load(p.read_text(), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError(f"{where}: invalid YAML: {problem}") from None


def load_mapping(path: str | Path) -> dict[str, Any]:
    """`load_yaml` for files whose top level must be a mapping."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


# --------------------------------------------------------------------------- typed parsing


def _fail(where: str, msg: str) -> SpecError:
    return SpecError(f"{where}: {msg}")


def _to_number(value: Any, kind: type, where: str) -> int | float:
    if isinstance(value, bool):
        raise _fail(where, f"expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.replace("_", ""))
        except ValueError:
            raise _fail(where, f"expected a number, got {value!r}") from None
    if not isinstance(value, int | float):
        raise _fail(where, f"expected a number, got {value!r}")
    if kind is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise _fail(where, f"expected an integer, got {value!r}")
            value = int(value)
        return value
    if not math.isfinite(value):
        raise _fail(where, f"expected a finite number, got {value!r}")
    return float(value)


def parse_value(tp: Any, value: Any, where: str) -> Any:
    """Convert `value` to type `tp` or raise SpecError naming `where`."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        errors = []
        for a in non_none:
            try:
                return parse_value(a, value, where)
            except SpecError as e:
                errors.append(str(e))
        raise SpecError(errors[0] if len(errors) == 1 else f"{where}: {value!r} matches none of the allowed types")
    if tp is Any:
        return value
    if origin is typing.Literal:
        if value not in get_args(tp):
            raise _fail(where, f"must be one of {', '.join(map(repr, get_args(tp)))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return parse(tp, value, where)
    if isinstance(tp, type) and issubclass(tp, Enum):
        if isinstance(value, tp):
            return value
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise _fail(where, f"unknown value {value!r} (allowed: {allowed})") from None
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(where, f"expected true or false, got {value!r}")
        return value
    if tp in (int, float):
        return _to_number(value, tp, where)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(where, f"expected a string, got {value!r}")
        return value
    if origin is tuple or origin is list:
        args = get_args(tp)
        if not isinstance(value, list | tuple):
            raise _fail(where, f"expected a list, got {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_value(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if origin is tuple:
            if len(value) != len(args):
                raise _fail(where, f"expected {len(args)} items, got {len(value)}")
            return tuple(parse_value(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
        return [parse_value(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or origin is Mapping:
        kt, vt = get_args(tp)
        if not isinstance(value, Mapping):
            raise _fail(where, f"expected a mapping, got {value!r}")
        return {parse_value(kt, k, where): parse_value(vt, v, f"{where}.{k}") for k, v in value.items()}
    raise TypeError(f"spec type {tp!r} at {where} is not supported by cosim.spec.parse")


def _check_bounds(f: dataclasses.Field, value: Any, where: str) -> None:
    md = f.metadata
    if value is None:
        return
    if "min" in md and value < md["min"]:
        raise _fail(where, f"must be >= {md['min']}, got {value!r}")
    if "max" in md and value > md["max"]:
        raise _fail(where, f"must be <= {md['max']}, got {value!r}")
    if "gt" in md and not value > md["gt"]:
        raise _fail(where, f"must be > {md['gt']}, got {value!r}")
    if "choices" in md and value not in md["choices"]:
        raise _fail(where, f"must be one of {', '.join(map(str, md['choices']))}, got {value!r}")


def parse(cls: type[T], data: Any, where: str) -> T:
    """Build the frozen dataclass `cls` from a mapping, validating every key.

    Args:
        cls: a dataclass type; field types drive conversion, field metadata the bounds.
        data: the mapping read from YAML (or built in code).
        where: prefix for error messages, e.g. ``"models/tpu.yaml"`` or ``"sweep.yaml: axes[2]"``.

    Raises:
        SpecError: unknown or missing keys, wrong types, out-of-range values; and any
            SpecError raised by the dataclass's own ``__post_init__`` checks, prefixed with `where`.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise _fail(where, f"expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    flds = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in flds]
    if unknown:
        raise _fail(where, f"unknown key {unknown[0]!r} (allowed: {', '.join(flds)})")
    kwargs: dict[str, Any] = {}
    for name, f in flds.items():
        key_where = f"{where}: {name}" if ":" not in where else f"{where}.{name}"
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _fail(where, f"missing required key {name!r}")
            continue
        value = parse_value(hints[name], data[name], key_where)
        _check_bounds(f, value, key_where)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except SpecError as e:
        raise SpecError(f"{where}: {e}") from None


def to_plain(obj: Any) -> Any:
    """Dataclass/Enum/tuple tree -> plain dicts, lists and scalars (for YAML/JSON output)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, list | tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


def doc_field(default: Any = dataclasses.MISSING, *, doc: str = "", **bounds: Any) -> Any:
    """`dataclasses.field` with a docstring and bounds (min, max, gt, choices) for `parse`."""
    md = {"doc": doc, **bounds}
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple or a frozen value as a spec default")
    return dataclasses.field(default=default, metadata=md)
