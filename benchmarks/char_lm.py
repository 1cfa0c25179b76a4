"""CharLanguageModel on English text against n-gram baselines: nats per character.

The corpus is Debian's ``fortunes`` package (``apt-get install fortunes``,
about 2.5 M characters in ``/usr/share/games/fortunes``), one text per
fortune, split 90/10 into training and test texts at random (seed 0). With
``--corpus pydoc`` it uses CPython's own documentation instead
(``pydoc_data.topics``, shipped with every Python), which needs nothing
installed.

Baselines: a character n-gram model with interpolated absolute discounting
(Kneser-Ney's discount without its continuation counts; the best order of
1-6 on the test set is reported, which flatters it) and the unigram model.
The recurrent models train for a fixed number of epochs; the table shows
test nats per character (lower is better), perplexity and wall time.

Run::

    python benchmarks/char_lm.py                 # fortunes, LSTM and GRU, 256 units
    python benchmarks/char_lm.py --quick         # pydoc text, small models, seconds
"""

import argparse
import glob
import math
import os
import time
from collections import Counter, defaultdict

import numpy as np
import torch

from sklearn_rnn import CharLanguageModel


def fortunes(directory="/usr/share/games/fortunes"):
    texts = []
    for path in sorted(glob.glob(os.path.join(directory, "*"))):
        if path.endswith((".dat", ".u8")) or os.path.islink(path) or os.path.isdir(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.extend(t.strip("\n") for t in f.read().split("\n%\n"))
    return [t for t in texts if t.strip()]


def pydoc_texts():
    import pydoc_data.topics

    return [
        p.strip() for doc in pydoc_data.topics.topics.values() for p in doc.split("\n\n") if p.strip()
    ]


class NGram:
    """Character n-gram model, interpolated absolute discounting, "\\x00" marks a text's end."""

    def __init__(self, order, texts, discount=0.75):
        self.order, self.discount = order, discount
        self.counts = [defaultdict(Counter) for _ in range(order)]  # by history length
        for text in texts:
            padded = "\x02" * (order - 1) + text + "\x00"
            for i in range(order - 1, len(padded)):
                for k in range(order):
                    self.counts[k][padded[i - k : i]][padded[i]] += 1
        self.vocabulary = len(self.counts[0][""]) + 1  # + unseen characters

    def probability(self, history, char):
        p = 1.0 / self.vocabulary
        for k in range(self.order):
            table = self.counts[k].get(history[len(history) - k :] if k else "")
            if not table:
                break
            total = sum(table.values())
            p = max(table[char] - self.discount, 0) / total + self.discount * len(table) / total * p
        return p

    def nats_per_char(self, texts):
        total, n = 0.0, 0
        for text in texts:
            padded = "\x02" * (self.order - 1) + text + "\x00"
            for i in range(self.order - 1, len(padded)):
                total -= math.log(self.probability(padded[i - self.order + 1 : i], padded[i]))
                n += 1
        return total / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pydoc text, small models")
    parser.add_argument("--corpus", choices=["fortunes", "pydoc"], default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    args = parser.parse_args()
    corpus = args.corpus or ("pydoc" if args.quick else "fortunes")
    hidden, epochs = (32, 1) if args.quick else (args.hidden, args.epochs)
    torch.set_num_threads(1)

    texts = fortunes() if corpus == "fortunes" else pydoc_texts()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    n_test = len(texts) // 10
    test = [texts[i] for i in order[:n_test]]
    train = [texts[i] for i in order[n_test:]]
    if args.quick:
        train, test = train[:300], test[:50]
    print(
        f"corpus {corpus}: {len(train)} training texts ({sum(map(len, train)):,} characters), "
        f"{len(test)} test texts ({sum(map(len, test)):,} characters); torch 1 thread"
    )

    rows = []
    for n in (1, 3, 5, 6) if not args.quick else (1, 3):
        start = time.perf_counter()
        nats = NGram(n, train).nats_per_char(test)
        rows.append((f"{n}-gram (absolute discounting)", nats, time.perf_counter() - start))
    for cell in ("lstm", "gru"):
        lm = CharLanguageModel(
            cell=cell, hidden_size=hidden, embedding_dim=32, seq_length=128, batch_size=32,
            max_iter=epochs, learning_rate=3e-3, random_state=0,
        )
        start = time.perf_counter()
        lm.fit(train)
        elapsed = time.perf_counter() - start
        rows.append((f"{cell}, {hidden} units, {epochs} epochs", -lm.score(test), elapsed))
        print("  sample:", repr(lm.generate("", 120, temperature=0.7, random_state=0)))

    print("\n| model | test nats/char | perplexity | fit time (s) |")
    print("|---|---|---|---|")
    for name, nats, seconds in rows:
        print(f"| {name} | {nats:.3f} | {math.exp(nats):.2f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
