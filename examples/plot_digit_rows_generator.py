"""
Drawing a digit row by row from a thumbnail: one-to-many generation
===================================================================

A :class:`~sklearn_rnn.SequenceGenerator` maps a feature vector to a
sequence. Here the vector is a 4x4 thumbnail of a handwritten digit (the 16
block means of scikit-learn's bundled 8x8 ``digits`` images, so nothing is
downloaded), and the sequence is the full-resolution image, one row of 8
pixels per step: the thumbnail initialises the recurrent state and the
network draws the 8 rows one after another, each row reading the one before.

We compare, by the mean squared pixel error on held-out digits:

* nearest-neighbour upsampling of the thumbnail (each block value repeated
  over its 2x2 pixels);
* a ridge regression from the 16 thumbnail values to the 64 pixels;
* the recurrent generator.
"""

# %%
# The data: thumbnails as features, images as sequences of rows.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from sklearn_rnn import SequenceGenerator

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run
# A fixed budget of epochs, on purpose: the scores below say whether it is enough.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

images = load_digits().images / 16.0  # (1797, 8, 8), pixels in [0, 1]
thumbnails = images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4))  # (1797, 4, 4)
X = thumbnails.reshape(len(images), 16)
n_train = 1200
X_train, X_test = X[:n_train], X[n_train:]
y_train, y_test = images[:n_train], images[n_train:]  # (n, 8 steps, 8 pixels)
print(f"{len(X_train)} training digits, {len(X_test)} test digits")

# %%
# The baselines.
upsampled = np.repeat(np.repeat(thumbnails[n_train:], 2, axis=1), 2, axis=2)
ridge = Ridge(alpha=1.0).fit(X_train, y_train.reshape(n_train, -1))
predictions = {
    "nearest\nupsampling": upsampled,
    "ridge\nregression": ridge.predict(X_test).reshape(-1, 8, 8),
}

# %%
# The generator: an LSTM decoder whose state starts from the thumbnail. The
# targets all have 8 steps, so ``predict`` returns an array of that horizon.
generator = SequenceGenerator(
    cell="lstm",
    hidden_size=64,
    max_iter=30 if QUICK else 60,
    learning_rate=3e-3,
    random_state=0,
)
generator.fit(X_train, y_train)
predictions["recurrent\ngenerator"] = generator.predict(X_test)  # (597, 8, 8)

mse = {name: float(((p - y_test) ** 2).mean()) for name, p in predictions.items()}
for name, value in mse.items():
    print(f"{name.replace(chr(10), ' ')}: pixel MSE {value:.4f}")
generator_mse = mse["recurrent\ngenerator"]
baseline_mse = min(mse["nearest\nupsampling"], mse["ridge\nregression"])

# %%
# A few held-out digits: the thumbnail, each reconstruction, the original.
columns = {"thumbnail": upsampled, **predictions, "original": y_test}
fig, axes = plt.subplots(4, len(columns), figsize=(1.4 * len(columns), 6))
for row in range(4):
    for ax, (name, pictures) in zip(axes[row], columns.items()):
        ax.imshow(pictures[row], cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(name.replace("\n", " ") if name in ("thumbnail", "original") else name,
                         fontsize=8)
fig.suptitle("Held-out digits drawn from 4x4 thumbnails")
fig.tight_layout()

# %%
# Pixel error of each method on the held-out digits.
fig, ax = plt.subplots(figsize=(5.5, 3.5))
bars = ax.bar(list(mse), list(mse.values()), color=["gray", "gray", "C0"])
ax.bar_label(bars, fmt="%.4f")
ax.set_ylabel("pixel MSE (test)")
ax.set_title("Thumbnail to image")
fig.tight_layout()
