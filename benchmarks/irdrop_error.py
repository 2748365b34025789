"""Error of the fast IR-drop model against the exact sparse nodal solve, and of ignoring IR drop. Prints JSON.

Random conductances in the 5-50 uS window, random row voltages in [0, 0.2] V; error = max |I - I_exact| /
max |I_exact| over the columns and inputs.
"""

from __future__ import annotations

import json
import time

import numpy as np

from reram.analog.irdrop import approx_factors, solve_exact


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for size in (16, 32, 64, 128):
        for r_w in (0.5, 1.0, 2.0, 5.0):
            g = rng.uniform(5e-6, 50e-6, (size, size))
            v = rng.uniform(0, 0.2, (16, size))
            t0 = time.perf_counter()
            exact = solve_exact(g, v, r_w)
            t_exact = time.perf_counter() - t0
            scale = np.abs(exact).max()
            rows.append({
                "array": f"{size}x{size}", "wire_ohm_per_segment": r_w,
                "error_ignoring_ir_drop": float(np.abs(v @ g - exact).max() / scale),
                "error_fast_model": float(np.abs(v @ (g * approx_factors(g, r_w)) - exact).max() / scale),
                "exact_solve_s": t_exact,
            })
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
