"""Resolving the device: the preset named by ``device.preset`` (:mod:`reram.chip.presets`) fills every device key the
configuration leaves unset; ``custom`` has no values, so every key must then be set. The keys are those of the device
field list (:mod:`reram.chip.device`)."""

from __future__ import annotations

from reram.chip.device import DeviceParams, device_fields
from reram.chip.presets import CUSTOM_CITATIONS, PRESETS
from reram.errors import ConfigError

from .schema import ReramConfig


def resolve_device(cfg: ReramConfig) -> DeviceParams:
    """Merge the preset with the keys the configuration sets explicitly."""
    preset = PRESETS[cfg.device.preset]
    citations = dict(preset.citations) if preset is not None else dict(CUSTOM_CITATIONS)
    values: dict[str, object] = {}
    for name, _, spec in device_fields():
        v = getattr(getattr(cfg, spec.section), spec.key or name)  # None: left to the preset
        from_preset = None if preset is None or spec.config_default is not None else getattr(preset, name)
        if v is None:
            v = from_preset
        elif from_preset is not None and v != from_preset:
            citations[name] = "set in the configuration"
        if v is None:
            raise ConfigError(f"device.{name} must be set when device.preset = '{cfg.device.preset}'")
        values[name] = v
    p = DeviceParams(name=cfg.device.preset, citations=citations, **values)  # type: ignore[arg-type]
    if p.g_max <= p.g_min:
        raise ConfigError(f"device.g_max ({p.g_max}) must exceed device.g_min ({p.g_min})")
    if p.stuck_low + p.stuck_high > 1:
        raise ConfigError("device.stuck_low + device.stuck_high must not exceed 1")
    if p.cell_bits * p.slices > 16:
        raise ConfigError("device.cell_bits * device.slices must not exceed 16 weight bits")
    return p
