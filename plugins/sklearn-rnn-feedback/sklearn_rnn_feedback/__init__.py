"""Direct (IndRNN), indirect and full feedback recurrent cells for sklearn-rnn.

Installing the package registers the cells ``"direct"``, ``"indirect"`` and
``"full"`` in the ``sklearn_rnn.cells`` entry-point group, so that
``RecurrentClassifier(cell="direct")`` and the other estimators find them.
Importing the package imports torch (the cells are ``torch.nn.Module``
subclasses) but not numba, which only the numba kernels of
:class:`DirectFeedbackCell` import, on their first call.
"""

from .cells import DirectFeedbackCell, FullFeedbackCell, IndirectFeedbackCell

__version__ = "0.1.0.dev0"

__all__ = ["DirectFeedbackCell", "FullFeedbackCell", "IndirectFeedbackCell"]
