"""Interrupted runs, resume, reproducibility, and the no-pickle rule."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reram.config import load_config
from reram.pipeline import execute

SRC = Path(__file__).resolve().parents[2] / "src"
SMALL = ['data.dataset="mnist-5k"', "data.test_subset=500", "data.calib_size=500", "analog.chips=2",
         "calibration.finetune_iters=10", "calibration.ablation=false", "analog.sensitivity_chips=0"]


def _default_sigint() -> None:
    # a run started from a non-interactive shell's background job inherits SIGINT ignored: restore the default
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(*args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.Popen([sys.executable, "-m", "reram", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, **kw)


def _signal_during_training(runs: Path, name: str, sets: list[str], sig: int, delay: float) -> subprocess.Popen:
    """Start a real ``reram run``, wait until its training starts, wait ``delay`` s more, send ``sig``."""
    args = ["run", "--runs-dir", str(runs), "--name", name, "--quiet"]
    for s in sets:
        args += ["--set", s]
    proc = _cli(*args)
    log = runs / name / "run.log"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and "stage train: start" in log.read_text()):
        time.sleep(0.2)
    time.sleep(delay)
    proc.send_signal(sig)
    return proc


@pytest.mark.slow
def test_sigkill_during_training_then_resume(tmp_path):
    sets = [*SMALL, "train.epochs=40", 'run.stages=["data", "train", "compile"]']
    args = ["run", "--runs-dir", str(tmp_path), "--name", "k", "--quiet"]
    for s in sets:
        args += ["--set", s]
    proc = _signal_during_training(tmp_path, "k", sets, signal.SIGKILL, 1.5)
    proc.wait(timeout=30)
    folder = tmp_path / "k"
    visible = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert "model.safetensors" not in visible  # training never finished: no file pretends it did
    m = json.loads((folder / "metrics.json").read_text())
    assert m["meta"]["stages_completed"] == ["data"]
    load_config(folder / "config.toml")  # complete and valid
    # an existing folder is never overwritten without --force
    again = _cli(*args)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 2 and "--force" in err
    # --resume continues from the last completed stage, with the saved configuration
    res = _cli("run", "--runs-dir", str(tmp_path), "--resume", "k", "--quiet")
    _out, err = res.communicate(timeout=600)
    assert res.returncode == 0, err
    m = json.loads((folder / "metrics.json").read_text())
    assert m["meta"]["stages_completed"] == ["data", "train", "compile"]
    assert m["software"]["epochs"] == 40
    assert not list(folder.rglob(".*.tmp"))


@pytest.mark.slow
def test_same_seed_gives_identical_metrics(tmp_path):
    cfg = load_config(None, [*SMALL, "train.epochs=2", "run.seed=5"])
    stages = ["data", "train", "compile", "analog", "energy"]
    a = execute(cfg, tmp_path / "a", name="r", stages=stages, progress=False)
    b = execute(cfg, tmp_path / "b", name="r", stages=stages, progress=False)
    ma = json.loads((a.run_dir / "metrics.json").read_text())
    mb = json.loads((b.run_dir / "metrics.json").read_text())
    ma.pop("timing")
    mb.pop("timing")
    assert ma == mb
    ta = (a.run_dir / "metrics.json").read_text()
    tb = (b.run_dir / "metrics.json").read_text()
    strip = re.compile(r'"timing": \{.*?\n  \}', re.S)
    assert strip.sub("", ta) == strip.sub("", tb)  # byte-identical apart from timing
    assert (a.run_dir / "chip0.npz").read_bytes() == (b.run_dir / "chip0.npz").read_bytes()
    # another seed: other chips
    cfg2 = load_config(None, [*SMALL, "train.epochs=2", "run.seed=6"])
    c = execute(cfg2, tmp_path / "c", name="r", stages=stages, progress=False)
    mc = json.loads((c.run_dir / "metrics.json").read_text())
    assert mc["analog"]["chip_seeds"] != ma["analog"]["chip_seeds"]


def test_no_pickle_anywhere():
    """No unpickling, exec or eval anywhere, with one checked exception: CIFAR-10's python archive is pickles, read by
    ``reram.data.cifar``'s unpickler that resolves no global but numpy's array constructors (its refusal of any other
    is tested in tests/data/test_cifar10.py)."""
    offenders = []
    cifar = SRC / "reram" / "data" / "cifar.py"
    text = cifar.read_text()
    assert "class SafeUnpickler(pickle.Unpickler):" in text and "def find_class(" in text
    assert not re.search(r"\bpickle\.loads?\(|\bpickle\.Unpickler\(", text)  # every unpickling goes through it
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        for i, line in enumerate(text.splitlines(), 1):
            if path == cifar and line.strip() == "import pickle":
                continue
            if re.search(r"\bimport pickle\b|\bpickle\.load|(?<![.\w])exec\(|(?<![.\w])eval\(", line):
                offenders.append(f"{path}:{i}: {line.strip()}")
            if "torch.load(" in line and "weights_only=True" not in line:
                offenders.append(f"{path}:{i}: {line.strip()}")
            if "np.load(" in line and "allow_pickle=False" not in line:
                offenders.append(f"{path}:{i}: {line.strip()}")
    assert not offenders, offenders


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/../../b", "..", "x\n", "con:"])
def test_run_names_cannot_escape(tmp_path, name):
    r = subprocess.run([sys.executable, "-m", "reram", "run", "--runs-dir", str(tmp_path / "runs"), "--name", name,
                        "--stages", "data"], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(SRC)))
    assert r.returncode == 2 and "bad run name" in r.stderr
    assert not (tmp_path / "escape").exists()


@pytest.mark.slow
def test_sigint_during_training_exits_130_with_resume_hint(tmp_path):
    sets = [*SMALL, "train.epochs=300", 'run.stages=["data", "train"]']
    proc = _signal_during_training(tmp_path, "i", sets, signal.SIGINT, 1.0)
    log = tmp_path / "i" / "run.log"
    _, err = proc.communicate(timeout=60)
    # 130, or killed by the SIGINT itself after the handled interrupt (seen once in CI under parallel load, root
    # cause open): a shell reports both as 130; the line, the log and the metrics below are checked either way
    assert proc.returncode in (130, -signal.SIGINT), err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "stage 'train'" in lines[0] and f"--resume i --runs-dir {tmp_path}" in lines[0]
    assert "stage train: interrupted" in log.read_text()
    m = json.loads((tmp_path / "i" / "metrics.json").read_text())
    assert m["meta"]["stages_completed"] == ["data"]


def test_failed_run_does_not_block_its_retry(tmp_path):
    base = ["run", "--runs-dir", str(tmp_path), "--name", "f", "--quiet"]
    bad = _cli(*base, "--stages", "data,nosuchstage")
    _, err = bad.communicate(timeout=120)
    assert bad.returncode == 2 and "nosuchstage" in err
    assert not (tmp_path / "f").exists()
    # a folder such a failure left behind in an older version (config.toml and an empty run.log) is reused
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "config.toml").write_text("")
    (tmp_path / "f" / "run.log").write_text("")
    ok = _cli(*base, "--stages", "data")
    _, err = ok.communicate(timeout=120)
    assert ok.returncode == 0, err
    assert json.loads((tmp_path / "f" / "metrics.json").read_text())["meta"]["stages_completed"] == ["data"]


@pytest.mark.slow
def test_rtl_width_overflow_is_a_compile_time_error(tmp_path):
    args = ["run", "--runs-dir", str(tmp_path), "--name", "w", "--quiet",
            "--stages", "data,train,compile,analog,cosim", "--set", "array.rows=2", "--set", "train.epochs=1",
            "--set", "calibration.finetune_iters=0"]
    for s in SMALL:
        args += ["--set", s]
    proc = _cli(*args)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "392 row tiles" in lines[0] and "array.rows" in lines[0], err
    m = json.loads((tmp_path / "w" / "metrics.json").read_text())
    assert m["meta"]["stages_completed"] == ["data", "train"]  # it failed in compile, before the analog stage
