"""Error of each IR-drop option of the engine (``array.ir_drop``) against the exact sparse nodal solve, and their
cost. Prints JSON: one row per array size and wire resistance, with ``error_off`` (ignoring IR drop),
``error_approx`` (the static first-order model), ``error_solve`` (the exact transfer matrix), the seconds to solve
the transfer matrix of one array (once per programmed array: by line relaxation, and directly by sparse LU) and
of the reference solve.

Random conductances in the 5-50 uS window, random row voltages in [0, 0.2] V (every row driven; the tests check
the transfer matrix on partial drives too); error = max |I - I_exact| / max |I_exact| over the columns and inputs.
The reference (:func:`solve_exact`) is checked against the independent solver ``badcrossbar`` in
``tests/analog/test_irdrop.py``.

``network``: the 784-256-128-10 MLP (``benchmarks/_common.workload``: MNIST if present) on 256 x 256 arrays, 1 torch
thread: programming a chip and evaluating 10,000 images with ``array.ir_drop = "solve"`` against ``"off"``,
interleaved in one window; ``solve_over_off`` is the median of per-repetition ratios of the whole (programming,
where the transfer matrices are solved, plus evaluation), ``eval_solve_over_off`` that of the evaluation alone.
Usage: ``python benchmarks/irdrop_error.py [--sizes 128 256] [--repeats 3] [--no-network]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name
from reram.analog.irdrop import approx_factors, solve_exact, transfer_matrices, transfer_matrix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--wires", type=float, nargs="+", default=[0.5, 1.0, 2.5, 5.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-network", dest="network", action="store_false")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for size in args.sizes:
        for r_w in args.wires:
            g = rng.uniform(5e-6, 50e-6, (size, size))
            v = rng.uniform(0, 0.2, (8, size))
            t0 = time.perf_counter()
            exact = solve_exact(g, v, r_w)
            t_exact = time.perf_counter() - t0
            t0 = time.perf_counter()
            T = transfer_matrices(g[None], r_w)[0]
            t_solve = time.perf_counter() - t0
            t0 = time.perf_counter()
            transfer_matrix(g, r_w)
            t_lu = time.perf_counter() - t0
            scale = np.abs(exact).max()
            rows.append({
                "array": f"{size}x{size}", "wire_ohm_per_segment": r_w,
                "error_off": float(np.abs(v @ g - exact).max() / scale),
                "error_approx": float(np.abs(v @ (g * approx_factors(g, r_w)) - exact).max() / scale),
                "error_solve": float(np.abs(v @ T - exact).max() / scale),
                "solve_transfer_s": t_solve, "direct_lu_transfer_s": t_lu, "reference_solve_8_inputs_s": t_exact,
            })
    out: dict = {"cpu": cpu_name(), "rows": rows}
    if args.network:
        out["network"] = network(args.repeats)
    print(json.dumps(out, indent=2))


def network(repeats: int) -> dict:
    """The MLP on 256 x 256 arrays: program a chip and evaluate 10,000 images, IR drop solved against off."""
    import statistics
    from dataclasses import replace

    import torch

    from _common import workload
    from reram.analog import AnalogModel
    from reram.config import load_config
    from reram.config.presets import resolve_device
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    torch.set_num_threads(1)
    mlp, x_codes, calib, source = workload()
    cfg = load_config(None, ["calibration.finetune_iters=0", "array.rows=256", "array.cols=256"])
    dev = resolve_device(cfg)
    cm = compile_flow(mlp.eval(), cfg, replace(dev, ir_drop="off"), FLOW_SPECS["ideal"], calib, progress=False)
    x = torch.tensor(x_codes, dtype=torch.float32) / 255.0
    devs = {"off": replace(dev, ir_drop="off"), "solve": replace(dev, wire_resistance=dev.wire_resistance or 1.0,
                                                                   ir_drop="solve")}
    times: dict[str, list[tuple[float, float]]] = {"off": [], "solve": []}
    for r in range(repeats):
        for mode in (("off", "solve") if r % 2 == 0 else ("solve", "off")):
            t0 = time.perf_counter()
            model = AnalogModel(cm, devs[mode], seed=r)
            t1 = time.perf_counter()
            with torch.no_grad():
                model(x)
            times[mode].append((t1 - t0, time.perf_counter() - t1))
    whole = [(a + b) / (c + d) for (a, b), (c, d) in zip(times["solve"], times["off"], strict=True)]
    ev = [b / d for (_, b), (_, d) in zip(times["solve"], times["off"], strict=True)]
    return {"net": "mlp-784-256-128-10", "data": source, "images": len(x), "array": "256x256", "threads": 1,
            "arrays_per_chip": cm.total_arrays(), "wire_ohm_per_segment": devs["solve"].wire_resistance,
            "program_s": {k: statistics.median(t[0] for t in v) for k, v in times.items()},
            "evaluate_s": {k: statistics.median(t[1] for t in v) for k, v in times.items()},
            "solve_over_off": statistics.median(whole), "eval_solve_over_off": statistics.median(ev),
            "repeats": repeats}


if __name__ == "__main__":
    main()
