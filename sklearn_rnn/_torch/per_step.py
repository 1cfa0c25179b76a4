"""The per-step network (many-to-many aligned) and losses that skip padded steps.

Targets travel padded like the sequences, with a marker at the padded steps
(see ``sklearn_rnn._targets``): ``IGNORE`` for label codes, NaN for values.
The losses average over the real steps only, so a batch's padding never
counts, whatever the mix of lengths.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._targets import IGNORE
from .modules import RecurrentEncoder
from .randomness import Dropout


class PerStepNetwork(nn.Module):
    """Recurrent encoder, dropout, and a linear head on every step's output.

    Outputs ``(B, T, output_size)``: logits for tagging, values for
    regression. With a bidirectional encoder, step ``t`` sees the whole
    sequence; otherwise steps ``0..t`` only, and the network can be streamed
    (its ``encoder`` and ``head`` are those of ``ManyToOneNetwork``).
    """

    def __init__(
        self,
        input_size,
        output_size,
        hidden_size=64,
        num_layers=1,
        cell="lstm",
        bidirectional=True,
        dropout=0.0,
        backend="torch",
        **cell_options,
    ):
        super().__init__()
        # What continued training (warm_start, partial_fit) must not change.
        self.hyperparameters = dict(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            **cell_options,  # recurrent_dropout, layer_norm: they change the layers
        )
        self.encoder = RecurrentEncoder(
            input_size, hidden_size, num_layers, cell, bidirectional, dropout, backend,
            **cell_options,
        )
        self.dropout = Dropout(dropout)
        self.head = nn.Linear(self.encoder.output_size, output_size)

    def forward(self, x, lengths):
        outputs = self.encoder(x, lengths)  # (B, T, D*H)
        return self.head(self.dropout(outputs))  # (B, T, output_size)

    def forward_chunk(self, x, lengths, state):
        """Truncated BPTT: outputs ``(B, T_chunk, output_size)`` from ``state``, and the new state."""
        outputs, state = self.encoder(x, lengths, state, return_state=True)  # (B, T, H)
        return self.head(self.dropout(outputs)), state  # (B, T, output_size)


class StepCrossEntropy(nn.Module):
    """Mean cross-entropy over the real steps of ``(B, T, C)`` logits; padded targets are ``IGNORE``."""

    def forward(self, logits, target):
        # cross_entropy takes the classes on axis 1: (B, C, T) against (B, T).
        return F.cross_entropy(logits.transpose(1, 2), target.long(), ignore_index=IGNORE)


class StepMSELoss(nn.Module):
    """Mean squared error over the real entries of ``(B, T, K)`` outputs; padded targets are NaN."""

    def forward(self, output, target):
        real = ~torch.isnan(target)  # (B, T, K)
        return F.mse_loss(output[real], target[real])  # mean over real entries
