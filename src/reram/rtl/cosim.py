"""Co-simulation: the Verilated RTL against the bit-exact golden model, batch by batch."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reram.analog.program import Chip
from reram.compile.ir import CompiledModel
from reram.config.schema import RtlConfig
from reram.errors import CompileError, CosimMismatch
from reram.golden import golden_forward

from .bridge import RtlSim
from .build import build_library
from .images import build_image
from .params import analytic_cycles, rtl_params

log = logging.getLogger("reram")


RTL_MODEL_NOTE = (
    "The RTL and the golden model compute on chip 0's programmed integer conductance codes with an ideal integer "
    "crossbar: the engine's IR drop and read noise are not in them, while chip 0's per-chip bias fit was made "
    "with the engine. engine_accuracy is the engine's accuracy on the same chip and samples."
)


@dataclass
class CosimResult:
    samples: int
    compared_codes: int
    matched_codes: int
    hw_accuracy: float
    golden_accuracy: float
    cycles_per_inference: float
    analytic_cycles: int
    latency_s: float
    throughput_per_s: float
    events: dict[str, int]
    golden_events: dict[str, int]
    build: dict
    sim_seconds: float
    load_seconds: float
    layers_compared: list[str] = field(default_factory=list)

    mismatches: list[str] = field(default_factory=list)  # the first few, "sample s, layer L, index j: RTL a, golden b"
    mismatched_predictions: int = 0

    @property
    def mismatched_codes(self) -> int:
        return self.compared_codes - self.matched_codes

    def to_metrics(self) -> dict:
        return {
            "samples": self.samples, "compared_codes": self.compared_codes,
            "mismatched_codes": self.mismatched_codes, "mismatched_predictions": self.mismatched_predictions,
            "first_mismatches": self.mismatches,
            "hw_accuracy": self.hw_accuracy, "golden_accuracy": self.golden_accuracy,
            "cycles_per_inference": self.cycles_per_inference, "analytic_cycles_per_inference": self.analytic_cycles,
            "latency_s": self.latency_s, "throughput_per_s": self.throughput_per_s, "events": self.events,
            "events_match_golden": all(self.events[k] == self.golden_events[k] for k in self.golden_events),
            "layers_compared": self.layers_compared,
            "build": {k: v for k, v in self.build.items() if k in ("key", "verilator", "generated_cpp_bytes")},
        }


EVENT_KEYS = ("dac_row_activations", "array_reads", "adc_conversions", "shift_adds", "input_buffer_reads",
              "output_buffer_writes")


def compare_codes(layer: str, got: np.ndarray, want: np.ndarray, first: list[str], sample0: int = 0,
                  keep: int = 5) -> int:
    """Count the differing codes of ``got`` (samples, codes) against ``want``; note the first few in ``first``."""
    got, want = np.atleast_2d(got), np.atleast_2d(want)
    diff = got != want
    for s, j in zip(*np.nonzero(diff), strict=True):
        if len(first) >= keep:
            break
        first.append(f"sample {sample0 + int(s)}, layer {layer}, index {int(j)}: RTL {got[s, j]}, golden {want[s, j]}")
    return int(diff.sum())


def raise_on_mismatch(res: CosimResult) -> None:
    """:class:`CosimMismatch` with the counts and the first differing code, if anything differed, or if the RTL's
    cycles per inference differ from the analytic model."""
    if res.cycles_per_inference != res.analytic_cycles:
        raise CosimMismatch(f"the RTL took {res.cycles_per_inference:g} cycles per inference on average; the analytic "
                            f"model says {res.analytic_cycles}")
    if res.mismatched_codes or res.mismatched_predictions:
        first = res.mismatches[0] if res.mismatches else "argmax only"
        raise CosimMismatch(f"RTL differs from the golden model in {res.mismatched_codes} of {res.compared_codes} "
                            f"codes and {res.mismatched_predictions} of {res.samples} predictions; first: {first}")


def cosim_plan(cm: CompiledModel, rcfg: RtlConfig, samples: int, trace_layers: bool) -> dict:
    """What a co-simulation of ``samples`` inputs will do, before any build: the RTL parameters (every width
    checked), the analytic cycles, the watchdog budget, the samples and the layers compared."""
    conv = [ly.name for ly in cm.layers if ly.kind != "dense"]
    if conv:
        raise CompileError(f"the RTL has no convolution or pooling yet (layers {', '.join(conv)}); co-simulate "
                           "dense networks only")
    p = rtl_params(cm, rcfg)
    expected = analytic_cycles(p)
    n_layers = len(cm.layers)
    traced = [cm.layers[li].name for li in range(max(0, n_layers - 3), n_layers - 1)] if trace_layers else []
    return {"params": p.to_dict(), "analytic_cycles": expected, "budget": int(expected * rcfg.watchdog_factor) + 16,
            "samples": samples, "layers_compared": [*traced, cm.layers[-1].name], "clock_hz": rcfg.clock_hz}


def run_cosim(cm: CompiledModel, chip: Chip, x_codes: np.ndarray, labels: np.ndarray, rcfg: RtlConfig,
              trace_layers: bool = False, waves: Path | None = None, progress: bool = True,
              batch: int = 100, image: tuple[np.ndarray, np.ndarray] | None = None) -> CosimResult:
    """Run ``x_codes`` (N, in) through the RTL and the golden model and count every differing code and prediction
    over the whole batch (:func:`raise_on_mismatch` turns a non-zero count into :class:`CosimMismatch`).
    ``image`` replaces the memory image built from ``cm`` and ``chip`` (e.g. one read by ``load_image``)."""
    from reram.progress import progress_bar

    plan = cosim_plan(cm, rcfg, len(x_codes), trace_layers)
    p = rtl_params(cm, rcfg)
    fmt = None if waves is None else ("vcd" if Path(waves).suffix.lower() == ".vcd" else "fst")
    lib, manifest = build_library(p, trace=fmt, progress=progress)
    expected, budget = plan["analytic_cycles"], plan["budget"]
    x_codes = np.ascontiguousarray(x_codes, dtype=np.uint16)
    n = len(x_codes)
    golden = golden_forward(cm, chip, x_codes.astype(np.int64), collect_events=True)
    logits = np.zeros((n, cm.layers[-1].out_features), np.int64)
    preds = np.zeros(n, np.int32)
    cycles = np.zeros(n, np.uint32)
    n_layers = len(cm.layers)
    compared = mismatched = 0
    first: list[str] = []
    with RtlSim(lib) as sim:
        t0 = time.perf_counter()
        addrs, data = build_image(cm, chip, p) if image is None else image
        sim.write_block(addrs, data)
        load_s = time.perf_counter() - t0
        sim.clear_counters()
        if waves is not None:
            sim.trace_open(waves)
        t0 = time.perf_counter()
        step = 1 if trace_layers else batch
        bounds = list(range(0, n, step))
        if waves is not None and not trace_layers and n > 4:  # trace only the first few samples
            bounds = [0, *range(4, n, step)]
        with progress_bar("co-simulation", progress, transient=True) as bar:
            task = bar.add_task("cosim", total=n)
            for k, i in enumerate(bounds):
                sl = slice(i, bounds[k + 1] if k + 1 < len(bounds) else n)
                logits[sl], preds[sl], cycles[sl] = sim.run_batch(x_codes[sl], logits.shape[1], cm.arch.dac_bits,
                                                                  budget)
                if trace_layers:
                    # the ping-pong activation buffers still hold the last two hidden layers' outputs
                    for li in range(max(0, n_layers - 3), n_layers - 1):
                        got = sim.read_buffer((li + 1) % 2, cm.layers[li].out_features)
                        want = golden.layer_outputs[li][i]
                        compared += got.size
                        mismatched += compare_codes(cm.layers[li].name, got, want, first, sample0=i)
                bar.advance(task, sl.stop - sl.start)
                if waves is not None and sl.stop >= min(4, n):
                    sim.trace_close()
                    waves = None
        sim_s = time.perf_counter() - t0
        events = sim.counters()
    layers_compared = plan["layers_compared"]
    compared += logits.size
    mismatched += compare_codes(cm.layers[-1].name, logits, golden.logits, first)
    cyc = float(cycles.mean())
    latency = cyc / rcfg.clock_hz
    return CosimResult(
        samples=n, compared_codes=compared, matched_codes=compared - mismatched, mismatches=first,
        mismatched_predictions=int((preds != golden.predictions).sum()),
        hw_accuracy=float((preds == labels[:n]).mean()),
        golden_accuracy=float((golden.predictions == labels[:n]).mean()),
        cycles_per_inference=cyc, analytic_cycles=expected, latency_s=latency, throughput_per_s=1.0 / latency,
        events={k: events[k] for k in (*EVENT_KEYS, "busy_cycles")},
        golden_events={k: golden.events[k] for k in EVENT_KEYS}, build=manifest, sim_seconds=sim_s,
        load_seconds=load_s, layers_compared=layers_compared,
    )
