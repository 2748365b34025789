"""The lowest layer: the typed IR of a compiled model, the op registry, the datapath rules (written once, for numpy
and torch), the machine description (timing, physical array layout) and the address map."""

from .core import ArchParams, CompiledModel, LayerIR

__all__ = ["ArchParams", "CompiledModel", "LayerIR"]
