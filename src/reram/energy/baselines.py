"""Digital edge baselines: vendors' peak specifications, with their sources. Data, not scattered constants."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Baseline:
    name: str
    ops_per_s: float | None
    power_w: float | None
    precision: str
    source: str
    note: str = ""

    @property
    def tops_per_w(self) -> float | None:
        if self.ops_per_s is None or self.power_w is None:
            return None
        return self.ops_per_s / 1e12 / self.power_w

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "tops": None if self.ops_per_s is None else self.ops_per_s / 1e12,
                "power_w": self.power_w, "tops_per_w": self.tops_per_w, "precision": self.precision,
                "source": self.source, "note": self.note, "boundary": "chip (vendor peak specification)"}


BASELINES = [
    Baseline("Google Coral Edge TPU", 4e12, 2.0, "int8", "Coral documentation: 4 TOPS int8 at 2 W"),
    Baseline("NVIDIA Jetson Nano (10 W mode)", 472e9, 10.0, "fp16",
             "NVIDIA documentation: 472 GFLOPS FP16 (128 CUDA cores at 921.6 MHz), 10 W power mode"),
    Baseline("NVIDIA Jetson Nano (5 W mode)", None, 5.0, "fp16",
             "NVIDIA documentation: 5 W power mode", note="no throughput is published for the 5 W mode"),
    Baseline("Intel Movidius Myriad X", 1e12, None, "fp16/int8",
             "Intel NCS2 documentation: 1 TOPS from its neural compute engine", note="no power figure published"),
    Baseline("ARM Cortex-M7 (STM32F7, 216 MHz) + CMSIS-NN", None, None, "int8",
             "Lai, Suda, Chandra, 'CMSIS-NN', arXiv:1801.06601 (2018): 10.1 CIFAR-10 images/s",
             note="throughput in images/s only and no cited power figure: no TOPS/W"),
]
