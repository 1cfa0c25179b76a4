"""End-to-end cost of the two backends: training epochs and predict, per cell.

Fits ``RecurrentClassifier`` with ``backend="torch"`` and ``backend="numba"``
on the same ragged data (lengths 20-100, 8 features, hidden 64) at two batch
sizes, interleaved, and reports the median per-epoch time (skorch's ``dur``,
setup excluded) and the median wall time of ``predict`` on all sequences.
These numbers are what the ``backend="auto"`` rule (sklearn_rnn/_backend.py)
is based on. A second table checks that rule against the issue's target:
``predict`` on 10,000 sequences of length 100 with ``backend="auto"`` is never
slower than the faster of the two backends by more than 10%. torch runs on
one thread.

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
    auto_predict(rng, n_samples=200 if args.quick else 10_000, rounds=rounds)


def auto_predict(rng, *, n_samples, rounds):
    """predict on n_samples sequences of 100 steps: auto against the faster backend."""
    X = rng.normal(size=(n_samples, 100, 8)).astype(np.float32)
    y = rng.integers(0, 2, n_samples)
    print(f"\npredict on {n_samples} sequences of 100 steps x 8 features, hidden 64; "
          f"median of {rounds} rounds")
    print(f"{'cell':<5} {'torch s':>8} {'numba s':>8} {'auto s':>8} {'auto picks':>10}"
          f" {'auto / faster':>13}  target <= 1.10")
    for cell in ("rnn", "gru", "lstm"):
        est = RecurrentClassifier(cell=cell, hidden_size=64, max_iter=1, random_state=0)
        est.fit(X[:64], y[:64])
        times = {"torch": [], "numba": [], "auto": []}
        for _ in range(rounds):
            for backend in times:  # interleaved
                est.set_params(backend=backend)
                start = time.perf_counter()
                est.predict(X)
                times[backend].append(time.perf_counter() - start)
        t = {b: float(np.median(v)) for b, v in times.items()}
        ratio = t["auto"] / min(t["torch"], t["numba"])
        print(f"{cell:<5} {t['torch']:8.3f} {t['numba']:8.3f} {t['auto']:8.3f}"
              f" {est.set_params(backend='auto')._backend(256):>10} {ratio:12.2f}x"
              f"  {'meets' if ratio <= 1.10 else 'MISSES'}")


if __name__ == "__main__":
    main()
