"""The behavioural checks of the cell protocol (docs/cell_protocol.md).

Each check takes a cell class, builds small cells and runs them the way the
host does (through :mod:`sklearn_rnn._torch.cell_layer` and the numba bridge),
and raises :class:`CellCheckError` (an ``AssertionError``) that names the
rule, what happened and what to fix. Inputs are tiny and seeded, so every
check is deterministic and takes milliseconds, except the gradient check
(finite differences in float64) and the estimator check (a two-epoch fit).
"""

import copy
import io
import pickle
import warnings

import numpy as np
import torch
from torch.func import functional_call

from .._torch.cell_layer import checked_step, initial_state, step_loop
from .._torch.cells import as_leaves

# Sizes of the probe cells. input_size != hidden_size, so that a cell mixing
# them up fails; a second, degenerate size pair catches hard-coded sizes.
INPUT_SIZE, HIDDEN_SIZE = 3, 4
SIZES = [(INPUT_SIZE, HIDDEN_SIZE), (1, 1)]
# A ragged batch: lengths in no particular order, padded to T = 5.
LENGTHS = [5, 2, 4]
N_STEPS = max(LENGTHS)
PROTOCOL = "See docs/cell_protocol.md."


class CellCheckError(AssertionError):
    """A cell broke a rule of the cell protocol; the message says which and what to fix."""


def _fail(cell_cls, rule, detail, fix):
    raise CellCheckError(f"{cell_cls.__qualname__}: {rule}\n  {detail}\n  Fix: {fix} {PROTOCOL}")


def _build(cell_cls, input_size=INPUT_SIZE, hidden_size=HIDDEN_SIZE, dtype=torch.float64, seed=0):
    """A seeded cell in eval mode (the checks compare numbers; dropout would not repeat)."""
    torch.manual_seed(seed)
    try:
        cell = cell_cls(input_size, hidden_size)
    except Exception as exc:
        _fail(
            cell_cls,
            "the host builds each cell as cell_cls(input_size, hidden_size).",
            f"{cell_cls.__qualname__}({input_size}, {hidden_size}) raised "
            f"{type(exc).__name__}: {exc}",
            "accept (input_size, hidden_size) as the first two arguments and give every other "
            "argument a default.",
        )
    return cell.to(dtype).eval()


def _batch(dtype=torch.float64, lengths=LENGTHS, input_size=INPUT_SIZE, seed=1):
    """A zero-padded ragged batch ``x`` (B, T, F) and its ``lengths`` (B,)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths, dtype=torch.int64)
    x = torch.randn(len(lengths), int(lengths.max()), input_size, generator=generator, dtype=dtype)
    x[torch.arange(x.shape[1]) >= lengths.unsqueeze(1)] = 0.0
    return x, lengths


def _random_state(cell, batch_size, dtype=torch.float64, seed=2):
    """A state with the structure of the cell's initial state and random values."""
    generator = torch.Generator().manual_seed(seed)
    zeros = initial_state(cell, batch_size, cell_hidden_size(cell), torch.device("cpu"), dtype)
    return _map_state(
        lambda leaf: 0.5 * torch.randn(leaf.shape, generator=generator, dtype=leaf.dtype), zeros
    )


def cell_hidden_size(cell):
    """The hidden size a probe cell was built with (stored by the checks)."""
    return getattr(cell, "_check_hidden_size", None) or HIDDEN_SIZE


def _probe(cell_cls, input_size=INPUT_SIZE, hidden_size=HIDDEN_SIZE, **kwargs):
    cell = _build(cell_cls, input_size, hidden_size, **kwargs)
    object.__setattr__(cell, "_check_hidden_size", hidden_size)
    return cell


def _close(a, b, rtol, atol):
    return a.shape == b.shape and torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False)


def _max_diff(a, b):
    if a.shape != b.shape:
        return f"shapes {tuple(a.shape)} vs {tuple(b.shape)}"
    return f"max |difference| {float((a - b).abs().max()):.3g}"


def _run_step(cell_cls, cell, x_t, state, hidden_size):
    """``checked_step``, with the host's protocol errors turned into check failures."""
    try:
        return checked_step(cell, x_t, state, hidden_size)
    except (TypeError, ValueError) as exc:
        _fail(
            cell_cls,
            "forward(x_t, state) must return (h_t, new_state), h_t of shape (batch, "
            "hidden_size), new_state of the structure and shapes of state.",
            str(exc),
            "return the pair (h_t, new_state) from forward.",
        )


def _map_state(function, state):
    """``function`` applied to each leaf, in the state's structure (tensor or tuple)."""
    leaves = tuple(function(leaf) for leaf in as_leaves(state))
    return leaves if isinstance(state, tuple) else leaves[0]


def _copy_state(state):
    return _map_state(torch.clone, state)


def _row_state(state, row):
    return _map_state(lambda leaf: leaf[row : row + 1], state)


def _same_structure(old, new):
    return isinstance(old, tuple) == isinstance(new, tuple) and len(as_leaves(old)) == len(
        as_leaves(new)
    )


# --------------------------------------------------------------------------
# The checks. Each takes the cell class; the order is the order of the
# protocol's rules, simplest first.


def check_construction(cell_cls):
    """The class follows the protocol's structure and builds with learnable parameters."""
    from ..cells._protocol import check_cell_class

    try:
        check_cell_class(cell_cls)
    except TypeError as exc:
        _fail(cell_cls, "a cell is a torch.nn.Module subclass with forward(x_t, state).", str(exc),
              "subclass torch.nn.Module and define __init__(input_size, hidden_size) and "
              "forward(x_t, state).")
    for input_size, hidden_size in SIZES:
        cell = _build(cell_cls, input_size, hidden_size)
        if not isinstance(cell, torch.nn.Module):
            _fail(cell_cls, "a cell is a torch.nn.Module.", f"built a {type(cell).__name__}",
                  "subclass torch.nn.Module.")
        if not list(cell.parameters()):
            _fail(
                cell_cls,
                "a cell has learnable weights, registered as nn.Parameter.",
                f"{cell_cls.__qualname__}({input_size}, {hidden_size}) has no parameters, so "
                "the estimators cannot train it (or moving it to a device/dtype would miss "
                "plain tensor attributes).",
                "store weights as torch.nn.Parameter (or in submodules such as nn.Linear).",
            )


def check_init_state(cell_cls):
    """The initial state: batch on the first axis, the dtype and device asked for."""
    for dtype in (torch.float32, torch.float64):
        cell = _probe(cell_cls, dtype=dtype)
        for batch_size in (1, 3):
            try:
                state = initial_state(cell, batch_size, HIDDEN_SIZE, torch.device("cpu"), dtype)
            except (TypeError, ValueError) as exc:
                _fail(cell_cls, "init_state(batch_size, device, dtype) returns a tensor or a "
                      "tuple of tensors with the batch on the first axis.", str(exc),
                      "return e.g. torch.zeros(batch_size, hidden_size, device=device, "
                      "dtype=dtype).")
            for leaf in as_leaves(state):
                if leaf.dtype != dtype or leaf.device.type != "cpu":
                    _fail(
                        cell_cls,
                        "init_state(batch_size, device, dtype) creates its tensors with the "
                        "device and dtype it is given.",
                        f"asked for {dtype} on cpu, got a tensor of {leaf.dtype} on "
                        f"{leaf.device}",
                        "pass device=device, dtype=dtype to the tensor constructors.",
                    )
                if leaf.requires_grad:
                    _fail(cell_cls, "the initial state is a constant, not a parameter.",
                          "a tensor of init_state requires grad",
                          "build it with torch.zeros/torch.full, not from parameters (learned "
                          "initial states are not part of the protocol).")


def check_step_shapes(cell_cls):
    """``forward`` returns ``(h_t, new_state)`` of the right shapes and dtype, every size."""
    for dtype in (torch.float32, torch.float64):
        for input_size, hidden_size in SIZES:
            cell = _probe(cell_cls, input_size, hidden_size, dtype=dtype)
            for batch_size in (1, 3):
                x_t = torch.randn(batch_size, input_size, dtype=dtype)
                state = initial_state(cell, batch_size, hidden_size, x_t.device, dtype)
                h_t, new_state = _run_step(cell_cls, cell, x_t, state, hidden_size)
                for name, tensor in [("h_t", h_t)] + [
                    (f"new_state leaf {i}", leaf) for i, leaf in enumerate(as_leaves(new_state))
                ]:
                    if tensor.dtype != dtype:
                        _fail(
                            cell_cls,
                            "a step keeps the dtype of its input and state.",
                            f"with {dtype} inputs and weights, {name} came back as {tensor.dtype}",
                            "do not hard-code a dtype inside forward.",
                        )
                if not _same_structure(state, new_state):
                    _fail(cell_cls, "the new state has the structure of the old one.",
                          f"state {type(state).__name__} -> {type(new_state).__name__}",
                          "return a tensor for a tensor state, a tuple of as many tensors for a "
                          "tuple.")


def check_state_not_modified(cell_cls):
    """``forward`` must not write into its state or input (masking keeps the old state)."""
    cell = _probe(cell_cls)
    x_t = torch.randn(3, INPUT_SIZE, dtype=torch.float64)
    state = _random_state(cell, 3)
    before = [leaf.clone() for leaf in as_leaves(state)]
    x_before = x_t.clone()
    with torch.no_grad():
        _run_step(cell_cls, cell, x_t, state, HIDDEN_SIZE)
    for i, (old, leaf) in enumerate(zip(before, as_leaves(state))):
        if not torch.equal(old, leaf):
            _fail(
                cell_cls,
                "forward(x_t, state) does not modify state in place.",
                f"state leaf {i} changed during the call: the host keeps the old state of "
                "finished sequences (torch.where(mask, new, old)) and needs it intact",
                "compute the new state into new tensors (no +=, .copy_(), out=).",
            )
    if not torch.equal(x_before, x_t):
        _fail(cell_cls, "forward(x_t, state) does not modify x_t in place.",
              "x_t changed during the call", "compute into new tensors.")


def check_rows_independent(cell_cls):
    """Each row of a batch depends on that row alone (no batch statistics)."""
    cell = _probe(cell_cls)
    x_t = torch.randn(3, INPUT_SIZE, dtype=torch.float64)
    state = _random_state(cell, 3)
    with torch.no_grad():
        h_all, new_all = _run_step(cell_cls, cell, x_t, state, HIDDEN_SIZE)
        for row in range(3):
            h_row, new_row = _run_step(
                cell_cls, cell, x_t[row : row + 1], _row_state(state, row), HIDDEN_SIZE
            )
            pairs = [(h_all[row : row + 1], h_row)] + [
                (a[row : row + 1], b) for a, b in zip(as_leaves(new_all), as_leaves(new_row))
            ]
            for a, b in pairs:
                if not _close(a, b, rtol=1e-10, atol=1e-12):
                    _fail(
                        cell_cls,
                        "each row of the batch is computed from that row alone.",
                        f"row {row} computed alone differs from row {row} in a batch of 3 "
                        f"({_max_diff(a, b)}); ragged batches and masking rely on it",
                        "do not use statistics over the batch axis (batch norm, mean over "
                        "dim 0); normalise over features instead (layer norm).",
                    )


def check_deterministic(cell_cls):
    """In eval mode the same weights and inputs give the same outputs, twice."""
    cell = _probe(cell_cls)
    x, lengths = _batch()
    state = _random_state(cell, len(lengths))
    with torch.no_grad():  # each run on its own copies: an in-place write is another check's
        first, second = (
            step_loop(cell, x.clone(), lengths, _copy_state(state), HIDDEN_SIZE) for _ in range(2)
        )
    for a, b in zip([first[0], *as_leaves(first[1])], [second[0], *as_leaves(second[1])]):
        if not torch.equal(a, b):
            _fail(
                cell_cls,
                "in eval() mode a cell is deterministic.",
                f"two identical calls gave different outputs ({_max_diff(a, b)})",
                "draw randomness (dropout, noise) only when self.training is True, e.g. "
                "F.dropout(x, p, training=self.training).",
            )


def check_masking(cell_cls):
    """Padding never changes a result: a sequence in a ragged batch equals the sequence alone."""
    cell = _probe(cell_cls)
    x, lengths = _batch()
    state = _random_state(cell, len(lengths))
    noisy = x.clone()
    noisy[torch.arange(x.shape[1]) >= lengths.unsqueeze(1)] = 7.0  # other padding values
    with torch.no_grad():
        outputs, final = step_loop(cell, x, lengths, state, HIDDEN_SIZE)
        noisy_outputs, noisy_final = step_loop(cell, noisy, lengths, state, HIDDEN_SIZE)
        for row, length in enumerate(lengths.tolist()):
            alone, alone_final = step_loop(
                cell, x[row : row + 1, :length], lengths[row : row + 1], _row_state(state, row),
                HIDDEN_SIZE,
            )
            pairs = [(outputs[row : row + 1, :length], alone)] + [
                (a[row : row + 1], b) for a, b in zip(as_leaves(final), as_leaves(alone_final))
            ]
            for a, b in pairs:
                if not _close(a, b, rtol=1e-10, atol=1e-12):
                    _fail(
                        cell_cls,
                        "padding never changes a result.",
                        f"sequence {row} (length {length}) run alone differs from the same "
                        f"sequence in a padded batch ({_max_diff(a, b)})",
                        "compute each row from that row's input and state only.",
                    )
    for a, b in zip([outputs, *as_leaves(final)], [noisy_outputs, *as_leaves(noisy_final)]):
        if not torch.equal(a, b):
            _fail(cell_cls, "padding values never change a result.",
                  f"changing the padded values changed a result ({_max_diff(a, b)})",
                  "compute each row from that row's input and state only.")


class _Layer(torch.nn.Module):
    """A cell run over a padded batch by ``run(cell, x, lengths, state)``.

    Wrapping the cell lets :func:`torch.func.functional_call` swap its
    parameters for the tensors that the gradient check perturbs.
    """

    def __init__(self, cell, run):
        super().__init__()
        self.cell = cell
        self.run = run

    def forward(self, x, lengths, state):
        outputs, final = self.run(self.cell, x, lengths, state)
        return (outputs, *as_leaves(final))  # (B, T, H), then each final-state leaf


def _loop(cell, x, lengths, state):
    return step_loop(cell, x, lengths, state, cell_hidden_size(cell))


def _fused(cell, x, lengths, state):
    return cell.forward_sequence(x, lengths, state)


def _kernels(cell, x, lengths, state):
    """The layer on the cell's numba kernels, through the host's autograd bridge."""
    from .._torch.numba_bridge import KernelLayerFunction, cell_kernels

    leaves = tuple(leaf.contiguous() for leaf in as_leaves(state))
    params = [p for _, p in cell.named_parameters()]
    result = KernelLayerFunction.apply(
        cell, cell_kernels(cell), cell_hidden_size(cell), len(leaves), x.contiguous(), lengths,
        *leaves, *params,
    )
    final = tuple(result[1:])
    return result[0], final if isinstance(state, tuple) else final[0]


def _inputs(cell, dtype):
    """The leaves a gradient flows to: ``x``, each initial-state leaf, each parameter."""
    x, lengths = _batch(dtype)
    state = _random_state(cell, len(lengths), dtype)
    return x, lengths, state


def _gradients(cell, run, x, lengths, state):
    """Outputs, and the gradients of a fixed random projection of them w.r.t. every input.

    Returns ``(results, grads)``: ``results`` the outputs and final-state
    leaves; ``grads`` a dict ``name -> gradient`` for ``x``, ``state[i]`` and
    every parameter (``None`` where no gradient reached it).
    """
    x = x.detach().clone().requires_grad_(True)
    leaves = [leaf.detach().clone().requires_grad_(True) for leaf in as_leaves(state)]
    state = tuple(leaves) if isinstance(state, tuple) else leaves[0]
    cell.zero_grad(set_to_none=True)
    results = _Layer(cell, run)(x, lengths, state)
    generator = torch.Generator().manual_seed(3)
    loss = sum(
        (r * torch.randn(r.shape, generator=generator, dtype=r.dtype)).sum() for r in results
    )
    loss.backward()
    grads = {"x": x.grad}
    grads.update({f"state[{i}]": leaf.grad for i, leaf in enumerate(leaves)})
    grads.update({name: p.grad for name, p in cell.named_parameters()})
    return [r.detach() for r in results], grads


def _compare_runs(cell_cls, what, fix, cell, run, dtype, rtol, atol, x=None, lengths=None,
                  state=None):
    """Outputs, final state and every gradient of ``run`` equal those of the step loop."""
    if x is None:
        x, lengths, state = _inputs(cell, dtype)
    expected, expected_grads = _gradients(cell, _loop, x, lengths, state)
    try:
        got, got_grads = _gradients(cell, run, x, lengths, state)
    except CellCheckError:
        raise
    except Exception as exc:
        _fail(cell_cls, f"{what} runs on a padded batch with lengths.",
              f"it raised {type(exc).__name__}: {exc}", fix)
    names = ["outputs"] + [f"final state[{i}]" for i in range(len(expected) - 1)]
    if len(got) != len(expected):
        _fail(cell_cls, f"{what} returns (outputs, final_state) like the step loop.",
              f"got {len(got) - 1} final-state leaves, expected {len(expected) - 1}", fix)
    padded = torch.arange(x.shape[1]) >= lengths.unsqueeze(1)  # (B, T)
    if got[0].shape == expected[0].shape and bool(got[0][padded].ne(0).any()):
        _fail(cell_cls, f"{what} returns zeros at padded steps.",
              "an output at a padded step is not zero", fix)
    for name, a, b in zip(names, got, expected):
        if not _close(a, b, rtol, atol):
            _fail(cell_cls, f"{what} equals the masked step loop ({dtype}).",
                  f"{name}: {_max_diff(a, b)}", fix)
    for name, b in expected_grads.items():
        a = got_grads[name]
        if b is None:
            continue
        if a is None or not _close(a, b, rtol, atol):
            detail = "no gradient" if a is None else _max_diff(a, b)
            _fail(cell_cls, f"the gradients of {what} equal autograd's through the step loop "
                  f"({dtype}).", f"gradient w.r.t. {name}: {detail}", fix)


def check_gradients(cell_cls):
    """Autograd through the step loop agrees with finite differences (float64); every weight learns."""
    cell = _probe(cell_cls)
    x, lengths, state = _inputs(cell, torch.float64)
    names = [name for name, _ in cell.named_parameters()]
    layer = _Layer(cell, _loop)
    leaves = [leaf.detach().clone().requires_grad_(True) for leaf in as_leaves(state)]
    params = [p.detach().clone().requires_grad_(True) for _, p in cell.named_parameters()]

    def outputs(x, *tensors):
        leaves, params = tensors[: len(as_leaves(state))], tensors[len(as_leaves(state)) :]
        initial = tuple(leaves) if isinstance(state, tuple) else leaves[0]
        replaced = {f"cell.{name}": p for name, p in zip(names, params)}
        return functional_call(layer, replaced, (x, lengths, initial))

    try:
        torch.autograd.gradcheck(
            outputs, (x.requires_grad_(True), *leaves, *params), eps=1e-6, atol=1e-5, rtol=1e-3
        )
    except torch.autograd.gradcheck.GradcheckError as exc:
        _fail(
            cell_cls,
            "autograd's gradients agree with finite differences (float64).",
            str(exc).strip().splitlines()[0],
            "if forward uses a custom torch.autograd.Function, its backward is wrong; avoid "
            "non-differentiable operations (argmax, round, .detach(), in-place writes to "
            "tensors autograd needs).",
        )
    _, grads = _gradients(cell, _loop, x, lengths, state)
    unused = [name for name in names if grads[name] is None]
    if unused:
        _fail(cell_cls, "every parameter influences the outputs.",
              f"no gradient reaches {', '.join(unused)}",
              "remove parameters forward does not use, or use them (a weight that never gets a "
              "gradient wastes memory and confuses weight decay).")
    if grads["x"] is not None:
        padded = torch.arange(x.shape[1]) >= lengths.unsqueeze(1)  # (B, T)
        if bool(grads["x"][padded].ne(0).any()):
            _fail(cell_cls, "padding never changes a result, or a gradient.",
                  "a gradient reaches a padded input step",
                  "compute each row from that row's input and state only.")


def check_forward_sequence(cell_cls):
    """The fused ``forward_sequence`` equals the masked step loop: outputs, final state, gradients."""
    fix = ("make forward_sequence(x, lengths, state) return (outputs (B, T, H) with zeros at "
           "padded steps, each sequence's state after its own last step), as the step loop does.")
    for dtype, rtol, atol in [(torch.float64, 1e-7, 1e-9), (torch.float32, 1e-4, 1e-5)]:
        cell = _probe(cell_cls, dtype=dtype)
        _compare_runs(cell_cls, "forward_sequence", fix, cell, _fused, dtype, rtol, atol)


def check_numba_kernels(cell_cls):
    """``numba_kernels`` forward, backward and step equal the torch step loop (float64, float32)."""
    fix = ("make numba_kernels.forward/backward compute what forward computes step by step "
           "(params in the order of named_parameters(), states as tuples of arrays).")
    for dtype, rtol, atol in [(torch.float64, 1e-7, 1e-9), (torch.float32, 1e-4, 1e-5)]:
        cell = _probe(cell_cls, dtype=dtype)
        _compare_runs(cell_cls, "numba_kernels", fix, cell, _kernels, dtype, rtol, atol)
        _check_kernel_step(cell_cls, cell, dtype, rtol, atol)


def _check_kernel_step(cell_cls, cell, dtype, rtol, atol):
    from .._numba.runtime import kernel_runtime

    x, lengths, state = _inputs(cell, dtype)
    x_t = x[:, 0]
    with torch.no_grad():
        h_t, new_state = _run_step(cell_cls, cell, x_t, state, HIDDEN_SIZE)
    params = tuple(p.detach().numpy() for _, p in cell.named_parameters())
    try:
        with kernel_runtime():
            got_h, got_state = cell.numba_kernels.step(
                x_t.numpy().copy(), tuple(leaf.numpy().copy() for leaf in as_leaves(state)), params
            )
        got = [torch.as_tensor(np.asarray(got_h))] + [
            torch.as_tensor(np.asarray(leaf)) for leaf in got_state
        ]
    except Exception as exc:
        _fail(cell_cls, "numba_kernels.step(x_t, state, params) returns (h_t, new_state).",
              f"it raised {type(exc).__name__}: {exc}",
              "take NumPy arrays, the state as a tuple, and return (h_t, tuple of new leaves).")
    expected = [h_t, *as_leaves(new_state)]
    if len(got) != len(expected):
        _fail(cell_cls, "numba_kernels.step returns (h_t, new_state).",
              f"got {len(got) - 1} state leaves, expected {len(expected) - 1}",
              "return the new state as a tuple with one array per state leaf.")
    for name, a, b in zip(["h_t"] + [f"new state[{i}]" for i in range(len(got) - 1)], got,
                          expected):
        if not _close(a, b, rtol, atol):
            _fail(cell_cls, f"numba_kernels.step equals forward ({dtype}).",
                  f"{name}: {_max_diff(a, b)}",
                  "make step compute one step of forward for every row, without masking.")


def _outputs(cell, x, lengths, state):
    with torch.no_grad():
        outputs, final = step_loop(cell, x, lengths, state, cell_hidden_size(cell))
    return [outputs, *as_leaves(final)]


def check_pickle(cell_cls):
    """A cell survives pickle, deepcopy and a state_dict round trip with the same outputs."""
    cell = _probe(cell_cls)
    x, lengths, state = _inputs(cell, torch.float64)
    expected = _outputs(cell, x, lengths, state)
    copies = []
    try:
        copies.append(("pickle", pickle.loads(pickle.dumps(cell))))
        copies.append(("copy.deepcopy", copy.deepcopy(cell)))
        buffer = io.BytesIO()
        torch.save(cell, buffer)
        buffer.seek(0)
        copies.append(("torch.save/torch.load", torch.load(buffer, weights_only=False)))
    except Exception as exc:
        _fail(cell_cls, "a cell can be pickled (fitted estimators are pickled with it).",
              f"{type(exc).__name__}: {exc}",
              "define the class at module level and keep only picklable attributes (no "
              "lambdas, local functions, open files or locks).")
    fresh = _probe(cell_cls, seed=1)
    try:
        fresh.load_state_dict(cell.state_dict())
    except Exception as exc:
        _fail(cell_cls, "a cell's state_dict loads into a new cell of the same sizes.",
              f"{type(exc).__name__}: {exc}",
              "register weights as parameters or buffers with shapes fixed by the sizes.")
    copies.append(("load_state_dict into a new cell", fresh))
    for how, copied in copies:
        for a, b in zip(_outputs(copied, x, lengths, state), expected):
            if not torch.equal(a, b):
                _fail(cell_cls, f"a cell computes the same after {how}.", _max_diff(a, b),
                      "keep every weight in parameters or buffers (not plain tensor "
                      "attributes), and every setting in plain attributes.")


def check_in_estimator(cell_cls):
    """Two epochs of a stacked bidirectional classifier with dropout, predictions and streaming."""
    from sklearn.exceptions import ConvergenceWarning

    from .. import RecurrentClassifier, RecurrentRegressor

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)) for n in (3, 6, 4, 8, 2, 5, 7, 3)]
    y = np.array([0, 1] * 4)
    settings = dict(cell=cell_cls, hidden_size=3, max_iter=2, batch_size=4, random_state=0,
                    backend="torch")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # two epochs: expected
            stacked = RecurrentClassifier(num_layers=2, bidirectional=True, dropout=0.2, **settings)
            proba = stacked.fit(X, y).predict_proba(X)
            regressor = RecurrentRegressor(**settings).fit(X, np.linspace(0, 1, len(X)))
            state = regressor.init_state(n_streams=1)
            for x_t in X[1]:
                streamed, state = regressor.predict_step(x_t[None, :], state)
            whole = regressor.predict(X[1:2])
            restored = pickle.loads(pickle.dumps(stacked)).predict_proba(X)
    except Exception as exc:
        _fail(cell_cls, "a cell works in every estimator.",
              f"fitting or predicting raised {type(exc).__name__}: {exc}",
              "run the other checks first; this one fails when they pass only if the cell "
              "misbehaves in train() mode or stacked (input_size = hidden_size or 2*hidden_size).")
    if proba.shape != (len(X), 2) or not np.all(np.isfinite(proba)):
        _fail(cell_cls, "a cell works in every estimator.",
              f"predict_proba gave shape {proba.shape} with finite values: "
              f"{bool(np.all(np.isfinite(proba)))}",
              "keep the outputs finite (bounded nonlinearities, sensible initialisation).")
    if not np.allclose(streamed, whole, rtol=1e-5, atol=1e-6):
        _fail(cell_cls, "streaming (predict_step) equals predict on the whole sequence.",
              f"{streamed} vs {whole}", "make forward(x_t, state) a pure function of its inputs.")
    if not np.array_equal(restored, proba):
        _fail(cell_cls, "a pickled estimator predicts as the original.",
              "predict_proba differs after pickle.loads(pickle.dumps(est))",
              "keep every weight in parameters or buffers.")
