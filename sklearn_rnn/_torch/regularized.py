"""The built-in cells with recurrent (variational) dropout and layer normalisation.

torch's fused layers offer neither, so with either option the built-in cells
run as protocol cells in the masked step loop (``CellLayer``), with torch's
equations and weight layout (``weight_ih`` ``(G*H, F)``, ``weight_hh``
``(G*H, H)``, ``bias_ih``, ``bias_hh``; gates i, f, g, o for LSTM, r, z, n
for GRU):

* recurrent dropout (Gal & Ghahramani 2016): each sequence draws one
  dropout mask for the hidden state when it starts, kept as the last leaf of
  the state and applied to ``h_{t-1}`` before the recurrent product at every
  step; the same units are dropped all along the sequence, which regularises
  the recurrence without destroying memory. In ``eval()`` mode the mask is
  all ones;
* layer normalisation (Ba et al. 2016): the input and recurrent projections
  are normalised separately, gate by gate, over the units, each with a
  learned gain, before the biases are added; the LSTM's cell state is
  normalised before its output nonlinearity. Each row is normalised on its
  own, so padding and batching never change a result.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .randomness import dropout_mask

N_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


class RegularizedCell(nn.Module):
    """A built-in cell (``kind``) with recurrent dropout and/or layer normalisation."""

    def __init__(self, input_size, hidden_size, kind="lstm", recurrent_dropout=0.0, layer_norm=False):
        super().__init__()
        self.kind = kind
        self.hidden_size = hidden_size
        self.recurrent_dropout = recurrent_dropout
        self.layer_norm = layer_norm
        rows = N_GATES[kind] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        if layer_norm:
            self.gain_ih = nn.Parameter(torch.ones(rows))
            self.gain_hh = nn.Parameter(torch.ones(rows))
            if kind == "lstm":
                self.norm_c = nn.LayerNorm(hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)  # torch's initialisation of its cells
        for weight in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        return (
            f"{self.kind}, {self.hidden_size}, recurrent_dropout={self.recurrent_dropout}, "
            f"layer_norm={self.layer_norm}"
        )

    def init_state(self, batch_size, device, dtype):
        """Zeros (``h``, and ``c`` for LSTM), then this sequence's dropout mask if any."""
        zeros = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
        state = [zeros] + ([zeros.clone()] if self.kind == "lstm" else [])
        if self.recurrent_dropout > 0:
            if self.training and torch.is_grad_enabled():  # not when streaming or predicting
                mask = dropout_mask(zeros, self.recurrent_dropout)  # 0 or 1/(1-p), the fit's draw
            else:
                mask = torch.ones_like(zeros)
            state.append(mask)
        return tuple(state)

    def _project(self, x, weight, gain):
        """``x W^T`` (B, G*H), normalised gate by gate with ``gain`` when layer_norm is on."""
        out = F.linear(x, weight)  # (B, G*H)
        if not self.layer_norm:
            return out
        batch = out.shape[0]
        out = F.layer_norm(out.view(batch, -1, self.hidden_size), (self.hidden_size,))
        return out.view(batch, -1) * gain  # (B, G*H)

    def forward(self, x_t, state):
        h = state[0]
        if self.recurrent_dropout > 0:
            h = h * state[-1]  # the sequence's mask, (B, H)
        gain_ih = self.gain_ih if self.layer_norm else None
        gain_hh = self.gain_hh if self.layer_norm else None
        gi = self._project(x_t, self.weight_ih, gain_ih) + self.bias_ih  # (B, G*H)
        gh = self._project(h, self.weight_hh, gain_hh) + self.bias_hh  # (B, G*H)
        kept = state[-1:] if self.recurrent_dropout > 0 else ()
        if self.kind == "rnn":
            h_new = torch.tanh(gi + gh)
            return h_new, (h_new, *kept)
        if self.kind == "gru":
            i_r, i_z, i_n = gi.chunk(3, dim=1)
            h_r, h_z, h_n = gh.chunk(3, dim=1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h_new = (1 - z) * n + z * state[0]  # interpolate with the undropped state
            return h_new, (h_new, *kept)
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c_new = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)  # (B, H)
        c_out = self.norm_c(c_new) if self.layer_norm else c_new
        h_new = torch.sigmoid(o) * torch.tanh(c_out)
        return h_new, (h_new, c_new, *kept)


class RegularizedCellFactory:
    """Builds :class:`RegularizedCell` as ``factory(input_size, hidden_size)``; picklable."""

    def __init__(self, kind, recurrent_dropout, layer_norm):
        self.kind = kind
        self.recurrent_dropout = recurrent_dropout
        self.layer_norm = layer_norm

    def __call__(self, input_size, hidden_size):
        return RegularizedCell(
            input_size, hidden_size, self.kind, self.recurrent_dropout, self.layer_norm
        )
