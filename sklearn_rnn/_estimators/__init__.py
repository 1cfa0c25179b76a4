"""The recurrent estimators; torch-free at import time."""

from ._classifier import RecurrentClassifier
from ._generator import SequenceGenerator
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
from ._seq2seq import Seq2SeqClassifier, Seq2SeqRegressor
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
    "Seq2SeqClassifier",
    "Seq2SeqRegressor",
    "SequenceGenerator",
    "SequenceTagger",
    "StepwiseRegressor",
]
