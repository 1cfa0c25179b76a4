"""The word-boundary example runs (quick mode) and its taggers beat the bigram baseline."""

import runpy
from pathlib import Path

import matplotlib

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plot_word_boundaries.py"


def test_example_runs_and_beats_the_bigram_baseline(monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_RNN_EXAMPLE_QUICK", "1")
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    f1, baseline = namespace["f1"], namespace["baseline_f1"]
    assert f1["bidirectional\nLSTM"] > baseline + 0.1, f1
    assert f1["unidirectional\nLSTM"] > baseline, f1
    assert f1["bidirectional\nLSTM"] > f1["unidirectional\nLSTM"], f1
    assert "bidirectional LSTM: boundary F1" in capsys.readouterr().out
    matplotlib.pyplot.close("all")
