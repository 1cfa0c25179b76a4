"""End-to-end cost of the two backends: training epochs and predict, per cell.

Fits ``RecurrentClassifier`` with ``backend="torch"`` and ``backend="numba"``
on the same ragged data (lengths 20-100, 8 features, hidden 64) at two batch
sizes, interleaved, and reports the median per-epoch time (skorch's ``dur``,
setup excluded) and the median wall time of ``predict`` on all sequences.
These numbers are what the future ``backend="auto"`` rule is to be based on.
torch runs on one thread.

    PYTHONPATH=. python benchmarks/backends.py [--quick]
"""

import argparse
import time
import warnings

import numpy as np
import torch

from sklearn_rnn import RecurrentClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # ConvergenceWarning: a fixed number of epochs on purpose
    n_samples, rounds = (64, 1) if args.quick else (1024, args.rounds or 3)
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(t, 8)).astype(np.float32) for t in rng.integers(20, 101, n_samples)]
    y = rng.integers(0, 2, n_samples)
    print(
        f"{n_samples} sequences of length 20-100, 8 features, hidden 64; "
        f"torch {torch.__version__}, 1 thread; median of {rounds} rounds"
    )
    print(f"{'cell':<5} {'batch':>5} {'epoch torch s':>13} {'epoch numba s':>13} {'speed-up':>8}"
          f" {'predict torch s':>15} {'predict numba s':>15} {'speed-up':>8}")
    for cell in ("rnn", "gru", "lstm"):
        for batch_size in (8, 64):
            epoch = {"torch": [], "numba": []}
            predict = {"torch": [], "numba": []}
            for _ in range(rounds):
                for backend in ("torch", "numba"):  # interleaved
                    est = RecurrentClassifier(
                        cell=cell, backend=backend, hidden_size=64, batch_size=batch_size,
                        max_iter=2, n_iter_no_change=100, random_state=0,
                    ).fit(X, y)
                    epoch[backend].append(est.history_[-1, "dur"])  # the second epoch: warm
                    start = time.perf_counter()
                    est.predict(X)
                    predict[backend].append(time.perf_counter() - start)
            e = {b: float(np.median(v)) for b, v in epoch.items()}
            p = {b: float(np.median(v)) for b, v in predict.items()}
            print(f"{cell:<5} {batch_size:>5} {e['torch']:13.3f} {e['numba']:13.3f}"
                  f" {e['torch'] / e['numba']:7.2f}x {p['torch']:15.3f} {p['numba']:15.3f}"
                  f" {p['torch'] / p['numba']:7.2f}x")


if __name__ == "__main__":
    main()
