"""cosim: hardware simulation and co-design workbench.

PyTorch models are traced into workload graphs (`cosim.graph`, `cosim.trace`), simulated on
hardware models (`cosim.hw`), verified against RTL (`cosim.rtl`) and explored in design sweeps.
"""

__version__ = "0.1.0"
