"""Streams fed one time step at a time: their state, and the checks of each step.

Shared by both backends and by the torch-free predictor. A state holds NumPy
arrays only, so a state made on one backend can be stepped on the other, and
this module imports neither torch nor numba.

:class:`Streamer` is what ``init_state``/``predict_step`` run. It keeps the
per-call cost of the checks small (docs/benchmarks.md, "Streaming step"):

* a state it made itself is *sealed*: its arrays are read-only and its
  attributes cannot be reassigned, so it is known good and skips the full
  check; any other state (another model's, one made or copied by hand, one
  that went through pickle) gets :func:`check_stream_state`;
* a step given as a float32/float64 ndarray of the right shape passes one
  cheap test; anything else goes through :func:`check_step` with its errors.
"""

from numbers import Integral

import numpy as np

from ._validation import as_float_array

STREAMING_NEEDS_UNIDIRECTIONAL = (
    "Streaming needs a unidirectional model: a bidirectional layer reads each "
    "sequence backwards from its end, which has not arrived yet."
)

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# The square of float32's largest value. A frame whose sum of squares is at most
# this has every entry finite and within float32's range (NaN fails every
# comparison); a frame of many entries near the limit fails it although it is
# valid, and merely takes the full check. One BLAS call: about half the cost of
# np.isfinite(x).all() on one stream, and it also catches float64 values that
# would overflow float32. Compare it as a Python float: in float32 the limit is inf.
_SUM_OF_SQUARES_LIMIT = float(np.finfo(np.float32).max) ** 2


class StreamState:
    """The recurrent state of ``n_streams`` sequences after the steps fed so far.

    Opaque to users: made by ``init_state`` and returned by ``predict_step``.
    ``layers`` holds one kernel state tuple (``(h,)``, or ``(h, c)`` for LSTM)
    per layer, each ``(n_streams, hidden_size)``. ``layers`` and ``n_streams``
    are read-only; the arrays of a state that a model returned are read-only
    too (see :class:`Streamer`).
    """

    __slots__ = ("_layers", "_n_streams", "_seal")

    def __init__(self, layers, n_streams):
        self._layers = layers
        self._n_streams = n_streams
        self._seal = None

    @property
    def layers(self):
        return self._layers

    @property
    def n_streams(self):
        return self._n_streams

    def __reduce__(self):
        # Without the seal: a copied or unpickled state is checked in full once.
        return StreamState, (self._layers, self._n_streams)

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


def check_step(x_t, n_streams, n_features):
    """``x_t`` as a new C-contiguous float32 ``(n_streams, n_features)`` array of finite
    numbers, else a ``TypeError``/``ValueError`` saying what is wrong."""
    x_t = as_float_array(x_t, np.float32, "x_t")
    expected = (n_streams, n_features)
    if x_t.shape != expected:
        raise ValueError(
            f"x_t must have shape (n_streams, n_features) = {expected}: one time step "
            f"of each stream, but has shape {x_t.shape}."
        )
    if not np.isfinite(x_t).all():
        raise ValueError("x_t contains NaN or infinity; time steps must be finite.")
    return np.array(x_t, order="C")  # a copy, writable (torch.from_numpy needs it)


def check_n_streams(n_streams):
    """``n_streams`` as an int, or a ``ValueError`` unless it is a positive integer."""
    if not isinstance(n_streams, Integral) or isinstance(n_streams, bool) or n_streams < 1:
        raise ValueError(f"n_streams must be a positive integer, got {n_streams!r}.")
    return int(n_streams)


class Streamer:
    """A fitted network behind ``init_state``/``predict_step``: checks, steps, seals.

    Parameters
    ----------
    network : object
        With ``init_state(n_streams)`` and ``step(x_t, state)``, which takes a
        checked float32 ``(n_streams, n_features)`` array and a state that
        fits the network, and returns the outputs ``(n_streams, n_outputs)``
        and a new :class:`StreamState`.
    n_features : int
        Features per time step.
    """

    def __init__(self, network, n_features):
        self.network = network
        self.n_features = n_features
        self.layout = state_layout(network.init_state(1))
        self._seal = object()  # marks the states this streamer made

    def init_state(self, n_streams):
        """The state before the first step of ``n_streams`` sequences."""
        return self._sealed(self.network.init_state(check_n_streams(n_streams)))

    def step(self, x_t, state):
        """Outputs ``(n_streams, n_outputs)`` after feeding ``x_t``, and the new state."""
        if type(state) is not StreamState or state._seal is not self._seal:
            check_stream_state(state, self.layout)
        n_streams = state.n_streams
        if (
            type(x_t) is np.ndarray
            and x_t.shape == (n_streams, self.n_features)
            and x_t.dtype in _FAST_DTYPES
            and float(np.vdot(x_t, x_t)) <= _SUM_OF_SQUARES_LIMIT
        ):
            x_t = x_t.astype(np.float32, order="C")  # a copy, as check_step makes
        else:
            x_t = check_step(x_t, n_streams, self.n_features)
        outputs, new_state = self.network.step(x_t, state)
        return outputs, self._sealed(new_state)

    def _sealed(self, state):
        """``state`` made read-only and marked as this streamer's."""
        layers = tuple(map(tuple, state.layers))  # (no copies of what are tuples already)
        for leaves in layers:
            for leaf in leaves:
                leaf.flags.writeable = False
        state._layers = layers
        state._seal = self._seal
        return state
