"""The network of the character language model, its loss and its likelihood.

Token ids travel through the shared data pipeline as a float feature
``(B, T, 1)`` (exact for ids below 2**24), so the length batching, skorch
training loop and early stopping of the other estimators serve unchanged;
the network turns them back into integers and looks up their embeddings.
"""

import torch
from torch import nn

from .._sequence import length_batches
from .._targets import IGNORE
from .modules import RecurrentEncoder
from .randomness import Dropout


class LanguageModelNetwork(nn.Module):
    """Embedding, unidirectional recurrent encoder, and a linear head at every step.

    Parameters
    ----------
    input_size : int
        Number of input ids (the vocabulary).
    output_size : int
        Number of predicted ids (the vocabulary).
    embedding_dim : int
        Size of each id's learned embedding.
    The others are those of :class:`~.modules.RecurrentEncoder`.
    """

    def __init__(
        self,
        input_size,
        output_size,
        hidden_size=64,
        num_layers=1,
        cell="lstm",
        bidirectional=False,
        dropout=0.0,
        backend="torch",
        embedding_dim=32,
        **cell_options,
    ):
        super().__init__()
        if bidirectional:  # a language model must not read the characters it predicts
            raise ValueError("A language model reads left to right: bidirectional must be False.")
        self.hyperparameters = dict(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=False,
            embedding_dim=embedding_dim,
            **cell_options,
        )
        self.embedding = nn.Embedding(input_size, embedding_dim)
        self.encoder = RecurrentEncoder(
            embedding_dim, hidden_size, num_layers, cell, False, dropout, backend, **cell_options
        )
        self.dropout = Dropout(dropout)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x, lengths):
        return self.forward_chunk(x, lengths, None)[0]  # (B, T, V) logits of the next id

    def forward_chunk(self, x, lengths, state):
        """Logits ``(B, T, V)`` over ``x`` from ``state``, and the state after it."""
        ids = x[:, :, 0].long()  # (B, T)
        outputs, state = self.encoder(self.embedding(ids), lengths, state, return_state=True)
        return self.head(self.dropout(outputs)), state  # (B, T, V)


def log_likelihood(module, sequences, targets, device, batch_size=64):
    """Total natural-log likelihood of ``targets`` and the number of real targets.

    ``sequences`` holds the input ids as ``(N, T_max, 1)``; ``targets`` the
    next ids ``(N, T_max)``, ``IGNORE`` at padding.
    """
    module.eval()
    padded = torch.from_numpy(sequences.padded)  # (N, T_max, 1)
    lengths = torch.from_numpy(sequences.lengths)  # (N,)
    targets = torch.from_numpy(targets)  # (N, T_max)
    total, count = 0.0, 0
    with torch.inference_mode():
        for indices in length_batches(sequences.lengths, batch_size, shuffle=False):
            n_steps = int(lengths[indices].max())
            x = padded[indices, :n_steps].to(device)  # (B, T, 1)
            y = targets[indices, :n_steps].to(device)  # (B, T)
            log_p = torch.log_softmax(module(x, lengths[indices].to(device)).double(), dim=2)
            real = y != IGNORE  # (B, T)
            picked = log_p.gather(2, y.clamp(min=0).unsqueeze(2)).squeeze(2)  # (B, T)
            total += float(picked[real].sum())
            count += int(real.sum())
    return total, count
