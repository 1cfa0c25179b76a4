"""
Recordings as feature vectors: sequence embeddings with ``transform``
=====================================================================

Every many-to-one estimator is also a transformer: ``transform(X)`` gives
each sequence's final hidden state, a fixed-length vector that any
scikit-learn model can take. Here a GRU classifier is trained on the
JapaneseVowels recordings (9 speakers saying "ae", 7 to 29 frames of 12
cepstral coefficients each; bundled with sklearn-rnn), and its embeddings
of the held-out recordings are compared with a simple fixed-length summary
of the same recordings, the mean and standard deviation of each coefficient
over the frames:

* by a 1-nearest-neighbour classifier on each representation (a retrieval
  task the network was not trained for);
* in a 2-D principal-component view, coloured by speaker.
"""

# %%
# The data and the two representations.
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rnn import GRUClassifier, SequenceScaler
from sklearn_rnn.datasets import load_japanese_vowels

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run

X_train, y_train = load_japanese_vowels(split="train", return_X_y=True)
X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
print(f"{len(X_train)} training and {len(X_test)} test recordings, "
      f"{min(map(len, X_train))}-{max(map(len, X_train))} frames each")


def mean_and_std(recordings):
    """The per-coefficient mean and standard deviation over frames: 24 features."""
    return np.array([np.concatenate([r.mean(axis=0), r.std(axis=0)]) for r in recordings])


# %%
# The embedder: a scaler and a GRU classifier, trained on the speaker labels;
# ``transform`` of the fitted pipeline gives the 32 final-state features.
embedder = make_pipeline(
    SequenceScaler(),
    GRUClassifier(hidden_size=32, max_iter=10 if QUICK else 30, learning_rate=1e-2, random_state=0),
)
embedder.fit(X_train, y_train)
representations = {
    "mean and std\nof frames": (mean_and_std(X_train), mean_and_std(X_test)),
    "GRU final\nstate": (embedder.transform(X_train), embedder.transform(X_test)),
}

# %%
# 1-nearest-neighbour accuracy on each representation.
accuracy = {}
for name, (train, test) in representations.items():
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1)).fit(train, y_train)
    accuracy[name] = knn.score(test, y_test)
    print(f"{name.replace(chr(10), ' ')}: {train.shape[1]} features, "
          f"1-NN test accuracy {accuracy[name]:.3f}")
print(f"the GRU's own prediction: test accuracy {embedder.score(X_test, y_test):.3f}")
embedding_accuracy, baseline_accuracy = accuracy["GRU final\nstate"], accuracy["mean and std\nof frames"]

# %%
# The held-out recordings in the first two principal components of each
# representation: the embeddings separate the speakers.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (name, (train, test)) in zip(axes, representations.items()):
    pca = make_pipeline(StandardScaler(), PCA(n_components=2)).fit(train)
    points = pca.transform(test)
    scatter = ax.scatter(points[:, 0], points[:, 1], c=y_test.astype(int), cmap="tab10", s=10)
    ax.set_title(f"{name.replace(chr(10), ' ')} (1-NN accuracy {accuracy[name]:.3f})")
    ax.set_xticks([])
    ax.set_yticks([])
fig.legend(*scatter.legend_elements(), title="speaker", loc="center right")
fig.tight_layout(rect=(0, 0, 0.9, 1))
