"""``to_onnx``: a fitted many-to-one or per-step estimator as an ONNX graph."""

from sklearn.utils.validation import check_is_fitted

from .._io import write_atomic


class OnnxExportMixin:
    """Adds :meth:`to_onnx` to the estimators whose network ONNX can express."""

    def to_onnx(self, path=None, *, step=False):
        """Export the fitted network as an ONNX model, for onnxruntime and other runtimes.

        The graph is built from the fitted weights with ONNX's own ``RNN``,
        ``GRU`` and ``LSTM`` operators, which take each sequence's length: a
        padded batch of sequences of different lengths gives each sequence
        exactly what :meth:`predict` and ``predict_proba`` give it (to float32
        round-off), in every layer and both directions of a bidirectional
        network. The batch size and the number of time steps are dynamic.
        Needs the onnx package (``pip install "sklearn-rnn[onnx]"``); see
        ``docs/onnx.md``.

        Parameters
        ----------
        path : str or path-like, default=None
            Where to write the model (conventionally ``*.onnx``). None only
            returns it.
        step : bool, default=False
            False exports the whole-sequence graph: inputs ``x`` (batch, time,
            n_features) float32, zero-padded, and ``lengths`` (batch,) int64,
            each in ``1..time``. True exports the single-step streaming graph
            of a unidirectional network, what :meth:`predict_step` computes:
            inputs ``x_t`` (batch, n_features) float32 and the state ``h``
            (num_layers, batch, hidden_size), plus ``c`` for an LSTM, zeros at
            the start of a stream; it also outputs the new state ``h_new``
            (and ``c_new``).

        Returns
        -------
        model : onnx.ModelProto
            The model; ``model.SerializeToString()`` feeds
            ``onnxruntime.InferenceSession`` without a file.

        Notes
        -----
        Outputs: a classifier gives ``label`` (the class labels, as strings,
        int64, float or bool like ``classes_``) and float32 ``probabilities``
        (..., n_classes); a regressor gives float32 ``predictions`` shaped as
        :meth:`predict` shapes them ((batch,) for a 1-D target, else (batch,
        n_outputs)). A per-step model gives these at every step,
        with a ``time`` axis after ``batch``; at the padded steps
        (``t >= lengths[b]``) probabilities and predictions are 0 and the
        label is ``classes_[0]``.

        Supported: the built-in cells "rnn", "lstm" and "gru", any number of
        layers, bidirectional or not, with any ``dropout`` and
        ``recurrent_dropout`` (both off at inference). A plugin cell or
        ``layer_norm=True`` raises a ValueError (ONNX has no operator for
        them), as does ``step=True`` for a bidirectional network.

        Examples
        --------
        >>> import numpy as np
        >>> import onnxruntime as ort
        >>> from sklearn_rnn import GRUClassifier
        >>> from sklearn_rnn.preprocessing import SequencePadder
        >>> rng = np.random.RandomState(0)
        >>> X = [rng.normal(size=(rng.randint(3, 9), 2)) for _ in range(30)]
        >>> y = np.array(["neg", "pos"])[[int(x[:, 0].mean() > 0) for x in X]]
        >>> clf = GRUClassifier(hidden_size=8, max_iter=3, random_state=0).fit(X, y)
        >>> session = ort.InferenceSession(clf.to_onnx().SerializeToString())
        >>> x = SequencePadder().fit_transform(X).astype(np.float32)  # (30, 8, 2)
        >>> lengths = np.array([len(s) for s in X])
        >>> label, proba = session.run(None, {"x": x, "lengths": lengths})
        >>> bool((label == clf.predict(X)).all())
        True
        >>> bool(np.allclose(proba, clf.predict_proba(X), atol=1e-5))
        True
        """
        from .._onnx import estimator_to_onnx

        check_is_fitted(self)
        model = estimator_to_onnx(self, step=step)
        if path is not None:
            write_atomic(path, model.SerializeToString())  # a crash never leaves half a file
        return model
