"""Formatting of figures shared by the console tables and the HTML report (one place for each rule)."""

from __future__ import annotations


def mean_spread(mean: float, std: float, chips: int) -> str:
    """'98.33 ± 0.05 %' over several chips; one chip has no spread to show."""
    return f"{100 * mean:.2f} ± {100 * std:.2f} %" if chips > 1 else f"{100 * mean:.2f} % (1 chip)"


def tops_band(b: dict) -> str:
    """TOPS/W with its ADC energy band, or without one where the band is a single value."""
    lo, hi = b["tops_per_w_range"]
    if f"{lo:.3g}" == f"{hi:.3g}":
        return f"{b['tops_per_w']:.3g}"
    return f"{b['tops_per_w']:.3g} (ADC band {lo:.3g}-{hi:.3g})"


def band(b: dict) -> str:
    """The ADC band alone ('16.1 – 79.1'), or 'none' where it is a single value."""
    lo, hi = b["tops_per_w_range"]
    return "none (one ADC figure)" if f"{lo:.3g}" == f"{hi:.3g}" else f"{lo:.3g} – {hi:.3g}"
