"""The networks (built from a spec), their training and their weight files."""

from .io import load_user_weights, load_weights, save_weights, spec_of
from .mlp import build_mlp, predict
from .nets import build_model, spec_from_config
from .train import TrainResult, accuracy, train_mlp, train_model

__all__ = ["TrainResult", "accuracy", "build_mlp", "build_model", "load_user_weights", "load_weights", "predict",
           "save_weights", "spec_from_config", "spec_of", "train_mlp", "train_model"]
