"""The state of streams fed one time step at a time, shared by both backends.

It holds NumPy arrays only, so a state made on one backend can be stepped on
the other, and this module imports neither torch nor numba.
"""

import numpy as np


class StreamState:
    """The recurrent state of ``n_streams`` sequences after the steps fed so far.

    Opaque to users: made by ``init_state`` and returned by ``predict_step``.
    ``layers`` holds one kernel state tuple (``(h,)``, or ``(h, c)`` for LSTM)
    per layer, each ``(n_streams, hidden_size)``.
    """

    def __init__(self, layers, n_streams):
        self.layers = layers
        self.n_streams = n_streams

    def __repr__(self):
        return f"StreamState(n_streams={self.n_streams}, n_layers={len(self.layers)})"


def state_layout(state):
    """What a network's states look like: per layer, ``(shape[1:], dtype)`` of each array."""
    return [tuple((leaf.shape[1:], leaf.dtype) for leaf in leaves) for leaves in state.layers]


def check_stream_state(state, layout):
    """Raise a ``TypeError``/``ValueError`` unless ``state`` fits a network of ``layout``.

    A state from another model (other depth, cell or hidden size), or one
    altered by hand, would otherwise be stepped on wrong shapes: torch fails
    with its own errors, and a shallower state silently skips layers.
    """
    if not isinstance(state, StreamState):
        raise TypeError(
            f"state must come from init_state() or predict_step(), got {type(state).__name__}."
        )
    fix = "Start the streams with this model's init_state()."
    layers = state.layers
    if not isinstance(layers, (list, tuple)) or len(layers) != len(layout):
        n_layers = len(layers) if isinstance(layers, (list, tuple)) else "no"
        raise ValueError(
            f"state has {n_layers} layer(s) but this model has {len(layout)}: the state "
            f"comes from another model. {fix}"
        )
    for k, (leaves, expected) in enumerate(zip(layers, layout)):
        if not isinstance(leaves, (list, tuple)) or len(leaves) != len(expected):
            n_arrays = len(leaves) if isinstance(leaves, (list, tuple)) else "no"
            raise ValueError(
                f"state layer {k} has {n_arrays} array(s) but this model's cell keeps "
                f"{len(expected)}: the state comes from another model. {fix}"
            )
        for leaf, (shape, dtype) in zip(leaves, expected):
            want = (state.n_streams, *shape)
            if not isinstance(leaf, np.ndarray) or leaf.shape != want or leaf.dtype != dtype:
                got = (
                    f"shape {leaf.shape} and dtype {leaf.dtype}"
                    if isinstance(leaf, np.ndarray)
                    else f"a {type(leaf).__name__}"
                )
                raise ValueError(
                    f"state layer {k} holds {got}, but this model needs shape {want} and "
                    f"dtype {dtype} (n_streams, hidden_size). {fix}"
                )
            if not np.isfinite(leaf).all():
                raise ValueError(f"state layer {k} contains NaN or infinity. {fix}")
