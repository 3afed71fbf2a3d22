"""HBM presets against their published sources, and the per-command energy model."""

from __future__ import annotations

import dataclasses

import pytest

from cosim.errors import SpecError
from cosim.hw.memory import ENERGY_PRESETS, PRESETS, MemoryCounts, energy_preset, memory_energy_j, preset


def test_hbm2_equals_the_dramsim3_ini_neupims_uses():
    # extern/NewtonSim/configs/HBM2_8Gb_x128_dualpim.ini (NeuPIMs f299af3), [timing] section
    ini = {
        "CL": 14,
        "CWL": 4,
        "tRCDRD": 14,
        "tRCDWR": 14,
        "tRP": 14,
        "tRAS": 34,
        "tRFC": 260,
        "tREFI": 3900,
        "tRRD_S": 4,
        "tRRD_L": 6,
        "tWTR_S": 6,
        "tWTR_L": 8,
        "tFAW": 30,
        "tWR": 16,
        "tCCD_S": 1,
        "tCCD_L": 2,
    }
    p = PRESETS["HBM2"]
    assert {k: getattr(p, k) for k in ini} == ini
    assert p.tck_ps == 1000 and p.tRC == 34 + 14  # DRAMsim3: tRC = tRAS + tRP
    # [dram_structure]: 4 bank groups x 4 banks, 64 columns x 128 bit, BL 4; 2 ranks of 16 banks
    assert (p.bank_groups, p.banks_per_group, p.pseudo_channels) == (4, 4, 2)
    assert p.banks_per_channel == 32 and p.row_bytes == 64 * 128 // 8


def test_hbm3_equals_the_ramulator2_preset():
    # Ramulator 2.1 python/ramulator/dram/hbm3.py HBM3_6400Mbps
    r = {
        "CL": 20,
        "tRCDRD": 31,
        "tRCDWR": 15,
        "tRP": 26,
        "tRAS": 45,
        "tRC": 72,
        "tWR": 33,
        "tRTP": 9,
        "CWL": 10,
        "tCCD_S": 2,
        "tCCD_L": 4,
        "tRRD_S": 4,
        "tRRD_L": 5,
        "tFAW": 24,
        "tWTR_S": 7,
        "tWTR_L": 10,
        "tREFI": 6240,
    }
    p = PRESETS["HBM3"]
    assert {k: getattr(p, k) for k in r} == r
    assert p.tck_ps == 625
    assert p.tRFC == 560  # 350 ns (JESD238 Table 84, 8 Gb channel) at 0.625 ns, rounded up


@pytest.mark.parametrize("name", ["tRCDRD", "tRP", "tRAS", "tFAW", "tWR", "tRRD_L", "CL", "tREFI"])
def test_hbm2e_keeps_the_hbm2_nanoseconds(name):
    hbm2, hbm2e = PRESETS["HBM2"], PRESETS["HBM2E"]
    ns = getattr(hbm2, name) * hbm2.tck_ps / 1000
    n = getattr(hbm2e, name)
    # the smallest whole number of 0.625 ns cycles covering the HBM2 value
    assert n * 0.625 >= ns - 1e-9
    assert (n - 1) * 0.625 < ns


@pytest.mark.parametrize(
    ("name", "gb_per_s"),
    [
        ("HBM2", 128 * 2.0 / 8),  # 128-bit channel at 2 Gb/s per pin
        ("HBM2E", 128 * 3.2 / 8),  # 128-bit channel at 3.2 Gb/s per pin
        ("HBM3", 64 * 6.4 / 8),  # two 32-bit pseudo-channels at 6.4 Gb/s per pin
    ],
)
def test_peak_bandwidth_per_channel(name, gb_per_s):
    assert PRESETS[name].peak_bytes_per_s == pytest.approx(gb_per_s * 1e9)


def test_hbm2_energy_is_dramsim3s_idd_model():
    # DRAMsim3 configuration.cc with the HBM2 ini's [power] values (VDD 1.2 V, mA), tCK 1 ns
    vdd, idd0, idd2n, idd3n, idd4r, idd4w, idd5ab = 1.2, 65, 40, 55, 390, 500, 250
    e = ENERGY_PRESETS["HBM2"]
    assert e.act_pj == pytest.approx(vdd * (idd0 * 48 - (idd3n * 34 + idd2n * 14)))  # 828 pJ
    assert e.rd_pj == pytest.approx(vdd * (idd4r - idd3n) * 2)  # 804 pJ per 64 B burst
    assert e.wr_pj == pytest.approx(vdd * (idd4w - idd3n) * 2)
    assert e.ref_pj == pytest.approx(vdd * (idd5ab - idd3n) * 260)
    assert e.background_mw == pytest.approx(vdd * idd3n)
    # NeuPIMs: an all-bank COMP costs 4 reads, spread over the 32 banks it drives
    assert e.mac_pj_per_bank * 32 == pytest.approx(4 * e.rd_pj)


def test_fgdram_energies_for_hbm3():
    # O'Connor et al. MICRO'17 per-bit energies: ACT 0.11 pJ/b of a 1 KB row; a 32 B read pays
    # cell 0.44 + 1.01 + 1.23 + 0.5 + 0.3 pJ/b
    e = ENERGY_PRESETS["HBM3"]
    assert e.act_pj == pytest.approx(0.11 * 8192)
    assert e.rd_pj == pytest.approx((0.44 + 1.01 + 1.23 + 0.5 + 0.3) * 256)


def test_energy_is_counts_times_table_plus_background():
    e = energy_preset("HBM2")
    c = MemoryCounts(act=3, rd=5, wr=7, ref=2, mac_bank_ops=11, rdres=13, gwrite_bursts=17)
    out = memory_energy_j(c, e, seconds=1e-3, channels=4, pim_buffers=True)
    pj = 1e-12
    assert out["dram_act"] == pytest.approx(3 * e.act_pj * pj)
    assert out["dram_rd"] == pytest.approx(5 * e.rd_pj * pj)
    assert out["pim_mac"] == pytest.approx(11 * e.mac_pj_per_bank * pj)
    assert out["pim_gwrite"] == pytest.approx(17 * e.rd_pj * pj)
    assert out["dram_background"] == pytest.approx(e.background_mw * 1e-3 * 1e-3 * 4)
    assert out["pim_background"] == pytest.approx(e.pim_buffer_background_mw * 1e-3 * 1e-3 * 4)


def test_unknown_preset_names_the_allowed_ones():
    with pytest.raises(SpecError, match=r"HBM4.*allowed: HBM2, HBM2E, HBM3"):
        preset("HBM4")


def test_inconsistent_timing_is_rejected():
    with pytest.raises(SpecError, match="tRC"):
        dataclasses.replace(PRESETS["HBM2"], tRC=20)
    with pytest.raises(SpecError, match="tCCD_L"):
        dataclasses.replace(PRESETS["HBM2"], tCCD_L=1, tCCD_S=2)
