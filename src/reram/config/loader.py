"""Reading, overriding, validating and writing the configuration. Validation happens here only."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from reram.errors import ConfigError

from .schema import ReramConfig


def _format_validation_error(err: ValidationError, origin: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        section = ".".join(str(p) for p in first["loc"][:-1])
        allowed = _allowed_keys(section)
        return f"{origin}: unknown key '{loc}'; allowed keys here: {', '.join(allowed)}"
    value = first.get("input")
    return f"{origin}: bad value {value!r} for '{loc}': {msg}"


def _allowed_keys(section: str) -> list[str]:
    model: type[BaseModel] = ReramConfig
    for part in [p for p in section.split(".") if p]:
        field = model.model_fields.get(part)
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return sorted(model.model_fields)


def parse_set_value(raw: str) -> Any:
    """A ``--set`` value is parsed as a TOML value; anything that is not valid TOML is a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_override(data: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected section.key=value")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    if len(parts) < 2 or any(not p for p in parts):
        raise ConfigError(f"--set {assignment!r}: the key must be a dotted path like train.epochs")
    node = data
    for p in parts[:-1]:
        child = node.setdefault(p, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {key}: '{p}' is not a section")
        node = child
    node[parts[-1]] = parse_set_value(raw.strip())


def load_config(
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    base: Mapping[str, Any] | None = None,
    option: str = "--set",
) -> ReramConfig:
    """Resolve a configuration: defaults < ``base`` < TOML file < ``--set`` overrides. Errors in the overrides name
    ``option``, the command-line option they came from (``--set``, ``--grid``, ``--preset``...)."""
    data: dict[str, Any] = _deep_copy(dict(base or {}))
    origin = "configuration"
    if path is not None:
        p = Path(path)
        origin = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {p} does not exist; create one with 'reram config init {p}'") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read config file {p}: {e}") from None
        try:
            _deep_merge(data, tomllib.loads(text))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: not valid TOML ({e})") from None
    override_list = list(overrides)
    for o in override_list:
        try:
            apply_override(data, o)
        except ConfigError as e:
            raise ConfigError(str(e).replace("--set", option, 1)) from None
    if override_list:
        origin = option if path is None else f"{origin} with {option}"
    try:
        cfg = ReramConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_validation_error(e, origin)) from None
    from .effective import check_effective

    check_effective(cfg, origin)
    cfg = _apply_profile(cfg, data)
    if cfg.energy.preset_file:  # read and check it now, not after the stages before the energy stage
        from reram.chip.energy_preset import load_preset_file

        load_preset_file(cfg.energy.preset_file)
    return cfg


def _apply_profile(cfg: ReramConfig, data: dict[str, Any]) -> ReramConfig:
    """``cfg`` with the architecture profile's values for the keys ``data`` leaves unset, except those the rest of
    the configuration makes inert (:mod:`reram.config.profiles`)."""
    from .effective import inert_keys
    from .profiles import profile_of, user_set

    extra = {k: v for k, v in profile_of(cfg.model.arch).items() if not user_set(data, k)}
    if not extra:
        return cfg
    merged = _deep_copy(data)
    for key, value in extra.items():
        section, name = key.split(".")
        merged.setdefault(section, {})[name] = value
    out = ReramConfig.model_validate(merged)
    for key, _ in inert_keys(out):
        if key in extra:
            section, name = key.split(".")
            setattr(getattr(out, section), name, getattr(getattr(cfg, section), name))
    return out


def profile_keys(path: str | Path | None = None, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """The keys whose value the architecture profile supplies under this file and these overrides."""
    from .profiles import profile_of, user_set

    cfg = load_config(path, overrides)
    data: dict[str, Any] = {}
    if path is not None:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    for o in overrides:
        apply_override(data, o)
    return {k: v for k, v in profile_of(cfg.model.arch).items()
            if not user_set(data, k) and getattr(getattr(cfg, k.split(".")[0]), k.split(".")[1]) == v}


def explain_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> str:
    """The resolved configuration as TOML with, for every key, where its effective value comes from: the default,
    the device preset (keys the configuration leaves unset), the file, or ``--set``."""
    from reram.chip.device import device_fields
    from reram.chip.presets import PRESETS

    from .presets import resolve_device

    cfg = load_config(path, overrides)
    from_file: dict[str, Any] = {}
    if path is not None:
        from_file = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    from_set: dict[str, Any] = {}
    for o in overrides:
        apply_override(from_set, o)
    dev = resolve_device(cfg).to_dict()
    from_preset = {} if PRESETS[cfg.device.preset] is None else \
        {(s.section, s.key or n): n for n, _, s in device_fields() if s.config_default is None}
    from_profile = profile_keys(path, overrides)
    dumped = config_to_dict(cfg)
    lines = [f"# effective configuration; device preset '{cfg.device.preset}'", ""]
    for section_name in ReramConfig.model_fields:
        lines.append(f"[{section_name}]")
        for key, value in dumped[section_name].items():
            if key in from_set.get(section_name, {}):
                origin = "--set"
            elif key in from_file.get(section_name, {}):
                origin = str(path)
            elif f"{section_name}.{key}" in from_profile:
                origin = f"model.arch '{cfg.model.arch}' profile"
            elif value is None and (section_name, key) in from_preset:
                value, origin = dev[from_preset[section_name, key]], f"preset {cfg.device.preset}"
            else:
                origin = "default"
            lines.append(f"# {key} = (unset)  # {origin}" if value is None else f"{_toml_line(key, value)}  # {origin}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(v: Any) -> str:
    if isinstance(v, dict):  # an inline table, so that it stays inside its section
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return tomli_w.dumps({"v": v}).strip()[4:]


def _toml_line(key: str, value: Any) -> str:
    if isinstance(value, list | dict):
        return f"{key} = {_toml_value(value)}"
    return tomli_w.dumps({key: value}).strip()


def _deep_copy(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def _deep_merge(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, Mapping) and isinstance(dst.get(k), dict):
            _deep_merge(dst[k], v)
        else:
            dst[k] = _deep_copy(dict(v)) if isinstance(v, Mapping) else v


def config_to_dict(cfg: ReramConfig) -> dict[str, Any]:
    return cfg.model_dump(mode="json")


def config_to_toml(cfg: ReramConfig, commented: bool = False) -> str:
    """TOML text of a configuration; unset (None) values become commented lines."""
    lines: list[str] = []
    if commented:
        lines += [
            "# reram configuration. Every key is optional; shown here with its default.",
            "# Override any key on the command line with --set section.key=value.",
            "",
        ]
    dumped = config_to_dict(cfg)
    for section_name, section_field in ReramConfig.model_fields.items():
        section_model = section_field.annotation
        assert isinstance(section_model, type) and issubclass(section_model, BaseModel)
        if commented and section_model.__doc__:
            lines.append(f"# {section_model.__doc__.strip().splitlines()[0]}")
        lines.append(f"[{section_name}]")
        for key, field in section_model.model_fields.items():
            value = dumped[section_name][key]
            if commented and field.description:
                lines.append(f"# {field.description}")
            lines.append(f"# {key} =  (unset)" if value is None else _toml_line(key, value))
        lines.append("")
    return "\n".join(lines)


def config_schema_keys() -> list[str]:
    out = []
    for s, f in ReramConfig.model_fields.items():
        m = f.annotation
        assert isinstance(m, type) and issubclass(m, BaseModel)
        out += [f"{s}.{k}" for k in m.model_fields]
    return out
