"""The ``sklearn-rnn`` command."""

import argparse
import sys
import time


def _demo(args):
    """Fit an LSTM classifier on JapaneseVowels and report held-out accuracy."""
    import warnings

    import torch
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline

    from . import RecurrentClassifier, SequenceScaler
    from .datasets import load_japanese_vowels

    # One intra-op thread: for batches this small a second thread only adds
    # synchronisation, and on a busy 2-core machine it slowed training a lot.
    torch.set_num_threads(args.threads)
    X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
    X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
    lengths = [len(x) for x in X_train + X_test]
    print(
        f"JapaneseVowels: {len(X_train)} training and {len(X_test)} test recordings of "
        f"{X_train[0].shape[1]} LPC cepstrum coefficients, {min(lengths)}-{max(lengths)} "
        f"frames each, {len(set(y_train))} speakers."
    )
    model = make_pipeline(
        SequenceScaler(),
        RecurrentClassifier(
            cell=args.cell,
            bidirectional=args.bidirectional,
            hidden_size=args.hidden_size,
            max_iter=args.max_iter,
            learning_rate=args.learning_rate,
            random_state=args.seed,
            verbose=0 if args.quiet else 1,
        ),
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # The demo trains for a fixed budget of epochs on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = model.score(X_test, y_test)
    print(
        f"Held-out accuracy: {accuracy:.3f} ({round(accuracy * len(y_test))}/{len(y_test)} "
        f"test recordings; chance is {1 / len(set(y_train)):.3f}), trained in {seconds:.1f} s "
        f"over {model[-1].n_iter_} epochs."
    )
    return 0


def _cells(args):
    """Print a table of the installed cells: source, capabilities and description."""
    import warnings

    from .cells import available_cells

    cells = available_cells()  # warnings about ignored entry points go to stderr
    header = ("NAME", "SOURCE", "CAPABILITIES", "DESCRIPTION")
    rows = []
    with warnings.catch_warnings():
        # A cell that fails to load says so in its row; its warning would only repeat it.
        warnings.simplefilter("ignore", RuntimeWarning)
        for info in cells.values():
            source = f"{info.source} {info.version}" if info.version else info.source
            if info.error is None:
                rows.append((info.name, source, ", ".join(info.capabilities), info.description))
            else:
                rows.append((info.name, source, f"failed to load: {info.error}"))
    # The last text of a row is not padded, so a long error does not widen the table.
    widths = [max(len(row[i]) for row in [header, *rows] if len(row) > i + 1) for i in range(3)]
    for row in [header, *rows]:
        padded = [text.ljust(width) for text, width in zip(row[:-1], widths)]
        print("  ".join([*padded, row[-1]]).rstrip())
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-rnn", description="Recurrent neural networks as scikit-learn estimators."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="fit an LSTM classifier on the bundled JapaneseVowels data and print its accuracy",
        description=(
            "Fit a recurrent classifier on JapaneseVowels (UCI/UEA; 9 speakers, "
            "12 channels, variable lengths 7-29), shipped with the package, and print the "
            "accuracy on the standard test split."
        ),
    )
    demo.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="lstm")
    demo.add_argument("--bidirectional", action="store_true")
    demo.add_argument("--hidden-size", type=int, default=64)
    demo.add_argument("--max-iter", type=int, default=40, help="epochs (default: 40)")
    demo.add_argument("--learning-rate", type=float, default=5e-3)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    demo.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    demo.set_defaults(handler=_demo)
    cells = commands.add_parser(
        "cells",
        help="list the installed recurrent cells",
        description=(
            "List the cells that cell= accepts: built-in, from installed plugins (entry "
            "points of the group sklearn_rnn.cells) or registered at runtime, with the "
            "package that provides each, the parts of the cell protocol it offers and "
            "its description. Every cell is imported to find its capabilities."
        ),
    )
    cells.set_defaults(handler=_cells)
    return parser


def main(argv=None):
    """Run the ``sklearn-rnn`` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
