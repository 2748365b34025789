"""Latent RTL faults at the edges of what the configuration allows, each co-simulated end to end: 64 activation
lanes all writing in one cycle (the per-cycle output-write count must not wrap), and more than 8 layers (the
host-visible controller-state registers must build, and report every layer)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from reram.errors import CosimError
from reram.golden import golden_forward
from reram.ir.addrmap import REG, STATE_WORDS, addr
from reram.rtl.bridge import RtlSim, layer_states
from reram.rtl.build import HDL_FILES, build_library, hdl_dir, write_headers
from reram.rtl.cosim import run_cosim
from reram.rtl.images import build_image
from reram.rtl.params import MAX_LAYERS, rtl_params

pytestmark = [pytest.mark.rtl, pytest.mark.slow]  # Verilator builds


def mlp_design(widths: list[int], *sets: str, n_in: int = 16, seed: int = 0, n_samples: int = 4):
    """(cm, chip, x_codes, cfg): a random MLP n_in-widths[0]-...-widths[-1] (ReLU between the linear layers, the last
    one the classes), compiled without training and programmed with 5 % variation, like
    :func:`reram_designs.tiny_design`."""
    from dataclasses import replace

    import torch

    from reram.chip.device import noise_free
    from reram.chip.program import program_chip
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.golden import pixel_codes
    from reram.models.nets import build_model
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    torch.manual_seed(seed)
    layers: list[dict] = [{"op": "flatten"}]
    for k, w in enumerate(widths):
        layers.append({"op": "linear", "out": w})
        if k < len(widths) - 1:
            layers.append({"op": "relu"})
    spec = {"arch": "layers", "in_shape": [1, 1, n_in], "classes": widths[-1], "layers": layers}
    model = build_model(spec).eval()
    cfg = load_config(None, ["calibration.finetune_iters=0", *sets])
    dev = replace(noise_free(resolve_device(cfg)), program_sigma=0.05, sigma_model="constant")
    rng = np.random.default_rng(seed)
    cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], rng.random((300, n_in), dtype=np.float32),
                      progress=False)
    chip = program_chip(cm, dev, seed=3)
    x = pixel_codes(cm, rng.random((n_samples, n_in), dtype=np.float32))
    return cm, chip, x, cfg


def _check_cosim(res, cm, n):
    hidden = sum(ly.out_size for ly in cm.layers[:-1])
    assert res.compared_codes == n * (hidden + cm.layers[-1].out_features)
    assert res.mismatched_codes == 0 and res.mismatched_predictions == 0, res.mismatches
    assert res.cycles_match, res.first_cycle_mismatch
    for k, v in res.golden_events.items():
        assert res.events[k] == v, (k, res.events[k], v)


def _wide_design():
    return mlp_design([64, 5], "array.rows=64", "array.cols=128", "rtl.act_lanes=64", "rtl.adcs_per_array=8")


def test_64_activation_lanes_count_every_output_write(toolchain):
    """rtl.act_lanes = 64 (the schema's maximum) and a 64-output layer: all 64 lanes finish in the same cycle. The
    per-cycle count of output writes was 6 bits wide and wrapped to 0 there, so the output-buffer write counter
    missed every write of that layer."""
    cm, chip, x, cfg = _wide_design()
    assert cfg.rtl.act_lanes == 64 and cm.layers[0].out_features == 64
    m = rtl_params(cm, cfg.rtl)
    assert m.layers[0].act_steps == 1  # one activation step: every lane of layer 0 is valid in the same cycle
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4)
    assert res.events["output_buffer_writes"] == res.golden_events["output_buffer_writes"] == len(x) * (64 + 5)
    _check_cosim(res, cm, len(x))


N_DEEP = 18  # layers: more than the 16 4-bit states of two 32-bit words of the STATES window


def _deep_design():
    return mlp_design([8] * (N_DEEP - 1) + [5], "array.rows=16", "array.cols=16", "rtl.adcs_per_array=2",
                      n_samples=4)


@pytest.mark.parametrize("design", ["18-layers", "64-lanes"])
def test_edge_designs_lint_clean(tmp_path, toolchain, design):
    """verilator --lint-only -Wall of the whole design at the edges. 18 layers: the controller-state word was
    {(32 - 4 * N_LAYERS) zeros, the states}, a negative replication above 8 layers (the RTL allows MAX_LAYERS)."""
    assert N_DEEP <= MAX_LAYERS
    cm, _, _, cfg = _deep_design() if design == "18-layers" else _wide_design()
    write_headers(tmp_path, rtl_params(cm, cfg.rtl))
    srcs = [str(hdl_dir() / f) for f in HDL_FILES]
    res = subprocess.run([str(toolchain.verilator), "--lint-only", "-Wall", "-I" + str(tmp_path),
                          "-I" + str(hdl_dir()), "--top-module", "reram_top", *srcs], capture_output=True, text=True)
    assert res.returncode == 0 and "%Warning" not in res.stderr, res.stderr[-3000:]


def test_more_than_8_layers_cosim_and_states(toolchain):
    """An 18-layer MLP builds, matches the golden model bit for bit (and the schedule and the event counters), and the
    host reads every layer's controller state: layers 8k .. 8k + 7 in the word STATES + k; the watchdog names all of
    them."""
    cm, chip, x, cfg = _deep_design()
    assert len(cm.layers) == N_DEEP
    res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4)
    _check_cosim(res, cm, len(x))
    assert res.latency_cycles == res.analytic_latency_cycles

    m = rtl_params(cm, cfg.rtl)
    lib, _ = build_library(m, progress=False)
    xs = np.ascontiguousarray(x[:1], np.uint16)
    with RtlSim(lib) as sim:
        sim.write_block(*build_image(cm, chip, m))
        assert all(sim.read(addr("REG", REG["STATES"] + k)) == 0 for k in range(STATE_WORDS))
        # the watchdog stops the run while the last layers work on sample 0: they are not idle then
        stop = m.schedule(1)[0] - 2
        with pytest.raises(CosimError, match=r"hang: sample 0 ") as e:
            sim.run_batch(xs, 5, stop, None, N_DEEP)
        msg = str(e.value)
        names = msg.split("controllers: ")[1].split(", ")
        assert [n.split()[1] for n in names] == [str(i) for i in range(N_DEEP)], msg
        states = [n.split()[2] for n in names]
        assert "?" not in states and states[-1] != "IDLE", msg
        # the registers hold what the watchdog reported (the simulator stopped there)
        word = sum(sim.read(addr("REG", REG["STATES"] + k)) << (32 * k) for k in range(STATE_WORDS))
        assert layer_states(word, N_DEEP) == states
        sim.reset()
        sim.write_block(*build_image(cm, chip, m))
        logits, _, cycles, _ = sim.run_batch(xs, 5, 10**6)
        np.testing.assert_array_equal(logits, golden_forward(cm, chip, x[:1]).logits)
        assert cycles.tolist() == m.schedule(1)
