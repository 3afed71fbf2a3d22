"""SCALE-Sim file compatibility: configs (v2, v3), topology CSVs, and the CLI around them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.errors import SpecError
from cosim.graph import OpKind
from cosim.hw import load_arch
from cosim.hw.systolic import BandwidthMode, Convention, Dataflow
from cosim.scalesim import load_config, load_topology
from cosim.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]

# scale-sim-v2 style (configs/google.cfg layout): no [layout], [sparsity], UseRamulatorTrace
V2 = """[general]
run_name = tpu_v2fmt

[architecture_presets]
ArrayHeight:    256
ArrayWidth:     128
IfmapSramSzkB:    6144
FilterSramSzkB:   4096
OfmapSramSzkB:    2048
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : ws
Bandwidth : 10
MemoryBanks: 1

[run_presets]
InterfaceBandwidth: CALC
"""

# scale-sim-v3 style (configs/google.cfg of v3): [layout], [sparsity], request buffers
V3 = """[general]
run_name = v3fmt

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 8
Dataflow : is
ReadRequestBuffer: 128
WriteRequestBuffer: 128

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 4
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 2
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: USER
UseRamulatorTrace: False
"""

CONV_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_v2_config(tmp_path: Path) -> None:
    s = load_config(_write(tmp_path, "a.cfg", V2))
    assert (s.name, s.rows, s.cols, s.dataflow) == ("tpu_v2fmt", 256, 128, Dataflow.WS)
    assert (s.ifmap_sram_kib, s.filter_sram_kib, s.ofmap_sram_kib) == (6144, 4096, 2048)
    assert s.bandwidth_mode is BandwidthMode.CALC and s.convention is Convention.SCALESIM and s.word_bytes == 1


def test_v3_config_user_mode_bandwidths(tmp_path: Path) -> None:
    s = load_config(_write(tmp_path, "a.cfg", V3))
    assert (s.rows, s.cols, s.dataflow, s.bandwidth_mode) == (32, 16, Dataflow.IS, BandwidthMode.USER)
    # SCALE-Sim 3.0.0 fills ifmap/filter at the [layout] bank bandwidths, drains ofmap at Bandwidth
    assert (s.ifmap_bw, s.filter_bw, s.dram_words_per_cycle) == (4, 2, 8)


def test_load_arch_takes_cfg_through_the_registry(tmp_path: Path) -> None:
    a = load_arch(_write(tmp_path, "a.cfg", V2))
    assert a.model.name == "systolic" and a.spec.rows == 256


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("ArrayHeight:    256", "ArrayHeight: 0"), r"\[architecture_presets\] ArrayHeight: must be >= 1, got 0"),
        (("Dataflow : ws", "Dataflow : rs"), r"Dataflow: unknown value 'rs' \(allowed: os, ws, is\)"),
        (("InterfaceBandwidth: CALC", "InterfaceBandwidth: FAST"), r"InterfaceBandwidth: unknown value 'FAST'"),
        (("ArrayWidth:     128", "ArrayWidth: wide"), r"ArrayWidth: expected an integer, got 'wide'"),
        (("MemoryBanks: 1", "MemoryBanks: 1\nColour: red"), r"unknown key 'colour'"),
        (("Dataflow : ws\n", ""), r"missing required key 'dataflow'"),
    ],
)
def test_bad_config_values(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_config(_write(tmp_path, "bad.cfg", V2.replace(*edit)))


def test_unsupported_features_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="SparsitySupport: true is not supported"):
        load_config(_write(tmp_path, "s.cfg", V3.replace("SparsitySupport : false", "SparsitySupport : true")))
    with pytest.raises(SpecError, match=r"\[layout\] ifmapcustomlayout: True is not supported"):
        load_config(_write(tmp_path, "l.cfg", V3.replace("IfmapCustomLayout: False", "IfmapCustomLayout: True")))


def test_gemm_topology(tmp_path: Path) -> None:
    g = load_topology(_write(tmp_path, "g.csv", "Layer, M, N, K,\nfc1, 1, 1000, 2048,\nmm, 256, 128, 64\n"))
    a, b = g.ops
    assert (a.kind, a.M, a.N, a.K) == (OpKind.GEMV, 1, 1000, 2048)
    assert (b.M, b.N, b.K) == (256, 128, 64)  # no trailing comma: still read
    assert a.weight_bits == 8 and a.act_bits == 8  # SCALE-Sim words are 1 byte
    assert list(g.edges) == [("fc1", "mm")]


def test_conv_topology_geometry_and_blank_rows(tmp_path: Path) -> None:
    text = CONV_HEADER + ",,,,,,,,\nc3, 56, 56, 3, 3, 64, 64, 1,\n\nc1s2, 56, 56, 1, 1, 256, 512, 2, 1:1,\n"
    c3, c1 = load_topology(_write(tmp_path, "c.csv", text)).ops
    assert (c3.M, c3.N, c3.K) == (54 * 54, 64, 576)  # no padding
    # SCALE-Sim's ceil((56 - 1 + 2) / 2) = 29, one more than torch's 28: the last window is past the edge
    assert (c1.M, c1.N, c1.K) == (29 * 29, 512, 256)


def test_depthwise_rows_become_grouped_convs(tmp_path: Path) -> None:
    op = load_topology(_write(tmp_path, "d.csv", CONV_HEADER + "DP1, 16, 16, 3, 3, 8, 1, 1,\n")).ops[0]
    assert (op.M, op.N, op.K, op.batch) == (14 * 14, 1, 9, 8)  # one 1-channel layer per channel


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CONV_HEADER + "c, 8, 8, 3, 3, 4, x, 1,\n", r"c.csv:2: Num Filter: expected a positive integer, got 'x'"),
        (CONV_HEADER + "c, 8, 8, 3, 3, 4,\n", r"c.csv:2: expected 8 values"),
        (CONV_HEADER + "c, 2, 8, 3, 3, 4, 4, 1,\n", r"filter 3x3 is larger than the ifmap 2x8"),
        (CONV_HEADER + "c, 8, 8, 3, 3, 4, 4, 1, 2:4,\n", r"sparsity '2:4' is not supported"),
        ("Layer, M, N, K,\ng, 4, 0, 4,\n", r"c.csv:2: N: expected a positive integer, got '0'"),
        ("Layer, M, N, K,\n", r"no layer rows"),
    ],
)
def test_malformed_topology_rows(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_topology(_write(tmp_path, "c.csv", text))


def test_load_workload_sniffs_csv_headers(tmp_path: Path) -> None:
    oplist = "name,kind,dtype,M,N,K,batch,heads,head_dim,kv_len,weight_bits,act_bits\nq,gemm,int8,4,8,16,,,,,,\n"
    assert load_workload(_write(tmp_path, "ops.csv", oplist)).ops[0].M == 4
    assert load_workload(_write(tmp_path, "mnk.csv", "Layer, M, N, K,\ng, 4, 8, 16,\n")).ops[0].K == 16
    with pytest.raises(SpecError, match="neither an op list"):
        load_workload(_write(tmp_path, "x.csv", "a,b,c\n1,2,3\n"))
    with pytest.raises(SpecError, match="no such file"):
        load_workload(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- the CLI


def test_cli_simulate_cfg_and_topology_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _write(
        tmp_path,
        "a.cfg",
        V2.replace("ArrayHeight:    256", "ArrayHeight: 8")
        .replace("ArrayWidth:     128", "ArrayWidth: 8")
        .replace("Dataflow : ws", "Dataflow : os"),
    )
    topo = _write(tmp_path, "t.csv", "Layer, M, N, K,\ng1, 20, 13, 11,\n")
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--arch", str(cfg), "--workload", str(topo), "--json"])
    assert e.value.code == 0
    out = json.loads(capsys.readouterr().out)
    op = out["ops"][0]
    # SCALE-Sim's numbers for this layer (hand-derived in tests/hw/test_systolic.py)
    assert (op["total_cycles"], op["sram_ofmap_writes"], op["dram_filter_reads"]) == (149, 356, 143)
    assert out["total"]["cycles"] == 149


@pytest.mark.parametrize(
    ("arch_text", "topo_text", "expect"),
    [
        (
            V2.replace("ArrayHeight:    256", "ArrayHeight: 0"),
            "Layer, M, N, K,\ng, 4, 4, 4,\n",
            "ArrayHeight: must be >= 1",
        ),
        (
            V2.replace("Dataflow : ws", "Dataflow : xy"),
            "Layer, M, N, K,\ng, 4, 4, 4,\n",
            "Dataflow: unknown value 'xy'",
        ),
        (V2, "Layer, M, N, K,\ng, 4, four, 4,\n", "t.csv:2: N: expected a positive integer, got 'four'"),
    ],
)
def test_cli_bad_inputs_exit_2_with_one_line(tmp_path: Path, arch_text: str, topo_text: str, expect: str) -> None:
    cfg, topo = _write(tmp_path, "a.cfg", arch_text), _write(tmp_path, "t.csv", topo_text)
    p = subprocess.run(
        [sys.executable, "-m", "cosim", "simulate", "--arch", str(cfg), "--workload", str(topo)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0]


def test_cli_missing_cfg_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topo = _write(tmp_path, "t.csv", "Layer, M, N, K,\ng, 4, 4, 4,\n")
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--arch", str(tmp_path / "nope.cfg"), "--workload", str(topo)])
    assert e.value.code == 2
    assert "nope.cfg: no such file" in capsys.readouterr().err


def test_cli_prints_per_layer_table_for_a_systolic_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    topo = _write(
        tmp_path, "t.csv", CONV_HEADER + "conv1, 224, 224, 7, 7, 3, 64, 2,\nconv2, 56, 56, 3, 3, 64, 64, 1,\n"
    )
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--arch", str(ROOT / "models" / "systolic_128_os.yaml"), "--workload", str(topo)])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "conv2" in out and "total" in out and "clock 1 GHz" in out


@pytest.mark.parametrize(
    ("yaml_text", "expect"),
    [
        ("model: systolic\nname: z\nrows: 0\ncols: 8\n", "rows: must be >= 1, got 0"),
        ("model: systolic\nname: z\nrows: 8\ncols: 8\ndataflow: rs\n", "dataflow: unknown value 'rs'"),
    ],
)
def test_cli_bad_yaml_spec_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, expect: str
) -> None:
    arch = _write(tmp_path, "m.yaml", yaml_text)
    topo = _write(tmp_path, "t.csv", "Layer, M, N, K,\ng, 4, 4, 4,\n")
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--arch", str(arch), "--workload", str(topo)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expect in err


def test_cli_simulates_a_graph_json_per_layer_and_total(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A whole network (ResNet-50 built from cosim.graph builders) as graph JSON."""
    from tests.hw.resnet50_graph import resnet50_graph

    g = resnet50_graph()
    path = tmp_path / "resnet50.json"
    g.save(path)
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--arch", str(ROOT / "models" / "systolic_128_os.yaml"), "--workload", str(path), "--json"])
    assert e.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["ops"]) == g.number_of_nodes()
    assert out["total"]["cycles"] == sum(o["cycles"] for o in out["ops"])
    assert out["total"]["seconds"] == pytest.approx(out["total"]["cycles"] / 1e9)
    convs = [o for o in out["ops"] if o["kind"] == "conv2d"]
    assert len(convs) == 53 and all("overall_util_pct" in o for o in convs)
    assert {o["unit"] for o in out["ops"]} == {"array", "vector"}
