"""
Reversing words with an encoder-decoder
=======================================

A :class:`~sklearn_rnn.Seq2SeqClassifier` reads a word one character at a
time and writes it backwards ("python" -> "nohtyp"), character by character,
ending the output with its own end-of-sequence token. The words are the
English words of CPython's own documentation (``pydoc_data.topics``, which
ships with every Python, so nothing is downloaded); the model is tested on
words it has never seen, so it must learn the reversal, not the words.

The score is exact-match accuracy: a reversed word with one wrong letter is a
wrong word. The trivial baseline copies the input, which is right on
palindromes only.
"""

# %%
# The data: distinct lowercase words of 3 to 8 letters from Python's docs.
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pydoc_data.topics
import torch
from sklearn.pipeline import make_pipeline

from sklearn_rnn import CharOneHotEncoder, Seq2SeqClassifier

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run

tokens = (
    token.strip(".,;:!?()[]'\"")
    for topic in pydoc_data.topics.topics.values()
    for token in topic.split()
)
vocabulary = sorted({t for t in tokens if t.isascii() and t.isalpha() and t.islower() and 3 <= len(t) <= 8})
rng = np.random.RandomState(0)
rng.shuffle(vocabulary)
test_words = vocabulary[:500]  # never trained on
train_words = vocabulary[500:][: 1200 if QUICK else None]
print(f"{len(vocabulary)} distinct words; {len(train_words)} to train on, "
      f"{len(test_words)} unseen words to test on, e.g. {test_words[:5]}")


def reverse(words):
    return [w[::-1] for w in words]


# %%
# The model: one-hot characters into a bidirectional GRU encoder; its final
# state (both directions) initialises a GRU decoder that emits one character
# per step, reading the character it emitted before (teacher forcing in
# training).
model = make_pipeline(
    CharOneHotEncoder(),
    Seq2SeqClassifier(
        cell="gru", hidden_size=64, bidirectional=True, max_iter=10 if QUICK else 60,
        batch_size=64, learning_rate=5e-3, random_state=0,
    ),
)
start = time.perf_counter()
model.fit(train_words, reverse(train_words))
seconds = time.perf_counter() - start

# %%
# Exact-match accuracy on unseen words, greedy and with beam search, against
# copying the input.
accuracy = model.score(test_words, reverse(test_words))
model.set_params(seq2seqclassifier__beam_width=4)
beam_accuracy = model.score(test_words, reverse(test_words))
model.set_params(seq2seqclassifier__beam_width=1)
baseline_accuracy = float(np.mean([w == w[::-1] for w in test_words]))
print(f"trained in {seconds:.0f} s")
print(f"exact-match accuracy on unseen words: greedy {accuracy:.3f}, beam search (4) "
      f"{beam_accuracy:.3f}; copying the input: {baseline_accuracy:.3f}")
for word, output in zip(test_words[:6], model.predict(test_words[:6])):
    print(f"  {word:>10} -> {output}")

# %%
# Longer words are harder: the whole word has to pass through the encoder's
# final state.
predicted = model.predict(test_words)
lengths = np.array([len(w) for w in test_words])
right = np.array([p == w[::-1] for p, w in zip(predicted, test_words)])
sizes = np.arange(3, 9)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.bar(sizes, [right[lengths == n].mean() for n in sizes], color="tab:blue")
ax1.set(xlabel="word length", ylabel="exact-match accuracy", ylim=(0, 1.05),
        title="Reversing unseen words")
ax2.plot(model[-1].loss_curve_)
ax2.set(xlabel="epoch", ylabel="training loss (cross-entropy per character)", yscale="log",
        title="Learning curve")
fig.tight_layout()
plt.show()
