"""Training time and test accuracy of the default MLP on full MNIST (2 cores). Prints JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from reram.config import load_config
from reram.data import load_dataset, make_splits
from reram.models import train_mlp


def main() -> None:
    cfg = load_config()
    data_dir = os.environ.get("RERAM_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared/data/mnist")
    import time

    t0 = time.perf_counter()
    ds = load_dataset("mnist", data_dir, download=False, progress=False)
    load_s = time.perf_counter() - t0
    sp = make_splits(ds, cfg.run.seed, cfg.data.calib_size)
    res = train_mlp(sp.train_x, sp.train_y, sp.test_x, sp.test_y, cfg.model, cfg.train, cfg.run.seed, progress=False)
    print(json.dumps({"data_load_s": load_s, "load_target_s": 2.0, "train_seconds": res.train_seconds,
                      "train_target_s": 90.0, "test_accuracy": res.test_accuracy, "accuracy_target": 0.98,
                      "epochs": cfg.train.epochs, "train_samples": len(sp.train_y)}, indent=2))


if __name__ == "__main__":
    main()
