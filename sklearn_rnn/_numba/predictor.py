"""Prediction from exported weights on the numba kernels alone, without torch.

An estimator's :meth:`export_weights` writes a NumPy ``.npz`` file (no
pickle: loading it runs no code); :func:`load_predictor` reads it into a
:class:`NumbaPredictor`, which needs numpy and numba but never imports torch.
"""

import numpy as np

from .._stream_state import STREAMING_NEEDS_UNIDIRECTIONAL, Streamer, check_n_streams
from .._validation import check_sequences
from .cells import forward, prepare_weights
from .streaming import BuiltinStepper, StreamingNetwork

FORMAT_VERSION = 1
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # PyTorch's, per layer


def _reverse_within_lengths(x, lengths):
    """Reverse each sequence of ``x`` (B, T, H) within its length; padding stays put."""
    steps = np.arange(x.shape[1])  # (T,)
    index = np.where(
        steps < lengths[:, None], lengths[:, None] - 1 - steps, steps
    )  # (B, T)
    return np.take_along_axis(x, index[:, :, None], axis=1)  # (B, T, H)


def _softmax(logits):
    """Probabilities of float32 ``logits`` (n, n_classes), computed in float64."""
    logits = logits.astype(np.float64)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class NumbaPredictor:
    """A fitted recurrent network that predicts with the numba kernels only.

    Made by :func:`load_predictor`; predicts exactly what the estimator that
    exported it predicts (to float32 round-off), on whole sequences
    (``predict``, ``predict_proba``) and, for a unidirectional model, one time
    step at a time (``init_state``, ``predict_step``, ``predict_proba_step``).

    Attributes
    ----------
    n_features_in_ : int
        Features per time step.
    classes_ : ndarray or None
        Class labels of a classifier, None for a regressor.
    """

    def __init__(self, arrays):
        self.cell = str(arrays["cell"])
        self.n_features_in_ = int(arrays["n_features_in"])
        self.classes_ = arrays["classes"] if "classes" in arrays else None
        self._target_is_1d = bool(arrays["target_is_1d"])
        n_layers, n_directions = (int(v) for v in arrays["shape"])
        self._layers = [
            [
                prepare_weights(
                    self.cell,
                    tuple(arrays[f"l{k}_d{d}_{name}"] for name in WEIGHT_NAMES),
                )
                for d in range(n_directions)
            ]
            for k in range(n_layers)
        ]
        self._head_weight_t = np.ascontiguousarray(arrays["head_weight"].T)  # (D*H, n_outputs)
        self._head_bias = arrays["head_bias"]
        self._stream = None  # the streaming network, made at the first init_state

    def _outputs(self, X):
        sequences = check_sequences(X, n_features=self.n_features_in_)
        x, lengths = sequences.padded, sequences.lengths  # (B, T, F), (B,)
        for directions in self._layers:
            outputs = [forward(self.cell, x, lengths, directions[0], save=False).output]  # (B, T, H)
            if len(directions) == 2:
                backward = forward(
                    self.cell, _reverse_within_lengths(x, lengths), lengths, directions[1], save=False
                ).output
                outputs.append(_reverse_within_lengths(backward, lengths))
            x = np.concatenate(outputs, axis=2) if len(outputs) == 2 else outputs[0]  # (B, T, D*H)
        hidden = x.shape[2] // len(self._layers[0])
        final = x[np.arange(len(x)), lengths - 1, :hidden]  # (B, H): forward at the last real step
        if len(self._layers[0]) == 2:
            final = np.concatenate([final, x[:, 0, hidden:]], axis=1)  # reverse at step 0
        return final @ self._head_weight_t + self._head_bias  # (B, n_outputs)

    def _predictions(self, outputs):
        """Labels (classifier) or values (regressor) of network outputs (n, n_outputs)."""
        if self.classes_ is not None:
            return self.classes_[outputs.argmax(axis=1)]
        outputs = outputs.astype(np.float64)
        return outputs[:, 0] if self._target_is_1d else outputs

    def _check_classifier(self, method):
        if self.classes_ is None:
            raise AttributeError(f"{method} is only available for classifiers.")

    def predict(self, X):
        """Labels (classifier) or values (regressor), as the exporting estimator's ``predict``."""
        return self._predictions(self._outputs(X))

    def predict_proba(self, X):
        """Class probabilities (classifiers only)."""
        self._check_classifier("predict_proba")
        return _softmax(self._outputs(X))

    # --- streaming, as the estimators' init_state/predict_step -------------------

    def _streamer(self):
        """The :class:`~sklearn_rnn._stream_state.Streamer` of the layers, made once."""
        if self._stream is None:
            if len(self._layers[0]) == 2:
                raise ValueError(STREAMING_NEEDS_UNIDIRECTIONAL)
            steppers = [BuiltinStepper(self.cell, directions[0]) for directions in self._layers]
            network = StreamingNetwork(steppers, (self._head_weight_t.T, self._head_bias))
            self._stream = Streamer(network, self.n_features_in_)
        return self._stream

    def init_state(self, n_streams=1):
        """The recurrent state before the first step of ``n_streams`` sequences.

        Unidirectional models only, as the estimator's ``init_state``.
        """
        check_n_streams(n_streams)  # before the network: clear errors first
        return self._streamer().init_state(n_streams)

    def predict_step(self, x_t, state):
        """Feed ``x_t`` (n_streams, n_features), one step of each stream: the prediction
        given all steps so far, as the estimator's ``predict_step``, and the new state."""
        outputs, state = self._streamer().step(x_t, state)
        return self._predictions(outputs), state

    def predict_proba_step(self, x_t, state):
        """Feed one step of each stream: the class probabilities so far (classifiers only),
        as the estimator's ``predict_proba_step``, and the new state."""
        self._check_classifier("predict_proba_step")
        outputs, state = self._streamer().step(x_t, state)
        return _softmax(outputs), state


def save_arrays(path, *, cell, layers, head, n_features_in, classes, target_is_1d):
    """Write the exported network to ``path`` (``.npz``, no pickled objects)."""
    if classes is not None:
        classes = np.asarray(classes)
        if classes.dtype == object and all(isinstance(c, str) for c in classes):
            classes = classes.astype(str)  # e.g. labels from a pandas column
        if classes.dtype == object:
            raise TypeError(
                "export_weights stores classes_ without pickle, so labels must be numbers "
                f"or strings; classes_ has dtype object ({classes[:3].tolist()}...)."
            )
    arrays = {
        "format_version": np.int64(FORMAT_VERSION),
        "cell": np.str_(cell),
        "n_features_in": np.int64(n_features_in),
        "target_is_1d": np.bool_(target_is_1d),
        "shape": np.array([len(layers), len(layers[0])], dtype=np.int64),
        "head_weight": head[0],
        "head_bias": head[1],
    }
    if classes is not None:
        arrays["classes"] = classes
    for k, directions in enumerate(layers):
        for d, weights in enumerate(directions):
            for name, array in zip(WEIGHT_NAMES, weights):
                arrays[f"l{k}_d{d}_{name}"] = array
    np.savez(path, **arrays)


def load_predictor(path):
    """Load a network exported with ``export_weights`` into a torch-free predictor.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file written by an estimator's ``export_weights``.

    Returns
    -------
    predictor : NumbaPredictor
        Has ``predict`` (and ``predict_proba`` for classifiers).
    """
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    version = int(arrays.get("format_version", -1))
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} has export format {version}, but this sklearn-rnn reads format "
            f"{FORMAT_VERSION}; export the model again with this version."
        )
    return NumbaPredictor(arrays)
