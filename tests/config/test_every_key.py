"""Every configuration key, set in turn to a value other than its default, either changes some output of the run
or is refused with an error that names the key and why it would do nothing.

The outputs are those of a small real run (data, train, compile, analog, calibrate, sensitivity, energy) plus the
co-simulation plan (RTL parameters, analytic cycles, watchdog budget, samples), so that no Verilator build is
needed per key. A few keys are operational: they change how a run is done, never its figures; each of those is
checked for exactly that.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil

import pytest

from reram.config import load_config
from reram.config.loader import config_schema_keys
from reram.errors import ReramError

pytestmark = pytest.mark.slow

STAGES = ["data", "train", "compile", "analog", "calibrate", "sensitivity", "energy"]
# a small network on 64 x 64 arrays: each key's run takes about 2 s (the default MLP on 128 x 128 arrays, 7 s)
BASE = ["data.train_subset=400", "data.test_subset=120", "data.calib_size=100",
        "train.epochs=1", "train.batch_size=64", "model.hidden=[32]", "array.rows=64", "array.cols=64",
        "calibration.finetune_iters=4", "calibration.finetune_batch=32",
        "calibration.ablation_chips=1", "analog.chips=1", "analog.sensitivity_chips=0", "energy.sensitivity=false",
        "energy.samples=20",
        "rtl.samples=20", f"run.stages={json.dumps(STAGES)}", "run.workers=1"]

# a value other than the base configuration's, for every key
VALUES: dict[str, object] = {
    "data.dataset": "fashion-mnist", "data.dir": "<copy>", "data.download": False, "data.verify": False,
    "data.train_subset": 300, "data.test_subset": 100, "data.calib_size": 80, "data.val_size": 50,
    "model.arch": "lenet5", "model.hidden": [16], "model.batchnorm": False,
    "model.layers": [{"op": "linear", "out": 10}],
    "train.epochs": 2, "train.batch_size": 32, "train.lr": 1e-2, "train.weight_decay": 1e-2, "train.threads": 2,
    "train.label_smoothing": 0.1,
    "train.hwa": True, "train.hwa_noise_scale": 2.0, "train.augment": "on",
    "program.verify_cycles": 2, "program.tolerance": 2e-6, "program.pulses_per_write": 4.0,
    "device.preset": "ideal", "device.g_min": 4e-6, "device.g_max": 60e-6, "device.cell_bits": 3, "device.slices": 2,
    "device.program_sigma": 0.05, "device.sigma_model": "constant", "device.read_noise": 0.05,
    "device.read_noise_mode": "cell", "device.stuck_low": 0.01, "device.stuck_high": 0.01, "device.drift_nu": 0.05,
    "device.drift_nu_std": 0.01, "device.drift_t0": 10.0, "device.drift_time": 100.0,
    "device.drift_compensation": True, "device.grid_sub_bits": 6,
    "array.rows": 32, "array.cols": 32, "array.differential": "rows", "array.wire_resistance": 5.0,
    "array.ir_drop": "off",
    "dac.bits": 6, "dac.mode": "bit_serial", "dac.v_read": 0.3, "dac.phases": 2, "dac.phase_bits": [5, 3],
    "adc.phase_bits": [6],
    "adc.bits": 6, "adc.percentile": 99.0,
    "calibration.flow": "naive", "calibration.act_percentile": 99.0, "calibration.fit": "offset",
    "calibration.weight_scale": "column",
    "calibration.finetune_iters": 2, "calibration.finetune_lr": 1e-2, "calibration.finetune_batch": 16,
    "calibration.ablation": False, "calibration.ablation_chips": 2, "calibration.ablation_samples": 20,
    "calibration.ablation_second_network": False,
    "analog.chips": 2, "analog.batch_size": 7, "analog.device": "cuda", "analog.sensitivity_chips": 1,
    "analog.sensitivity_samples": 20,
    "rtl.adcs_per_array": 4, "rtl.adc_latency": 2, "rtl.array_latency": 2, "rtl.clock_hz": 200e6, "rtl.samples": 10,
    "rtl.act_lanes": 3, "rtl.array_group": 2, "rtl.input_codes_per_cycle": 16, "rtl.watchdog_factor": 8.0,
    "rtl.stress": False, "rtl.sim_workers": 2, "train.optimizer": "sgd",
    "energy.preset": "isaac-22nm-scaled", "energy.samples": 10, "energy.sensitivity": True,
    "energy.preset_file": "<preset>",
    "run.seed": 3, "run.stages": ["data", "train"], "run.threads": 2, "run.workers": 2,
}

# Keys that change how a run is done, not its figures, and what each must (not) change.
OPERATIONAL = {
    "analog.batch_size": "batching of the engine: read noise is drawn per batch (another batch size, another "
                         "noise realization); with read noise off the figures must be identical",
    "data.download": "only acts when files are missing (checked below with an empty folder)",
    "train.threads": "torch threads for training: recorded in meta.threads",
    "run.threads": "torch threads of the later stages: the figures must be identical, the count recorded",
    "run.workers": "processes for the ablation's second network and the sensitivity points: the figures must be "
                   "identical, the count recorded",
    "rtl.sim_workers": "simulators of the cosim stage (not run here): the same codes, cycles and event counts, "
                       "tests/rtl/test_cosim.py::test_side_by_side_simulators_give_one_simulators_results",
}


@pytest.fixture(scope="module")
def fingerprint(tmp_path_factory, mnist_dir):
    from reram.data import datasets
    from reram.pipeline import execute
    from reram.rtl.cosim import cosim_plan

    load = functools.lru_cache(maxsize=8)(datasets.load_dataset)
    runs = tmp_path_factory.mktemp("every_key")
    counter = iter(range(10**6))

    def _fp(cfg) -> dict:
        mp = pytest.MonkeyPatch()
        mp.setattr(datasets, "load_dataset", load)
        try:
            ctx = execute(cfg, runs, name=f"k{next(counter)}", progress=False)
        finally:
            mp.undo()
        m = json.loads(json.dumps(ctx.metrics))
        m.pop("timing")
        for k in ("run_name", "versions", "threads"):
            m["meta"].pop(k)
        out = {"metrics": m}
        for f in ("model.safetensors", "compiled/ir.json", "compiled/ir.npz", "chip0.npz"):
            p = ctx.path(f)
            out[f] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
        if ctx.path("compiled/ir.json").exists():
            n = min(cfg.rtl.samples, len(ctx.splits.test_y))
            out["cosim_plan"] = cosim_plan(ctx.compiled, cfg.rtl, n)
        out["_threads"] = ctx.metrics["meta"]["threads"]
        return out

    return _fp


def test_values_cover_every_key():
    assert set(VALUES) == set(config_schema_keys())


def test_every_key_changes_an_output_or_is_refused(fingerprint, mnist_dir, tmp_path):
    base_dump = load_config(None, [*BASE, f"data.dir={json.dumps(str(mnist_dir))}"]).model_dump(mode="json")
    base = load_config(None, [], base=base_dump)
    ref = fingerprint(base)
    copy_dir = tmp_path / "mnist-copy"
    shutil.copytree(mnist_dir, copy_dir)
    inert, refused, changed = [], {}, []
    for key, value in VALUES.items():
        if value == "<copy>":
            value = str(copy_dir)
        if value == "<preset>":  # the built-in preset with its ADC energy doubled
            from reram.energy import get_preset

            text = get_preset("isaac-32nm").to_toml().replace("8 = 1.5625e-12", "8 = 3.125e-12")
            value = str(copy_dir.parent / "preset.toml")
            (copy_dir.parent / "preset.toml").write_text(text)
        assignment = f"{key}={json.dumps(value)}"
        try:
            cfg = load_config(None, [assignment], base=base_dump)
            fp = fingerprint(cfg)
        except ReramError as e:
            refused[key] = str(e)
            assert key in str(e), f"{key}: the error does not name the key: {e}"
            continue
        same = {k: v for k, v in fp.items() if k != "_threads"} == {k: v for k, v in ref.items() if k != "_threads"}
        if key in OPERATIONAL:
            if key == "analog.batch_size":
                quiet = load_config(None, ["device.read_noise=0"], base=base_dump).model_dump(mode="json")
                a = fingerprint(load_config(None, [], base=quiet))
                b = fingerprint(load_config(None, [assignment], base=quiet))
                a.pop("_threads"), b.pop("_threads")
                assert a == b, "the engine's batch size changed noise-free figures"
            if key == "train.threads":
                assert fp["_threads"]["train"] == 2
            if key == "run.threads":
                assert fp["_threads"]["run"] == 2
                assert fp["cosim_plan"] == ref["cosim_plan"] and fp["chip0.npz"] == ref["chip0.npz"]
            if key == "run.workers":
                assert fp["_threads"]["workers"] == 2 and same, "the worker count changed figures"
            continue
        if same:
            inert.append(key)
        else:
            changed.append(key)
    assert inert == [], f"keys that changed nothing and were not refused: {inert}"
    # the refusals this configuration must give: inert keys, and settings this machine cannot run
    assert set(refused) >= {"device.program_sigma", "device.drift_nu", "device.drift_time", "data.dataset",
                            "dac.phases", "dac.phase_bits", "adc.phase_bits", "train.hwa_noise_scale"}
    for key in ("device.program_sigma", "device.drift_nu", "device.drift_time", "device.drift_t0"):
        assert "has no effect" in refused[key]


def test_download_false_does_not_fetch(tmp_path):
    from reram.data import load_dataset

    ds = load_dataset("mnist", tmp_path, download=False, progress=False)
    assert ds.fallback and not any(tmp_path.iterdir())
