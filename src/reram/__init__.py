"""reram: design and verify analog in-memory-computing inference accelerators on ReRAM crossbars."""

__version__ = "0.1.0"

__all__ = ["__version__"]
