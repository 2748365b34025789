"""Constrained-random RTL configurations (tests/reram_random.py), a longer sweep than the test's seed list: each
seed's design co-simulated against the golden model on random inputs and the stress inputs (codes, cycles,
counters) and under random stalls.

    python benchmarks/rtl_random_configs.py [--seeds 20] [--first 100]

Prints JSON: configurations, passed, failed (each seed with its design and the first difference), seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _common import cpu_name  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20, help="configurations to run (default 20)")
    ap.add_argument("--first", type=int, default=100, help="first seed (default 100: past the test's list)")
    args = ap.parse_args()

    import numpy as np

    from reram.errors import CosimError
    from reram.rtl.cosim import raise_on_mismatch, run_cosim
    from reram.rtl.stress import stress_inputs
    from reram_mutation import caught_under_stalls
    from reram_random import random_design

    t0 = time.perf_counter()
    passed, failed = [], []
    for seed in range(args.first, args.first + args.seeds):
        cm, chip, x, cfg, desc = random_design(seed)
        try:
            res = run_cosim(cm, chip, x, np.zeros(len(x), np.int64), cfg.rtl, progress=False, batch=4,
                            stress=stress_inputs(cm, chip, seed=seed))
            raise_on_mismatch(res)
            if caught_under_stalls(cm, chip, x, cfg.rtl):
                raise CosimError("codes or counters differ under stalls")
            passed.append(seed)
            print(f"seed {seed}: passed", file=sys.stderr, flush=True)
        except CosimError as e:
            failed.append({"seed": seed, "design": desc, "error": str(e)[:300]})
            print(f"seed {seed}: FAILED {e}", file=sys.stderr, flush=True)
    print(json.dumps({"configurations": len(passed) + len(failed), "passed": len(passed), "failed": failed,
                      "seeds": [args.first, args.first + args.seeds - 1], "seconds": time.perf_counter() - t0,
                      "cpu": cpu_name()}, indent=1, default=str))
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
