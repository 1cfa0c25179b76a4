"""ONNX graphs of fitted recurrent estimators, built from their weights.

The graphs are written with ``onnx.helper`` rather than traced through
``torch.onnx.export`` (whose TorchScript exporter is deprecated and whose
dynamo exporter needs onnxscript): the only dependency is onnx, and the
graph reads like the network. ONNX's own ``RNN``/``GRU``/``LSTM`` operators
take each sequence's length
(``sequence_lens``): the forward direction's final state is the one after the
sequence's last real step, the reverse direction starts from that step, and
the outputs past a length are zero. That is exactly the padding rule of
``sklearn_rnn._torch.modules``, so a padded batch gives each sequence's own
result, in every layer and both directions.

Weights keep their values; only their gate blocks are reordered from
PyTorch's layout (LSTM i, f, g, o; GRU r, z, n) to ONNX's (LSTM i, o, f, c;
GRU z, r, h, with ``linear_before_reset=1``, which is torch's GRU).

onnx is imported by the functions that need it; this module itself needs
NumPy only.
"""

import numpy as np

# Opset 17 (ONNX 1.12): every operator used here has had its current
# definition since opset 15 at the latest, and a lower opset runs on more
# runtimes. IR version 8 goes with it.
OPSET = 17
IR_VERSION = 8

INSTALL_HINT = 'pip install "sklearn-rnn[onnx]"'

# Rows of PyTorch's gate blocks in ONNX's order.
_ONNX_GATES = {"rnn": (0,), "lstm": (0, 3, 1, 2), "gru": (1, 0, 2)}
_OPERATORS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}

SUPPORTED = (
    "ONNX export supports networks of the built-in cells 'rnn', 'lstm' and 'gru' "
    "(any num_layers, bidirectional or not, any dropout and recurrent_dropout) "
    "with layer_norm=False"
)


def import_onnx():
    """The ``onnx`` module, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs the onnx package, which is not installed: {INSTALL_HINT}"
        ) from exc
    return onnx


# --- weights -------------------------------------------------------------------


def network_weights(module):
    """``(kind, layers, head)`` of a fitted network, in PyTorch's layout.

    ``layers`` holds one tuple per layer of one ``(weight_ih, weight_hh,
    bias_ih, bias_hh)`` per direction (forward first); ``head`` is ``(weight,
    bias)`` of the output layer; all float32 NumPy arrays. A built-in cell with
    recurrent dropout runs in the step loop but, at inference, is the plain
    cell; layer normalisation and plugin cells have no ONNX operator.
    """
    from ._torch.cell_layer import CellLayer
    from ._torch.export import WEIGHT_NAMES, float32_numpy, network_arrays
    from ._torch.regularized import RegularizedCell

    encoder = module.encoder
    if encoder.layer_name is not None:
        return network_arrays(module)
    cell = encoder.layers[0][0].cell if isinstance(encoder.layers[0][0], CellLayer) else None
    if not isinstance(cell, RegularizedCell):
        name = getattr(encoder.cell, "__name__", encoder.cell)
        raise ValueError(
            f"{SUPPORTED}; this model uses the cell {name!r}, which has no ONNX operator. "
            "Refit with cell='rnn', 'lstm' or 'gru' to export it."
        )
    if cell.layer_norm:
        raise ValueError(
            f"{SUPPORTED}; this model has layer_norm=True, which ONNX's recurrent "
            "operators cannot express. Refit with layer_norm=False to export it."
        )
    layers = [
        tuple(
            tuple(float32_numpy(getattr(direction.cell, name)) for name in WEIGHT_NAMES)
            for direction in directions
        )
        for directions in encoder.layers
    ]
    head = (float32_numpy(module.head.weight), float32_numpy(module.head.bias))
    return cell.kind, layers, head


def _onnx_gates(array, kind):
    """``array``'s gate blocks (along axis 0) reordered from PyTorch's to ONNX's order."""
    order = _ONNX_GATES[kind]
    blocks = np.split(array, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


# --- graph building ------------------------------------------------------------


class _Graph:
    """Nodes and constants of a graph under construction, with unique names."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes = []
        self.initializers = []
        self._count = 0

    def _name(self, stem):
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, array, stem="const"):
        """A constant tensor of ``array`` (NumPy, or a list of str for strings)."""
        name = self._name(stem)
        helper = self.onnx.helper
        if isinstance(array, list):  # strings
            tensor = helper.make_tensor(
                name, self.onnx.TensorProto.STRING, [len(array)], [s.encode() for s in array]
            )
        else:
            tensor = self.onnx.numpy_helper.from_array(np.asarray(array), name)
        self.initializers.append(tensor)
        return name

    def op(self, op_type, inputs, n_outputs=1, outputs=None, **attributes):
        """Add a node; returns its output name, or the list of ``n_outputs`` names."""
        outputs = outputs or [self._name(op_type.lower()) for _ in range(n_outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, outputs, **attributes))
        return outputs[0] if n_outputs == 1 else outputs

    def recurrent(self, kind, directions, x, lengths="", initial=()):
        """One layer over ``x`` (T, B, F): ``[Y (T, D, B, H), Y_h (D, B, H), (Y_c)]``.

        ``lengths``: int32 ``(B,)`` sequence lengths, or "" for all of ``T``;
        ``initial``: ``(h0,)`` or ``(h0, c0)``, each ``(D, B, H)``, or empty for zeros.
        """
        w = np.stack([_onnx_gates(weights[0], kind) for weights in directions])  # (D, G*H, F)
        r = np.stack([_onnx_gates(weights[1], kind) for weights in directions])  # (D, G*H, H)
        b = np.stack(
            [
                np.concatenate([_onnx_gates(weights[2], kind), _onnx_gates(weights[3], kind)])
                for weights in directions
            ]
        )  # (D, 2*G*H): input biases, then recurrent biases
        attributes = {
            "hidden_size": w.shape[1] // len(_ONNX_GATES[kind]),
            "direction": "bidirectional" if len(directions) == 2 else "forward",
        }
        if kind == "gru":
            attributes["linear_before_reset"] = 1  # r * (W_hn h + b_hn): torch's GRU
        inputs = [x, self.const(w, "W"), self.const(r, "R"), self.const(b, "B"), lengths]
        inputs += list(initial)
        while inputs[-1] == "":
            inputs.pop()
        n_outputs = 3 if kind == "lstm" else 2
        return self.op(_OPERATORS[kind], inputs, n_outputs=n_outputs, **attributes)

    def head(self, features, weight, bias):
        """``features @ weight.T + bias`` over the last axis."""
        product = self.op("MatMul", [features, self.const(weight.T.copy(), "head_weight")])
        return self.op("Add", [product, self.const(bias, "head_bias")])


def _label_constant(graph, classes):
    """The classes as a constant tensor, and its ONNX element type."""
    onnx = graph.onnx
    classes = np.asarray(classes)
    if classes.dtype.kind in "USO" and all(isinstance(c, str) for c in classes.tolist()):
        return graph.const([str(c) for c in classes], "classes"), onnx.TensorProto.STRING
    if classes.dtype.kind in "iu":
        classes = classes.astype(np.int64)
    elif classes.dtype.kind not in "bf":
        raise ValueError(
            f"ONNX export supports class labels that are strings, integers, floats or "
            f"booleans; this model's classes_ have dtype {classes.dtype}."
        )
    name = graph.const(classes, "classes")
    return name, onnx.helper.np_dtype_to_tensor_dtype(classes.dtype)


# --- the graphs -------------------------------------------------------------------


def _outputs(graph, logits, spec, classes, shape, mask=None):
    """Output names, value-info arguments and nodes from ``logits`` (..., K).

    ``shape`` names the axes before the output axis (``["batch"]`` or
    ``["batch", "time"]``); ``mask`` (B, T) bool marks the real steps of a
    per-step graph: padded steps get zero probabilities or predictions and
    the label ``classes[0]``.
    """
    onnx = graph.onnx
    float_type = onnx.TensorProto.FLOAT
    if mask is not None:
        zero = graph.const(np.zeros((), np.float32), "zero")
        step_mask = graph.op("Unsqueeze", [mask, graph.const(np.array([-1]), "axes")])
    if spec["classifier"]:
        probabilities = graph.op("Softmax", [logits], axis=-1)
        codes = graph.op("ArgMax", [logits], axis=-1, keepdims=0)
        if mask is not None:
            probabilities = graph.op("Where", [step_mask, probabilities, zero])
            codes = graph.op("Where", [mask, codes, graph.const(np.zeros((), np.int64))])
        labels, label_type = _label_constant(graph, classes)
        graph.op("Gather", [labels, codes], outputs=["label"], axis=0)
        graph.op("Identity", [probabilities], outputs=["probabilities"])
        n_classes = len(classes)
        return [
            ("label", label_type, shape, "Predicted label (classes_[argmax])."),
            (
                "probabilities",
                float_type,
                shape + [n_classes],
                "Class probabilities in the order of classes_.",
            ),
        ]
    predictions = logits
    if mask is not None:
        predictions = graph.op("Where", [step_mask, predictions, zero])
    n_outputs = spec["n_outputs"]
    if spec["target_is_1d"]:
        predictions = graph.op("Squeeze", [predictions, graph.const(np.array([-1]), "axes")])
        out_shape = shape
    else:
        out_shape = shape + [n_outputs]
    graph.op("Identity", [predictions], outputs=["predictions"])
    return [("predictions", float_type, out_shape, "Predictions, as predict gives them.")]


def _sequence_graph(graph, kind, layers, head, spec, classes, n_features):
    """Inputs, outputs of the whole-sequence graph; nodes go to ``graph``."""
    onnx = graph.onnx
    x = graph.op("Transpose", ["x"], perm=[1, 0, 2])  # (T, B, F)
    lengths = graph.op("Cast", ["lengths"], to=onnx.TensorProto.INT32)  # (B,)
    n_flat = len(layers) if spec["per_step"] else len(layers) - 1  # layers whose Y is read
    flatten = graph.const(np.array([0, 0, -1]), "shape") if n_flat else None
    for k, directions in enumerate(layers):
        y, y_h = graph.recurrent(kind, directions, x, lengths)[:2]  # (T, D, B, H), (D, B, H)
        if k < n_flat:
            y = graph.op("Transpose", [y], perm=[0, 2, 1, 3])  # (T, B, D, H)
            x = graph.op("Reshape", [y, flatten])  # (T, B, D*H)
    inputs = [
        ("x", onnx.TensorProto.FLOAT, ["batch", "time", n_features], "Padded sequences."),
        ("lengths", onnx.TensorProto.INT64, ["batch"], "Length of each sequence, 1..time."),
    ]
    if not spec["per_step"]:
        final = graph.op("Transpose", [y_h], perm=[1, 0, 2])  # (B, D, H)
        final = graph.op("Reshape", [final, graph.const(np.array([0, -1]), "shape")])  # (B, D*H)
        return inputs, _outputs(graph, graph.head(final, *head), spec, classes, ["batch"])
    steps = graph.op("Transpose", [x], perm=[1, 0, 2])  # (B, T, D*H)
    n_steps = graph.op("Shape", ["x"], start=1, end=2)  # (1,)
    n_steps = graph.op("Squeeze", [n_steps, graph.const(np.array([0]), "axes")])  # ()
    time = graph.op(
        "Range", [graph.const(np.int64(0), "start"), n_steps, graph.const(np.int64(1), "delta")]
    )  # (T,)
    batch_lengths = graph.op("Unsqueeze", ["lengths", graph.const(np.array([1]), "axes")])
    mask = graph.op("Less", [time, batch_lengths])  # (B, T): the real steps
    logits = graph.head(steps, *head)  # (B, T, K)
    return inputs, _outputs(graph, logits, spec, classes, ["batch", "time"], mask)


def _step_graph(graph, kind, layers, head, spec, classes, n_features):
    """Inputs, outputs of the one-step streaming graph; nodes go to ``graph``."""
    onnx = graph.onnx
    float_type = onnx.TensorProto.FLOAT
    n_layers, hidden_size = len(layers), layers[0][0][1].shape[1]
    state_names = ("h", "c") if kind == "lstm" else ("h",)
    x = graph.op("Unsqueeze", ["x_t", graph.const(np.array([0]), "axes")])  # (1, B, F)
    axes = graph.const(np.array([0]), "axes")
    finals = {name: [] for name in state_names}
    for k, directions in enumerate(layers):
        starts, ends = graph.const(np.array([k]), "start"), graph.const(np.array([k + 1]), "end")
        initial = [graph.op("Slice", [name, starts, ends, axes]) for name in state_names]
        outputs = graph.recurrent(kind, directions, x, "", initial)  # (1, 1, B, H), (1, B, H)...
        x = graph.op("Squeeze", [outputs[0], graph.const(np.array([1]), "axes")])  # (1, B, H)
        for name, final in zip(state_names, outputs[1:]):
            finals[name].append(final)
    features = graph.op("Squeeze", [x, axes])  # (B, H)
    outputs = _outputs(graph, graph.head(features, *head), spec, classes, ["batch"])
    state_shape = [n_layers, "batch", hidden_size]
    inputs = [("x_t", float_type, ["batch", n_features], "One time step of each stream.")]
    for name in state_names:
        what = "hidden" if name == "h" else "cell"
        inputs.append((name, float_type, state_shape, f"The {what} state of every layer."))
        graph.op("Concat", finals[name], outputs=[f"{name}_new"], axis=0)
        outputs.append(
            (f"{name}_new", float_type, state_shape, f"The {what} state after this step.")
        )
    return inputs, outputs


def estimator_to_onnx(estimator, *, step=False):
    """The ONNX model of a fitted many-to-one or per-step estimator (see ``to_onnx``)."""
    from sklearn.base import is_classifier

    from ._torch.streaming import STREAMING_NEEDS_UNIDIRECTIONAL

    onnx = import_onnx()
    module = estimator.net_.module_
    kind, layers, head = network_weights(module)
    if step and len(layers[0]) == 2:
        raise ValueError(f"to_onnx(step=True): {STREAMING_NEEDS_UNIDIRECTIONAL}")
    spec = {  # what the outputs are
        "classifier": is_classifier(estimator),
        "per_step": estimator._per_step_targets,
        "target_is_1d": getattr(estimator, "_target_is_1d", False),
        "n_outputs": head[0].shape[0],
    }
    classes = getattr(estimator, "classes_", None)
    graph = _Graph(onnx)
    build = _step_graph if step else _sequence_graph
    inputs, outputs = build(graph, kind, layers, head, spec, classes, estimator.n_features_in_)
    helper = onnx.helper
    name = type(estimator).__name__
    onnx_graph = helper.make_graph(
        graph.nodes,
        f"{name}_{'step' if step else 'sequences'}",
        [helper.make_tensor_value_info(*args) for args in inputs],
        [helper.make_tensor_value_info(*args) for args in outputs],
        initializer=graph.initializers,
    )
    from . import __version__

    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="sklearn-rnn",
        producer_version=__version__,
        doc_string=f"{name} ({kind}, {len(layers)} layer(s), "
        f"{'bidirectional' if len(layers[0]) == 2 else 'unidirectional'}), "
        f"{'one time step' if step else 'padded sequences with their lengths'}.",
    )
    model.ir_version = IR_VERSION
    metadata = {
        "estimator": name,
        "graph": "step" if step else "sequences",
        "cell": kind,
        "num_layers": str(len(layers)),
        "hidden_size": str(layers[0][0][1].shape[1]),
        "bidirectional": str(len(layers[0]) == 2),
        "n_features_in": str(estimator.n_features_in_),
    }
    helper.set_model_props(model, metadata)
    return model
