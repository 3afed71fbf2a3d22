"""RTL configurations of the Verilog systolic arrays and TPE units, and their cycle predictions.

`RtlConfig` names one build of ``rtl/systolic_os`` or ``rtl/systolic_ws``: array shape, dataflow,
PE kind and operand width; it derives the accumulator width (`cosim.golden.acc_width`), lists the
HDL parameters for `cosim.rtl.run_bench`, and predicts the cycles a GEMM takes from ``start`` to
``done``: the systolic model's count for the same array and dataflow
(`cosim.hw.systolic.gemm_cycles`, native convention) plus a fixed handshake overhead.

Assumptions (each checked cycle-exactly by the cocotb benches in ``tests/rtl/systolic_*``):

* Folds run back to back with SCALE-Sim's per-fold lengths (OS: R + C + K - 2, WS: 2R + C + M - 2;
  ``/work/shared/references/scalesim.md``).  The native count is folds x per-fold; SCALE-Sim
  reports one less (the last 0-based cycle index, its open issue #125), so RTL cycles are also
  SCALE-Sim's count + `HANDSHAKE_CYCLES` + 1.
* The RTL counts from the rising edge that samples ``start`` to the rising edge that raises
  ``done``, after the last result is registered.  `HANDSHAKE_CYCLES` is the difference.
* Operands come from a synchronous SRAM port with no stalls (SCALE-Sim's default bandwidth mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from cosim import golden
from cosim.errors import SpecError
from cosim.hw.systolic import Dataflow, gemm_cycles


class PeKind(StrEnum):
    """Processing element inside the systolic arrays (HPCA'25 TPE paper's comparison)."""

    MAC = "mac"  # baseline: multiplier and carry-propagate accumulator add in every PE
    OPT1 = "opt1"  # carry-save accumulation, one final add per output column


# Cycles the RTL adds to the systolic model's native count (`gemm_cycles(..., convention="native")`,
# folds x cycles per fold), measured from the edge sampling `start` to the edge raising `done`:
#   OS: 2 output registers (one after each column's one-hot select of the finished PE, one after
#       the column adder that does OPT1's final add), rtl/systolic_os/systolic_os.sv;
#   WS: 1 output register after the column adder below the bottom PE, rtl/systolic_ws/systolic_ws.sv.
# SCALE-Sim's own count is one less than the native one (it reports the last cycle index).
HANDSHAKE_CYCLES: dict[Dataflow, int] = {Dataflow.OS: 2, Dataflow.WS: 1}

# OPT3 PE (rtl/opt3_pe): one cycle after the last partial product for the one final add.
OPT3_HANDSHAKE_CYCLES = 1
RTL_DATAFLOWS = (Dataflow.OS, Dataflow.WS)


@dataclass(frozen=True)
class RtlConfig:
    """One build of a Verilog systolic array (``rtl/systolic_os`` or ``rtl/systolic_ws``).

    Attributes:
        rows, cols: PE grid.
        dataflow: `Dataflow.OS` or `Dataflow.WS`.
        pe: `PeKind` of every PE.
        w_bits: operand width (two's complement).
        k_max: OS only: the longest runtime K the accumulators must hold exactly.
        dim_bits: width of the runtime M/N/K ports.
    """

    rows: int
    cols: int
    dataflow: Dataflow
    pe: PeKind = PeKind.MAC
    w_bits: int = 8
    k_max: int = 64
    dim_bits: int = 16

    def __post_init__(self) -> None:
        for key in ("rows", "cols", "w_bits", "k_max", "dim_bits"):
            if getattr(self, key) < 1:
                raise SpecError(f"RtlConfig.{key}: must be >= 1, got {getattr(self, key)}")
        if self.rows + self.cols < 3:
            # The RTL's control registers its "last fold" flags, which needs folds of >= 2 cycles.
            raise SpecError(f"RtlConfig: rows + cols must be >= 3, got {self.rows} x {self.cols}")
        if self.w_bits < 2:
            raise SpecError(f"RtlConfig.w_bits: radix-4 PEs need >= 2 bits, got {self.w_bits}")
        object.__setattr__(self, "dataflow", Dataflow(self.dataflow))
        if self.dataflow not in RTL_DATAFLOWS:
            built = ", ".join(d.value for d in RTL_DATAFLOWS)
            raise SpecError(f"RtlConfig.dataflow: {self.dataflow.value!r} has no RTL (built: {built})")
        object.__setattr__(self, "pe", PeKind(self.pe))

    @property
    def toplevel(self) -> str:
        return "systolic_os" if self.dataflow is Dataflow.OS else "systolic_ws"

    @property
    def source_names(self) -> list[str]:
        """``rtl/``-relative sources, leaves first."""
        cell = "systolic_os/os_cell.sv" if self.dataflow is Dataflow.OS else "systolic_ws/ws_cell.sv"
        lib = ["tpe_lib/csa_tree.sv", "tpe_lib/r4_digits.sv", "tpe_lib/r4_pp.sv", "tpe_lib/opt1_madd.sv"]
        return [*lib, cell, f"{self.toplevel}/{self.toplevel}.sv"]

    @property
    def acc_bits(self) -> int:
        """Accumulator (OS) or partial-sum (WS, K block of `rows`) width, 2W + ceil(log2 K)."""
        k = self.k_max if self.dataflow is Dataflow.OS else self.rows
        return golden.acc_width(self.w_bits, k)

    @property
    def handshake_cycles(self) -> int:
        """Fixed cycles the RTL adds to the model's native count (see `HANDSHAKE_CYCLES`)."""
        return HANDSHAKE_CYCLES[self.dataflow]

    def hdl_parameters(self) -> dict[str, int]:
        """Verilog parameters of this build, in one place for the benches and for synthesis."""
        p = {"ROWS": self.rows, "COLS": self.cols, "W": self.w_bits, "ACC_W": self.acc_bits}
        if self.dataflow is Dataflow.OS:
            p["K_MAX"] = self.k_max
        p["PE"] = 0 if self.pe is PeKind.MAC else 1
        p["DIM_W"] = self.dim_bits
        return p

    def check_gemm(self, m: int, n: int, k: int) -> None:
        """Raise SpecError unless the RTL can run an M x N x K GEMM."""
        limit = (1 << self.dim_bits) - 1
        for key, v in (("M", m), ("N", n), ("K", k)):
            if not 1 <= v <= limit:
                raise SpecError(f"{self.toplevel}: {key} must be in [1, {limit}], got {v}")
        if self.dataflow is Dataflow.OS and k > self.k_max:
            raise SpecError(f"{self.toplevel}: K={k} exceeds k_max={self.k_max} (the accumulator width)")

    def model_cycles(self, m: int, n: int, k: int) -> int:
        """The systolic model's native cycle count for this GEMM (`cosim.hw.systolic.gemm_cycles`)."""
        return gemm_cycles(self.rows, self.cols, self.dataflow, m, n, k, convention="native")

    def predicted_cycles(self, m: int, n: int, k: int) -> int:
        """Cycles from ``start`` to ``done`` the RTL must take: model cycles + handshake."""
        self.check_gemm(m, n, k)
        return self.model_cycles(m, n, k) + self.handshake_cycles

    def folds(self, m: int, n: int, k: int) -> list[tuple[int, int]]:
        """Fold origins in the order the RTL runs them: OS (m0, n0) row-major; WS (k0, n0), k0 inner."""
        if self.dataflow is Dataflow.OS:
            return [(m0, n0) for m0 in range(0, m, self.rows) for n0 in range(0, n, self.cols)]
        return [(k0, n0) for n0 in range(0, n, self.cols) for k0 in range(0, k, self.rows)]


def opt3_predicted_cycles(a: np.ndarray, w_bits: int = 8, encoding: golden.Radix4 | str = golden.Radix4.ENT) -> int:
    """Cycles of rtl/opt3_pe from accepting a dot product's first operand to its out_valid edge."""
    return golden.opt3_dot_cycles(a, w_bits, encoding) + OPT3_HANDSHAKE_CYCLES
