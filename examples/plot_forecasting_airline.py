"""
Forecasting airline passengers two years ahead
==============================================

An :class:`~sklearn_rnn.RNNForecaster` forecasts the classic airline passengers
series (Box and Jenkins' Series G, monthly totals 1949-1960, shipped with
sklearn-rnn as :func:`~sklearn_rnn.datasets.load_airline`, so nothing is
downloaded). We hold out the last 24 months, fit on the 120 before, and compare
the forecasts with the seasonal-naive baseline, which repeats the last observed
year, in MAE, RMSE and MASE.

The series has a trend and a seasonal swing that grows with the level, so the
network models the month-to-month changes (``difference=1``) of its logarithm;
:class:`~sklearn_rnn.RNNForecaster` standardises them itself.
"""

# %%
# The data and the baseline.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import RNNForecaster, SeasonalNaiveForecaster
from sklearn_rnn.datasets import load_airline
from sklearn_rnn.forecasting import mean_absolute_scaled_error

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run
# Some fits use all 200 epochs; the held-out error, not the warning, says whether that is enough.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

airline = load_airline()
y, months = airline.data, airline.time
horizon = 24
train, test = y[:-horizon], y[-horizon:]
print(f"train {months[0]} to {months[-horizon - 1]} ({len(train)} months), "
      f"test {months[-horizon]} to {months[-1]} ({horizon} months)")


def errors(forecast):
    """MAE, RMSE and MASE (scaled by the in-sample seasonal-naive error) on the test months."""
    mae = np.mean(np.abs(test - forecast))
    rmse = np.sqrt(np.mean((test - forecast) ** 2))
    mase = mean_absolute_scaled_error(test, forecast, y_train=train, season_length=12)
    return mae, rmse, mase


naive = SeasonalNaiveForecaster(season_length=12).fit(train).predict(horizon)
results = {"seasonal naive": errors(naive)}

# %%
# The forecasters: a window of two years, 32 LSTM units, on the log scale.
# ``strategy="direct"`` predicts all 24 months at once; ``"recursive"`` predicts
# one month and feeds it back. Networks differ from seed to seed, so the full
# run fits five seeds of each and reports their mean (the quick run, one).
seeds = [0] if QUICK else [0, 1, 2, 3, 4]
forecasts = {}
for strategy in ("direct", "recursive"):
    runs = []
    for seed in seeds:
        forecaster = RNNForecaster(
            window=24,
            strategy=strategy,
            horizon=horizon,  # used by the direct strategy
            difference=1,
            hidden_size=32,
            max_iter=200,
            learning_rate=1e-2,
            random_state=seed,
        ).fit(np.log(train))
        runs.append(np.exp(forecaster.predict(horizon)))
    forecasts[strategy] = runs[0]
    scores = np.array([errors(run) for run in runs])  # (n_seeds, 3)
    results[f"RNN, {strategy}"] = tuple(scores.mean(axis=0))
    if not QUICK:
        maes = scores[:, 0]
        print(f"{strategy}: MAE over seeds {', '.join(f'{m:.1f}' for m in maes)}")

print(f"\n{'forecast':<18} {'MAE':>6} {'RMSE':>6} {'MASE':>5}")
for name, (mae, rmse, mase) in results.items():
    print(f"{name:<18} {mae:6.1f} {rmse:6.1f} {mase:5.2f}")

mae_naive = results["seasonal naive"][0]
mae_rnn = results["RNN, direct"][0]
print(f"\nThe direct RNN's MAE is {mae_rnn / mae_naive:.0%} of seasonal naive's.")

# %%
# The forecasts of the first seed against the held-out months.
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(months[:-horizon], train, color="black", label="train")
ax.plot(months[-horizon:], test, color="black", linestyle="--", label="held out")
ax.plot(months[-horizon:], naive, label="seasonal naive")
for strategy, forecast in forecasts.items():
    ax.plot(months[-horizon:], forecast, label=f"RNN, {strategy}")
ax.set_ylabel("passengers (thousands)")
ax.set_title("Airline passengers: 24-month forecasts")
ax.legend(loc="upper left")
fig.tight_layout()
plt.show()
