"""Memory images for the RTL: the host-bus writes that load a compiled model and a programmed chip.

Images are (address, data) word pairs in the host address map (:mod:`reram.ir.addrmap`). They can be saved to and
loaded from an npz file (``rtl_image.npz`` in a run folder); the loader validates them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reram.chip.program import Chip
from reram.errors import IRError
from reram.fsutil import atomic_save_npz, read_npz
from reram.ir.addrmap import SET_STRIDE, SETTINGS, R, addr, split
from reram.ir.core import CompiledModel
from reram.ir.machine import Machine
from reram.ir.rules import REQ_MULT_W

REGION_GPOS, REGION_GNEG, REGION_ADC = R["GPOS"], R["GNEG"], R["ADC"]
REGION_RMULT, REGION_RBLO, REGION_RBHI, REGION_LAYER = R["RMULT"], R["RBLO"], R["RBHI"], R["LAYER"]
VALID_REGIONS = {REGION_GPOS, REGION_GNEG, REGION_ADC, REGION_RMULT, REGION_RBLO, REGION_RBHI, REGION_LAYER}


def build_image(cm: CompiledModel, chip: Chip, p: Machine) -> tuple[np.ndarray, np.ndarray]:
    a = cm.arch
    addrs, data = [], []
    for li, (layer, cl) in enumerate(zip(cm.layers, chip.layers, strict=True)):
        T, out = p.layers[li].row_tiles, layer.out_features
        for g, region in ((cl.g_pos, REGION_GPOS), (cl.g_neg, REGION_GNEG)):
            # (S, in, out) -> (T, logical columns, R), rows padded with G_min cells (reram.ir.layout)
            blk = layer.layout(a).by_logical_column(g.astype(np.int64), a.gmin_code)
            idx = p.layer_gbase[li] + np.arange(blk.size, dtype=np.int64)
            addrs.append(addr(region, idx))
            data.append(blk.reshape(-1).astype(np.uint32))
        addrs.append(addr(REGION_ADC, p.layer_tbase[li] + np.arange(T)))
        data.append(cl.adc_mult.astype(np.uint32))
        M = cl.req_mult if cl.req_mult is not None else layer.req_mult
        B = (cl.req_bias if cl.req_bias is not None else layer.req_bias).astype(np.int64)
        cidx = p.layer_cbase[li] + np.arange(out)
        addrs += [addr(REGION_RMULT, cidx), addr(REGION_RBLO, cidx), addr(REGION_RBHI, cidx)]
        data += [(M.astype(np.int64) & ((1 << REQ_MULT_W) - 1)).astype(np.uint32), (B & 0xFFFFFFFF).astype(np.uint32),
                 ((B >> 32) & 0xFFFFFFFF).astype(np.uint32)]
        settings = {"ADC_SHIFT": layer.adc_shift, "ADC_SIGNED": int(layer.adc_signed), "REQ_SHIFT": layer.req_shift,
                    "ADD_MULT": layer.add_mult if layer.add_src is not None else 0}
        addrs.append(addr(REGION_LAYER, SET_STRIDE * li + np.arange(len(SETTINGS))))
        data.append(np.array([settings[k] for k in SETTINGS], np.uint32))
    return np.concatenate(addrs), np.concatenate(data)


def array_spans(p: Machine) -> list[tuple[int, int]]:
    """(host word base, cells) of every array's conductance memory, as ``reram_layer.v`` places them; together they
    tile the conductance regions [0, gdepth)."""
    spans = []
    for base, ly in zip(p.layer_gbase, p.layers, strict=True):
        for t in range(ly.row_tiles):
            spans += [(base + (t * ly.nc + u * p.pairs) * p.rows, ly.cols[u] * p.rows) for u in range(ly.col_tiles)]
    return spans


def write_preload(folder: Path, addrs: np.ndarray, data: np.ndarray, p: Machine) -> tuple[np.ndarray, np.ndarray]:
    """Write the conductance words of an image as the arrays' preload files (``gpos_<base>.hex``,
    ``gneg_<base>.hex``: read by ``reram_xbar_macro.v`` under the plusarg ``+gmem=<folder>``) and return the rest of
    the image, the words that go through the host bus. The memories then hold what the host writes would have left
    there (codes cut to the write port's width; a later write of an address wins), without a simulated clock cycle
    per cell (the default MLP: 540,000 cycles, 7 s)."""
    region, idx = split(addrs)
    idx = idx.astype(np.int64)
    conductance = (region == REGION_GPOS) | (region == REGION_GNEG)
    mask = np.uint32((1 << p.gw) - 1)  # the macro's write port takes host_wdata[GW-1:0]
    spans = array_spans(p)
    for reg, name in ((REGION_GPOS, "gpos"), (REGION_GNEG, "gneg")):
        sel = region == reg
        dense = np.zeros(p.gdepth, np.uint32)
        dense[idx[sel]] = data[sel] & mask
        for base, n in spans:
            (folder / f"{name}_{base}.hex").write_text("\n".join(map("{:x}".format, dense[base : base + n].tolist()))
                                                       + "\n")
    return addrs[~conductance], data[~conductance]


def save_image(path: Path, addrs: np.ndarray, data: np.ndarray) -> None:
    atomic_save_npz(path, {"addrs": addrs.astype(np.uint32), "data": data.astype(np.uint32)})


def load_image(path: Path, p: Machine) -> tuple[np.ndarray, np.ndarray]:
    """Read and validate a memory image: regions, address ranges and value widths."""
    path = Path(path)
    arrays = read_npz(path, IRError, "RTL memory image", "re-run the 'cosim' stage")
    if "addrs" not in arrays or "data" not in arrays:
        raise IRError(f"{path}: the image must hold the arrays 'addrs' and 'data'")
    addrs, data = arrays["addrs"], arrays["data"]
    if addrs.dtype != np.uint32 or data.dtype != np.uint32 or addrs.ndim != 1 or addrs.shape != data.shape:
        raise IRError(f"{path}: the image must hold two equal-length 1-D uint32 arrays 'addrs' and 'data'")
    region, word = split(addrs)
    bad = ~np.isin(region, list(VALID_REGIONS))
    if bad.any():
        raise IRError(f"{path}: word {int(np.argmax(bad))} addresses unknown region {int(region[bad][0])}")
    n_t, n_out = sum(ly.row_tiles for ly in p.layers), sum(ly.out_features for ly in p.layers)
    limits = {REGION_GPOS: p.gdepth, REGION_GNEG: p.gdepth, REGION_ADC: n_t,
              REGION_RMULT: n_out, REGION_RBLO: n_out, REGION_RBHI: n_out,
              REGION_LAYER: SET_STRIDE * p.n_layers}
    for reg, lim in limits.items():
        sel = region == reg
        if sel.any() and word[sel].max() >= lim:
            raise IRError(f"{path}: region {reg} address {int(word[sel].max())} is beyond its {lim} words")
    g = (region == REGION_GPOS) | (region == REGION_GNEG)
    if g.any() and data[g].max() >= 2**p.gw:
        raise IRError(f"{path}: a conductance code exceeds {p.gw} bits")
    return addrs, data
