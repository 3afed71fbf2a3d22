"""SCALE-Sim compatibility: its config files and topology CSVs, read into cosim's types.

* `load_config` reads a SCALE-Sim ``.cfg`` (v2 and v3 formats) into a `cosim.hw.systolic.Spec`
  with the SCALE-Sim counting convention, so ``cosim simulate --arch X.cfg`` reports SCALE-Sim's
  numbers.  Keys (case-insensitive, ``key: value`` or ``key = value``):

  - ``[general] run_name``;
  - ``[architecture_presets] ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB,
    OfmapSramSzkB, Dataflow`` (os/ws/is), ``Bandwidth`` (words/cycle, a comma list: the first
    is used), and ignored address/queue keys ``IfmapOffset, FilterOffset, OfmapOffset,
    MemoryBanks`` (v2), ``ReadRequestBuffer, WriteRequestBuffer`` (v3);
  - ``[run_presets] InterfaceBandwidth`` (CALC/USER), ``UseRamulatorTrace`` (v3, must be False);
  - v3 only: ``[layout]`` (custom layouts must be off; in USER mode SCALE-Sim 3.0.0 fills the
    ifmap/filter SRAMs at ``IfmapSRAMBankBandwidth``/``FilterSRAMBankBandwidth`` words/cycle and
    drains the ofmap at ``Bandwidth``) and ``[sparsity]`` (``SparsitySupport`` must be false);
  - v2 only: ``[network_presets] TopologyCsvLoc`` (ignored: give the workload explicitly).

* `load_topology` reads a topology CSV, conv format (``Layer name, IFMAP Height, IFMAP Width,
  Filter Height, Filter Width, Channels, Num Filter, Strides[, N:M sparsity]``) or GEMM format
  (``Layer, M, N, K``), into a `WorkloadGraph`.  Convolutions are lowered exactly as SCALE-Sim
  lowers them: no padding, the same stride in both directions, and its output size
  ``ceil((H - R + stride) / stride)`` (ResNet-50 conv1: 110 x 110, not 109 x 109), so a window
  may hang past the input edge (those taps read nothing).  A GEMM row (M, N, K) is SCALE-Sim's
  M x K "image" with N filters of 1 x K.  Depthwise rows (``DP`` in the name) become one
  grouped conv with ``Channels`` groups of ``Num Filter`` filters, as SCALE-Sim's per-channel
  layers.  Words are 1 byte (SCALE-Sim's fixed word size).  Unlike SCALE-Sim, a missing
  trailing comma is accepted, empty rows are skipped and columns after the 9th are ignored.
"""

from __future__ import annotations

import configparser
import dataclasses
import re
from pathlib import Path

from cosim.errors import SpecError
from cosim.graph import ConvShape, Op, WorkloadGraph, conv2d_op, gemm_op
from cosim.hw.systolic import BandwidthMode, Convention, Dataflow, Spec

_SECTIONS: dict[str, tuple[str, ...]] = {
    "general": ("run_name",),
    "architecture_presets": (
        "arrayheight",
        "arraywidth",
        "ifmapsramszkb",
        "filtersramszkb",
        "ofmapsramszkb",
        "ifmapoffset",
        "filteroffset",
        "ofmapoffset",
        "dataflow",
        "bandwidth",
        "memorybanks",
        "readrequestbuffer",
        "writerequestbuffer",
    ),
    "run_presets": ("interfacebandwidth", "useramulatortrace"),
    "layout": (
        "ifmapcustomlayout",
        "ifmapsrambankbandwidth",
        "ifmapsrambanknum",
        "ifmapsrambankport",
        "filtercustomlayout",
        "filtersrambankbandwidth",
        "filtersrambanknum",
        "filtersrambankport",
    ),
    "sparsity": ("sparsitysupport", "sparserep", "optimizedmapping", "blocksize", "randomnumbergeneratorseed"),
    "network_presets": ("topologycsvloc",),
}
_REQUIRED = {
    "architecture_presets": (
        "arrayheight",
        "arraywidth",
        "ifmapsramszkb",
        "filtersramszkb",
        "ofmapsramszkb",
        "dataflow",
    ),
    "run_presets": ("interfacebandwidth",),
}


def _int(p: Path, sec: str, key: str, raw: str, minimum: int = 1) -> int:
    try:
        v = int(raw.strip())
    except ValueError:
        raise SpecError(f"{p}: [{sec}] {key}: expected an integer, got {raw.strip()!r}") from None
    if v < minimum:
        raise SpecError(f"{p}: [{sec}] {key}: must be >= {minimum}, got {v}")
    return v


def _bool(p: Path, sec: str, key: str, raw: str) -> bool:
    v = raw.strip().lower()
    if v not in ("true", "false"):
        raise SpecError(f"{p}: [{sec}] {key}: expected True or False, got {raw.strip()!r}")
    return v == "true"


def load_config(path: str | Path) -> Spec:
    """A SCALE-Sim config file -> `Spec` (SCALE-Sim convention, 1-byte words).

    Raises:
        SpecError: missing file, syntax error, unknown section/key, missing required key, a
            bad value, or a feature cosim does not model (sparsity, Ramulator traces, custom
            SRAM layouts) -- naming the file, section, key and value.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read_string(p.read_text(), source=str(p))
    except configparser.Error as e:
        raise SpecError(f"{p}: not a SCALE-Sim config: {str(e).splitlines()[0]}") from None
    for sec in cp.sections():
        allowed = _SECTIONS.get(sec)
        if allowed is None:
            raise SpecError(f"{p}: unknown section [{sec}] (allowed: {', '.join(_SECTIONS)})")
        for key in cp[sec]:
            if key not in allowed:
                raise SpecError(f"{p}: [{sec}] unknown key {key!r} (allowed: {', '.join(allowed)})")
    for sec, keys in _REQUIRED.items():
        for key in keys:
            if not cp.has_option(sec, key):
                raise SpecError(f"{p}: missing required key {key!r} in section [{sec}]")
    a = cp["architecture_presets"]
    rows = _int(p, "architecture_presets", "ArrayHeight", a["arrayheight"])
    cols = _int(p, "architecture_presets", "ArrayWidth", a["arraywidth"])
    srams = [
        _int(p, "architecture_presets", k, a[k.lower()]) for k in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB")
    ]
    df_raw = a["dataflow"].strip()
    try:
        dataflow = Dataflow(df_raw.lower())
    except ValueError:
        raise SpecError(
            f"{p}: [architecture_presets] Dataflow: unknown value {df_raw!r} (allowed: os, ws, is)"
        ) from None
    mode_raw = cp["run_presets"]["interfacebandwidth"].strip()
    if mode_raw not in ("CALC", "USER"):
        raise SpecError(f"{p}: [run_presets] InterfaceBandwidth: unknown value {mode_raw!r} (allowed: CALC, USER)")
    mode = BandwidthMode(mode_raw.lower())
    bandwidth = 10  # SCALE-Sim's default when CALC and no Bandwidth key
    if "bandwidth" in a:
        first = a["bandwidth"].split(",")[0]
        bandwidth = _int(p, "architecture_presets", "Bandwidth", first)
    elif mode is BandwidthMode.USER:
        raise SpecError(f"{p}: [architecture_presets] Bandwidth is required with InterfaceBandwidth: USER")
    if cp.has_option("run_presets", "useramulatortrace") and _bool(
        p, "run_presets", "UseRamulatorTrace", cp["run_presets"]["useramulatortrace"]
    ):
        raise SpecError(f"{p}: [run_presets] UseRamulatorTrace: True is not supported (Ramulator DRAM traces)")
    if cp.has_option("sparsity", "sparsitysupport") and _bool(
        p, "sparsity", "SparsitySupport", cp["sparsity"]["sparsitysupport"]
    ):
        raise SpecError(f"{p}: [sparsity] SparsitySupport: true is not supported (dense layers only)")
    if_bw = fl_bw = 0
    if cp.has_section("layout"):
        lay = cp["layout"]
        for key in ("ifmapcustomlayout", "filtercustomlayout"):
            if key in lay and _bool(p, "layout", key, lay[key]):
                raise SpecError(f"{p}: [layout] {key}: True is not supported (custom SRAM layouts)")
        # SCALE-Sim 3.0.0 reads ifmap/filter through the [layout] bank bandwidths in USER mode
        if "ifmapsrambankbandwidth" in lay:
            if_bw = _int(p, "layout", "IfmapSRAMBankBandwidth", lay["ifmapsrambankbandwidth"])
        if "filtersrambankbandwidth" in lay:
            fl_bw = _int(p, "layout", "FilterSRAMBankBandwidth", lay["filtersrambankbandwidth"])
    name = cp.get("general", "run_name", fallback=p.stem).strip() or p.stem
    return Spec(
        name=name,
        rows=rows,
        cols=cols,
        dataflow=dataflow,
        ifmap_sram_kib=srams[0],
        filter_sram_kib=srams[1],
        ofmap_sram_kib=srams[2],
        word_bytes=1,
        bandwidth_mode=mode,
        dram_words_per_cycle=bandwidth,
        ifmap_dram_words_per_cycle=if_bw,
        filter_dram_words_per_cycle=fl_bw,
        convention=Convention.SCALESIM,
        description=f"read from SCALE-Sim config {p.name}",
    )


# --------------------------------------------------------------------------- topologies

_SPARSITY_RE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


def _fields(line: str) -> list[str]:
    cells = [c.strip() for c in line.split(",")]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def topology_format(path: str | Path) -> str | None:
    """``"gemm"`` or ``"conv"`` when the file's header is a SCALE-Sim topology header, else None."""
    p = Path(path)
    try:
        with p.open() as fh:
            for line in fh:
                if line.strip():
                    return _header_format(_fields(line))
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _header_format(cells: list[str]) -> str | None:
    low = [c.lower() for c in cells]
    if len(low) >= 4 and low[1:4] == ["m", "n", "k"]:
        return "gemm"
    if len(low) >= 8 and low[0].startswith("layer") and "ifmap" in low[1] and "filter" in low[3]:
        return "conv"
    return None


def _pos_int(p: Path, lineno: int, col: str, raw: str) -> int:
    try:
        v = int(raw)
    except ValueError:
        raise SpecError(f"{p}:{lineno}: {col}: expected a positive integer, got {raw!r}") from None
    if v < 1:
        raise SpecError(f"{p}:{lineno}: {col}: expected a positive integer, got {raw!r}")
    return v


def _check_dense(p: Path, lineno: int, raw: str) -> None:
    if not raw:
        return
    m = _SPARSITY_RE.match(raw)
    if not m:
        raise SpecError(f"{p}:{lineno}: sparsity column: expected N:M, got {raw!r}")
    if m[1] != m[2]:
        raise SpecError(f"{p}:{lineno}: sparsity {raw!r} is not supported (dense layers only: N:M with N = M)")


def scalesim_conv_op(name: str, H: int, W: int, R: int, S: int, C: int, N: int, stride: int, groups: int = 1) -> Op:
    """A conv layer lowered as SCALE-Sim lowers it (see module docstring); 1-byte words."""
    conv = ConvShape(
        images=1,
        in_h=H,
        in_w=W,
        in_channels=C * groups,
        out_channels=N * groups,
        kernel_h=R,
        kernel_w=S,
        stride_h=stride,
        stride_w=stride,
        groups=groups,
    )
    op = conv2d_op(name, conv, weight_bits=8, act_bits=8, dtype="int8")
    # SCALE-Sim's ofmap size: ceil((H - R + stride) / stride), not floor((H - R) / stride) + 1
    oh, ow = -(-(H - R + stride) // stride), -(-(W - S + stride) // stride)
    M = oh * ow
    return dataclasses.replace(
        op, M=M, elements=M * N * groups, flops=2 * M * N * op.K * groups, bytes_written=M * N * groups
    )


def load_topology(path: str | Path) -> WorkloadGraph:
    """A SCALE-Sim topology CSV (conv or GEMM format, told apart by the header) -> graph.

    Raises:
        SpecError: missing file, a header that is neither format, or a malformed row
            (naming file:line, the column and the value).
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: no such file")
    lines = p.read_text().splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    fmt = _header_format(_fields(lines[start])) if start is not None else None
    if fmt is None:
        raise SpecError(
            f"{p}: not a SCALE-Sim topology (header must be 'Layer, M, N, K' or "
            "'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides')"
        )
    assert start is not None
    g = WorkloadGraph(name=p.stem, meta={"source": str(p), "format": f"scalesim {fmt} topology"})
    prev: str | None = None
    for i in range(start + 1, len(lines)):
        lineno = i + 1
        cells = _fields(lines[i])
        if not cells or all(c == "" for c in cells):
            continue
        name = cells[0]
        if not name:
            raise SpecError(f"{p}:{lineno}: layer name is empty")
        if fmt == "gemm":
            if len(cells) < 4:
                raise SpecError(f"{p}:{lineno}: expected 'name, M, N, K', got {lines[i].strip()!r}")
            M, N, K = (_pos_int(p, lineno, c, v) for c, v in zip(("M", "N", "K"), cells[1:4]))
            _check_dense(p, lineno, cells[4] if len(cells) > 4 else "")
            op = gemm_op(name, M, N, K, weight_bits=8, act_bits=8, dtype="int8")
        else:
            if len(cells) < 8:
                raise SpecError(
                    f"{p}:{lineno}: expected 8 values (name, IFMAP Height, IFMAP Width, Filter Height, "
                    f"Filter Width, Channels, Num Filter, Strides), got {len(cells)}: {lines[i].strip()!r}"
                )
            cols = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels", "Num Filter", "Strides")
            H, W, R, S, C, N, stride = (_pos_int(p, lineno, c, v) for c, v in zip(cols, cells[1:8]))
            _check_dense(p, lineno, cells[8] if len(cells) > 8 else "")
            if R > H or S > W:
                raise SpecError(f"{p}:{lineno}: filter {R}x{S} is larger than the ifmap {H}x{W}")
            if "DP" in name:  # SCALE-Sim: one single-channel layer per input channel
                op = scalesim_conv_op(name, H, W, R, S, 1, N, stride, groups=C)
            else:
                op = scalesim_conv_op(name, H, W, R, S, C, N, stride)
        if op.name in g:
            raise SpecError(f"{p}:{lineno}: duplicate layer name {op.name!r}")
        g.add_op(op, [prev] if prev else [])
        prev = op.name
    if g.number_of_nodes() == 0:
        raise SpecError(f"{p}: no layer rows")
    return g


__all__ = ["load_config", "load_topology", "scalesim_conv_op", "topology_format"]
