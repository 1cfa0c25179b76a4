"""The torch cells: their equations (tests/naive.py), the protocol's rules, initialisation."""

import copy
import functools
import math
import pickle

import naive  # tests/naive.py (pytest puts tests/ on sys.path)
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_rnn_feedback import DirectFeedbackCell, FullFeedbackCell, IndirectFeedbackCell

CELLS = [DirectFeedbackCell, IndirectFeedbackCell, FullFeedbackCell]


def _initial_state(cell, batch, dtype=torch.float64):
    if hasattr(cell, "init_state"):
        return cell.init_state(batch, torch.device("cpu"), dtype)
    return torch.zeros(batch, cell.hidden_size, dtype=dtype)


def _to_numpy(state):
    if isinstance(state, tuple):
        return tuple(s.detach().numpy() for s in state)
    return state.detach().numpy()


def _reference_step(cell):
    """The NumPy step of ``cell``, with its weights."""
    p = {name: w.detach().numpy() for name, w in cell.named_parameters()}
    if isinstance(cell, DirectFeedbackCell):
        return functools.partial(naive.direct_step, p=p, nonlinearity=cell.nonlinearity)
    if isinstance(cell, IndirectFeedbackCell):
        return functools.partial(naive.indirect_step, p=p)
    return functools.partial(naive.full_step, p=p)


def _torch_loop(cell, x, lengths, state):
    """The host's masked step loop: finished sequences keep their state, outputs zero."""
    outputs = []
    for t in range(x.shape[1]):
        h, new = cell(x[:, t], state)
        running = (t < lengths)[:, None]
        if isinstance(state, tuple):
            state = tuple(torch.where(running, n, o) for n, o in zip(new, state))
        else:
            state = torch.where(running, new, state)
        outputs.append(torch.where(running, h, torch.zeros_like(h)))
    return torch.stack(outputs, dim=1), state


def _make(cell_cls, input_size, hidden, nonlinearity="tanh"):
    kwargs = {"nonlinearity": nonlinearity} if cell_cls is DirectFeedbackCell else {}
    return cell_cls(input_size, hidden, **kwargs).double()


@settings(max_examples=30, deadline=None)
@given(
    cell_cls=st.sampled_from(CELLS),
    nonlinearity=st.sampled_from(["tanh", "relu"]),
    lengths=st.lists(st.integers(1, 10), min_size=1, max_size=4),
    input_size=st.integers(1, 4),
    hidden=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_matches_numpy_reference(cell_cls, nonlinearity, lengths, input_size, hidden, seed):
    """Every cell's masked step loop equals its equations written in NumPy (tests/naive.py)."""
    torch.manual_seed(seed)
    cell = _make(cell_cls, input_size, hidden, nonlinearity)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(lengths), max(lengths), input_size))
    state = _initial_state(cell, len(lengths))
    if isinstance(state, tuple):
        state = tuple(torch.as_tensor(rng.normal(size=s.shape)) for s in state)
    else:
        state = torch.as_tensor(rng.normal(size=state.shape))
    lengths_t = torch.as_tensor(lengths)
    with torch.no_grad():
        outputs, final = _torch_loop(cell, torch.as_tensor(x), lengths_t, state)
    expected, expected_final = naive.run(_reference_step(cell), x, lengths, _to_numpy(state))
    np.testing.assert_allclose(outputs.numpy(), expected, rtol=1e-12, atol=1e-12)
    final, expected_final = _to_numpy(final), expected_final
    if not isinstance(final, tuple):
        final, expected_final = (final,), (expected_final,)
    for got, want in zip(final, expected_final):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell_cls", CELLS)
def test_protocol_shapes_and_state_structure(cell_cls):
    """forward returns (B, H) and a new state of the old state's structure, shapes and dtype."""
    cell = cell_cls(3, 5)
    state = _initial_state(cell, 2, torch.float32)
    h, new = cell(torch.randn(2, 3), state)
    assert h.shape == (2, 5) and h.dtype == torch.float32
    if isinstance(state, tuple):
        assert isinstance(new, tuple) and len(new) == len(state)
        assert all(n.shape == s.shape and n.dtype == s.dtype for n, s in zip(new, state))
    else:
        assert isinstance(new, torch.Tensor) and new.shape == state.shape


def test_state_structures():
    """direct and indirect keep a (B, H) tensor (no init_state); full keeps (lower, upper)."""
    assert not hasattr(DirectFeedbackCell(2, 3), "init_state")
    assert not hasattr(IndirectFeedbackCell(2, 3), "init_state")
    state = FullFeedbackCell(2, 3).init_state(4, torch.device("cpu"), torch.float64)
    assert isinstance(state, tuple) and [s.shape for s in state] == [(4, 3), (4, 3)]
    assert all(s.dtype == torch.float64 and not s.any() for s in state)


@pytest.mark.parametrize(
    "cell_cls, expected",
    [
        (DirectFeedbackCell, [("weight_ih", (5, 3)), ("weight_hh", (5,)), ("bias", (5,))]),
        (
            IndirectFeedbackCell,
            [
                ("weight_ih", (5, 3)),
                ("weight_lu", (5, 5)),
                ("weight_ul", (5, 5)),
                ("bias_lower", (5,)),
                ("bias_upper", (5,)),
            ],
        ),
        (
            FullFeedbackCell,
            [
                ("weight_ih", (5, 3)),
                ("weight_lu", (5, 5)),
                ("weight_hh", (10, 10)),
                ("bias_lower", (5,)),
                ("bias_upper", (5,)),
            ],
        ),
    ],
)
def test_parameters(cell_cls, expected):
    """Parameter names, order and shapes are as documented (the numba params' order)."""
    cell = cell_cls(3, 5)
    assert [(n, tuple(p.shape)) for n, p in cell.named_parameters()] == expected
    assert all(isinstance(p, torch.nn.Parameter) for p in cell.parameters())


@pytest.mark.parametrize("cell_cls", CELLS)
def test_reset_parameters_ranges(cell_cls):
    """Weights in +-1/sqrt(H); the direct cell's u in [0, recurrent_max]; reset redraws them all."""
    torch.manual_seed(0)
    hidden = 16
    cell = cell_cls(7, hidden)
    bound = 1 / math.sqrt(hidden)
    for name, p in cell.named_parameters():
        if cell_cls is DirectFeedbackCell and name == "weight_hh":
            assert 0 <= p.min() and p.max() <= 1.0 and p.max() > 0.5
        else:
            assert p.abs().max() <= bound and p.abs().max() > bound / 2
    before = copy.deepcopy(cell.state_dict())
    cell.reset_parameters()
    assert all(not torch.equal(before[n], p) for n, p in cell.named_parameters())


def test_direct_recurrent_max():
    """recurrent_max bounds the initial self-weights; invalid arguments are rejected."""
    u = DirectFeedbackCell(2, 50, recurrent_max=2 ** (1 / 100)).weight_hh
    assert 0 <= u.min() and u.max() <= 2 ** (1 / 100)
    with pytest.raises(ValueError, match="recurrent_max must be positive"):
        DirectFeedbackCell(2, 3, recurrent_max=0)
    with pytest.raises(ValueError, match="one of 'relu', 'tanh'; got 'sigmoid'"):
        DirectFeedbackCell(2, 3, nonlinearity="sigmoid")


def test_direct_is_diagonal():
    """Direct feedback: a unit's state does not move the other units' next state."""
    cell = DirectFeedbackCell(2, 4).double()
    x = torch.randn(1, 2, dtype=torch.float64)
    h = torch.randn(1, 4, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda s: cell(x, s)[0], h)[0, :, 0, :]
    off_diagonal = jacobian - torch.diag(torch.diagonal(jacobian))
    assert torch.all(off_diagonal == 0) and torch.all(torch.diagonal(jacobian) != 0)


def test_indirect_feedback_only_through_lower_level():
    """Indirect: the previous output reaches the new output only through the lower level."""
    cell = IndirectFeedbackCell(2, 3).double()
    x = torch.randn(1, 2, dtype=torch.float64)
    h = torch.randn(1, 3, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ul.zero_()  # cut the feedback: the state no longer matters
    assert torch.equal(cell(x, h)[0], cell(x, torch.zeros_like(h))[0])


def test_full_output_reads_the_current_input():
    """Full: the upper level reads l_t of the same step, so the output depends on x_t."""
    cell = FullFeedbackCell(2, 3).double()
    state = cell.init_state(1, torch.device("cpu"), torch.float64)
    x = torch.randn(1, 2, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(cell(x, state)[0].sum(), x)
    assert torch.all(grad != 0)


@pytest.mark.parametrize("cell_cls", CELLS)
def test_gradcheck(cell_cls):
    """The cells are differentiable: torch's gradcheck over two steps, float64."""
    torch.manual_seed(0)
    cell = cell_cls(3, 4).double()
    x = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    state = _initial_state(cell, 2)

    def two_steps(x, *params):
        s = state
        for t in range(2):
            h, s = torch.func.functional_call(cell, dict(zip(names, params)), (x[:, t], s))
        return h

    names = [n for n, _ in cell.named_parameters()]
    params = tuple(p.detach().requires_grad_() for p in cell.parameters())
    assert torch.autograd.gradcheck(two_steps, (x, *params))


@pytest.mark.parametrize("cell_cls", CELLS)
def test_rows_are_independent(cell_cls):
    """Each row is computed from that row alone (no batch statistics): padding cannot leak."""
    cell = cell_cls(3, 4).double().eval()
    x = torch.randn(3, 3, dtype=torch.float64)
    state = _initial_state(cell, 3)
    h_all, _ = cell(x, state)
    single = state[0:1] if not isinstance(state, tuple) else tuple(s[0:1] for s in state)
    h_one, _ = cell(x[0:1], single)
    torch.testing.assert_close(h_all[0:1], h_one, rtol=0, atol=1e-15)


@pytest.mark.parametrize("cell_cls", CELLS)
def test_pickle_and_deepcopy(cell_cls):
    """Cells pickle (plain attributes) and give the same outputs afterwards."""
    cell = cell_cls(3, 4)
    x = torch.randn(2, 3)
    state = _initial_state(cell, 2, torch.float32)
    for clone in (pickle.loads(pickle.dumps(cell)), copy.deepcopy(cell)):
        torch.testing.assert_close(clone(x, state)[0], cell(x, state)[0], rtol=0, atol=0)
    relu = pickle.loads(pickle.dumps(DirectFeedbackCell(3, 4, nonlinearity="relu")))
    assert relu.nonlinearity == "relu" and relu.numba_kernels.nonlinearity == "relu"


@pytest.mark.parametrize("cell_cls, kind", zip(CELLS, ["Direct", "Indirect", "Full"]))
def test_description(cell_cls, kind):
    """A one-line description class attribute, shown by available_cells(), naming the feedback."""
    assert isinstance(cell_cls.description, str) and "\n" not in cell_cls.description
    assert cell_cls.description.startswith(f"{kind} feedback")


def test_numba_kernels_follow_the_nonlinearity():
    """numba_kernels: the instance's nonlinearity through an instance, "tanh" through the class."""
    assert DirectFeedbackCell.numba_kernels.nonlinearity == "tanh"
    assert DirectFeedbackCell(2, 3).numba_kernels.nonlinearity == "tanh"
    assert DirectFeedbackCell(2, 3, nonlinearity="relu").numba_kernels.nonlinearity == "relu"
    assert not hasattr(IndirectFeedbackCell, "numba_kernels")
    assert not hasattr(FullFeedbackCell, "numba_kernels")
