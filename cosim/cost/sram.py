"""On-chip SRAM: read/write energy per access and per bit, leakage and area, by capacity,
width and ports, at any node.

Base data: our CACTI 7.0 runs at 45 nm (`cosim.cost._cacti45`, configuration in its
docstring) over 64 B..16 MB, widths 32..1024 bits, and 1rw / 1r1w / 2rw ports.  Between
table points we interpolate linearly in (log capacity, log width); beyond them we extend the
end segments (a 64 MB buffer is extrapolated, not modelled).  CACTI optimizes the array
organization per configuration, so values are smooth in capacity (monotone in the table) but
not in width: area varies by about 10% between neighbouring widths.  Two-port data exist at
widths 64 and 256; other widths take the two-port/one-port ratio of the nearest of those.
Extrapolation and port ratios can bend a value downwards in capacity; `_base45` and `_monotone`
restore "a larger array never costs less" (a running maximum over the grid, and a cap below
the smallest grid capacity), at 45 nm and again at the target node.

Sanity check against the other source: Horowitz (ISSCC 2014) gives 10 / 20 / 100 pJ per 64-bit
access of 8 KB / 32 KB / 1 MB caches at 45 nm 0.9 V; this table gives 7.9 / 12.6 / 64 pJ at
1.0 V (a scratchpad has no tag array).

Scaling to other nodes (see `cosim.cost.nodes`):

* energy per access: Stillmaker & Baas energy factor from 45 nm / 1.0 V;
* area: the memory-cell part (CACTI's cell fraction of the array) scales with published 6T
  bit-cell areas (`TechNode.sram_bitcell_um2` / 0.346 um^2 at 45 nm), the periphery with the
  logic area factor;
* leakage: proportional to the scaled area (leakage power density held at the 45 nm LSTP
  value).  CACTI's own 22 nm run leaks 0.6x of this estimate: treat leakage as an upper bound.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from cosim.cost._cacti45 import CACTI45_SRAM, CACTI_NODE_NM, CACTI_VDD_V
from cosim.cost.nodes import NODES, TechNode, get_node
from cosim.errors import SpecError

_BITCELL_45NM_UM2 = NODES["45nm"].sram_bitcell_um2


class SramPorts(StrEnum):
    """Port configurations in the CACTI table."""

    RW1 = "1rw"  # one read/write port
    R1W1 = "1r1w"  # one read port and one write port
    RW2 = "2rw"  # two read/write ports


_FIELDS = ("read_pj", "write_pj", "leakage_mw", "area_mm2", "cell_fraction")


def _rows() -> dict[SramPorts, dict[int, list[tuple[int, tuple[float, ...]]]]]:
    """ports -> width -> sorted [(capacity, (read_pj, write_pj, leakage_mw, area_mm2, cell_fraction))]."""
    out: dict[SramPorts, dict[int, list[tuple[int, tuple[float, ...]]]]] = {}
    for cap, width, ports, *vals in CACTI45_SRAM:
        out.setdefault(SramPorts(ports), {}).setdefault(width, []).append((cap, tuple(vals)))
    for by_w in out.values():
        for rows in by_w.values():
            rows.sort()
    return out


_TABLE = _rows()


def _interp_log(xs: list[float], ys: list[float], x: float) -> float:
    """Linear in (log x, log y) through sorted points; end segments extended."""
    if len(xs) == 1:
        return ys[0]
    i = bisect.bisect_left(xs, x)
    i = min(max(i, 1), len(xs) - 1)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    t = math.log(x / x0) / math.log(x1 / x0)
    return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))


def _at_width(ports: SramPorts, width: int, capacity: float) -> tuple[float, ...]:
    rows = _TABLE[ports][width]
    caps = [float(c) for c, _ in rows]
    return tuple(_interp_log(caps, [v[k] for _, v in rows], capacity) for k in range(len(_FIELDS)))


def _interp(ports: SramPorts, capacity: float, width: float) -> tuple[float, ...]:
    widths = sorted(_TABLE[ports])
    if len(widths) == 1 or width in widths:
        w = width if width in widths else widths[0]
        return _at_width(ports, int(w), capacity)
    i = min(max(bisect.bisect_left(widths, width), 1), len(widths) - 1)
    w0, w1 = widths[i - 1], widths[i]
    a, b = _at_width(ports, w0, capacity), _at_width(ports, w1, capacity)
    t = math.log(width / w0) / math.log(w1 / w0)
    return tuple(math.exp(math.log(p) + t * (math.log(q) - math.log(p))) for p, q in zip(a, b))


_GRID_CAPACITIES = sorted({row[0] for row in CACTI45_SRAM})


@lru_cache(maxsize=4096)
def _base45(capacity_bytes: float, width_bits: float, ports: SramPorts) -> tuple[float, ...]:
    """CACTI 45 nm values for any (capacity, width, ports), made non-decreasing in capacity.

    Between grid capacities every interpolated value is a power law in capacity (a product of
    log-linear segments), so it is monotone there; it can still fall with capacity where
    extrapolating in width or applying a two-port ratio crosses a CACTI reorganisation.  Two
    rules remove those dips:

    * at and above the smallest grid capacity, each value is the largest of the interpolated
      value here and at every smaller grid capacity (a running maximum);
    * below the smallest grid capacity (arrays CACTI rejects, fewer than 32 rows), each value is
      at most the value at that grid capacity: a smaller array never costs more than the
      smallest one CACTI modelled (the end segment alone may slope either way).

    The cell fraction (last field) is passed through.
    """
    raw = _raw45(capacity_bytes, width_bits, ports)
    n = len(raw) - 1
    valid = [float(c) for c in _GRID_CAPACITIES if 8 * c >= width_bits]
    if valid and capacity_bytes < valid[0]:
        top = _base45(valid[0], width_bits, ports)
        return (*(min(raw[k], top[k]) for k in range(n)), raw[-1])
    smaller = [_raw45(c, width_bits, ports) for c in valid if c < capacity_bytes]
    return (*(max([raw[k], *(v[k] for v in smaller)]) for k in range(n)), raw[-1])


def _scaled(node: TechNode, capacity_bytes: float, width_bits: float, ports: SramPorts) -> tuple[float, ...]:
    """(read_j, write_j, leakage_w, area_mm2) of `_base45` scaled to `node` (energy: Stillmaker &
    Baas; area and leakage: bit-cell part and periphery, see the module docstring)."""
    rd, wr, leak_mw, area, cell_frac = _base45(capacity_bytes, width_bits, ports)
    e = node.energy_from(CACTI_NODE_NM, CACTI_VDD_V)
    cf = min(cell_frac, 1.0)
    a = cf * node.sram_bitcell_um2 / _BITCELL_45NM_UM2 + (1 - cf) * node.logic_area_from_45nm
    return (rd * 1e-12 * e, wr * 1e-12 * e, leak_mw * 1e-3 * a, area * a)


@lru_cache(maxsize=8192)
def _monotone(node: TechNode, capacity_bytes: float, width_bits: float, ports: SramPorts) -> tuple[float, ...]:
    """`_scaled` made non-decreasing in capacity by the two rules of `_base45`, applied again at the
    node: the cell fraction weights bit-cell and periphery scaling differently, and it changes
    with CACTI's organisation, so a non-decreasing 45 nm area can still dip at another node."""
    raw = _scaled(node, capacity_bytes, width_bits, ports)
    valid = [float(c) for c in _GRID_CAPACITIES if 8 * c >= width_bits]
    if valid and capacity_bytes < valid[0]:
        top = _monotone(node, valid[0], width_bits, ports)
        return tuple(min(r, t) for r, t in zip(raw, top))
    smaller = [_scaled(node, c, width_bits, ports) for c in valid if c < capacity_bytes]
    return tuple(max([raw[k], *(v[k] for v in smaller)]) for k in range(len(raw)))


@lru_cache(maxsize=16384)
def _raw45(capacity_bytes: float, width_bits: float, ports: SramPorts) -> tuple[float, ...]:
    one = _interp(SramPorts.RW1, capacity_bytes, width_bits)
    if ports is SramPorts.RW1:
        return one
    # two-port: the ratio two-port / one-port at the nearest width with two-port data
    two_widths = sorted(_TABLE[ports])
    w = min(two_widths, key=lambda x: abs(math.log(x / width_bits)))
    ratio = [p / q for p, q in zip(_at_width(ports, w, capacity_bytes), _at_width(SramPorts.RW1, w, capacity_bytes))]
    return tuple(v * r for v, r in zip(one, ratio))


@dataclass(frozen=True, slots=True)
class SramCost:
    """One SRAM macro at a node: energies per access, leakage power, area."""

    capacity_bytes: int
    width_bits: int
    ports: SramPorts
    read_j: float
    write_j: float
    leakage_w: float
    area_mm2: float

    @property
    def read_per_bit_j(self) -> float:
        return self.read_j / self.width_bits

    @property
    def write_per_bit_j(self) -> float:
        return self.write_j / self.width_bits


def _ports(ports: str | int | SramPorts) -> SramPorts:
    if isinstance(ports, SramPorts):
        return ports
    if isinstance(ports, int) and not isinstance(ports, bool):
        if ports == 1:
            return SramPorts.RW1
        if ports == 2:
            return SramPorts.RW2
        raise SpecError(f"sram ports: the CACTI table has 1 or 2 ports, got {ports}")
    try:
        return SramPorts(str(ports).lower())
    except ValueError:
        raise SpecError(
            f"sram ports: unknown port configuration {ports!r} (allowed: 1, 2, {', '.join(p.value for p in SramPorts)})"
        ) from None


def sram_cost(
    node: str | TechNode, capacity_bytes: int, width_bits: int = 64, ports: str | int | SramPorts = SramPorts.RW1
) -> SramCost:
    """Energy per access, leakage and area of an SRAM of `capacity_bytes` read `width_bits` at a time.

    Raises:
        SpecError: non-positive capacity or width, a width wider than the array, unknown ports or node.
    """
    n = get_node(node)
    p = _ports(ports)
    if capacity_bytes <= 0 or width_bits <= 0:
        raise SpecError(f"sram: capacity_bytes and width_bits must be > 0, got {capacity_bytes}, {width_bits}")
    if width_bits > 8 * capacity_bytes:
        raise SpecError(f"sram: width_bits ({width_bits}) exceeds the array ({8 * capacity_bytes} bits)")
    rd, wr, leak, area = _monotone(n, float(capacity_bytes), float(width_bits), p)
    return SramCost(
        capacity_bytes=int(capacity_bytes),
        width_bits=int(width_bits),
        ports=p,
        read_j=rd,
        write_j=wr,
        leakage_w=leak,
        area_mm2=area,
    )


def sram_access_energy_j(
    node: str | TechNode,
    capacity_bytes: int,
    width_bits: int = 64,
    ports: str | int | SramPorts = SramPorts.RW1,
    *,
    write: bool = False,
) -> float:
    """Energy of one `width_bits` read (or write, with ``write=True``) access (J)."""
    c = sram_cost(node, capacity_bytes, width_bits, ports)
    return c.write_j if write else c.read_j


def sram_energy_per_bit_j(
    node: str | TechNode,
    capacity_bytes: int,
    width_bits: int = 64,
    ports: str | int | SramPorts = SramPorts.RW1,
    *,
    write: bool = False,
) -> float:
    """Energy per bit moved when accessing `width_bits` at a time (J/bit)."""
    return sram_access_energy_j(node, capacity_bytes, width_bits, ports, write=write) / width_bits


def sram_leakage_w(
    node: str | TechNode, capacity_bytes: int, width_bits: int = 64, ports: str | int | SramPorts = SramPorts.RW1
) -> float:
    """Leakage power of the array (W); an upper bound below 45 nm (see module docstring)."""
    return sram_cost(node, capacity_bytes, width_bits, ports).leakage_w


def sram_area_mm2(
    node: str | TechNode, capacity_bytes: int, width_bits: int = 64, ports: str | int | SramPorts = SramPorts.RW1
) -> float:
    """Area of the array (mm^2)."""
    return sram_cost(node, capacity_bytes, width_bits, ports).area_mm2


__all__ = [
    "SramCost",
    "SramPorts",
    "sram_access_energy_j",
    "sram_area_mm2",
    "sram_cost",
    "sram_energy_per_bit_j",
    "sram_leakage_w",
]
