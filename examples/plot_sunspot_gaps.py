"""
Filling gaps in the sunspot record: per-step regression
=======================================================

A :class:`~sklearn_rnn.StepwiseRegressor` predicts a value at every time
step. Here it fills gaps: from 40-year windows of the yearly sunspot numbers
(statsmodels' series, bundled with sklearn-rnn as
:func:`~sklearn_rnn.datasets.load_sunspots`) we hide 30% of the years at
random, and the network reads each window (the visible values, 0 where
hidden, and a channel saying which years are hidden) and predicts the whole
window. A bidirectional network sees both sides of a gap, and has learnt
the shape of the 11-year cycle.

The baseline is linear interpolation between the visible years. Both are
scored by the mean squared error on the hidden years of windows from
1900-2008, after training on windows from 1700-1899.
"""

# %%
# The data: overlapping windows, each with several random masks.
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from sklearn_rnn import StepwiseRegressor
from sklearn_rnn.datasets import load_sunspots

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run

sunspots = load_sunspots()
scale = sunspots.data[:200].std()  # the training years' spread, to standardise
series = sunspots.data / scale
WINDOW, HIDDEN_SHARE = 40, 0.3
rng = np.random.RandomState(0)


def masked_windows(values, n_masks):
    """Windows ``(n, WINDOW, 2)`` of (visible value or 0, hidden flag), targets, masks."""
    X, y, masks = [], [], []
    for start in range(0, len(values) - WINDOW + 1, 2):
        window = values[start : start + WINDOW]
        for _ in range(n_masks):
            hidden = rng.rand(WINDOW) < HIDDEN_SHARE
            hidden[[0, -1]] = False  # interpolation needs both ends
            X.append(np.stack([np.where(hidden, 0.0, window), hidden], axis=1))
            y.append(window)
            masks.append(hidden)
    return np.array(X), np.array(y), np.array(masks)


X_train, y_train, _ = masked_windows(series[:200], n_masks=20)
X_test, y_test, hidden_test = masked_windows(series[200:], n_masks=5)
print(f"{len(X_train)} training windows (1700-1899), {len(X_test)} test windows (1900-2008)")

# %%
# The baseline: linear interpolation over the hidden years.
steps = np.arange(WINDOW)
interpolated = np.array(
    [np.interp(steps, steps[~hidden], x[~hidden, 0]) for x, hidden in zip(X_test, hidden_test)]
)

# %%
# The per-step regressor: a bidirectional GRU, one output per year.
model = StepwiseRegressor(
    cell="gru",
    hidden_size=32,
    max_iter=20 if QUICK else 30,
    learning_rate=3e-3,
    random_state=0,
)
model.fit(X_train, y_train)
filled = model.predict(X_test)  # (n_test, WINDOW)


def gap_mse(predicted):
    """MSE on the hidden years, in squared sunspot numbers."""
    return float((((predicted - y_test) * scale)[hidden_test] ** 2).mean())


mse = {"linear\ninterpolation": gap_mse(interpolated), "bidirectional\nGRU": gap_mse(filled)}
for name, value in mse.items():
    print(f"{name.replace(chr(10), ' ')}: MSE on hidden years {value:.0f}")
baseline_mse, model_mse = mse["linear\ninterpolation"], mse["bidirectional\nGRU"]

# %%
# One held-out window: the hidden years, filled both ways.
i = 40
years = 1900 + 2 * (i // 5) + steps
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(years, y_test[i] * scale, color="black", label="recorded")
ax.plot(years, interpolated[i] * scale, color="gray", linestyle="--", label="linear interpolation")
ax.plot(years, filled[i] * scale, color="C0", label="bidirectional GRU")
ax.scatter(years[hidden_test[i]], (y_test[i] * scale)[hidden_test[i]], color="C3", zorder=3,
           label="hidden years")
ax.set_xlabel("year")
ax.set_ylabel("sunspot number")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Error on the hidden years of every test window.
fig, ax = plt.subplots(figsize=(5, 3.5))
bars = ax.bar(list(mse), list(mse.values()), color=["gray", "C0"])
ax.bar_label(bars, fmt="%.0f")
ax.set_ylabel("MSE on hidden years (test)")
fig.tight_layout()
