import json
import subprocess
import sys

import pytest

from reram.cli.main import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "reram", *args], capture_output=True, text=True, cwd=cwd)


def test_bad_set_value_exits_2_with_one_line(tmp_path):
    r = run_cli("run", "--runs-dir", str(tmp_path), "--set", "train.epochs=abc")
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "train.epochs" in lines[0] and "Traceback" not in r.stderr
    assert not any(tmp_path.iterdir())


def test_debug_shows_traceback(tmp_path):
    r = run_cli("--debug", "run", "--runs-dir", str(tmp_path), "--set", "train.epochs=abc")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_config_show_and_init(tmp_path, capsys):
    assert main(["config", "show", "--set", "train.epochs=4"]) == 0
    assert "epochs = 4" in capsys.readouterr().out
    f = tmp_path / "c.toml"
    assert main(["config", "init", str(f)]) == 0
    assert main(["config", "init", str(f)]) == 2
    assert main(["config", "show", "--config", str(f)]) == 0


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "reram" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["run", "--bogus"], ["nosuchcommand"]])
def test_usage_errors_exit_2(args):
    assert main(args) == 2


def test_cli_end_to_end_subset(tmp_path):
    r = run_cli("run", "--runs-dir", str(tmp_path), "--name", "e2e", "--quiet", "--set", 'data.dataset="mnist-5k"',
                "--stages", "data,train", "--set", "data.train_subset=2000", "--set", "data.test_subset=500",
                "--set", "train.epochs=2")
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "e2e" / "metrics.json").read_text())
    assert m["software"]["test_samples"] == 500
    assert m["meta"]["stages_completed"] == ["data", "train"]
    assert "test accuracy" in r.stdout


def test_run_folder_commands(small_full_run, capsys):
    d = str(small_full_run.run_dir)
    assert main(["compare", d, d]) == 0
    out = capsys.readouterr().out
    assert "analog.test_accuracy_mean" in out and "+0" in out
    # the dataset and whether it is the fallback lead the table, without --all
    assert out.index("meta.dataset.fallback") < out.index("software.test_accuracy")
    assert "mnist-5k" in out
    assert main(["report", d, "--quiet"]) == 0
    assert main(["energy", d, "--quiet", "--preset", "neurosim-22nm"]) == 0
    out = capsys.readouterr().out
    assert "neurosim-22nm" in out and "system" in out
    assert main(["energy", d, "--quiet", "--preset", "bogus"]) == 2
    assert main(["compare", d, "/nonexistent"]) == 2
    assert main(["report", "/nonexistent"]) == 2
