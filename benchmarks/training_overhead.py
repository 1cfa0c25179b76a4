"""Framework overhead of one training epoch: LSTMClassifier vs a hand-written loop.

The estimator trains a ``ManyToOneNetwork`` through a private skorch net. The
hand-written loop trains the same module class with the same hyperparameters,
data, batch size, length-bucketed batches (``length_batches``), Adam, cross
entropy and gradient clipping at 5.0 (the estimator's default), so only the
framework differs: skorch's callbacks and history, our dataset and iterator,
and, for ``partial_fit``, validating ``X`` on every call. With ``n_samples <=
batch_size * BUCKET_POOL_BATCHES`` the whole data set is one bucketing pool,
so both loops pad to the same lengths and do the same arithmetic.

One-time setup (building and initialising the net) is excluded: the estimator
rows are skorch's own per-epoch ``dur`` (from ``history_``; it stops before the
last epoch-end callbacks) and the wall time of a ``partial_fit`` call (one
epoch, plus validation of ``X`` and the targets). The wall time of
``fit(max_iter=1)`` is shown for reference: it adds the setup.

Contenders are interleaved (the order alternates every round) and the table
shows medians over rounds. torch runs on one thread, so that the two cores of a
shared machine do not make the ratio depend on who else is running.

    PYTHONPATH=. python benchmarks/training_overhead.py [--quick]
"""

import argparse
import time
import warnings

import numpy as np
import torch

from sklearn_rnn import LSTMClassifier
from sklearn_rnn._sequence import length_batches
from sklearn_rnn._torch.modules import ManyToOneNetwork

TARGET = 1.10


def make_data(n_samples, min_len, max_len, n_features, seed=0):
    """Ragged sequences and a binary label that depends on them."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n_samples)
    X = [rng.normal(size=(t, n_features)).astype(np.float32) for t in lengths]
    y = np.array([x[:, 0].mean() > 0 for x in X], dtype=np.int64)
    return X, y


class HandLoop:
    """A plain PyTorch training loop over the same module class and batches."""

    def __init__(self, X, y, *, hidden_size, batch_size, seed=0):
        torch.manual_seed(seed)
        self.lengths_np = np.array([len(x) for x in X], dtype=np.int64)
        padded = np.zeros((len(X), self.lengths_np.max(), X[0].shape[1]), dtype=np.float32)
        for i, x in enumerate(X):
            padded[i, : len(x)] = x
        self.padded = torch.from_numpy(padded)  # (N, T_max, F)
        self.lengths = torch.from_numpy(self.lengths_np)  # (N,)
        self.y = torch.from_numpy(y)  # (N,)
        self.batch_size = batch_size
        self.module = ManyToOneNetwork(X[0].shape[1], 2, hidden_size=hidden_size, cell="lstm")
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=1e-3)
        self.criterion = torch.nn.CrossEntropyLoss()
        self.rng = np.random.default_rng(seed)

    def epoch(self):
        self.module.train()
        total = 0.0
        for indices in length_batches(self.lengths_np, self.batch_size, shuffle=True, rng=self.rng):
            indices = torch.as_tensor(indices)
            lengths = self.lengths[indices]  # (B,)
            x = self.padded[indices, : int(lengths.max())]  # (B, T_batch, F)
            self.optimizer.zero_grad()
            loss = self.criterion(self.module(x, lengths), self.y[indices])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.module.parameters(), 5.0)
            self.optimizer.step()
            total += loss.item()
        return total


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        n_samples, lengths, hidden_size, rounds = 256, (5, 30), 16, 2
    else:
        n_samples, lengths, hidden_size, rounds = 2048, (20, 100), 64, 7
    rounds = args.rounds or rounds
    n_features, batch_size = 8, 64
    X, y = make_data(n_samples, *lengths, n_features)
    params = dict(hidden_size=hidden_size, batch_size=batch_size, random_state=0)
    params.update(n_iter_no_change=10**6, tol=0.0)  # never stop early

    hand = HandLoop(X, y, hidden_size=hidden_size, batch_size=batch_size)
    incremental = LSTMClassifier(**params).partial_fit(X, y, classes=[0, 1])  # setup
    hand.epoch()  # warm-up
    warnings.simplefilter("ignore")  # ConvergenceWarning of fit(max_iter=1)

    times = {"hand": [], "dur": [], "partial_fit": [], "fit": []}

    def run_hand():
        times["hand"].append(timed(hand.epoch))

    def run_partial_fit():
        times["partial_fit"].append(timed(lambda: incremental.partial_fit(X, y)))

    def run_fit():
        est = LSTMClassifier(max_iter=1, **params)
        times["fit"].append(timed(lambda: est.fit(X, y)))
        times["dur"].append(est.history_[-1, "dur"])

    contenders = [run_hand, run_partial_fit, run_fit]
    for r in range(rounds):
        for run in contenders if r % 2 == 0 else contenders[::-1]:
            run()

    med = {key: float(np.median(values)) for key, values in times.items()}
    print(
        f"one epoch: {n_samples} sequences of length {lengths[0]}-{lengths[1]}, "
        f"{n_features} features, LSTM hidden {hidden_size}, batch {batch_size}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread; median of {rounds} rounds"
    )
    rows = [
        ("hand-written loop", "hand"),
        ("LSTMClassifier.fit: skorch epoch `dur`", "dur"),
        ("LSTMClassifier.partial_fit: wall (+ validation)", "partial_fit"),
        ("LSTMClassifier.fit(max_iter=1): wall (+ setup)", "fit"),
    ]
    print(f"{'contender':<50} {'s/epoch':>8} {'vs hand':>8}")
    for label, key in rows:
        print(f"{label:<50} {med[key]:8.3f} {med[key] / med['hand']:7.2f}x")
    worst = max(med["dur"], med["partial_fit"]) / med["hand"]
    verdict = "meets the target" if worst <= TARGET else "MISSES the target"
    verdict = "not judged (--quick)" if args.quick else verdict
    print(f"per-epoch overhead {worst:.2f}x the hand loop (target <= {TARGET:.2f}x): {verdict}")


if __name__ == "__main__":
    main()
