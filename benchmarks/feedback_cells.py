"""The feedback taxonomy on a real dataset: one classifier per kind of recurrent cell.

Fits ``make_pipeline(SequenceScaler(), RecurrentClassifier(cell=c))`` on the
bundled JapaneseVowels training split (270 recordings, 12 channels, 7-29
frames, 9 speakers) and scores it on the 370 test recordings, for the
built-in cells ``rnn`` (lateral feedback, Elman), ``lstm`` and ``gru`` (gated
lateral feedback) and the cells ``direct``, ``indirect`` and ``full`` of the
sklearn-rnn-feedback plugin (skipped, with a note, when it is not installed).
``direct`` runs a second time on the numba backend, which its plugin supports.

Every cell gets the same settings, those of ``sklearn-rnn demo``: 64 units,
40 epochs of Adam at learning rate 5e-3, batch 32, gradient clipping at 5.0;
``n_iter_no_change`` equals the number of epochs, so every fit runs all of
them. Equal width does not mean equal size: the table gives each network's
number of weights. Per cell: test accuracy (median, min and max over seeds),
the wall time of ``fit`` (median over seeds; each contender is warmed up by a
one-epoch fit first, so imports and numba compilation are excluded) and of
``predict`` on the 370 test recordings (median over seeds x repeats).
Contenders are interleaved (the order rotates every seed); torch runs on one
thread. The table is Markdown, recorded in docs/feedback_cells.md.

    PYTHONPATH=. python benchmarks/feedback_cells.py [--quick] [--seeds 10]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RecurrentClassifier, SequenceScaler, available_cells
from sklearn_rnn.datasets import load_japanese_vowels

# (label, cell, backend): the built-in cells, then the plugin's.
CONTENDERS = [
    ("rnn", "rnn", "auto"),
    ("lstm", "lstm", "auto"),
    ("gru", "gru", "auto"),
    ("direct", "direct", "auto"),
    ("direct, numba", "direct", "numba"),
    ("indirect", "indirect", "auto"),
    ("full", "full", "auto"),
]
FEEDBACK = {
    "rnn": "lateral",
    "lstm": "lateral, gated",
    "gru": "lateral, gated",
    "direct": "direct",
    "indirect": "indirect",
    "full": "full",
}


def make_model(cell, backend, *, hidden_size, max_iter, learning_rate, batch_size, seed):
    """The pipeline every cell is trained in: only ``cell`` and ``backend`` differ."""
    return make_pipeline(
        SequenceScaler(),
        RecurrentClassifier(
            cell=cell, backend=backend, hidden_size=hidden_size, max_iter=max_iter,
            learning_rate=learning_rate, batch_size=batch_size,
            n_iter_no_change=max_iter, random_state=seed,
        ),
    )


def n_weights(model):
    """Weights of the recurrent layer and of the whole network (layer + output head)."""
    module = model[-1].net_.module_
    total = sum(p.numel() for p in module.parameters())
    encoder = sum(p.numel() for p in module.encoder.parameters())
    return encoder, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default: 10)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="predict calls per fit (default: 5)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # ConvergenceWarning: a fixed number of epochs on purpose
    start_all = time.perf_counter()

    X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
    X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
    if args.quick:
        X_train, y_train, X_test, y_test = X_train[::5], y_train[::5], X_test[::5], y_test[::5]
        settings = dict(hidden_size=8, max_iter=2, learning_rate=5e-3, batch_size=32)
        seeds, repeats = range(args.seeds or 1), args.repeats or 1
    else:
        settings = dict(hidden_size=64, max_iter=40, learning_rate=5e-3, batch_size=32)
        seeds, repeats = range(args.seeds or 10), args.repeats or 5

    installed = available_cells()
    contenders = [c for c in CONTENDERS if c[1] in installed]
    missing = sorted({cell for _, cell, _ in CONTENDERS} - set(installed))

    # Warm-up: imports, numba compilation or cache loading, torch's first calls.
    for _, cell, backend in contenders:
        make_model(cell, backend, **{**settings, "max_iter": 1}, seed=0).fit(
            X_train[:64], y_train[:64]
        )

    results = {
        label: {"accuracy": [], "fit": [], "predict": [], "epochs": []}
        for label, _, _ in contenders
    }
    info = {}
    for seed in seeds:
        shift = seed % len(contenders)
        for label, cell, backend in contenders[shift:] + contenders[:shift]:  # interleaved
            model = make_model(cell, backend, **settings, seed=seed)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            results[label]["fit"].append(time.perf_counter() - start)
            results[label]["accuracy"].append(model.score(X_test, y_test))
            results[label]["epochs"].append(model[-1].n_iter_)
            for _ in range(repeats):
                start = time.perf_counter()
                model.predict(X_test)
                results[label]["predict"].append(time.perf_counter() - start)
            info[label] = (*n_weights(model), model[-1]._backend(settings["batch_size"]))

    print(
        f"JapaneseVowels: {len(X_train)} training, {len(X_test)} test recordings, "
        f"{X_train[0].shape[1]} channels, {len(set(y_train))} classes; "
        f"hidden {settings['hidden_size']}, {settings['max_iter']} epochs, "
        f"Adam lr {settings['learning_rate']:g}, batch {settings['batch_size']}; "
        f"torch {torch.__version__}, 1 thread; seeds 0-{len(seeds) - 1}, "
        f"predict x{repeats} per seed"
    )
    print()
    print("| cell | feedback | backend | weights (layer / total) | test accuracy, median (min-max) "
          "| fit s, median | predict ms, median |")
    print("|---|---|---|---:|---|---:|---:|")
    for label, cell, _ in contenders:
        r = results[label]
        layer, total, backend = info[label]
        acc = r["accuracy"]
        print(
            f"| {label} | {FEEDBACK[cell]} | {backend} | {layer:,} / {total:,} "
            f"| {np.median(acc):.3f} ({min(acc):.3f}-{max(acc):.3f}) "
            f"| {np.median(r['fit']):.2f} | {1000 * np.median(r['predict']):.1f} |"
        )
    print()
    print("test accuracy per seed:")
    for label, _, _ in contenders:
        print(f"{label:<14} " + " ".join(f"{a:.3f}" for a in results[label]["accuracy"]))
    print()
    epochs = sorted({e for r in results.values() for e in r["epochs"]})
    print(f"epochs per fit: {', '.join(map(str, epochs))}; chance is {1 / len(set(y_train)):.3f}")
    if missing:
        print(f"skipped {', '.join(missing)}: not installed "
              "(pip install -e plugins/sklearn-rnn-feedback)")
    print(f"total {time.perf_counter() - start_all:.0f} s")


if __name__ == "__main__":
    main()
