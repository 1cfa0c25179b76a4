"""Padding helpers and length-grouped batching."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_rnn._sequence import length_batches, subset, to_format, unpad
from sklearn_rnn._validation import check_sequences


@settings(max_examples=50, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 500), min_size=1, max_size=300),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_length_batches_cover_every_sample_once(lengths, batch_size, shuffle, seed):
    """Batches partition the samples and respect batch_size."""
    batches = length_batches(
        np.array(lengths), batch_size, shuffle=shuffle, rng=np.random.default_rng(seed)
    )
    flat = np.concatenate(batches)
    np.testing.assert_array_equal(np.sort(flat), np.arange(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)


def test_unshuffled_batches_are_sorted_by_length():
    """Without shuffling, batches come in order of increasing length."""
    lengths = np.array([5, 1, 9, 3, 7, 2])
    batches = length_batches(lengths, 2, shuffle=False)
    assert [lengths[b].tolist() for b in batches] == [[1, 2], [3, 5], [7, 9]]


def test_shuffled_batches_reduce_padding_and_vary_between_epochs():
    """Grouping by length pads much less than random batches, and still reshuffles."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 501, size=2048)

    def padded_steps(batches):
        return sum(len(b) * lengths[b].max() for b in batches)

    grouped = length_batches(lengths, 64, shuffle=True, rng=rng)
    random = np.array_split(rng.permutation(len(lengths)), len(lengths) // 64)
    assert padded_steps(grouped) < 0.6 * padded_steps(random)
    again = length_batches(lengths, 64, shuffle=True, rng=rng)
    assert [b.tolist() for b in grouped] != [b.tolist() for b in again]


def test_format_round_trips_and_subset_trims():
    """to_format gives back the input format; subset trims to its own longest sequence."""
    ragged = [np.ones((3, 2)), np.ones((1, 2)), np.ones((5, 2))]
    seqs = check_sequences(ragged)
    assert [x.shape for x in to_format(seqs)] == [(3, 2), (1, 2), (5, 2)]
    assert to_format(check_sequences(np.zeros((4, 6)))).shape == (4, 6)
    assert to_format(check_sequences(np.zeros((4, 6, 2)))).shape == (4, 6, 2)
    part = subset(seqs, np.array([0, 1]))
    assert part.padded.shape == (2, 3, 2) and part.lengths.tolist() == [3, 1]
    assert [x.shape for x in unpad(part.padded, part.lengths)] == [(3, 2), (1, 2)]
