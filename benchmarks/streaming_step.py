"""The cost of one public streaming call, against the numba kernel it runs.

``predict_step(x_t, state)`` for one stream of a fitted one-layer
``RecurrentClassifier`` and ``RecurrentRegressor`` (8 features, hidden 32),
per cell, each contender feeding back the state it returned, as a stream does:

* ``numba kernel alone``: the ``@njit`` step kernel of ``sklearn_rnn._numba``
  on prepared weights, updating a state in place (no checks, no copies, no
  output layer): the floor;
* ``predict_step, numba``: the estimator with ``backend="numba"`` (what
  ``"auto"`` streams on, on the CPU): checks of ``x_t`` and of the state, the
  kernel, the output layer, the label or value;
* ``predict_proba_step, numba``: the same with probabilities (classifier);
* ``predict_step, torch``: the estimator with ``backend="torch"``, stepping the
  fitted torch layer;
* ``predictor predict_step``: the torch-free predictor of ``export_weights`` /
  ``load_predictor`` on the same weights.

Contenders are interleaved, the order rotating every round; each round times
a block of calls per contender, and the table shows the median time per call
over the rounds, and its ratio to the kernel's. torch runs on one thread.

    PYTHONPATH=. python benchmarks/streaming_step.py [--quick] [--rounds N]
"""

import argparse
import copy
import os
import tempfile
import time
import warnings

import numpy as np
import torch

from sklearn_rnn import RecurrentClassifier, RecurrentRegressor, load_predictor
from sklearn_rnn._numba import kernels

CELLS = ("rnn", "lstm", "gru")
N_FEATURES = 8
HIDDEN = 32
KERNELS = {"rnn": kernels.rnn_step, "lstm": kernels.lstm_step, "gru": kernels.gru_step}


def streaming(step, state):
    """A call of ``step(x_t, state)`` that feeds the returned state to the next call."""
    current = [state]

    def call(x_t):
        current[0] = step(x_t, current[0])[1]

    return call


def kernel_alone(estimator):
    """The numba step kernel of the fitted network, in place on its own state."""
    stepper = estimator._streaming_network().steppers[0]
    state = tuple(np.array(leaf) for leaf in stepper.init_state(1))  # writable copies
    kernel, packed = KERNELS[stepper.cell], stepper.weights.packed

    def call(x_t):
        kernel(x_t, packed, *state)

    return call


def contenders(cell, Estimator, directory):
    """{name: one call on an (1, N_FEATURES) float32 step} for one cell and estimator."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 10, N_FEATURES)).astype(np.float32)
    if Estimator is RecurrentClassifier:
        y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    else:
        y = X[:, :, 0].sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch is enough here
        numba_est = Estimator(
            cell=cell, hidden_size=HIDDEN, max_iter=1, backend="numba", random_state=0
        ).fit(X, y)
    torch_est = copy.deepcopy(numba_est).set_params(backend="torch")  # the same weights
    path = os.path.join(directory, f"{cell}.npz")
    numba_est.export_weights(path)
    predictor = load_predictor(path)
    calls = {
        "numba kernel alone": kernel_alone(numba_est),
        "predict_step, numba": streaming(numba_est.predict_step, numba_est.init_state()),
    }
    if hasattr(numba_est, "predict_proba_step"):
        calls["predict_proba_step, numba"] = streaming(
            numba_est.predict_proba_step, numba_est.init_state()
        )
    calls["predict_step, torch"] = streaming(torch_est.predict_step, torch_est.init_state())
    calls["predictor predict_step"] = streaming(predictor.predict_step, predictor.init_state())
    return calls


def time_rounds(calls, x_t, rounds, block):
    """Median seconds per call of each contender: interleaved, rotating blocks."""
    names = list(calls)
    times = {name: [] for name in names}
    for r in range(rounds + 3):  # the first 3 rounds warm up
        for name in names[r % len(names) :] + names[: r % len(names)]:
            call = calls[name]
            start = time.perf_counter()
            for _ in range(block):
                call(x_t)
            if r >= 3:
                times[name].append((time.perf_counter() - start) / block)
    return {name: float(np.median(t)) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rounds = args.rounds or (5 if args.quick else 300)
    block = 10 if args.quick else 50
    x_t = np.random.default_rng(1).normal(size=(1, N_FEATURES)).astype(np.float32)

    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for cell in CELLS:
            for kind, Estimator in (("classifier", RecurrentClassifier),
                                    ("regressor", RecurrentRegressor)):
                calls = contenders(cell, Estimator, directory)
                results[cell, kind] = time_rounds(calls, x_t, rounds, block)

    print(
        f"one stream, {N_FEATURES} features, hidden {HIDDEN}, one layer, float32 x_t; "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread; "
        f"median of {rounds} rounds of {block} calls"
    )
    header = f"{'cell':<5} {'contender':<28} {'classifier us':>13} {'vs kernel':>9}"
    print(header + f" {'regressor us':>12} {'vs kernel':>9}")
    for cell in CELLS:
        names = list(results[cell, "classifier"])
        for name in names:
            row = f"{cell:<5} {name:<28}"
            for kind, width in (("classifier", 13), ("regressor", 12)):
                med = results[cell, kind].get(name)
                kernel = results[cell, kind]["numba kernel alone"]
                if med is None:
                    row += f" {'-':>{width}} {'-':>9}"
                else:
                    row += f" {med * 1e6:{width}.1f} {med / kernel:8.1f}x"
            print(row)


if __name__ == "__main__":
    main()
