"""Typed spec parsing: every bad key or value is named with its file and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pytest

from cosim.errors import SpecError
from cosim.spec import doc_field, load_mapping, parse


class Flow(Enum):
    OS = "os"
    WS = "ws"


@dataclass(frozen=True)
class Inner:
    kb: int = doc_field(64, min=1)


@dataclass(frozen=True)
class Outer:
    name: str
    rows: int = doc_field(doc="array rows", min=1)
    clock_hz: float = doc_field(1e9, gt=0)
    flow: Flow = Flow.OS
    buf: Inner = Inner()
    sizes: tuple[int, ...] = ()


def test_parses_nested_values_and_numeric_strings():
    o = parse(
        Outer, {"name": "a", "rows": 8, "clock_hz": "700e6", "flow": "ws", "buf": {"kb": 2}, "sizes": [1, 2]}, "f.yaml"
    )
    assert o == Outer("a", 8, 7e8, Flow.WS, Inner(2), (1, 2))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "a", "rows": 8, "colour": 1}, "f.yaml: unknown key 'colour' (allowed: name, rows, clock_hz"),
        ({"name": "a"}, "f.yaml: missing required key 'rows'"),
        ({"name": "a", "rows": 0}, "f.yaml: rows: must be >= 1, got 0"),
        ({"name": "a", "rows": 2.5}, "f.yaml: rows: expected an integer, got 2.5"),
        ({"name": "a", "rows": True}, "expected a number, got True"),
        ({"name": "a", "rows": 1, "flow": "is"}, "f.yaml: flow: unknown value 'is' (allowed: os, ws)"),
        ({"name": "a", "rows": 1, "buf": {"kb": 0}}, "f.yaml: buf.kb: must be >= 1, got 0"),
        ({"name": "a", "rows": 1, "clock_hz": 0}, "clock_hz: must be > 0"),
    ],
)
def test_errors_name_file_key_rule_and_value(data, message):
    with pytest.raises(SpecError) as e:
        parse(Outer, data, "f.yaml")
    assert message in str(e.value)


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("name: a\nrows: 1\nrows: 2\n")
    with pytest.raises(SpecError, match="duplicate key 'rows'"):
        load_mapping(p)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_mapping(tmp_path / "none.yaml")
    p = tmp_path / "bad.yaml"
    p.write_text("a: [1, 2\n")
    with pytest.raises(SpecError, match="invalid YAML"):
        load_mapping(p)
    p.write_text("- 1\n- 2\n")
    with pytest.raises(SpecError, match="expected a mapping"):
        load_mapping(p)
