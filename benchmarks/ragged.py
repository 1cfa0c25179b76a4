"""Ragged sequences: length-bucketed padding vs full padding vs packing.

Lengths are spread uniformly over 10-500, the case where the choice matters.
Three ways to run an LSTM classifier over them, each timed over one epoch of
forward+backward (no optimizer step, which is the same for all) and of forward
only (under ``torch.inference_mode``):

(a) what the estimator does: batches of similar lengths from
    ``length_batches``, each trimmed to its own longest sequence, through
    ``ManyToOneNetwork`` (exact on zero padding, no packing);
(b) naive: random batches padded to the global maximum length, same module;
(c) ``pack_padded_sequence`` on random batches through an ``nn.LSTM`` with the
    same sizes and a linear head on the final hidden state (same parameters as
    (a) and (b): one LSTM layer plus a linear layer).

Backpropagation through hundreds of steps makes the gradients decay into
denormal floats, on which x86 arithmetic is many times slower; the "FTZ"
column repeats forward+backward with ``torch.set_flush_denormal(True)`` (flush
denormals to zero), which is what the estimators do while training
(``sklearn_rnn._torch.net.flushed_denormals``); the FTZ column is the one that
is judged against the target.

The "padded/real" column is the number of time steps each contender runs
divided by the number of real steps (packing runs only real steps).
Contenders are interleaved (rotating order) and the table shows medians over
rounds; torch runs on one thread.

    PYTHONPATH=. python benchmarks/ragged.py [--quick]
"""

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from sklearn_rnn._sequence import length_batches
from sklearn_rnn._torch.modules import ManyToOneNetwork

TARGET = 1.2  # (a) at least this much faster than (b)


class PackedLSTMClassifier(nn.Module):
    """nn.LSTM over a packed batch, linear head on the final hidden state."""

    def __init__(self, input_size, output_size, hidden_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n: (1, B, H), in the input's order
        return self.head(h_n[-1])  # (B, output_size)


def random_batches(n_samples, batch_size, rng):
    order = rng.permutation(n_samples)
    return [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]


def make_batches(strategy, lengths, batch_size, rng):
    """Index arrays and the time length each batch is padded to."""
    if strategy == "bucketed":
        batches = length_batches(lengths, batch_size, shuffle=True, rng=rng)
        return [(b, int(lengths[b].max())) for b in batches]
    batches = random_batches(len(lengths), batch_size, rng)
    if strategy == "full":
        return [(b, int(lengths.max())) for b in batches]
    return [(b, int(lengths[b].max())) for b in batches]  # packed: pack needs no more


def run_epoch(model, batches, padded, lengths, y, *, mode):
    """One pass over ``batches``: "train" and "ftz" run forward+backward, "forward" only forward."""
    criterion = nn.CrossEntropyLoss()
    train = mode != "forward"
    torch.set_flush_denormal(mode == "ftz")
    for indices, max_len in batches:
        indices = torch.as_tensor(indices)
        x, batch_lengths = padded[indices, :max_len], lengths[indices]  # (B, T, F), (B,)
        if train:
            model.zero_grad()
            criterion(model(x, batch_lengths), y[indices]).backward()
        else:
            with torch.inference_mode():
                model(x, batch_lengths)
    torch.set_flush_denormal(False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if args.quick:
        n_samples, (min_len, max_len), hidden_size, rounds = 128, (5, 60), 16, 1
    else:
        n_samples, (min_len, max_len), hidden_size, rounds = 512, (10, 500), 128, 3
    rounds = args.rounds or rounds
    n_features, batch_size = 8, 64

    lengths_np = rng.integers(min_len, max_len + 1, size=n_samples)
    padded = torch.randn(n_samples, max_len, n_features)  # (N, T_max, F)
    padded[torch.arange(max_len) >= torch.from_numpy(lengths_np)[:, None]] = 0.0
    lengths = torch.from_numpy(lengths_np)
    y = torch.from_numpy(rng.integers(0, 2, size=n_samples))

    padded_model = ManyToOneNetwork(n_features, 2, hidden_size=hidden_size, cell="lstm")
    packed_model = PackedLSTMClassifier(n_features, 2, hidden_size)
    contenders = {
        "(a) length-bucketed padding (ours)": ("bucketed", padded_model),
        "(b) full padding, random batches": ("full", padded_model),
        "(c) pack_padded_sequence, random batches": ("packed", packed_model),
    }
    modes = ("train", "ftz", "forward")
    times = {(name, mode): [] for name in contenders for mode in modes}
    steps = {name: [] for name in contenders}
    names = list(contenders)
    for strategy, model in contenders.values():  # warm-up: one batch each
        batches = make_batches(strategy, lengths_np, batch_size, rng)[:1]
        run_epoch(model, batches, padded, lengths, y, mode="train")
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            strategy, model = contenders[name]
            batches = make_batches(strategy, lengths_np, batch_size, rng)
            steps[name].append(sum(len(b) * t for b, t in batches) if strategy != "packed" else 0)
            for mode in modes:
                start = time.perf_counter()
                run_epoch(model, batches, padded, lengths, y, mode=mode)
                times[name, mode].append(time.perf_counter() - start)

    med = {key: float(np.median(values)) for key, values in times.items()}
    real_steps = int(lengths_np.sum())
    print(
        f"one epoch: {n_samples} sequences of length {min_len}-{max_len}, {n_features} "
        f"features, LSTM hidden {hidden_size}, batch {batch_size}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread; median of {rounds} rounds"
    )
    base = names[0]
    columns = [("fwd+bwd s", "train"), ("FTZ fwd+bwd s", "ftz"), ("fwd s", "forward")]
    header = "".join(f" {label:>13} {'vs (a)':>6}" for label, _ in columns)
    print(f"{'contender':<42} {'padded/real':>11}{header}")
    for name in names:
        ratio = np.mean(steps[name]) / real_steps if steps[name][0] else 1.0
        cells = "".join(
            f" {med[name, m]:13.3f} {med[name, m] / med[base, m]:5.2f}x" for _, m in columns
        )
        print(f"{name:<42} {ratio:11.2f}{cells}")
    ftz = med[base, "train"] / med[base, "ftz"]
    print(f"flushing denormals makes (a)'s fwd+bwd {ftz:.2f}x faster")
    for label, mode in [("without FTZ", "train"), ("with FTZ, as the estimator trains", "ftz")]:
        speedup = med[names[1], mode] / med[base, mode]
        verdict = "meets the target" if speedup >= TARGET else "MISSES the target"
        verdict = "not judged (--quick)" if args.quick else verdict
        print(f"(a) {speedup:.2f}x faster than (b), fwd+bwd {label} (>= {TARGET}x): {verdict}")


if __name__ == "__main__":
    main()
