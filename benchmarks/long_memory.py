"""The classic long-memory benchmarks: the adding problem and the copy task.

Adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): two features
per step, a value in [0, 1) and a marker at two steps; the target is the sum
of the two marked values. Predicting 1.0 gives a test MSE of about 0.167; a
model "solves" the task below 0.01. Copy task (reduced): remember 5 symbols of
3 over a delay of 30 blank steps and repeat them after a marker; chance is
1/3 per recalled symbol. ``--long`` adds the published copy protocol
(8 symbols, 10 positions, delay 100), which takes far longer.

Every model: hidden 64, batch 64, the estimators' defaults otherwise (Adam,
learning rate 1e-3, clip_grad_norm 5, orthogonal recurrent weights, forget
bias 1), 10,000 training and 1,000 test sequences, trained until solved or
out of its time budget. The table gives the test error, the baseline, the
epochs and optimizer steps used (to solving, when solved) and wall time.

Run::

    python benchmarks/long_memory.py                 # T = 50, 100, 200 and the reduced copy task
    python benchmarks/long_memory.py --budget 300     # seconds per model (default 240)
    python benchmarks/long_memory.py --quick         # seconds, smoke run
"""

import argparse
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from sklearn_rnn import RecurrentRegressor, SequenceTagger, available_cells
from sklearn_rnn.datasets import make_adding_problem, make_copy_task


class EvaluateEachEpoch(Callback):
    """Test error after every epoch; stops when solved or when the time budget is spent."""

    def __init__(self, error, solved, budget):
        self.error, self.solved, self.budget = error, solved, budget

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()
        self.errors_, self.solved_at_ = [], None

    def on_epoch_end(self, net, **kwargs):
        self.errors_.append(self.error())
        if self.solved_at_ is None and self.solved(self.errors_[-1]):
            self.solved_at_ = len(self.errors_)
        if self.solved_at_ is not None or time.perf_counter() - self.start_ > self.budget:
            raise KeyboardInterrupt  # skorch ends training quietly


def run_adding(cell, n_timesteps, n_train, hidden, budget, max_epochs):
    X, y = make_adding_problem(n_train, n_timesteps, random_state=0)
    X_test, y_test = make_adding_problem(1000, n_timesteps, random_state=1)
    est = RecurrentRegressor(
        cell=cell, hidden_size=hidden, batch_size=64, max_iter=max_epochs, n_iter_no_change=10**6,
        random_state=0,
    )
    monitor = EvaluateEachEpoch(
        lambda: float(np.mean((est.predict(X_test) - y_test) ** 2)), lambda e: e < 0.01, budget
    )
    est.set_params(callbacks=[monitor])
    start = time.perf_counter()
    est.fit(X, y)
    return monitor, time.perf_counter() - start, -(-n_train // 64)


def run_copy(cell, n_symbols, length, delay, n_train, hidden, budget, max_epochs):
    X, y = make_copy_task(n_train, n_symbols, sequence_length=length, delay=delay, random_state=0)
    X_test, y_test = make_copy_task(1000, n_symbols, sequence_length=length, delay=delay, random_state=1)
    est = SequenceTagger(
        cell=cell, hidden_size=hidden, bidirectional=False, batch_size=64, max_iter=max_epochs,
        n_iter_no_change=10**6, random_state=0,
    )

    def recall_error():
        predicted = np.asarray(est.predict(X_test))[:, -length:]
        return 1.0 - float(np.mean(predicted == y_test[:, -length:]))

    monitor = EvaluateEachEpoch(recall_error, lambda e: e < 0.01, budget)
    est.set_params(callbacks=[monitor])
    start = time.perf_counter()
    est.fit(X, y)
    return monitor, time.perf_counter() - start, -(-n_train // 64)


def row(task, cell, baseline, monitor, seconds, steps_per_epoch):
    epochs = len(monitor.errors_)
    best = min(monitor.errors_)
    solved = monitor.solved_at_
    used = solved or epochs
    status = f"solved at epoch {solved}" if solved else "not solved"
    return (
        f"| {task} | {cell} | {best:.4f} | {baseline:.3f} | {status} | {used} | "
        f"{used * steps_per_epoch} | {seconds:.0f} |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--long", action="store_true", help="add the published copy protocol")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds per model")
    parser.add_argument("--cells", nargs="*", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cells = args.cells or [
        c for c in ("rnn", "lstm", "gru", "direct", "indirect", "full") if c in available_cells()
    ]
    if args.quick:
        lengths, n_train, hidden, budget, max_epochs = [20], 256, 8, 5.0, 2
        copy_settings = [(3, 3, 5)]
    else:
        lengths, n_train, hidden, budget, max_epochs = [50, 100, 200], 10_000, 64, args.budget, 500
        copy_settings = [(3, 5, 30)] + ([(8, 10, 100)] if args.long else [])
    print(f"hidden {hidden}, {n_train} training sequences, budget {budget:.0f} s per model, "
          "torch 1 thread; error: test MSE (adding) or recall error (copy)")
    print("\n| task | cell | best test error | baseline | result | epochs | steps | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for n_timesteps in lengths:
        for cell in cells:
            monitor, seconds, per_epoch = run_adding(cell, n_timesteps, n_train, hidden, budget, max_epochs)
            print(row(f"adding T={n_timesteps}", cell, 0.167, monitor, seconds, per_epoch), flush=True)
    for n_symbols, length, delay in copy_settings:
        for cell in cells:
            monitor, seconds, per_epoch = run_copy(
                cell, n_symbols, length, delay, n_train, hidden, budget, max_epochs
            )
            task = f"copy {n_symbols} symbols x{length}, delay {delay}"
            print(row(task, cell, 1 - 1 / n_symbols, monitor, seconds, per_epoch), flush=True)


if __name__ == "__main__":
    main()
