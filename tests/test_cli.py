"""The sklearn-rnn command line."""

import subprocess
import sys

from sklearn_rnn.cli import main


def test_help_lists_subcommands():
    """sklearn-rnn --help lists the demo subcommand."""
    out = subprocess.run(
        [sys.executable, "-m", "sklearn_rnn.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "demo" in out


def test_demo_reports_held_out_accuracy_and_progress(capsys):
    """The demo shows per-epoch progress and prints a held-out accuracy well above chance."""
    assert main(["demo", "--max-iter", "8", "--hidden-size", "32", "--learning-rate", "1e-2"]) == 0
    out = capsys.readouterr().out
    assert "train_loss" in out and "JapaneseVowels" in out
    accuracy = float(out.split("Held-out accuracy: ")[1].split()[0])
    assert accuracy > 0.5  # chance is 1/9


def test_demo_quiet_prints_no_epoch_table(capsys):
    """--quiet leaves out the per-epoch table."""
    main(["demo", "--max-iter", "2", "--hidden-size", "8", "--quiet"])
    out = capsys.readouterr().out
    assert "train_loss" not in out and "Held-out accuracy" in out
