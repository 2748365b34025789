"""The device field list (reram.chip.device) is the one source of the device keys: the configuration schema, the
presets, noise_free and the IR's architecture parameters derive from it."""

from __future__ import annotations

import dataclasses

import pytest

from reram.chip.device import KEEP, DeviceParams, arch_values, device_fields, noise_free
from reram.chip.presets import PRESETS
from reram.config import load_config
from reram.config.presets import resolve_device
from reram.config.schema import ReramConfig
from reram.errors import ConfigError
from reram.ir import ArchParams


def test_every_field_is_a_config_key_with_its_bounds_and_description():
    for name, _, spec in device_fields():
        section = type(getattr(ReramConfig(), spec.section))
        field = section.model_fields[spec.key or name]
        assert field.description == spec.description
        bounds = {k: getattr(m, k) for m in field.metadata for k in ("ge", "gt", "le") if hasattr(m, k)}
        assert bounds == {k: v for k in ("ge", "gt", "le") if (v := getattr(spec, k)) is not None}, name
        assert field.default == spec.config_default


def test_config_sections_hold_no_other_device_keys():
    keys = {(s.section, s.key or n) for n, _, s in device_fields()}
    assert {("device", k) for k in type(ReramConfig().device).model_fields} - keys == {("device", "preset")}
    array_keys = {("array", k) for k in type(ReramConfig().array).model_fields}
    assert array_keys - keys == {("array", "rows"), ("array", "cols"), ("array", "differential")}
    assert {("program", k) for k in type(ReramConfig().program).model_fields} <= keys


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if p is not None])
def test_presets_are_typed_instances_with_citations(name):
    p = PRESETS[name]
    assert isinstance(p, DeviceParams) and p.name == name and p.citations
    for n, _, spec in device_fields():
        if spec.choices:
            assert getattr(p, n) in spec.choices


def test_bounds_are_enforced_from_the_field_list():
    with pytest.raises(ConfigError, match="read_noise"):
        load_config(None, ["device.read_noise=2"])
    with pytest.raises(ConfigError, match="ir_drop"):
        load_config(None, ['array.ir_drop="sometimes"'])


def test_custom_preset_names_the_missing_key():
    with pytest.raises(ConfigError, match=r"device\.g_min must be set"):
        resolve_device(load_config(None, ['device.preset="custom"']))


def test_noise_free_resets_exactly_the_fields_with_an_ideal_value():
    dev = resolve_device(load_config(None, ["device.stuck_low=0.01", "device.read_noise=0.05"]))
    nf = noise_free(dev)
    for n, _, spec in device_fields():
        assert getattr(nf, n) == (getattr(dev, n) if spec.ideal is KEEP else spec.ideal), n
    assert nf.read_noise == 0 and nf.stuck_low == 0 and nf.ir_drop == "off"


def test_arch_parameters_take_the_device_fields_marked_arch():
    dev = resolve_device(load_config(None, ["device.cell_bits=3", "device.slices=2"]))
    vals = arch_values(dev)
    assert set(vals) == {n for n, _, s in device_fields() if s.arch}
    assert set(vals) <= {f.name for f in dataclasses.fields(ArchParams)}
