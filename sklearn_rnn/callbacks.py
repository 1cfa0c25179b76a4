"""Callbacks for the estimators' ``callbacks`` parameter.

Importing this module imports torch and skorch (``import sklearn_rnn`` does
not).
"""

from ._torch.checkpoint import EpochCheckpoint

__all__ = ["EpochCheckpoint"]
