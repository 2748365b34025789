"""The stages of ``reram run``: an explicit, ordered list. Each reads earlier stages' outputs."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from reram.chip.program import save_chip
from reram.fsutil import atomic_save_npz, atomic_write_json

from .context import RunContext

log = logging.getLogger("reram")


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[RunContext], None]
    needs: tuple[str, ...] = ()  # files in the run folder that must exist if the producing stage is skipped
    produces: tuple[str, ...] = ()
    help: str = ""
    tools: Callable[[], object] | None = None  # raises ToolchainError (with its fix) when a tool it needs is missing
    applies: Callable[[RunContext], str | None] | None = None  # why the stage does not apply to this run's model

    def not_applicable(self, ctx: RunContext) -> str | None:
        """Why this stage does not apply to the run's model (None: it does)."""
        return None if self.applies is None else self.applies(ctx)

    def missing_tool(self):  # -> reram.errors.ToolchainError | None
        """The error of an external tool this stage needs and cannot find (None: it can run)."""
        from reram.errors import ToolchainError

        if self.tools is None:
            return None
        try:
            self.tools()
        except ToolchainError as e:
            return e
        return None


def stage_data(ctx: RunContext) -> None:
    ds = ctx.dataset
    sp = ctx.splits
    meta = ctx.metrics["meta"]
    meta["dataset"] = ds.describe()
    meta["splits"] = {"train": len(sp.train_y), "calibration": len(sp.calib_y)}
    if sp.val_y is not None:
        meta["splits"]["validation"] = len(sp.val_y)
    meta["splits"]["test"] = len(sp.test_y)


def model_spec(ctx: RunContext) -> dict:
    """The network of the configuration for this dataset: input shape and class count come from the data."""
    from reram.models import spec_from_config

    ds = ctx.dataset
    in_shape = ds.image_shape if len(ds.image_shape) == 3 else (1, *ds.image_shape)
    classes = int(max(ds.train_labels.max(), ds.test_labels.max())) + 1
    return spec_from_config(ctx.cfg.model, in_shape, classes)


def stage_train(ctx: RunContext) -> None:
    from reram.models import save_weights, train_model

    sp = ctx.splits
    cfg = ctx.cfg
    spec = model_spec(ctx)
    if ctx.model_file:  # a user's trained network: evaluated, not trained
        import torch

        from reram.models import accuracy, load_user_weights, predict

        model = load_user_weights(Path(ctx.model_file), spec)
        acc = accuracy(predict(model, torch.tensor(sp.test_x, dtype=torch.float32) / 255.0), sp.test_y)
        save_weights(model, ctx.path("model.safetensors"), spec)
        ctx.cache["model"] = model
        ctx.metrics["software"] = {"test_accuracy": acc, "test_samples": len(sp.test_y), "train_samples": 0,
                                   "source": f"--model-file {ctx.model_file} (not trained by reram)",
                                   "parameters": sum(p.numel() for p in model.parameters()), "model": spec,
                                   "architecture": None, "history": []}
        log.info("software test accuracy %.4f of %s", acc, ctx.model_file)
        return
    hwa = None
    if cfg.train.hwa:
        from reram.models.hwa import matched_noise

        hwa = matched_noise(cfg, cfg.train.hwa_noise_scale)
    res = train_model(sp.train_x, sp.train_y, sp.test_x, sp.test_y, cfg.model, cfg.train, cfg.run.seed,
                      progress=ctx.progress, spec=spec, hwa=hwa)
    save_weights(res.model, ctx.path("model.safetensors"), spec)
    atomic_write_json(ctx.path("train_history.json"), res.history)
    ctx.cache["model"] = res.model
    n_params = sum(p.numel() for p in res.model.parameters())
    ctx.metrics["software"] = {
        "test_accuracy": res.test_accuracy,
        "test_samples": len(sp.test_y),
        "train_samples": len(sp.train_y),
        "epochs": cfg.train.epochs,
        "parameters": n_params,
        "architecture": [784, *cfg.model.hidden, 10] if cfg.model.arch == "mlp" else None,
        "model": spec,
        "history": res.history,
        "hardware_aware": None if hwa is None else hwa.to_dict(),
    }
    ctx.metrics["timing"]["train_seconds"] = res.train_seconds
    log.info("software test accuracy %.4f after %.1f s of training", res.test_accuracy, res.train_seconds)


def _calib_float(ctx: RunContext) -> np.ndarray:
    return ctx.splits.to_float(ctx.splits.calib_x)


def stage_compile(ctx: RunContext) -> None:
    from reram.config.presets import resolve_device
    from reram.pipeline.flows import FLOW_SPECS, compile_flow

    cfg = ctx.cfg
    dev = resolve_device(cfg)
    spec = FLOW_SPECS[cfg.calibration.flow]
    sp = ctx.splits
    t0 = time.perf_counter()
    kept = None
    if spec.finetune and spec.bias_recal and cfg.calibration.finetune_iters > 0:
        # fine-tuning is kept only when it raises the accuracy on the calibration split (never the test split)
        plain = compile_flow(ctx.model, cfg, dev, replace(spec, finetune=False), _calib_float(ctx), seed=cfg.run.seed,
                             progress=ctx.progress)
        cm = compile_flow(ctx.model, cfg, dev, spec, _calib_float(ctx), sp.train_x, sp.train_y, seed=cfg.run.seed,
                          progress=ctx.progress, base=plain)
        kept = _keep_finetune(ctx, cm, plain, dev)
        ctx.cache["tuned_compiled"] = cm  # the ablation's step 7, whichever the flow keeps
        if not kept["kept"]:
            plain.flow = spec.name
            plain.meta["flow_spec"] = {k: v for k, v in spec.__dict__.items()} | {"finetune": False}
            cm = plain
    else:
        cm = compile_flow(ctx.model, cfg, dev, spec, _calib_float(ctx), sp.train_x, sp.train_y, seed=cfg.run.seed,
                          progress=ctx.progress)
    ctx.metrics["timing"]["compile_seconds"] = time.perf_counter() - t0
    ctx.metrics["calibration"]["kept_steps"] = None if kept is None else {"hw_aware_finetune": kept}
    cm.meta["device"] = dev.to_dict()
    cal_arch = [{"layer": ly.name, "op": ly.kind, "in": ly.in_size, "rows": ly.in_features, "out": ly.out_features,
                 "positions": ly.positions, "pool": ly.pool["kind"] if ly.pool else None, "relu": ly.relu,
                 "macs": ly.macs, "arrays": ly.row_tiles(cm.arch) * ly.col_tiles(cm.arch), "src": ly.src,
                 "add_src": ly.add_src, "out_signed": ly.out_signed} for ly in cm.layers]
    ctx.metrics["calibration"]["architecture"] = cal_arch
    if cm.is_chain and ("cosim" in ctx.stages or "synth" in ctx.stages):  # every RTL limit, before the long stages
        from reram.errors import CompileError
        from reram.rtl.params import rtl_params, rtl_supported

        try:
            rtl_supported(rtl_params(cm, cfg.rtl))
        except CompileError as e:
            raise CompileError(f"RTL: {e} (or leave out the cosim stage with --stages)") from None
    cm.save(ctx.path("compiled"))
    ctx.cache["compiled"] = cm
    cal = ctx.metrics["calibration"]
    cal["flow"] = cm.flow
    cal["passes"] = list(cm.passes)
    cal["arrays"] = cm.meta.get("arrays")
    cal["adc_bits"] = cm.arch.adc_bits
    cal["weight_scale"] = cm.meta.get("weight_scale", "layer")
    cal["tiles"] = cm.meta.get("tiles")
    cal["layers"] = [{"layer": ly.name, "in_scale": ly.in_scale, "w_max": ly.w_max, "adc_range": ly.adc_range,
                      "adc_signed": ly.adc_signed, "adc_mult": ly.adc_mult, "adc_shift": ly.adc_shift}
                     for ly in cm.layers]


def _keep_finetune(ctx: RunContext, tuned, plain, dev) -> dict:
    """Calibration-split accuracy of the fine-tuned and the plain compiled model on the same chips (each with its
    per-chip re-calibration), and whether fine-tuning is kept."""
    from reram.pipeline.evaluate import measure
    from reram.pipeline.flows import FLOW_SPECS

    cfg, sp = ctx.cfg, ctx.splits
    chips = min(3, cfg.analog.chips)
    acc = {}
    for name, cm in (("with", tuned), ("without", plain)):
        ev = measure(cm, cfg, sp, FLOW_SPECS["default"], chips, split="calibration", progress=ctx.progress,
                     label=f"fine-tuning check ({name})", dev=dev)
        acc[name] = ev.summary["test_accuracy_mean"]
    kept = acc["with"] > acc["without"]
    log.info("hardware-aware fine-tuning %s: calibration-split accuracy %.4f with, %.4f without (%d chips)",
             "kept" if kept else "dropped", acc["with"], acc["without"], chips)
    return {"kept": kept, "calib_accuracy_with": acc["with"], "calib_accuracy_without": acc["without"],
            "chips": chips, "split": "calibration"}


def stage_analog(ctx: RunContext) -> None:
    from reram.chip.device import noise_free
    from reram.config.presets import resolve_device
    from reram.pipeline.evaluate import measure, to_device
    from reram.pipeline.flows import FLOW_SPECS

    cfg = ctx.cfg
    cm = ctx.compiled
    dev = resolve_device(cfg)
    if cm.flow == "ideal":
        dev = noise_free(dev)
    t0 = time.perf_counter()
    ev = measure(cm, cfg, ctx.splits, FLOW_SPECS[cfg.calibration.flow], cfg.analog.chips, dev=dev,
                 device=to_device(cfg.analog.device), progress=ctx.progress, label="analog chips")
    evals = ev.chips
    ctx.metrics["timing"]["analog_seconds"] = time.perf_counter() - t0
    summary = {k: v for k, v in ev.summary.items() if k != "passes"}
    summary["device"] = {k: v for k, v in dev.to_dict().items() if k != "citations"}
    summary["citations"] = dev.citations
    summary["recal_residuals"] = [e.recal_residuals for e in evals]
    if ctx.metrics.get("analog", {}).get("sensitivity") is not None:  # a rerun keeps the sweeps' results
        summary["sensitivity"] = ctx.metrics["analog"]["sensitivity"]
    if dev.wire_resistance > 0 and dev.ir_drop != "off":
        from reram.analog.irdrop import chip_summary

        source = dev.citations.get("wire_resistance", "set in the configuration")
        summary["ir_drop"] = chip_summary(cm.layers, cm.arch, evals[0].chip.layers, dev.wire_resistance,
                                          dev.ir_drop) | {"wire_source": source}
    ctx.metrics["analog"] = summary
    save_chip(ctx.path("chip0.npz"), evals[0].chip)
    atomic_save_npz(ctx.path("adc_samples.npz"), {f"layer{i}": s for i, s in enumerate(evals[0].adc_samples)})
    assert evals[0].predictions is not None
    atomic_save_npz(ctx.path("analog_predictions.npz"), {"predictions": evals[0].predictions.astype(np.int64),
                                                         "labels": np.asarray(ctx.splits.test_y, np.int64)})
    log.info("analog test accuracy %.4f +- %.4f over %d chips", summary["test_accuracy_mean"],
             summary["test_accuracy_std"], len(evals))


def stage_calibrate(ctx: RunContext) -> None:
    """The calibration ablation: test accuracy after each flow step, mean and std over chips."""
    from reram.pipeline.ablation import run_ablation

    cfg = ctx.cfg
    if not cfg.calibration.ablation:
        ctx.metrics["calibration"]["ablation"] = None
        return
    reuse = ctx.metrics.get("analog") if cfg.calibration.flow == "default" else None
    t0 = time.perf_counter()

    def second_row() -> dict | None:  # step 8 from a worker process, if one computes it
        return ctx.background.take("second_network") if ctx.background is not None else None

    rows = run_ablation(ctx.model, cfg, ctx.splits, ctx.compiled if reuse else None, reuse, progress=ctx.progress,
                        model_spec=None if ctx.model_file or not cfg.calibration.ablation_second_network
                        else model_spec(ctx),
                        tuned_cm=ctx.cache.get("tuned_compiled") if cfg.calibration.flow == "default" else None,
                        second_row=second_row)
    ctx.metrics["timing"]["ablation_seconds"] = time.perf_counter() - t0
    for row in rows:  # wall times live in timing only
        if "train_seconds" in row:
            ctx.metrics["timing"]["ablation_second_network_train_seconds"] = row.pop("train_seconds")
    ctx.metrics["calibration"]["ablation"] = rows
    ctx.metrics["calibration"]["ablation_second_network"] = cfg.calibration.ablation_second_network
    ctx.metrics["calibration"]["finetune_iters"] = cfg.calibration.finetune_iters


def stage_sensitivity(ctx: RunContext) -> None:
    """Test accuracy against programming sigma, ADC bits and cell bits. Its points are independent: a worker process
    computes them from the end of training on (:func:`start_background`), this process the ones left."""
    from reram.pipeline.sensitivity import assemble, distinct_points, sensitivity_point

    cfg = ctx.cfg
    if cfg.analog.sensitivity_chips == 0:
        ctx.metrics["analog"]["sensitivity"] = None
        return
    t0 = time.perf_counter()
    todo, same = distinct_points(cfg)
    results = {}
    for name, value in reversed(todo):  # from the back of the worker's queue: both processes busy to the end
        row = ctx.background.take(f"sensitivity {name}={value}") if ctx.background is not None else None
        if row is None:
            row = sensitivity_point(ctx.model, cfg, ctx.splits, name, value, cfg.analog.sensitivity_chips,
                                    progress=ctx.progress)
        results[(name, value)] = row
    res = assemble(results, same)
    ctx.metrics["timing"]["sensitivity_seconds"] = time.perf_counter() - t0
    ctx.metrics["analog"]["sensitivity"] = res
    atomic_write_json(ctx.path("sensitivity.json"), res)


def start_background(ctx: RunContext, remaining: list[str]) -> None:
    """Before each stage: start in a worker process the jobs whose inputs exist and whose stage is still to run
    (:mod:`reram.pipeline.background`): the ablation's second network needs only the data (once the data stage has
    loaded, or downloaded, it); the sensitivity sweeps' points need the trained network (once no train stage is left
    to run). Once the compile stage has fixed the machine, its Verilator build and synthesis start too."""
    if "compile" not in remaining and ctx.path("compiled/ir.json").exists():
        _start_rtl_jobs(ctx, remaining)
    bg = ctx.background
    if bg is None or not bg.enabled:
        return
    from reram.pipeline.background import second_network_job, sensitivity_point_job
    from reram.pipeline.sensitivity import distinct_points, sensitivity_point

    cfg = ctx.cfg
    if "calibrate" in remaining and "data" not in remaining and cfg.calibration.ablation and not ctx.model_file \
            and cfg.calibration.ablation_second_network and not bg.submitted("second_network"):
        bg.submit("second_network", second_network_job, cfg, ctx.data_dir, model_spec(ctx))
    if "sensitivity" in remaining and cfg.analog.sensitivity_chips > 0 and "train" not in remaining and \
            ctx.path("model.safetensors").exists():
        chips = cfg.analog.sensitivity_chips
        for name, value in distinct_points(cfg)[0]:
            key = f"sensitivity {name}={value}"
            if not bg.submitted(key):
                bg.submit(key, sensitivity_point_job, cfg, ctx.data_dir, str(ctx.path("model.safetensors")), name,
                          value, inline=partial(sensitivity_point, ctx.model, cfg, ctx.splits, name, value, chips,
                                                progress=ctx.progress))


def _start_rtl_jobs(ctx: RunContext, remaining: list[str]) -> None:
    """The Verilator build (for the cosim stage) and the Yosys synthesis (for the synth stage) of the compiled
    machine, started when their stage is still to run and its tools are there: the build in a thread that waits for
    its compiler processes, synthesis in a Yosys process. (Starting them with training instead, on the machine of the
    untrained network, made no difference on 2 cores: 304 s against 289 s for a cold default run, every process
    slower for the contention.)"""
    tools = {s.name: s.missing_tool() is None for s in STAGES if s.name in ("cosim", "synth") and s.name in remaining}
    build = tools.get("cosim") and "rtl_build" not in ctx.cache
    synth = tools.get("synth") and "synth_job" not in ctx.cache
    if not (build or synth) or rtl_not_applicable(ctx):
        return
    from reram.rtl.params import rtl_params, rtl_supported

    m = rtl_params(ctx.compiled, ctx.cfg.rtl)
    rtl_supported(m)
    if build:
        from concurrent.futures import ThreadPoolExecutor

        from reram.rtl.build import build_library

        pool = ThreadPoolExecutor(1)
        ctx.cache["rtl_build"] = pool.submit(build_library, m, None, False, False, True)
        pool.shutdown(wait=False)
    if synth:
        from reram.rtl.synth import SynthJob

        ctx.cache["synth_job"] = SynthJob(m)


def stop_rtl_jobs(ctx: RunContext) -> None:
    """Stop a background synthesis and Verilator build the run will not wait for."""
    job = ctx.cache.pop("synth_job", None)
    if job is not None:
        job.cancel()
    build = ctx.cache.pop("rtl_build", None)
    if build is not None and not build.done():
        from reram.rtl.build import stop_background_builds

        stop_background_builds()
        with contextlib.suppress(Exception):  # it fails, stopped: its error is of no use
            build.result()


def stage_cosim(ctx: RunContext, samples: int | None = None, waves: str | None = None,
                stress: bool | None = None) -> None:
    """Co-simulate chip 0 (programmed and calibrated by the analog stage) against the golden model, on test images
    and (``rtl.stress``, or ``stress``) stress inputs. Every layer's codes of every input are compared, every
    completion cycle with the analytic schedule and the event counters with the golden model's; the counts are
    recorded, then any difference fails the stage (exit status 1)."""
    from reram.chip.program import load_chip
    from reram.errors import ConfigError
    from reram.golden import pixel_codes
    from reram.ir.machine import ASSUMPTIONS
    from reram.rtl.cosim import RTL_MODEL_NOTE, raise_on_mismatch, run_cosim
    from reram.rtl.stress import stress_inputs

    cfg = ctx.cfg
    cm = ctx.compiled
    build = ctx.cache.pop("rtl_build", None)  # the Verilator build started once the compile stage fixed the machine
    early = build.result()[1] if build is not None else {}  # built (or its error) before this stage reads the cache
    chip = load_chip(ctx.path("chip0.npz"), cm)
    sp = ctx.splits
    requested = cfg.rtl.samples if samples is None else samples
    if requested < 1:
        raise ConfigError(f"co-simulation samples must be at least 1, got {requested}")
    n = min(requested, len(sp.test_y))
    if n < requested:
        log.warning("co-simulating %d samples: %d were requested, the test split holds %d", n, requested, n)
    x = pixel_codes(cm, sp.test_x[:n])
    use_stress = cfg.rtl.stress if stress is None else stress
    res = run_cosim(cm, chip, x, sp.test_y[:n], cfg.rtl, waves=Path(waves) if waves else None,
                    progress=ctx.progress, stress=stress_inputs(cm, chip, seed=cfg.run.seed) if use_stress else None)
    m = res.to_metrics()
    m["samples_requested"] = requested
    m["clock_hz"] = cfg.rtl.clock_hz
    m["chip_seed"] = chip.seed
    m["rtl_model"] = RTL_MODEL_NOTE
    m["assumptions"] = ASSUMPTIONS
    pred_file = ctx.path("analog_predictions.npz")
    if pred_file.exists():  # the analog stage's predictions of chip 0 on the test split: the same chip and samples
        with np.load(pred_file, allow_pickle=False) as z:
            m["engine_accuracy"] = float((z["predictions"][:n] == np.asarray(sp.test_y[:n])).mean())
    ctx.metrics["cosim"] = m
    t = ctx.metrics["timing"]
    t["cosim_sim_seconds"] = res.sim_seconds
    t["cosim_load_seconds"] = res.load_seconds
    built = early if early and not early.get("cached") else res.build  # the background build's, when it built
    t["rtl_build_seconds"] = 0.0 if built.get("cached") else built.get("build_seconds", 0.0)
    log.info("co-simulation: %d samples and %d stress inputs, %d of %d codes (every layer) differ, latency %d cycles "
             "(analytic %d), initiation interval %d (analytic %d), %.1f s", res.samples, res.stress_samples,
             res.mismatched_codes, res.compared_codes,
             res.latency_cycles, res.analytic_latency_cycles, res.ii_cycles, res.analytic_ii_cycles, res.sim_seconds)
    raise_on_mismatch(res)  # after the counts are in the metrics (the runner saves them before it fails)


def stage_synth(ctx: RunContext) -> None:
    """Synthesize the digital periphery of the run's machine with Yosys: cells and area per module, latches and
    combinational loops (any of either fails the stage after the figures are recorded), and the area compared
    with the energy model's figures for the same parts."""
    from reram.energy import resolve_preset
    from reram.energy.model import area_breakdown
    from reram.errors import SynthCheckFailed
    from reram.rtl.params import rtl_params, rtl_supported
    from reram.rtl.synth import compare_area, synthesize

    cfg = ctx.cfg
    m = rtl_params(ctx.compiled, cfg.rtl)
    job = ctx.cache.pop("synth_job", None)  # started in the background once the compile stage fixed the machine
    if job is None:
        rtl_supported(m)
    res = job.result() if job is not None else synthesize(m)
    preset = resolve_preset(cfg.energy)
    res["area_vs_energy_model"] = compare_area(res, area_breakdown(m, preset, ctx.compiled.arch), preset.name)
    ctx.metrics["timing"]["synth_seconds"] = res.pop("seconds")  # wall times live in timing only
    ctx.metrics["timing"]["synth_yosys_seconds"] = res.pop("yosys_seconds")  # earlier, when the result was cached
    ctx.metrics["synth"] = res
    log.info("synthesis: %d cells (%.4g mm2 at %.2g um2/GE), %d latches, %d combinational loops, %.1f s",
             res["cells"], res["area_mm2"], res["gate_area"]["value"], res["latches"], res["combinational_loops"],
             ctx.metrics["timing"]["synth_seconds"])
    if res["latches"] or res["combinational_loops"]:
        raise SynthCheckFailed(f"synthesis found {res['latches']} latches and {res['combinational_loops']} "
                               "combinational loops in the digital periphery (see metrics.json synth)")


def rtl_not_applicable(ctx: RunContext) -> str | None:
    """Why the RTL stages (co-simulation, synthesis) do not apply to this model, or None: the RTL holds at most
    MAX_LAYERS layer controllers, and reads every input phase with the same bits and ADC resolution."""
    from reram.rtl.params import MAX_LAYERS

    n = len(ctx.compiled.layers)
    if not ctx.compiled.arch.uniform_slices:
        return ("the RTL reads every input phase with the same bits and ADC resolution; uneven dac.phase_bits or "
                "adc.phase_bits run in the engine, the golden model and energy, not in RTL")
    if n <= MAX_LAYERS:
        return None
    return (f"the RTL holds at most {MAX_LAYERS} layer controllers (its STATES window), this model has {n} "
            "layers: its integer datapath is checked by the golden model and the engine, not in RTL")


def _cosim_tools() -> object:
    from reram.rtl.build import find_toolchain

    return find_toolchain()


def _synth_tools() -> object:
    from reram.rtl.synth import find_yosys

    return find_yosys()


def stage_energy(ctx: RunContext) -> None:
    """Energy, area and latency of chip 0 on the test images, from golden-model event counts (equal to the
    RTL's, which the cosim stage checks) and the RTL's measured cycles."""
    from reram.chip.program import load_chip
    from reram.energy import energy_report, resolve_preset
    from reram.golden import pixel_codes
    from reram.pipeline.sensitivity import energy_sensitivity

    cfg = ctx.cfg
    cm = ctx.compiled
    chip = load_chip(ctx.path("chip0.npz"), cm)
    sp = ctx.splits
    n = min(cfg.energy.samples, len(sp.test_y))
    preset = resolve_preset(cfg.energy)
    cos = ctx.metrics.get("cosim") or {}
    measured = (cos["latency_cycles"], cos["ii_cycles"]) if cos.get("cycles_match_analytic") else None
    rep = energy_report(cm, chip, pixel_codes(cm, sp.test_x[:n]), preset, cfg.rtl, rtl_cycles=measured)
    rep["rtl_counts_match_golden"] = cos.get("events_match_golden")
    if cfg.energy.sensitivity:
        t0 = time.perf_counter()
        rep["sensitivity"] = energy_sensitivity(ctx.model, cfg, _calib_float(ctx)[:500], sp.test_x[:200], preset)
        ctx.metrics["timing"]["energy_sensitivity_seconds"] = time.perf_counter() - t0
    ctx.metrics["energy"] = rep
    for b in rep["boundaries"]:
        log.info("energy: %s boundary %.3g nJ/inference, %.3g TOPS/W (%s)", b["boundary"],
                 1e9 * b["energy_per_inference_j"], b["tops_per_w"], b["ops_convention"])


def stage_report(ctx: RunContext) -> None:
    from reram.config import config_to_toml
    from reram.report import render_report

    ctx.save_metrics()  # the report shows the metrics as saved
    path = render_report(ctx.run_dir, ctx.metrics, config_to_toml(ctx.cfg))
    log.info("report written to %s", path)


STAGES: list[Stage] = [
    Stage("data", stage_data, help="load and split the dataset"),
    Stage("train", stage_train, produces=("model.safetensors",), help="train the MLP on the CPU"),
    Stage("compile", stage_compile, needs=("model.safetensors",), produces=("compiled/ir.json",),
          help="fold, scale, map, tile, calibrate ADCs, fine-tune: the IR"),
    Stage("analog", stage_analog, needs=("compiled/ir.json",), produces=("chip0.npz",),
          help="program chips and measure analog test accuracy"),
    Stage("calibrate", stage_calibrate, needs=("model.safetensors",),
          help="the calibration ablation: accuracy after each flow step"),
    Stage("cosim", stage_cosim, needs=("compiled/ir.json", "chip0.npz"),
          help="Verilator co-simulation of the RTL against the bit-exact golden model", tools=_cosim_tools,
          applies=rtl_not_applicable),
    Stage("synth", stage_synth, needs=("compiled/ir.json",),
          help="Yosys synthesis of the digital periphery: cells, area, no latches or loops", tools=_synth_tools,
          applies=rtl_not_applicable),
    Stage("energy", stage_energy, needs=("compiled/ir.json", "chip0.npz"),
          help="energy, area and latency from event counts and cited per-action energies"),
    Stage("sensitivity", stage_sensitivity, needs=("model.safetensors",),
          help="accuracy against programming sigma, ADC bits and cell bits"),
    Stage("report", stage_report, help="the self-contained HTML report"),
]


def stage_names() -> list[str]:
    return [s.name for s in STAGES]
