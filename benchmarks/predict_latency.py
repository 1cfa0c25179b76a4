"""Latency of predicting one sequence: the estimator vs its module's forward pass.

A fitted ``LSTMClassifier`` answers ``predict``/``predict_proba`` for a single
sequence of 50 steps x 8 features. The reference is the fitted module's own
forward pass on the same data as a pre-made tensor under
``torch.inference_mode()``: the least any wrapper can cost. The difference is
our overhead (``check_is_fitted``, validating ``X``, numpy/torch conversion,
argmax or softmax). For reference, skorch's own prediction path,
``net_.predict`` on a pre-made ``SequenceDataset`` (its iterator, no_grad
evaluation step and concatenation), shows what calling skorch would cost; the
estimator bypasses it.

The last row is a what-if, the floor for any wrapper: ``minimal_predict``
checks a float32 3-D array, puts the module in eval mode only if it is not,
runs the forward pass and takes the argmax (see docs/benchmarks.md).

Every repeat calls each contender once, in rotating order; the table shows
medians. torch runs on one thread.

    PYTHONPATH=. python benchmarks/predict_latency.py [--quick]
"""

import argparse
import time
import warnings

import numpy as np
import torch

from sklearn_rnn import LSTMClassifier
from sklearn_rnn._torch.data import SequenceDataset
from sklearn_rnn._validation import check_sequences

TARGET = 1.5


def minimal_predict(est, X):
    """The least a predict wrapper must do for equal-length 3-D input (a what-if)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3 or X.shape[2] != est.n_features_in_ or not np.isfinite(X).all():
        raise ValueError("X must be a finite (n_samples, n_timesteps, n_features_in_) array")
    module = est.net_.module_
    if module.training:
        module.eval()
    with torch.inference_mode():
        logits = module(torch.from_numpy(X), torch.full((len(X),), X.shape[1]))  # (N, C)
    return est.classes_[logits.numpy().argmax(axis=1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, for a smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = args.repeats or (50 if args.quick else 3000)
    n_steps, n_features, hidden_size = 50, 8, 64

    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(64, n_steps, n_features)).astype(np.float32)
    y_train = (X_train[:, :, 0].mean(axis=1) > 0).astype(np.int64)
    est = LSTMClassifier(hidden_size=hidden_size, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch is enough here
        est.fit(X_train, y_train)

    x = rng.normal(size=(1, n_steps, n_features)).astype(np.float32)  # one sequence
    module = est.net_.module_.eval()
    x_tensor, lengths = torch.from_numpy(x), torch.tensor([n_steps])
    dataset = SequenceDataset(check_sequences(x))

    def module_forward():
        with torch.inference_mode():
            return module(x_tensor, lengths)

    contenders = {
        "module forward, inference_mode (reference)": module_forward,
        "LSTMClassifier.predict": lambda: est.predict(x),
        "LSTMClassifier.predict_proba": lambda: est.predict_proba(x),
        "skorch net_.predict(SequenceDataset)": lambda: est.net_.predict(dataset),
        "what-if: minimal_predict (floor for a wrapper)": lambda: minimal_predict(est, x),
    }
    assert minimal_predict(est, x) == est.predict(x)
    np.testing.assert_allclose(
        est.predict_proba(x), torch.softmax(module_forward(), 1).numpy(), rtol=1e-5
    )
    names = list(contenders)
    times = {name: [] for name in names}
    for r in range(repeats + 10):  # the first 10 warm up
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            contenders[name]()
            if r >= 10:
                times[name].append(time.perf_counter() - start)

    med = {name: float(np.median(t)) * 1e6 for name, t in times.items()}
    reference = med[names[0]]
    print(
        f"one sequence of {n_steps} steps x {n_features} features, LSTM hidden {hidden_size}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread; median of {repeats}"
    )
    print(f"{'contender':<48} {'median us':>10} {'vs forward':>10}")
    for name in names:
        print(f"{name:<48} {med[name]:10.1f} {med[name] / reference:9.2f}x")
    worst = max(med[names[1]], med[names[2]]) / reference
    verdict = "meets the target" if worst <= TARGET else "MISSES the target"
    verdict = "not judged (--quick)" if args.quick else verdict
    print(f"predict/predict_proba {worst:.2f}x the forward (target <= {TARGET}x): {verdict}")


if __name__ == "__main__":
    main()
