"""skorch callbacks the estimators always install: gradient clipping and the divergence guard."""

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
