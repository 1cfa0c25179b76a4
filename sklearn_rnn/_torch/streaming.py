"""A fitted unidirectional network run one time step at a time on torch's layers.

The torch counterpart of :class:`sklearn_rnn._numba.streaming.StreamingNetwork`,
for ``backend="torch"`` (and any device). States are the same NumPy
:class:`~sklearn_rnn._stream_state.StreamState`, so a stream may switch
backends between steps.
"""

import numpy as np
import torch

from .._stream_state import StreamState


class TorchStreamingNetwork:
    """Steps the encoder layers and head of a fitted ``ManyToOneNetwork``.

    Parameters
    ----------
    module : ManyToOneNetwork
        The fitted module; must be unidirectional.
    device : str
        Torch device the module lives on.
    """

    def __init__(self, module, device):
        if module.hyperparameters["bidirectional"]:
            raise ValueError(
                "Streaming needs a unidirectional model: a bidirectional layer reads each "
                "sequence backwards from its end, which has not arrived yet."
            )
        self.module = module
        self.device = torch.device(device)
        self.cell = module.hyperparameters["cell"]
        self.hidden_size = module.hyperparameters["hidden_size"]
        self.n_layers = len(module.encoder.layers)

    def init_state(self, n_streams):
        n_arrays = 2 if self.cell == "lstm" else 1  # (h, c) or (h,)
        zeros = lambda: np.zeros((n_streams, self.hidden_size), dtype=np.float32)  # noqa: E731
        return StreamState(
            [tuple(zeros() for _ in range(n_arrays)) for _ in range(self.n_layers)], n_streams
        )

    def step(self, x_t, state):
        """Outputs ``(n_streams, n_outputs)`` after feeding ``x_t`` and the new state."""
        module = self.module
        if module.training:
            module.eval()
        new_layers = []
        with torch.inference_mode():
            h = torch.from_numpy(x_t).to(self.device)  # (n_streams, F)
            for directions, layer_state in zip(module.encoder.layers, state.layers):
                hx = tuple(
                    torch.from_numpy(s).to(self.device).unsqueeze(0) for s in layer_state
                )  # each (1, n_streams, H)
                out, new_hx = directions[0](h.unsqueeze(1), hx if self.cell == "lstm" else hx[0])
                h = out[:, 0]  # (n_streams, H)
                new_hx = new_hx if isinstance(new_hx, tuple) else (new_hx,)
                new_layers.append(tuple(s[0].cpu().numpy().copy() for s in new_hx))
            outputs = module.head(h).cpu().numpy()  # (n_streams, n_outputs)
        return outputs, StreamState(new_layers, state.n_streams)
