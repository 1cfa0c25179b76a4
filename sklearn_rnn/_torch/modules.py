"""Recurrent torch modules that give exact results on zero-padded batches.

A batch is a zero-padded tensor ``x`` of shape ``(batch, max_len, features)``
plus each sequence's ``lengths``. Padding is handled without packing (which made
training about 7x slower on CPU here, see docs/benchmarks.md):

* a forward direction is causal, so its output at step ``t < length`` never
  sees the padding; the final state is read at step ``length - 1``;
* a reverse direction runs forward over each sequence reversed *within its own
  length*, so it starts at the sequence's real last step rather than at the
  padding; its output is reversed back the same way, and its final state is
  the output at step 0.

Layers are stacked one by one because the reverse direction of every layer
needs the reversal above. A built-in cell runs as a single-layer ``nn.RNN``/
``nn.LSTM``/``nn.GRU`` (weights in PyTorch's layout) or on the numba kernels;
any other cell of the registry runs as a :class:`~.cell_layer.CellLayer`, the
masked step loop (or the cell's own fused pass or kernels).
"""

import torch
from torch import nn

from .cell_layer import CellLayer
from .randomness import Dropout

RECURRENT_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def resolve_layer(cell):
    """The cell class for ``cell`` (a name or a class) and its built-in layer name, or None."""
    from ..cells import get_cell
    from .cells import BUILTIN_LAYERS

    cls = get_cell(cell)
    return cls, BUILTIN_LAYERS.get(cls)


def reversal_index(lengths, max_len):
    """Time indices that reverse each sequence within its length, padding in place.

    Returns a ``(batch, max_len)`` long tensor ``idx`` with ``idx[b, t] =
    lengths[b] - 1 - t`` for ``t < lengths[b]`` and ``t`` otherwise. It is its
    own inverse.
    """
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    lengths = lengths.unsqueeze(1)  # (B, 1)
    return torch.where(steps < lengths, lengths - 1 - steps, steps)  # (B, T)


def reverse_within_lengths(x, index):
    """Reorder the time axis of ``x`` (B, T, F) by ``index`` (B, T)."""
    return torch.gather(x, 1, index.unsqueeze(2).expand_as(x))  # (B, T, F)


class RecurrentEncoder(nn.Module):
    """Stacked, optionally bidirectional recurrent layers over padded batches.

    Parameters
    ----------
    input_size : int
        Features per time step.
    hidden_size : int
        Units per direction of each layer.
    num_layers : int
        Number of stacked layers.
    cell : str or type
        Recurrent cell: a registered name (built-in "rnn", the Elman cell with
        tanh, "lstm", "gru", or a plugin's) or a cell class.
    bidirectional : bool
        Whether each layer also reads the sequences backwards.
    dropout : float
        Dropout on the inputs of every layer after the first.
    backend : {"torch", "numba"}, default="torch"
        Who computes each layer: torch (``nn.RNN/LSTM/GRU``, or the cell's step
        loop), or the numba kernels through an autograd bridge (CPU only).
        The weights are the same either way, so ``backend`` may be changed at
        any time.
    recurrent_dropout : float, default=0.0
        Variational dropout on the hidden state (built-in cells only).
    layer_norm : bool, default=False
        Layer normalisation inside the cell (built-in cells only). Either
        option runs the built-in cell as a :class:`~.regularized.RegularizedCell`
        in the masked step loop: torch's fused layers offer neither.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers,
        cell,
        bidirectional,
        dropout,
        backend="torch",
        recurrent_dropout=0.0,
        layer_norm=False,
    ):
        super().__init__()
        cell_cls, self.layer_name = resolve_layer(cell)
        if recurrent_dropout > 0 or layer_norm:
            if self.layer_name is None:
                raise ValueError(
                    "recurrent_dropout and layer_norm are options of the built-in cells "
                    f"'rnn', 'lstm' and 'gru'; the cell {cell!r} must provide its own."
                )
            from .regularized import RegularizedCellFactory

            cell_cls = RegularizedCellFactory(self.layer_name, recurrent_dropout, layer_norm)
            self.layer_name = None  # the step loop, not the fused layer
        if self.layer_name is not None:
            layer_type = RECURRENT_LAYERS[self.layer_name]

            def make_layer(n_inputs):
                return layer_type(n_inputs, hidden_size, batch_first=True)

        else:

            def make_layer(n_inputs):
                return CellLayer(cell_cls, n_inputs, hidden_size)

        self.cell = cell
        self.backend = backend
        n_directions = 2 if bidirectional else 1
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.output_size = hidden_size * n_directions
        self.layers = nn.ModuleList(
            nn.ModuleList(
                make_layer(input_size if k == 0 else self.output_size) for _ in range(n_directions)
            )
            for k in range(num_layers)
        )
        self.dropout = Dropout(dropout)
        # Set by the gradient-flow recorder for the batches it samples: the top
        # layer's input then keeps its gradient (see callbacks.GradientFlowRecorder).
        self.record_gradients = False
        self.recorded = None

    def forward(self, x, lengths, state=None, return_state=False):
        """Per-step outputs ``(B, T, output_size)``; steps past a length are junk.

        ``state`` (unidirectional only) is one initial state per layer, as
        returned with ``return_state``, or None for the cells' initial states.
        With ``return_state`` the state after the last step of ``x`` comes
        back too, one per layer: a sequence's state after its own last step
        when it runs to the end of ``x`` (what truncated BPTT carries to the
        next chunk); for a shorter sequence it is undefined.
        """
        if state is not None and self.bidirectional:
            raise ValueError(
                "A bidirectional encoder cannot continue from a state: its reverse "
                "direction reads each sequence from its end."
            )
        index = reversal_index(lengths, x.shape[1]) if self.bidirectional else None
        new_state = []
        for k, directions in enumerate(self.layers):
            if k > 0:
                x = self.dropout(x)
            if self.record_gradients and k == len(self.layers) - 1 and torch.is_grad_enabled():
                x = self._recorded_input(x, lengths)
            out, final = self._run(directions[0], x, lengths, None if state is None else state[k])
            new_state.append(final)
            outputs = [out]  # (B, T, H)
            if self.bidirectional:
                backward, _ = self._run(directions[1], reverse_within_lengths(x, index), lengths)
                outputs.append(reverse_within_lengths(backward, index))
            x = torch.cat(outputs, dim=2) if self.bidirectional else outputs[0]  # (B, T, D*H)
        return (x, new_state) if return_state else x

    def _recorded_input(self, x, lengths):
        """The top layer's input, made to keep its gradient (gradient-flow diagnostics).

        A fused layer exposes no per-step hidden state; the gradient of the
        loss with respect to the top layer's input at step ``t`` (the hidden
        states of the layer below, or the data for one layer) is
        ``W_ih^T`` times the error backpropagated to step ``t``, so it vanishes
        exactly as that error does, and it is the same on every backend.
        """
        if x.requires_grad:
            x.retain_grad()
        else:
            x = x.detach().requires_grad_(True)  # the data: a leaf of its own
        self.recorded = (x, lengths)
        return x

    def _run(self, layer, x, lengths, state=None):
        """One direction of one layer: ``(B, T, F)`` -> ``(B, T, H)`` and its final state.

        A built-in layer's state is a tuple of ``(B, H)`` tensors, ``(h,)`` or
        ``(h, c)``; a plugin cell's is the cell's own.
        """
        if self.layer_name is None:
            return layer(x, lengths, self.backend, state)
        if self.backend == "numba":
            from .numba_bridge import numba_layer

            return numba_layer(layer, self.layer_name, x, lengths, state)
        hx = None
        if state is not None:
            hx = tuple(s.unsqueeze(0) for s in state)  # each (1, B, H)
            hx = hx if self.layer_name == "lstm" else hx[0]
        out, final = layer(x, hx)  # (B, T, H); final at step T
        final = final if isinstance(final, tuple) else (final,)
        return out, tuple(s[0] for s in final)

    def final_state(self, outputs, lengths):
        """The representation of each whole sequence, ``(B, output_size)``.

        The forward direction's output at the last real step, concatenated with
        the reverse direction's output at step 0 (which has read everything).
        """
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, self.hidden_size)  # (B, 1, H)
        forward_last = torch.gather(outputs[:, :, : self.hidden_size], 1, last).squeeze(1)  # (B, H)
        if not self.bidirectional:
            return forward_last
        return torch.cat([forward_last, outputs[:, 0, self.hidden_size :]], dim=1)  # (B, 2H)


class ManyToOneNetwork(nn.Module):
    """Recurrent encoder, dropout, and a linear head on each sequence's final state.

    Outputs one vector of ``output_size`` per sequence: logits for
    classification, values for regression.
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
        final = self.encoder.final_state(outputs, lengths)  # (B, D*H)
        return self.head(self.dropout(final))  # (B, output_size)

    def forward_chunk(self, x, lengths, state):
        """One chunk of truncated BPTT: the head on each sequence's last step within
        ``x`` (B, T_chunk, F), and the state after the chunk."""
        outputs, state = self.encoder(x, lengths, state, return_state=True)  # (B, T, H)
        final = self.encoder.final_state(outputs, lengths)  # (B, H)
        return self.head(self.dropout(final)), state  # (B, output_size)
