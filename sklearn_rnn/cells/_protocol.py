"""What the registry checks about a cell class, and what it reports about one.

These checks are structural and cheap (no cell is instantiated); they catch
the mistakes that would otherwise surface deep inside ``fit`` as an obscure
error. ``sklearn_rnn.testing.check_cell`` runs the behavioural checks of
docs/cell_protocol.md. torch is imported here only when a class is checked,
which happens when a cell is loaded, never when cells are discovered.
"""

import inspect


def _describe(obj):
    """``obj`` as it should appear in an error message: its repr and its type."""
    return f"{obj!r} (of type {type(obj).__name__})"


def _binds(signature, *args, **kwargs):
    """Whether ``signature`` accepts these arguments."""
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def check_cell_class(obj):
    """Return ``obj`` if it is a cell class, else raise ``TypeError`` saying why.

    A cell class is a ``torch.nn.Module`` subclass whose constructor takes
    ``(input_size, hidden_size)``, positionally and by keyword, and which
    defines ``forward(x_t, state)``.
    """
    if not isinstance(obj, type):
        raise TypeError(f"expected a torch.nn.Module subclass, got {_describe(obj)}")
    from torch import nn

    if not issubclass(obj, nn.Module):
        bases = ", ".join(base.__qualname__ for base in obj.__mro__[1:])
        raise TypeError(
            f"expected a torch.nn.Module subclass, got class {obj.__qualname__} "
            f"(bases: {bases})"
        )
    if obj.forward is nn.Module.forward:
        raise TypeError(f"{obj.__qualname__} does not define forward(self, x_t, state)")
    try:
        init = inspect.signature(obj)
        forward = inspect.signature(obj.forward)
    except (TypeError, ValueError):  # e.g. C extensions: nothing to inspect, trust the class
        return obj
    if not (_binds(init, 1, 1) and _binds(init, input_size=1, hidden_size=1)):
        raise TypeError(
            f"{obj.__qualname__}{init} cannot be called as {obj.__qualname__}(input_size, "
            "hidden_size); the constructor must take input_size and hidden_size as its first "
            "two arguments (positionally or by keyword), and give every other argument a default"
        )
    if not _binds(forward, None, None, None):  # (self, x_t, state) on the function
        raise TypeError(
            f"{obj.__qualname__}.forward{forward} cannot be called as forward(x_t, state)"
        )
    return obj


def cell_capabilities(cls):
    """The parts of the cell protocol that ``cls`` offers, as a tuple of names.

    ``"step"`` (``forward``) always; ``"init_state"``, ``"forward_sequence"``
    (a fused whole-sequence pass) and ``"numba"`` (``numba_kernels``) when the
    class has them.
    """
    capabilities = ["step"]
    for method in ("init_state", "forward_sequence"):
        if callable(getattr(cls, method, None)):
            capabilities.append(method)
    if getattr(cls, "numba_kernels", None) is not None:
        capabilities.append("numba")
    return tuple(capabilities)


def cell_description(cls):
    """The class attribute ``description``, else the first line of the class docstring."""
    description = getattr(cls, "description", None)
    if isinstance(description, str) and description.strip():
        return description.strip()
    # cls.__doc__, not inspect.getdoc: a class without a docstring must not show
    # the docstring of torch.nn.Module.
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    return lines[0] if lines else ""
