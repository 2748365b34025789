"""Compiler: torch model -> typed IR (:mod:`reram.ir`) -> passes (fold, scale, map, tile, calibrate ADC ranges)."""

from .passes import activation_scaling, adc_calibration, adc_naive, fold_batchnorm, map_conductances, tile

__all__ = ["activation_scaling", "adc_calibration", "adc_naive", "fold_batchnorm", "map_conductances", "tile"]
