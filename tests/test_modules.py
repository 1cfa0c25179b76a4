"""The torch modules give exact results on zero-padded ragged batches."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sklearn_rnn._torch.modules import (
    RECURRENT_LAYERS,
    ManyToOneNetwork,
    RecurrentEncoder,
    reversal_index,
    reverse_within_lengths,
)

CELLS = list(RECURRENT_LAYERS)


def _encoder_and_reference(cell, num_layers, input_size=3, hidden_size=5):
    """Our encoder and a torch multi-layer bidirectional layer with the same weights."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(input_size, hidden_size, num_layers, cell, True, 0.0)
    reference = RECURRENT_LAYERS[cell](
        input_size, hidden_size, num_layers=num_layers, bidirectional=True, batch_first=True
    )
    with torch.no_grad():
        for k, (forward, backward) in enumerate(encoder.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(forward, f"{name}_l0").copy_(getattr(reference, f"{name}_l{k}"))
                getattr(backward, f"{name}_l0").copy_(getattr(reference, f"{name}_l{k}_reverse"))
    return encoder, reference


def _ragged_batch(lengths, input_size=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), max(lengths), input_size, generator=generator)  # (B, T, F)
    lengths = torch.tensor(lengths)
    x[torch.arange(x.shape[1]) >= lengths.unsqueeze(1)] = 0.0
    return x, lengths


def test_reversal_index_reverses_within_length_and_is_its_own_inverse():
    """Each sequence is reversed within its length; padding stays in place."""
    index = reversal_index(torch.tensor([3, 1, 4]), 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]
    x = torch.randn(3, 4, 2)
    np.testing.assert_array_equal(reverse_within_lengths(reverse_within_lengths(x, index), index), x)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_encoder_matches_torch_bidirectional_layer_on_equal_lengths(cell, num_layers):
    """With no padding, the encoder equals torch's stacked bidirectional layer."""
    encoder, reference = _encoder_and_reference(cell, num_layers)
    x = torch.randn(4, 6, 3)
    with torch.no_grad():
        ours = encoder(x, torch.full((4,), 6))
        theirs = reference(x)[0]
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 3])
def test_encoder_matches_packed_sequences_on_ragged_batch(cell, num_layers):
    """On a padded ragged batch the encoder equals torch's packed-sequence result."""
    encoder, reference = _encoder_and_reference(cell, num_layers)
    x, lengths = _ragged_batch([5, 1, 3, 7, 2])
    with torch.no_grad():
        ours = encoder(x, lengths)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        theirs, _ = pad_packed_sequence(reference(packed)[0], batch_first=True)
    real = torch.arange(x.shape[1]) < lengths.unsqueeze(1)  # (B, T)
    torch.testing.assert_close(ours[real], theirs[real])


@settings(max_examples=25, deadline=None)
@given(
    cell=st.sampled_from(CELLS),
    bidirectional=st.booleans(),
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    extra=st.integers(0, 10),
)
def test_final_state_is_padding_invariant(cell, bidirectional, lengths, extra):
    """A sequence's output is the same alone and in any padded batch."""
    torch.manual_seed(0)
    network = ManyToOneNetwork(3, 2, hidden_size=4, num_layers=2, cell=cell, bidirectional=bidirectional)
    network.eval()
    x, lengths_t = _ragged_batch(lengths, seed=len(lengths))
    x = torch.cat([x, torch.zeros(len(lengths), extra, 3)], dim=1)  # extra padding
    with torch.no_grad():
        batch = network(x, lengths_t)
        for i, length in enumerate(lengths):
            alone = network(x[i : i + 1, :length], lengths_t[i : i + 1])
            torch.testing.assert_close(batch[i : i + 1], alone, rtol=1e-5, atol=1e-6)


def test_network_output_shape_and_dropout_only_in_training():
    """The head gives (batch, output_size); dropout acts only in train mode."""
    torch.manual_seed(0)
    network = ManyToOneNetwork(3, 4, hidden_size=6, num_layers=2, cell="gru", dropout=0.5)
    x, lengths = _ragged_batch([4, 2, 6])
    network.eval()
    with torch.no_grad():
        assert network(x, lengths).shape == (3, 4)
        torch.testing.assert_close(network(x, lengths), network(x, lengths))
        network.train()
        assert not torch.equal(network(x, lengths), network(x, lengths))
