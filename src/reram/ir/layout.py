"""The physical layout of a layer's crossbar arrays, written once: where every weight's cells sit. The tile pass, the
machine description (column tiles and their widths), the RTL's memory images, the engine's IR-drop model and the
area all read it.

* **Columns.** Weight slice ``s`` of output ``o`` is *logical column* ``c = o * slices + s`` (the slices of one
  output side by side). Logical column ``c`` sits in column tile ``u = c // pairs`` as pair ``k = c % pairs`` of
  that array: its G+ cell in physical column ``2k``, its G- cell in ``2k + 1``; the two currents are subtracted
  before the ADC. A last partial column tile has ``nc - u * pairs`` pairs; the physical columns after them are empty.
* **Differential rows** (``array.differential = "rows"``, NeuRRAM's mapping): an array holds ``rows / 2`` inputs
  and ``cols`` logical columns; input ``i``'s G+ cell sits in physical row ``2 i``, its G- cell in row ``2 i + 1``
  of the same column, driven with the opposite polarity; every column is an output. ``rows`` and ``pairs`` below
  are then the inputs and logical columns per array.
* **Rows.** Input row ``i`` sits in row tile ``t = i // rows``, physical row ``i % rows``, except in a last partial
  row tile, whose ``n`` rows sit next to the sense amplifiers (physical rows ``rows - n .. rows - 1``; IR drop
  is least there). The RTL's memories address a partial tile's rows from 0 (its integer sums do not depend on
  where a row sits).

The IR-drop geometry (drivers at column 0, sense amplifiers at row ``rows - 1``) is that of
:mod:`reram.analog.irdrop`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .core import ArchParams, LayerIR


@dataclass(frozen=True)
class ArrayLayout:
    """The arrays of one layer: ``row_tiles x col_tiles`` arrays of ``rows x 2 pairs`` cells (``2 rows x pairs``
    with differential rows)."""

    rows: int  # inputs per array (the physical rows, or half of them with differential rows)
    pairs: int  # signed weight columns per array
    slices: int
    in_features: int
    out_features: int
    differential: str = "columns"  # "columns": G+ / G- in adjacent columns; "rows": in adjacent rows

    @classmethod
    def of(cls, layer: LayerIR, arch: ArchParams) -> ArrayLayout:
        return cls(rows=arch.tile_rows, pairs=arch.pairs_per_array, slices=arch.slices,
                   in_features=layer.in_features, out_features=layer.out_features, differential=arch.differential)

    @property
    def logical_columns(self) -> int:
        """Signed weight columns of the layer (outputs x slices), each a differential pair."""
        return self.out_features * self.slices

    @property
    def row_tiles(self) -> int:
        return -(-self.in_features // self.rows)

    @property
    def col_tiles(self) -> int:
        return -(-self.logical_columns // self.pairs)

    @property
    def arrays(self) -> int:
        return self.row_tiles * self.col_tiles

    def column(self, o: int | np.ndarray, s: int | np.ndarray) -> int | np.ndarray:
        """The logical column of output ``o``'s weight slice ``s``."""
        return o * self.slices + s

    def tile_pairs(self) -> tuple[int, ...]:
        """Pairs used in each column tile (the last may be partial)."""
        nc = self.logical_columns
        return tuple(min(self.pairs, nc - u * self.pairs) for u in range(self.col_tiles))

    def by_logical_column(self, g: np.ndarray, fill: float) -> np.ndarray:
        """Per-slice cells (S, in, out) -> (row tiles, logical columns, rows), rows padded with ``fill`` at the end:
        the order of the RTL's conductance memories."""
        S, n_in, out = g.shape
        T, R = self.row_tiles, self.rows
        pad = np.full((S, T * R, out), fill, dtype=g.dtype)
        pad[:, :n_in] = g
        return pad.reshape(S, T, R, out).transpose(1, 3, 0, 2).reshape(T, out * S, R)

    def physical_rows(self) -> np.ndarray:
        """Physical row (0 .. rows * row_tiles - 1, tile-major) of every input row."""
        T, R, n = self.row_tiles, self.rows, self.in_features
        idx = np.arange(n)
        last = n - (T - 1) * R  # rows of the last tile
        return np.where(idx >= (T - 1) * R, idx + (R - last), idx)

    def to_arrays(self, gp: np.ndarray, gn: np.ndarray) -> np.ndarray:
        """Cells (S, in, out) of both polarities -> the physical arrays (row tiles, col tiles, rows, 2 pairs), empty
        cells 0; with differential rows (row tiles, col tiles, 2 rows, pairs): G+ of input ``i`` in physical row
        ``2 i``, its G- in row ``2 i + 1`` of the same column."""
        S, _, out = gp.shape
        T, U, R, P = self.row_tiles, self.col_tiles, self.rows, self.pairs
        phys = np.zeros((T * R, U * P, 2), dtype=np.float64)
        rows = self.physical_rows()
        cols = self.column(np.arange(out)[None, :], np.arange(S)[:, None])  # (S, out)
        for k, g in enumerate((gp, gn)):
            phys[rows[None, :, None], cols[:, None, :], k] = g
        if self.differential == "rows":
            return phys.reshape(T, R, U, P, 2).transpose(0, 2, 1, 4, 3).reshape(T, U, 2 * R, P)
        return phys.reshape(T, R, U, 2 * P).transpose(0, 2, 1, 3)

    def from_arrays(self, arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The inverse of :meth:`to_arrays`: per-cell values of the arrays -> (S, in, out) of G+ and G-."""
        T, U, R, P = self.row_tiles, self.col_tiles, self.rows, self.pairs
        if self.differential == "rows":
            phys = arrays.reshape(T, U, R, 2, P).transpose(0, 2, 1, 4, 3).reshape(T * R, U * P, 2)
        else:
            phys = arrays.transpose(0, 2, 1, 3).reshape(T * R, U * P, 2)
        rows = self.physical_rows()
        cols = self.column(np.arange(self.out_features)[None, :], np.arange(self.slices)[:, None])
        sel = phys[rows[None, :, None], cols[:, None, :]]  # (S, in, out, 2)
        return sel[..., 0], sel[..., 1]
