"""The engine (float64, no read noise, ideal periphery) agrees with the bit-exact integer model."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from reram.analog import AnalogModel
from reram.chip.device import noise_free
from reram.golden import golden_forward, pixel_codes


def engine_logits_int(cm, model, codes):
    with torch.no_grad():
        h = torch.from_numpy(codes.astype(np.float64))
        for layer in model.layers[:-1]:
            h = layer(h, model.noise_gen)
        acc = model.layers[-1].forward_acc(h, model.noise_gen)
    last = cm.layers[-1]
    return acc.numpy().astype(np.int64) * last.req_mult + last.req_bias, acc


@pytest.mark.parametrize(
    "sets",
    [
        (),
        ("dac.mode=bit_serial",),
        ("dac.mode=integrating",),
        ("dac.mode=integrating", "dac.phases=2", "device.slices=2", "device.cell_bits=2"),
        ("device.slices=2", "device.cell_bits=2"),
        ("array.rows=64", "array.cols=32", "adc.bits=6"),
        ("dac.bits=6", "adc.bits=10"),
        ("array.differential=rows", "array.rows=64", "array.cols=32", "dac.mode=integrating"),
        # an uneven phase split, each phase with its own ADC resolution (NeuRRAM's two-phase MVM)
        ("dac.mode=integrating", "dac.bits=5", "dac.phase_bits=[3, 2]", "adc.phase_bits=[8, 6]"),
        ("calibration.weight_scale=column", "device.slices=2", "device.cell_bits=2"),
    ],
)
def test_engine_matches_golden_exactly_in_float64(build, mnist_small, sets):
    _, dev, cm = build(*sets)
    dev = replace(noise_free(dev), program_sigma=0.03)  # programming variation on: still bit-exact
    model = AnalogModel(cm, dev, seed=4, dtype=torch.float64)
    codes = pixel_codes(cm, mnist_small["test_x"][:300])
    g = golden_forward(cm, model.chip, codes)
    got, _ = engine_logits_int(cm, model, codes)
    np.testing.assert_array_equal(got, g.logits)


def test_float32_engine_within_one_adc_lsb(compiled_default, mnist_small):
    _, dev, cm = compiled_default
    model = AnalogModel(cm, noise_free(dev), seed=0, dtype=torch.float32)
    codes = pixel_codes(cm, mnist_small["test_x"][:300])
    g = golden_forward(cm, model.chip, codes)
    with torch.no_grad():
        h = torch.from_numpy(codes.astype(np.float32))
        for li, layer in enumerate(model.layers):
            acc = layer.forward_acc(h, model.noise_gen).numpy()
            # acc sums T tiles' ADC codes: each may differ by at most one LSB
            assert np.abs(acc - g.accs[li]).max() <= layer.T, li
            h = torch.from_numpy(g.layer_outputs[li].astype(np.float32)) if li < len(model.layers) - 1 else h


def test_golden_accuracy_matches_engine(compiled_default, mnist_small):
    _, dev, cm = compiled_default
    nf = noise_free(dev)
    model = AnalogModel(cm, nf, seed=0)
    x, y = mnist_small["test_x"], mnist_small["test_y"]
    g = golden_forward(cm, model.chip, pixel_codes(cm, x))
    acc_golden = float((g.predictions == y).mean())
    assert abs(acc_golden - model.evaluate(x, y)) < 0.01
    assert acc_golden > 0.85


def test_event_counts(compiled_default, mnist_small):
    _, _, cm = compiled_default
    codes = pixel_codes(cm, mnist_small["test_x"][:10])
    ev = golden_forward(cm, None, codes, collect_events=True).events
    a = cm.arch
    expect_conv = sum(10 * ly.row_tiles(a) * ly.out_features * a.slices * a.input_slices for ly in cm.layers)
    assert ev["adc_conversions"] == expect_conv
    assert ev["macs"] == 10 * sum(ly.in_features * ly.out_features for ly in cm.layers)
    assert 0 < ev["dac_row_activations"] <= 10 * sum(ly.in_features * ly.col_tiles(a) for ly in cm.layers)
