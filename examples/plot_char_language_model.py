"""
Character-level language model on Python's documentation
=========================================================

A :class:`~sklearn_rnn.CharLanguageModel` learns to predict the next
character of English text: the paragraphs of CPython's own documentation
(``pydoc_data.topics``, which ships with every Python, so nothing is
downloaded). We compare its held-out cross-entropy, in nats per character,
with the character-frequency (unigram) model, plot the learning curve, and
let the model write.
"""

# %%
# The data: one text per paragraph, lowercased, split into train and test.
import math
import os
import warnings
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pydoc_data.topics
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_rnn import CharLanguageModel

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run
# A fixed budget of epochs, on purpose: the scores below say whether it is enough.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

paragraphs = [
    " ".join(p.lower().split())
    for key in sorted(pydoc_data.topics.topics)
    for p in pydoc_data.topics.topics[key].split("\n\n")
]
paragraphs = [p for p in paragraphs if len(p) > 40 and ">>>" not in p]
rng = np.random.default_rng(0)
rng.shuffle(paragraphs)
n_train = 300 if QUICK else 1800
train, test = paragraphs[:n_train], paragraphs[n_train : n_train + 300]
print(f"{len(train)} training paragraphs, {sum(map(len, train)):,} characters")

# %%
# The baseline: every character (and the end of a text) with its training
# frequency, add-one smoothed.
counts = Counter("".join(train)) + Counter({"<end>": len(train)})
total = sum(counts.values()) + len(counts) + 1
symbols = [c for text in test for c in text] + ["<end>"] * len(test)
unigram = -sum(math.log((counts[c] + 1) / total) for c in symbols) / len(symbols)

# %%
# The model: a one-layer LSTM reading 128-character chunks.
lm = CharLanguageModel(
    cell="lstm",
    hidden_size=64 if QUICK else 192,
    embedding_dim=32,
    seq_length=128,
    batch_size=32,
    max_iter=2 if QUICK else 6,
    learning_rate=5e-3,
    random_state=0,
)
lm.fit(train)
nats = -lm.score(test)
print(f"test cross-entropy: LSTM {nats:.3f} nats/char (perplexity {lm.perplexity(test):.2f}), "
      f"unigram {unigram:.3f} nats/char (perplexity {math.exp(unigram):.2f})")

# %%
# Samples at two temperatures: low is safe and repetitive, high is inventive.
for temperature in (0.4, 0.9):
    print(f"T={temperature}:", lm.generate("the ", n_chars=150, temperature=temperature, random_state=1))

# %%
# The learning curve: training cross-entropy per epoch, against the baseline.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, lm.n_iter_ + 1), lm.loss_curve_, marker="o", label="LSTM, training")
ax.axhline(nats, color="C0", linestyle="--", label="LSTM, test")
ax.axhline(unigram, color="gray", linestyle=":", label="unigram, test")
ax.set_xlabel("epoch")
ax.set_ylabel("nats per character")
ax.legend()
fig.tight_layout()
