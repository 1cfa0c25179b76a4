"""skorch callbacks of the estimators: clipping and the divergence guard, gradient-flow diagnostics."""

import math

import torch
from skorch.callbacks import Callback

from ..exceptions import TrainingDivergedError


class GradientGuard(Callback):
    """Clip the gradient norm and stop training before a non-finite update.

    Runs in ``on_grad_computed``, after the backward pass and before the
    optimizer step, on the gradients of every backend (the numba kernels
    return theirs to the same parameters). One norm computation serves both
    jobs: clipping rescales the gradient when its norm exceeds
    ``max_norm`` (``None``: never), and a non-finite norm (a NaN or infinite
    loss or gradient) raises :class:`TrainingDivergedError` there, so the
    optimizer never applies it and the weights stay those from before the
    batch. An update can still overflow the weights with a finite gradient
    (a huge learning rate); ``on_batch_end`` catches that and puts back the
    weights of the last complete epoch.

    Parameters
    ----------
    max_norm : float or None
        Largest allowed norm of the gradient of all weights together.
    """

    def __init__(self, max_norm=None):
        self.max_norm = max_norm

    def initialize(self):
        self.epoch_weights_ = None
        self.batch_ = 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.batch_ = 0
        # A copy per epoch, not per batch: only needed if an update overflows.
        self.epoch_weights_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.batch_ += 1

    def _fail(self, net, what, kept="from before that batch"):
        epoch = len(net.history)
        raise TrainingDivergedError(
            f"Training diverged: {what} at epoch {epoch}, batch {self.batch_}. The "
            f"estimator keeps the weights {kept}. Lower learning_rate, set "
            "or lower clip_grad_norm, and check that X and y are on a sensible scale (standardise "
            "them, e.g. with SequenceScaler and TransformedTargetRegressor).",
            epoch=epoch,
            batch=self.batch_,
        )

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if not training:
            return
        grads = [p for _, p in named_parameters if p.grad is not None]
        max_norm = math.inf if self.max_norm is None else self.max_norm
        norm = torch.nn.utils.clip_grad_norm_(grads, max_norm)
        if not torch.isfinite(norm):
            self._fail(net, "the loss or its gradient became NaN or infinite")

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        if not all(torch.isfinite(p).all() for p in net.module_.parameters()):
            if self.epoch_weights_ is not None:
                net.module_.load_state_dict(self.epoch_weights_)
            self._fail(
                net, "an update made the weights NaN or infinite", "of the last complete epoch"
            )

    def __getstate__(self):
        return {**self.__dict__, "epoch_weights_": None}  # not pickled with the model


class GradientFlowRecorder(Callback):
    """Record the gradient norm at each time step on every ``every``-th training batch.

    The gradient is that of the loss with respect to the top recurrent
    layer's input at step ``t``: the hidden state of the layer below (both
    directions together), or the input features for a one-layer network (see
    ``RecurrentEncoder._recorded_input``).
    Sequences are aligned at their ends: position 0 is each sequence's last
    real step, position ``j`` the step ``j`` before it, which is where a
    vanishing gradient shows for a loss at the end. Each epoch's history row
    gets ``gradient_flow``: the mean over the sampled sequences of the
    gradient norm at each position (positions that no sampled sequence
    reaches are left out). Truncated BPTT steps are not recorded.

    Parameters
    ----------
    every : int
        Record the 1st, (1 + every)-th, ... training batch of each epoch.
    """

    def __init__(self, every=1):
        self.every = every

    def initialize(self):
        self.batch_ = 0
        self._reset()
        return self

    def _reset(self):
        self.sums_ = None
        self.counts_ = None

    def _encoder(self, net):
        return net.module_.encoder

    def on_epoch_begin(self, net, **kwargs):
        self.batch_ = 0
        self._reset()

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self._encoder(net).record_gradients = self.batch_ % self.every == 0
            self.batch_ += 1

    def on_grad_computed(self, net, training=False, **kwargs):
        encoder = self._encoder(net)
        if not training or encoder.recorded is None:
            return
        outputs, lengths = encoder.recorded
        encoder.recorded = None  # release the graph's tensors
        if outputs.grad is None:
            return
        norms = outputs.grad.detach().norm(dim=2).double().cpu()  # (B, T)
        lengths = lengths.cpu()
        n_steps = norms.shape[1]
        steps = torch.arange(n_steps)
        # position from the end: lengths - 1 - t; padded steps fall below 0
        position = lengths.unsqueeze(1) - 1 - steps  # (B, T)
        real = position >= 0
        sums = torch.zeros(n_steps, dtype=torch.float64).index_add_(0, position[real], norms[real])
        counts = torch.zeros(n_steps, dtype=torch.float64).index_add_(
            0, position[real], torch.ones_like(norms[real])
        )
        if self.sums_ is None or len(self.sums_) < n_steps:
            grown = torch.zeros(n_steps, dtype=torch.float64)
            grown_counts = torch.zeros(n_steps, dtype=torch.float64)
            if self.sums_ is not None:
                grown[: len(self.sums_)] = self.sums_
                grown_counts[: len(self.counts_)] = self.counts_
            self.sums_, self.counts_ = grown, grown_counts
        self.sums_[:n_steps] += sums
        self.counts_[:n_steps] += counts

    def on_batch_end(self, net, training=False, **kwargs):
        encoder = self._encoder(net)
        encoder.record_gradients = False
        encoder.recorded = None

    def on_epoch_end(self, net, **kwargs):
        if self.sums_ is not None:
            reached = self.counts_ > 0
            means = (self.sums_[reached] / self.counts_[reached]).tolist()
            net.history.record("gradient_flow", means)
        self._reset()
