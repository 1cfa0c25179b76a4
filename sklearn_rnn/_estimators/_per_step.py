"""The shared base of the many-to-many aligned estimators: a target for every time step."""

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._sequence import unpad
from .._targets import check_step_lengths, padded_lengths
from .._validation import check_sequences
from . import _docs
from ._base import BaseRecurrent
from ._onnx_export import OnnxExportMixin

# The shared parameter text, with the dropout of a per-step network.
ARCHITECTURE = _docs.ARCHITECTURE.format(cell="lstm", bidirectional="True").replace(
    "on the sequence representation before the output layer",
    "on every step's output before the output layer",
)

# What bidirectional means for a per-step model (appended to the Notes).
BIDIRECTIONAL_NOTE = """\
With ``bidirectional=True`` (the default) the output at step ``t`` depends
    on the whole sequence, steps after ``t`` included; with
    ``bidirectional=False`` it depends on steps ``0..t`` only, so the model can
    run on a stream, one step at a time (:meth:`init_state`,
    :meth:`predict_step`)."""


class BasePerStep(OnnxExportMixin, BaseRecurrent):
    """Base of the estimators with one output per time step (tagging, per-step regression).

    The network is an encoder with a head on every step's output
    (``PerStepNetwork``); targets are padded like the sequences, and losses,
    predictions and scores only ever see the real steps.
    """

    _per_step_targets = True

    def __init__(
        self,
        *,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        orthogonal_init=True,
        forget_bias=1.0,
        recurrent_dropout=0.0,
        layer_norm=False,
        max_iter=100,
        batch_size=32,
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=5.0,
        tbptt_steps=None,
        record_gradient_flow=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="cpu",
        backend="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            orthogonal_init=orthogonal_init,
            forget_bias=forget_bias,
            recurrent_dropout=recurrent_dropout,
            layer_norm=layer_norm,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            weight_decay=weight_decay,
            clip_grad_norm=clip_grad_norm,
            tbptt_steps=tbptt_steps,
            record_gradient_flow=record_gradient_flow,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            device=device,
            backend=backend,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
        )

    # --- hooks of BaseRecurrent ---------------------------------------------------

    def _module(self):
        from .._torch.per_step import PerStepNetwork

        return PerStepNetwork, self._cell_options()

    def _check_targets_match(self, sequences, y_encoded):
        check_step_lengths(sequences.lengths, padded_lengths(y_encoded))

    # --- prediction and scoring ---------------------------------------------------

    def _predict_steps(self, X):
        """Network outputs ``(n_samples, max_length, n_outputs)`` and the validated ``X``.

        Entries past a sequence's length are meaningless: use
        :meth:`_as_input_format` to drop them.
        """
        from .._torch.net import PREDICT_BATCH_SIZE, predict_outputs

        check_is_fitted(self)
        sequences = check_sequences(X, n_features=self.n_features_in_)
        backend = self._backend(min(sequences.n_samples, PREDICT_BATCH_SIZE))
        return predict_outputs(self.net_, sequences, backend), sequences

    @staticmethod
    def _as_input_format(values, sequences):
        """Per-step ``values`` (N, T_max, ...) as ``X`` came: a list of ``(T_i, ...)``
        arrays for a list, the array itself for a 2-D or 3-D ``X`` (no padding there)."""
        if sequences.format == "ragged":
            return unpad(values, sequences.lengths)
        return values

    def _real_steps(self, X, y, sample_weight, split_targets):
        """Predicted and true targets of every real step, and each step's weight.

        ``split_targets(y)`` validates ``y`` into one array per sequence and
        their lengths (as in ``fit``); each step has its sequence's weight.
        """
        arrays, lengths = split_targets(y)
        outputs, sequences = self._predict_steps(X)
        check_step_lengths(sequences.lengths, lengths)
        real = np.arange(outputs.shape[1]) < lengths[:, None]  # (N, T_max)
        weights = None
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, np.empty(len(lengths)))
            weights = np.repeat(sample_weight, lengths)
        return outputs[real], np.concatenate(arrays), weights

    # --- streaming ------------------------------------------------------------------

    def export_weights(self, path):
        """Not available yet for per-step models: the exported predictor is many-to-one."""
        raise NotImplementedError(
            f"{type(self).__name__}.export_weights is not supported yet: the torch-free "
            "predictor gives one output per sequence, and this model gives one per step. "
            "Pickle the estimator instead."
        )
