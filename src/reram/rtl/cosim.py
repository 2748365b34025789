"""Co-simulation: the Verilated RTL against the bit-exact golden model, batch by batch."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reram.chip.program import Chip
from reram.config.schema import RtlConfig
from reram.errors import CosimMismatch
from reram.golden import golden_forward
from reram.ir.core import CompiledModel

from .bridge import RtlSim
from .build import build_library
from .images import build_image, write_preload
from .params import rtl_params, rtl_supported
from .stress import StressSet
from .stress import coverage as input_coverage

log = logging.getLogger("reram")


def cosim_workers(setting: int) -> int:
    """Simulator instances run side by side: ``rtl.sim_workers``, or one per core this process may use (0)."""
    if setting > 0:
        return setting
    from reram.models.train import available_cores

    return available_cores()


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
    latency_cycles: int  # measured: first input beat to logits, idle pipeline (each batch's first sample)
    ii_cycles: int  # measured: cycles between the last two inferences of the longest batch (steady state)
    analytic_latency_cycles: int
    analytic_ii_cycles: int
    cycles_match: bool  # every sample's completion cycle equals the analytic schedule's
    clock_hz: float
    events: dict[str, int]
    golden_events: dict[str, int]
    build: dict
    sim_seconds: float
    load_seconds: float
    layers_compared: list[str] = field(default_factory=list)
    codes_per_layer: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)  # the first few, "sample s, layer L, index j: RTL a, golden b"
    mismatched_predictions: int = 0
    first_cycle_mismatch: str = ""
    conductance_load: str = "preload"  # how the arrays' codes got there: "preload" (files) or "host_bus"
    stress_samples: int = 0  # stress inputs co-simulated after the samples (:mod:`reram.rtl.stress`), compared alike
    stress_kinds: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, dict] = field(default_factory=dict)  # "samples" / "with_stress": :func:`stress.coverage`
    simulators: int = 1  # simulator instances that shared the batches (rtl.sim_workers)

    @property
    def mismatched_codes(self) -> int:
        return self.compared_codes - self.matched_codes

    @property
    def latency_s(self) -> float:
        return self.latency_cycles / self.clock_hz

    @property
    def throughput_per_s(self) -> float:
        return self.clock_hz / self.ii_cycles

    def to_metrics(self) -> dict:
        return {
            "samples": self.samples, "compared_codes": self.compared_codes,
            "mismatched_codes": self.mismatched_codes, "mismatched_predictions": self.mismatched_predictions,
            "first_mismatches": self.mismatches, "codes_per_layer": self.codes_per_layer,
            "hw_accuracy": self.hw_accuracy, "golden_accuracy": self.golden_accuracy,
            "latency_cycles": self.latency_cycles, "analytic_latency_cycles": self.analytic_latency_cycles,
            "ii_cycles": self.ii_cycles, "analytic_ii_cycles": self.analytic_ii_cycles,
            "cycles_match_analytic": self.cycles_match,
            "latency_s": self.latency_s, "throughput_per_s": self.throughput_per_s, "events": self.events,
            "events_match_golden": all(self.events[k] == self.golden_events[k] for k in self.golden_events),
            "layers_compared": self.layers_compared, "conductance_load": self.conductance_load,
            "stress_samples": self.stress_samples, "stress_kinds": self.stress_kinds, "coverage": self.coverage,
            "simulators": self.simulators,
            "build": {k: v for k, v in self.build.items() if k in ("key", "verilator", "generated_cpp_bytes")},
        }


EVENT_KEYS = ("dac_row_activations", "array_reads", "adc_conversions", "shift_adds", "input_buffer_reads",
              "output_buffer_writes", "residual_adds")


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
    """:class:`CosimMismatch` with the counts and the first differing code, if anything differed, if the RTL's
    cycles differ from the analytic schedule, or if its event counters differ from the golden model's counts."""
    if not res.cycles_match:
        raise CosimMismatch(f"the RTL's cycles differ from the analytic schedule: {res.first_cycle_mismatch}")
    if res.mismatched_codes or res.mismatched_predictions:  # before the counters: wrong codes change them too
        first = res.mismatches[0] if res.mismatches else "argmax only"
        raise CosimMismatch(f"RTL differs from the golden model in {res.mismatched_codes} of {res.compared_codes} "
                            f"codes and {res.mismatched_predictions} of {res.samples} predictions; first: {first}")
    bad = [k for k in res.golden_events if res.events.get(k) != res.golden_events[k]]
    if bad:
        raise CosimMismatch("the RTL's event counters differ from the golden model's counts: " + ", ".join(
            f"{k} RTL {res.events.get(k)}, golden {res.golden_events[k]}" for k in bad))


def cosim_plan(cm: CompiledModel, rcfg: RtlConfig, samples: int, batch: int = 100) -> dict:
    """What a co-simulation of ``samples`` inputs will do, before any build: the machine (every RTL limit checked),
    the analytic latency and initiation interval, the watchdog budget per batch, the layers compared and whether
    stress inputs follow the samples (``rtl.stress``)."""
    m = rtl_params(cm, rcfg)
    rtl_supported(m)
    n_batch = min(batch, samples)
    expected = m.schedule(n_batch)
    return {"machine": m.to_dict(), "latency_cycles": m.latency_cycles, "ii_cycles": m.ii_cycles,
            "budget": int(expected[-1] * rcfg.watchdog_factor) + 16, "samples": samples, "batch": n_batch,
            "layers_compared": [ly.name for ly in cm.layers], "clock_hz": rcfg.clock_hz, "stress": rcfg.stress}


def run_cosim(cm: CompiledModel, chip: Chip, x_codes: np.ndarray, labels: np.ndarray, rcfg: RtlConfig,
              waves: Path | None = None, progress: bool = True, batch: int = 100,
              image: tuple[np.ndarray, np.ndarray] | None = None, preload: bool = True,
              stress: StressSet | None = None, coverage_file: Path | None = None) -> CosimResult:
    """Stream ``x_codes`` (N, in) through the RTL in batches and compare every layer's output codes of every sample
    with the golden model, and every sample's completion cycle with the analytic schedule
    (:func:`raise_on_mismatch` turns a difference into :class:`CosimMismatch`). ``image`` replaces the memory image
    built from ``cm`` and ``chip`` (e.g. one read by ``load_image``). ``preload``: the arrays' conductance codes
    are preloaded from files (:func:`write_preload`, the same memory contents) and only the other words go through
    the host bus; ``False`` writes every word through the host bus, one clock cycle each. ``stress``: inputs
    co-simulated after the samples and compared alike (codes, cycles, counters), left out of the accuracies.
    ``coverage_file``: build with Verilator's line and toggle coverage and write what this run reached there."""
    from reram.progress import progress_bar

    n_data = len(x_codes)
    if stress is not None and len(stress):
        x_codes = np.concatenate([np.asarray(x_codes, np.int64), stress.codes])
    plan = cosim_plan(cm, rcfg, len(x_codes), batch)
    m = rtl_params(cm, rcfg)
    fmt = None if waves is None else ("vcd" if Path(waves).suffix.lower() == ".vcd" else "fst")
    lib, manifest = build_library(m, trace=fmt, progress=progress, coverage=coverage_file is not None)
    x_codes = np.ascontiguousarray(x_codes, dtype=np.uint16)
    n = len(x_codes)
    sat: list = []
    golden = golden_forward(cm, chip, x_codes.astype(np.int64), collect_events=True, saturation=sat)
    n_layers = len(cm.layers)
    sizes = [ly.out_size for ly in cm.layers[:-1]]
    logits = np.zeros((n, cm.layers[-1].out_features), np.int64)
    preds = np.zeros(n, np.int32)
    caps = [np.zeros((n, s), np.int64) for s in sizes]
    first: list[str] = []
    cycle_note = ""
    latency = ii = 0
    addrs, data = build_image(cm, chip, m) if image is None else image
    step = plan["batch"]
    bounds = list(range(0, n, step))
    if waves is not None and n > 4:  # trace only the first few samples
        bounds = [0, *range(4, n, step)]
    batches = [slice(i, bounds[k + 1] if k + 1 < len(bounds) else n) for k, i in enumerate(bounds)]
    wants = [m.schedule(sl.stop - sl.start) for sl in batches]  # each sample's completion cycle, analytic
    single = waves is not None or coverage_file is not None  # one simulator writes the waves or the coverage
    n_workers = 1 if single else max(1, min(len(batches), cosim_workers(rcfg.sim_workers)))
    # worker w simulates a contiguous share of the batches on its own simulator (its own copy of the library, so the
    # instances share nothing; ctypes releases the GIL for the whole batch); each batch starts on an idle pipeline,
    # so codes, cycles and summed event counts are those of one simulator running every batch
    shares = [list(part) for part in np.array_split(np.arange(len(batches)), n_workers)]
    got_cycles: list[np.ndarray | None] = [None] * len(batches)
    counters: list[dict[str, int]] = []
    sim_starts: list[float] = []  # when each simulator, loaded, began its first batch
    lock = threading.Lock()
    stop = threading.Event()

    with tempfile.TemporaryDirectory(prefix="reram-gmem-") as gdir, \
            progress_bar("co-simulation", progress, transient=True) as bar:
        t0 = time.perf_counter()
        if preload:  # written before the simulators start: their initial blocks read them
            addrs, data = write_preload(Path(gdir), addrs, data, m)
        task = bar.add_task("cosim", total=n)

        def simulate(share: list[int]) -> None:
            try:
                _simulate(share)
            except BaseException:
                stop.set()  # the other simulators stop after their current batch
                raise

        def _simulate(share: list[int]) -> None:
            nonlocal waves
            with RtlSim(lib, plusargs=[f"+gmem={gdir}"] if preload else []) as sim:
                sim.write_block(addrs, data)
                sim.clear_counters()
                with lock:
                    sim_starts.append(time.perf_counter())
                if waves is not None:
                    sim.trace_open(waves)
                for k in share:
                    if stop.is_set():
                        return
                    sl = batches[k]
                    logits[sl], preds[sl], got, cap = sim.run_batch(
                        x_codes[sl], logits.shape[1], int(wants[k][-1] * rcfg.watchdog_factor) + 16, sizes, n_layers)
                    for c, arr in zip(caps, cap, strict=True):
                        c[sl] = arr
                    got_cycles[k] = got
                    bar.advance(task, sl.stop - sl.start)
                    if waves is not None and sl.stop >= min(4, n):
                        sim.trace_close()
                        waves = None
                with lock:
                    counters.append(sim.counters())
                if coverage_file is not None:
                    sim.coverage_write(coverage_file)

        if n_workers == 1:
            simulate(shares[0])
        else:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                futures = [pool.submit(simulate, share) for share in shares]
                try:
                    for fut in futures:
                        fut.result()  # a simulator's error (a hang caught by the watchdog) is raised here
                except BaseException:  # an error or Ctrl-C: the simulators stop after their current batch
                    stop.set()
                    raise
        sim_s = time.perf_counter() - min(sim_starts)  # the batches' wall time, the loading before them left out
    load_s = min(sim_starts) - t0
    events = {key: sum(c[key] for c in counters) for key in counters[0]}
    for k, (sl, want, got) in enumerate(zip(batches, wants, got_cycles, strict=True)):
        assert got is not None
        nb = sl.stop - sl.start
        bad = np.nonzero(got.astype(np.int64) != np.asarray(want, np.int64))[0]
        if len(bad) and not cycle_note:
            j = int(bad[0])
            cycle_note = (f"sample {sl.start + j} of a batch of {nb} finished at cycle {int(got[j])}, the "
                          f"analytic schedule says {want[j]}")
        if k == 0:
            latency = int(got[0])
        if nb >= 2 and (ii == 0 or nb >= step):
            ii = int(got[-1]) - int(got[-2])
    compared = mismatched = 0
    per_layer: dict[str, int] = {}
    for li in range(n_layers - 1):
        name = cm.layers[li].name
        compared += caps[li].size
        per_layer[name] = caps[li].size
        mismatched += compare_codes(name, caps[li], golden.layer_outputs[li], first)
    compared += logits.size
    per_layer[cm.layers[-1].name] = logits.size
    mismatched += compare_codes(cm.layers[-1].name, logits, golden.logits, first)
    if ii == 0:
        ii = m.ii_cycles if n < 2 else ii
    cover = {"samples": input_coverage(cm, x_codes, sat, golden.layer_outputs, n_data)}
    if n > n_data:
        cover["with_stress"] = input_coverage(cm, x_codes, sat, golden.layer_outputs)
    return CosimResult(
        samples=n_data, compared_codes=compared, matched_codes=compared - mismatched, mismatches=first,
        mismatched_predictions=int((preds != golden.predictions).sum()),
        hw_accuracy=float((preds[:n_data] == labels[:n_data]).mean()),
        golden_accuracy=float((golden.predictions[:n_data] == labels[:n_data]).mean()),
        latency_cycles=latency, ii_cycles=ii, analytic_latency_cycles=m.latency_cycles,
        analytic_ii_cycles=m.ii_cycles, cycles_match=not cycle_note, first_cycle_mismatch=cycle_note,
        clock_hz=rcfg.clock_hz,
        events={k: events[k] for k in (*EVENT_KEYS, "busy_cycles")},
        golden_events={k: golden.events.get(k, 0) for k in EVENT_KEYS}, build=manifest, sim_seconds=sim_s,
        load_seconds=load_s, layers_compared=[ly.name for ly in cm.layers], codes_per_layer=per_layer,
        conductance_load="preload" if preload else "host_bus", stress_samples=n - n_data,
        stress_kinds=dict(stress.kinds) if stress is not None else {}, coverage=cover, simulators=n_workers,
    )
