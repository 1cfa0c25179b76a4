"""The gradient-flow example runs (quick mode)."""

import runpy
from pathlib import Path

import matplotlib

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plot_gradient_flow.py"


def test_example_runs_and_draws_three_cells(monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_RNN_EXAMPLE_QUICK", "1")
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert set(namespace["results"]) == {"rnn", "lstm", "gru"}
    assert len(namespace["ax"].lines) == 3
    matplotlib.pyplot.close("all")
