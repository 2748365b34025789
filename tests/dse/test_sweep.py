import csv
import json

import pytest

from reram.config import load_config
from reram.dse import expand_grid, pareto_front, run_sweep
from reram.dse.sweep import model_key, parse_grid
from reram.errors import ConfigError
from reram_testing import missing

SMALL = ['data.dataset="mnist-5k"', "data.test_subset=300", "data.calib_size=300", "train.epochs=1",
         "energy.sensitivity=false", 'device.sigma_model="constant"']


def test_grid_keys_validated_like_set():
    with pytest.raises(ConfigError, match=r"device\.program_sigma.*no effect.*sigma_model"):
        parse_grid(["device.program_sigma=0.02,0.05"], load_config())  # inert under the state-dependent preset
    cfg = load_config(None, ['device.sigma_model="constant"'])
    g = parse_grid(["adc.bits=4,6", "device.program_sigma=0.02,0.05"], cfg)
    assert g == {"adc.bits": [4, 6], "device.program_sigma": [0.02, 0.05]}
    assert len(expand_grid(g)) == 4
    with pytest.raises(ConfigError, match=r"adc\.bits"):
        parse_grid(["adc.bits=4,99"], cfg)
    with pytest.raises(ConfigError, match="nope"):
        parse_grid(["adc.nope=1"], cfg)


def test_pareto_front():
    pts = [{"point": 0, "test_accuracy_mean": 0.9, "c": 1.0}, {"point": 1, "test_accuracy_mean": 0.95, "c": 2.0},
           {"point": 2, "test_accuracy_mean": 0.94, "c": 3.0}, {"point": 3, "test_accuracy_mean": 0.95, "c": 2.5}]
    assert pareto_front(pts, "c") == [0, 1]


def test_model_reuse_key_ignores_periphery():
    a = load_config(None, ["adc.bits=4"])
    b = load_config(None, ["adc.bits=8", "array.rows=64"])
    c = load_config(None, ["train.epochs=3"])
    assert model_key(a) == model_key(b) != model_key(c)


@pytest.mark.slow
def test_sweep_runs_and_resumes(tmp_path):
    cfg = load_config(None, SMALL)
    folder = tmp_path / "sw"
    rows = run_sweep(cfg, ["adc.bits=4,8"], folder, chips=2, workers=2, progress=False)
    assert len(rows) == 4 and {r["point"] for r in rows} == {"0", "1"}
    summary = json.loads((folder / "pareto.json").read_text())
    accs = {p["params"]["adc.bits"]: p["test_accuracy_mean"] for p in summary["points"]}
    assert accs[8] >= accs[4] - 0.02
    assert (folder / "pareto_energy.png").exists() and (folder / "pareto_area.png").exists()
    html = (folder / "report.html").read_text()
    assert 'id="pareto"' in html and "data:image/png;base64," in html and "adc.bits=8" in html
    assert len(list((folder / "cache").glob("model-*.safetensors"))) == 1  # trained once
    # crash simulation: drop point 1 from the results; a re-run computes only that point
    with (folder / "results.csv").open() as fh:
        kept = [r for r in csv.DictReader(fh) if r["point"] == "0"]
    with (folder / "results.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(kept[0]))
        w.writeheader()
        w.writerows(kept)
    rows2 = run_sweep(cfg, ["adc.bits=4,8"], folder, chips=2, workers=1, progress=False)
    assert [r for r in rows2 if r["point"] == "0"] == kept
    assert sorted(r["test_accuracy"] for r in rows2) == sorted(r["test_accuracy"] for r in rows)
    with pytest.raises(ConfigError, match="different sweep"):
        run_sweep(cfg, ["adc.bits=6"], folder, chips=2, progress=False)


def test_sweep_cli_bad_grid_is_one_line(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "reram", "sweep", "--runs-dir", str(tmp_path), "--grid", "adc.bits=4,99"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "adc.bits" in lines[0]


@pytest.mark.slow
def test_explore_runs_and_resumes(tmp_path):
    from reram.dse import run_explore

    cfg = load_config(None, SMALL)
    folder = tmp_path / "ex"
    params = ["adc.bits=int:4:8", "device.program_sigma=float:0.01:0.08", "array.rows=cat:64,128"]
    cfg = load_config(None, ["data.val_size=500"], base=cfg.model_dump(mode="json"))
    res = run_explore(cfg, params, folder, trials=3, chips=1, progress=False, workers=2)
    assert res["trials"] == 3 and res["pareto"]
    assert "validation split of 500" in res["selection"]
    import optuna

    study = optuna.load_study(study_name=folder.name, storage=res["storage"])
    for p in res["pareto"]:
        assert 4 <= p["params"]["adc.bits"] <= 8 and p["params"]["array.rows"] in (64, 128)
        assert 0 < p["test_accuracy"] <= 1 and p["energy_per_inference_j"] > 0
        # the study was told validation accuracy; test accuracy is measured for the front only
        t = study.trials[p["trial"]]
        assert t.values[0] == p["validation_accuracy"]
        assert t.user_attrs["chip_accuracies_validation"] == [p["validation_accuracy"]]
    assert (folder / "study.db").exists() and (folder / "explore.json").exists()
    res2 = run_explore(cfg, params, folder, trials=4, chips=1, progress=False, workers=2)
    assert res2["trials"] == 4  # resumed: one more trial, the first three kept


def test_validation_split_is_disjoint():
    from reram.data import load_dataset, make_splits

    ds = load_dataset("mnist-5k", progress=False)
    sp = make_splits(ds, seed=0, calib_size=500, val_size=500)
    assert len(sp.val_index) == 500 and len(sp.train_index) == 4000 - 1000
    idx = [set(sp.train_index), set(sp.calib_index), set(sp.val_index)]
    assert not (idx[0] & idx[1]) and not (idx[0] & idx[2]) and not (idx[1] & idx[2])
    # without a validation split the training and calibration images are those of earlier versions
    old = make_splits(ds, seed=0, calib_size=500)
    new = make_splits(ds, seed=0, calib_size=500, val_size=0)
    assert (old.train_index == new.train_index).all() and new.val_x is None


def test_explore_param_validation():
    from reram.dse.explore import parse_param

    cfg = load_config()
    assert parse_param("adc.bits=int:4:10", cfg).kind == "int"
    for bad in ("adc.bits=int:4", "adc.bits=int:4:99", "adc.bits=weird:1:2", "adc.nope=int:1:2", "adc.bits=4"):
        with pytest.raises(ConfigError):
            parse_param(bad, cfg)


@pytest.mark.slow
def test_ray_backend_gives_identical_results(tmp_path):
    try:
        import ray  # noqa: F401
    except ImportError:
        missing("Ray is not installed (pip install -e '.[cluster]')")
    cfg = load_config(None, SMALL)
    local = run_sweep(cfg, ["adc.bits=4,8"], tmp_path / "local", chips=1, workers=2,
                      progress=False)
    on_ray = run_sweep(cfg, ["adc.bits=4,8"], tmp_path / "ray", chips=1, workers=2,
                       progress=False, backend="ray")
    key = lambda r: (r["point"], r["chip"])  # noqa: E731
    assert sorted(local, key=key) == sorted(on_ray, key=key)
    from reram.dse import run_explore

    params = ["adc.bits=int:4:8"]
    ex = run_explore(cfg, params, tmp_path / "ex-ray", trials=2, chips=1, progress=False,
                     backend="ray", workers=2)
    assert ex["trials"] == 2 and ex["pareto"]
    with pytest.raises(ConfigError, match="backend"):
        run_sweep(cfg, ["adc.bits=4"], tmp_path / "x", chips=1, backend="dask", progress=False)


def test_foreign_results_table_is_a_clear_error(tmp_path):
    folder = tmp_path / "sw"
    folder.mkdir()
    (folder / "results.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="delete it"):
        run_sweep(load_config(None, SMALL), ["adc.bits=4"], folder, chips=1, progress=False)
