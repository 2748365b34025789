"""Typed configuration (pydantic v2), read from TOML and ``--set`` overrides, validated in one place."""

from .loader import apply_override, config_to_dict, config_to_toml, load_config, parse_set_value
from .schema import ReramConfig

__all__ = ["ReramConfig", "apply_override", "config_to_dict", "config_to_toml", "load_config", "parse_set_value"]
