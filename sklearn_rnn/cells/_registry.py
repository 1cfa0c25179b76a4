"""The cell registry: cell names to cell classes.

Three layers, a later one winning over an earlier one:

1. the built-in cells ``"rnn"``, ``"lstm"`` and ``"gru"``;
2. third-party cells, declared as ``sklearn_rnn.cells`` entry points by
   installed distributions; read on first use and cached, read again by
   :func:`refresh_cells`. They never replace a built-in;
3. cells registered in this process with :func:`register_cell`, which may
   replace a cell of the first two layers only with ``overwrite=True``.

Every layer holds references: discovering and listing cells imports nothing.
A cell's class is imported on first request and cached; a cell that fails to
load warns once, and :func:`get_cell` then explains the failure in a
``ValueError``, while every other cell keeps working.
"""

import difflib
import re
import sys
import threading
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from types import MappingProxyType

from . import _discovery
from ._discovery import GROUP, describe, discover_plugins, distribution, warn
from ._protocol import cell_capabilities, cell_description, check_cell_class

BUILTIN = "built-in"
RUNTIME = "runtime"
PROTOCOL_HINT = "See docs/cell_protocol.md for what a cell must provide."

# One re-entrant lock for every cache: a plugin module may register cells
# while it is being imported, from inside get_cell.
_LOCK = threading.RLock()


class _Entry:
    """One registered cell: where it comes from and, once loaded, its class or failure."""

    def __init__(self, name, source, version, value, *, entry_point=None, cls=None):
        self.name, self.source, self.version, self.value = name, source, version, value
        self.entry_point = entry_point  # None for a class registered directly
        self.cls = cls
        self.failure = None  # (message, exception) once loading has failed

    def origin(self):
        """Where the cell comes from, for messages."""
        if self.source == BUILTIN:
            return f"the built-in cell {self.value!r}"
        if self.source == RUNTIME:
            return f"the cell registered with register_cell as {self.value!r}"
        return describe(self.entry_point)

    def hint(self):
        """How to fix a cell that fails to load, for messages."""
        if self.source == BUILTIN:
            return "The sklearn-rnn installation looks broken: reinstall it."
        if self.source == RUNTIME:
            return "Fix the reference given to register_cell, or register the class itself."
        package = distribution(self.entry_point)[0] or "the package that declares it"
        return f"Upgrade or reinstall {package}, or uninstall it to remove the cell."

    def forget(self):
        """Drop the loaded class or failure of a reference, so that it is loaded again."""
        if self.entry_point is not None:
            self.cls, self.failure = None, None

    def load(self):
        """The cell's class, imported and checked on the first call."""
        if self.cls is None and self.failure is None:
            # Imported outside the lock: an import may take long, or use another thread.
            try:
                obj = self.entry_point.load()
            except Exception as exc:  # a broken plugin must not break the host
                cls, failure = None, (f"importing it raised {type(exc).__name__}: {exc}", exc)
            else:
                try:
                    cls, failure = check_cell_class(obj), None
                except Exception as exc:
                    cls, failure = None, (f"it does not follow the cell protocol: {exc}", exc)
            with _LOCK:
                first = self.cls is None and self.failure is None
                if first:
                    self.cls, self.failure = cls, failure
            if first and failure is not None:
                warn(
                    f"The cell {self.name!r} ({self.origin()}) failed to load and is unavailable: "
                    f"{failure[0]}. Other cells are not affected. {self.hint()}"
                )
        if self.failure is not None:
            message, exc = self.failure
            raise ValueError(
                f"The cell {self.name!r} failed to load: {message}. It comes from "
                f"{self.origin()}. {self.hint()} {PROTOCOL_HINT}"
            ) from exc
        return self.cls

    def info(self):
        return CellInfo(self.name, self.source, self.version, self.value, self)


@dataclass(frozen=True)
class CellInfo:
    """What the registry knows about a cell; the class is loaded only when asked.

    Parameters
    ----------
    name : str
        The name the cell is registered under, e.g. ``"lstm"``.
    source : str
        ``"built-in"``, ``"runtime"`` (registered with :func:`register_cell`),
        or the name of the distribution that declares the entry point.
    version : str or None
        The version of that distribution (sklearn-rnn's for a built-in cell);
        None for a cell registered at runtime.
    value : str
        The ``"module:attr"`` reference of the class.

    Attributes
    ----------
    capabilities : tuple of str
        The parts of the cell protocol the class offers: ``"step"`` always,
        then ``"init_state"``, ``"forward_sequence"`` (a fused pass over the
        whole sequence) and ``"numba"`` (``numba_kernels``) when present.
        Loads the class; raises ``ValueError`` if it cannot be loaded.
    description : str
        The class attribute ``description``, else the first line of the class
        docstring. Loads the class; raises ``ValueError`` if it cannot be loaded.
    error : str or None
        Why the class cannot be loaded, or None if it can. Loads the class.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn.cells import available_cells, register_cell, unregister_cell
    >>> class Elman(torch.nn.Module):
    ...     '''Elman cell without bias.'''
    ...     def __init__(self, input_size, hidden_size):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(input_size + hidden_size, hidden_size, bias=False)
    ...     def forward(self, x_t, state):
    ...         h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))
    ...         return h_t, h_t
    >>> register_cell("elman", Elman)
    >>> info = available_cells()["elman"]
    >>> info.source, info.capabilities, info.description, info.error
    ('runtime', ('step',), 'Elman cell without bias.', None)
    >>> unregister_cell("elman")
    """

    name: str
    source: str
    version: str | None
    value: str
    _entry: _Entry = field(repr=False, compare=False)

    def load(self):
        """Import the cell's class (once) and return it.

        Returns
        -------
        cls : type
            The cell class, a ``torch.nn.Module`` subclass.

        Raises
        ------
        ValueError
            If the class cannot be imported or does not follow the protocol.
        """
        return self._entry.load()

    @property
    def capabilities(self):
        """The parts of the cell protocol the class offers (loads the class)."""
        return cell_capabilities(self.load())

    @property
    def description(self):
        """The cell's one-line description (loads the class)."""
        return cell_description(self.load())

    @property
    def error(self):
        """Why the class cannot be loaded, or None (loads the class)."""
        try:
            self.load()
        except ValueError:
            return self._entry.failure[0]
        return None


class _State:
    """The registry's caches; replaced wholesale by the tests."""

    def __init__(self):
        self.discovered = None  # name -> _Entry for built-ins and plugins; None until first use
        self.runtime = {}  # name -> _Entry registered with register_cell
        self.view = None  # read-only name -> CellInfo of all layers; None when stale


_STATE = _State()


def _host_version():
    from .. import __version__

    return __version__


def _discover():
    """Entries for the built-in cells and the plugins (the caller holds the lock)."""
    entries = {}
    for name, value in _discovery.BUILTIN_CELLS.items():
        entry_point = EntryPoint(name, value, GROUP)
        entries[name] = _Entry(name, BUILTIN, _host_version(), value, entry_point=entry_point)
    for name, entry_point in discover_plugins().items():
        package, version = distribution(entry_point)
        entries[name] = _Entry(
            name, package or "unknown", version, entry_point.value, entry_point=entry_point
        )
    return entries


def _table():
    """The read-only name -> CellInfo view, discovering the plugins on first use."""
    state = _STATE
    view = state.view
    if view is None:
        with _LOCK:
            if state.discovered is None:
                state.discovered = _discover()
            if state.view is None:
                entries = {**state.discovered, **state.runtime}  # a built-in keeps its place
                state.view = MappingProxyType({name: e.info() for name, e in entries.items()})
            view = state.view
    return view


def _unknown_cell_message(name, table):
    """What to say about an unknown cell name: what is installed, and the closest name."""
    by_lower = {installed.lower(): installed for installed in table}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
    suggestion = f" Did you mean {by_lower[close[0]]!r}?" if close else ""
    return (
        f"Unknown cell {name!r}.{suggestion} Installed cells: {', '.join(map(repr, table))}. "
        f"To add one, install a package that declares a {GROUP!r} entry point or call "
        "sklearn_rnn.register_cell(name, cls); a cell class can also be passed directly."
    )


def available_cells(*, refresh=False):
    """The installed cells, as a read-only mapping of name to :class:`CellInfo`.

    Listing cells imports none of them (nor torch, nor numba): the
    ``sklearn_rnn.cells`` entry points are read from package metadata on the
    first call and cached. Built-in cells come first.

    Parameters
    ----------
    refresh : bool, default=False
        Read the entry points again first, e.g. after installing a plugin in
        a running session; the same as calling :func:`refresh_cells` first.

    Returns
    -------
    cells : types.MappingProxyType of str to CellInfo
        A snapshot: later registrations do not change it. Assigning to it
        raises ``TypeError``; use :func:`register_cell` instead.

    See Also
    --------
    get_cell : Load a cell's class by name.
    register_cell : Add a cell in this process.

    Examples
    --------
    >>> from sklearn_rnn import available_cells
    >>> cells = available_cells()
    >>> list(cells)[:3]
    ['rnn', 'lstm', 'gru']
    >>> cells["lstm"].source, cells["lstm"].value
    ('built-in', 'sklearn_rnn._torch.cells:LSTMCell')
    """
    if refresh:
        refresh_cells()
    return _table()


def refresh_cells():
    """Forget the discovered plugins, so that the next lookup reads the entry points again.

    Call it after installing or removing a plugin in a running session. Cells
    registered with :func:`register_cell` stay registered; every cell given
    by reference will be imported again on its next request (a module
    already imported stays in ``sys.modules``).

    Examples
    --------
    >>> from sklearn_rnn.cells import available_cells, refresh_cells
    >>> refresh_cells()
    >>> "gru" in available_cells()
    True
    """
    with _LOCK:
        _STATE.discovered = None
        _STATE.view = None
        for entry in _STATE.runtime.values():
            entry.forget()


def _runtime_entry(name, cls):
    """Validate the arguments of register_cell and make its entry."""
    if not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(
            f"A cell name must be a non-empty string of letters, digits, '_', '.' or '-'; "
            f"got {name!r}."
        )
    if isinstance(cls, str):
        if not re.fullmatch(r"[\w.]+:[\w.]+", cls):
            raise ValueError(
                f"A cell reference must look like 'module:attr', e.g. 'my_package.cells:MyCell'; "
                f"got {cls!r}."
            )
        return _Entry(name, RUNTIME, None, cls, entry_point=EntryPoint(name, cls, GROUP))
    try:
        check_cell_class(cls)
    except TypeError as exc:
        raise TypeError(
            f"register_cell({name!r}, ...) needs a cell class or a 'module:attr' string: {exc}. "
            f"{PROTOCOL_HINT}"
        ) from None
    return _Entry(name, RUNTIME, None, f"{cls.__module__}:{cls.__qualname__}", cls=cls)


def register_cell(name, cls, *, overwrite=False):
    """Register a cell class under ``name`` for this process.

    Then ``cell=name`` works in every estimator. To make a cell available in
    every process, declare it as an entry point instead:
    ``[project.entry-points."sklearn_rnn.cells"]`` ``name = "package.module:Class"``.

    Parameters
    ----------
    name : str
        The cell's name: letters, digits, ``_``, ``.`` and ``-``.
    cls : type or str
        A ``torch.nn.Module`` subclass following the cell protocol (checked
        now), or a ``"module:attr"`` reference to one, imported and checked on
        the first :func:`get_cell`.
    overwrite : bool, default=False
        Whether to replace a cell already registered under ``name``. This is
        the only way to replace a built-in cell (``"rnn"``, ``"lstm"``,
        ``"gru"``) or a plugin; :func:`unregister_cell` brings it back.

    Raises
    ------
    ValueError
        If ``name`` is taken and ``overwrite`` is False, or if ``name`` or a
        string ``cls`` is malformed.
    TypeError
        If ``cls`` is a class that does not follow the cell protocol.

    See Also
    --------
    unregister_cell : Remove a cell registered with this function.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn import get_cell, register_cell
    >>> from sklearn_rnn.cells import unregister_cell
    >>> class Elman(torch.nn.Module):
    ...     def __init__(self, input_size, hidden_size):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(input_size + hidden_size, hidden_size)
    ...     def forward(self, x_t, state):
    ...         h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))
    ...         return h_t, h_t
    >>> register_cell("elman", Elman)
    >>> get_cell("elman") is Elman
    True
    >>> register_cell("elman", Elman)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: A cell named 'elman' is already registered (runtime, ...). Pass overwrite=True ...
    >>> unregister_cell("elman")
    """
    entry = _runtime_entry(name, cls)
    with _LOCK:
        current = _table().get(name)
        if current is not None and not overwrite:
            raise ValueError(
                f"A cell named {name!r} is already registered ({current.source}, "
                f"{current.value!r}). Pass overwrite=True to replace it in this process, "
                "or choose another name."
            )
        _STATE.runtime[name] = entry
        _STATE.view = None


def unregister_cell(name):
    """Remove a cell registered with :func:`register_cell`.

    A built-in cell or plugin that it replaced comes back.

    Parameters
    ----------
    name : str
        The name given to :func:`register_cell`.

    Raises
    ------
    ValueError
        If no cell was registered under ``name`` with :func:`register_cell`
        (built-in cells and plugins cannot be unregistered).

    Examples
    --------
    >>> from sklearn_rnn.cells import available_cells, register_cell, unregister_cell
    >>> register_cell("my_lstm", "sklearn_rnn._torch.cells:LSTMCell")
    >>> "my_lstm" in available_cells()
    True
    >>> unregister_cell("my_lstm")
    >>> "my_lstm" in available_cells()
    False
    """
    with _LOCK:
        if name not in _STATE.runtime:
            current = _table().get(name)
            why = f" it is a {current.source} cell;" if current is not None else ""
            raise ValueError(
                f"No cell named {name!r} was registered with register_cell;{why} registered "
                f"cells: {sorted(_STATE.runtime)}. Only those can be unregistered; a plugin "
                "goes away when its package is uninstalled."
            )
        del _STATE.runtime[name]
        _STATE.view = None


def _not_a_cell_message(cell):
    torch = sys.modules.get("torch")  # an instance of a Module implies torch is imported
    if torch is not None and isinstance(cell, torch.nn.Module):
        return (
            f"cell must be a cell class or name, got an instance of {type(cell).__qualname__}; "
            f"pass the class itself (cell={type(cell).__qualname__}): the host builds one cell "
            "per layer and direction."
        )
    return (
        f"cell must be the name of a registered cell (str) or a torch.nn.Module subclass; got "
        f"{cell!r} of type {type(cell).__name__}. See sklearn_rnn.available_cells() for names."
    )


def get_cell(cell):
    """The cell class for a name, or a cell class checked against the protocol.

    This is how every estimator resolves its ``cell`` parameter
    (``sklearn_rnn.cells.resolve_cell`` is the same function).

    Parameters
    ----------
    cell : str or type
        The name of a registered cell (see :func:`available_cells`), whose
        class is imported on the first request and cached; or a
        ``torch.nn.Module`` subclass, returned as is after a check.

    Returns
    -------
    cls : type
        The cell class.

    Raises
    ------
    ValueError
        If no cell has that name (the message lists the installed cells and
        the closest name), or the cell fails to load (the message says why).
    TypeError
        If ``cell`` is neither a string nor a class following the cell protocol.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rnn import get_cell
    >>> class Elman(torch.nn.Module):
    ...     def __init__(self, input_size, hidden_size):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(input_size + hidden_size, hidden_size)
    ...     def forward(self, x_t, state):
    ...         h_t = torch.tanh(self.linear(torch.cat([x_t, state], dim=1)))
    ...         return h_t, h_t
    >>> get_cell(Elman) is Elman
    True
    >>> get_cell("lstn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown cell 'lstn'. Did you mean 'lstm'? Installed cells: 'rnn', 'lstm', 'gru'...
    """
    if isinstance(cell, str):
        table = _table()
        if cell not in table:
            raise ValueError(_unknown_cell_message(cell, table))
        return table[cell].load()
    if isinstance(cell, type):
        try:
            return check_cell_class(cell)
        except TypeError as exc:
            raise TypeError(
                f"cell={cell.__qualname__} is not a cell class: {exc}. {PROTOCOL_HINT}"
            ) from None
    raise TypeError(_not_a_cell_message(cell))
