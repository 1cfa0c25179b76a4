"""The recurrent estimators; torch-free at import time."""

from ._classifier import RecurrentClassifier
from ._language_model import CharLanguageModel
from ._presets import (
    BiRNNClassifier,
    BiRNNRegressor,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)
from ._regressor import RecurrentRegressor
from ._stepwise_regressor import StepwiseRegressor
from ._tagger import SequenceTagger

__all__ = [
    "BiRNNClassifier",
    "BiRNNRegressor",
    "CharLanguageModel",
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "SequenceTagger",
    "StepwiseRegressor",
]
