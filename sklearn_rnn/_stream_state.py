"""The state of streams fed one time step at a time, shared by both backends.

It holds NumPy arrays only, so a state made on one backend can be stepped on
the other, and this module imports neither torch nor numba.
"""


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
