"""Device presets, one module per technology (as aihwkit keeps one file per device), each a
:class:`~reram.chip.device.DeviceParams` with its citations. ``custom`` has no values: every key is then set in the
configuration."""

from __future__ import annotations

from reram.chip.device import DeviceParams

from . import ideal, neurram

NEURRAM = neurram.NEURRAM
CUSTOM_CITATIONS = {"all": "every parameter set explicitly in the configuration"}

PRESETS: dict[str, DeviceParams | None] = {
    "reram-neurram": neurram.PRESET,
    "ideal": ideal.PRESET,
    "custom": None,
}


def preset_value(preset: str, name: str) -> object:
    """The value preset ``preset`` gives field ``name`` (None: the preset leaves it to the configuration)."""
    p = PRESETS[preset]
    return None if p is None else getattr(p, name)
