"""
Finding word boundaries in text without spaces
==============================================

A :class:`~sklearn_rnn.SequenceTagger` labels every character of a text
whose spaces were removed ("thevalueofx") with whether a word starts there.
The text is the prose of CPython's own documentation (``pydoc_data.topics``,
which ships with every Python, so nothing is downloaded), cut into snippets
of 4 to 12 words by :func:`~sklearn_rnn.datasets.make_word_boundaries`.

We compare, by the F1 score of the boundary class on held-out snippets:

* a logistic regression on each character and the one before it (a
  character-bigram baseline);
* a unidirectional tagger, which decides at each character having read only
  the characters up to it;
* a bidirectional tagger (the default), which also reads the characters
  after it, and so sees where the next word could start.
"""

# %%
# The data: snippets without spaces, and a 0/1 label per character.
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sklearn_rnn import CharOneHotEncoder, SequenceTagger
from sklearn_rnn.datasets import make_word_boundaries

torch.set_num_threads(1)  # small batches: one thread is fastest, and never oversubscribes
QUICK = os.environ.get("SKLEARN_RNN_EXAMPLE_QUICK") == "1"  # the test suite's smoke run

texts, y = make_word_boundaries(random_state=0)
n_train = 1000 if QUICK else 3000
train_texts, y_train = texts[:n_train], y[:n_train]
test_texts, y_test = texts[-1000:], y[-1000:]
print(f"{len(train_texts)} training snippets ({sum(map(len, train_texts)):,} characters), "
      f"{len(test_texts)} test snippets")
print(train_texts[0])
print("".join(map(str, y_train[0])))

# %%
# The baseline: a logistic regression on the one-hot pair (previous
# character, character), one row per character.


def bigrams(texts):
    return np.array([[text[i - 1] if i else "^", text[i]] for text in texts for i in range(len(text))])


baseline = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=1000))
baseline.fit(bigrams(train_texts), np.concatenate(y_train))
true_labels = np.concatenate(y_test)
f1 = {"bigram logistic\nregression": f1_score(true_labels, baseline.predict(bigrams(test_texts)))}

# %%
# The taggers: one-hot characters into an LSTM, with a label per character.
# ``CharOneHotEncoder`` turns each text into a ``(n_characters, n_chars)``
# array; the pipeline passes the per-character labels through to the tagger.
for bidirectional in (False, True):
    tagger = make_pipeline(
        CharOneHotEncoder(),
        SequenceTagger(
            bidirectional=bidirectional,
            hidden_size=32 if QUICK else 64,
            max_iter=6 if QUICK else 12,
            learning_rate=1e-2,
            random_state=0,
        ),
    )
    start = time.perf_counter()
    tagger.fit(train_texts, y_train)
    predicted = np.concatenate(tagger.predict(test_texts))
    name = "bidirectional\nLSTM" if bidirectional else "unidirectional\nLSTM"
    f1[name] = f1_score(true_labels, predicted)
    print(f"{name.replace(chr(10), ' ')}: boundary F1 {f1[name]:.3f}, per-character accuracy "
          f"{tagger.score(test_texts, y_test):.3f} ({time.perf_counter() - start:.0f} s)")

baseline_f1 = f1["bigram logistic\nregression"]
print(f"bigram logistic regression: boundary F1 {baseline_f1:.3f}")

# %%
# The bidirectional tagger splits a sentence it has never seen:
words = "thetaggerreadseverycharacterandlabelsthestartofeachword"
starts = tagger.predict([words])[0]
print("".join(" " + c if start and i else c for i, (c, start) in enumerate(zip(words, starts))))

# %%
# Boundary F1 of each model on the held-out snippets.
fig, ax = plt.subplots(figsize=(6, 3.5))
bars = ax.bar(list(f1), list(f1.values()), color=["gray", "C1", "C0"])
ax.bar_label(bars, fmt="%.3f")
ax.set_ylim(0, 1)
ax.set_ylabel("boundary F1 (test)")
ax.set_title("Word boundaries in text without spaces")
fig.tight_layout()
