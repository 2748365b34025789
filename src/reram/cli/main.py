"""The ``reram`` command line. Errors print one line on stderr and exit 2 (a co-simulation mismatch: 1)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from reram.errors import ReramError
from reram.report.fmt import mean_spread, tops_band
from reram.version import __version__

try:  # typer >= 0.25 vendors click; older versions use click itself
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as _click_exc  # type: ignore[no-redef]

DATA_DIR_HELP = "Folder with the dataset's files (the IDX files, or the CIFAR-10 archive)."

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Design and verify ReRAM analog in-memory-computing inference accelerators.")
config_app = typer.Typer(no_args_is_help=True, help="Show or write the configuration.")
app.add_typer(config_app, name="config")

console = Console(stderr=False)
err_console = Console(stderr=True)

def _flags_without_type() -> None:
    """typer's rich help prints a type beside every option, '<bool>' for flags that take no value; show flags bare
    (tests/cli/test_cli.py checks the help text)."""
    option = getattr(getattr(typer, "core", None), "TyperOption", None)
    original = getattr(option, "display_type_rich", None)
    if option is None or original is None or getattr(original, "_reram", False):
        return

    def display_type_rich(self, ctx):
        return "" if getattr(self, "is_flag", False) else original(self, ctx)

    display_type_rich._reram = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


_flags_without_type()


ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML configuration file.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", "-s", help="Override: section.key=value (repeatable).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or info logs.")]


def _version_cb(value: bool) -> None:
    if value:
        console.print(f"reram {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version_cb, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """reram: accuracy, RTL co-simulation, energy and area of ReRAM crossbar accelerators, in one flow."""


def setup_logging(quiet: bool) -> None:
    logger = logging.getLogger("reram")
    logger.setLevel(logging.INFO)
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        h = RichHandler(console=err_console, show_path=False, show_time=False)
        h.setLevel(logging.WARNING if quiet else logging.INFO)
        logger.addHandler(h)
    else:
        for h in logger.handlers:
            if isinstance(h, RichHandler):
                h.setLevel(logging.WARNING if quiet else logging.INFO)


def _load(config: Path | None, sets: list[str] | None):
    from reram.config import load_config

    return load_config(config, sets or [])


@app.command()
def run(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Folder that holds run folders.")] = Path("runs"),
    name: Annotated[str | None, typer.Option("--name", "-n", help="Run name (default: a timestamp).")] = None,
    stages: Annotated[str | None, typer.Option("--stages", help="Comma-separated subset of stages.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing run folder.")] = False,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue run NAME after its last done stage.")] = None,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    quiet: QuietOpt = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout at the end.")] = False,
    model_file: Annotated[Path | None, typer.Option(
        "--model-file", help="Trained weights of the configured network (.safetensors or a .pt state_dict): the "
        "train stage evaluates them instead of training.")] = None,
) -> None:
    """Run the whole flow (or --stages) and write a run folder with metrics.json."""
    from reram.pipeline import execute

    setup_logging(quiet or json_out)
    cfg = None if resume else _load(config, set_)
    stage_list = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    ctx = execute(cfg, runs_dir, name=resume or name, stages=stage_list, force=force, resume=bool(resume),
                  data_dir=data_dir, progress=not (quiet or json_out),
                  model_file=str(model_file) if model_file else None)
    if json_out:
        sys.stdout.write(json.dumps(ctx.metrics, indent=2) + "\n")
    else:
        console.print(summary_table(ctx.metrics, ctx.run_dir))


def summary_table(metrics: dict, run_dir: Path) -> Table:
    t = Table(title=f"reram run: {run_dir}", show_lines=False)
    t.add_column("stage")
    t.add_column("metric")
    t.add_column("value", justify="right")
    meta = metrics.get("meta", {})
    ds = meta.get("dataset", {})
    if ds:
        sp = meta.get("splits") or {}
        used = " / ".join(f"{v} {k}" for k, v in sp.items()) if sp else \
            f"{ds.get('n_train')} train / {ds.get('n_test')} test"
        label = f"{ds.get('name')} ({used})"
        flag = "[bold red]FALLBACK[/] " if ds.get("fallback") else \
            ("[bold red]UNVERIFIED[/] " if ds.get("verified") is False else "")
        t.add_row("data", "dataset", flag + label)
    sw = metrics.get("software", {})
    if "test_accuracy" in sw:
        t.add_row("software", "test accuracy", f"{100 * sw['test_accuracy']:.2f} %")
    tm = metrics.get("timing", {})
    if "train_seconds" in tm:
        t.add_row("software", "training time", f"{tm['train_seconds']:.1f} s")
    an = metrics.get("analog", {})
    if "test_accuracy_mean" in an:
        t.add_row("analog", f"test accuracy ({an['chips']} chip{'s' if an['chips'] > 1 else ''})",
                  mean_spread(an["test_accuracy_mean"], an["test_accuracy_std"], an["chips"]))
        sat = max(ly["adc_saturation_mean"] for ly in an["layers"])
        t.add_row("analog", "worst layer ADC saturation", f"{100 * sat:.3f} %")
    cal = metrics.get("calibration", {})
    for row in cal.get("ablation") or []:
        t.add_row("calibration", row["step"], mean_spread(row["test_accuracy_mean"], row["test_accuracy_std"],
                                                           row["chips"]))
    for stage, sk in (meta.get("stages_skipped") or {}).items():
        t.add_row(stage, "[bold yellow]SKIPPED[/]", escape(sk["reason"]))
    co = metrics.get("cosim", {})
    if "mismatched_codes" in co:
        t.add_row("cosim", f"mismatching codes ({co['samples']} samples)",
                  f"{co['mismatched_codes']} of {co['compared_codes']}")
        t.add_row("cosim", "RTL accuracy (ideal integer crossbar)", f"{100 * co['hw_accuracy']:.2f} %")
        if "engine_accuracy" in co:
            t.add_row("cosim", "engine accuracy (same chip and samples)", f"{100 * co['engine_accuracy']:.2f} %")
        t.add_row("cosim", "latency, cycles (analytic)",
                  f"{co['latency_cycles']} ({co['analytic_latency_cycles']})")
        t.add_row("cosim", "initiation interval, cycles (analytic)",
                  f"{co['ii_cycles']} ({co['analytic_ii_cycles']})")
        t.add_row("cosim", "latency", f"{1e6 * co['latency_s']:.2f} µs at {co['clock_hz'] / 1e6:.4g} MHz (assumed)")
    sy = metrics.get("synth", {})
    if "cells" in sy:
        t.add_row("synth", "cells (digital periphery)", f"{sy['cells']:,}, {sy['area_mm2']:.3g} mm²")
        t.add_row("synth", "latches / combinational loops", f"{sy['latches']} / {sy['combinational_loops']}")
    for key, rec in (metrics.get("followups") or {}).items():
        t.add_row("follow-up", key, f"{rec['at']}" + (" FAILED" if rec.get("error") else ""))
    en = metrics.get("energy", {})
    if "energy_per_inference_j" in en:
        t.add_row("energy", f"energy / inference (system, {en['preset']})",
                  f"{1e9 * en['energy_per_inference_j']:.3g} nJ")
    for b in en.get("boundaries", []):
        t.add_row("energy", f"TOPS/W ({b['boundary']} boundary, 2 ops/MAC)", tops_band(b))
    if "area_mm2" in en:
        t.add_row("energy", "area", f"{en['area_mm2']['total']:.3g} mm²")
    for k, v in (metrics.get("timing") or {}).items():
        if k.startswith("stage_") and k.endswith("_seconds"):
            t.add_row("time", f"stage {k[6:-8]}", f"{v:.1f} s")
    report = run_dir / "report.html"
    t.add_row("report", "path", str(report) if report.exists() else "(not written)")
    t.add_row("metrics", "path", str(run_dir / "metrics.json"))
    return t


def _open_run(run_dir: Path, quiet: bool):
    from reram.config import load_config
    from reram.errors import RunError
    from reram.pipeline.context import RunContext

    setup_logging(quiet)
    if not (run_dir / "config.toml").exists():
        raise RunError(f"{run_dir} is not a run folder (no config.toml); create one with 'reram run'")
    ctx = RunContext(cfg=load_config(run_dir / "config.toml"), run_dir=run_dir, progress=not quiet)
    ctx.load_metrics()
    return ctx


RunDirArg = Annotated[Path, typer.Argument(help="A run folder written by 'reram run'.")]


def _override(ctx, *sets: str, option: str) -> None:
    """Apply a command-line option to a run's configuration, validated like --set; errors name ``option``."""
    from reram.config import load_config

    ctx.cfg = load_config(None, list(sets), base=ctx.cfg.model_dump(mode="json"), option=option)


@app.command()
def cosim(
    run_dir: RunDirArg,
    samples: Annotated[int | None, typer.Option("--samples", min=1, help="Test images to co-simulate.")] = None,
    waves: Annotated[Path | None, typer.Option("--waves", help="Waveform of the first samples (.fst or .vcd).")] = None,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    stress: Annotated[bool | None, typer.Option("--stress/--no-stress", help="Co-simulate stress inputs after the "
                                                "test images (default: the run's rtl.stress, true).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Co-simulate the RTL of a run against the golden model (exit 1 on any mismatch).

    Every layer's output codes of every sample are compared, every sample's completion cycle with the analytic
    schedule of the machine description, and the event counters with the golden model's. Stress inputs (all-zero
    and all-maximum codes, random codes, map edges, inputs that saturate ADCs) follow the test images.

    Results are recorded under followups["cosim ..."] in metrics.json; the run's own cosim figures stay.
    """
    from reram.pipeline.followup import run_followup
    from reram.pipeline.stages import stage_cosim

    ctx = _open_run(run_dir, quiet)
    ctx.data_dir = data_dir
    opts = {"samples": samples, "waves": str(waves) if waves else None, "stress": stress}
    rec = run_followup(ctx, "cosim", "cosim", opts,
                       lambda c: stage_cosim(c, samples=samples, waves=str(waves) if waves else None, stress=stress))
    c = rec["results"]
    t = Table(title=f"co-simulation: {run_dir} (recorded as followups['{_key(rec)}'])")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("samples", f"{c['samples']}" + (f" (of {c['samples_requested']} requested; the test split holds "
                                              f"{c['samples']})" if c["samples_requested"] != c["samples"] else ""))
    if c.get("stress_samples"):
        t.add_row("stress inputs", f"{c['stress_samples']} (" + ", ".join(
            f"{k} {v}" for k, v in c["stress_kinds"].items()) + ")")
    t.add_row("mismatching codes (every layer)", f"{c['mismatched_codes']} of {c['compared_codes']}")
    t.add_row("RTL accuracy (ideal integer crossbar)", f"{100 * c['hw_accuracy']:.2f} %")
    if "engine_accuracy" in c:
        t.add_row("engine accuracy (same chip and samples)", f"{100 * c['engine_accuracy']:.2f} %")
    t.add_row("latency, cycles (analytic)", f"{c['latency_cycles']} ({c['analytic_latency_cycles']})")
    t.add_row("initiation interval, cycles (analytic)", f"{c['ii_cycles']} ({c['analytic_ii_cycles']})")
    t.add_row("latency", f"{1e6 * c['latency_s']:.3g} µs at {c['clock_hz'] / 1e6:.4g} MHz (assumed clock)")
    t.add_row("throughput", f"{c['throughput_per_s']:.4g} inferences/s")
    console.print(t)


@app.command()
def synth(run_dir: RunDirArg, quiet: QuietOpt = False) -> None:
    """Synthesize the run's digital periphery with Yosys (exit 1 on a latch or a combinational loop).

    Prints cells and area per module and in total; the behavioural crossbar and feature-buffer macros are black
    boxes. Results are recorded under followups["synth"] in metrics.json.
    """
    from reram.pipeline.followup import run_followup
    from reram.pipeline.stages import stage_synth

    ctx = _open_run(run_dir, quiet)
    rec = run_followup(ctx, "synth", "synth", {}, stage_synth)
    t = synth_table(rec["results"], f"synthesis: {run_dir} (recorded as followups['{_key(rec)}'])")
    t.caption += f", {rec['timing'].get('synth_seconds', 0):.1f} s"
    console.print(t)


def synth_table(r: dict, title: str) -> Table:
    t = Table(title=title)
    for c in ("module", "instances", "cells", "flip-flops", "area mm²"):
        t.add_column(c, justify="left" if c == "module" else "right")
    for name, v in sorted(r["per_module"].items(), key=lambda kv: -kv[1]["cells"]):
        t.add_row(name, str(v["instances"]), f"{v['cells']:,}", f"{v['flops']:,}", f"{v['area_mm2']:.4g}")
    t.add_row("total", "", f"{r['cells']:,}", "", f"{r['area_mm2']:.4g}")
    t.caption = (f"{r['latches']} latches, {r['combinational_loops']} combinational loops; black boxes: "
                 f"{', '.join(r['black_boxes'])}; {r['gate_area']['value']} {r['gate_area']['unit']}; "
                 f"{r['yosys']}" + (f"\nsynthesized: {r['boundary']}" if r.get("boundary") else ""))
    return t


def _key(rec: dict) -> str:
    from reram.pipeline.followup import followup_key

    return followup_key(rec["command"], rec["options"])


@app.command()
def ablation(
    run_dir: RunDirArg,
    chips: Annotated[int | None, typer.Option("--chips", help="Chips per step.")] = None,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    quiet: QuietOpt = False,
) -> None:
    """Measure test accuracy after each calibration step (the ablation) for a run's trained model."""
    from reram.pipeline.followup import run_followup
    from reram.pipeline.stages import stage_calibrate

    ctx = _open_run(run_dir, quiet)
    ctx.data_dir = data_dir
    if chips:
        _override(ctx, f"calibration.ablation_chips={chips}", option="--chips")
    rec = run_followup(ctx, "ablation", "calibration", {"chips": chips}, stage_calibrate)
    t = Table(title=f"calibration ablation: {run_dir} (recorded as followups['{_key(rec)}'])")
    t.add_column("step")
    t.add_column("test accuracy (mean ± std over chips)", justify="right")
    for row in rec["results"]["ablation"]:
        t.add_row(row["step"], mean_spread(row["test_accuracy_mean"], row["test_accuracy_std"], row["chips"]))
    console.print(t)


@app.command()
def energy(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by 'reram run', or 'presets' to list the "
                                            "built-in presets.")],
    preset: Annotated[str | None, typer.Option("--preset", help="Built-in energy preset (isaac-32nm, "
                                                "isaac-22nm-scaled, neurram-130nm).")] = None,
    preset_file: Annotated[Path | None, typer.Option("--preset-file", help="Your own preset, a TOML file "
                                                      "(start from 'reram energy presets --show isaac-32nm').")] = None,
    show: Annotated[str | None, typer.Option("--show", help="With 'presets': print this built-in preset as a TOML "
                                              "file to copy and edit.")] = None,
    validate: Annotated[str | None, typer.Option("--validate", help="'isaac': ISAAC's Table 1 roll-up and reram's "
                                                  "per-action accounting of the ISAAC tile and chip, against the "
                                                  "published totals; 'neurram': a NeuRRAM core's MVM counted and "
                                                  "charged as a run does, against its measured TOPS/W (Nature "
                                                  "2022) at six precisions. Both use the run's preset, or "
                                                  "--preset.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    quiet: QuietOpt = False,
) -> None:
    """Energy per inference by component and boundary, TOPS/W, area and latency of a run's design.

    'reram energy presets' lists the built-in presets with their sources; '--show NAME' prints one as a TOML file.
    """
    from reram.config import load_config
    from reram.errors import ConfigError

    if str(run_dir) == "presets" and not (run_dir / "config.toml").exists():
        _energy_presets(show, json_out)
        return
    if show is not None:
        raise ConfigError("--show goes with 'reram energy presets --show NAME'")
    if validate is not None and validate not in ("isaac", "neurram"):
        raise ConfigError(f"--validate {validate!r}: the published designs to validate against are 'isaac' and "
                          "'neurram'")
    if preset and preset_file:
        raise ConfigError("--preset and --preset-file both choose the preset; give one")
    ctx = _open_run(run_dir, quiet)
    ctx.data_dir = data_dir
    # the command line wins over the run's configuration: --preset over its preset_file, --preset-file over its
    # preset; what it replaced is recorded with the follow-up
    replaced: dict[str, str] = {}
    run_energy = ctx.cfg.energy
    if preset or preset_file:
        if run_energy.preset_file and (preset or str(preset_file) != run_energy.preset_file):
            replaced["energy.preset_file"] = run_energy.preset_file
        if preset_file and run_energy.preset_file is None and run_energy.preset != "isaac-32nm":
            replaced["energy.preset"] = run_energy.preset
        base = ctx.cfg.model_dump(mode="json")
        base["energy"]["preset_file"] = None
        ctx.cfg = load_config(None, [f"energy.preset={json.dumps(preset or 'isaac-32nm')}"], base=base,
                              option="--preset")
    if preset_file:
        _override(ctx, f"energy.preset_file={json.dumps(str(preset_file))}", option="--preset-file")
    if validate == "neurram":
        _energy_validate_neurram(ctx, json_out)
        return
    if validate:
        _energy_validate(ctx, json_out)
        return
    from reram.pipeline.followup import run_followup
    from reram.pipeline.stages import stage_energy

    rec = run_followup(ctx, "energy", "energy", {"preset": preset, "preset_file": preset_file and str(preset_file)},
                       stage_energy, replaced=replaced)
    e = rec["results"]
    if json_out:
        sys.stdout.write(json.dumps(e, indent=2, default=str) + "\n")
        return
    t = Table(title=f"energy ({e['preset']}, {e['ops_convention']}, {e['input_mode']['mode']} inputs): {run_dir} "
                    f"(recorded as followups['{_key(rec)}'])")
    t.add_column("boundary")
    t.add_column("nJ / inference", justify="right")
    t.add_column("TOPS/W (ADC band)", justify="right")
    for b in e["boundaries"]:
        t.add_row(b["boundary"] + (" (dynamic only)" if b.get("static") == "dynamic only" else ""),
                  f"{1e9 * b['energy_per_inference_j']:.3g}", tops_band(b))
    console.print(t)
    if "static_power" in e:
        console.print(f"static power {e['static_power_w']:.3g} W: {e['static_power']['label']}")
    fb = e.get("feature_buffer_band")
    if fb:
        console.print(f"feature-map buffer {1e12 * fb['nominal']['j_per_byte']:.3g} pJ/B, "
                      f"{100 * fb['nominal']['share_of_system']:.0f} % of the system energy; over the published "
                      f"{1e12 * fb['low']['j_per_byte']:.3g}-{1e12 * fb['high']['j_per_byte']:.3g} pJ/B: "
                      f"{100 * fb['low']['share_of_system']:.0f}-{100 * fb['high']['share_of_system']:.0f} %, "
                      f"system {fb['high']['system_tops_per_w']:.3g}-{fb['low']['system_tops_per_w']:.3g} TOPS/W")
    console.print(f"latency {1e6 * e['latency_s']:.3g} µs, {e['throughput_per_s']:.4g} inferences/s "
                  f"({e['cycles_source']}, assumed {e['clock_hz'] / 1e6:.4g} MHz clock), "
                  f"area {e['area_mm2']['total']:.3g} mm²")


def _energy_presets(show: str | None, json_out: bool) -> None:
    from reram.chip.energy_preset import get_preset, presets_table

    if show is not None:
        sys.stdout.write(get_preset(show).to_toml())
        return
    rows = presets_table()
    if json_out:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    t = Table(title="built-in energy presets ('reram energy presets --show NAME' prints one as TOML)")
    t.add_column("name", no_wrap=True)
    t.add_column("node")
    t.add_column("ADC model")
    t.add_column("what it is")
    t.add_column("cites")
    for r in rows:
        t.add_row(r["name"], r["node"], r["adc_model"], escape(r["description"]),
                  ", ".join(r["cites"]) + f"; {r['assumptions']} figures with a stated assumption")
    console.print(t)
    for key, full in {k: v for r in rows for k, v in r["cites"].items()}.items():
        console.print(f"[{key}] {escape(full)}", highlight=False)


def _energy_validate(ctx, json_out: bool) -> None:
    """ISAAC's published tile and chip against the preset's per-action accounting; exit 1 when a total or a
    component misses by 1 % or more."""
    from reram.energy import resolve_preset
    from reram.energy.isaac import PUBLISHED, validate
    from reram.errors import CheckFailed

    v = validate(resolve_preset(ctx.cfg.energy))
    if json_out:
        sys.stdout.write(json.dumps(v, indent=2) + "\n")
        if not v["passed"]:
            raise CheckFailed(f"ISAAC validation failed: {v['per_action']['worst_component']} misses Table 1 by "
                              f"{v['per_action']['max_abs_component_error_pct']:.1f} %")
        return
    t = Table(title=f"ISAAC (ISCA 2016) validation, preset {v['preset']}: published vs Table 1 roll-up vs reram's "
                    "per-action x count accounting")
    for c in ("quantity", "published", "Table 1 roll-up", "error", "per-action", "error"):
        t.add_column(c, justify="left" if c == "quantity" else "right")
    names = {"tile_power_w": "tile power (W)", "tile_area_mm2": "tile area (mm²)", "chip_power_w": "chip power (W)",
             "chip_area_mm2": "chip area (mm²)"}
    for k in PUBLISHED:
        a, b = v["table1_rollup"], v["per_action"]
        t.add_row(names[k], f"{PUBLISHED[k]:.4g}", f"{a[k]:.4g}", f"{a['error_pct'][k]:+.2f} %", f"{b[k]:.4g}",
                  f"{b['error_pct'][k]:+.2f} %")
    console.print(t)
    console.print(f"max |error|: Table 1 roll-up {v['table1_rollup']['max_abs_error_pct']:.2f} %, per-action "
                  f"{v['per_action']['max_abs_error_pct']:.2f} %; per component (per-action vs Table 1) "
                  f"{v['per_action']['max_abs_component_error_pct']:.2f} % ({v['per_action']['worst_component']})")
    if not v["passed"]:
        raise CheckFailed(f"the preset's per-action accounting of ISAAC misses Table 1 by more than "
                          f"{v['tolerance_pct']:g} %: {v['per_action']['worst_component']} "
                          f"{v['per_action']['components'][v['per_action']['worst_component']]['error_pct']:+.1f} % "
                          "(a figure whose unit is not the action counted?)")


def _energy_validate_neurram(ctx, json_out: bool) -> None:
    """A NeuRRAM core's MVM counted and charged as a run does, against its published TOPS/W; exit 1 when the
    operating point (4-bit inputs, 6-bit outputs) misses by more than 30 %."""
    from reram.energy import resolve_preset
    from reram.energy.neurram import validate
    from reram.errors import CheckFailed

    v = validate(resolve_preset(ctx.cfg.energy))
    op = v["operating_point"]
    fail = (f"the preset's accounting of a NeuRRAM core misses its {op[0]}-bit / {op[1]}-bit operating point by "
            f"{v['operating_point_error_pct']:+.1f} % (more than {v['tolerance_pct']:g} %)")
    if json_out:
        sys.stdout.write(json.dumps(v, indent=2) + "\n")
        if not v["passed"]:
            raise CheckFailed(fail)
        return
    t = Table(title=f"NeuRRAM (Nature 2022) core, preset {v['preset']}: published TOPS/W vs reram's per-action x "
                    "count accounting")
    for c in ("in/out bits", "phases", "published", "reram", "error", "largest parts, fJ/op"):
        t.add_column(c, justify="left" if c in ("in/out bits", "largest parts, fJ/op") else "right",
                     no_wrap=c != "largest parts, fJ/op")
    for r in v["points"]:
        ops = 2 * 128 * 256
        parts = sorted(r["energy_by_component_j"].items(), key=lambda kv: -kv[1])[:3]
        t.add_row(f"{r['in_bits']} / {r['out_bits']}", str(r["phases"]), f"{r['published_tops_per_w']:.4g}",
                  f"{r['tops_per_w']:.4g}", f"{r['error_pct']:+.1f} %",
                  ", ".join(f"{k.replace('_', ' ')} {1e15 * e / ops:.3g}" for k, e in parts))
    t.caption = f"{v['core']}; inputs {v['inputs']}; published: {v['source']}"
    console.print(t)
    if not v["passed"]:
        raise CheckFailed(fail)


@app.command()
def report(run_dir: RunDirArg, quiet: QuietOpt = False) -> None:
    """(Re)write a run's report.html from its metrics and stage outputs."""
    from reram.config import config_to_toml
    from reram.report import render_report

    ctx = _open_run(run_dir, quiet)
    path = render_report(run_dir, ctx.metrics, config_to_toml(ctx.cfg))
    console.print(f"wrote {path}")


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        elif isinstance(v, int | float | str | bool) or v is None:
            out[key] = v
    return out


COMPARE_KEYS = ("meta.dataset.name", "meta.dataset.fallback", "meta.dataset.verified", "meta.splits.train",
                "meta.splits.test", "software.test_accuracy", "analog.test_accuracy_mean", "analog.test_accuracy_std",
                "cosim.mismatched_codes", "cosim.hw_accuracy", "cosim.cycles_per_inference", "cosim.latency_s",
                "energy.energy_per_inference_j", "energy.area_mm2.total", "energy.edp_js", "timing.train_seconds")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="First run folder.")],
    run_b: Annotated[Path, typer.Argument(help="Second run folder.")],
    all_keys: Annotated[bool, typer.Option("--all", help="Every numeric metric, not just the key ones.")] = False,
) -> None:
    """Side-by-side table of two runs' metrics, with the differences."""
    from reram.errors import RunError

    ms = []
    for r in (run_a, run_b):
        try:
            ms.append(_flatten(json.loads((r / "metrics.json").read_text())))
        except (OSError, json.JSONDecodeError) as e:
            raise RunError(f"{r / 'metrics.json'}: cannot read ({e}); is it a run folder?") from None
    keys = sorted(set(ms[0]) | set(ms[1])) if all_keys else list(COMPARE_KEYS)
    t = Table(title=f"{run_a}  vs  {run_b}")
    t.add_column("metric")
    t.add_column(str(run_a.name), justify="right")
    t.add_column(str(run_b.name), justify="right")
    t.add_column("B - A", justify="right")
    for k in keys:
        a, b = ms[0].get(k), ms[1].get(k)
        if a is None and b is None:
            continue
        diff = f"{b - a:+.4g}" if isinstance(a, int | float) and isinstance(b, int | float) and \
            not isinstance(a, bool) else ("same" if a == b else "differs")
        t.add_row(k, f"{a:.6g}" if isinstance(a, float) else str(a), f"{b:.6g}" if isinstance(b, float) else str(b),
                  diff)
    console.print(t)


@app.command()
def sweep(
    grid: Annotated[list[str], typer.Option("--grid", "-g", help="section.key=v1,v2,... (repeatable).")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    chips: Annotated[int, typer.Option("--chips", min=1, max=100, help="Programmed chips per point.")] = 3,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Folder that holds run folders.")] = Path("runs"),
    name: Annotated[str | None, typer.Option("--name", "-n", help="Sweep folder name (default: a timestamp).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (default: cores).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="'local' (process pool) or 'ray'.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: local).")] = None,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    quiet: QuietOpt = False,
) -> None:
    """Sweep a grid of configuration keys: accuracy over chips, energy, area, latency; Pareto fronts.

    Re-running the same command resumes a crashed sweep without redoing finished points.
    """
    from reram.dse import run_sweep
    from reram.pipeline.context import run_folder
    from reram.pipeline.runner import default_run_name

    setup_logging(quiet)
    cfg = _load(config, set_)
    folder = run_folder(runs_dir, name or f"sweep-{default_run_name()}")
    run_sweep(cfg, grid, folder, chips, data_dir=data_dir, workers=workers, progress=not quiet, backend=backend,
              address=address)
    summary = json.loads((folder / "pareto.json").read_text())
    t = _table(f"sweep: {folder} ({chips} chips per point)", "point", "settings", "accuracy>", "nJ/inf>", "mm²>",
               "Pareto^")
    for p in summary["points"]:
        on = ("E" if p["point"] in summary["pareto_energy"] else "") + \
            ("A" if p["point"] in summary["pareto_area"] else "")
        t.add_row(str(p["point"]), ", ".join(f"{k}={v}" for k, v in p["params"].items()),
                  mean_spread(p["test_accuracy_mean"], p["test_accuracy_std"], chips),
                  f"{1e9 * p['energy_per_inference_j']:.3g}", f"{p['area_mm2']:.3g}", on)
    console.print(t)


def _table(title: str, *columns: str) -> Table:
    """A rich table; a column name ending in '>' is right-justified, in '^' centred."""
    t = Table(title=title)
    for c in columns:
        justify = {">": "right", "^": "center"}.get(c[-1:], "left")
        t.add_column(c.rstrip(">^"), justify=justify)  # type: ignore[arg-type]
    return t


@app.command()
def explore(
    param: Annotated[list[str], typer.Option("--param", "-p",
                                             help="key=int:LO:HI | float:LO:HI | log:LO:HI | cat:A,B")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    trials: Annotated[int, typer.Option("--trials", min=1, max=10000, help="Total trials of the study.")] = 20,
    chips: Annotated[int, typer.Option("--chips", min=1, max=100, help="Programmed chips per trial.")] = 3,
    storage: Annotated[str | None, typer.Option("--storage", help="Optuna storage URL (default: SQLite).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Trials evaluated at once.")] = None,
    backend: Annotated[str, typer.Option("--backend", help="'local' (process pool) or 'ray'.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: local).")] = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Folder that holds run folders.")] = Path("runs"),
    name: Annotated[str | None, typer.Option("--name", "-n", help="Study name / folder.")] = None,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    quiet: QuietOpt = False,
) -> None:
    """Multi-objective search (NSGA-II): accuracy up, energy and area down. Re-run to resume a study."""
    from reram.dse import run_explore
    from reram.pipeline.context import run_folder
    from reram.pipeline.runner import default_run_name

    setup_logging(quiet)
    cfg = _load(config, set_)
    folder = run_folder(runs_dir, name or f"explore-{default_run_name()}")
    res = run_explore(cfg, param, folder, trials, chips, storage=storage, data_dir=data_dir, seed=cfg.run.seed,
                      progress=not quiet, backend=backend, workers=workers, address=address)
    t = _table(f"explore: {folder} ({res['trials']} trials; Pareto-optimal trials, selected on validation)", "trial",
               "settings", "validation acc.>", "test acc.>", "nJ/inf>", "mm²>")
    for p in res["pareto"]:
        t.add_row(str(p["trial"]), ", ".join(f"{k}={v}" for k, v in p["params"].items()),
                  f"{100 * p['validation_accuracy']:.2f} %", f"{100 * p['test_accuracy']:.2f} %",
                  f"{1e9 * p['energy_per_inference_j']:.3g}",
                  f"{p['area_mm2']:.3g}")
    console.print(t)


@app.command()
def doctor(
    data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
) -> None:
    """Every tool and data source reram would use: version and path, or how to get it (exit 1: one is missing)."""
    from .doctor import checks

    results = checks(data_dir)
    for c in results:
        mark = "[green]ok     [/]" if c.ok else ("[bold red]MISSING[/]" if c.required else "[yellow]missing[/]")
        console.print(f"{mark} [bold]{c.name}[/] {c.version}  ({c.needed_for})", highlight=False)
        if c.where:
            console.print(f"        {c.where}", highlight=False, soft_wrap=True)
        if not c.ok:
            console.print(f"        fix: {c.fix}", highlight=False)
    if any(c.required and not c.ok for c in results):
        raise typer.Exit(1)


@config_app.command("show")
def config_show(config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Print the effective configuration, device preset values included, each key with where it comes from."""
    from reram.config.loader import explain_config

    sys.stdout.write(explain_config(config, set_ or []))


@config_app.command("init")
def config_init(
    file: Annotated[Path, typer.Argument(help="File to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration file with every default."""
    from reram.config import ReramConfig, config_to_toml
    from reram.errors import ConfigError
    from reram.fsutil import atomic_write_text

    if file.exists() and not force:
        raise ConfigError(f"{file} exists; pass --force to overwrite it")
    atomic_write_text(file, config_to_toml(ReramConfig(), commented=True))
    console.print(f"wrote {file}")


def interrupt_message() -> str:
    """One line: what was interrupted and how to continue it."""
    from reram.pipeline.runner import ACTIVE

    if ACTIVE.get("name"):
        resume = f"reram run --resume {ACTIVE['name']}"
        if ACTIVE.get("runs_dir") not in (None, "runs"):
            resume += f" --runs-dir {ACTIVE['runs_dir']}"
        return (f"interrupted: stage '{ACTIVE.get('stage')}' of run {ACTIVE['folder']}; completed stages are saved "
                f"(atomic writes); continue with '{resume}'")
    return "interrupted; files written so far are complete (atomic writes)"


def main(argv: list[str] | None = None) -> int:
    from reram.memory import tune_allocator

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    tune_allocator()  # large buffers reused rather than mapped and zeroed afresh (reram.memory)
    try:
        rc = app(args=args, standalone_mode=False, prog_name="reram")
        if rc == 130:  # typer turns KeyboardInterrupt into exit code 130
            raise KeyboardInterrupt
        if isinstance(rc, int) and rc:
            return rc
    except ReramError as e:
        if debug:
            raise
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        err_console.print(f"[bold red]error:[/] {escape(msg)}", markup=True, highlight=False, soft_wrap=True)
        return e.exit_code
    except ValidationError as e:  # a configuration value set in code paths outside load_config
        if debug:
            raise
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        text = f"bad value {first.get('input')!r} for '{loc}': {first['msg']}"
        err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as e:
        return int(e.exit_code)
    except _click_exc.ClickException as e:
        e.show()
        return int(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print(interrupt_message(), highlight=False, soft_wrap=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
