"""cosim.synth: yosys flow to the CMOS gate set (needs yosys on PATH, as the RTL benches need iverilog)."""

import json
import subprocess
import sys

import pytest

from cosim.errors import ModelError, SpecError
from cosim.rtl import REPO_ROOT
from cosim.synth import TRANSISTORS, block_sources, count_transistors, synthesize

pytestmark = pytest.mark.rtl


def test_mac_pe_report_is_complete():
    rep = synthesize("mac_pe", params={"W": 4, "K_MAX": 4})
    # 2*4 + log2 4 = 10 accumulator bits plus out_valid.
    assert rep.flip_flops == 11
    assert rep.transistors == sum(n * TRANSISTORS[t] for t, n in rep.cell_types.items())
    assert rep.cells == sum(rep.cell_types.values())
    assert rep.depth > 0
    assert rep.logic_transistors == rep.transistors - 16 * 11


def test_parity_tree_depth(tmp_path):
    """An 8-input XOR is three levels of 2-input XOR/XNOR gates."""
    src = tmp_path / "parity8.sv"
    src.write_text("module parity8(input [7:0] x, output y); assign y = ^x; endmodule\n")
    rep = synthesize("parity8", [src])
    assert rep.depth == 3
    assert rep.flip_flops == 0
    assert set(rep.cell_types) <= {"$_XOR_", "$_XNOR_", "$_NOT_"}


def test_every_cell_type_needs_a_transistor_count():
    with pytest.raises(ModelError, match=r"\$_DLATCH_P_"):
        count_transistors({"$_NAND_": 2, "$_DLATCH_P_": 1})


def test_block_sources_follow_instances():
    names = [p.name for p in block_sources("systolic_os")]
    assert names[-1] == "systolic_os.sv"
    assert {"os_cell.sv", "opt1_madd.sv", "csa_tree.sv", "r4_digits.sv", "r4_pp.sv"} <= set(names)
    assert "ws_cell.sv" not in names


def test_bad_inputs_raise_spec_errors():
    with pytest.raises(SpecError, match="no module 'nope'"):
        synthesize("nope")
    with pytest.raises(SpecError, match="yosys failed"):
        synthesize("mac_pe", params={"NOT_A_PARAM": 1})


def test_cli_synth_json_and_errors():
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "cosim", "synth", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        )

    ok = run("mac_pe", "--param", "W=4", "--param", "K_MAX=4", "--json")
    assert ok.returncode == 0, ok.stderr
    rep = json.loads(ok.stdout)
    assert rep["flip_flops"] == 11 and rep["params"] == {"W": 4, "K_MAX": 4}
    bad = run("mac_pe", "--param", "W")
    assert bad.returncode == 2 and "expected NAME=INTEGER" in bad.stderr
