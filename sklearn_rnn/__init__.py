"""Recurrent neural networks as scikit-learn estimators.

Importing the package does not import torch: the estimators import it when
they are fitted.
"""

from ._estimators import (
    BiRNNClassifier,
    BiRNNRegressor,
    CharLanguageModel,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RecurrentClassifier,
    RecurrentRegressor,
    RNNClassifier,
    RNNRegressor,
    Seq2SeqClassifier,
    Seq2SeqRegressor,
    SequenceGenerator,
    SequenceTagger,
    StepwiseRegressor,
)
from ._persistence import load
from ._predictor import load_predictor
from .cells import available_cells, get_cell, register_cell
from .forecasting import RNNForecaster, SeasonalNaiveForecaster
from .plotting import plot_gradient_flow, plot_learning_curve
from .preprocessing import (
    CharOneHotEncoder,
    SequencePadder,
    SequenceScaler,
    SlidingWindows,
    make_windows,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "BiRNNClassifier",
    "BiRNNRegressor",
    "CharLanguageModel",
    "CharOneHotEncoder",
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNForecaster",
    "RNNRegressor",
    "RecurrentClassifier",
    "RecurrentRegressor",
    "SeasonalNaiveForecaster",
    "Seq2SeqClassifier",
    "Seq2SeqRegressor",
    "SequenceGenerator",
    "SequencePadder",
    "SequenceScaler",
    "SequenceTagger",
    "SlidingWindows",
    "StepwiseRegressor",
    "available_cells",
    "get_cell",
    "load",
    "load_predictor",
    "make_windows",
    "plot_gradient_flow",
    "plot_learning_curve",
    "register_cell",
]
