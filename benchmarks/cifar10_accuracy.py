"""Accuracy of a residual network on CIFAR-10, when the data are present: one ``reram run`` with
``data.dataset = "cifar10"`` (default ResNet-20), printing the software and analog test accuracy (mean and std over
the chips), the ablation, and the stage times as JSON. Without the data it prints the loader's one-line error naming
the download and the flag, and exits 2 (nothing is measured)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from reram.config import load_config
from reram.data import load_dataset
from reram.errors import DataError
from reram.pipeline import execute


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", default=None, help="folder with the CIFAR-10 archive (else $RERAM_DATA_DIR, cache)")
    ap.add_argument("--arch", default="resnet20", choices=("resnet8", "resnet20"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--set", action="append", default=[], help="more section.key=value overrides")
    ap.add_argument("--stages", default="data,train,compile,analog,calibrate")
    args = ap.parse_args()
    cfg = load_config(None, ['data.dataset="cifar10"', f'model.arch="{args.arch}"', f"train.epochs={args.epochs}",
                             "train.threads=0", *args.set])
    try:
        load_dataset("cifar10", args.data_dir, download=False, progress=False, verify=cfg.data.verify)
    except DataError as e:
        print(json.dumps({"measured": False, "error": str(e)}))
        return 2
    with tempfile.TemporaryDirectory() as runs:
        ctx = execute(cfg, Path(runs), name="cifar10", stages=args.stages.split(","), data_dir=args.data_dir,
                      progress=False)
        m = ctx.metrics
    out = {"measured": True, "arch": args.arch, "epochs": args.epochs,
           "software_test_accuracy": m["software"]["test_accuracy"],
           "analog_test_accuracy_mean": m.get("analog", {}).get("test_accuracy_mean"),
           "analog_test_accuracy_std": m.get("analog", {}).get("test_accuracy_std"),
           "chips": m.get("analog", {}).get("chips"), "ablation": m.get("calibration", {}).get("ablation"),
           "timing": m["timing"], "dataset": m["meta"].get("dataset")}
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
