"""The character language model example runs (quick mode) and beats its baseline."""

import runpy
from pathlib import Path

import matplotlib

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plot_char_language_model.py"


def test_example_runs_and_beats_the_unigram_model(monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_RNN_EXAMPLE_QUICK", "1")
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert namespace["nats"] < namespace["unigram"] - 0.3
    assert "test cross-entropy: LSTM" in capsys.readouterr().out
    matplotlib.pyplot.close("all")
