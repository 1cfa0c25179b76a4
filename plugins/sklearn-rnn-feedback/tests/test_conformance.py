"""sklearn-rnn's conformance kit (sklearn_rnn.testing) passes on every cell of the plugin."""

import pytest

from sklearn_rnn_feedback import DirectFeedbackCell, FullFeedbackCell, IndirectFeedbackCell

testing = pytest.importorskip(
    "sklearn_rnn.testing", reason="this sklearn-rnn has no conformance kit (sklearn_rnn.testing)"
)

CELLS = [DirectFeedbackCell, IndirectFeedbackCell, FullFeedbackCell]


@pytest.mark.parametrize("cell_cls", CELLS, ids=lambda c: c.__name__)
def test_conformance(cell_cls):
    """check_cell: the protocol's rules, and the numba kernels against the torch step loop."""
    testing.check_cell(cell_cls)
