"""Autograd bridge: one recurrent layer computed by the numba kernels.

Forward and backward run the hand-derived kernels of ``sklearn_rnn._numba``
on the layer's own torch parameters (same layout), so a module can switch
between torch's layers and the kernels without changing its weights, and the
skorch training loop trains through either. CPU tensors only.
"""

import torch

from .export import WEIGHT_NAMES


class NumbaLayerFunction(torch.autograd.Function):
    """``output (B, T, H), *final_state = layer(x (B, T, F), *initial_state)`` over a padded batch.

    Without an initial state it starts from zeros. The final state is each
    sequence's state after its own last step; gradients flow to the initial
    state and from the final state (truncated BPTT carries it between chunks).
    """

    @staticmethod
    def forward(ctx, cell, x, lengths, weight_ih, weight_hh, bias_ih, bias_hh, *state):
        from .._numba import forward

        if x.device.type != "cpu":
            raise ValueError(
                f"The numba backend runs on the CPU, but the data is on {x.device}; "
                "use backend='torch' on a GPU."
            )
        ctx.set_materialize_grads(False)
        weights = tuple(w.detach().numpy() for w in (weight_ih, weight_hh, bias_ih, bias_hh))
        result = forward(
            cell,
            x.detach().numpy(),
            lengths.numpy(),
            weights,
            state=tuple(_numpy(s) for s in state) if state else None,
            save=any(ctx.needs_input_grad),
        )
        ctx.numba_saved = result.saved
        ctx.n_state = len(state)
        # (B, T, H), zero at padded steps; then each (B, H) final-state array
        return (torch.from_numpy(result.output), *(torch.from_numpy(s) for s in result.state))

    @staticmethod
    def backward(ctx, grad_output, *grad_final):
        from .._numba import backward

        grads = backward(
            ctx.numba_saved,
            None if grad_output is None else grad_output.detach().contiguous().numpy(),
            tuple(None if g is None else _numpy(g) for g in grad_final),
        )
        return (
            None,
            torch.from_numpy(grads.x),
            None,
            torch.from_numpy(grads.weight_ih),
            torch.from_numpy(grads.weight_hh),
            torch.from_numpy(grads.bias_ih),
            torch.from_numpy(grads.bias_hh),
            *(torch.from_numpy(g) for g in grads.state[: ctx.n_state]),
        )


def numba_layer(layer, cell, x, lengths, state=None):
    """Run the single-layer torch ``layer`` (nn.RNN/LSTM/GRU) through the kernels.

    ``state`` is the initial state as a tuple of ``(B, H)`` tensors (``(h,)``
    or ``(h, c)``), or None for zeros. Returns the outputs ``(B, T, H)`` and
    the final state, a tuple of the same form.
    """
    weights = [getattr(layer, f"{name}_l0") for name in WEIGHT_NAMES]
    leaves = () if state is None else tuple(s.contiguous() for s in state)
    result = NumbaLayerFunction.apply(cell, x.contiguous(), lengths, *weights, *leaves)
    return result[0], tuple(result[1:])


def _numpy(tensor):
    return tensor.detach().contiguous().numpy()


def _check_kernel_arrays(cell, what, arrays, shapes):
    """Raise ``ValueError`` unless the kernels' ``arrays`` have the expected ``shapes``."""
    got = [getattr(a, "shape", type(a).__name__) for a in arrays]
    if len(arrays) != len(shapes) or any(
        not hasattr(a, "shape") or tuple(a.shape) != shape for a, shape in zip(arrays, shapes)
    ):
        raise ValueError(
            f"{type(cell).__qualname__}.numba_kernels.{what} returned arrays of shapes {got}, "
            f"expected {[tuple(s) for s in shapes]}. See docs/cell_protocol.md."
        )


class KernelLayerFunction(torch.autograd.Function):
    """``outputs (B, T, H), *final_state = cell.numba_kernels`` over a padded batch.

    The cell's kernels run inside the host's kernel runtime (one BLAS thread,
    denormals flushed on x86), as the built-in kernels do; their results are
    checked for shape so that a broken kernel is reported, not propagated.
    """

    @staticmethod
    def forward(ctx, cell, kernels, hidden_size, n_state, x, lengths, *leaves_and_params):
        from .._numba.runtime import kernel_runtime

        if x.device.type != "cpu":
            raise ValueError(
                f"The numba backend runs on the CPU, but the data is on {x.device}; "
                "use backend='torch' on a GPU."
            )
        state, params = leaves_and_params[:n_state], leaves_and_params[n_state:]
        batch, n_steps = x.shape[:2]
        with kernel_runtime():
            outputs, final, saved = kernels.forward(
                _numpy(x),
                lengths.numpy(),
                tuple(_numpy(p) for p in params),
                tuple(_numpy(s) for s in state),
                any(ctx.needs_input_grad),
            )
        final = tuple(final)
        _check_kernel_arrays(
            cell, "forward", [outputs, *final],
            [(batch, n_steps, hidden_size)] + [tuple(s.shape) for s in state],
        )
        ctx.cell, ctx.kernels, ctx.numba_saved = cell, kernels, saved
        ctx.shapes = (tuple(x.shape), [tuple(s.shape) for s in state], [tuple(p.shape) for p in params])
        return (torch.from_numpy(outputs), *(torch.from_numpy(s) for s in final))

    @staticmethod
    def backward(ctx, grad_outputs, *grad_final):
        from .._numba.runtime import kernel_runtime

        x_shape, state_shapes, param_shapes = ctx.shapes
        with kernel_runtime():
            grad_x, grad_params, grad_state = ctx.kernels.backward(
                ctx.numba_saved,
                _numpy(grad_outputs),
                tuple(None if g is None else _numpy(g) for g in grad_final),
            )
        grad_params, grad_state = tuple(grad_params), tuple(grad_state)
        _check_kernel_arrays(
            ctx.cell, "backward", [grad_x, *grad_state, *grad_params],
            [x_shape, *state_shapes, *param_shapes],
        )
        return (
            None,
            None,
            None,
            None,
            torch.from_numpy(grad_x),
            None,
            *(torch.from_numpy(g) for g in grad_state),
            *(torch.from_numpy(g) for g in grad_params),
        )


def cell_kernels(cell):
    """The ``numba_kernels`` of a cell instance, or a ``ValueError`` saying it has none."""
    kernels = getattr(cell, "numba_kernels", None)
    if kernels is None:
        raise ValueError(
            f"backend='numba' needs numba kernels, and the cell {type(cell).__qualname__} has "
            "none (no numba_kernels attribute, see docs/cell_protocol.md). Use backend='torch' "
            "or backend='auto'."
        )
    return kernels


def kernel_layer(cell, x, lengths, state, hidden_size):
    """Outputs ``(B, T, H)`` of a protocol ``cell`` over ``x`` computed by its numba kernels,
    and the final state, in the structure of ``state``."""
    leaves = tuple(s.contiguous() for s in (state if isinstance(state, tuple) else (state,)))
    params = [p for _, p in cell.named_parameters()]
    result = KernelLayerFunction.apply(
        cell, cell_kernels(cell), hidden_size, len(leaves), x.contiguous(), lengths, *leaves, *params
    )
    final = tuple(result[1:])
    return result[0], final if isinstance(state, tuple) else final[0]
