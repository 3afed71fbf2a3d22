"""RTL configurations of the systolic arrays: derived widths, parameters, cycle predictions."""

import pytest

from cosim.errors import SpecError
from cosim.hw.systolic import Dataflow, gemm_cycles
from cosim.hw.systolic_rtl import HANDSHAKE_CYCLES, PeKind, RtlConfig, opt3_predicted_cycles


def test_rtl_prediction_by_hand():
    # OS 4x4, 4x4x1: one fold of R + C + K - 2 = 7 cycles, plus 2 output registers.
    assert RtlConfig(4, 4, Dataflow.OS).predicted_cycles(4, 4, 1) == 7 + 2
    # OS 8x8, M=17, N=9, K=7: ceil(17/8) * ceil(9/8) = 6 folds of 8 + 8 + 7 - 2 = 21 cycles.
    assert RtlConfig(8, 8, Dataflow.OS).model_cycles(17, 9, 7) == 6 * 21
    # WS 8x8, M=10, N=9, K=17: ceil(17/8) * ceil(9/8) = 6 folds of 2*8 + 8 + 10 - 2 = 32, plus 1.
    assert RtlConfig(8, 8, Dataflow.WS).predicted_cycles(10, 9, 17) == 6 * 32 + 1


def test_rtl_cycles_relative_to_scalesim_count():
    """SCALE-Sim reports one cycle less than the native count: RTL = SCALE-Sim + handshake + 1."""
    for df in (Dataflow.OS, Dataflow.WS):
        cfg = RtlConfig(16, 16, df)
        scalesim = gemm_cycles(16, 16, df, 33, 15, 64, convention="scalesim")
        assert cfg.predicted_cycles(33, 15, 64) == scalesim + 1 + HANDSHAKE_CYCLES[df]


def test_accumulator_widths_are_derived():
    assert RtlConfig(16, 16, Dataflow.OS, k_max=64).acc_bits == 22  # 2*8 + log2 64
    assert RtlConfig(16, 16, Dataflow.WS).acc_bits == 20  # partial sums over 16 rows
    assert RtlConfig(4, 4, Dataflow.WS).acc_bits == 18


def test_hdl_parameters_name_every_knob():
    assert RtlConfig(8, 4, Dataflow.OS, PeKind.OPT1).hdl_parameters() == {
        "ROWS": 8,
        "COLS": 4,
        "W": 8,
        "ACC_W": 22,
        "K_MAX": 64,
        "PE": 1,
        "DIM_W": 16,
    }
    assert "K_MAX" not in RtlConfig(8, 4, Dataflow.WS).hdl_parameters()


def test_predicted_cycles_add_the_handshake():
    cfg = RtlConfig(16, 16, Dataflow.WS)
    assert cfg.predicted_cycles(33, 15, 64) == gemm_cycles(16, 16, "ws", 33, 15, 64, convention="native") + 1
    assert RtlConfig(4, 4, "os").handshake_cycles == 2


def test_fold_order_matches_the_rtl():
    assert RtlConfig(4, 4, Dataflow.OS).folds(5, 9, 3) == [(0, 0), (0, 4), (0, 8), (4, 0), (4, 4), (4, 8)]
    assert RtlConfig(4, 4, Dataflow.WS).folds(3, 5, 9) == [(0, 0), (4, 0), (8, 0), (0, 4), (4, 4), (8, 4)]


def test_bad_tiles_and_configs_raise():
    with pytest.raises(SpecError, match="K=65 exceeds k_max=64"):
        RtlConfig(4, 4, Dataflow.OS).predicted_cycles(4, 4, 65)
    with pytest.raises(SpecError, match=r"M must be in \[1, 65535\]"):
        RtlConfig(4, 4, Dataflow.WS).predicted_cycles(0, 4, 4)
    with pytest.raises(SpecError, match="rows: must be >= 1"):
        RtlConfig(0, 4, Dataflow.WS)
    with pytest.raises(SpecError, match="'is' has no RTL"):
        RtlConfig(4, 4, "is")


def test_opt3_prediction_counts_nonzero_digits():
    # EN-T digits: 85 -> four, 0 -> none (one cycle), -128 -> one; plus one final-add cycle.
    assert opt3_predicted_cycles([85, 0, -128]) == 4 + 1 + 1 + 1
