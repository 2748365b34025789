"""Each non-ideality changes outputs when on and nothing when off."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from reram.analog import AnalogModel
from reram.chip.device import noise_free
from reram.chip.program import program_chip
from reram.golden import pixel_codes
from reram.ir.rules import target_codes


def logits(model, x):
    with torch.no_grad():
        return model(torch.tensor(np.asarray(x), dtype=torch.float32) / 255.0)


@pytest.fixture()
def setup(compiled_default, mnist_small):
    _, dev, cm = compiled_default
    return cm, noise_free(dev), mnist_small["test_x"][:200]


def test_noise_free_chip_equals_targets(setup):
    cm, dev, _ = setup
    chip = program_chip(cm, dev, seed=3)
    for layer, cl in zip(cm.layers, chip.layers, strict=True):
        tp, tn = target_codes(layer, cm.arch)
        np.testing.assert_array_equal(cl.g_pos, tp.numpy())
        np.testing.assert_array_equal(cl.g_neg, tn.numpy())


@pytest.mark.parametrize("model_", ["constant", "state_dependent"])
def test_programming_variation(setup, model_):
    cm, dev, x = setup
    on = replace(dev, program_sigma=0.03, sigma_model=model_, verify_cycles=0)  # one write: the raw error
    chip = program_chip(cm, on, seed=1)
    tp, _ = target_codes(cm.layers[0], cm.arch)
    diff = (chip.layers[0].g_pos - tp.numpy()).astype(np.float64) * cm.arch.g_lsb
    if model_ == "constant":
        assert abs(diff.std() / (0.03 * (cm.arch.g_max - cm.arch.g_min)) - 1) < 0.05
    else:  # NeuRRAM fit: 1.6-2.5 uS
        assert 1.5e-6 < diff.std() < 2.6e-6
    assert not torch.equal(logits(AnalogModel(cm, on, seed=1), x), logits(AnalogModel(cm, dev, seed=1), x))
    # programming is fixed per chip: same seed, same conductances; another seed, others
    again = program_chip(cm, on, seed=1)
    other = program_chip(cm, on, seed=2)
    np.testing.assert_array_equal(again.layers[0].g_pos, chip.layers[0].g_pos)
    assert not np.array_equal(other.layers[0].g_pos, chip.layers[0].g_pos)


def test_program_and_verify_narrows_the_error_and_counts_writes(setup):
    """Each verify cycle programs again the cells read outside +-tolerance (NeuRRAM's iterative write-verify): the
    spread shrinks with the cycles, the cells inside stay, and the writes are counted."""
    cm, dev, _ = setup
    sd, writes = [], []
    for cycles in (0, 1, 3, 6):
        on = replace(dev, sigma_model="state_dependent", read_noise=0.01, verify_cycles=cycles,
                     verify_tolerance=1e-6)
        chip = program_chip(cm, on, seed=3)
        tp, _ = target_codes(cm.layers[0], cm.arch)
        diff = (chip.layers[0].g_pos - tp.numpy()).astype(np.float64) * cm.arch.g_lsb
        sd.append(diff.std())
        st = chip.program_stats
        writes.append(st["writes"] / st["cells"])
        if cycles == 6:
            assert (np.abs(diff) < 1.3e-6).mean() > 0.9  # within tolerance (plus the verify read's noise)
    assert 1.5e-6 < sd[0] < 2.6e-6 and sd[0] > sd[1] > sd[2] > sd[3] and sd[3] < 0.6 * sd[0]
    assert writes[0] == 1 and writes[0] < writes[1] < writes[2] < writes[3] < 7
    again = program_chip(cm, replace(dev, sigma_model="state_dependent", verify_cycles=6), seed=3)
    np.testing.assert_array_equal(again.layers[0].g_pos, program_chip(cm, replace(
        dev, sigma_model="state_dependent", verify_cycles=6), seed=3).layers[0].g_pos)


def test_fine_tuning_pool_draws_cells_programmed_like_a_chip(setup):
    """Hardware-aware fine-tuning draws each step's conductances from a pool of cells programmed per weight code
    (program-and-verify), stuck-at faults drawn per step: per level, the error's mean, spread and 99th percentile match
    programming cells one by one (200,000 per level), so do the stuck-cell rates of a programmed layer, and every step
    draws anew."""
    from reram.chip.program import program_verified, programmed_pool, sample_programmed

    cm, dev, _ = setup
    on = replace(dev, sigma_model="state_dependent", read_noise=0.01, verify_cycles=6, verify_tolerance=1e-6)
    arch = cm.arch
    gen = torch.Generator().manual_seed(5)
    pool = programmed_pool(arch, on, gen)
    assert pool.shape == (2 * arch.q_max + 1, 16384, arch.slices, 2)
    codes = torch.as_tensor(cm.layers[0].weight_codes).t()  # (in, out)
    tp, _ = target_codes(cm.layers[0], arch)
    drawn, _ = sample_programmed(pool, codes, arch, on, gen)
    assert drawn.shape == tp.shape and not torch.equal(drawn, sample_programmed(pool, codes, arch, on, gen)[0])
    n, step = 200_000, 2**arch.grid_sub_bits
    for level in (0, arch.levels // 4, arch.levels // 2, arch.levels - 1):
        target = torch.full((n,), float(arch.gmin_code + level * step), dtype=torch.float64)
        ref = (program_verified(target, arch, on, torch.Generator().manual_seed(level)).clamp(0, arch.gmax_code)
               - target).numpy()  # as program_chip programs a cell
        got = sample_programmed(pool, torch.full((n, 1), level), arch, on, gen)[0][0, :, 0].double().numpy() - \
            target.numpy()  # a positive code: its G+ cell holds the level
        assert abs(got.std() / ref.std() - 1) < 0.03, level
        assert abs(got.mean() - ref.mean()) < 0.03 * ref.std(), level
        q_ref, q_got = np.quantile(np.abs(ref), 0.99), np.quantile(np.abs(got), 0.99)
        assert abs(q_got / q_ref - 1) < 0.08, level  # the pool holds 16,384 per code: its tail is coarse
    stuck = replace(on, stuck_low=0.05, stuck_high=0.02)
    ref = program_chip(cm, stuck, seed=3).layers[0].g0_pos.numpy()
    got = sample_programmed(pool, codes, arch, stuck, gen)[0].double().numpy()
    t = tp.numpy()
    for g in (ref, got):
        assert abs((g[t != arch.gmax_code] == arch.gmax_code).mean() - 0.02) < 0.003
        assert abs((g[t != arch.gmin_code] == arch.gmin_code).mean() - 0.05) < 0.005


def test_read_noise_on_off(setup):
    cm, dev, x = setup
    m = AnalogModel(cm, dev, seed=0)
    assert torch.equal(logits(m, x), logits(m, x))
    noisy = AnalogModel(cm, replace(dev, read_noise=0.05), seed=0)
    assert not torch.equal(logits(noisy, x), logits(noisy, x))  # fresh noise on every read


def test_read_noise_output_form_matches_cell_form(setup):
    """Same mean and variance of the column sums: the output-referred form is exact for Gaussian cells."""
    from reram.analog.engine import add_output_noise, read_noise_cell

    cm, dev, x = setup
    r = 0.05
    m = AnalogModel(cm, dev, seed=0)
    layer = m.layers[0]
    # the third row tile (pixels 256..383, the middle of the image) of the first layer
    xc = torch.as_tensor(pixel_codes(cm, x[:1])[:, 256:384], dtype=torch.float32).repeat(2000, 1)
    gp, gn = layer.Gp[0, 2], layer.Gn[0, 2]
    assert xc[0].count_nonzero() > 10
    mean = xc @ (gp - gn)
    g2 = (gp.square() + gn.square()) * r * r
    out_form = add_output_noise(mean.clone(), xc.square() @ g2, torch.Generator().manual_seed(1)) - mean
    cell_form = read_noise_cell(xc, gp, gn, r, torch.Generator().manual_seed(2)) - mean
    expected_sd = (xc[:1].square() @ g2).sqrt()[0]
    active = expected_sd > 0
    ratio_out = out_form.std(0)[active] / expected_sd[active]
    ratio_cell = cell_form.std(0)[active] / expected_sd[active]
    assert abs(float(ratio_out.mean()) - 1) < 0.02 and abs(float(ratio_cell.mean()) - 1) < 0.02
    assert float((cell_form.mean(0)[active] / expected_sd[active]).abs().mean()) < 0.1
    # and the whole-model paths: both modes perturb the logits of the same chip by a similar amount
    quiet = logits(AnalogModel(cm, dev, seed=0), x)
    spread = {}
    for mode in ("output", "cell"):
        noisy = logits(AnalogModel(cm, replace(dev, read_noise=r, read_noise_mode=mode), seed=0), x)
        spread[mode] = float((noisy - quiet).std())
        assert spread[mode] > 0
        assert (noisy.argmax(1) == quiet.argmax(1)).float().mean() > 0.9
    assert 0.7 < spread["output"] / spread["cell"] < 1.4


def test_stuck_at_faults(setup):
    cm, dev, x = setup
    on = replace(dev, stuck_low=0.05, stuck_high=0.02)
    chip = program_chip(cm, on, seed=0)
    g = np.concatenate([cl.g_pos.ravel() for cl in chip.layers])
    tp = np.concatenate([target_codes(ly, cm.arch)[0].numpy().ravel() for ly in cm.layers])
    high = (g == cm.arch.gmax_code) & (tp != cm.arch.gmax_code)
    assert 0.015 < high.mean() < 0.025
    low = (g == cm.arch.gmin_code) & (tp != cm.arch.gmin_code)
    assert low.sum() > 0
    assert not torch.equal(logits(AnalogModel(cm, on, seed=0), x), logits(AnalogModel(cm, dev, seed=0), x))


def test_drift_and_compensation(setup, mnist_small):
    cm, dev, x = setup
    on = replace(dev, drift_nu=0.05, drift_nu_std=0.01, drift_t0=1.0)
    m = AnalogModel(cm, on, seed=0)
    before = logits(m, x)
    g_before = m.chip.layers[0].g_pos.copy()
    m.drift(1e4)
    assert m.chip.layers[0].g_pos.mean() < g_before.mean() * 0.7  # (1e4)^-0.05 = 0.63
    assert not torch.equal(before, logits(m, x))
    m.drift(0.0)
    np.testing.assert_array_equal(m.chip.layers[0].g_pos, g_before)
    # compensation: one gain per tile raises the ADC multipliers and recovers accuracy
    y = mnist_small["test_y"][:200]
    plain = AnalogModel(cm, on, seed=0).drift(1e6)
    comp = AnalogModel(cm, replace(on, drift_compensation=True), seed=0).drift(1e6)
    assert (comp.chip.layers[0].adc_mult > cm.layers[0].adc_mult).all()
    assert comp.evaluate(x, y) >= plain.evaluate(x, y)
    # off: no drift at all
    still = AnalogModel(cm, dev, seed=0).drift(1e6)
    assert torch.equal(logits(still, x), logits(AnalogModel(cm, dev, seed=0), x))


def test_ir_drop_on_off(setup):
    cm, dev, x = setup
    on = replace(dev, wire_resistance=2.0, ir_drop="approx")
    off_mode = replace(dev, wire_resistance=2.0, ir_drop="off")
    base = logits(AnalogModel(cm, dev, seed=0), x)
    assert torch.equal(logits(AnalogModel(cm, off_mode, seed=0), x), base)
    assert not torch.equal(logits(AnalogModel(cm, on, seed=0), x), base)


@pytest.mark.parametrize("rows, cols, mode", [(128, 128, "approx"), (100, 64, "approx"), (64, 36, "approx"),
                                              (64, 36, "solve")])
def test_ir_factors_of_all_arrays_at_once_equal_each_array_alone(compiled_default, rows, cols, mode):
    """The engine computes the IR-drop factors of every physical array in one call. Each array built alone in the
    physical layout that the tile pass and the RTL images use (two weight slices side by side in the column tiles,
    logical column o * slices + s, read here from the RTL's conductance-memory order; G+ and G- interleaved; a
    partial row tile next to the sense amplifiers, empty cells elsewhere) gives the same factors. (Before the layout
    was written once, the engine gave each weight slice arrays of its own: this failed at two slices.)"""
    from reram.analog.engine import AnalogLayer
    from reram.analog.irdrop import effective_conductances

    _, dev, cm = compiled_default
    dev = replace(dev, wire_resistance=2.0, ir_drop=mode)
    arch = replace(cm.arch, rows=rows, cols=cols, slices=2)
    layer = cm.layers[1]  # 256 -> 128: partial row tiles at 100 and 64 rows, partial column tiles at 36 columns
    al = AnalogLayer(layer, arch, dev, -128, 127, is_last=False)
    gen = np.random.default_rng(0)
    S, n_in, out = 2, layer.in_features, layer.out_features
    gp = torch.tensor(gen.uniform(0, arch.gmax_code, (S, n_in, out)))
    gn = torch.tensor(gen.uniform(0, arch.gmax_code, (S, n_in, out)))
    fp, fn = al._ir_effective(gp, gn)
    # the RTL memory order: (row tiles, logical columns, rows), G_min-padded rows at the end of a partial tile
    T, pairs = -(-n_in // rows), cols // 2
    mem_p = np.full((T, out * S, rows), -1.0)
    mem_n = np.full((T, out * S, rows), -1.0)
    for s in range(S):
        for o in range(out):
            for t in range(T):
                rs = slice(t * rows, min((t + 1) * rows, n_in))
                mem_p[t, o * S + s, : rs.stop - rs.start] = gp.numpy()[s, rs, o]
                mem_n[t, o * S + s, : rs.stop - rs.start] = gn.numpy()[s, rs, o]
    rp, rn = gp.numpy().copy(), gn.numpy().copy()
    for t in range(T):
        rs = slice(t * rows, min((t + 1) * rows, n_in))
        nr = rs.stop - rs.start
        for c0 in range(0, out * S, pairs):  # one physical array per column tile
            cs = range(c0, min(c0 + pairs, out * S))
            phys = np.zeros((rows, cols))
            for k, c in enumerate(cs):
                phys[rows - nr :, 2 * k] = mem_p[t, c, :nr]  # a partial tile's rows next to the sense amplifiers
                phys[rows - nr :, 2 * k + 1] = mem_n[t, c, :nr]
            eff = effective_conductances(phys * arch.g_lsb, dev.wire_resistance, mode)[rows - nr :] / arch.g_lsb
            for k, c in enumerate(cs):
                o, s = divmod(c, S)
                rp[s, rs, o] = eff[:, 2 * k]
                rn[s, rs, o] = eff[:, 2 * k + 1]
    # the solver stops on a tolerance (1e-6 of the largest current), reached in different sweeps alone and batched
    tol = 1e-12 if mode == "approx" else 1e-5
    np.testing.assert_allclose(fp.numpy(), rp, rtol=tol, atol=tol * arch.gmax_code)
    np.testing.assert_allclose(fn.numpy(), rn, rtol=tol, atol=tol * arch.gmax_code)


def test_negative_inputs_clamp_to_zero(setup):
    cm, dev, _ = setup
    m = AnalogModel(cm, dev, seed=0)
    x = torch.linspace(-1, 1, 784)[None]
    codes = m.input_codes(x)
    assert codes.min() == 0 and (codes[0, :392] == 0).all()


def test_adc_bits_and_saturation(build, mnist_small):
    x = mnist_small["test_x"][:200]
    outs = {}
    for bits in (4, 8):
        _, dev, cm = build(f"adc.bits={bits}")
        m = AnalogModel(cm, noise_free(dev), seed=0)
        outs[bits] = logits(m, x)
        m.collect_stats(True)
        logits(m, x)
        assert 0 <= m.layer_stats()[0]["adc_saturation"] < 0.01
    assert not torch.equal(outs[4], outs[8])
    # a tiny ADC range saturates, and it is counted
    _, dev, cm = build("adc.percentile=60")
    m = AnalogModel(cm, noise_free(dev), seed=0)
    m.collect_stats(True)
    logits(m, x)
    assert m.layer_stats()[0]["adc_saturation"] > 0.2


def test_finite_levels(build, mnist_small):
    from reram.compile.passes import levels_used

    x = mnist_small["test_x"][:100]
    res = {}
    for bits in (2, 4):
        _, dev, cm = build("device.preset=ideal", f"device.cell_bits={bits}")
        assert max(levels_used(cm)) <= 2**bits
        res[bits] = logits(AnalogModel(cm, dev, seed=0), x)
    assert not torch.equal(res[2], res[4])


def test_gradients_flow_to_weights_and_inputs(compiled_default):
    _, dev, cm = compiled_default
    m = AnalogModel(cm, dev, seed=0, trainable=True)
    m.train()
    x = torch.rand(8, 784, requires_grad=True)
    m(x).sum().backward()
    for layer in m.layers:
        assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
        assert layer.offset.grad is not None
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unsupported_layers_listed():
    from torch import nn

    import reram
    from reram.errors import CompileError

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.Dropout(), nn.Sigmoid())
    with pytest.raises(CompileError, match=r"^model\.3: nn\.Sigmoid is not supported; supported: Linear, Conv2d"):
        reram.convert(model)


def test_convert_runs(mnist_small):
    import reram

    m = reram.convert(mnist_small["model"], calib_x=mnist_small["calib"], seed=1)
    assert m.evaluate(mnist_small["test_x"][:300], mnist_small["test_y"][:300]) > 0.8


def test_convert_calibrates_large_tiles_for_ir_drop(mnist_small):
    """256x256 tiles with the default approximate IR drop: the convert flow re-calibrates each programmed chip
    as ``reram run`` does (it used to give 45 % silently); without calibration images it refuses."""
    import reram
    from reram.config import load_config
    from reram.errors import ConfigError
    from reram.models.mlp import predict

    cfg = load_config(None, ["array.rows=256", "array.cols=256"])
    x, y = mnist_small["test_x"], mnist_small["test_y"]
    soft = float((predict(mnist_small["model"], torch.tensor(x, dtype=torch.float32) / 255.0).argmax(1).numpy()
                  == y).mean())
    m = reram.convert(mnist_small["model"], cfg, calib_x=mnist_small["calib"], seed=1)
    assert m.evaluate(x, y) > soft - 0.03
    m.program(2)  # every newly programmed chip is re-calibrated too
    assert m.evaluate(x, y) > soft - 0.03
    with pytest.raises(ConfigError, match=r"IR drop.*calib_x"):
        reram.convert(mnist_small["model"], cfg)


def test_loaded_chip_has_no_drift_state(setup, tmp_path):
    from reram.chip.program import load_chip, save_chip
    from reram.errors import CompileError

    cm, dev, x = setup
    m = AnalogModel(cm, dev, seed=2)
    save_chip(tmp_path / "c.npz", m.chip)
    loaded = AnalogModel(cm, dev, chip=load_chip(tmp_path / "c.npz", cm))
    assert torch.equal(logits(loaded, x), logits(m, x))
    with pytest.raises(CompileError, match="drift state"):
        loaded.drift(100.0)


def test_integrating_inputs_average_read_noise(setup):
    """x integrated unit pulses with independent noise each: variance r^2 sum_i x_i G_i^2 (not x_i^2); the cell form
    with a sqrt(x) noise amplitude agrees with the output form fed x."""
    from reram.analog.engine import add_output_noise, read_noise_cell

    cm, dev, x = setup
    r = 0.05
    layer = AnalogModel(cm, dev, seed=0).layers[0]
    xc = torch.as_tensor(pixel_codes(cm, x[:1])[:, 256:384], dtype=torch.float32).repeat(2000, 1)
    gp, gn = layer.Gp[0, 2], layer.Gn[0, 2]
    mean = xc @ (gp - gn)
    g2 = (gp.square() + gn.square()) * r * r
    out_form = add_output_noise(mean.clone(), xc @ g2, torch.Generator().manual_seed(1)) - mean
    cell_form = read_noise_cell(xc, gp, gn, r, torch.Generator().manual_seed(2), x_noise=xc.sqrt()) - mean
    expected_sd = (xc[:1] @ g2).sqrt()[0]
    active = expected_sd > 0
    for form in (out_form, cell_form):
        assert abs(float((form.std(0)[active] / expected_sd[active]).mean()) - 1) < 0.02
    multilevel_sd = (xc[:1].square() @ g2).sqrt()[0]
    assert float((expected_sd[active] / multilevel_sd[active]).max()) < 0.2  # codes up to 255: far less noise


@pytest.mark.parametrize("mode", [("dac.mode=bit_serial",), ("dac.mode=integrating",),
                                  ("dac.mode=integrating", "dac.phases=2")], ids=lambda m: "-".join(m))
def test_input_modes_keep_accuracy_under_default_noise(build, mnist_small, mode):
    """Accuracy level of each input mode: the default preset's programming variation and read noise on one chip."""
    _, dev, ref = build(flow="default")
    _, dev_m, cm = build(*mode, flow="default")
    x, y = mnist_small["test_x"][:500], mnist_small["test_y"][:500]
    base = AnalogModel(ref, dev, seed=0).evaluate(x, y)
    acc = AnalogModel(cm, dev_m, seed=0).evaluate(x, y)
    assert acc > base - 0.02, (mode, acc, base)


def test_recalibration_is_kept_only_when_it_helps_on_the_calibration_split(compiled_default, mnist_small,
                                                                            monkeypatch):
    """A re-calibration that lowers the chip's calibration-split accuracy is reverted, and the choice recorded."""
    from reram.analog import calibrate
    from reram.pipeline import evaluate

    _, dev, cm = compiled_default
    calib = mnist_small["calib"][:400]
    calib_y = np.asarray(evaluate.AnalogModel(cm, dev, seed=0).predict(calib))  # a chip's answers as labels
    x, y = mnist_small["test_x"][:300], mnist_small["test_y"][:300]
    good = evaluate.evaluate_chips(cm, dev, x, y, [5], calib, bias_recal=True, progress=False, calib_y=calib_y)
    assert set(good[0].recal) == {"kept", "calib_accuracy_before", "calib_accuracy_after"}
    real = calibrate.bias_recalibration

    def sabotage(cm_, chip, dev_, calib_x, fit="gain_offset", target="pre_relu", **kw):
        out = real(cm_, chip, dev_, calib_x, fit, target, **kw)
        for cl in chip.layers:
            cl.req_bias = cl.req_bias + 10**9  # a re-calibration gone wrong
        return out

    monkeypatch.setattr(calibrate, "bias_recalibration", sabotage)
    bad = evaluate.evaluate_chips(cm, dev, x, y, [5], calib, bias_recal=True, progress=False, calib_y=calib_y)
    r = bad[0].recal
    assert r["kept"] is False and r["calib_accuracy_after"] < r["calib_accuracy_before"]
    assert all(cl.req_bias is None for cl in bad[0].chip.layers)  # reverted to the compiled constants
    assert bad[0].accuracy > 0.8


def test_variance_product_runs_in_the_engine_dtype(setup):
    """The read-noise variance product of a float32 engine is float32 (a bfloat16 product is 60x slower on AVX2 CPUs
    and would make the noise depend on the CPU): it matches the float64 engine's to float32 precision."""
    from reram.analog.engine import tiled_matmul

    cm, dev, x = setup
    codes = torch.as_tensor(pixel_codes(cm, x), dtype=torch.float64)
    exact = AnalogModel(cm, replace(dev, read_noise=0.01), seed=0, dtype=torch.float64).layers[0]
    single = AnalogModel(cm, replace(dev, read_noise=0.01), seed=0, dtype=torch.float32).layers[0]
    _, g2 = exact._packed_operands()  # (T, R, S * out)
    w32, g2_32 = single._packed_operands()
    assert w32.dtype == torch.float32 and g2_32.dtype == torch.float32
    ref = tiled_matmul(codes.square(), g2)
    got = tiled_matmul(codes.square().float(), g2_32)
    assert got.dtype == torch.float32
    assert torch.allclose(got.double(), ref, rtol=1e-5, atol=1e-6 * float(ref.abs().max()))


@pytest.mark.parametrize("batch_size", [100, 600, 10000])
def test_predict_converts_pixels_piece_by_piece_with_the_same_draws(compiled_default, mnist_small, batch_size):
    """predict() on uint8 pixels scales them chunk by chunk; with read noise on, it draws exactly what forward() on
    the whole converted batch, cut into the same batches, draws."""
    _, dev, cm = compiled_default
    x, n = mnist_small["test_x"], 1000
    m = AnalogModel(cm, replace(dev, read_noise=0.05), seed=0)
    m.eval()
    m.noise_gen.manual_seed(5)
    got = m.predict(np.asarray(x[:n]), batch_size=batch_size)
    m.noise_gen.manual_seed(5)
    xt = torch.tensor(np.asarray(x[:n]), dtype=torch.float32) / 255.0
    with torch.no_grad():
        want = torch.cat([m(xt[i : i + batch_size]).argmax(1) for i in range(0, n, batch_size)]).numpy()
    np.testing.assert_array_equal(got, want)


def test_fine_tuning_activation_unit_clips_like_the_chip(compiled_default):
    """Fine-tuning's activation unit clips its multiplier to +-REQ_MULT_MAX (16-bit signed, as the chip's register
    and the compiler's requantization do). A gain that calibration would clip must give the same codes in training
    as on the chip. (Before the requantization rule was written once, the engine's training copy did not clip.)"""
    from reram.analog.engine import AnalogLayer

    _, dev, cm = compiled_default
    layer = cm.layers[1]
    al = AnalogLayer(layer, cm.arch, noise_free(dev), *cm.adc_limits(layer), is_last=False, trainable=True)
    al.train()
    ratio = layer.out_scale / layer.next_scale * 2.0**layer.req_shift
    with torch.no_grad():
        al.gain.fill_(3 * (2**15 - 1) / ratio)  # M three times the register's range
        al.offset.zero_()
    acc = torch.arange(-50, 50, dtype=torch.float32)[:, None].expand(100, layer.out_features).contiguous()
    got = al.digital(acc).detach().numpy()
    M = np.clip(np.floor(al.gain.detach().numpy().astype(np.float64) * ratio + 0.5), -(2**15 - 1), 2**15 - 1)
    y = acc.numpy().astype(np.int64) * M.astype(np.int64)
    expect = np.clip((y + (1 << (layer.req_shift - 1))) >> layer.req_shift, 0, cm.arch.x_max)
    np.testing.assert_array_equal(got, expect)
