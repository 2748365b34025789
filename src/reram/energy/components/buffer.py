"""Input and output buffers (SRAM register files): energy per access of one code.

Derived from ISAAC (ISCA 2016, Table 1): the 2 KB input register (1.24 mW) feeds 8 crossbars x 128 rows one bit
per 100 ns cycle, 1024 bits = 128 bytes per 100 ns, so 1.24 mW / 1.28 GB/s = 0.97 pJ per byte read. The 256 B
output register (0.23 mW) takes 8 crossbars x 128 columns / 8 (16-bit results of 8 slices) = 128 16-bit words per
100 ns: 0.23 mW x 100 ns / 128 = 0.18 pJ per write. Areas: 0.0021 mm2 per 2 KB and 0.00077 mm2 per 256 B.
"""

from __future__ import annotations

from .base import ISAAC, Figure


def isaac_input_buffer() -> tuple[Figure, Figure]:
    return (Figure(1.24e-3 / 1.28e9, "J/read", f"{ISAAC}: 1.24 mW / (128 B per 100 ns)"),
            Figure(0.0021 / 2048, "mm2/byte", f"{ISAAC}: 0.0021 mm2 / 2 KB"))


def isaac_output_buffer() -> tuple[Figure, Figure]:
    return (Figure(0.23e-3 * 100e-9 / 128, "J/write", f"{ISAAC}: 0.23 mW x 100 ns / 128 writes"),
            Figure(0.00077 / 256, "mm2/byte", f"{ISAAC}: 0.00077 mm2 / 256 B"))
