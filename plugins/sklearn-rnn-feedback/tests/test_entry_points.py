"""The installed distribution declares the three cells, and sklearn-rnn's registry finds them."""

import importlib.metadata

import pytest

import sklearn_rnn_feedback
from sklearn_rnn_feedback import DirectFeedbackCell, FullFeedbackCell, IndirectFeedbackCell

EXPECTED = {
    "direct": DirectFeedbackCell,
    "indirect": IndirectFeedbackCell,
    "full": FullFeedbackCell,
}


@pytest.fixture(scope="module")
def entry_points():
    try:
        importlib.metadata.distribution("sklearn-rnn-feedback")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("not installed: pip install -e plugins/sklearn-rnn-feedback --no-deps")
    return [
        ep
        for ep in importlib.metadata.entry_points(group="sklearn_rnn.cells")
        if ep.value.startswith("sklearn_rnn_feedback.")
    ]


def test_entry_points_declare_the_three_cells(entry_points):
    """Group sklearn_rnn.cells lists direct, indirect and full, each loading its class."""
    assert sorted(ep.name for ep in entry_points) == ["direct", "full", "indirect"]
    for ep in entry_points:
        assert ep.load() is EXPECTED[ep.name]


def test_registry_finds_the_cells(entry_points):
    """sklearn-rnn's registry lists the cells with their source, description and capabilities."""
    from sklearn_rnn.cells import available_cells, get_cell

    cells = available_cells(refresh=True)
    for name, cls in EXPECTED.items():
        info = cells[name]
        assert info.source == "sklearn-rnn-feedback" and info.error is None
        assert info.description == cls.description
        assert get_cell(name) is cls
    assert "numba" in cells["direct"].capabilities
    assert "init_state" in cells["full"].capabilities
    assert "numba" not in cells["indirect"].capabilities


def test_version_matches_metadata(entry_points):
    """__version__ is the distribution's version."""
    assert sklearn_rnn_feedback.__version__ == importlib.metadata.version("sklearn-rnn-feedback")
