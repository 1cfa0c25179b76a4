"""Plain NumPy references of the cells' equations, written from the docstrings alone.

Each ``*_step`` advances a batch by one step from a dict of weights named as
the cell's parameters; :func:`run` applies a step over padded sequences with
lengths, keeping a finished sequence's state and giving zero outputs at its
padded steps (the host's masking).
"""

import numpy as np

ACTIVATIONS = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0)}


def direct_step(x_t, h, p, nonlinearity="tanh"):
    """h_t = act(W x_t + u * h_{t-1} + b)."""
    h = ACTIVATIONS[nonlinearity](x_t @ p["weight_ih"].T + p["weight_hh"] * h + p["bias"])
    return h, h


def indirect_step(x_t, h, p):
    """l_t = tanh(W_il x_t + W_ul h_{t-1} + b_l); h_t = tanh(W_lu l_t + b_u)."""
    lower = np.tanh(x_t @ p["weight_ih"].T + h @ p["weight_ul"].T + p["bias_lower"])
    upper = np.tanh(lower @ p["weight_lu"].T + p["bias_upper"])
    return upper, upper


def full_step(x_t, state, p):
    """[l; u]_t from x_t and s = [l; u]_{t-1} through R = weight_hh, u_t from l_t."""
    lower, upper = state
    hidden = lower.shape[1]
    s = np.concatenate([lower, upper], axis=1)
    r_lower, r_upper = p["weight_hh"][:hidden], p["weight_hh"][hidden:]
    lower = np.tanh(x_t @ p["weight_ih"].T + s @ r_lower.T + p["bias_lower"])
    upper = np.tanh(lower @ p["weight_lu"].T + s @ r_upper.T + p["bias_upper"])
    return upper, (lower, upper)


def run(step, x, lengths, state):
    """Masked loop of ``step(x_t, state) -> (h_t, state)`` over (B, T, F) ``x``.

    ``state`` is an array or a tuple of arrays; returns (outputs (B, T, H), final state).
    """
    n_seq, n_steps, _ = x.shape
    outputs = []
    for t in range(n_steps):
        h, new = step(x[:, t], state)
        running = (t < np.asarray(lengths))[:, None]
        if isinstance(state, tuple):
            state = tuple(np.where(running, n, o) for n, o in zip(new, state))
        else:
            state = np.where(running, new, state)
        outputs.append(np.where(running, h, 0.0))
    return np.stack(outputs, axis=1), state
