"""The network (defined once), its training and its weight files."""

from .io import load_weights, save_weights
from .mlp import build_mlp, predict
from .train import TrainResult, accuracy, train_mlp

__all__ = ["TrainResult", "accuracy", "build_mlp", "load_weights", "predict", "save_weights", "train_mlp"]
