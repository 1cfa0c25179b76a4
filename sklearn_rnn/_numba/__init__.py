"""The numba backend: the only part of the package that imports numba.

``cells`` holds the entry points (validation, then kernels); ``kernels`` all
the private ``@njit`` code; ``config`` the compiler options; ``runtime`` how
the kernels run (one BLAS thread, denormals flushed to zero).
"""

from .cells import (
    CELLS,
    ForwardResult,
    Gradients,
    PreparedWeights,
    Saved,
    Weights,
    backward,
    forward,
    init_state,
    n_gates,
    prepare_weights,
    state_names,
    step,
)

__all__ = [
    "CELLS",
    "ForwardResult",
    "Gradients",
    "PreparedWeights",
    "Saved",
    "Weights",
    "backward",
    "forward",
    "init_state",
    "n_gates",
    "prepare_weights",
    "state_names",
    "step",
]
