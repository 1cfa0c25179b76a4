"""Encoder-decoder and one-to-many networks: a step-wise decoder over any registered cell.

The decoder is a stack of protocol cells (``sklearn_rnn.cells``: built-in
cells are ``nn.LSTMCell``/``GRUCell``/``RNNCell`` in the protocol's form, a
plugin's cell works the same way) that emits one output per step and reads
its previous output at the next step. Its initial state comes from a
*context* vector, one per sample:

* ``Seq2SeqNetwork``: the encoder's final representation (the top layer's
  output at each sequence's last real step; for a bidirectional encoder the
  forward direction's last step next to the reverse direction's step 0, which
  have each read the whole sequence, ``(B, 2H)``);
* ``GeneratorNetwork``: the sample's feature vector.

Every state tensor of every decoder layer is ``tanh(W c + b)`` of the context
``c`` (one learned map per state tensor, so an LSTM's ``h`` and ``c``, a GRU's
``h`` and any plugin cell's state all get one), and the context is also fed
to the first layer at every step (Cho et al. 2014), so that long outputs do
not have to carry it in the state alone.

Training is teacher-forced: the decoder reads the true previous output, so
with ``teacher_forcing=1`` the whole target runs as one pass per layer (the
cells' fused ``forward_sequence`` or numba kernels when they have them).
With ``teacher_forcing < 1`` each sample reads, at each step, its true
previous output with that probability and its own previous prediction
otherwise (scheduled sampling, Bengio et al. 2015), in a step loop.

Outputs are tokens (``n_tokens``: the classes plus an end-of-sequence token;
the start token is an extra input id) or real vectors (``value_size``,
plus an optional stop logit that ends variable-length outputs).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._targets import IGNORE
from .cell_layer import CellLayer, checked_step
from .cells import BUILTIN_LAYERS, as_leaves
from .modules import RecurrentEncoder, resolve_layer
from .randomness import Dropout, fit_generator


def _map_state(state, function):
    """Apply ``function`` to each tensor of a state (a tensor or a tuple of tensors)."""
    if isinstance(state, tuple):
        return tuple(function(leaf) for leaf in state)
    return function(state)


@torch.no_grad()
def _initialize_cell(cell, orthogonal, forget_bias):
    """Orthogonal recurrent blocks and the LSTM forget bias, for built-in cells (see init.py)."""
    if type(cell) not in BUILTIN_LAYERS:
        return  # a plugin cell keeps its own initialisation
    hidden = cell.hidden_size
    if orthogonal:
        generator = fit_generator(cell.weight_hh.device)
        for start in range(0, cell.weight_hh.shape[0], hidden):  # (G*H, H), a block per gate
            nn.init.orthogonal_(cell.weight_hh[start : start + hidden], generator=generator)
    if forget_bias is not None and isinstance(cell, nn.LSTMCell):
        cell.bias_ih[hidden : 2 * hidden] = forget_bias  # gates i, f, g, o
        cell.bias_hh[hidden : 2 * hidden] = 0.0


class StateBridge(nn.Module):
    """Each decoder layer's initial state from a context vector: ``tanh(W c + b)`` per state tensor."""

    def __init__(self, layers, context_size):
        super().__init__()
        self.structure = []  # per layer: (state is a tuple, shapes of its tensors without batch)
        for layer in layers:
            state = layer.initial_state(1, torch.device("cpu"), torch.float32)
            self.structure.append(
                (isinstance(state, tuple), [tuple(leaf.shape[1:]) for leaf in as_leaves(state)])
            )
        self.maps = nn.ModuleList(
            nn.Linear(context_size, math.prod(shape))
            for _, shapes in self.structure
            for shape in shapes
        )

    def forward(self, context):  # context: (B, C)
        maps = iter(self.maps)
        states = []
        for is_tuple, shapes in self.structure:
            leaves = tuple(
                torch.tanh(next(maps)(context)).view(-1, *shape) for shape in shapes
            )  # each (B, ...)
            states.append(leaves if is_tuple else leaves[0])
        return states


class Decoder(nn.Module):
    """Stacked unidirectional protocol cells emitting one output per step.

    Parameters
    ----------
    context_size : int
        Size of the context vector that sets the initial state.
    output_size : int
        Outputs per step: token logits (``n_tokens``), or ``value_size``
        values plus a stop logit when ``stop``.
    hidden_size, num_layers, cell, dropout
        As for :class:`~.modules.RecurrentEncoder`.
    n_tokens : int or None
        Token outputs: ids ``0..n_tokens-1`` (the last is end-of-sequence);
        the start token is input id ``n_tokens``. None for real values.
    embedding_dim : int
        Size of the learned token embeddings.
    value_size : int or None
        Real outputs: values per step.
    stop : bool
        Whether the last output is a stop logit (variable-length values).
    teacher_forcing : float
        Probability of reading the true previous output in training.
    """

    def __init__(
        self,
        context_size,
        output_size,
        hidden_size,
        num_layers,
        cell,
        dropout=0.0,
        n_tokens=None,
        embedding_dim=16,
        value_size=None,
        stop=False,
        teacher_forcing=1.0,
        orthogonal_init=True,
        forget_bias=1.0,
    ):
        super().__init__()
        cell_cls, _ = resolve_layer(cell)
        self.n_tokens = n_tokens
        self.value_size = value_size
        self.stop = stop
        self.teacher_forcing = teacher_forcing
        if n_tokens is not None:
            self.embedding = nn.Embedding(n_tokens + 1, embedding_dim)  # + the start token
            step_size = embedding_dim
        else:
            step_size = value_size + 1  # the previous values and a start flag
        input_size = step_size + context_size
        self.layers = nn.ModuleList(
            CellLayer(cell_cls, input_size if k == 0 else hidden_size, hidden_size)
            for k in range(num_layers)
        )
        for layer in self.layers:
            _initialize_cell(layer.cell, orthogonal_init, forget_bias)
        self.bridge = StateBridge(self.layers, context_size)
        self.dropout = Dropout(dropout)
        self.head = nn.Linear(hidden_size, output_size)

    # --- inputs -----------------------------------------------------------------

    @property
    def eos(self):
        return self.n_tokens - 1

    def start(self, batch_size, device):
        """The first step's input: the start token ``(B,)`` or zeros and a start flag ``(B, K+1)``."""
        if self.n_tokens is not None:
            return torch.full((batch_size,), self.n_tokens, dtype=torch.long, device=device)
        start = torch.zeros(batch_size, self.value_size + 1, device=device)
        start[:, -1] = 1.0
        return start

    def teacher_inputs(self, target):
        """What each step reads under teacher forcing: the start, then the true outputs shifted.

        ``target``: token ids ``(B, L)`` (``IGNORE`` at padding) or values
        ``(B, L, K)`` (NaN at padding). Returns ids ``(B, L)`` or ``(B, L, K+1)``.
        """
        first = self.start(target.shape[0], target.device).unsqueeze(1)  # (B, 1[, K+1])
        if self.n_tokens is not None:
            previous = target[:, :-1].clamp(min=0)  # (B, L-1); padding read as id 0, never scored
            return torch.cat([first, previous], dim=1)  # (B, L)
        previous = torch.nan_to_num(target[:, :-1], nan=0.0)  # (B, L-1, K)
        flag = torch.zeros_like(previous[:, :, :1])  # (B, L-1, 1)
        return torch.cat([first, torch.cat([previous, flag], dim=2)], dim=1)  # (B, L, K+1)

    def target_lengths(self, target):
        if self.n_tokens is not None:
            return (target != IGNORE).sum(dim=1)  # (B,)
        return (~torch.isnan(target[:, :, 0])).sum(dim=1)  # (B,)

    def embed(self, inputs, context):
        """Step inputs ``(B, [L,] ...)`` with the context appended: ``(B, [L,] I)``."""
        if self.n_tokens is not None:
            inputs = self.embedding(inputs)  # (B, [L,] E)
        if inputs.dim() == 3:
            context = context.unsqueeze(1).expand(-1, inputs.shape[1], -1)  # (B, L, C)
        return torch.cat([inputs, context.to(inputs.dtype)], dim=-1)

    def own_input(self, output):
        """The next step's input from this step's output ``(B, O)``: argmax token or the values."""
        if self.n_tokens is not None:
            return output.argmax(dim=1)  # (B,)
        values = output[:, : self.value_size]  # (B, K)
        return torch.cat([values, torch.zeros_like(values[:, :1])], dim=1)  # (B, K+1)

    # --- training ---------------------------------------------------------------

    def forward(self, context, target, backend="torch"):
        """Teacher-forced outputs ``(B, L, output_size)`` for ``target`` (see ``teacher_inputs``)."""
        lengths = self.target_lengths(target)  # (B,)
        target = target[:, : int(lengths.max())]  # the batch's own longest target
        inputs = self.teacher_inputs(target)  # (B, L[, K+1])
        states = self.bridge(context)
        if self.training and self.teacher_forcing < 1.0:
            return self._scheduled_sampling(inputs, states, context)
        x = self.embed(inputs, context)  # (B, L, I)
        for k, layer in enumerate(self.layers):
            x, _ = layer(x if k == 0 else self.dropout(x), lengths, backend, states[k])  # (B, L, H)
        return self.head(self.dropout(x))  # (B, L, O)

    def _scheduled_sampling(self, inputs, states, context):
        """Step loop where each sample reads its true previous output with probability
        ``teacher_forcing``, else its own previous prediction (without its gradient)."""
        outputs = []
        previous = inputs[:, 0]
        for t in range(inputs.shape[1]):
            output, states = self.step(previous, states, context, check=t == 0)  # (B, O)
            outputs.append(output)
            if t + 1 < inputs.shape[1]:
                draws = torch.rand(  # (B,)
                    output.shape[0], device=output.device, generator=fit_generator(output.device)
                )
                teacher = draws < self.teacher_forcing
                own = self.own_input(output.detach())
                teacher = teacher.view(-1, *[1] * (own.dim() - 1))  # (B[, 1])
                previous = torch.where(teacher, inputs[:, t + 1], own)
        return torch.stack(outputs, dim=1)  # (B, L, O)

    # --- decoding ---------------------------------------------------------------

    def step(self, previous, states, context, check=False):
        """One step of every layer: outputs ``(B, O)`` and the new states."""
        x = self.embed(previous, context)  # (B, I)
        new_states = []
        for k, layer in enumerate(self.layers):
            if k > 0:
                x = self.dropout(x)
            if check:
                x, state = checked_step(layer.cell, x, states[k], layer.hidden_size)  # (B, H)
            else:
                x, state = layer.cell(x, states[k])  # (B, H)
            new_states.append(state)
        return self.head(self.dropout(x)), new_states

    def greedy_tokens(self, context, max_length):
        """Most likely token at each step until end-of-sequence or ``max_length`` tokens.

        Returns the ids ``(B, L)`` (end-of-sequence included where emitted,
        then end-of-sequence as filler) and each sequence's log-likelihood
        ``(B,)``, which counts the end-of-sequence step.
        """
        batch_size = context.shape[0]
        states = self.bridge(context)
        previous = self.start(batch_size, context.device)  # (B,)
        finished = torch.zeros(batch_size, dtype=torch.bool, device=context.device)
        total = torch.zeros(batch_size, dtype=torch.float64, device=context.device)
        tokens = []
        for t in range(max_length + 1):
            output, states = self.step(previous, states, context, check=t == 0)
            log_p = torch.log_softmax(output.double(), dim=1)  # (B, V)
            token = log_p.argmax(dim=1)  # (B,)
            total += torch.where(finished, 0.0, log_p.gather(1, token[:, None])[:, 0])
            token = torch.where(finished, self.eos, token)
            tokens.append(token)
            finished |= token == self.eos
            previous = token
            if bool(finished.all()):
                break
        total = torch.where(finished, total, -math.inf)  # cut before its end: no complete likelihood
        return torch.stack(tokens, dim=1), total  # (B, L), (B,)

    def beam_tokens(self, context, max_length, beam_width):
        """Beam search for the most likely token sequence; same returns as ``greedy_tokens``.

        ``beam_width`` hypotheses per sample are extended by every token and
        the best ``beam_width`` totals kept; a hypothesis that has emitted
        end-of-sequence keeps its total. The result is compared with greedy
        decoding and the more likely of the two is returned, so beam search
        is never worse than greedy in log-likelihood.
        """
        batch_size, width, n_tokens = context.shape[0], beam_width, self.n_tokens
        device = context.device
        repeated = context.repeat_interleave(width, dim=0)  # (B*W, C)
        states = [
            _map_state(state, lambda leaf: leaf.repeat_interleave(width, dim=0))
            for state in self.bridge(context)
        ]
        scores = torch.full((batch_size, width), -math.inf, dtype=torch.float64, device=device)
        scores[:, 0] = 0.0  # all beams start equal: expand the first one only
        finished = torch.zeros(batch_size, width, dtype=torch.bool, device=device)
        # A finished hypothesis continues with end-of-sequence at no cost.
        frozen = torch.full((n_tokens,), -math.inf, dtype=torch.float64, device=device)
        frozen[self.eos] = 0.0
        previous = self.start(batch_size * width, device)  # (B*W,)
        offsets = torch.arange(batch_size, device=device).unsqueeze(1) * width  # (B, 1)
        tokens, parents = [], []
        for t in range(max_length + 1):
            output, states = self.step(previous, states, repeated, check=t == 0)
            log_p = torch.log_softmax(output.double(), dim=1).view(batch_size, width, n_tokens)
            log_p = torch.where(finished.unsqueeze(2), frozen, log_p)  # (B, W, V)
            total = (scores.unsqueeze(2) + log_p).view(batch_size, width * n_tokens)
            scores, flat = total.topk(width, dim=1)  # (B, W), sorted
            parent, token = flat // n_tokens, flat % n_tokens  # (B, W)
            tokens.append(token)
            parents.append(parent)
            finished = finished.gather(1, parent) | (token == self.eos)
            index = (parent + offsets).view(-1)  # (B*W,) rows of the surviving parents
            states = [_map_state(state, lambda leaf: leaf.index_select(0, index)) for state in states]
            previous = token.view(-1)
            if bool(finished.all()):
                break
        # An unfinished hypothesis has no complete likelihood.
        scores = torch.where(finished, scores, -math.inf)
        best = scores.argmax(dim=1, keepdim=True)  # (B, 1)
        best_score = scores.gather(1, best)[:, 0]  # (B,)
        path = []
        for token, parent in zip(reversed(tokens), reversed(parents)):
            path.append(token.gather(1, best)[:, 0])  # (B,)
            best = parent.gather(1, best)
        beam = torch.stack(path[::-1], dim=1)  # (B, L)
        greedy, greedy_score = self.greedy_tokens(context, max_length)
        return _more_likely(beam, best_score, greedy, greedy_score, self.eos)

    def greedy_values(self, context, n_steps, use_stop):
        """Values ``(B, n_steps, K)``, each step reading the previous prediction.

        With ``use_stop`` it also returns each sequence's length: up to and
        including the first step whose stop probability exceeds 0.5 (else
        ``n_steps``), and stops early when every sequence has stopped.
        """
        batch_size = context.shape[0]
        states = self.bridge(context)
        previous = self.start(batch_size, context.device)  # (B, K+1)
        lengths = torch.full((batch_size,), n_steps, dtype=torch.long, device=context.device)
        values = []
        for t in range(n_steps):
            output, states = self.step(previous, states, context, check=t == 0)  # (B, O)
            values.append(output[:, : self.value_size])
            previous = self.own_input(output)
            if use_stop:
                stopping = (output[:, self.value_size] > 0) & (lengths == n_steps)  # p > 0.5
                lengths = torch.where(stopping, t + 1, lengths)
                if bool((lengths < n_steps).all()):
                    break
        return torch.stack(values, dim=1), lengths  # (B, L, K), (B,)


def _more_likely(a, score_a, b, score_b, eos):
    """Per row, the token sequence of the higher score, padded with ``eos`` to a common length."""
    length = max(a.shape[1], b.shape[1])
    a = F.pad(a, (0, length - a.shape[1]), value=eos)  # (B, L)
    b = F.pad(b, (0, length - b.shape[1]), value=eos)
    take_b = (score_b > score_a).unsqueeze(1)  # (B, 1)
    return torch.where(take_b, b, a), torch.maximum(score_a, score_b)


class Seq2SeqNetwork(nn.Module):
    """Recurrent encoder and step-wise decoder (many-to-many unaligned).

    ``forward(x, lengths, target)`` gives the teacher-forced outputs
    ``(B, L, output_size)`` for the training targets; decoding goes through
    ``context`` and the decoder's ``greedy_tokens``/``beam_tokens``/
    ``greedy_values``.
    """

    # The training data hands the targets to forward (teacher forcing).
    reads_targets = True

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
        n_tokens=None,
        embedding_dim=16,
        value_size=None,
        stop=False,
        teacher_forcing=1.0,
        orthogonal_init=True,
        forget_bias=1.0,
    ):
        super().__init__()
        # What continued training (warm_start) must not change.
        self.hyperparameters = dict(
            cell=cell, hidden_size=hidden_size, num_layers=num_layers, bidirectional=bidirectional
        )
        if n_tokens is not None:
            self.hyperparameters["embedding_dim"] = embedding_dim
        self.encoder = RecurrentEncoder(
            input_size, hidden_size, num_layers, cell, bidirectional, dropout, backend
        )
        self.decoder = Decoder(
            self.encoder.output_size,
            output_size,
            hidden_size,
            num_layers,
            cell,
            dropout,
            n_tokens=n_tokens,
            embedding_dim=embedding_dim,
            value_size=value_size,
            stop=stop,
            teacher_forcing=teacher_forcing,
            orthogonal_init=orthogonal_init,
            forget_bias=forget_bias,
        )

    @property
    def backend(self):
        return self.encoder.backend

    @backend.setter
    def backend(self, value):
        self.encoder.backend = value

    def context(self, x, lengths):
        """The encoder's representation of each whole sequence, ``(B, D*H)``."""
        outputs = self.encoder(x, lengths)  # (B, T, D*H)
        return self.encoder.final_state(outputs, lengths)  # (B, D*H)

    def forward(self, x, lengths, target):
        return self.decoder(self.context(x, lengths), target, self.backend)  # (B, L, O)


class GeneratorNetwork(nn.Module):
    """A step-wise decoder whose initial state comes from a feature vector (one-to-many).

    ``x`` is ``(B, 1, F)``: each sample's features as a sequence of one step,
    so that the estimators' data pipeline serves unchanged.
    """

    reads_targets = True

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
        value_size=None,
        stop=False,
        teacher_forcing=1.0,
        orthogonal_init=True,
        forget_bias=1.0,
    ):
        super().__init__()
        self.hyperparameters = dict(cell=cell, hidden_size=hidden_size, num_layers=num_layers)
        self.backend = backend
        self.decoder = Decoder(
            input_size,
            output_size,
            hidden_size,
            num_layers,
            cell,
            dropout,
            value_size=value_size,
            stop=stop,
            teacher_forcing=teacher_forcing,
            orthogonal_init=orthogonal_init,
            forget_bias=forget_bias,
        )

    def context(self, x, lengths):
        return x[:, 0]  # (B, F)

    def forward(self, x, lengths, target):
        return self.decoder(self.context(x, lengths), target, self.backend)  # (B, L, O)


class TokenSequenceLoss(nn.Module):
    """Mean cross-entropy over the real steps of ``(B, L, V)`` logits; targets ``(B, L_max)``
    are ``IGNORE`` at padding (and trimmed to the outputs' length)."""

    def forward(self, logits, target):
        target = target[:, : logits.shape[1]].long()  # (B, L)
        return F.cross_entropy(logits.transpose(1, 2), target, ignore_index=IGNORE)


class ValueSequenceLoss(nn.Module):
    """Mean squared error over the real steps of ``(B, L, K[+1])`` outputs (NaN-padded
    targets ``(B, L, K)``), plus the binary cross-entropy of the stop logit when ``stop``:
    1 at each sequence's last step, 0 before."""

    def __init__(self, stop=False):
        super().__init__()
        self.stop = stop

    def forward(self, output, target):
        target = target[:, : output.shape[1]]  # (B, L, K)
        n_values = target.shape[2]
        real = ~torch.isnan(target[:, :, 0])  # (B, L)
        loss = F.mse_loss(output[:, :, :n_values][real], target[real])
        if self.stop:
            lengths = real.sum(dim=1)  # (B,)
            steps = torch.arange(target.shape[1], device=target.device)  # (L,)
            last = (steps.unsqueeze(0) == (lengths - 1).unsqueeze(1)).to(output.dtype)  # (B, L)
            loss = loss + F.binary_cross_entropy_with_logits(output[:, :, n_values][real], last[real])
        return loss


def token_log_likelihood(module, context, target):
    """Log-likelihood ``(B,)`` of token ``target`` ``(B, L)`` (``IGNORE`` padding) given ``context``."""
    target = target[:, : int((target != IGNORE).sum(dim=1).max())]  # (B, L)
    log_p = torch.log_softmax(module.decoder(context, target).double(), dim=2)  # (B, L, V)
    real = target != IGNORE
    picked = log_p.gather(2, target.clamp(min=0).unsqueeze(2)).squeeze(2)  # (B, L)
    return torch.where(real, picked, 0.0).sum(dim=1)
