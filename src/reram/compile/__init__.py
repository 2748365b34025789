"""Compiler: torch model -> typed IR -> passes (fold, scale, map, tile, calibrate)."""

from .flows import ABLATION_STEPS, FLOW_SPECS, FlowSpec, arch_from_config, compile_flow, noise_free
from .ir import ArchParams, CompiledModel, LayerIR

__all__ = ["ABLATION_STEPS", "FLOW_SPECS", "ArchParams", "CompiledModel", "FlowSpec", "LayerIR", "arch_from_config",
           "compile_flow", "noise_free"]
