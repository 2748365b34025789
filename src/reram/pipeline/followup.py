"""Follow-up commands on a finished run (``reram cosim``, ``reram synth``, ``reram energy``, ``reram ablation``).

A follow-up never rewrites what ``reram run`` recorded: its results go to ``metrics.json`` under
``followups["<command> <options>"]`` with the command's options, the time and the stage's timing, and a line in
``run.log`` says what ran. The report lists every follow-up beside the run's own figures.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reram.errors import CheckFailed

from .context import RunContext
from .runner import attach_log

log = logging.getLogger("reram")


def followup_key(command: str, options: dict[str, Any]) -> str:
    """``cosim samples=200``: the command and the options that were given (sorted), as the record's key."""
    given = " ".join(f"{k}={v}" for k, v in sorted(options.items()) if v is not None)
    return f"{command} {given}".strip()


def run_followup(ctx: RunContext, command: str, section: str, options: dict[str, Any],
                 fn: Callable[[RunContext], None], replaced: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``fn`` (a stage) on ``ctx`` and file what it wrote to ``metrics[section]`` as a follow-up record.
    The run's own sections and timing are left as they were. ``replaced``: the run's configuration values that the
    command line replaced (key -> the run's value), recorded with the follow-up. Returns the record."""
    key = followup_key(command, options)
    saved = {s: copy.deepcopy(ctx.metrics.get(s, {})) for s in (section, "timing")}
    handler = attach_log(ctx.run_dir)
    try:
        log.info("follow-up '%s': start (options %s)", command, options)
        for k, v in (replaced or {}).items():
            log.info("follow-up '%s': the command line replaces the run's %s = %r", command, k, v)
        error: CheckFailed | None = None
        try:
            fn(ctx)
        except CheckFailed as e:  # the counts are recorded, then the command fails
            error = e
        results = ctx.metrics.get(section, {})
        timing = {k: v for k, v in ctx.metrics.get("timing", {}).items() if saved["timing"].get(k) != v}
        record = {"command": command, "options": options, "at": datetime.now().isoformat(timespec="seconds"),
                  "section": section, "results": results, "timing": timing,
                  "error": None if error is None else str(error), "replaced": dict(replaced or {})}
        for s, v in saved.items():
            ctx.metrics[s] = v
        ctx.metrics.setdefault("followups", {})[key] = record
        ctx.save_metrics()
        log.info("follow-up '%s': %s, recorded under followups['%s']", command, "FAILED" if error else "done", key)
        if error is not None:
            raise error
    finally:
        logging.getLogger("reram").removeHandler(handler)
        handler.close()
    return record
