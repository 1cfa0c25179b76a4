"""The word-reversal example runs (quick mode) and beats copying the input by far."""

import runpy
from pathlib import Path

import matplotlib

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plot_seq2seq_reverse.py"


def test_example_runs_and_beats_copying(monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_RNN_EXAMPLE_QUICK", "1")
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    accuracy, baseline = namespace["accuracy"], namespace["baseline_accuracy"]
    assert accuracy > baseline + 0.3, (accuracy, baseline)
    assert namespace["beam_accuracy"] >= accuracy - 0.02
    assert "exact-match accuracy on unseen words" in capsys.readouterr().out
    matplotlib.pyplot.close("all")
