"""Constrained-random designs for the RTL: random legal combinations of the network's geometry and the machine's
parameters, each with random weights (compiled without training) and random inputs.

Drawn per seed:

* network: a (C, H, W) input with H != W allowed; one or two convolutions, each with its own kernel (kh, kw),
  stride (sh, sw) and padding (ph, pw), a ReLU, and optionally pooling (max or average; its own window and stride);
  then a dense layer (some designs get a hidden dense layer too);
* arrays: rows and columns;
* RTL: the array group, ADC lanes per array, activation lanes, input port width, ADC and array latencies;
* converters: DAC mode (multilevel, bit-serial, integrating with 1 or 2 phases) and bits; weight slices and cell
  bits; ADC bits; a signed or unipolar ADC on the hidden layers.

A draw that the compiler or the RTL's limits reject is drawn again (the next sub-seed), so every seed gives a
design the RTL must run. Used by tests/rtl/test_random_configs.py (a fixed seed list) and
benchmarks/rtl_random_configs.py (a longer sweep)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import nn

from reram.errors import CompileError, ConfigError


def _conv_params(rng: np.random.Generator, h: int, w: int) -> tuple[tuple, tuple, tuple, int, int]:
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    p = (int(rng.integers(0, min(k[0], 2))), int(rng.integers(0, min(k[1], 2))))
    ho, wo = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    return k, s, p, ho, wo


def draw(seed: int) -> tuple[nn.Module, list[int], list[str], dict]:
    """(model, in_shape, config overrides, description) of one random draw."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(4, 10)), int(rng.integers(4, 10))
    mods: list[nn.Module] = []
    desc: dict = {"in_shape": [c, h, w], "layers": []}
    ch = c
    for li in range(int(rng.integers(1, 3))):
        k, s, p, ho, wo = _conv_params(rng, h, w)
        if ho < 1 or wo < 1:
            break
        out = int(rng.integers(2, 5))
        mods += [nn.Conv2d(ch, out, k, stride=s, padding=p), nn.BatchNorm2d(out), nn.ReLU()]
        desc["layers"].append({"conv": out, "kernel": k, "stride": s, "padding": p, "out_hw": (ho, wo)})
        ch, h, w = out, ho, wo
        kind = rng.choice(["none", "max", "avg"])
        if kind != "none" and li == 0 and h >= 2 and w >= 2:
            pk = (int(rng.integers(1, min(3, h) + 1)), int(rng.integers(1, min(3, w) + 1)))
            if pk != (1, 1):
                ps = (int(rng.integers(1, pk[0] + 1)), int(rng.integers(1, pk[1] + 1)))
                mods.append((nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(pk, stride=ps))
                h, w = (h - pk[0]) // ps[0] + 1, (w - pk[1]) // ps[1] + 1
                desc["layers"][-1]["pool"] = {"kind": str(kind), "window": pk, "stride": ps}
    mods.append(nn.Flatten())
    n = ch * h * w
    if rng.random() < 0.4:
        hid = int(rng.integers(3, 12))
        mods += [nn.Linear(n, hid), nn.BatchNorm1d(hid), nn.ReLU()]
        desc["layers"].append({"dense": hid})
        n = hid
    mods.append(nn.Linear(n, 5))
    mode = str(rng.choice(["multilevel", "bit_serial", "integrating"]))
    dac_bits = int(rng.choice([4, 6, 8]))
    phases = int(rng.choice([1, 2])) if mode == "integrating" else 1
    slices = int(rng.choice([1, 2]))
    sets = [
        f"array.rows={int(rng.choice([8, 16, 32]))}", f"array.cols={int(rng.choice([4, 8, 16]))}",
        f"dac.mode={mode}", f"dac.bits={dac_bits}", f"dac.phases={phases}",
        f"device.slices={slices}", f"device.cell_bits={2 if slices == 2 else int(rng.choice([2, 4]))}",
        f"adc.bits={int(rng.choice([5, 6, 8]))}",
        f"rtl.array_group={int(rng.choice([0, 0, 1, 2]))}", f"rtl.adcs_per_array={int(rng.choice([1, 2, 3, 4]))}",
        f"rtl.act_lanes={int(rng.integers(1, 5))}", f"rtl.input_codes_per_cycle={int(rng.integers(1, 9))}",
        f"rtl.adc_latency={int(rng.integers(1, 4))}", f"rtl.array_latency={int(rng.integers(1, 4))}",
    ]
    desc["config"] = sets
    desc["adc_signed_hidden"] = bool(rng.random() < 0.7)
    return nn.Sequential(*mods), [c, desc["in_shape"][1], desc["in_shape"][2]], sets, desc


def random_design(seed: int, n_samples: int = 6):
    """(cm, chip, x_codes, cfg, description): the first legal draw of ``seed`` (sub-seeds seed * 1000 + k)."""
    from reram.chip.device import noise_free
    from reram.chip.program import program_chip
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.golden import pixel_codes
    from reram.pipeline.flows import FLOW_SPECS, compile_flow
    from reram.rtl.params import rtl_params, rtl_supported

    errors = []
    for k in range(40):
        sub = seed * 1000 + k
        torch.manual_seed(sub)
        model, in_shape, sets, desc = draw(sub)
        try:
            cfg = load_config(None, ["calibration.finetune_iters=0", *sets])
            model.eval()
            dev = replace(noise_free(resolve_device(cfg)), program_sigma=0.05, sigma_model="constant")
            rng = np.random.default_rng(sub)
            n_in = int(np.prod(in_shape))
            calib = rng.random((200, n_in), dtype=np.float32)
            cm = compile_flow(model, cfg, dev, FLOW_SPECS["ideal"], calib, progress=False, in_shape=in_shape)
            if not desc["adc_signed_hidden"]:
                for layer in cm.layers[:-1]:
                    layer.adc_signed = False
            rtl_supported(rtl_params(cm, cfg.rtl))
        except (ConfigError, CompileError) as e:
            errors.append(f"{sub}: {e}")
            continue
        chip = program_chip(cm, dev, seed=sub)
        x = pixel_codes(cm, rng.random((n_samples, n_in), dtype=np.float32))
        return cm, chip, x, cfg, desc | {"sub_seed": sub, "rejected": len(errors)}
    raise AssertionError(f"seed {seed}: no legal draw in 40 tries: {errors[-3:]}")
