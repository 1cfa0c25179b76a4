"""
Predicting as the data arrives: streaming with ``predict_step``
===============================================================

A fitted unidirectional estimator can be fed one time step at a time, as
observations arrive: ``init_state(n_streams)`` starts the streams, and
``predict_step(x_t, state)`` takes the next step of each stream and returns
the prediction given everything fed so far, with the new state (for example
:meth:`~sklearn_rnn.GRUClassifier.init_state` and
:meth:`~sklearn_rnn.GRUClassifier.predict_step`). A sequence fed step by step
ends at the prediction that ``predict`` gives on the whole sequence. With
``backend="auto"`` (the default) or ``"numba"``, on the CPU, the steps run on
sklearn-rnn's numba step kernels; with ``backend="torch"``, on the fitted
torch layers.

Two uses, on data bundled with sklearn-rnn:

* a :class:`~sklearn_rnn.GRUClassifier` names the speaker of a JapaneseVowels
  recording (:func:`~sklearn_rnn.datasets.load_japanese_vowels`) frame by
  frame as the recording arrives: how soon does it know?
* a unidirectional :class:`~sklearn_rnn.StepwiseRegressor` reads the yearly
  sunspot numbers (:func:`~sklearn_rnn.datasets.load_sunspots`) one year at
  a time and predicts the next year's, against the persistence forecast
  (next year as this year) and a linear autoregression.
"""

# %%
# Who is speaking: a GRU classifier on the JapaneseVowels recordings (7 to
# 29 frames of 12 cepstral coefficients, 9 speakers). ``predict_step`` is a
# method of the estimator, not of a pipeline, so the
# :class:`~sklearn_rnn.SequenceScaler` is fitted on its own, and each
# arriving frame is scaled with its ``mean_`` and ``scale_``.
import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from sklearn_rnn import GRUClassifier, SequenceScaler, StepwiseRegressor
from sklearn_rnn.datasets import load_japanese_vowels, load_sunspots

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run
# The fits stop after a fixed number of epochs; the test scores, not the warning, say whether
# that is enough.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
scaler = SequenceScaler().fit(X_train)
classifier = GRUClassifier(hidden_size=32, max_iter=10 if QUICK else 20, learning_rate=1e-2,
                           random_state=0)
classifier.fit(scaler.transform(X_train), y_train)
classifier_accuracy = classifier.score(scaler.transform(X_test), y_test)
print(f"test accuracy on whole recordings: {classifier_accuracy:.3f}")


def scale_frame(frame):
    """One arriving frame ``(12,)``, scaled as the training frames were."""
    return (frame - scaler.mean_) / scaler.scale_


# %%
# Each test recording is streamed on its own, one frame at a time; after each
# frame the classifier says who it thinks is speaking.
streamed_labels = []  # per recording, the label after each frame
for recording in X_test:
    state = classifier.init_state(n_streams=1)
    labels = []
    for frame in recording:
        label, state = classifier.predict_step(scale_frame(frame)[None, :], state)  # (1, 12) in
        labels.append(label[0])
    streamed_labels.append(np.array(labels))

# %%
# The check: ``predict`` on the part of each recording received so far (each
# prefix, a ragged list of 5,687 sequences) gives the label streamed after
# that frame, and so ``predict`` on the whole recordings gives the last.
prefixes = [recording[:t] for recording in X_test for t in range(1, len(recording) + 1)]
prefix_labels = classifier.predict(scaler.transform(prefixes))
label_agreement = float(np.mean(np.concatenate(streamed_labels) == prefix_labels))
final_streamed = np.array([labels[-1] for labels in streamed_labels])
final_agreement = float(np.mean(final_streamed == classifier.predict(scaler.transform(X_test))))
print(f"streamed labels equal predict on the prefix: {label_agreement:.1%} of {len(prefixes)} frames; "
      f"after the last frame: {final_agreement:.1%} of {len(X_test)} recordings")

# %%
# How soon it knows: the accuracy of the streamed label after the first
# ``t`` frames of every test recording (a recording shorter than ``t``
# frames counts with its last label). The classifier was trained on whole
# recordings only, so its early guesses are a by-product, not what it was
# trained for.
frames = np.arange(1, 30)
accuracy_after = np.array([
    np.mean([labels[min(t, len(labels)) - 1] == truth for labels, truth in zip(streamed_labels, y_test)])
    for t in frames
])
for t in (1, 5, 10, 15, 20):
    print(f"after {t:2d} frame{'s' if t > 1 else ' '}: accuracy {accuracy_after[t - 1]:.3f}")
speakers, counts = np.unique(y_test, return_counts=True)
constant_accuracy = counts.max() / len(y_test)  # naming the commonest test speaker every time

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(frames, accuracy_after, marker="o", markersize=3, label="streamed label after t frames")
ax.axhline(classifier_accuracy, color="black", linestyle="--", label="predict on whole recordings")
ax.axhline(constant_accuracy, color="grey", linestyle=":",
           label=f"always speaker {speakers[counts.argmax()]} (the commonest)")
ax.set_xlabel("frames received, t")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1.02)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# What the classifier believes as two recordings arrive. ``predict_step``
# gives the label; the class probabilities behind it are those of
# ``predict_proba`` on the frames received so far (its largest one is the
# streamed label, marked by the coloured squares at the top).
colors = plt.get_cmap("tab10")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, index in zip(axes, [3, 101]):
    recording, labels = X_test[index], streamed_labels[index]
    steps = np.arange(1, len(recording) + 1)
    proba = classifier.predict_proba(scaler.transform([recording[:t] for t in steps]))  # (T, 9)
    for k, speaker in enumerate(classifier.classes_):
        ax.plot(steps, proba[:, k], color=colors(k), label=f"speaker {speaker}")
    label_index = np.searchsorted(classifier.classes_, labels)
    ax.scatter(steps, np.full(len(steps), 1.06), c=colors(label_index), marker="s", s=25)
    ax.set_title(f"test recording {index}: speaker {y_test[index]}, {len(recording)} frames")
    ax.set_xlabel("frames received")
    ax.xaxis.get_major_locator().set_params(integer=True)
axes[0].set_ylabel("probability")
axes[0].set_ylim(-0.02, 1.1)
axes[1].legend(loc="center right", fontsize=8, ncol=1)
fig.tight_layout()
plt.show()

# %%
# Next year's sunspots, as the years arrive. A
# :class:`~sklearn_rnn.StepwiseRegressor` predicts a value at every step;
# trained on 40-year windows of the years 1700-1899 to predict, at each year,
# the next year's number, it is a one-step-ahead forecaster. It must be
# unidirectional (``bidirectional=False``, not the default): a bidirectional
# network reads each window from the end too, which a stream cannot do, and
# would see the answer.
sunspots = load_sunspots()
years, values = sunspots.time.astype(str).astype(int), sunspots.data  # 1700-2008
scale = values[:200].std()  # the training years' spread
series = values / scale
WINDOW = 40
starts = range(0, 200 - WINDOW)  # the inputs end in 1898, the targets in 1899
X_windows = np.array([series[s : s + WINDOW] for s in starts])  # (160, 40): univariate
y_windows = np.array([series[s + 1 : s + WINDOW + 1] for s in starts])  # one year ahead
forecaster = StepwiseRegressor(cell="gru", bidirectional=False, hidden_size=32,
                               max_iter=60, learning_rate=3e-3, random_state=0)
forecaster.fit(X_windows, y_windows)

# %%
# One stream through all 308 years from 1700 to 2007: each year's number goes
# in, the next year's prediction comes out. The years 1700-1899 warm the state
# up; the predictions for 1901-2008 are scored. The check: ``predict`` on the
# whole series gives the streamed prediction at every year.
state = forecaster.init_state(n_streams=1)
streamed = []
for value in series[:-1]:
    prediction, state = forecaster.predict_step([[value]], state)  # x_t of shape (1, 1)
    streamed.append(prediction[0])
streamed = np.array(streamed)  # streamed[i]: the prediction for year 1701 + i
whole = forecaster.predict(series[None, :-1])[0]  # one sequence of 308 steps, at once
max_abs_difference = float(np.max(np.abs(streamed - whole)) * scale)
print(f"largest difference between streamed and whole-series predictions: "
      f"{max_abs_difference:.1e} sunspots")

scored = years[1:] >= 1901  # the predicted years scored
truth = values[1:][scored]
forecasts = {
    "GRU, streamed": streamed[scored] * scale,
    "persistence": values[:-1][scored],  # next year as this year
}
# The baseline: least squares on the last 9 years (9 had the lowest test error of 3, 6, 9 and
# 12, which favours the baseline).
LAGS = 9
lagged = np.array([series[t - LAGS + 1 : t + 1] for t in range(LAGS - 1, len(series) - 1)])
autoregression = Ridge(alpha=1e-3).fit(lagged[: 200 - LAGS], series[LAGS:200])
next_year = years[LAGS:]  # the year each row of ``lagged`` predicts
forecasts[f"linear, last {LAGS} years"] = autoregression.predict(lagged[next_year >= 1901]) * scale
rmse = {name: float(np.sqrt(np.mean((truth - f) ** 2))) for name, f in forecasts.items()}
print(f"\none-step-ahead RMSE on 1901-2008 ({scored.sum()} years):")
for name, value in rmse.items():
    print(f"  {name:<20} {value:5.1f}")
model_rmse = rmse["GRU, streamed"]
persistence_rmse = rmse["persistence"]
autoregression_rmse = rmse[f"linear, last {LAGS} years"]

fig, ax = plt.subplots(figsize=(10, 3.8))
ax.plot(years[1:][scored], truth, color="black", label="observed")
for name, forecast in forecasts.items():
    style = dict(color="grey", linestyle=":") if name == "persistence" else {}
    ax.plot(years[1:][scored], forecast, label=f"{name} (RMSE {rmse[name]:.1f})", **style)
ax.set_xlabel("year")
ax.set_ylabel("sunspot number")
ax.set_title("One year ahead, one year at a time")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Time per step, for information (it depends on the machine and its load),
# on the numba step kernels (what ``"auto"`` picks on the CPU) and on the
# fitted torch layers, for one stream and for 100 streams fed side by side
# (here, 100 copies of the series). Most of a numba step for one stream is
# the Python around the kernel (checking ``x_t`` and the state), which 100
# streams share.
latency_us = {}
for backend in ("numba", "torch"):
    forecaster.set_params(backend=backend)
    for n_streams in (1, 100):
        state = forecaster.init_state(n_streams)
        forecaster.predict_step(np.zeros((n_streams, 1)), state)  # warm-up
        start = time.perf_counter()
        for value in series[:-1]:
            _, state = forecaster.predict_step(np.full((n_streams, 1), value), state)
        latency_us[backend, n_streams] = (time.perf_counter() - start) / (len(series) - 1) * 1e6
        print(f"backend={backend!r}, {n_streams:3d} stream(s): "
              f"{latency_us[backend, n_streams]:4.0f} us per predict_step, "
              f"{latency_us[backend, n_streams] / n_streams:5.1f} us per stream")
forecaster.set_params(backend="auto")
