"""The ``reram run`` spine: run folder, ordered stages, metrics."""

from .context import METRIC_SECTIONS, METRICS_SCHEMA_VERSION, RunContext
from .runner import execute
from .stages import STAGES, stage_names

__all__ = ["METRICS_SCHEMA_VERSION", "METRIC_SECTIONS", "STAGES", "RunContext", "execute", "stage_names"]
