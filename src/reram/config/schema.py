"""The typed, validated configuration: one section per pipeline stage.

Every field has a description (it becomes the comment in ``reram config init``) and validated bounds.
Unknown keys are rejected (``extra="forbid"``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class DataConfig(Section):
    dataset: Literal["mnist", "fashion-mnist"] = Field(
        "mnist", description="Dataset: any canonical 28x28 IDX quartet ('mnist' or 'fashion-mnist')."
    )
    dir: str | None = Field(
        None,
        description="Folder holding the four IDX files. Unset: --data-dir, then $RERAM_DATA_DIR, "
        "then the user cache folder.",
    )
    download: bool = Field(True, description="Download missing files from the canonical mirrors (MD5-checked).")
    train_subset: int | None = Field(
        None, ge=100, description="Train on only the first N training images (after the calibration split)."
    )
    test_subset: int | None = Field(None, ge=10, description="Evaluate on only the first N test images.")
    calib_size: int = Field(
        2000, ge=64, le=20000, description="Images held out of the training set for calibration (never test data)."
    )


class ModelConfig(Section):
    hidden: list[int] = Field([256, 128], description="Hidden layer widths of the MLP.")
    batchnorm: bool = Field(True, description="BatchNorm1d after each hidden Linear layer (folded at compile time).")

    @field_validator("hidden")
    @classmethod
    def _hidden_ok(cls, v: list[int]) -> list[int]:
        if not v or any(h < 1 or h > 8192 for h in v):
            raise ValueError("hidden must be a non-empty list of widths between 1 and 8192")
        return v


class TrainConfig(Section):
    epochs: int = Field(12, ge=1, le=500, description="Training epochs.")
    batch_size: int = Field(128, ge=1, le=65536, description="Mini-batch size.")
    lr: float = Field(3e-3, gt=0, le=10, description="Peak learning rate (Adam, one-cycle schedule).")
    weight_decay: float = Field(1e-4, ge=0, le=1, description="AdamW weight decay.")
    threads: int = Field(0, ge=0, le=256, description="torch CPU threads (0: all cores).")


class RunConfig(Section):
    seed: int = Field(0, ge=0, lt=2**31, description="Master seed: training, calibration split, chips.")
    stages: list[str] | None = Field(None, description="Stages to run (unset: all). Same as --stages.")


class ReramConfig(BaseModel):
    """The whole configuration. Sections mirror the pipeline stages."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    run: RunConfig = Field(default_factory=RunConfig)
