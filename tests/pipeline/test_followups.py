"""Follow-up commands record their results under their own name and never rewrite the run's record."""

from __future__ import annotations

import json
import shutil

import pytest

from reram.cli.main import main

pytestmark = pytest.mark.rtl


@pytest.fixture()
def run_copy(small_full_run, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(small_full_run.run_dir, d)
    return d


def test_followups_do_not_rewrite_the_run(run_copy, capsys):
    before = json.loads((run_copy / "metrics.json").read_text())
    config_before = (run_copy / "config.toml").read_text()
    d, data = str(run_copy), ["--quiet"]
    assert main(["cosim", d, "--samples", "200", *data]) == 0
    assert main(["energy", d, "--preset", "isaac-22nm-scaled", *data]) == 0
    after = json.loads((run_copy / "metrics.json").read_text())
    for section in ("cosim", "energy", "calibration", "analog", "software"):
        assert after[section] == before[section], section
    assert (run_copy / "config.toml").read_text() == config_before
    fu = after["followups"]
    assert set(fu) == {"cosim samples=200", "energy preset=isaac-22nm-scaled"}
    assert fu["cosim samples=200"]["results"]["samples"] == 200
    assert fu["cosim samples=200"]["options"] == {"samples": 200, "waves": None, "stress": None}
    assert fu["cosim samples=200"]["results"]["stress_samples"] > 10  # by default (rtl.stress)
    assert fu["energy preset=isaac-22nm-scaled"]["results"]["preset"] == "isaac-22nm-scaled"
    log = (run_copy / "run.log").read_text()
    assert "follow-up 'cosim'" in log and "follow-up 'energy'" in log
    assert main(["report", d, "--quiet"]) == 0
    html = (run_copy / "report.html").read_text()
    assert "reram cosim samples=200" in html and "reram energy preset=isaac-22nm-scaled" in html
    capsys.readouterr()


def test_followup_option_errors_and_sample_counts(run_copy, capsys):
    d, data = str(run_copy), ["--quiet"]
    assert main(["energy", d, "--preset", "bogus", *data]) == 2
    err = capsys.readouterr().err
    assert "--preset" in err and "--set" not in err
    assert main(["cosim", d, "--samples", "0", *data]) == 2
    assert main(["cosim", d, "--samples", "999999", *data]) == 0
    out = capsys.readouterr().out
    rec = json.loads((run_copy / "metrics.json").read_text())["followups"]["cosim samples=999999"]["results"]
    assert rec["samples_requested"] == 999999 and rec["samples"] == 1000  # the test split of this run
    assert "of 999999 requested" in out
